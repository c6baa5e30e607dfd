//! Property tests (issue 14): the counting functions against brute-force enumeration, the
//! polynomial-basis counts against the table they predict, and spec → checkpoint → `import` →
//! spec round trips. Truth comes from enumeration or from the original network, never from the
//! function under test.

mod common;

use std::ops::ControlFlow;

use common::*;
use feynn::diagrams::{for_each_labelled, labelled_counts, unlabelled, unlabelled_counts};
use feynn::dsl::Width;
use feynn::model::weights::TensorStore;
use num_bigint::BigUint;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Labelled and unlabelled counts equal the number of diagrams enumerated one by one, and
    /// the labellings of each topology add up to the labelled count (orbit–stabiliser).
    #[test]
    fn counts_match_enumeration(n in 1usize..7, h in 1usize..4, out in any::<bool>()) {
        let mut labelled = 0u64;
        for_each_labelled(n, h, out, |_| {
            labelled += 1;
            ControlFlow::Continue(())
        });
        prop_assert_eq!(BigUint::from(labelled), labelled_counts(n, h, out)[n].clone());
        let topos = unlabelled(n, h, out);
        prop_assert_eq!(BigUint::from(topos.len()), unlabelled_counts(n, h, out)[n].clone());
        let fact: BigUint = (1..=n as u64).map(BigUint::from).product();
        let orbits: BigUint = topos.iter().map(|t| &fact / &t.automorphisms).sum();
        prop_assert_eq!(orbits, BigUint::from(labelled));
    }

    /// The basis predicts (memory budget) exactly the monomials and products it then builds.
    #[test]
    fn basis_sizes_match_the_built_table(d in 1usize..5, n in 0usize..6) {
        let b = feynn::numeric::Basis::new(d, n, 1, 1e12).unwrap();
        let products: usize = b.products.iter().map(Vec::len).sum();
        prop_assert_eq!(feynn::numeric::basis::count_monomials(d, n), Some(b.len() as u128));
        let bytes = feynn::numeric::basis::predicted_bytes(d, n, 1).unwrap();
        let want = b.len() as f64 * 8.0 * 6.0 + b.len() as f64 * 40.0 + products as f64 * 8.0;
        prop_assert!((bytes - want).abs() < 1e-6 * want.max(1.0), "{} vs {}", bytes, want);
    }

    /// spec → random weights → safetensors → `import` → spec: the same widths and activations,
    /// and the imported spec evaluates to the same network.
    #[test]
    fn import_round_trips(
        seed in 0u64..1000,
        inputs in 1usize..4,
        widths in proptest::collection::vec(1usize..5, 1..4),
        outputs in 1usize..3,
        act in 0usize..4,
        stem in prop::sample::select(vec!["model", "input", "w", "2 nets", "layer-1"]),
    ) {
        let acts = [Act::Tanh, Act::Sigmoid, Act::Gelu, Act::Silu];
        let hidden: Vec<(usize, Act)> = widths.iter().map(|&w| (w, acts[act])).collect();
        let r = RefNet::random(seed, inputs, &hidden, outputs, None);
        let dir = tempfile::tempdir().unwrap();
        let wpath = dir.path().join(format!("{stem}.safetensors"));
        feynn::model::weights::write_safetensors(&wpath, &r.tensors()).unwrap();
        let store = TensorStore::load(&wpath).unwrap();
        let name = feynn::model::import::model_name_from_stem(stem);
        let spec = feynn::model::import::spec_for(
            &store,
            &wpath,
            &name,
            Some(acts[act].spec_ref()),
            None,
            Some(dir.path()),
        )
        .unwrap();
        let models = feynn::model::parse_models("imported.fnn", &spec, Some(dir.path()))
            .unwrap_or_else(|e| panic!("{e}\n{spec}"));
        let m = &models[0];
        prop_assert_eq!(&m.name, &name);
        let mut want = vec![inputs];
        want.extend(&widths);
        want.push(outputs);
        prop_assert_eq!(m.fixed_widths(), Some(want));
        prop_assert!(matches!(m.input, Width::Fixed(_)));
        let net = feynn::model::Network::from_store(m, &store).unwrap();
        let x: Vec<f64> = (0..inputs).map(|i| 0.1 * i as f64 - 0.05).collect();
        let y = net.forward(&x).unwrap();
        let y0 = r.eval(&x);
        for (a, b) in y.iter().zip(&y0) {
            prop_assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{} vs {}", a, b);
        }
    }
}
