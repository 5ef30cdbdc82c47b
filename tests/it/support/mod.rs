//! Support code the suites share, one module each (`crate::support::…`); the harness's
//! items are re-exported here, so `use crate::support::*;` brings the harness in.
//!
//! - [`harness`]: the emulator, an `AuthKit` and a router with its routes and layer;
//!   signing in; small response helpers.
//! - [`leptos_app`]: the Leptos app (server functions and SSR pages) of the Leptos suites.
//! - [`callback`]: requests to the callback and checks of its error pages.
//! - [`config`]: configurations from environment-variable maps.
//! - [`capture`]: every `tracing` event of the test process, as text.
//! - [`token`], [`attack`]: test keys and tokens, and the token-attack table (shared with
//!   the demo's suite through `#[path]`).
//! - [`redis_server`]: a real `redis-server` per test.
//! - [`checkout`]: the checkout the test runs in (shared with the other test crates).
//!
//! The files other test trees share (`checkout`, `token`, `attack`, `capture`,
//! `redis_server`) are included there by `#[path]`, not made a test-support crate: each test
//! binary compiles them either way, a crate would repeat these dev-dependencies in a
//! manifest of its own, `checkout::manifest_dir`'s build-time fallback must name the
//! including crate's directory (in a crate it would name the support crate's), and the
//! includes are eight lines in five files.
#![allow(unreachable_pub)]

pub mod attack;
pub mod callback;
pub mod capture;
pub mod checkout;
pub mod config;
pub mod harness;
pub mod leptos_app;
pub mod redis_server;
pub mod token;

pub use harness::*;
