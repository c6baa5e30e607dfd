//! `feynn import`: any weights file gives a spec that parses back to the same layers, or an
//! error. The first byte picks the format (safetensors, npz, json), the next ones the
//! activation list.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let name = ["w.safetensors", "w.npz", "w.json"][kind as usize % 3];
    let path = std::path::Path::new(name);
    let Ok(store) = feynn::model::weights::TensorStore::from_bytes(path, rest) else {
        return;
    };
    let acts = ["tanh", "tanh,sigmoid", "gelu,silu,softplus"][(kind as usize / 3) % 3];
    let stem = ["model", "input", "2 nets", "m"][(kind as usize / 9) % 4];
    let model = feynn::model::import::model_name_from_stem(stem);
    if let Ok(spec) = feynn::model::import::spec_for(&store, path, &model, Some(acts), None, None) {
        // the round trip: what import writes must parse, with the layers it found
        let models = feynn::model::parse_models("imported.fnn", &spec, None)
            .unwrap_or_else(|e| panic!("import wrote a spec that does not parse: {e}\n{spec}"));
        let layers = feynn::model::import::linear_layers(&store).unwrap();
        assert_eq!(models[0].layers.len(), layers.len(), "{spec}");
    }
});
