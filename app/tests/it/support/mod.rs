//! The workspace's shared test code (the `authkit-test-support` crate, `test-support/`): the
//! token attack table and its keys, the `tracing` capture; and where the checkout is.
#![allow(unreachable_pub, dead_code)]

pub use authkit_test_support::{attack, capture};

/// Where this test crate's checkout is.
pub mod checkout {
    /// This crate's directory (see `authkit_test_support::checkout::manifest_dir_or`).
    pub fn manifest_dir() -> std::path::PathBuf {
        authkit_test_support::manifest_dir!()
    }
}
