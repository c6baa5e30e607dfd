//! The .safetensors weights loader: any bytes are tensors or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ =
        feynn::model::weights::TensorStore::from_bytes(std::path::Path::new("w.safetensors"), data);
});
