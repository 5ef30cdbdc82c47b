//! What the benches share: the emulator with the demo seed (auto-approving sign-ins) and a
//! configuration pointed at it.
#![allow(dead_code, unreachable_pub)]

/// Where this checkout is.
pub mod checkout {
    /// The library's directory (see `authkit_test_support::checkout::manifest_dir_or`).
    pub fn manifest_dir() -> std::path::PathBuf {
        authkit_test_support::manifest_dir!()
    }
}

use authkit_leptos::emulator::{Emulator, Seed};
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::{AuthKitConfig, Secret};

/// The emulator on a free loopback port, with the demo seed, approving sign-ins at once.
pub async fn demo_emulator() -> Emulator {
    Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve()
        .start()
        .await
        .unwrap()
}

/// A configuration for `emulator` with `password` (the redirect URI the emulator accepts).
pub fn config(emulator: &Emulator, password: Secret) -> AuthKitConfig {
    emulator
        .config_builder()
        .redirect_uri("http://localhost:3000/callback")
        .cookie_password(password)
        .build()
        .unwrap()
}

/// [`config`] with a webhook secret: the handle's routes then take WorkOS events at
/// `/auth/webhooks` (signed with `authkit_leptos::testing::sign_webhook`).
pub fn config_with_webhooks(emulator: &Emulator, password: Secret, secret: &str) -> AuthKitConfig {
    emulator
        .config_builder()
        .redirect_uri("http://localhost:3000/callback")
        .cookie_password(password)
        .webhook_secret(secret)
        .build()
        .unwrap()
}

/// The emulator's key set, as its JWKS endpoint serves it.
pub async fn jwks(emulator: &Emulator) -> serde_json::Value {
    reqwest::get(emulator.jwks_url())
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The runtime the criterion benches drive requests on (one worker: the figures are per
/// request, not throughput).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}
