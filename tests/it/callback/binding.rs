//! The flow cookie binds a sign-in to the browser that started it (#23 item 4), with
//! nothing the URLs carry: a callback URL seen by someone else before the user's browser
//! used it (a log, a `Referer`, a proxy, a shoulder) signs in no other browser, asks WorkOS
//! nothing, and does not spend the user's sign-in. Also the flows authkit-nextjs starts
//! (whose cookie holds the state itself, under a per-flow or the legacy unsuffixed name):
//! finished only when `AuthKitBuilder::accept_nextjs_flows` says so (#23 item 3).

use crate::support::callback::*;
use crate::support::*;
use authkit_leptos::testing::{pkce_cookie_name, FlowState};
use authkit_leptos::CallbackErrorCode;
use http::StatusCode;

/// The cookies someone holding only the callback URL can make up: the state itself (as
/// authkit-nextjs's flow cookie holds it) under the flow's name or the legacy one, and
/// junk. None signs in or reaches WorkOS, and the user's own browser still finishes.
#[tokio::test]
async fn a_leaked_callback_url_signs_in_no_other_browser() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in?return_to=%2Fdashboard").await;
    h.emulator.reset_counters();
    let name = pkce_cookie_name(&flow.state);
    for forged in [
        format!("{name}={}", flow.state),
        format!("wos-auth-verifier={}", flow.state),
        format!("{name}=junk"),
        format!("{name}="),
    ] {
        let response = h
            .send(callback_request(
                Some(&flow.code),
                Some(&flow.state),
                Some(&forged),
            ))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{forged:.60}");
        assert!(
            session_set_cookie(&response).is_none(),
            "{forged:.60}: signed in"
        );
        assert_eq!(code_exchanges(&h), 0, "{forged:.60}: WorkOS was asked");
    }
    // The user's own browser, afterwards: the flow was not spent.
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(location(&response), "http://localhost:3000/dashboard");
    assert!(session_set_cookie(&response).is_some());
}

/// The flow cookie's value is a secret of its own: not the state, and nowhere in the
/// authorization URL (which carries the state to WorkOS and back).
#[tokio::test]
async fn the_flow_cookie_holds_nothing_the_urls_carry() {
    let h = Harness::new().await;
    let start = h.get("/auth/sign-in?return_to=%2Fdashboard", None).await;
    let authorize = location(&start);
    let state = query_of(&authorize)["state"].clone();
    let cookie = set_cookie_named(start.headers(), &pkce_cookie_name(&state)).expect("a cookie");
    let value = cookie_value(&cookie);
    assert!(value.len() >= 32, "{value}");
    assert_ne!(value, state);
    assert!(!authorize.contains(value), "{authorize}");
    assert!(!state.contains(value));
}

/// A flow authkit-nextjs started (its state sealed without a binding, the cookie holding
/// the state itself, under its per-flow name or the legacy unsuffixed one): refused by
/// default, before WorkOS is asked.
#[tokio::test]
async fn a_flow_started_by_authkit_nextjs_is_refused_by_default() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in?return_to=%2Fnext").await;
    let unbound = nextjs_state(&h, &flow);
    h.emulator.reset_counters();
    for (cookie, code) in [
        (
            format!("{}={unbound}", pkce_cookie_name(&unbound)),
            CallbackErrorCode::OauthStateMismatch,
        ),
        (
            format!("wos-auth-verifier={unbound}"),
            CallbackErrorCode::MissingPkceCookie,
        ),
    ] {
        expect_error(
            &h,
            callback_request(Some(&flow.code), Some(&unbound), Some(&cookie)),
            code,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    assert_eq!(code_exchanges(&h), 0);
}

/// With `accept_nextjs_flows(true)` the callback finishes flows authkit-nextjs started,
/// under the per-flow name and the legacy one, as authkit-nextjs's own callback does.
#[tokio::test]
async fn accept_nextjs_flows_finishes_them() {
    for legacy in [false, true] {
        let h = Harness::with(Options {
            builder: |b| b.accept_nextjs_flows(true),
            ..Options::default()
        })
        .await;
        let flow = h.flow("/auth/sign-in?return_to=%2Fnext").await;
        let unbound = nextjs_state(&h, &flow);
        let cookie = if legacy {
            format!("wos-auth-verifier={unbound}")
        } else {
            format!("{}={unbound}", pkce_cookie_name(&unbound))
        };
        let response = h
            .send(callback_request(
                Some(&flow.code),
                Some(&unbound),
                Some(&cookie),
            ))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::TEMPORARY_REDIRECT,
            "{legacy}"
        );
        assert_eq!(location(&response), "http://localhost:3000/next");
        // This crate's own flows stay bound: the state as the cookie is still refused.
        let own = h.flow("/auth/sign-in").await;
        expect_error(
            &h,
            callback_request(
                Some(&own.code),
                Some(&own.state),
                Some(&format!("{}={}", pkce_cookie_name(&own.state), own.state)),
            ),
            CallbackErrorCode::OauthStateMismatch,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
}

/// The flow's state as authkit-nextjs seals it: `{nonce, codeVerifier, returnPathname}`
/// (the verifier of `flow`, so WorkOS accepts the code), with no binding.
fn nextjs_state(h: &Harness, flow: &Flow) -> String {
    let own = FlowState::unseal(&flow.state, h.kit.config()).unwrap();
    authkit_leptos::seal::seal_json(
        &serde_json::json!({
            "nonce": "a-nextjs-nonce",
            "codeVerifier": own.code_verifier,
            "returnPathname": "/next",
        }),
        &authkit_leptos::PasswordMap::single(PASSWORD),
        Some(std::time::Duration::from_secs(600)),
    )
    .unwrap()
}
