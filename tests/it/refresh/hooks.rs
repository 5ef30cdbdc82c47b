//! The refresh hooks: `on_refresh_success` and `on_refresh_error` see the user, the
//! organization and the session, and fire once per exchange however many requests waited
//! for it.

use crate::support::*;
use authkit_leptos::emulator::{Endpoint, Fault};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test]
async fn refresh_hooks_fire_once_per_exchange() {
    static SUCCESS: AtomicUsize = AtomicUsize::new(0);
    static TRANSIENT: AtomicUsize = AtomicUsize::new(0);
    let h = Arc::new(
        Harness::with(Options {
            builder: |b| {
                b.on_refresh_success(|_| {
                    SUCCESS.fetch_add(1, Ordering::SeqCst);
                })
                .on_refresh_error(|f| {
                    if f.error.is_transient() {
                        TRANSIENT.fetch_add(1, Ordering::SeqCst);
                    }
                })
            },
            ..Options::default()
        })
        .await,
    );
    let cookie = Arc::new(h.expired_session().await);
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(503));
    let _ = h.whoami("/", Some(&cookie)).await;
    assert_eq!(TRANSIENT.load(Ordering::SeqCst), 1);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (h, cookie) = (Arc::clone(&h), Arc::clone(&cookie));
        tasks.push(tokio::spawn(
            async move { h.whoami("/", Some(&cookie)).await },
        ));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(SUCCESS.load(Ordering::SeqCst), 1);
}

static SUCCESS_SEEN: Mutex<Vec<(String, Option<String>, String)>> = Mutex::new(Vec::new());

#[tokio::test]
async fn the_refresh_success_hook_sees_the_user_organization_and_session() {
    let h = Harness::with(Options {
        builder: |b| {
            b.on_refresh_success(|s| {
                SUCCESS_SEEN.lock().unwrap().push((
                    s.user.id.clone(),
                    s.organization_id.map(str::to_owned),
                    s.session_id.to_owned(),
                ));
            })
        },
        ..Options::default()
    })
    .await;
    let cookie = h.expired_session().await;
    let before = token_claims(&cookie);
    let (_, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    let seen = SUCCESS_SEEN.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, before["sub"].as_str().unwrap());
    assert_eq!(seen[0].1.as_deref(), before["org_id"].as_str(), "org kept");
    assert_eq!(seen[0].2, before["sid"].as_str().unwrap());
}

static FAILURES_SEEN: Mutex<Vec<(String, bool)>> = Mutex::new(Vec::new());

#[tokio::test]
async fn the_refresh_error_hook_reports_a_terminal_failure() {
    let h = Harness::with(Options {
        builder: |b| {
            b.on_refresh_error(|f| {
                FAILURES_SEEN
                    .lock()
                    .unwrap()
                    .push((f.user_id.to_owned(), f.error.is_transient()));
            })
        },
        ..Options::default()
    })
    .await;
    let cookie = h.expired_session().await;
    let user = unseal(&cookie)["user"]["id"].as_str().unwrap().to_owned();
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let _ = h.whoami("/", Some(&cookie)).await;
    assert_eq!(FAILURES_SEEN.lock().unwrap().clone(), [(user, false)]);
}

static EXPIRED_DURING_ERRORS: Mutex<u32> = Mutex::new(0);

#[tokio::test]
async fn a_token_that_expires_while_the_refresh_is_retried_is_not_served() {
    let h = Harness::with(Options {
        builder: |b| {
            b.on_refresh_error(|_| {
                *EXPIRED_DURING_ERRORS.lock().unwrap() += 1;
            })
        },
        ..Options::default()
    })
    .await;
    // A one-second token: inside the buffer now, expired once the rate-limited refresh
    // has waited its second and failed.
    let cookie = h.sign_in_with_ttl(Duration::from_secs(1)).await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(429).retry_after(1));
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["user"], serde_json::Value::Null);
    assert!(deletes_cookie(response.headers(), "wos-session"));
    assert_eq!(h.authenticate_calls(), 2, "one retry after the 429");
    assert_eq!(*EXPIRED_DURING_ERRORS.lock().unwrap(), 1);
}

static PROACTIVE_SUCCESSES: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[tokio::test]
async fn a_proactive_refresh_fires_the_success_hook() {
    let h = Harness::with(Options {
        builder: |b| {
            b.on_refresh_success(|s| {
                PROACTIVE_SUCCESSES
                    .lock()
                    .unwrap()
                    .push(s.user.email.clone());
            })
        },
        ..Options::default()
    })
    .await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(20), Duration::from_secs(300))
        .await;
    let _ = h.whoami("/", Some(&cookie)).await;
    assert_eq!(
        PROACTIVE_SUCCESSES.lock().unwrap().clone(),
        ["ada@example.com"]
    );
}
