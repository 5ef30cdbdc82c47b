//! The refresh of a session whose access token has expired (or fails verification): the
//! new cookie is written; a refusal that ends the session (`invalid_grant`) deletes the
//! cookie, other refusals and transient failures keep it (signed out for the request), a
//! `429` is retried once after `Retry-After`. The full matrix of transient faults on this
//! refresh is `workos::faults`.

use crate::support::*;
use authkit_leptos::emulator::{Endpoint, Fault};
use axum::body::Body;
use http::{header, Request, StatusCode};
use std::time::Duration;

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_new_cookie_written() {
    let h = Harness::new().await;
    let cookie = h.expired_session().await;
    let old = unseal(&cookie);
    let (response, body) = h.whoami("/dashboard/x", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(h.authenticate_calls(), 1);
    let set = session_set_cookie(&response).expect("a refreshed cookie");
    assert!(
        set.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "http redirect URI: no Secure");
    let new_value = set
        .strip_prefix("wos-session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let new = unseal(new_value);
    assert_ne!(new["refreshToken"], old["refreshToken"], "rotated");
    assert_ne!(new["accessToken"], old["accessToken"]);
    assert_eq!(new["user"]["id"], old["user"]["id"]);
    // The organization is kept through the refresh.
    let (_, again) = h.whoami("/", Some(new_value)).await;
    assert_eq!(again["organization_id"], body["organization_id"]);
    assert_eq!(h.authenticate_calls(), 1, "the new token needs no refresh");
}

/// A session WorkOS has ended: its refresh is refused with `invalid_grant`, the request is
/// signed out and the cookie deleted (the exact deletion authkit-nextjs writes).
#[tokio::test]
async fn an_ended_session_is_signed_out_and_its_cookie_deleted() {
    let h = Harness::new().await;
    let cookie = h.expired_session().await;
    let session = unseal(&cookie);
    let (_, claims) =
        authkit_leptos::jwt::decode_unverified(session["accessToken"].as_str().unwrap()).unwrap();
    assert!(h.emulator.end_session(claims["sid"].as_str().unwrap()));
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["user"], serde_json::Value::Null);
    assert_eq!(
        session_set_cookie(&response).as_deref(),
        Some("wos-session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        "terminal: deleted"
    );
}

#[tokio::test]
async fn a_429_is_retried_once_after_retry_after() {
    let h = Harness::new().await;
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(429).retry_after(1));
    let started = std::time::Instant::now();
    let (_, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(h.authenticate_calls(), 2, "one retry");
}

#[tokio::test]
async fn an_access_token_with_a_bad_signature_is_refreshed() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    let mut session = unseal(&cookie);
    let token = session["accessToken"].as_str().unwrap().to_owned();
    let (head, sig) = token.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    session["accessToken"] = format!("{head}.{flipped}{}", &sig[1..]).into();
    let tampered = authkit_leptos::seal::seal_json(
        &session,
        &authkit_leptos::PasswordMap::single(PASSWORD),
        None,
    )
    .unwrap();
    h.emulator.reset_counters();
    let (response, body) = h.whoami("/", Some(&tampered)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(
        h.refresh_exchanges(),
        1,
        "a token that fails verification is refreshed"
    );
    let set = session_set_cookie(&response).expect("the refreshed session is written");
    let new = unseal(cookie_value(&set));
    assert_ne!(new["accessToken"], session["accessToken"]);
}

/// A `408` from WorkOS is transient: the cookie is kept and works once WorkOS is back.
/// (The other transient faults — 5xx, 429 past its retry, a timeout, a dropped connection
/// — are `workos::faults::refresh_faults_on_an_expired_token_keep_the_cookie`.)
#[tokio::test]
async fn a_refresh_timing_out_at_workos_408_keeps_the_cookie() {
    let h = Harness::new().await;
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(408));
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["user"], serde_json::Value::Null);
    assert!(
        session_set_cookie(&response).is_none(),
        "the cookie is kept"
    );
    let (_, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(
        body["email"], "ada@example.com",
        "and works once WorkOS is back"
    );
}

/// A refresh WorkOS refuses without ending the session (no `invalid_grant`: a rotated API
/// key, a bad request) signs the request out but keeps the cookie: deleting it would sign
/// every user out over an operator's mistake. (authkit-nextjs deletes on any
/// non-transient error; see `tests/it/PARITY.md`.)
macro_rules! refused_refresh_keeps_the_cookie {
    ($($name:ident: $status:expr,)*) => {$(
        #[tokio::test]
        async fn $name() {
            let h = Harness::new().await;
            let cookie = h.expired_session().await;
            h.emulator.inject_fault(Endpoint::Authenticate, Fault::status($status));
            let (response, body) = h.whoami("/", Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(body["user"], serde_json::Value::Null);
            assert!(session_set_cookie(&response).is_none(), "{}: cookie kept", $status);
            assert_eq!(h.authenticate_calls(), 1, "no retry for {}", $status);
        }
    )*};
}

refused_refresh_keeps_the_cookie! {
    a_refresh_refused_with_400_without_invalid_grant_keeps_the_cookie: 400,
    a_refresh_refused_with_401_keeps_the_cookie: 401,
    a_refresh_refused_with_403_keeps_the_cookie: 403,
}

#[tokio::test]
async fn a_refresh_with_workos_unreachable_keeps_the_cookie() {
    let h = Harness::new().await;
    let cookie = h.expired_session().await;
    // The keys are cached (the sign-in verified a token); now WorkOS goes away.
    let Harness {
        emulator, kit, app, ..
    } = h;
    emulator.shutdown().await;
    let response = tower::ServiceExt::oneshot(
        app,
        Request::get("/")
            .header(header::COOKIE, format!("wos-session={cookie}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        session_set_cookie(&response).is_none(),
        "not deleted while WorkOS is down"
    );
    let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body["user"], serde_json::Value::Null);
    drop(kit);
}
