//! What the benches share: the emulator with the demo seed (auto-approving sign-ins) and a
//! configuration pointed at it.
#![allow(dead_code, unreachable_pub)]

use authkit_leptos::emulator::{Emulator, Seed};
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
