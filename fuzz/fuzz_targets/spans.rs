//! The npm module's span path against the full path: see src/lib.rs, and the README's
//! "Fuzzing the span path" for how to run it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(case) = zego_callback_fuzz::prepare(data) {
        if let Err(finding) = zego_callback_fuzz::check(&case) {
            panic!("{finding}\n  case: {case:?}");
        }
    }
});
