//! The Born study's figures and tables from its reports: `born-iterate` (one run) and
//! `born-seeds` (several seeds).

use std::fmt::Write as _;

use ndarray::Array2;
use serde::Deserialize;

use super::{unknown, view, Kind};
use feynn::error::{Error, Result};

#[derive(Deserialize)]
struct Training {
    val_rmse: f64,
}

#[derive(Deserialize)]
struct Stage {
    iteration: usize,
    target: String,
    training: Training,
    c0: f64,
    gradient: Vec<f64>,
    /// Rows of H (in reports since issue 17).
    #[serde(default)]
    hessian: Option<Vec<Vec<f64>>>,
    gradient_error: f64,
    hessian_error: f64,
    gradient_norm_ratio: f64,
}

#[derive(Deserialize)]
struct Heldout {
    born1_vs_a0: f64,
    born12_vs_a0: f64,
    proxy_vs_a0: f64,
    net1_vs_a0: f64,
    born1_vs_born12: f64,
    linear_vs_born12: f64,
    proxy_vs_born12: f64,
    #[serde(default)]
    proxy3_vs_a0: Option<f64>,
    #[serde(default)]
    proxy3_vs_born123: Option<f64>,
    #[serde(default)]
    born123_vs_a0: Option<f64>,
}

#[derive(Deserialize)]
struct Iterate {
    steps: usize,
    range: f64,
    stages: Vec<Stage>,
    heldout: Heldout,
}

/// `v` in scientific notation with `p` decimals and a typographic minus: `−1.7e-4`.
fn sci(v: f64, p: usize) -> String {
    let s = format!("{v:.p$e}");
    match s.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => s,
    }
}

/// A `born-iterate` report's output: `gradient` (learned vs exact g_n, network 1), `hessian`
/// (H₁, H₂ and the exact −2K on one scale), `tables` (the networks and the held-out errors).
pub fn iterate(report: &serde_json::Value, output: &str) -> Result<String> {
    let r: Iterate = view(report, "born-iterate")?;
    if r.stages.is_empty() {
        return Err(Error::invalid(
            "the report has no trained network",
            "a born-iterate report has at least one stage",
        ));
    }
    match output {
        "gradient" => {
            let g = crate::physics::born::first_order(r.steps, r.range);
            let st = &r.stages[0];
            let label = format!("network {}", st.iteration);
            crate::plot::gradient_svg(&g, &[(label.as_str(), st.gradient.as_slice())])
        }
        "hessian" => {
            let exact = crate::physics::born::hessian(r.steps, r.range);
            let mut mats = vec![];
            for st in r.stages.iter().take(2) {
                let rows = st.hessian.as_ref().ok_or_else(|| {
                    Error::invalid(
                        format!("stage {} has no Hessian", st.iteration),
                        "reports hold the Hessians since issue 17: run `feynn born iterate` again",
                    )
                })?;
                let n = rows.len();
                if rows.iter().any(|row| row.len() != n) {
                    return Err(Error::invalid(
                        format!("the Hessian of stage {} is not square", st.iteration),
                        "the report is damaged",
                    ));
                }
                let m = Array2::from_shape_fn((n, n), |(i, j)| rows[i][j]);
                mats.push((format!("H{} (network {})", st.iteration, st.iteration), m));
            }
            let mut refs: Vec<(&str, &Array2<f64>)> =
                mats.iter().map(|(l, m)| (l.as_str(), m)).collect();
            refs.push(("exact −2K", &exact));
            crate::plot::heatmaps_svg(&refs)
        }
        "tables" => Ok(iterate_tables(&r)),
        _ => Err(unknown(Kind::BornIterate, output)),
    }
}

fn iterate_tables(r: &Iterate) -> String {
    let mut s = String::from(
        "<!-- ANCHOR: networks -->\n| network | target | val. RMSE | y(0) | ‖∇y − g‖/‖g‖ | ‖∇y‖/‖g‖ | ‖H − (−2K)‖_F/‖2K‖_F |\n|---|---|---|---|---|---|---|\n",
    );
    for st in &r.stages {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.3} | {:.3} | {:.3} |",
            st.iteration,
            st.target,
            sci(st.training.val_rmse, 1),
            sci(st.c0, 1),
            st.gradient_error,
            st.gradient_norm_ratio,
            st.hessian_error
        );
    }
    let h = &r.heldout;
    let _ = write!(
        s,
        "<!-- ANCHOR_END: networks -->\n\n<!-- ANCHOR: heldout -->\n| approximation | vs exact a₀ | vs a₀⁽¹⁾ + a₀⁽²⁾ |\n|---|---|---|\n\
         | first Born term a₀⁽¹⁾ | {:.3} | {:.3} |\n\
         | learned linear term c₀ + g·U | – | {:.3} |\n\
         | true second-order Born a₀⁽¹⁾ + a₀⁽²⁾ | {:.3} | 0 |\n\
         | proxy c₀ + g·U + ½UᵀH₂U | {:.3} | {:.3} |\n",
        h.born1_vs_a0,
        h.born1_vs_born12,
        h.linear_vs_born12,
        h.born12_vs_a0,
        h.proxy_vs_a0,
        h.proxy_vs_born12
    );
    if let Some(p3) = h.proxy3_vs_a0 {
        let _ = writeln!(
            s,
            "| third-order proxy | {p3:.3} | {} (vs a₀⁽¹⁾ + a₀⁽²⁾ + a₀⁽³⁾) |",
            h.proxy3_vs_born123
                .map_or("–".into(), |v| format!("{v:.3}"))
        );
    }
    if let Some(b3) = h.born123_vs_a0 {
        let _ = writeln!(
            s,
            "| true third-order Born a₀⁽¹⁾ + a₀⁽²⁾ + a₀⁽³⁾ | {b3:.3} | – |"
        );
    }
    let _ = writeln!(s, "| network 1 itself | {} | – |", sci(h.net1_vs_a0, 1));
    s + "<!-- ANCHOR_END: heldout -->\n"
}

#[derive(Deserialize)]
struct SeedRow {
    seed: u64,
    gradient_error: f64,
    h1: f64,
    #[serde(default)]
    h2: Option<f64>,
    #[serde(default)]
    third_order: Option<f64>,
    proxy_vs_a0: f64,
    born1_vs_a0: f64,
}

#[derive(Deserialize)]
struct Summary {
    mean: f64,
    std: f64,
}

#[derive(Deserialize)]
struct Seeds {
    runs: Vec<SeedRow>,
    gradient_error: Summary,
    h1: Summary,
    #[serde(default)]
    h2: Option<Summary>,
    #[serde(default)]
    third_order: Option<Summary>,
    proxy_vs_a0: Summary,
}

/// A `born-seeds` report's `table`: one row per seed, then mean ± sample standard deviation.
pub fn seeds(report: &serde_json::Value, output: &str) -> Result<String> {
    if output != "table" {
        return Err(unknown(Kind::BornSeeds, output));
    }
    let r: Seeds = view(report, "born-seeds")?;
    // the third-order column only for runs with three iterations (the older tables stay as
    // they were)
    let third = r.third_order.is_some();
    let mut s = String::from(if third {
        "| seed | ‖∇y − g‖/‖g‖ | H₁ error | H₂ error | 3rd order | proxy vs a₀ | a₀⁽¹⁾ vs a₀ |\n|---|---|---|---|---|---|---|\n"
    } else {
        "| seed | ‖∇y − g‖/‖g‖ | H₁ error | H₂ error | proxy vs a₀ | a₀⁽¹⁾ vs a₀ |\n|---|---|---|---|---|---|\n"
    });
    let opt = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.3}"));
    for row in &r.runs {
        let t3 = if third {
            format!(" {} |", opt(row.third_order))
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "| {} | {:.3} | {:.3} | {} |{t3} {:.3} | {:.3} |",
            row.seed,
            row.gradient_error,
            row.h1,
            opt(row.h2),
            row.proxy_vs_a0,
            row.born1_vs_a0
        );
    }
    let pm = |m: &Summary| format!("{:.3} ± {:.3}", m.mean, m.std);
    let born1: Vec<f64> = r.runs.iter().map(|x| x.born1_vs_a0).collect();
    let n = born1.len() as f64;
    let mean = born1.iter().sum::<f64>() / n;
    let sd = if born1.len() > 1 {
        (born1.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let t3 = match &r.third_order {
        Some(m) => format!(" {} |", pm(m)),
        None => String::new(),
    };
    let _ = writeln!(
        s,
        "| **mean ± std** | {} | {} | {} |{t3} {} | {mean:.3} ± {sd:.3} |",
        pm(&r.gradient_error),
        pm(&r.h1),
        r.h2.as_ref().map_or("–".into(), pm),
        pm(&r.proxy_vs_a0),
    );
    Ok(s)
}
