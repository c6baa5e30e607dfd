//! Closed forms with Symbolica (feature `symbolic`). All Symbolica work runs on one dedicated
//! thread (see [`on_symbolica_thread`]): without a license key Symbolica allows one thread per user.

use crate::error::Result;
use crate::model::weights::TensorStore;
use crate::model::Model;

/// Output style of closed forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Text,
    Latex,
    Sympy,
    Mathematica,
    Json,
}

/// Closed-form report of the Taylor coefficients to `order`.
pub fn report(
    _model: &Model,
    _order: usize,
    _store: Option<&TensorStore>,
    _x0: Option<Vec<f64>>,
    _style: Style,
) -> Result<String> {
    Err(crate::error::Error::invalid(
        "closed forms are not built yet",
        "",
    ))
}
