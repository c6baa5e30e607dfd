//! The claim parser: any text is a claim or a located error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = feynn::check::parse_claim("--claim", text) {
            let _ = format!("{:?}", miette::Report::new(*e));
        }
    }
});
