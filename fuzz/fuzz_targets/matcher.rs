#![no_main]
//! Fuzz target `matcher`: see `authkit_leptos::fuzzing::matcher` (src/fuzzing.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| authkit_leptos::fuzzing::matcher(data));
