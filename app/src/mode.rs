//! Which WorkOS the demo talks to, decided once at start-up from the environment.
//!
//! - No WorkOS connection setting at all: the built-in emulator (zero configuration).
//! - Any of them: real WorkOS, and then every required one must be there and valid; a
//!   mistyped or missing variable stops the demo with what to fix, instead of quietly
//!   signing people into seeded test users. `WORKOS_API_KEY` is not required: without it
//!   the demo is a public client (authkit-leptos logs at start-up which features are off).

use authkit_leptos::{AuthKitConfig, ConfigError};

/// The variables that point the demo at a real WorkOS. `WORKOS_COOKIE_PASSWORD` is not one:
/// the emulator mode uses it too (to keep sessions across restarts).
pub const CONNECTION_VARIABLES: [&str; 6] = [
    "WORKOS_CLIENT_ID",
    "WORKOS_API_KEY",
    "WORKOS_REDIRECT_URI",
    "WORKOS_API_HOSTNAME",
    "WORKOS_API_PORT",
    "WORKOS_API_HTTPS",
];

/// Where the demo signs people in.
#[derive(Debug)]
pub enum Mode {
    /// The built-in WorkOS emulator, started in-process.
    Emulator,
    /// WorkOS, with this validated configuration.
    WorkOs(Box<AuthKitConfig>),
}

/// Why the demo refuses to start.
#[derive(Debug)]
pub struct ModeError {
    /// The connection variables that are set.
    pub present: Vec<&'static str>,
    /// What is wrong with the rest.
    pub config: ConfigError,
}

impl std::fmt::Display for ModeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} set, so the demo would talk to WorkOS, but the WorkOS settings are incomplete: {}\n\
             Fix them, or unset every WORKOS_* connection variable ({}) to use the built-in emulator.",
            self.present.join(", "),
            self.config,
            CONNECTION_VARIABLES.join(", "),
        )
    }
}

impl std::error::Error for ModeError {}

/// Decides the mode from a variable lookup (`std::env::var(..).ok()` in the demo).
pub fn decide(get: impl Fn(&str) -> Option<String>) -> Result<Mode, ModeError> {
    let present: Vec<&'static str> = CONNECTION_VARIABLES
        .into_iter()
        .filter(|name| get(name).is_some_and(|v| !v.trim().is_empty()))
        .collect();
    if present.is_empty() {
        return Ok(Mode::Emulator);
    }
    match AuthKitConfig::from_vars(get) {
        Ok(config) => Ok(Mode::WorkOs(Box::new(config))),
        Err(config) => Err(ModeError { present, config }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let list: Vec<(String, String)> = list
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| list.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    const FULL: [(&str, &str); 4] = [
        ("WORKOS_CLIENT_ID", "client_123"),
        ("WORKOS_API_KEY", "sk_test_123"),
        ("WORKOS_REDIRECT_URI", "http://localhost:3000/callback"),
        (
            "WORKOS_COOKIE_PASSWORD",
            "a-cookie-password-of-at-least-32-characters",
        ),
    ];

    #[test]
    fn nothing_set_is_the_emulator() {
        assert!(matches!(decide(vars(&[])), Ok(Mode::Emulator)));
        // A cookie password alone keeps the emulator (it uses the password).
        assert!(matches!(
            decide(vars(&[("WORKOS_COOKIE_PASSWORD", &"x".repeat(40))])),
            Ok(Mode::Emulator)
        ));
        // Empty values count as unset.
        assert!(matches!(
            decide(vars(&[("WORKOS_API_KEY", " ")])),
            Ok(Mode::Emulator)
        ));
    }

    #[test]
    fn everything_set_is_workos() {
        assert!(matches!(decide(vars(&FULL)), Ok(Mode::WorkOs(_))));
    }

    #[test]
    fn a_partial_or_mistyped_configuration_refuses_to_start_naming_what_is_missing() {
        // Only the client id (the case that used to fall back to the emulator).
        let e = decide(vars(&FULL[..1])).unwrap_err();
        let text = e.to_string();
        assert_eq!(e.present, ["WORKOS_CLIENT_ID"]);
        for missing in ["WORKOS_REDIRECT_URI", "WORKOS_COOKIE_PASSWORD"] {
            assert!(text.contains(missing), "{text}");
        }
        assert!(text.contains("built-in emulator"), "{text}");

        // A typo: WORKOS_REDIRECT_URI spelled wrong, the rest right.
        let mut typo: Vec<(&str, &str)> = FULL.to_vec();
        typo[2].0 = "WORKOS_REDIRECT_URL";
        let e = decide(vars(&typo)).unwrap_err();
        assert_eq!(e.config.problems.len(), 1);
        assert_eq!(e.config.problems[0].variable, "WORKOS_REDIRECT_URI");

        // No API key (or a misspelt one) is a public client, not a refusal (#26 item 2):
        // authkit-leptos says at start-up what is off without it.
        let mut keyless: Vec<(&str, &str)> = FULL.to_vec();
        keyless[1].0 = "WORKOS_APIKEY";
        match decide(vars(&keyless)) {
            Ok(Mode::WorkOs(config)) => assert!(config.api_key().is_none()),
            other => panic!("{other:?}"),
        }

        // Only an API host (someone pointing at a local WorkOS and forgetting the rest).
        assert!(decide(vars(&[("WORKOS_API_HOSTNAME", "127.0.0.1")])).is_err());
    }
}
