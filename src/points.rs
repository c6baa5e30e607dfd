//! Expansion points and data points as the user gives them: text (`--at 0.1,0`), `.csv`,
//! `.npy` and `.npz`. Every reader checks the shape against the model's inputs and refuses
//! non-finite values, naming the file, the row and the column.

use std::path::Path;

use crate::error::{Error, Result};

/// An expansion point from text: comma-separated numbers, one per input, or a single value
/// for every input; `None` is the origin.
pub fn parse_point(at: Option<&str>, d: usize) -> Result<Vec<f64>> {
    let Some(s) = at else { return Ok(vec![0.0; d]) };
    let vals: Vec<f64> = s
        .split(',')
        .map(|v| {
            let hint = "write the point as comma-separated finite numbers, e.g. --at 0.1,-0.2,0";
            match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                Ok(_) => Err(Error::invalid(format!("--at: `{v}` is not finite"), hint)),
                Err(_) => Err(Error::invalid(format!("--at: `{v}` is not a number"), hint)),
            }
        })
        .collect::<Result<_>>()?;
    if vals.len() == 1 && d > 1 {
        return Ok(vec![vals[0]; d]);
    }
    if vals.len() != d {
        return Err(Error::invalid(
            format!("--at has {} values, the model {d} inputs", vals.len()),
            "give one value per input (or a single value for all)",
        ));
    }
    Ok(vals)
}

/// Points from `.npy` (float64, [points, inputs]) or text (`.csv`: one point a row, values
/// separated by commas, spaces or tabs; `#` comments and one header line allowed).
pub fn read_points(path: &Path, d: usize) -> Result<Vec<Vec<f64>>> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let what = path.display().to_string();
    let rows: Vec<Vec<f64>> = if ext == "npy" {
        let arr = crate::budget::read_npy_2d(&what, &bytes, crate::budget::DEFAULT_MEMORY_LIMIT)?;
        arr.rows().into_iter().map(|r| r.to_vec()).collect()
    } else {
        crate::budget::points_csv(&what, &String::from_utf8_lossy(&bytes))?
    };
    if rows.is_empty() {
        return Err(Error::invalid(
            format!("{what}: no points (the array has no rows)"),
            "save points as [points, inputs] with at least one row",
        ));
    }
    if let Some((i, j)) = rows
        .iter()
        .enumerate()
        .find_map(|(i, r)| r.iter().position(|v| !v.is_finite()).map(|j| (i, j)))
    {
        return Err(Error::invalid(
            format!(
                "{}: point {i} (0-based row) has a non-finite value in column {j}",
                path.display()
            ),
            "every coordinate must be a finite number",
        ));
    }
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != d) {
        return Err(Error::invalid(
            format!(
                "{}: point {i} has {} values, the model {d} inputs",
                path.display(),
                r.len()
            ),
            "one value per input on each row",
        ));
    }
    Ok(rows)
}

/// Data points from .csv, .npy or .npz (array `x`, `data`, or the only/first one), N columns.
pub fn read_data(path: &Path, n: usize) -> Result<Vec<Vec<f64>>> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext != "npz" {
        return read_points(path, n);
    }
    crate::budget::check_npz_file(path, crate::budget::DEFAULT_MEMORY_LIMIT)?;
    let f = std::fs::File::open(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let bad = |e: String| {
        Error::invalid(
            format!("{}: {e}", path.display()),
            "save the data with numpy.savez(path, x=X.astype('float64')), X of shape [points, N]",
        )
    };
    let mut npz =
        ndarray_npy::NpzReader::new(f).map_err(|e| bad(format!("not a valid .npz ({e})")))?;
    let names = npz
        .names()
        .map_err(|e| bad(format!("cannot list arrays ({e})")))?;
    let pick = ["x.npy", "data.npy", "x", "data"]
        .iter()
        .find_map(|c| names.iter().find(|n| n == c))
        .or(names.first())
        .cloned()
        .ok_or_else(|| bad("the archive holds no array".into()))?;
    let arr: ndarray::Array2<f64> = npz
        .by_name(&pick)
        .map_err(|e| bad(format!("array `{pick}` is not a 2-d float64 array ({e})")))?;
    if arr.ncols() != n {
        return Err(Error::Shape {
            path: path.display().to_string(),
            tensor: pick,
            expected: format!("[points, {n}]"),
            found: format!("{:?}", arr.shape()),
        });
    }
    let rows: Vec<Vec<f64>> = arr.rows().into_iter().map(|r| r.to_vec()).collect();
    if let Some(i) = rows.iter().position(|r| r.iter().any(|v| !v.is_finite())) {
        return Err(bad(format!("row {i} has a non-finite value")));
    }
    Ok(rows)
}
