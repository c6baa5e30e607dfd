//! The spec parser and validator: any text is a model list or a located error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = feynn::model::parse_models("fuzz.fnn", text, None) {
            // rendering the diagnostic must not panic either (miette, long lines)
            let _ = format!("{:?}", miette::Report::new(e));
        }
        let _ = feynn::model::inn::parse_inns("fuzz.fnn", text, None);
    }
});
