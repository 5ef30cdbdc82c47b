//! The proactive refresh: a token inside its buffer (30 s for tokens of five minutes or
//! less, 60 s for longer ones, or the configured one; zero disables it) is refreshed
//! before it expires, and a failed proactive refresh still serves the valid token (a
//! terminal refusal here; transient faults: `workos::faults`).

use crate::support::*;
use authkit_leptos::emulator::{Endpoint, Fault};
use http::StatusCode;
use std::time::Duration;

#[tokio::test]
async fn a_failed_proactive_refresh_serves_the_still_valid_token() {
    let h = Harness::with(Options {
        token_ttl: Some(Duration::from_secs(20)),
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    h.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::status(400)
            .body(serde_json::json!({"error": "invalid_grant", "error_description": "used"})),
    );
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(
        body["email"], "ada@example.com",
        "the current token still works"
    );
    assert!(session_set_cookie(&response).is_none(), "cookie kept");
}

#[tokio::test]
async fn long_lived_tokens_refresh_60_seconds_before_expiry() {
    let h = Harness::new().await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(50), Duration::from_secs(3600))
        .await;
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(h.refresh_exchanges(), 1);
    let new = unseal(cookie_value(&session_set_cookie(&response).unwrap()));
    assert_ne!(new["accessToken"], unseal(&cookie)["accessToken"]);
}

#[tokio::test]
async fn a_long_lived_token_outside_the_buffer_is_not_refreshed() {
    let h = Harness::new().await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(90), Duration::from_secs(3600))
        .await;
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(h.refresh_exchanges(), 0);
    assert!(session_set_cookie(&response).is_none());
}

#[tokio::test]
async fn a_five_minute_token_with_45_seconds_left_is_not_refreshed() {
    let h = Harness::new().await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(45), Duration::from_secs(300))
        .await;
    let (response, _) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(h.refresh_exchanges(), 0, "outside the 30 s buffer");
    assert!(session_set_cookie(&response).is_none());
}

#[tokio::test]
async fn a_five_minute_token_with_20_seconds_left_is_refreshed() {
    let h = Harness::new().await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(20), Duration::from_secs(300))
        .await;
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(h.refresh_exchanges(), 1, "inside the 30 s buffer");
    assert_eq!(h.authenticate_calls(), 1, "the refresh is the only call");
    assert!(session_set_cookie(&response).is_some());
}

#[tokio::test]
async fn a_custom_buffer_of_120_seconds_refreshes_a_token_with_90_left() {
    let h = Harness::with(Options {
        builder: |b| b.refresh_buffer(Duration::from_secs(120)),
        ..Options::default()
    })
    .await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(90), Duration::from_secs(3600))
        .await;
    let (response, _) = h.whoami("/dashboard", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(h.refresh_exchanges(), 1);
}

#[tokio::test]
async fn a_zero_buffer_serves_a_token_with_5_seconds_left_unchanged() {
    let h = Harness::with(Options {
        builder: |b| b.refresh_buffer(Duration::ZERO),
        ..Options::default()
    })
    .await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(5), Duration::from_secs(3600))
        .await;
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(h.refresh_exchanges(), 0);
    assert_eq!(h.authenticate_calls(), 0);
    assert!(session_set_cookie(&response).is_none());
}
