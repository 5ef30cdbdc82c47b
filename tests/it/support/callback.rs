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

/// Starts a flow at `start` and lets the emulator approve it ([`Harness::flow`]): its
/// code, its state and the flow cookie's `name=value`.
pub async fn code_and_state(h: &Harness, start: &str) -> (String, String, String) {
    let flow = h.flow(start).await;
    (flow.code, flow.state, flow.verifier_pair)
}

/// Sends `request` and checks the failure: `status`, and [`assert_failure`]'s page.
pub async fn expect_error(
    h: &Harness,
    request: Request<Body>,
    code: CallbackErrorCode,
    status: StatusCode,
) -> Vec<String> {
    let response = h.send(request).await;
    assert_eq!(response.status(), status, "{code:?}");
    assert_failure(response, code).await
}

/// The flow's state with `change` applied, sealed again, and its flow cookie: the flow's
/// own secret (which the re-sealed state is still bound to) under the new state's name.
pub fn restate(h: &Harness, flow: &Flow, change: impl FnOnce(&mut FlowState)) -> (String, String) {
    let mut state = FlowState::unseal(&flow.state, h.kit.config()).unwrap();
    change(&mut state);
    let sealed = state.seal(h.kit.config()).unwrap();
    let secret = flow.verifier_pair.split_once('=').unwrap().1;
    let cookie = format!("{}={secret}", pkce_cookie_name(&sealed));
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

/// A failed callback: a 4xx or 5xx, no session, the error page naming the flow's error
/// code with a link to sign in again, and nothing of the server's internals.
pub async fn assert_failure(response: Response<Body>, code: CallbackErrorCode) -> Vec<String> {
    failure_page(response, code).await.0
}

/// [`assert_failure`], returning the `Set-Cookie` headers and the page.
pub async fn failure_page(
    response: Response<Body>,
    code: CallbackErrorCode,
) -> (Vec<String>, String) {
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
    assert!(page.contains("Sign in again"), "{code:?}: {page}");
    assert!(
        !page.contains("panicked") && !page.contains("src/"),
        "no internals: {page}"
    );
    (cookies, page)
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
