//! Nothing secret is logged: runs the flows that log (sign-in, callback failures, refresh,
//! refresh failures, garbage cookies, sign-out) with every `tracing` event captured at
//! TRACE level, then checks that no password, API key, token, code, verifier or sealed
//! value appears in any of them. (nextest runs each test in its own process, so the
//! global subscriber sees only this test.)

use crate::support::*;
use authkit_leptos::emulator::{Endpoint, Fault};
use axum::body::Body;
use http::{header, Request};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs() {
    let text = capture::install();

    let h = Harness::new().await;
    let mut secrets: Vec<String> = vec![PASSWORD.to_owned(), h.emulator.api_key().to_owned()];

    // A full sign-in; keep every secret it produced.
    let result = h.sign_in_with("/auth/sign-in?return_to=%2Fdashboard").await;
    let session = unseal(&result.session);
    secrets.push(result.session.clone());
    secrets.push(session["accessToken"].as_str().unwrap().to_owned());
    secrets.push(session["refreshToken"].as_str().unwrap().to_owned());
    let callback_query = query_of(&format!("http://x.invalid{}", result.callback));
    let state = callback_query["state"].clone();
    secrets.push(callback_query["code"].clone());
    secrets.push(state.clone());
    let flow = authkit_leptos::testing::FlowState::unseal(&state, h.kit.config()).unwrap();
    secrets.push(flow.code_verifier.clone());

    // The code again (replayed: WorkOS refuses it, the callback logs the failure).
    let replay = h
        .send(
            Request::get(result.callback.as_str())
                .header(header::COOKIE, result.verifier_pair.clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(replay.status().as_u16(), 400);

    // Garbage and foreign cookies.
    let _ = h.whoami("/", Some("Fe26.2*1*garbage~2")).await;

    // Refresh: transient failure, then success, then a refused (used) token.
    h.emulator.set_token_ttl(Duration::ZERO);
    let expired = h.sign_in().await;
    h.emulator.set_token_ttl(Duration::from_secs(300));
    let expired_session = unseal(&expired);
    secrets.push(expired.clone());
    secrets.push(expired_session["refreshToken"].as_str().unwrap().to_owned());
    secrets.push(expired_session["accessToken"].as_str().unwrap().to_owned());
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(503));
    let _ = h.whoami("/", Some(&expired)).await;
    let (response, _) = h.whoami("/", Some(&expired)).await;
    let refreshed = session_set_cookie(&response).unwrap();
    let refreshed = refreshed
        .strip_prefix("wos-session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let refreshed_session = unseal(refreshed);
    secrets.push(refreshed.to_owned());
    secrets.push(
        refreshed_session["accessToken"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    secrets.push(
        refreshed_session["refreshToken"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let used = h
        .kit
        .client()
        .authenticate_with_refresh_token(expired_session["refreshToken"].as_str().unwrap(), None)
        .await;
    assert!(used.is_err());

    // Sign out.
    let _ = h
        .send(
            Request::post("/auth/sign-out")
                .header(header::COOKIE, format!("wos-session={refreshed}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;

    let logs = text.lock().unwrap().clone();
    assert!(
        logs.lines().count() > 5,
        "the flows did log something: {logs}"
    );
    for secret in &secrets {
        assert!(secret.len() >= 8, "a real secret: {secret}");
        assert!(
            !logs.contains(secret.as_str()),
            "a secret ({}…) is in the logs:\n{logs}",
            &secret[..8]
        );
    }
}
