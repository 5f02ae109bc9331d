//! Every JSON body the API takes: the ApiJson decoding, then each handler's own checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ducha_web::fuzzing::api_bodies(data, ducha_fuzz::tree(), ducha_fuzz::today());
});
