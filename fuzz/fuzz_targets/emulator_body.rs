#![no_main]
//! Fuzz target `emulator_body`: see `authkit_leptos::fuzzing::emulator_body` (src/fuzzing.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| authkit_leptos::fuzzing::emulator_body(data));
