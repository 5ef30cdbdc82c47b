//! The signing keys as the layer uses them: the JWKS is fetched once for many requests,
//! a rotated key is picked up with one bounded refetch (tokens straight from WorkOS are
//! never lost; forged `kid`s stay throttled). A JWKS that fails (at start-up, later, during
//! a rotation) is `workos::faults`.

use crate::support::*;
use authkit_leptos::emulator::Endpoint;
use http::StatusCode;
use std::time::Duration;

#[tokio::test]
async fn the_jwks_is_fetched_once_for_many_requests() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    for _ in 0..25 {
        let (_, body) = h.whoami("/", Some(&cookie)).await;
        assert_eq!(body["email"], "ada@example.com");
    }
    assert_eq!(h.emulator.counters().get(Endpoint::Jwks), 1);
}

/// Right after WorkOS rotates its signing key, tokens WorkOS itself issues (a new sign-in,
/// a refresh) carry a `kid` the cached key set lacks, inside the unknown-kid cooldown:
/// they are never lost (one bounded refetch, which also keeps the old key for the
/// sessions signed with it), while unknown `kid`s in cookies stay throttled.
#[tokio::test]
async fn a_signing_key_rotation_never_loses_tokens_straight_from_workos() {
    use authkit_leptos::emulator::Endpoint;
    let h = Harness::new().await;
    // Warm the key set (and its unknown-kid cooldown) with the first key.
    let first = h.sign_in().await;
    let (_, json) = h.whoami("/dashboard", Some(&first)).await;
    assert_eq!(json["email"], "ada@example.com");
    let expired = h.expired_session().await;
    h.emulator.rotate_signing_key().await.unwrap();
    // (Forced refetches are at most one a second.)
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let jwks_before = h.emulator.counters().get(Endpoint::Jwks);

    // A new sign-in: the code exchange's tokens are signed with the new key.
    let result = h.sign_in_with("/auth/sign-in?return_to=%2Fdashboard").await;
    assert_eq!(
        result.status,
        StatusCode::TEMPORARY_REDIRECT,
        "{:?}",
        result.location
    );
    let (_, json) = h.whoami("/dashboard", Some(&result.session)).await;
    assert_eq!(
        json["email"], "ada@example.com",
        "the new session works at once"
    );

    // A refresh in the same window: the rotated refresh token's result is kept.
    let (response, json) = h.whoami("/dashboard", Some(&expired)).await;
    assert_eq!(json["email"], "ada@example.com");
    assert!(session_set_cookie(&response).is_some());
    let fetches_after_rotation = h.emulator.counters().get(Endpoint::Jwks) - jwks_before;
    assert_eq!(fetches_after_rotation, 1, "one forced refetch serves both");
    // The session signed with the old key (still published) keeps working from the
    // refetched set, with no further fetch.
    let (response, json) = h.whoami("/dashboard", Some(&first)).await;
    assert_eq!(
        json["email"], "ada@example.com",
        "the old key still verifies"
    );
    assert!(session_set_cookie(&response).is_none());
    assert_eq!(
        h.emulator.counters().get(Endpoint::Jwks) - jwks_before,
        1,
        "no refetch for the old key"
    );

    // Access tokens with kids nobody published (in a cookie sealed with our password, so
    // the layer replaces them by refreshing) cannot force refetches: they stay throttled.
    let session = unseal(&result.session);
    let token = session["accessToken"].as_str().unwrap();
    let (_, payload_and_sig) = token.split_once('.').unwrap();
    let before = h.emulator.counters().get(Endpoint::Jwks);
    for i in 0..20 {
        let header = base64_url(&format!(
            r#"{{"alg":"RS256","kid":"attacker-{i}","typ":"JWT"}}"#
        ));
        let forged = format!("{header}.{payload_and_sig}");
        let mut tampered = session.clone();
        tampered["accessToken"] = forged.into();
        let cookie = seal_json(&tampered);
        let _ = h.whoami("/dashboard", Some(&cookie)).await;
    }
    assert_eq!(
        h.emulator.counters().get(Endpoint::Jwks),
        before,
        "no refetch for forged kids"
    );
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn seal_json(session: &serde_json::Value) -> String {
    let session: authkit_leptos::Session = serde_json::from_value(session.clone()).unwrap();
    session
        .seal(&authkit_leptos::PasswordMap::single(PASSWORD))
        .unwrap()
}
