//! The .npy point loader (`--at-file`, `--data`): header checked before anything is allocated.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // 64 MiB: a header may not make the loader allocate more than the budget allows
    let _ = feynn::budget::read_npy_2d("p.npy", data, 64.0 * 1024.0 * 1024.0);
});
