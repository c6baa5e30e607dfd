//! Claims about a model's derivatives, as a person writes them: `dNy/dx_i… = RHS` or
//! `taylor(y, [α]) = RHS`, with the right side in the spec's parameters ([`parse`] has the
//! language), bound to a model by [`resolve`]. The claim is data: [`crate::symbolic`] proves it
//! and [`crate::check`] tests it at random draws; neither is needed to read one.

pub mod file;
pub mod parse;
pub mod resolve;

pub use file::parse_claim_file;
pub use parse::{parse_claim, Claim, Index, Lhs, LhsKind, Term};
pub use resolve::{resolve, Ix, Resolved, Rhs};
