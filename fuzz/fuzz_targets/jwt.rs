#![no_main]
//! Fuzz target `jwt`: see `authkit_leptos::fuzzing::jwt` (src/fuzzing.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| authkit_leptos::fuzzing::jwt(data));
