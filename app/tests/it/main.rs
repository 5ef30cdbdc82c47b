//! The demo's integration tests (one binary): Bearer-token attacks on its API route
//! (`bearer_attacks`), its strict Content-Security-Policy (`csp`), no secret in its logs or pages (`demo_secrets`), and `Leptos.toml`
//! agreeing with `app/Cargo.toml` (`leptos_toml`). `support` includes the workspace's
//! shared test code (the `authkit-test-support` crate).

mod support;

mod bearer_attacks;
mod csp;
mod demo_secrets;
mod leptos_toml;
