//! The emulator's integration tests, over real loopback HTTP (one binary): its resource
//! endpoints and test controls (`api`), its OAuth surface (`oauth`), its hosted
//! sign-in page (`pages`), and its events, Sessions API, webhooks and directory controls
//! (`events`). Shared helpers are in `support`. (authkit-leptos's suites,
//! in the workspace's `tests/it/`, use the emulator as the stand-in for WorkOS; the real
//! `@workos-inc/node` SDK against it is `interop::workos_node` there.)

/// Where this test crate's checkout is.
mod checkout {
    pub(crate) fn manifest_dir() -> std::path::PathBuf {
        authkit_test_support::manifest_dir!()
    }
}
mod support;

mod api;
mod events;
mod oauth;
mod pages;
mod steps;
