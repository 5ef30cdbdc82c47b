//! Support code the suites share, one module each (`crate::support::…`); the harness's
//! items are re-exported here, so `use crate::support::*;` brings the harness in.
//!
//! - [`harness`]: the emulator, an `AuthKit` and a router with its routes and layer;
//!   signing in; small response helpers.
//! - [`leptos_app`]: the Leptos app (server functions and SSR pages) of the Leptos suites.
//! - [`callback`]: requests to the callback and checks of its error pages.
//! - [`config`]: configurations from environment-variable maps.
//! - [`capture`], [`token`], [`attack`], [`redis_server`]: from the workspace's
//!   `authkit-test-support` crate (`test-support/`), which the other test trees use too:
//!   every `tracing` event as text, test keys and tokens and the token-attack table, a real
//!   `redis-server` per test.
//! - [`checkout`]: the checkout the test runs in.
#![allow(unreachable_pub)]

pub mod callback;
pub mod config;
pub mod harness;
pub mod leptos_app;

pub use authkit_test_support::{attack, capture, redis_server, token};

/// Where this test crate's checkout is.
pub mod checkout {
    /// This crate's directory (see `authkit_test_support::checkout::manifest_dir_or`).
    pub fn manifest_dir() -> std::path::PathBuf {
        authkit_test_support::manifest_dir!()
    }
}

pub use harness::*;
