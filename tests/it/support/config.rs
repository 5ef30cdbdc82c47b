//! Configurations from a map of environment variables (`AuthKitConfig::from_vars`), as
//! the start-up and cookie suites build them.
#![allow(dead_code, unreachable_pub)]

use super::harness::PASSWORD;
use authkit_leptos::AuthKitConfig;

pub fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// The variables of a working configuration (`WORKOS_REDIRECT_URI` spelled the crate's way).
pub const BASE_VARS: [(&str, &str); 4] = [
    ("WORKOS_CLIENT_ID", "client_1234567890"),
    ("WORKOS_API_KEY", "sk_test_1234567890"),
    ("WORKOS_REDIRECT_URI", "http://localhost:3000/callback"),
    ("WORKOS_COOKIE_PASSWORD", PASSWORD),
];

/// [`BASE_VARS`] without `name`, or with `replacement` for it.
pub fn config_without(name: &str, replacement: Option<&str>) -> Result<AuthKitConfig, String> {
    let mut pairs: Vec<(&str, &str)> = BASE_VARS
        .iter()
        .copied()
        .filter(|(k, _)| *k != name)
        .collect();
    if let Some(v) = replacement {
        pairs.push((name, v));
    }
    AuthKitConfig::from_vars(vars(&pairs)).map_err(|e| e.to_string())
}

/// A configuration from the environment variables authkit-nextjs's tests set, plus `extra`.
pub fn config_from_env(extra: &[(&'static str, &'static str)]) -> Result<AuthKitConfig, String> {
    let mut pairs = vec![
        ("WORKOS_CLIENT_ID", "client_1234567890"),
        ("WORKOS_API_KEY", "sk_test_1234567890"),
        (
            "NEXT_PUBLIC_WORKOS_REDIRECT_URI",
            "http://localhost:3000/callback",
        ),
        ("WORKOS_COOKIE_PASSWORD", PASSWORD),
    ];
    pairs.extend_from_slice(extra);
    AuthKitConfig::from_vars(vars(&pairs)).map_err(|e| e.to_string())
}
