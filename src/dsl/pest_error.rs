//! A pest error as a span and a one-line message, shared by the spec parser and the claim
//! parser (each names its own rules).

use pest::error::{Error, ErrorVariant, InputLocation};
use pest::RuleType;

/// The byte span of a pest error in a text of `len` bytes (a position widened to one byte) and
/// its message: "expected A, or B", "unexpected C", or pest's custom text.
pub(crate) fn span_and_message<R: RuleType>(
    len: usize,
    e: &Error<R>,
    rule_name: impl Fn(&R) -> String,
) -> ((usize, usize), String) {
    let span = match e.location {
        InputLocation::Pos(p) => (p, (p + 1).min(len).max(p)),
        InputLocation::Span((a, b)) => (a, b),
    };
    let message = match &e.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => {
            let mut pos: Vec<String> = positives.iter().map(&rule_name).collect();
            pos.dedup();
            if !pos.is_empty() {
                format!("expected {}", pos.join(", or "))
            } else if !negatives.is_empty() {
                let neg: Vec<String> = negatives.iter().map(&rule_name).collect();
                format!("unexpected {}", neg.join(", "))
            } else {
                "syntax error".into()
            }
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    (span, message)
}
