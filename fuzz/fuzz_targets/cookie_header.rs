#![no_main]
//! Fuzz target `cookie_header`: see `authkit_leptos::fuzzing::cookie_header` (src/fuzzing.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| authkit_leptos::fuzzing::cookie_header(data));
