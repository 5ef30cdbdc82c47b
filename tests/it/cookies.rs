//! The cookies as the browser receives them (through the real routes, layer and callback
//! with the emulator): the session cookie's attributes (defaults, domain, max age,
//! SameSite, Secure, a custom name; refreshed and deleted alike) and the flow cookie's
//! (ten minutes, SameSite `Strict` lowered to `Lax`, its deletion, its name) —
//! authkit-nextjs `cookie.spec` and the cookie parts of `pkce.spec`.

use crate::support::config::config_from_env;
use crate::support::*;
use authkit_leptos::emulator::{Endpoint, Fault};
use authkit_leptos::testing::{
    pkce_cookie_name, pkce_set_cookie, session_set_cookie as set_cookie_string,
};
use authkit_leptos::{CookieConfig, SameSite};
use axum::body::Body;
use http::{header, Request, Response, StatusCode};

const DEFAULT_ATTRS: &str = "Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000";

const EXPIRED: &str = "Expires=Thu, 01 Jan 1970 00:00:00 GMT";

/// The `wos-session` Set-Cookie of a full sign-in.
async fn session_cookie_of(h: &Harness) -> String {
    let result = h.sign_in_with("/auth/sign-in").await;
    assert_eq!(result.status, StatusCode::TEMPORARY_REDIRECT);
    result
        .cookies
        .into_iter()
        .find(|c| c.starts_with("wos-session="))
        .expect("a session cookie")
}

/// Everything after the value of a `Set-Cookie` header.
fn attributes(set_cookie: &str) -> &str {
    set_cookie.split_once("; ").map_or("", |(_, rest)| rest)
}

/// The flow cookie the start route sets.
async fn start_flow(h: &Harness) -> (String, String) {
    let response = h.get("/auth/sign-in", None).await;
    let state = query_of(&location(&response))["state"].clone();
    let cookie =
        set_cookie_named(response.headers(), &pkce_cookie_name(&state)).expect("the flow cookie");
    (state, cookie)
}

async fn terminal_refresh(h: &Harness) -> Response<Body> {
    let cookie = h.expired_session().await;
    h.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::status(400).body(serde_json::json!({"error": "invalid_grant"})),
    );
    h.get("/", Some(&cookie)).await
}

#[tokio::test]
async fn the_session_cookie_has_the_default_attributes() {
    let h = Harness::new().await;
    let set = session_cookie_of(&h).await;
    assert_eq!(
        attributes(&set),
        DEFAULT_ATTRS,
        "http: no Secure, host-only"
    );
}

#[tokio::test]
async fn the_session_cookie_carries_the_configured_domain() {
    let h = Harness::with(Options {
        config: |c| c.cookie_domain("example.com"),
        ..Options::default()
    })
    .await;
    let set = session_cookie_of(&h).await;
    assert_eq!(
        attributes(&set),
        format!("{DEFAULT_ATTRS}; Domain=example.com")
    );
}

#[tokio::test]
async fn a_custom_max_age_and_domain_reach_the_session_cookie() {
    let h = Harness::with(Options {
        config: |c| c.cookie_max_age(1000).cookie_domain("foobar.com"),
        ..Options::default()
    })
    .await;
    let set = session_cookie_of(&h).await;
    assert_eq!(
        attributes(&set),
        "Path=/; HttpOnly; SameSite=Lax; Max-Age=1000; Domain=foobar.com"
    );
}

#[tokio::test]
async fn an_empty_cookie_domain_means_host_only() {
    let from_env = config_from_env(&[("WORKOS_COOKIE_DOMAIN", "")]).unwrap();
    assert_eq!(from_env.cookie().domain, None);
    let h = Harness::with(Options {
        config: |c| c.cookie_domain(""),
        ..Options::default()
    })
    .await;
    let set = session_cookie_of(&h).await;
    assert!(!set.contains("Domain="), "{set}");
}

#[tokio::test]
async fn a_deleted_session_cookie_keeps_its_domain_and_same_site() {
    let h = Harness::with(Options {
        config: |c| {
            c.cookie_domain("example.com")
                .cookie_same_site(SameSite::Strict)
        },
        ..Options::default()
    })
    .await;
    let response = terminal_refresh(&h).await;
    assert_eq!(
        session_set_cookie(&response).as_deref(),
        Some(format!("wos-session=; {EXPIRED}; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Domain=example.com").as_str())
    );
}

#[tokio::test]
async fn the_session_cookie_attribute_order_matches_authkit_nextjs() {
    let h = Harness::with(Options {
        config: |c| {
            c.redirect_uri("https://app.example.com/callback")
                .cookie_domain("example.com")
        },
        ..Options::default()
    })
    .await;
    let set = session_cookie_of(&h).await;
    assert_eq!(
        attributes(&set),
        "Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000; Domain=example.com; Secure"
    );
}

#[tokio::test]
async fn same_site_none_from_the_environment_reaches_the_cookie_with_secure() {
    let from_env = config_from_env(&[("WORKOS_COOKIE_SAMESITE", "none")]).unwrap();
    assert_eq!(from_env.cookie().same_site, SameSite::None);
    let h = Harness::with(Options {
        config: |c| c.cookie_same_site(SameSite::None),
        ..Options::default()
    })
    .await;
    let set = session_cookie_of(&h).await;
    assert_eq!(
        attributes(&set),
        "Path=/; HttpOnly; SameSite=None; Max-Age=34560000; Secure",
        "None always needs Secure, even on http"
    );
}

#[test]
fn without_a_url_the_session_cookie_is_secure() {
    assert!(set_cookie_string(&CookieConfig::default(), "v", None).ends_with("; Secure"));
}

#[test]
fn without_a_url_the_lax_flow_cookie_is_still_secure() {
    let set = pkce_set_cookie(&CookieConfig::default(), "sealed-state", None);
    assert!(set.contains("SameSite=Lax"), "{set}");
    assert!(set.ends_with("; Secure"), "{set}");
}

#[test]
fn an_unparseable_url_makes_the_cookie_secure() {
    for url in ["not-a-valid-url", "", "/relative"] {
        let set = set_cookie_string(&CookieConfig::default(), "v", Some(url));
        assert!(set.ends_with("; Secure"), "{url:?}: {set}");
    }
}

#[tokio::test]
async fn no_domain_attribute_without_a_cookie_domain() {
    let h = Harness::with(Options {
        config: |c| c.redirect_uri("https://app.example.com/callback"),
        ..Options::default()
    })
    .await;
    let set = session_cookie_of(&h).await;
    assert_eq!(
        attributes(&set),
        "Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000; Secure"
    );
}

#[tokio::test]
async fn a_refreshed_session_cookie_has_the_same_attributes_as_a_new_one() {
    let h = Harness::with(Options {
        config: |c| c.cookie_domain("example.com").cookie_max_age(3600),
        ..Options::default()
    })
    .await;
    let cookie = h.expired_session().await;
    let response = h.get("/", Some(&cookie)).await;
    let set = session_set_cookie(&response).expect("a refreshed cookie");
    assert_eq!(
        attributes(&set),
        "Path=/; HttpOnly; SameSite=Lax; Max-Age=3600; Domain=example.com"
    );
}

#[tokio::test]
async fn a_custom_cookie_name_is_used_for_reading_and_writing() {
    let h = Harness::with(Options {
        config: |c| c.cookie_name("my-app-session"),
        ..Options::default()
    })
    .await;
    let result = h.sign_in_with("/auth/sign-in").await;
    let set = result
        .cookies
        .iter()
        .find(|c| c.starts_with("my-app-session="))
        .expect("the session under the configured name");
    let response = h
        .send(
            Request::get("/")
                .header(
                    header::COOKIE,
                    format!("my-app-session={}", cookie_value(set)),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body["email"], "ada@example.com");
}

#[tokio::test]
async fn the_flow_cookie_lives_ten_minutes_whatever_the_session_max_age() {
    let h = Harness::with(Options {
        config: |c| c.cookie_max_age(1000),
        ..Options::default()
    })
    .await;
    let (_, flow) = start_flow(&h).await;
    assert!(flow.contains("; Max-Age=600"), "{flow}");
    assert!(!flow.contains("Max-Age=1000") && !flow.contains("Max-Age=34560000"));
}

#[tokio::test]
async fn the_flow_cookie_string_matches_authkit_nextjs() {
    let h = Harness::with(Options {
        config: |c| {
            c.redirect_uri("https://app.example.com/callback")
                .cookie_domain("example.com")
        },
        ..Options::default()
    })
    .await;
    let (state, flow) = start_flow(&h).await;
    // The attributes are authkit-nextjs's; the value is the flow's secret, not the state
    // (#23 item 4: nothing the callback URL carries).
    let secret = cookie_value(&flow);
    assert_ne!(secret, state);
    assert_eq!(
        flow,
        format!(
            "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600; Domain=example.com; Secure",
            pkce_cookie_name(&state)
        )
    );
}

#[tokio::test]
async fn a_spent_flow_cookie_is_deleted_with_max_age_zero_and_its_domain() {
    let h = Harness::with(Options {
        config: |c| {
            c.redirect_uri("https://app.example.com/callback")
                .cookie_domain("example.com")
        },
        ..Options::default()
    })
    .await;
    let result = h.sign_in_with("/auth/sign-in").await;
    let name = result.verifier_pair.split('=').next().unwrap().to_owned();
    let deletion = result
        .cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .expect("the flow cookie's deletion");
    assert_eq!(
        deletion,
        &format!("{name}=; {EXPIRED}; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Domain=example.com; Secure")
    );
}

#[tokio::test]
async fn flow_cookies_deleted_on_sign_out_have_max_age_zero() {
    let h = Harness::new().await;
    let response = h
        .send(
            Request::post("/auth/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, "wos-auth-verifier-0badf00d=x")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        set_cookie_named(response.headers(), "wos-auth-verifier-0badf00d").as_deref(),
        Some(
            format!(
                "wos-auth-verifier-0badf00d=; {EXPIRED}; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn strict_same_site_becomes_lax_on_the_flow_cookie_only() {
    let h = Harness::with(Options {
        config: |c| c.cookie_same_site(SameSite::Strict),
        ..Options::default()
    })
    .await;
    let (_, flow) = start_flow(&h).await;
    assert!(flow.contains("; SameSite=Lax;"), "{flow}");
    assert!(!flow.contains("Strict"), "{flow}");
    // The session cookie itself stays Strict.
    let set = session_cookie_of(&h).await;
    assert!(set.contains("; SameSite=Strict;"), "{set}");
}

#[tokio::test]
async fn an_https_redirect_uri_makes_every_cookie_secure() {
    let h = Harness::with(Options {
        config: |c| c.redirect_uri("https://app.example.com/callback"),
        ..Options::default()
    })
    .await;
    let result = h.sign_in_with("/auth/sign-in").await;
    assert_eq!(result.location.as_deref(), Some("https://app.example.com/"));
    assert!(!result.cookies.is_empty());
    for c in &result.cookies {
        assert!(c.ends_with("; Secure"), "{c}");
    }
}

#[tokio::test]
async fn the_flow_cookie_name_is_the_prefix_and_eight_hex_digits() {
    let h = Harness::new().await;
    let (_, flow) = start_flow(&h).await;
    let name = flow.split('=').next().unwrap();
    let hash = name.strip_prefix("wos-auth-verifier-").expect("the prefix");
    assert_eq!(hash.len(), 8, "{name}");
    assert!(
        hash.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "{name}"
    );
}

#[tokio::test]
async fn two_flows_get_two_cookie_names() {
    let h = Harness::new().await;
    let (state_a, a) = start_flow(&h).await;
    let (state_b, b) = start_flow(&h).await;
    assert_ne!(state_a, state_b);
    assert_ne!(a.split('=').next(), b.split('=').next());
}

#[tokio::test]
async fn the_flow_cookie_name_is_derived_from_the_state() {
    let h = Harness::new().await;
    let (state, flow) = start_flow(&h).await;
    assert!(flow.starts_with(&format!("{}=", pkce_cookie_name(&state))));
    assert_eq!(pkce_cookie_name(&state), pkce_cookie_name(&state.clone()));
    // FNV-1a 32, as authkit-nextjs and authkit-session name it.
    assert_eq!(pkce_cookie_name(""), "wos-auth-verifier-811c9dc5");
    assert_eq!(pkce_cookie_name("a"), "wos-auth-verifier-e40c292c");
    assert_eq!(pkce_cookie_name("foobar"), "wos-auth-verifier-bf9cf968");
}

#[tokio::test]
async fn strict_same_site_becomes_lax_on_the_middleware_redirect_flow_cookie() {
    let h = Harness::with(Options {
        config: |c| c.cookie_same_site(SameSite::Strict),
        layer: |l| l.middleware_auth(Vec::<String>::new()).unwrap(),
        ..Options::default()
    })
    .await;
    let response = h.get("/dashboard", None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let flow = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("wos-auth-verifier-"))
        .unwrap();
    assert!(flow.contains("; SameSite=Lax;"), "{flow}");
}

#[tokio::test]
async fn same_site_none_is_kept_on_the_flow_cookie_with_secure() {
    let h = Harness::with(Options {
        config: |c| c.cookie_same_site(SameSite::None),
        ..Options::default()
    })
    .await;
    let (_, flow) = start_flow(&h).await;
    assert!(flow.contains("; SameSite=None;"), "{flow}");
    assert!(flow.ends_with("; Secure"), "{flow}");
}

#[test]
fn mixed_case_strict_from_the_environment_becomes_lax_on_the_flow_cookie() {
    let config = config_from_env(&[("WORKOS_COOKIE_SAMESITE", "Strict")]).unwrap();
    assert_eq!(config.cookie().same_site, SameSite::Strict);
    let flow = pkce_set_cookie(
        config.cookie(),
        "sealed-state",
        Some(config.redirect_uri().as_str()),
    );
    assert_eq!(
        flow,
        format!(
            "{}=sealed-state; Path=/; HttpOnly; SameSite=Lax; Max-Age=600",
            pkce_cookie_name("sealed-state")
        )
    );
}

#[tokio::test]
async fn the_flow_cookie_defaults_to_lax() {
    let h = Harness::with(Options {
        layer: |l| l.middleware_auth(Vec::<String>::new()).unwrap(),
        ..Options::default()
    })
    .await;
    let response = h.get("/", None).await;
    let flow = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("wos-auth-verifier-"))
        .unwrap();
    assert!(flow.contains("; SameSite=Lax;"), "{flow}");
}
