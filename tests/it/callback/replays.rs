//! #11 Replays, through the real router and the emulator over loopback: a used
//! authorization code, a used `state`, a used refresh token and a sealed sign-in state
//! (the `wos-auth-verifier-…` cookie's value) presented again after the sign-in they
//! belonged to completed. Each is refused with a clear answer (an error page with a way to
//! sign in again, or "signed out" with the cookie deleted), never a `5xx`, and none signs
//! anyone in.
//!
//! Also here: the back button while signed in (a completed callback replayed by the browser
//! that holds the session lands on the return path, no new cookie):
//! `replaying_a_completed_callback_while_signed_in_lands_on_the_return_path`.
//!
//! Covered elsewhere, and not repeated here:
//! - an old cookie inside the refresh grace period gets the same new session (no
//!   `invalid_grant`): `refresh::races::a_late_request_with_the_old_cookie_gets_the_same_new_session`;
//!   after a sign-out neither the old nor the refreshed cookie works:
//!   `sign_out::after_signing_out_*`;
//! - the emulator alone: codes and refresh tokens are single use
//!   (the emulator crate's `oauth::codes_are_single_use_and_bound_to_the_pkce_verifier`,
//!   `oauth::refresh_tokens_are_single_use_and_rotated`).
//!
//! The sign-in state is a sealed `{nonce, codeVerifier, returnPathname}` with a 10-minute
//! lifetime, whose value is also the flow cookie's, as in authkit-nextjs — and, unlike
//! there, single-use (RFC 9700 §4.7.1): the first callback that presents it records its
//! nonce (in memory, and in Redis when a refresh store is configured), so any later
//! callback with the same state is refused before WorkOS is asked, even with a fresh code
//! for its own PKCE challenge
//! (`a_used_state_is_refused_even_with_a_new_authorization_for_its_own_challenge`).

use crate::support::callback::{callback_request, code_and_state, code_exchanges};
use crate::support::*;
use authkit_leptos::emulator::Endpoint;
use authkit_leptos::seal;
use authkit_leptos::testing::{pkce_cookie_name, FlowState, PKCE_STATE_TTL};
use axum::body::Body;
use http::{header, Response, StatusCode};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A refused callback: `400`, the error page naming `code` with a link to sign in again,
/// no session cookie, the flow cookie deleted, and nothing cacheable.
async fn assert_refused(response: Response<Body>, code: &str, state: &str) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{code}");
    assert!(
        session_set_cookie(&response).is_none(),
        "{code}: a session cookie was written"
    );
    assert!(
        deletes_cookie(response.headers(), &pkce_cookie_name(state)),
        "{code}: the flow cookie is not deleted: {:?}",
        set_cookies(response.headers())
    );
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "private, no-cache, no-store, must-revalidate, max-age=0"
    );
    let page = body_text(response).await;
    assert!(page.contains("Couldn't sign you in"), "{code}: {page}");
    assert!(
        page.contains(&format!("<code>{code}</code>")),
        "{code}: {page}"
    );
    assert!(page.contains("href=\"/auth/sign-in\""), "{code}: {page}");
}

/// A completed sign-in as Ada: the flow (its code and state now used) and the session.
async fn completed(h: &Harness) -> (Flow, String) {
    let flow = h.flow("/auth/sign-in?return_to=%2Fdashboard").await;
    let response = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let session = cookie_value(&session_set_cookie(&response).expect("signed in")).to_owned();
    assert_eq!(unseal(&session)["user"]["email"], "ada@example.com");
    (flow, session)
}

/// Asks the emulator again for a code through `authorize_url` (the same PKCE challenge and
/// state), as `login_hint`.
async fn authorize_again(authorize_url: &str, login_hint: &str) -> String {
    let mut url = url::Url::parse(authorize_url).unwrap();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "login_hint")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("login_hint", login_hint);
    let back = http_client().get(url.as_str()).send().await.unwrap();
    assert_eq!(back.status().as_u16(), 302);
    query_of(back.headers()["location"].to_str().unwrap())["code"].clone()
}

// ================================================================== a used code

/// A used authorization code, replayed from a browser that holds no session (the callback
/// URL copied from the history, a log or a `Referer`): with the flow cookie the used state
/// is refused, without it the missing cookie is; nothing is exchanged, a `400` error page,
/// no session. Paired with a fresh flow's state and cookie, the old code is
/// refused too (it is spent, and bound to another PKCE challenge).
#[tokio::test]
async fn a_used_code_replayed_by_a_signed_out_browser_signs_nobody_in() {
    let h = Harness::new().await;
    let (used, _) = completed(&h).await;
    h.emulator.reset_counters();

    let replay = h
        .send(callback_request(
            Some(&used.code),
            Some(&used.state),
            Some(&used.verifier_pair),
        ))
        .await;
    assert_refused(replay, "invalid_state", &used.state).await;
    assert_eq!(
        code_exchanges(&h),
        0,
        "the used state is refused before WorkOS"
    );

    let replay = h
        .send(callback_request(Some(&used.code), Some(&used.state), None))
        .await;
    assert_refused(replay, "missing_pkce_cookie", &used.state).await;
    assert_eq!(code_exchanges(&h), 0, "no exchange without the flow cookie");

    // The old code with a new flow's state and cookie.
    let fresh = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let replay = h
        .send(callback_request(
            Some(&used.code),
            Some(&fresh.state),
            Some(&fresh.verifier_pair),
        ))
        .await;
    assert_refused(replay, "authentication_failed", &fresh.state).await;
    assert_eq!(code_exchanges(&h), 1);
    assert_eq!(h.emulator.active_sessions(), 1, "only the first sign-in");
}

/// Two callbacks racing with one code (a double click, a replay fired while the first is
/// in flight): the state is used once, so exactly one reaches WorkOS and signs in; the
/// other gets the error page.
#[tokio::test]
async fn two_callbacks_racing_with_one_code_sign_in_once() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    let (a, b) = tokio::join!(
        h.send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair)
        )),
        h.send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair)
        )),
    );
    let (signed_in, refused) = if a.status() == StatusCode::TEMPORARY_REDIRECT {
        (a, b)
    } else {
        (b, a)
    };
    assert_eq!(signed_in.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(session_set_cookie(&signed_in).is_some());
    assert_refused(refused, "invalid_state", &flow.state).await;
    assert_eq!(code_exchanges(&h), 1);
    assert_eq!(h.emulator.active_sessions(), 1);
}

// ================================================================== a used state

/// A used state (and its flow cookie, kept by whoever copied it) with a fresh code from
/// another flow: refused as used before any exchange (and WorkOS would refuse it too: the
/// code's PKCE challenge is not the one whose verifier the state seals). With only the
/// other flow's cookie, the browser holds no cookie for the state and nothing is
/// exchanged. The other flow itself still completes.
#[tokio::test]
async fn a_used_state_with_a_fresh_code_from_another_flow_is_refused() {
    let h = Harness::new().await;
    let (used, _) = completed(&h).await;
    let other = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();

    let replay = h
        .send(callback_request(
            Some(&other.code),
            Some(&used.state),
            Some(&other.verifier_pair),
        ))
        .await;
    assert_refused(replay, "missing_pkce_cookie", &used.state).await;
    assert_eq!(code_exchanges(&h), 0);

    let replay = h
        .send(callback_request(
            Some(&other.code),
            Some(&used.state),
            Some(&used.verifier_pair),
        ))
        .await;
    assert_refused(replay, "invalid_state", &used.state).await;
    assert_eq!(code_exchanges(&h), 0, "refused before WorkOS");
    assert_eq!(h.emulator.active_sessions(), 1, "only the first sign-in");

    let own = h
        .send(callback_request(
            Some(&other.code),
            Some(&other.state),
            Some(&other.verifier_pair),
        ))
        .await;
    assert_eq!(own.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(session_set_cookie(&own).is_some());
}

/// A used state within its lifetime, with a code from a new authorization for its own
/// PKCE challenge (its authorization URL opened again, here as another user, in a browser
/// that kept the flow cookie): refused as used, before WorkOS is asked, although the code
/// and the verifier match. (authkit-nextjs's stateless state would complete this sign-in.)
#[tokio::test]
async fn a_used_state_is_refused_even_with_a_new_authorization_for_its_own_challenge() {
    let h = Harness::new().await;
    let (used, _) = completed(&h).await;
    h.emulator.reset_counters();
    let code = authorize_again(&used.authorize_url, "grace@example.com").await;
    assert_eq!(h.emulator.counters().get(Endpoint::Authorize), 1);
    let response = h
        .send(callback_request(
            Some(&code),
            Some(&used.state),
            Some(&used.verifier_pair),
        ))
        .await;
    assert_refused(response, "invalid_state", &used.state).await;
    assert_eq!(code_exchanges(&h), 0);
    assert_eq!(h.emulator.active_sessions(), 1, "only the first sign-in");
}

/// The same used state once its 10-minute lifetime (plus iron's 60 s skew) is over: refused
/// before anything is exchanged, even with a fresh code for its own challenge. (The
/// crate's clock cannot be moved, so the state is sealed again with the same content as it
/// would have been 11 minutes earlier.) Nine minutes old, it would still be read.
#[tokio::test]
async fn a_used_state_past_its_lifetime_is_refused_before_any_exchange() {
    let h = Harness::new().await;
    let (used, _) = completed(&h).await;
    let code = authorize_again(&used.authorize_url, "ada@example.com").await;
    let state = FlowState::unseal(&used.state, h.kit.config()).unwrap();
    let now_ms = u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let sealed_ago = |ago: Duration| {
        let at = now_ms - u64::try_from(ago.as_millis()).unwrap();
        seal::seal_at(&state, h.kit.config().passwords(), Some(PKCE_STATE_TTL), at).unwrap()
    };
    h.emulator.reset_counters();

    let stale = sealed_ago(Duration::from_secs(11 * 60 + 1));
    let cookie = format!("{}={stale}", pkce_cookie_name(&stale));
    let replay = h
        .send(callback_request(Some(&code), Some(&stale), Some(&cookie)))
        .await;
    assert_refused(replay, "invalid_state", &stale).await;
    assert_eq!(code_exchanges(&h), 0, "refused before the exchange");

    let recent = sealed_ago(Duration::from_secs(9 * 60));
    assert!(
        FlowState::unseal(&recent, h.kit.config()).is_ok(),
        "the lifetime, not the re-sealing, refused it"
    );
}

// ================================================================== a used refresh token

/// A used refresh token: an expired session is refreshed once (its refresh token rotated),
/// then the old cookie comes back after the grace period (here zero: `refresh_grace`).
/// WorkOS refuses the spent token (`invalid_grant`), so the old cookie reads as signed out
/// and is deleted, and a protected page sends it to sign in — one refused exchange per
/// request. The refreshed session is untouched. (An old cookie whose access token has not
/// expired yet keeps working until it does: the access token is a JWT, valid on its own.)
#[tokio::test]
async fn a_rotated_refresh_token_replayed_after_the_grace_period_is_signed_out() {
    let h = Harness::with(Options {
        builder: |b| b.refresh_grace(Duration::ZERO),
        layer: |l| l.middleware_auth(["/"]).unwrap(),
        ..Options::default()
    })
    .await;
    let old = h.expired_session().await;

    let (response, body) = h.whoami("/", Some(&old)).await;
    assert_eq!(body["email"], "ada@example.com");
    let new = cookie_value(&session_set_cookie(&response).expect("refreshed")).to_owned();
    assert_ne!(
        unseal(&new)["refreshToken"],
        unseal(&old)["refreshToken"],
        "rotated"
    );
    assert_eq!(h.refresh_exchanges(), 1);

    let (response, body) = h.whoami("/", Some(&old)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["user"], serde_json::Value::Null, "{body}");
    assert!(deletes_cookie(response.headers(), "wos-session"));
    assert_eq!(h.refresh_exchanges(), 2, "the spent token was refused");

    let response = h.get("/dashboard", Some(&old)).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(location(&response).starts_with(&format!(
        "{}/user_management/authorize?",
        h.emulator.base_url()
    )));
    assert!(deletes_cookie(response.headers(), "wos-session"));
    assert_eq!(h.refresh_exchanges(), 3);

    let (response, body) = h.whoami("/dashboard", Some(&new)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["email"], "ada@example.com");
    assert!(session_set_cookie(&response).is_none());
    assert_eq!(h.refresh_exchanges(), 3, "the new session needs no refresh");
}

// ================================================================== sealed values in the wrong place

/// A sealed value replayed where another kind is expected (both are sealed with the
/// cookie password): a used sign-in state sent as the session cookie reads as signed out
/// (deleted, nothing asked of WorkOS), and a session sent as the `state` (with a matching
/// flow cookie) is an invalid state, exchanged for nothing.
#[tokio::test]
async fn a_sealed_state_is_not_a_session_and_a_session_is_not_a_state() {
    let h = Harness::new().await;
    let (used, session) = completed(&h).await;
    h.emulator.reset_counters();

    let (response, body) = h.whoami("/", Some(&used.state)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["user"], serde_json::Value::Null, "{body}");
    assert!(deletes_cookie(response.headers(), "wos-session"));

    let cookie = format!("{}={session}", pkce_cookie_name(&session));
    let replay = h
        .send(callback_request(
            Some(&used.code),
            Some(&session),
            Some(&cookie),
        ))
        .await;
    assert_refused(replay, "invalid_state", &session).await;
    assert_eq!(h.authenticate_calls(), 0);
}

/// The back button after signing in replays the callback URL: a browser that holds a
/// session lands on the return path (with or without the flow cookie still there), not on
/// an error page; without a session a replayed code is a 400, never a 5xx.
#[tokio::test]
async fn replaying_a_completed_callback_while_signed_in_lands_on_the_return_path() {
    let h = Harness::new().await;
    let (code, state, pair) =
        code_and_state(&h, "/auth/sign-in?return_to=%2Fdashboard%3Ftab%3D2").await;
    let first = h
        .send(callback_request(Some(&code), Some(&state), Some(&pair)))
        .await;
    assert_eq!(first.status(), StatusCode::TEMPORARY_REDIRECT);
    let session = cookie_value(&session_set_cookie(&first).unwrap()).to_owned();
    let session_pair = format!("wos-session={session}");
    for cookie in [session_pair.clone(), format!("{pair}; {session_pair}")] {
        let replay = h
            .send(callback_request(Some(&code), Some(&state), Some(&cookie)))
            .await;
        assert_eq!(replay.status(), StatusCode::SEE_OTHER, "{cookie}");
        assert_eq!(location(&replay), "http://localhost:3000/dashboard?tab=2");
        assert!(
            session_set_cookie(&replay).is_none(),
            "the session stays as it is"
        );
    }
    // Signed out, the replay is the user's situation: 400 with or without the flow cookie.
    for cookie in [Some(pair.as_str()), None] {
        let replay = h
            .send(callback_request(Some(&code), Some(&state), cookie))
            .await;
        assert_eq!(replay.status(), StatusCode::BAD_REQUEST, "{cookie:?}");
    }
    // A garbage session cookie is not "signed in".
    let replay = h
        .send(callback_request(
            Some(&code),
            Some(&state),
            Some("wos-session=Fe26.2*garbage"),
        ))
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
}
