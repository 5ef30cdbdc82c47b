#![no_main]
//! Fuzz target `unseal`: see `authkit_leptos::fuzzing::unseal` (src/fuzzing.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| authkit_leptos::fuzzing::unseal(data));
