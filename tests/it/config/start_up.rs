//! Start-up checks: a configuration missing a variable or with a bad value, bad path
//! patterns and route paths are errors when the app starts (naming what to fix), never a
//! failure per request; random cookie passwords are unpredictable.

use crate::support::config::{config_from_env, config_without};
use crate::support::*;
use authkit_leptos::{AuthKit, AuthKitConfig};

/// An `AuthKit` for checks that never reach WorkOS.
fn offline_kit() -> AuthKit {
    let config = AuthKitConfig::builder()
        .client_id("client_1234567890")
        .api_key("sk_test_1234567890")
        .redirect_uri(REDIRECT_URI)
        .cookie_password(PASSWORD)
        .build()
        .unwrap();
    AuthKit::new(config).unwrap()
}

#[test]
fn a_config_without_a_redirect_uri_fails_at_start_up() {
    let err = config_without("WORKOS_REDIRECT_URI", None).unwrap_err();
    assert!(err.contains("WORKOS_REDIRECT_URI: missing"), "{err}");
}

#[test]
fn a_config_without_a_cookie_password_fails_at_start_up() {
    let err = config_without("WORKOS_COOKIE_PASSWORD", None).unwrap_err();
    assert!(err.contains("WORKOS_COOKIE_PASSWORD: missing"), "{err}");
}

#[test]
fn a_cookie_password_under_32_characters_fails_at_start_up() {
    let err = config_without("WORKOS_COOKIE_PASSWORD", Some("short")).unwrap_err();
    assert!(err.contains("WORKOS_COOKIE_PASSWORD"), "{err}");
    assert!(err.contains("at least 32 characters"), "{err}");
    assert!(config_without("WORKOS_COOKIE_PASSWORD", Some(&"x".repeat(32))).is_ok());
}

#[test]
fn an_invalid_same_site_value_fails_at_start_up() {
    let err = config_from_env(&[("WORKOS_COOKIE_SAMESITE", "invalid")]).unwrap_err();
    assert!(err.contains("WORKOS_COOKIE_SAMESITE"), "{err}");
    assert!(err.contains("invalid SameSite value `invalid`"), "{err}");
}

#[test]
fn a_non_numeric_cookie_max_age_is_a_start_up_error() {
    let err = config_from_env(&[("WORKOS_COOKIE_MAX_AGE", "invalid-number")]).unwrap_err();
    assert!(err.contains("WORKOS_COOKIE_MAX_AGE"), "{err}");
    let ok = config_from_env(&[("WORKOS_COOKIE_MAX_AGE", "1000")]).unwrap();
    assert_eq!(ok.cookie().max_age, 1000);
}

#[test]
fn a_bad_unauthenticated_path_error_names_the_pattern() {
    let kit = offline_kit();
    let err = kit
        .layer()
        .middleware_auth(["/fine", "/users/:id(\\d+)"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`/users/:id(\\d+)`"), "{err}");
    assert!(err.contains("not supported"), "{err}");
}

/// A bad pattern in any of the layer's lists (the matcher, middleware auth's
/// unauthenticated paths, the sign-up paths) is refused when the layer is built, naming it;
/// good patterns pass.
#[test]
fn bad_matcher_patterns_fail_at_start_up() {
    let kit = offline_kit();
    let err = kit.layer().matcher(["/ok", "no-slash"]).unwrap_err();
    assert!(err.to_string().contains("`no-slash`"), "{err}");
    assert!(kit.layer().middleware_auth(["/(.*)"]).is_err());
    assert!(kit.layer().middleware_auth(["[*"]).is_err());
    assert!(kit.layer().sign_up_paths(["[*"]).is_err());
    assert!(kit.layer().middleware_auth(["/ok/:path*"]).is_ok());
}

#[test]
fn a_route_path_without_a_leading_slash_is_a_build_error_naming_the_method() {
    let config = authkit_leptos::AuthKitConfig::builder()
        .client_id("client_1")
        .api_key("sk_test_1")
        .redirect_uri("http://localhost:3000/callback")
        .cookie_password(PASSWORD)
        .build()
        .unwrap();
    let error = authkit_leptos::AuthKit::builder(config)
        .sign_up_path("auth/sign-up")
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, authkit_leptos::BuildError::RoutePath { path, method: "sign_up_path" } if path == "auth/sign-up"),
        "{error:?}"
    );
    assert!(error.to_string().contains("must start with `/`"), "{error}");
}

#[test]
fn random_cookie_passwords_are_never_predictable() {
    let a = authkit_leptos::Secret::try_random_cookie_password().expect("the OS has randomness");
    let b = authkit_leptos::Secret::random_cookie_password();
    assert_eq!(a.expose().len(), 64);
    assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a.expose(), b.expose());
    assert_ne!(a.expose(), "0".repeat(64));
}

/// `__Host-` cookie names (#23 item 3), for the session (`WORKOS_COOKIE_NAME`) and the
/// flow cookies (`WORKOS_FLOW_COOKIE_NAME`): browsers keep such a cookie only when it is
/// `Secure`, has no `Domain` and `Path=/`, so the configuration must say https and no
/// domain, or the app refuses to start (naming the variable) instead of losing every
/// cookie. `__Secure-` needs https.
#[test]
fn host_prefixed_cookie_names_need_https_and_no_domain() {
    const HTTPS: (&str, &str) = ("WORKOS_REDIRECT_URI", "https://app.example.com/callback");
    for variable in ["WORKOS_COOKIE_NAME", "WORKOS_FLOW_COOKIE_NAME"] {
        let name = if variable == "WORKOS_COOKIE_NAME" {
            "__Host-wos-session"
        } else {
            "__Host-wos-auth-verifier"
        };
        // Over http (the redirect URI of config_from_env).
        let err = config_from_env(&[(variable, name)]).unwrap_err();
        assert!(err.contains(variable), "{err}");
        assert!(err.contains("__Host-") && err.contains("https"), "{err}");
        // With a cookie domain.
        let err = config_from_env(&[
            (variable, name),
            HTTPS,
            ("WORKOS_COOKIE_DOMAIN", "example.com"),
        ])
        .unwrap_err();
        assert!(err.contains("WORKOS_COOKIE_DOMAIN"), "{err}");
        assert!(err.contains("__Host-"), "{err}");
        // https, host-only: fine.
        let config = config_from_env(&[(variable, name), HTTPS]).unwrap();
        if variable == "WORKOS_COOKIE_NAME" {
            assert_eq!(config.cookie().name, name);
        }
    }
    let err = config_from_env(&[("WORKOS_COOKIE_NAME", "__Secure-wos-session")]).unwrap_err();
    assert!(err.contains("__Secure-") && err.contains("https"), "{err}");
    assert!(config_from_env(&[("WORKOS_COOKIE_NAME", "__Secure-wos-session"), HTTPS]).is_ok());
    // A flow cookie name is a cookie name.
    let err = config_from_env(&[("WORKOS_FLOW_COOKIE_NAME", "bad name;")]).unwrap_err();
    assert!(err.contains("WORKOS_FLOW_COOKIE_NAME"), "{err}");
}
