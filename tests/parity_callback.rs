//! authkit-nextjs `authkit-callback-route.spec` ported: the callback route (`handleAuth`)
//! through the real router, with codes issued by the emulator for real PKCE flows.
//! States are either the ones the start route sealed, or re-sealed from them with one
//! field changed (a hostile return path, another verifier, no custom state, …) — the way
//! the nextjs spec seals its own states. `tests/PARITY.md` maps every nextjs case.

mod authkit_support;

use authkit_leptos::emulator::{Endpoint, Fault, GrantType, Seed};
use authkit_leptos::testing::{pkce_cookie_name, FlowState};
use authkit_leptos::{CallbackErrorCode, CallbackOptions, CallbackSuccess};
use authkit_support::*;
use axum::body::Body;
use axum::response::IntoResponse;
use http::{header, Request, Response, StatusCode};
use std::sync::{Arc, Mutex};

/// The callback request for `code` / `state`, with a `Cookie` header.
fn callback_request(
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

/// The flow's state with `change` applied, sealed again, and its flow cookie.
fn restate(h: &Harness, flow: &Flow, change: impl FnOnce(&mut FlowState)) -> (String, String) {
    let mut state = FlowState::unseal(&flow.state, h.kit.config()).unwrap();
    change(&mut state);
    let sealed = state.seal(h.kit.config()).unwrap();
    let cookie = format!("{}={sealed}", pkce_cookie_name(&sealed));
    (sealed, cookie)
}

/// Finishes `flow` with its state changed by `change`.
async fn finish_restated(
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
async fn send_with(
    h: &Harness,
    options: CallbackOptions,
    request: Request<Body>,
) -> Response<Body> {
    tower::ServiceExt::oneshot(h.kit.routes_with::<()>(options), request)
        .await
        .unwrap()
}

fn code_exchanges(h: &Harness) -> u64 {
    h.emulator.counters().grant(GrantType::AuthorizationCode)
}

/// A failed callback: status, no session, the flow's error code on the page.
async fn assert_failure(response: Response<Body>, code: CallbackErrorCode) -> Vec<String> {
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

type Seen = Arc<Mutex<Vec<CallbackSuccess>>>;

fn recording() -> (Seen, CallbackOptions) {
    let seen: Seen = Arc::default();
    let sink = Arc::clone(&seen);
    let options = CallbackOptions::default().on_success(move |s| {
        let sink = Arc::clone(&sink);
        async move { sink.lock().unwrap().push(s) }
    });
    (seen, options)
}

// ================================================================== success and failure

#[tokio::test]
async fn a_matching_state_exchanges_the_code_once() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(code_exchanges(&h), 1);
    assert!(session_set_cookie(&response).is_some());
}

#[tokio::test]
async fn a_refused_code_shows_the_error_page_without_a_session() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::status(400).body(serde_json::json!({
            "error": "invalid_grant",
            "error_description": "The code has expired."
        })),
    );
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ))
        .await;
    // authkit-nextjs answers 500; WorkOS refusing the code is the browser's situation, so
    // this crate answers 400 (see PARITY.md).
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_failure(response, CallbackErrorCode::AuthenticationFailed).await;
}

#[tokio::test]
async fn a_garbled_workos_answer_shows_the_error_page() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::status(200).body(serde_json::json!("Auth failed")),
    );
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ))
        .await;
    assert_failure(response, CallbackErrorCode::AuthenticationFailed).await;
}

#[tokio::test]
async fn on_error_sees_why_the_exchange_failed() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(400));
    let options = CallbackOptions::default().on_error(|e| {
        // A standard error, whose source is WorkOS's.
        let as_error: &dyn std::error::Error = &e;
        assert!(
            as_error.source().is_some(),
            "the WorkOS error is the source"
        );
        let body = serde_json::json!({
            "code": e.code.as_str(),
            "workos_status": e.workos.as_ref().and_then(|w| w.status()).map(|s| s.as_u16()),
            "has_code": e.has_code,
            "has_state": e.has_state,
        });
        (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
    });
    let response = send_with(
        &h,
        options,
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "code": "authentication_failed",
            "workos_status": 400,
            "has_code": true,
            "has_state": true,
        })
    );
}

#[tokio::test]
async fn the_success_redirect_carries_no_code_or_state() {
    let h = Harness::new().await;
    let result = h
        .sign_in_at("/auth/sign-in?return_to=%2Fdashboard%3Ftab%3D1")
        .await;
    assert_eq!(result.status, StatusCode::TEMPORARY_REDIRECT);
    let location = result.location.unwrap();
    assert_eq!(location, "http://localhost:3000/dashboard?tab=1");
    let q = query_of(&location);
    assert!(
        !q.contains_key("code") && !q.contains_key("state"),
        "{location}"
    );
}

#[tokio::test]
async fn error_pages_are_not_cacheable() {
    let h = Harness::new().await;
    let response = h.send(callback_request(Some("x"), None, None)).await;
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "private, no-cache, no-store, must-revalidate, max-age=0"
    );
}

#[tokio::test]
async fn the_success_response_is_not_cacheable() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ))
        .await;
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "private, no-cache, no-store, must-revalidate, max-age=0"
    );
    assert_eq!(response.headers()[header::VARY], "Cookie");
}

// ------------------------------------------------------------------ missing parameters

#[tokio::test]
async fn missing_code_is_missing_auth_params() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let response = h
        .send(callback_request(
            None,
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_failure(response, CallbackErrorCode::MissingAuthParams).await;
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn missing_state_is_missing_auth_params() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let response = h
        .send(callback_request(
            Some(&flow.code),
            None,
            Some(&flow.verifier_pair),
        ))
        .await;
    assert_failure(response, CallbackErrorCode::MissingAuthParams).await;
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn a_code_without_state_or_cookie_never_reaches_workos() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let response = h.send(callback_request(Some(&flow.code), None, None)).await;
    assert_failure(response, CallbackErrorCode::MissingAuthParams).await;
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn empty_code_and_state_count_as_missing() {
    let h = Harness::new().await;
    let response = h.send(callback_request(Some(""), Some(""), None)).await;
    assert_failure(response, CallbackErrorCode::MissingAuthParams).await;
}

// ================================================================== return paths

#[tokio::test]
async fn the_state_return_path_wins_over_the_configured_default() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in?return_to=%2Fcustom-path").await;
    let response = send_with(
        &h,
        CallbackOptions::default().return_pathname("/dashboard"),
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    assert_eq!(location(&response), "http://localhost:3000/custom-path");
}

#[tokio::test]
async fn the_return_path_keeps_every_query_parameter() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let response = finish_restated(&h, &flow, |s| {
        s.return_pathname = Some("/custom-path?foo=bar&baz=qux".into());
    })
    .await;
    assert_eq!(
        location(&response),
        "http://localhost:3000/custom-path?foo=bar&baz=qux"
    );
}

#[tokio::test]
async fn a_full_url_return_path_keeps_only_path_and_query() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let response = finish_restated(&h, &flow, |s| {
        s.return_pathname = Some("https://example.com/invite/k0123456789?x=1".into());
    })
    .await;
    assert_eq!(
        location(&response),
        "http://localhost:3000/invite/k0123456789?x=1"
    );
}

#[tokio::test]
async fn base_url_keeps_the_return_path_and_query() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in?return_to=%2Finvite%3Fcode%3D7").await;
    let response = send_with(
        &h,
        CallbackOptions::default()
            .base_url("https://base.example")
            .unwrap(),
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    assert_eq!(location(&response), "https://base.example/invite?code=7");
}

macro_rules! invalid_base_url {
    ($($name:ident: $url:expr,)*) => {$(
        #[test]
        fn $name() {
            assert!(CallbackOptions::default().base_url($url).is_err(), "{:?}", $url);
        }
    )*};
}

invalid_base_url! {
    a_base_url_that_is_not_a_url_is_rejected: "invalid-url",
    a_relative_base_url_is_rejected: "/app",
    a_base_url_with_another_scheme_is_rejected: "ftp://files.example",
    an_empty_base_url_is_rejected: "",
}

/// A hostile return path sealed into the state (as a compromised or buggy start route
/// could) still lands on this site.
macro_rules! hostile_return_path {
    ($($name:ident: $hostile:expr,)*) => {$(
        #[tokio::test]
        async fn $name() {
            let h = Harness::new().await;
            let flow = h.flow("/auth/sign-in").await;
            let response = finish_restated(&h, &flow, |s| {
                s.return_pathname = Some($hostile.into());
            })
            .await;
            assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
            let target = url::Url::parse(&location(&response)).unwrap();
            assert_eq!(target.scheme(), "http", "{}", $hostile);
            assert_eq!(target.host_str(), Some("localhost"), "{}", $hostile);
            assert_eq!(target.port(), Some(3000), "{}", $hostile);
            assert!(!target.path().starts_with("//"), "{}", target);
        }
    )*};
}

hostile_return_path! {
    a_javascript_url_return_path_stays_on_this_site: "javascript:alert(document.domain)",
    a_data_url_return_path_stays_on_this_site: "data:text/html,<script>alert(1)</script>",
    an_absolute_https_return_path_stays_on_this_site: "https://evil.com/phishing",
    a_protocol_relative_return_path_stays_on_this_site: "//evil.com/phishing",
    a_backslash_return_path_stays_on_this_site: "/\\evil.com/phishing",
    a_single_slash_scheme_return_path_stays_on_this_site: "https:/evil.com",
}

// ================================================================== onSuccess

#[tokio::test]
async fn on_success_gets_the_tokens_that_are_stored() {
    let h = Harness::with(Options {
        auto_approve_as: "grace@example.com",
        ..Options::default()
    })
    .await;
    let (seen, options) = recording();
    let flow = h.flow("/auth/sign-in").await;
    let response = send_with(
        &h,
        options,
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    let stored = unseal(cookie_value(&session_set_cookie(&response).unwrap()));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(
        s.access_token.as_str(),
        stored["accessToken"].as_str().unwrap()
    );
    assert_eq!(s.user.id, stored["user"]["id"].as_str().unwrap());
    assert_eq!(s.authentication_method.as_deref(), Some("GoogleOAuth"));
    assert_eq!(
        s.organization_id.as_deref(),
        token_claims(cookie_value(&session_set_cookie(&response).unwrap()))["org_id"].as_str()
    );
}

#[tokio::test]
async fn on_success_sees_the_impersonator() {
    let h = Harness::with(Options {
        seed: || {
            Seed::from_yaml(
                "users:\n  - email: ada@example.com\n    impersonator:\n      email: grace@example.com\n      reason: support ticket\n",
            )
            .unwrap()
        },
        ..Options::default()
    })
    .await;
    let (seen, options) = recording();
    let flow = h.flow("/auth/sign-in").await;
    let response = send_with(
        &h,
        options,
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    let seen = seen.lock().unwrap();
    let impersonator = seen[0].impersonator.as_ref().expect("an impersonator");
    assert_eq!(impersonator.email, "grace@example.com");
    assert_eq!(impersonator.reason.as_deref(), Some("support ticket"));
    let stored = unseal(cookie_value(&session_set_cookie(&response).unwrap()));
    assert_eq!(stored["impersonator"]["email"], "grace@example.com");
}

#[tokio::test]
async fn custom_state_and_return_path_travel_together() {
    let h = Harness::new().await;
    let (seen, options) = recording();
    let link = h.kit.sign_in_link(&authkit_leptos::SignInOptions {
        state: Some("custom-user-state-string".into()),
        return_to: Some("/dashboard".into()),
        ..Default::default()
    });
    let flow = h.flow(&link).await;
    let response = send_with(
        &h,
        options,
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    assert_eq!(location(&response), "http://localhost:3000/dashboard");
    assert_eq!(
        seen.lock().unwrap()[0].state.as_deref(),
        Some("custom-user-state-string")
    );
}

#[tokio::test]
async fn on_success_state_is_none_without_custom_state() {
    let h = Harness::new().await;
    let (seen, options) = recording();
    let flow = h.flow("/auth/sign-in?return_to=%2Fprofile").await;
    let response = send_with(
        &h,
        options,
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    assert_eq!(location(&response), "http://localhost:3000/profile");
    assert_eq!(seen.lock().unwrap()[0].state, None);
}

#[tokio::test]
async fn a_nonce_only_state_gives_on_success_no_custom_state() {
    let h = Harness::new().await;
    let (seen, options) = recording();
    let flow = h.flow("/auth/sign-in").await;
    let (state, cookie) = restate(&h, &flow, |s| {
        s.return_pathname = None;
        s.custom_state = None;
    });
    let response = send_with(
        &h,
        options,
        callback_request(Some(&flow.code), Some(&state), Some(&cookie)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0].state, None,
        "the nonce is never handed out as state"
    );
}

#[tokio::test]
async fn on_success_is_not_called_when_the_callback_fails() {
    let h = Harness::new().await;
    let (seen, options) = recording();
    let flow = h.flow("/auth/sign-in").await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(400));
    let response = send_with(
        &h,
        options,
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    // nextjs: 500; here WorkOS's 400 is the browser's situation (PARITY.md).
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(seen.lock().unwrap().is_empty());
}

// ================================================================== state verification

#[tokio::test]
async fn an_old_format_state_without_nonce_or_verifier_is_rejected() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let old = authkit_leptos::seal::seal_json(
        &serde_json::json!({ "returnPathname": "/old-path" }),
        &authkit_leptos::PasswordMap::single(PASSWORD),
        Some(std::time::Duration::from_secs(600)),
    )
    .unwrap();
    h.emulator.reset_counters();
    let cookie = format!("{}={old}", pkce_cookie_name(&old));
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&old),
            Some(&cookie),
        ))
        .await;
    assert_failure(response, CallbackErrorCode::InvalidState).await;
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn an_attackers_state_is_rejected_before_any_code_exchange() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    // The browser holds the legitimate flow's cookie; the link carries another state.
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some("attacker-state"),
            Some(&flow.verifier_pair),
        ))
        .await;
    assert_failure(response, CallbackErrorCode::MissingPkceCookie).await;
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn a_valid_state_without_its_cookie_never_reaches_workos() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let response = h
        .send(callback_request(Some(&flow.code), Some(&flow.state), None))
        .await;
    assert_failure(response, CallbackErrorCode::MissingPkceCookie).await;
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn the_missing_cookie_page_says_to_sign_in_again() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let response = h
        .send(callback_request(Some(&flow.code), Some(&flow.state), None))
        .await;
    let page = body_text(response).await;
    assert!(
        page.contains("Sign-in session could not be verified. Please try signing in again."),
        "{page}"
    );
    assert!(page.contains("href=\"/auth/sign-in\""), "{page}");
}

// ================================================================== PKCE

#[tokio::test]
async fn a_wrong_code_verifier_is_refused_by_workos() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let response = finish_restated(&h, &flow, |s| s.code_verifier = "w".repeat(43)).await;
    assert_failure(response, CallbackErrorCode::AuthenticationFailed).await;
    assert_eq!(h.authenticate_calls(), 1, "WorkOS checked the verifier");
}

#[tokio::test]
async fn the_verifier_sealed_in_the_state_is_the_one_sent() {
    // Re-sealing the same verifier under a new state still works: the code exchange
    // uses the verifier from the state the callback received.
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let response = finish_restated(&h, &flow, |s| s.nonce = "another-nonce".into()).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(session_set_cookie(&response).is_some());
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let request = || {
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        )
    };
    assert_eq!(
        h.send(request()).await.status(),
        StatusCode::TEMPORARY_REDIRECT
    );
    // authkit-nextjs sends the replay to WorkOS, which refuses the spent code
    // (`authentication_failed`); here the state is single-use (RFC 9700 §4.7.1), so the
    // replay is refused before any exchange. Either way nobody is signed in.
    let calls = h.authenticate_calls();
    assert_failure(h.send(request()).await, CallbackErrorCode::InvalidState).await;
    assert_eq!(h.authenticate_calls(), calls);
}

#[tokio::test]
async fn a_corrupted_state_is_invalid_state() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let corrupted = "not-a-valid-sealed-value";
    let cookie = format!("{}={corrupted}", pkce_cookie_name(corrupted));
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(corrupted),
            Some(&cookie),
        ))
        .await;
    assert_failure(response, CallbackErrorCode::InvalidState).await;
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn a_tampered_state_is_invalid_state() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let mut tampered = flow.state.clone();
    let i = tampered.len() / 2;
    let flip = if &tampered[i..=i] == "a" { "b" } else { "a" };
    tampered.replace_range(i..=i, flip);
    let cookie = format!("{}={tampered}", pkce_cookie_name(&tampered));
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&tampered),
            Some(&cookie),
        ))
        .await;
    assert_failure(response, CallbackErrorCode::InvalidState).await;
}

#[tokio::test]
async fn a_state_sealed_with_another_password_is_invalid_state() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let mut state = FlowState::unseal(&flow.state, h.kit.config()).unwrap();
    state.nonce = "foreign".into();
    let foreign = authkit_leptos::seal::seal_json(
        &serde_json::to_value(&state).unwrap(),
        &authkit_leptos::PasswordMap::single("a-different-password-that-is-32-chars!"),
        Some(std::time::Duration::from_secs(600)),
    )
    .unwrap();
    let cookie = format!("{}={foreign}", pkce_cookie_name(&foreign));
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&foreign),
            Some(&cookie),
        ))
        .await;
    assert_failure(response, CallbackErrorCode::InvalidState).await;
}

#[tokio::test]
async fn the_flow_cookie_is_deleted_on_success_with_its_attributes() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let name = pkce_cookie_name(&flow.state);
    assert_eq!(
        set_cookie_named(response.headers(), &name).as_deref(),
        Some(
            format!("{name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
                .as_str()
        )
    );
}

#[tokio::test]
async fn the_flow_cookie_is_deleted_when_the_exchange_fails() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(400));
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ))
        .await;
    assert!(deletes_cookie(
        response.headers(),
        &pkce_cookie_name(&flow.state)
    ));
    assert_failure(response, CallbackErrorCode::AuthenticationFailed).await;
}

#[tokio::test]
async fn the_flow_cookie_is_deleted_when_the_state_is_invalid() {
    let h = Harness::new().await;
    let forged = "Fe26.2*1*aa*bb*cc**dd*ee~2";
    let cookie = format!("{}={forged}", pkce_cookie_name(forged));
    let response = h
        .send(callback_request(Some("code"), Some(forged), Some(&cookie)))
        .await;
    assert!(deletes_cookie(
        response.headers(),
        &pkce_cookie_name(forged)
    ));
}

#[tokio::test]
async fn finishing_one_flow_leaves_the_other_flows_cookie_alone() {
    let h = Harness::new().await;
    let a = h.flow("/auth/sign-in?return_to=%2Fa").await;
    let b = h.flow("/auth/sign-in?return_to=%2Fb").await;
    let both = format!("{}; {}", a.verifier_pair, b.verifier_pair);
    let response = h
        .send(callback_request(Some(&a.code), Some(&a.state), Some(&both)))
        .await;
    assert_eq!(location(&response), "http://localhost:3000/a");
    assert!(
        set_cookie_named(response.headers(), &pkce_cookie_name(&b.state)).is_none(),
        "flow B's cookie is untouched"
    );
    // And flow B can still finish.
    let response = h
        .send(callback_request(
            Some(&b.code),
            Some(&b.state),
            Some(&b.verifier_pair),
        ))
        .await;
    assert_eq!(location(&response), "http://localhost:3000/b");
}

#[tokio::test]
async fn the_per_flow_cookie_wins_over_a_legacy_cookie() {
    let h = Harness::new().await;
    let other = h.flow("/auth/sign-in").await;
    let flow = h.flow("/auth/sign-in?return_to=%2Fmine").await;
    let cookies = format!("wos-auth-verifier={}; {}", other.state, flow.verifier_pair);
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&cookies),
        ))
        .await;
    assert_eq!(location(&response), "http://localhost:3000/mine");
}

#[tokio::test]
async fn a_legacy_cookie_flow_uses_its_own_verifier() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in?return_to=%2Flegacy").await;
    h.emulator.reset_counters();
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&format!("wos-auth-verifier={}", flow.state)),
        ))
        .await;
    assert_eq!(location(&response), "http://localhost:3000/legacy");
    assert_eq!(code_exchanges(&h), 1);
}
