//! The test code authkit-leptos's test trees share (the library's `tests/it`, its benches
//! and fuzz-corpus test, the demo's `app/tests/it`, the emulator's `emulator/tests/it`),
//! one module each:
//!
//! - [`token`], [`attack`]: test keys and tokens, and the token-attack table (#11 R2) the
//!   library's and the demo's suites both run end to end;
//! - [`capture`]: every `tracing` event of the test process, as text;
//! - [`redis_server`]: a real `redis-server` per test, on a free loopback port;
//! - [`checkout`] and [`manifest_dir!`]: the directory of the test crate that runs.
//!
//! Not published (`publish = false`); a dev-dependency only.
#![allow(unreachable_pub)]

pub mod attack;
pub mod capture;
pub mod checkout;
pub mod redis_server;
pub mod token;
