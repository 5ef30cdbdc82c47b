//! Where the test's own checkout is. Shared by the three test crates, the benches and the
//! library's fuzz-corpus test (`#[path]`).

use std::path::PathBuf;

/// The running test crate's directory (the one holding its `Cargo.toml`).
///
/// Read when the test runs (`cargo test` and `cargo nextest` set `CARGO_MANIFEST_DIR`;
/// a value that holds no `Cargo.toml` is not taken), and only then from the build: the build directory is shared between checkouts (CI
/// keeps it in `/var/cache/authkit-leptos/target`), and a test binary that did not need
/// rebuilding still carries the path of the checkout that built it, which may have been
/// moved or deleted since.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("Cargo.toml").is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
