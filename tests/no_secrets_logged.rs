//! Nothing secret is logged: runs the flows that log (sign-in, callback failures, refresh,
//! refresh failures, garbage cookies, sign-out) with every `tracing` event captured at
//! TRACE level, then checks that no password, API key, token, code, verifier or sealed
//! value appears in any of them. (nextest runs each test in its own process, so the
//! global subscriber sees only this test.)

mod authkit_support;

use authkit_leptos::emulator::{Endpoint, Fault};
use authkit_support::*;
use axum::body::Body;
use http::{header, Request};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records every event and span field as text.
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: AtomicU64,
}

struct Writer<'a>(&'a mut String);

impl Visit for Writer<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        span.record(&mut Writer(&mut self.text.lock().unwrap()));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Writer(&mut self.text.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = self.text.lock().unwrap();
        let _ = write!(
            text,
            "\n{} {}:",
            event.metadata().level(),
            event.metadata().target()
        );
        event.record(&mut Writer(&mut text));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs() {
    let text = Arc::new(Mutex::new(String::new()));
    tracing::subscriber::set_global_default(Capture {
        text: Arc::clone(&text),
        next_id: AtomicU64::new(0),
    })
    .expect("the only subscriber in this process");

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
    let flow = authkit_leptos::oauth_state::FlowState::unseal(&state, h.kit.config()).unwrap();
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
