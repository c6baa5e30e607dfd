//! The CSV point loader.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = feynn::budget::points_csv("p.csv", &String::from_utf8_lossy(data));
});
