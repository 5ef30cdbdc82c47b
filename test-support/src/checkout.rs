//! Where the running test's own checkout is.

use std::path::PathBuf;

/// The running test crate's directory (the one holding its `Cargo.toml`): the
/// `CARGO_MANIFEST_DIR` the test runs with, else `built` — which
/// [`manifest_dir!`](crate::manifest_dir) fills with the *calling* crate's build-time
/// `CARGO_MANIFEST_DIR`, so each test tree gets its own directory, not this crate's.
///
/// Read when the test runs (`cargo test` and `cargo nextest` set `CARGO_MANIFEST_DIR`; a
/// value that holds no `Cargo.toml` is not taken), and only then from the build: the build
/// directory is shared between checkouts (CI keeps it in `/var/cache/authkit-leptos/target`),
/// and a test binary that did not need rebuilding still carries the path of the checkout
/// that built it, which may have been moved or deleted since.
pub fn manifest_dir_or(built: &str) -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("Cargo.toml").is_file())
        .unwrap_or_else(|| PathBuf::from(built))
}

/// The calling test crate's directory ([`checkout::manifest_dir_or`](crate::checkout::manifest_dir_or)
/// with the caller's build-time `CARGO_MANIFEST_DIR`): `authkit_test_support::manifest_dir!()`.
#[macro_export]
macro_rules! manifest_dir {
    () => {
        $crate::checkout::manifest_dir_or(env!("CARGO_MANIFEST_DIR"))
    };
}
