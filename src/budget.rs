//! One budget for every size that comes from input.
//!
//! Orders, counts, shapes in file headers, `-n`, depths and draws are read as user input, so
//! before anything is allocated or started each request is turned into a *prediction* of the
//! memory (bytes) and the work (elementary operations) it needs. Predictions are `f64`: products
//! of huge numbers saturate at +∞ instead of wrapping, so a request of 2⁶⁴ rows is refused as
//! "more than the limit", never computed as a small number. A prediction above the limit is
//! refused with [`Error::TooLarge`] (the CLI's exit code 2), naming the prediction and the limit.
//!
//! * memory: `--memory-limit` (bytes; `8G`, `512M`, `1.5GiB` are accepted, see [`parse_bytes`]),
//!   default [`DEFAULT_MEMORY_LIMIT`]; when the process runs under an address-space limit
//!   (`ulimit -v`) the effective limit is at most half of it;
//! * work: [`DEFAULT_WORK_LIMIT`] operations (minutes on one core), or `FEYNN_WORK_LIMIT`.
//!
//! The `.npy`/`.npz` header checks ([`npy_header`], [`check_npz`]) read a header's declared shape
//! and compare its size with the bytes actually present and with the budget before a loader
//! allocates the array.

use std::io::Read;

use crate::error::{human_bytes, Error, Result};

/// Default memory ceiling for one request (bytes).
pub const DEFAULT_MEMORY_LIMIT: f64 = 8.0 * 1024.0 * 1024.0 * 1024.0;

/// Default ceiling on the predicted work of one request, in elementary operations of about a
/// nanosecond each (predictions are calibrated to that unit), so about 10 s of one core without
/// progress output. Override with the environment variable `FEYNN_WORK_LIMIT`.
pub const DEFAULT_WORK_LIMIT: f64 = 1.0e10;

/// The largest nesting depth of an expression (operators and brackets) in a spec or a claim.
pub const MAX_EXPR_DEPTH: usize = 256;

/// The largest number of nodes an expression may have after `let` constants are substituted.
pub const MAX_EXPR_NODES: f64 = 200_000.0;

/// The largest derivative order a claim may name (`feynn check`), also for `dK act(u)`.
pub const MAX_CLAIM_ORDER: usize = 1000;

/// The largest input, neuron or output index a claim may name (1-based).
pub const MAX_CLAIM_INDEX: usize = 100_000;

/// Parse a byte count: `8589934592`, `8G`, `8GB`, `8GiB`, `512M`, `1.5T`, `64k`
/// (K/M/G/T are binary: 1G = 2³⁰ bytes).
pub fn parse_bytes(s: &str) -> std::result::Result<f64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a byte count (write e.g. 8G, 512M or 8589934592)"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024f64.powi(2),
        "g" | "gb" | "gib" => 1024f64.powi(3),
        "t" | "tb" | "tib" => 1024f64.powi(4),
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{s}` (use K, M, G or T, e.g. 8G)"
            ))
        }
    };
    let b = v * mult;
    if !b.is_finite() || b <= 0.0 {
        return Err(format!("`{s}` is not a positive byte count"));
    }
    Ok(b)
}

/// The address-space limit of this process (`ulimit -v`), if any (Linux; None elsewhere).
fn address_space_limit() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    let soft = line
        .trim_start_matches("Max address space")
        .split_whitespace()
        .next()?;
    soft.parse::<f64>().ok()
}

/// The memory limit in force: `limit`, lowered to half an address-space limit when one is set.
pub fn effective_memory_limit(limit: f64) -> f64 {
    let limit = if limit.is_finite() && limit > 0.0 {
        limit
    } else {
        DEFAULT_MEMORY_LIMIT
    };
    match address_space_limit() {
        Some(a) => limit.min(a / 2.0),
        None => limit,
    }
}

/// The work limit in force (`FEYNN_WORK_LIMIT` or [`DEFAULT_WORK_LIMIT`]).
pub fn work_limit() -> f64 {
    std::env::var("FEYNN_WORK_LIMIT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .unwrap_or(DEFAULT_WORK_LIMIT)
}

/// Refuse when `bytes` (predicted) exceeds the memory limit.
pub fn memory(
    what: impl Into<String>,
    bytes: f64,
    limit: f64,
    help: impl Into<String>,
) -> Result<()> {
    let limit = effective_memory_limit(limit);
    if bytes.is_finite() && bytes <= limit {
        return Ok(());
    }
    Err(Error::TooLarge {
        what: what.into(),
        predicted: if bytes.is_finite() {
            human_bytes(bytes)
        } else {
            "more bytes than can be counted".into()
        },
        limit: format!("{} (--memory-limit)", human_bytes(limit)),
        help: help.into(),
    })
}

/// Refuse when `ops` (predicted elementary operations) exceeds the work limit.
pub fn work(what: impl Into<String>, ops: f64, help: impl Into<String>) -> Result<()> {
    let limit = work_limit();
    if ops.is_finite() && ops <= limit {
        return Ok(());
    }
    Err(Error::TooLarge {
        what: what.into(),
        predicted: if ops.is_finite() {
            format!("{ops:.2e} operations")
        } else {
            "more operations than can be counted".into()
        },
        limit: format!("{limit:.1e} operations (FEYNN_WORK_LIMIT)"),
        help: help.into(),
    })
}

/// Bytes of `n` values of `size` bytes each, saturating.
pub fn bytes_of(n: f64, size: usize) -> f64 {
    n * size as f64
}

/// C(n + k, k) as f64 (saturates at +∞): the number of monomials of degree ≤ k in n + 1 ... or
/// multisets of size k from n + 1 kinds.
pub fn binomial_f64(n: usize, k: usize) -> f64 {
    let k = k.min(n);
    let mut c = 1.0f64;
    for i in 0..k {
        c = c * (n - i) as f64 / (i + 1) as f64;
        if !c.is_finite() {
            return f64::INFINITY;
        }
    }
    c.round()
}

/// A validated `.npy` header: element type, shape and where the data starts.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    /// The dtype descriptor, e.g. `<f8`.
    pub descr: String,
    /// Whether the data are column-major.
    pub fortran_order: bool,
    /// The declared shape.
    pub shape: Vec<u64>,
    /// Bytes of magic, version, length field and header text.
    pub header_bytes: u64,
    /// Bytes per element.
    pub item_size: u64,
}

impl NpyHeader {
    /// Elements (saturating).
    pub fn elements(&self) -> f64 {
        self.shape.iter().map(|&d| d as f64).product()
    }
    /// Bytes of the data the header declares (saturating).
    pub fn data_bytes(&self) -> f64 {
        self.elements() * self.item_size as f64
    }
}

fn npy_err(what: &str, msg: impl Into<String>) -> Error {
    Error::invalid(
        format!("{what}: {}", msg.into()),
        "write arrays with numpy.save / numpy.savez (a .npy header followed by its data)",
    )
}

/// Read and check the header of a `.npy` stream without allocating more than the header.
///
/// `available`: the bytes present after the start of the header (file or archive-member size),
/// when known. Refuses headers that are malformed, declare more data than is present, or more
/// than the memory budget `limit`.
pub fn npy_header(
    what: &str,
    r: &mut dyn Read,
    available: Option<u64>,
    limit: f64,
) -> Result<NpyHeader> {
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre)
        .map_err(|_| npy_err(what, "too short for a .npy header"))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(npy_err(
            what,
            "not a .npy array (the magic string is missing)",
        ));
    }
    let major = pre[6];
    let (len, prefix) = match major {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b)
                .map_err(|_| npy_err(what, "truncated .npy header"))?;
            (u16::from_le_bytes(b) as u64, 10u64)
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b)
                .map_err(|_| npy_err(what, "truncated .npy header"))?;
            (u32::from_le_bytes(b) as u64, 12u64)
        }
        v => return Err(npy_err(what, format!("unknown .npy format version {v}"))),
    };
    const MAX_HEADER: u64 = 1 << 20;
    if len > MAX_HEADER || available.is_some_and(|a| prefix + len > a) {
        return Err(npy_err(
            what,
            format!("the header declares {len} header bytes, more than the file holds"),
        ));
    }
    let mut text = vec![0u8; len as usize];
    r.read_exact(&mut text)
        .map_err(|_| npy_err(what, "truncated .npy header"))?;
    let text = String::from_utf8_lossy(&text);
    let field = |key: &str| -> Option<&str> {
        let at = text.find(&format!("'{key}'"))?;
        let rest = &text[at + key.len() + 2..];
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        Some(rest)
    };
    let descr = field("descr")
        .and_then(|s| {
            let q = s.chars().next()?;
            if q != '\'' && q != '"' {
                return None;
            }
            let end = s[1..].find(q)?;
            Some(s[1..1 + end].to_string())
        })
        .ok_or_else(|| npy_err(what, "the header has no 'descr'"))?;
    let fortran_order = field("fortran_order")
        .map(|s| s.starts_with("True"))
        .unwrap_or(false);
    let shape_text = field("shape")
        .and_then(|s| {
            let s = s.strip_prefix('(')?;
            Some(&s[..s.find(')')?])
        })
        .ok_or_else(|| npy_err(what, "the header has no 'shape'"))?;
    let mut shape = Vec::new();
    for part in shape_text.split(',') {
        let p = part.trim().trim_end_matches('L');
        if p.is_empty() {
            continue;
        }
        shape.push(
            p.parse::<u64>()
                .map_err(|_| npy_err(what, format!("the shape entry `{p}` is not a size")))?,
        );
    }
    let item_size: u64 = descr
        .trim_start_matches(['<', '>', '|', '='])
        .get(1..)
        .and_then(|d| d.parse().ok())
        .unwrap_or(1)
        .max(1);
    let h = NpyHeader {
        descr,
        fortran_order,
        shape,
        header_bytes: prefix + len,
        item_size,
    };
    let declared = h.data_bytes();
    if let Some(a) = available {
        let present = a.saturating_sub(h.header_bytes) as f64;
        if declared > present {
            return Err(npy_err(
                what,
                format!(
                    "the header declares shape {:?} ({} of data) but only {} follow it",
                    h.shape,
                    if declared.is_finite() {
                        human_bytes(declared)
                    } else {
                        "an uncountable amount".into()
                    },
                    human_bytes(present)
                ),
            ));
        }
    }
    // the loaders convert to f64: 8 bytes per element
    memory(
        format!("{what}: an array of shape {:?}", h.shape),
        h.elements() * 8.0,
        limit,
        "the file header declares this shape; check the file, or raise --memory-limit",
    )?;
    Ok(h)
}

/// Read a 2-d float64 `.npy` from bytes, its header checked first.
pub fn read_npy_2d(what: &str, bytes: &[u8], limit: f64) -> Result<ndarray::Array2<f64>> {
    use ndarray_npy::ReadNpyExt;
    npy_header(what, &mut &bytes[..], Some(bytes.len() as u64), limit)?;
    ndarray::Array2::<f64>::read_npy(std::io::Cursor::new(bytes)).map_err(|e| {
        Error::invalid(
            format!("{what}: cannot read a 2-d float64 .npy ({e})"),
            "save points with numpy.save(path, X.astype('float64')) as [points, inputs]",
        )
    })
}

/// Rows of numbers from CSV text (commas, spaces or tabs; `#` comments; a first line that is
/// not numbers is a header). `what` names the file in errors. No rows is an error.
pub fn points_csv(what: &str, text: &str) -> Result<Vec<Vec<f64>>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed: std::result::Result<Vec<f64>, _> = line
            .split([',', ' ', '\t'])
            .filter(|s| !s.is_empty())
            .map(|s| s.trim().parse::<f64>())
            .collect();
        match parsed {
            Ok(r) => rows.push(r),
            Err(_) if i == 0 => continue, // a header
            Err(_) => {
                return Err(Error::invalid(
                    format!("{what}:{}: not a row of numbers", i + 1),
                    "one point per line, values separated by commas",
                ))
            }
        }
    }
    if rows.is_empty() {
        return Err(Error::invalid(
            format!("{what}: no points (no row of numbers)"),
            "one point per line, values separated by commas (a first header line is skipped)",
        ));
    }
    Ok(rows)
}

/// Check a `.npy` file's header against its size and the budget before reading it.
pub fn check_npy_file(path: &std::path::Path, limit: f64) -> Result<NpyHeader> {
    let what = path.display().to_string();
    let mut f = std::fs::File::open(path).map_err(|e| Error::Io {
        path: what.clone(),
        source: e,
    })?;
    let len = f.metadata().map(|m| m.len()).ok();
    npy_header(&what, &mut f, len, limit)
}

/// Check every member of a `.npz` archive (file or bytes) before a loader reads it: each
/// member's header must be valid, its declared data present in the member, and within budget.
pub fn check_npz<R: Read + std::io::Seek>(what: &str, reader: R, limit: f64) -> Result<()> {
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| npy_err(what, format!("not a valid .npz archive ({e})")))?;
    let mut total = 0.0;
    for i in 0..zip.len() {
        let mut member = zip
            .by_index(i)
            .map_err(|e| npy_err(what, format!("cannot open archive member {i} ({e})")))?;
        let name = format!("{what}[{}]", member.name());
        let size = member.size();
        let h = npy_header(&name, &mut member, Some(size), limit)?;
        total += h.elements() * 8.0;
    }
    memory(
        format!("{what}: its arrays"),
        total,
        limit,
        "the file headers declare these shapes; check the file, or raise --memory-limit",
    )
}

/// Check a `.npz` file on disk.
pub fn check_npz_file(path: &std::path::Path, limit: f64) -> Result<()> {
    let what = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| Error::Io {
        path: what.clone(),
        source: e,
    })?;
    check_npz(&what, std::io::BufReader::new(f), limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_with_units() {
        assert_eq!(parse_bytes("8G").unwrap(), 8.0 * 1024f64.powi(3));
        assert_eq!(parse_bytes("512MiB").unwrap(), 512.0 * 1024f64.powi(2));
        assert_eq!(parse_bytes("1e9").unwrap(), 1e9);
        assert_eq!(parse_bytes("8589934592").unwrap(), 8589934592.0);
        assert!(parse_bytes("8X").is_err());
        assert!(parse_bytes("-1G").is_err());
        assert!(parse_bytes("nan").is_err());
    }

    fn npy(shape: &str, data: usize) -> Vec<u8> {
        let mut h = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend((h.len() as u16).to_le_bytes());
        v.extend(h.as_bytes());
        v.extend(vec![0u8; data]);
        v
    }

    #[test]
    fn npy_headers_are_checked_against_the_data_present() {
        let ok = npy("(2, 3)", 48);
        let h = npy_header("t", &mut &ok[..], Some(ok.len() as u64), 1e9).unwrap();
        assert_eq!(h.shape, vec![2, 3]);
        let lie = npy("(1000000000000, 3)", 48);
        let e = npy_header("t", &mut &lie[..], Some(lie.len() as u64), 1e9).unwrap_err();
        assert!(e.to_string().contains("only"), "{e}");
        // without a known size the budget refuses
        let e = npy_header("t", &mut &lie[..], None, 1e9).unwrap_err();
        assert!(matches!(e, Error::TooLarge { .. }), "{e}");
        let e = npy_header(
            "t",
            &mut &b"\x93NUMPY\x02\x00\xff\xff\xff\xff"[..],
            None,
            1e9,
        )
        .unwrap_err();
        assert!(e.to_string().contains("header bytes"), "{e}");
    }

    #[test]
    fn binomials_saturate() {
        assert_eq!(binomial_f64(10, 3), 120.0);
        assert_eq!(binomial_f64(100_000, 50_000), f64::INFINITY);
    }
}
