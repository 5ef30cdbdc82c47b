//! The sealed state and PKCE (authkit-nextjs `pkce.spec` and the state cases of
//! `authkit-callback-route.spec`): the state's shape and verifier, states that are
//! forged, tampered, foreign, of an old format or another flow's, the flow cookie that must
//! come with them (per flow, or the legacy shared one), and WorkOS checking the verifier.

use crate::support::callback::*;
use crate::support::config::config_from_env;
use crate::support::*;
use authkit_leptos::testing::{pkce_cookie_name, FlowState};
use authkit_leptos::{AuthKitConfig, CallbackErrorCode, PasswordMap};
use base64::Engine as _;
use http::StatusCode;
use std::time::Duration;

fn seal_state(value: serde_json::Value, password: &str) -> String {
    authkit_leptos::seal::seal_json(
        &value,
        &PasswordMap::single(password),
        Some(Duration::from_secs(600)),
    )
    .unwrap()
}

fn test_config() -> AuthKitConfig {
    config_from_env(&[]).unwrap()
}

#[test]
fn a_state_unseals_to_its_nonce_return_path_and_custom_state() {
    // The shape authkit-nextjs seals (camelCase), so either app can finish the other's flow.
    let sealed = seal_state(
        serde_json::json!({
            "nonce": "test-nonce",
            "codeVerifier": "verifier-abc",
            "returnPathname": "/dashboard",
            "customState": "custom",
        }),
        PASSWORD,
    );
    let state = FlowState::unseal(&sealed, &test_config()).unwrap();
    assert_eq!(state.nonce, "test-nonce");
    assert_eq!(state.code_verifier, "verifier-abc");
    assert_eq!(state.return_pathname.as_deref(), Some("/dashboard"));
    assert_eq!(state.custom_state.as_deref(), Some("custom"));
}

#[tokio::test]
async fn the_sealed_state_carries_the_verifier_for_the_challenge() {
    let h = Harness::new().await;
    let response = h.get("/auth/sign-in", None).await;
    let q = query_of(&location(&response));
    let state = FlowState::unseal(&q["state"], h.kit.config()).unwrap();
    assert_eq!(state.code_verifier.len(), 43);
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, state.code_verifier.as_bytes());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
    assert_eq!(q["code_challenge"], challenge);
    assert_eq!(q["code_challenge_method"], "S256");
}

#[test]
fn a_state_without_a_code_verifier_is_rejected() {
    let sealed = seal_state(
        serde_json::json!({"nonce": "test-nonce", "returnPathname": "/dashboard"}),
        PASSWORD,
    );
    assert!(FlowState::unseal(&sealed, &test_config()).is_err());
}

#[test]
fn a_state_without_a_nonce_is_rejected() {
    let sealed = seal_state(
        serde_json::json!({"codeVerifier": "verifier-abc", "returnPathname": "/dashboard"}),
        PASSWORD,
    );
    assert!(FlowState::unseal(&sealed, &test_config()).is_err());
}

#[test]
fn a_corrupted_state_does_not_unseal() {
    assert!(FlowState::unseal("not-a-valid-sealed-value", &test_config()).is_err());
}

#[test]
fn a_state_sealed_with_another_password_does_not_unseal() {
    let sealed = seal_state(
        serde_json::json!({"nonce": "test-nonce", "codeVerifier": "verifier-abc"}),
        "a-different-password-that-is-32-chars!",
    );
    assert!(FlowState::unseal(&sealed, &test_config()).is_err());
}

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

/// A valid code and state without the flow's cookie: `400 missing_pkce_cookie` before
/// WorkOS is asked, on a page that says to sign in again (with the link) and what usually
/// causes it (another host than the redirect URI's, blocked cookies).
#[tokio::test]
async fn a_valid_state_without_its_cookie_never_reaches_workos() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let response = h
        .send(callback_request(Some(&flow.code), Some(&flow.state), None))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (_, page) = failure_page(response, CallbackErrorCode::MissingPkceCookie).await;
    assert_eq!(h.authenticate_calls(), 0);
    assert!(
        page.contains("Sign-in session could not be verified. Please try signing in again."),
        "{page}"
    );
    assert!(page.contains("href=\"/auth/sign-in\""), "{page}");
    assert!(
        page.contains("http://localhost:3000 instead of http://127.0.0.1:3000"),
        "{page}"
    );
    assert!(page.contains("cookies are blocked"), "{page}");
}

#[tokio::test]
async fn a_wrong_code_verifier_is_refused_by_workos() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let response = finish_restated(&h, &flow, |s| s.code_verifier = "w".repeat(43)).await;
    // WorkOS refused the exchange: the browser's situation, not a gateway failure.
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
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
async fn a_corrupted_state_is_invalid_state() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    for corrupted in ["not-a-valid-sealed-value", "Fe26.2*1*aa*bb*cc**dd*ee~2"] {
        let cookie = format!("{}={corrupted}", pkce_cookie_name(corrupted));
        let response = h
            .send(callback_request(
                Some(&flow.code),
                Some(corrupted),
                Some(&cookie),
            ))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{corrupted}");
        assert_failure(response, CallbackErrorCode::InvalidState).await;
    }
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
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_failure(response, CallbackErrorCode::InvalidState).await;
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
    // Flow B with only flow A's cookie: B's cookie is missing.
    expect_error(
        &h,
        callback_request(Some(&b.code), Some(&b.state), Some(&a.verifier_pair)),
        CallbackErrorCode::MissingPkceCookie,
        StatusCode::BAD_REQUEST,
    )
    .await;
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

/// The legacy unsuffixed cookie of authkit-nextjs ≤ 3, holding the state it sealed (no
/// binding): finished with its own verifier when `accept_nextjs_flows` is on (#23 item 3:
/// only then; `callback::binding::a_flow_started_by_authkit_nextjs_is_refused_by_default`).
#[tokio::test]
async fn a_legacy_cookie_flow_uses_its_own_verifier() {
    let h = accepting_nextjs_flows().await;
    let flow = h.flow("/auth/sign-in?return_to=%2Flegacy").await;
    let legacy = nextjs_state(&h, &flow, "/legacy");
    h.emulator.reset_counters();
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&legacy),
            Some(&format!("wos-auth-verifier={legacy}")),
        ))
        .await;
    assert_eq!(location(&response), "http://localhost:3000/legacy");
    assert_eq!(code_exchanges(&h), 1);
}

/// A harness whose callback finishes flows authkit-nextjs started (#23 items 3 and 4).
async fn accepting_nextjs_flows() -> Harness {
    Harness::with(Options {
        builder: |b| b.accept_nextjs_flows(true),
        ..Options::default()
    })
    .await
}

/// `flow`'s verifier in a state sealed as authkit-nextjs seals it (no binding).
fn nextjs_state(h: &Harness, flow: &Flow, return_path: &str) -> String {
    let own = FlowState::unseal(&flow.state, h.kit.config()).unwrap();
    seal_state(
        serde_json::json!({
            "nonce": "nextjs-nonce",
            "codeVerifier": own.code_verifier,
            "returnPathname": return_path,
        }),
        PASSWORD,
    )
}

#[tokio::test]
async fn a_state_that_differs_from_the_cookie_is_a_mismatch() {
    let h = accepting_nextjs_flows().await;
    let (code, state, _) = code_and_state(&h, "/auth/sign-in").await;
    let (_, other_state, _) = code_and_state(&h, "/auth/sign-in").await;
    // The legacy unsuffixed cookie holding another flow's state.
    let cookie = format!("wos-auth-verifier={other_state}");
    expect_error(
        &h,
        callback_request(Some(&code), Some(&state), Some(&cookie)),
        CallbackErrorCode::OauthStateMismatch,
        StatusCode::BAD_REQUEST,
    )
    .await;
}
