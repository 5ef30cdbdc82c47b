//! The cleanup of old flow cookies when a flow starts (authkit-nextjs `updateSession`'s
//! PKCE cleanup): below the limit concurrent flows keep theirs, at the limit every old one
//! (the legacy cookie included) is expired; `fetch` requests and other cookies are left
//! alone.

use crate::support::*;
use authkit_leptos::emulator::Endpoint;
use axum::body::Body;
use http::{header, Request, StatusCode};

#[tokio::test]
async fn at_most_five_flow_cookies_are_kept() {
    let h = Harness::new().await;
    let existing = (0..5)
        .map(|i| format!("wos-auth-verifier-0000000{i}=x"))
        .collect::<Vec<_>>()
        .join("; ");
    let response = h
        .send(
            Request::get("/auth/sign-in")
                .header(header::COOKIE, existing)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let cookies = set_cookies(response.headers());
    assert_eq!(cookies.len(), 6, "{cookies:?}");
    assert_eq!(
        cookies.iter().filter(|c| c.contains("Max-Age=0")).count(),
        5
    );
}

fn stale_flow_cookies(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("wos-auth-verifier-{i:08x}=stale-state-{i}"))
        .collect()
}

/// A signed-out document request to a middleware-auth page, with these cookies.
async fn redirect_with_cookies(h: &Harness, cookies: &[String]) -> http::Response<Body> {
    let mut request = Request::get("/dashboard").header(header::ACCEPT, "text/html");
    if !cookies.is_empty() {
        request = request.header(header::COOKIE, cookies.join("; "));
    }
    let response = h.send(request.body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    response
}

fn new_flow_cookie(response: &http::Response<Body>) -> Option<String> {
    let state = query_of(&location(response))["state"].clone();
    set_cookie_named(
        response.headers(),
        &authkit_leptos::testing::pkce_cookie_name(&state),
    )
}

#[tokio::test]
async fn flow_cookies_below_the_limit_are_kept_when_a_flow_starts() {
    let h = protect_everything().await;
    let existing = vec![
        "wos-auth-verifier-aaaaaaaa=stale-a".to_owned(),
        "wos-auth-verifier-bbbbbbbb=stale-b".to_owned(),
    ];
    let response = redirect_with_cookies(&h, &existing).await;
    let cookies = set_cookies(response.headers());
    assert!(new_flow_cookie(&response).is_some(), "{cookies:?}");
    assert_eq!(cookies.len(), 1, "concurrent flows preserved: {cookies:?}");
}

#[tokio::test]
async fn every_flow_cookie_is_expired_at_the_limit_when_a_flow_starts() {
    let h = protect_everything().await;
    let response = redirect_with_cookies(&h, &stale_flow_cookies(5)).await;
    for i in 0..5 {
        assert!(
            deletes_cookie(response.headers(), &format!("wos-auth-verifier-{i:08x}")),
            "stale cookie {i} expired"
        );
    }
    let new = new_flow_cookie(&response).expect("the new flow's cookie");
    assert!(new.contains("Max-Age=600"));
}

#[tokio::test]
async fn stale_flow_cookies_are_expired_when_a_failed_refresh_redirects() {
    let h = protect_everything().await;
    let session = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let mut cookies = stale_flow_cookies(5);
    cookies.push(format!("wos-session={session}"));
    let response = redirect_with_cookies(&h, &cookies).await;
    assert!(deletes_cookie(
        response.headers(),
        "wos-auth-verifier-00000000"
    ));
    assert!(deletes_cookie(response.headers(), "wos-session"));
    assert!(new_flow_cookie(&response).is_some());
}

#[tokio::test]
async fn fetch_requests_neither_set_nor_expire_flow_cookies() {
    let h = protect_everything().await;
    let response = h
        .send(
            Request::get("/dashboard")
                .header(header::ACCEPT, "application/json")
                .header(header::COOKIE, stale_flow_cookies(10).join("; "))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        !set_cookies(response.headers())
            .iter()
            .any(|c| c.contains("wos-auth-verifier")),
        "{:?}",
        set_cookies(response.headers())
    );
}

#[tokio::test]
async fn other_cookies_are_never_expired_by_flow_cleanup() {
    let h = protect_everything().await;
    let mut cookies = stale_flow_cookies(5);
    cookies.push("some-other-cookie=value".to_owned());
    let response = redirect_with_cookies(&h, &cookies).await;
    assert!(!set_cookies(response.headers())
        .iter()
        .any(|c| c.starts_with("some-other-cookie=")));
}

#[tokio::test]
async fn the_legacy_verifier_cookie_survives_below_the_limit() {
    let h = protect_everything().await;
    let response =
        redirect_with_cookies(&h, &["wos-auth-verifier=legacy-sealed-state".to_owned()]).await;
    assert!(set_cookie_named(response.headers(), "wos-auth-verifier").is_none());
}

#[tokio::test]
async fn the_legacy_verifier_cookie_is_expired_at_the_limit() {
    let h = protect_everything().await;
    let mut cookies = stale_flow_cookies(5);
    cookies.push("wos-auth-verifier=legacy-sealed-state".to_owned());
    let response = redirect_with_cookies(&h, &cookies).await;
    assert!(deletes_cookie(response.headers(), "wos-auth-verifier"));
}
