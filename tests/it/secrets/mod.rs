//! #11 R6 Secrets: no secret in `Debug` output or in the logs. (The demo's pages and logs:
//! `app/tests/it/demo_secrets.rs`; client-visible `AuthError` messages: the Leptos and
//! component suites.)

mod debug;
mod logs;
