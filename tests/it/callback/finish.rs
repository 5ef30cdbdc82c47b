//! The callback route (authkit-nextjs `handleAuth`, `authkit-callback-route.spec`) with
//! codes the emulator issued for real PKCE flows: a success stores the session and
//! returns, a failure shows an error page (never a session), `on_success` / `on_error`
//! see what happened.

use crate::support::callback::*;
use crate::support::*;
use authkit_leptos::emulator::{Endpoint, Fault, Seed};
use authkit_leptos::testing::pkce_cookie_name;
use authkit_leptos::{CallbackErrorCode, CallbackOptions};
use axum::body::Body;
use axum::response::IntoResponse;
use http::{header, Request, StatusCode};

/// A callback whose state matches its flow cookie exchanges the code once, stores the
/// session (whitelisted fields, camelCase, the default cookie attributes), deletes the
/// flow cookie (with its attributes, as authkit-nextjs writes the deletion) and returns to
/// the sealed return path — exactly it, so no `code` or `state` in the URL.
#[tokio::test]
async fn a_successful_callback_stores_the_session_and_returns() {
    let h = Harness::new().await;
    let result = h
        .sign_in_with("/auth/sign-in?return_to=%2Fdashboard%3Ftab%3D2")
        .await;
    assert_eq!(result.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        result.location.as_deref(),
        Some("http://localhost:3000/dashboard?tab=2")
    );
    assert_eq!(code_exchanges(&h), 1, "the code is exchanged once");
    let session_cookie = result
        .cookies
        .iter()
        .find(|c| c.starts_with("wos-session="))
        .unwrap();
    assert!(
        session_cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000"),
        "{session_cookie}"
    );
    let verifier_name = result.verifier_pair.split('=').next().unwrap();
    assert_eq!(
        result
            .cookies
            .iter()
            .find(|c| c.split_once('=').is_some_and(|(n, _)| n == verifier_name))
            .map(String::as_str),
        Some(
            format!("{verifier_name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
                .as_str()
        ),
        "the flow cookie is deleted: {:?}",
        result.cookies
    );
    let session = unseal(&result.session);
    let keys: Vec<&String> = session.as_object().unwrap().keys().collect();
    assert!(
        keys.iter().all(|k| [
            "accessToken",
            "refreshToken",
            "user",
            "impersonator",
            "authenticationMethod"
        ]
        .contains(&k.as_str())),
        "whitelist only: {keys:?}"
    );
    assert_eq!(session["user"]["email"], "ada@example.com");
    assert!(
        session["user"].get("emailVerified").is_some(),
        "camelCase user"
    );
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
    let cookies = assert_failure(response, CallbackErrorCode::MissingAuthParams).await;
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&pkce_cookie_name(&flow.state)) && c.contains("Max-Age=0")),
        "the flow cookie is deleted on failure: {cookies:?}"
    );
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
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_failure(response, CallbackErrorCode::MissingAuthParams).await;
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn empty_code_and_state_count_as_missing() {
    let h = Harness::new().await;
    let response = h.send(callback_request(Some(""), Some(""), None)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_failure(response, CallbackErrorCode::MissingAuthParams).await;
    // No parameters at all.
    expect_error(
        &h,
        Request::get("/callback").body(Body::empty()).unwrap(),
        CallbackErrorCode::MissingAuthParams,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn workos_without_tokens_is_missing_tokens() {
    let h = Harness::new().await;
    let (code, state, pair) = code_and_state(&h, "/auth/sign-in").await;
    let user = serde_json::json!({"object":"user","id":"user_1","email":"a@b.c","email_verified":true,"created_at":"x","updated_at":"x"});
    h.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::status(200).body(serde_json::json!({ "user": user })),
    );
    expect_error(
        &h,
        callback_request(Some(&code), Some(&state), Some(&pair)),
        CallbackErrorCode::MissingTokens,
        StatusCode::BAD_GATEWAY,
    )
    .await;
}

#[tokio::test]
async fn a_cancelled_sign_in_shows_a_page() {
    let h = Harness::new().await;
    let (_, state, pair) = code_and_state(&h, "/auth/sign-in").await;
    let path = format!(
        "/callback?error=access_denied&error_description=User+cancelled&state={}",
        url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>()
    );
    let response = h
        .send(
            Request::get(path.as_str())
                .header(header::COOKIE, pair)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        set_cookies(response.headers())
            .iter()
            .any(|c| c.contains("Max-Age=0")),
        "verifier deleted"
    );
    let page = body_text(response).await;
    assert!(page.contains("Sign-in was cancelled"));
    assert!(
        !page.contains("User cancelled"),
        "query text is never shown on this origin"
    );
}

#[tokio::test]
async fn on_error_replaces_the_page_and_the_verifier_is_still_deleted() {
    let h = Harness::new().await;
    let app = h
        .kit
        .routes_with::<()>(CallbackOptions::default().on_error(|e| {
            (
                StatusCode::IM_A_TEAPOT,
                format!("custom: {}", e.code.as_str()),
            )
                .into_response()
        }));
    let (_, state, pair) = code_and_state(&h, "/auth/sign-in").await;
    let response =
        tower::ServiceExt::oneshot(app, callback_request(None, Some(&state), Some(&pair)))
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert!(set_cookies(response.headers())
        .iter()
        .any(|c| c.starts_with(&pkce_cookie_name(&state)) && c.contains("Max-Age=0")));
    assert_eq!(body_text(response).await, "custom: missing_auth_params");
}

#[tokio::test]
async fn the_authentication_method_is_persisted() {
    let h = Harness::with(Options {
        auto_approve_as: "grace@example.com",
        ..Options::default()
    })
    .await;
    let result = h.sign_in_with("/auth/sign-in").await;
    let session = unseal(&result.session);
    assert_eq!(session["user"]["email"], "grace@example.com");
    assert_eq!(session["authenticationMethod"], "GoogleOAuth");
}

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
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "on_success is called once");
    assert_eq!(seen[0].user.email, "ada@example.com");
    assert_eq!(
        seen[0].state.as_deref(),
        Some("custom-user-state-string"),
        "custom state, not the nonce"
    );
    assert!(seen[0].organization_id.is_some());
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
