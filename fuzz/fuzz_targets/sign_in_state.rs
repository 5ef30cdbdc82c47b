#![no_main]
//! Fuzz target `sign_in_state`: see `authkit_leptos::fuzzing::sign_in_state` (src/fuzzing.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| authkit_leptos::fuzzing::sign_in_state(data));
