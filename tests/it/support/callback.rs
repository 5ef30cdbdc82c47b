//! The callback route driven by hand: requests with any `code` / `state` / `Cookie`, states
//! re-sealed with one field changed, the callback routes with custom options, and checks
//! of the error page a failed callback shows.
#![allow(dead_code, unreachable_pub)]

use super::harness::*;
use authkit_leptos::emulator::GrantType;
use authkit_leptos::testing::{pkce_cookie_name, FlowState};
use authkit_leptos::{CallbackErrorCode, CallbackOptions, CallbackSuccess};
use axum::body::Body;
use http::{header, Request, Response, StatusCode};
use std::sync::{Arc, Mutex};

/// The callback request for `code` / `state`, with a `Cookie` header.
pub fn callback_request(
    code: Option<&str>,
    state: Option<&str>,
    cookie: Option<&str>,
) -> Request<Body> {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(c) = code {
        query.append_pair("code", c);
    }
    if let Some(s) = state {
        query.append_pair("state", s);
    }
    let mut request = Request::get(format!("/callback?{}", query.finish()));
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    request.body(Body::empty()).unwrap()
}

/// Starts a flow and gets the emulator's redirect back (code + state), without calling
/// the callback.
pub async fn code_and_state(h: &Harness, start: &str) -> (String, String, String) {
    let start_response = h.get(start, None).await;
    let verifier = set_cookies(start_response.headers())
        .into_iter()
        .find(|c| c.starts_with("wos-auth-verifier-"))
        .unwrap();
    let pair = verifier.split(';').next().unwrap().to_owned();
    let back = http_client()
        .get(location(&start_response))
        .send()
        .await
        .unwrap();
    let q = query_of(back.headers()["location"].to_str().unwrap());
    (q["code"].clone(), q["state"].clone(), pair)
}

pub async fn expect_error(
    h: &Harness,
    request: Request<Body>,
    code: CallbackErrorCode,
    status: StatusCode,
) -> Vec<String> {
    let response = h.send(request).await;
    assert_eq!(response.status(), status, "{code:?}");
    let cookies = set_cookies(response.headers());
    assert!(
        cookies.iter().all(|c| !c.starts_with("wos-session=")),
        "no session on failure"
    );
    let page = body_text(response).await;
    assert!(page.contains(code.as_str()), "{page}");
    assert!(page.contains("Sign in again"), "{page}");
    assert!(
        !page.contains("panicked") && !page.contains("src/"),
        "no internals: {page}"
    );
    cookies
}

/// The flow's state with `change` applied, sealed again, and its flow cookie.
pub fn restate(h: &Harness, flow: &Flow, change: impl FnOnce(&mut FlowState)) -> (String, String) {
    let mut state = FlowState::unseal(&flow.state, h.kit.config()).unwrap();
    change(&mut state);
    let sealed = state.seal(h.kit.config()).unwrap();
    let cookie = format!("{}={sealed}", pkce_cookie_name(&sealed));
    (sealed, cookie)
}

/// Finishes `flow` with its state changed by `change`.
pub async fn finish_restated(
    h: &Harness,
    flow: &Flow,
    change: impl FnOnce(&mut FlowState),
) -> Response<Body> {
    let (state, cookie) = restate(h, flow, change);
    h.send(callback_request(
        Some(&flow.code),
        Some(&state),
        Some(&cookie),
    ))
    .await
}

/// The callback routes with `options`, driven directly.
pub async fn send_with(
    h: &Harness,
    options: CallbackOptions,
    request: Request<Body>,
) -> Response<Body> {
    tower::ServiceExt::oneshot(h.kit.routes_with::<()>(options), request)
        .await
        .unwrap()
}

/// Code exchanges (grant `authorization_code`) that reached the emulator.
pub fn code_exchanges(h: &Harness) -> u64 {
    h.emulator.counters().grant(GrantType::AuthorizationCode)
}

/// A failed callback: status, no session, the flow's error code on the page.
pub async fn assert_failure(response: Response<Body>, code: CallbackErrorCode) -> Vec<String> {
    let status = response.status();
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{code:?}: {status}"
    );
    let cookies = set_cookies(response.headers());
    assert!(
        !cookies.iter().any(|c| c.starts_with("wos-session=")),
        "no session on failure: {cookies:?}"
    );
    let page = body_text(response).await;
    assert!(page.contains(code.as_str()), "{code:?}: {page}");
    assert!(!page.contains("panicked"), "{page}");
    cookies
}

/// What `on_success` was called with.
pub type Seen = Arc<Mutex<Vec<CallbackSuccess>>>;

/// Callback options whose `on_success` records what it is given.
pub fn recording() -> (Seen, CallbackOptions) {
    let seen: Seen = Arc::default();
    let sink = Arc::clone(&seen);
    let options = CallbackOptions::default().on_success(move |s| {
        let sink = Arc::clone(&sink);
        async move { sink.lock().unwrap().push(s) }
    });
    (seen, options)
}
