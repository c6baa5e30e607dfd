//! Claim files: one claim per non-empty line, comments after `#` or `//`.

use super::parse::{parse_claim, Claim};
use crate::error::{Error, Result};

/// Read claims: one per non-empty line of a file; `#` or `//` start comments. Diagnostics
/// give the file's line and column.
pub fn parse_claim_file(path: &str, text: &str) -> Result<Vec<Claim>> {
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        let body = line.split("//").next().unwrap_or("");
        let body = body.split('#').next().unwrap_or("");
        if body.trim().is_empty() {
            continue;
        }
        // pad with the lines before it, so that spans carry the file's line numbers
        let padded = format!("{}{body}", "\n".repeat(i));
        out.push(parse_claim(path, &padded).map_err(Error::Spec)?);
    }
    if out.is_empty() {
        return Err(Error::invalid(
            format!("{path} holds no claims"),
            "one claim per line: `d2y/dx1dx2 = …`",
        ));
    }
    Ok(out)
}
