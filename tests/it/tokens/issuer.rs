//! The access token's issuer (`iss`), checked by default against the API host's own issuers
//! (#26 item 1): never a refresh per request on a host other than `api.workos.com` (a bug
//! two AuthKit SDKs shipped), and a token from another issuer is signed out, with one log
//! line that names it and `WORKOS_ISSUER`, without asking WorkOS.

use crate::support::*;
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::{AuthKit, AuthKitConfig};

#[tokio::test]
async fn twenty_page_loads_on_the_emulators_host_make_no_refresh() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    let iss = token_claims(&cookie)["iss"].as_str().unwrap().to_owned();
    assert!(
        iss.starts_with("http://127.0.0.1:") && !iss.contains("api.workos.com"),
        "{iss}"
    );
    h.emulator.reset_counters();
    for _ in 0..20 {
        let (response, json) = h.whoami("/dashboard", Some(&cookie)).await;
        assert_eq!(json["email"], "ada@example.com");
        assert!(session_set_cookie(&response).is_none(), "nothing refreshed");
    }
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn a_token_from_another_issuer_is_signed_out_without_asking_workos() {
    let log = capture::install();
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    let config = h
        .emulator
        .config_builder()
        .redirect_uri(REDIRECT_URI)
        .cookie_password(PASSWORD)
        .issuers(["https://auth.example.com"])
        .build()
        .unwrap();
    let kit = AuthKit::new(config).unwrap();
    let strict = Harness {
        emulator: h.emulator,
        app: test_routes().merge(kit.routes()).layer(kit.layer()),
        kit,
        user: "ada@example.com",
    };
    strict.emulator.reset_counters();
    let (response, json) = strict.whoami("/dashboard", Some(&cookie)).await;
    assert_eq!(json["email"], serde_json::Value::Null, "signed out");
    assert!(deletes_cookie(response.headers(), "wos-session"));
    assert_eq!(
        strict.authenticate_calls(),
        0,
        "no refresh: it would not help"
    );
    let log = log.lock().unwrap().clone();
    assert!(
        log.contains("WORKOS_ISSUER") && log.contains("user_management"),
        "one line that says what to configure: {log}"
    );
}

#[test]
fn the_issuers_come_from_workos_issuer_or_from_the_api_host() {
    let vars = |extra: &[(&str, &str)]| {
        let mut all: Vec<(String, String)> = [
            ("WORKOS_CLIENT_ID", "client_123"),
            ("WORKOS_API_KEY", "sk_test_1"),
            ("WORKOS_REDIRECT_URI", "http://localhost:3000/callback"),
            (
                "WORKOS_COOKIE_PASSWORD",
                "a-cookie-password-of-32-characters!!",
            ),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        all.dedup();
        move |name: &str| {
            all.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    };
    let default = AuthKitConfig::from_vars(vars(&[])).unwrap();
    assert_eq!(
        default.issuers(),
        [
            "https://api.workos.com",
            "https://api.workos.com/user_management/client_123",
            "https://api.workos.com/sso/client_123",
        ]
    );
    let custom_host = AuthKitConfig::from_vars(vars(&[
        ("WORKOS_API_HOSTNAME", "auth.example.com"),
        ("WORKOS_API_PORT", "8443"),
    ]))
    .unwrap();
    assert_eq!(custom_host.issuers()[0], "https://auth.example.com:8443");
    let listed = AuthKitConfig::from_vars(vars(&[(
        "WORKOS_ISSUER",
        " https://auth.example.com ,https://api.workos.com/user_management/client_123,",
    )]))
    .unwrap();
    assert_eq!(
        listed.issuers(),
        [
            "https://auth.example.com",
            "https://api.workos.com/user_management/client_123"
        ]
    );
    let err = AuthKitConfig::from_vars(vars(&[("WORKOS_ISSUER", "auth.example.com")])).unwrap_err();
    assert!(err.to_string().contains("WORKOS_ISSUER"), "{err}");
}
