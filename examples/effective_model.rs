//! The double-exchange effective model with the library (book chapter "Effective field neural
//! networks", Benchmark 2b): label configurations by exact diagonalisation at N = 4, fit the
//! 21-coefficient translation-invariant model by least squares, and predict fresh configurations
//! at N = 4 and, unchanged, at N = 6.
//!
//! ```text
//! cargo run --release -p feynn-studies --example effective_model
//! ```

use feynn_studies::efnn::bench::metrics;
use feynn_studies::efnn::datasets::double_exchange;
use feynn_studies::efnn::effective::EffectiveModel;
use feynn_studies::physics::double_exchange::DoubleExchange;

fn main() -> feynn::Result<()> {
    let train = double_exchange(&DoubleExchange::paper(4), 300, 1, false);
    let model = EffectiveModel::fit(&train.inputs, train.targets.as_slice().unwrap())?;
    for n in [4, 6] {
        // fresh configurations (another seed), the same coefficients at every size
        let test = double_exchange(&DoubleExchange::paper(n), 40, 1000 + n as u64, false);
        let truth = test.targets.as_slice().unwrap();
        let mean = truth.iter().sum::<f64>() / truth.len() as f64;
        let m = metrics(&model.energies(&test.inputs)?, truth, mean, (n * n) as f64);
        println!(
            "N = {n}: RMSE/std(E) {:.3}, relative error {:.2e} (mean predictor {:.2e})",
            m.rmse_over_std, m.relative, m.mean_relative
        );
    }
    Ok(())
}
