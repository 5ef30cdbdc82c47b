//! Sessions end when WorkOS says so (#25): a verified webhook that revokes a session signs it
//! out at its next request — long before its access token expires — on every replica; a
//! forged, re-timed or replayed delivery is refused and changes nothing.

use crate::support::redis_server::RedisServer;
use crate::support::*;
use authkit_leptos::testing::{sign_webhook, EmulatorConfig as _};
use authkit_leptos::{AuthKit, RedisRefreshStore};
use axum::body::Body;
use axum::Router;
use http::{header, Request, StatusCode};
use std::time::{Duration, Instant};
use tower::ServiceExt as _;

const SECRET: &str = "whsec_emulator_test";

fn with_webhooks(c: authkit_leptos::AuthKitConfigBuilder) -> authkit_leptos::AuthKitConfigBuilder {
    c.webhook_secret(SECRET)
}

fn event_json(kind: &str, data: serde_json::Value) -> String {
    serde_json::json!({
        "object": "event",
        "id": format!("event_{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()),
        "event": kind,
        "data": data,
        "created_at": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
    })
    .to_string()
}

async fn deliver(app: &Router, body: &str, signature: Option<String>) -> StatusCode {
    let mut request =
        Request::post("/auth/webhooks").header(header::CONTENT_TYPE, "application/json");
    if let Some(signature) = signature {
        request = request.header("WorkOS-Signature", signature);
    }
    app.clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap()
        .status()
}

/// The user the test handler sees for `cookie`.
async fn email(h: &Harness, cookie: &str) -> serde_json::Value {
    h.whoami("/dashboard", Some(cookie)).await.1["email"].clone()
}

fn sid(cookie: &str) -> String {
    token_claims(cookie)["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_revoked_session_is_signed_out_at_its_next_request() {
    let h = Harness::with(Options {
        config: with_webhooks,
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    let other_browser = h.sign_in().await;
    assert_eq!(email(&h, &cookie).await, "ada@example.com");

    let body = event_json(
        "session.revoked",
        serde_json::json!({ "object": "session", "id": sid(&cookie), "user_id": "x", "status": "revoked" }),
    );
    assert_eq!(
        deliver(&h.app, &body, Some(sign_webhook(SECRET, body.as_bytes()))).await,
        StatusCode::OK
    );

    // The access token has minutes left; the session ends now.
    let (response, json) = h.whoami("/dashboard", Some(&cookie)).await;
    assert!(
        deletes_cookie(response.headers(), "wos-session"),
        "the cookie is deleted"
    );
    assert_eq!(json["email"], serde_json::Value::Null);
    assert_eq!(h.refresh_exchanges(), 0, "no WorkOS call was needed");
    // Ada's other session is not that one.
    assert_eq!(email(&h, &other_browser).await, "ada@example.com");
}

#[tokio::test]
async fn forged_retimed_and_replayed_deliveries_are_refused_and_change_nothing() {
    let h = Harness::with(Options {
        config: with_webhooks,
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    let body = event_json(
        "session.revoked",
        serde_json::json!({ "object": "session", "id": sid(&cookie) }),
    );
    let good = sign_webhook(SECRET, body.as_bytes());
    let forged = sign_webhook("whsec_not_the_secret", body.as_bytes());
    let (t, v1) = good.split_once(", ").unwrap();
    let t: u64 = t.trim_start_matches("t=").parse().unwrap();
    let retimed = format!("t={}, {v1}", t + 1);
    let old = {
        // Signed correctly, four minutes ago.
        let then = t - 240_000;
        let mac = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET.as_bytes()),
            format!("{then}.{body}").as_bytes(),
        );
        let hex: String = mac.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("t={then}, v1={hex}")
    };
    for (what, signature, status) in [
        ("no signature", None, StatusCode::BAD_REQUEST),
        (
            "garbage",
            Some("nonsense".to_owned()),
            StatusCode::BAD_REQUEST,
        ),
        ("forged", Some(forged), StatusCode::UNAUTHORIZED),
        ("re-timed", Some(retimed), StatusCode::UNAUTHORIZED),
        ("outside the tolerance", Some(old), StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(deliver(&h.app, &body, signature).await, status, "{what}");
        assert_eq!(
            email(&h, &cookie).await,
            "ada@example.com",
            "{what} changed nothing"
        );
    }
    // The body changed under a good signature.
    let tampered = body.replace("session.revoked", "user.deleted");
    assert_eq!(
        deliver(&h.app, &tampered, Some(good.clone())).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(email(&h, &cookie).await, "ada@example.com");

    // The genuine delivery works once; replayed as it is, it is refused.
    assert_eq!(
        deliver(&h.app, &body, Some(good.clone())).await,
        StatusCode::OK
    );
    assert_eq!(
        deliver(&h.app, &body, Some(good)).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn without_a_secret_there_is_no_webhook_route() {
    let h = Harness::new().await;
    let body = event_json("session.revoked", serde_json::json!({ "id": "session_x" }));
    assert_eq!(
        deliver(&h.app, &body, Some(sign_webhook(SECRET, body.as_bytes()))).await,
        StatusCode::NOT_FOUND
    );
}

/// Two replicas on one Redis: the webhook reaches replica A only (as a balancer sends it);
/// within a second the session is signed out on replica B too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_received_by_one_replica_applies_on_the_other_within_a_second() {
    let redis = RedisServer::start();
    let (emulator, _) = emulator_and_kit(&Options::default()).await;
    let kit = || {
        let config = emulator
            .config_builder()
            .redirect_uri(REDIRECT_URI)
            .cookie_password(PASSWORD)
            .webhook_secret(SECRET)
            .build()
            .unwrap();
        AuthKit::builder(config)
            .refresh_store(RedisRefreshStore::open(&redis.url()).unwrap())
            .build()
            .unwrap()
    };
    let (kit_a, kit_b) = (kit(), kit());
    let app = |kit: &AuthKit| test_routes().merge(kit.routes()).layer(kit.layer());
    let a = Harness {
        emulator,
        app: app(&kit_a),
        kit: kit_a,
        user: "ada@example.com",
    };
    let b = app(&kit_b);
    let cookie = a.sign_in().await;
    let on_b = |cookie: String| {
        let b = b.clone();
        async move {
            let response = b
                .oneshot(
                    Request::get("/dashboard")
                        .header(header::COOKIE, format!("wos-session={cookie}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let deleted = deletes_cookie(response.headers(), "wos-session");
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            (json["email"].clone(), deleted)
        }
    };
    // B has served the session (its reader of the shared log is running).
    assert_eq!(on_b(cookie.clone()).await.0, "ada@example.com");

    let body = event_json(
        "session.revoked",
        serde_json::json!({ "object": "session", "id": sid(&cookie) }),
    );
    let delivered = Instant::now();
    assert_eq!(
        deliver(&a.app, &body, Some(sign_webhook(SECRET, body.as_bytes()))).await,
        StatusCode::OK
    );
    loop {
        let (email, deleted) = on_b(cookie.clone()).await;
        if email.is_null() {
            assert!(deleted, "B deletes the cookie");
            break;
        }
        assert!(
            delivered.elapsed() < Duration::from_secs(1),
            "B still serves the revoked session after {:?}",
            delivered.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(a.refresh_exchanges(), 0);
}

// ------------------------------------------------------------------ with the emulator's events

/// The app served on a loopback port the emulator delivers its webhooks to: Ada signs in,
/// and WorkOS's own events (signed by the emulator) reach `/auth/webhooks`.
struct Served {
    h: Harness,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn served() -> Served {
    use authkit_leptos::emulator::{Emulator, Seed};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let emulator = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve_as("ada@example.com")
        .webhook(format!("http://127.0.0.1:{port}/auth/webhooks"), SECRET)
        .start()
        .await
        .unwrap();
    let config = emulator
        .config_builder()
        .redirect_uri(REDIRECT_URI)
        .cookie_password(PASSWORD)
        .webhook_secret(SECRET)
        .build()
        .unwrap();
    let kit = AuthKit::new(config).unwrap();
    let app = test_routes().merge(kit.routes()).layer(kit.layer());
    let task = tokio::spawn({
        let app = app.clone();
        async move {
            let _ = axum::serve(listener, app).await;
        }
    });
    Served {
        h: Harness {
            emulator,
            kit,
            app,
            user: "ada@example.com",
        },
        task,
    }
}

/// A role changed in WorkOS shows at the next request, without signing in again: one
/// refresh, then the new role (and the token's permissions with it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_changed_in_workos_shows_at_the_next_request() {
    let s = served().await;
    let h = &s.h;
    let cookie = h.sign_in().await;
    let claims = token_claims(&cookie);
    assert_eq!(claims["role"], "admin", "Ada is Acme's admin");
    let acme = claims["org_id"].as_str().unwrap().to_owned();
    // Tokens are stamped in whole seconds: the change must come after this one's `iat`.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.emulator.reset_counters();

    h.emulator
        .set_member_role("ada@example.com", &acme, "member")
        .unwrap();
    assert!(h.emulator.wait_for_webhooks(Duration::from_secs(5)).await);
    assert!(h.emulator.webhook_stats().delivered >= 1);

    let (response, _) = h.whoami("/dashboard", Some(&cookie)).await;
    let refreshed = cookie_value(&session_set_cookie(&response).expect("refreshed now")).to_owned();
    assert_eq!(token_claims(&refreshed)["role"], "member", "the new role");
    assert_eq!(h.refresh_exchanges(), 1, "one refresh");
    // The refreshed session is newer than the change: no more refreshes.
    for _ in 0..5 {
        let (response, json) = h.whoami("/dashboard", Some(&refreshed)).await;
        assert_eq!(json["email"], "ada@example.com");
        assert!(session_set_cookie(&response).is_none());
    }
    assert_eq!(h.refresh_exchanges(), 1);
}

/// Revoked in WorkOS (the dashboard, the Sessions API): the emulator's signed webhook
/// reaches the app and the session ends at its next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_revoked_in_workos_ends_through_its_webhook() {
    let s = served().await;
    let h = &s.h;
    let cookie = h.sign_in().await;
    assert!(h.emulator.end_session(&sid(&cookie)));
    assert!(h.emulator.wait_for_webhooks(Duration::from_secs(5)).await);
    let (response, json) = h.whoami("/dashboard", Some(&cookie)).await;
    assert_eq!(json["email"], serde_json::Value::Null);
    assert!(deletes_cookie(response.headers(), "wos-session"));
}

/// Sign out everywhere from one browser ends the other browser's session too, at its next
/// request: every WorkOS session of the user is revoked and recorded.
#[tokio::test]
async fn signing_out_everywhere_ends_the_other_browsers_session() {
    // The crate's server functions are mounted by the Leptos harness.
    let h = crate::support::leptos_app::leptos_default().await;
    let here = h.sign_in().await;
    let elsewhere = h.sign_in().await;
    assert_ne!(sid(&here), sid(&elsewhere));
    let (_, sessions, _) = h.call("authkit/sessions", "", Some(&here)).await;
    let listed: Vec<_> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert!(
        listed.contains(&sid(&here).into()) && listed.contains(&sid(&elsewhere).into()),
        "{sessions}"
    );
    assert_eq!(
        sessions
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["current"] == true)
            .count(),
        1
    );

    let response = post_form(
        &h,
        "/api/authkit/sign-out-everywhere",
        "return_to=%2F",
        Some(&format!("wos-session={here}")),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "a no-JavaScript form post"
    );
    assert!(deletes_cookie(response.headers(), "wos-session"));
    let (response, json) = h.whoami("/dashboard", Some(&elsewhere)).await;
    assert_eq!(
        json["email"],
        serde_json::Value::Null,
        "the other browser is signed out"
    );
    assert!(deletes_cookie(response.headers(), "wos-session"));
    assert_eq!(
        h.emulator.active_sessions(),
        0,
        "and WorkOS ended both sessions"
    );
}

/// The Events API poller (no webhooks): a revocation is applied within its interval; after
/// a restart it resumes from the cursor kept in Redis, and old changes never touch a
/// session that started after them (no spurious refresh).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_poller_applies_revocations_and_resumes_from_its_cursor() {
    let redis = RedisServer::start();
    let (emulator, _) = emulator_and_kit(&Options::default()).await;
    let config = emulator
        .config_builder()
        .redirect_uri(REDIRECT_URI)
        .cookie_password(PASSWORD)
        .build()
        .unwrap();
    let kit = || {
        AuthKit::builder(config.clone())
            .refresh_store(RedisRefreshStore::open(&redis.url()).unwrap())
            .build()
            .unwrap()
    };
    let first = kit();
    let h = Harness {
        app: test_routes().merge(first.routes()).layer(first.layer()),
        kit: first,
        emulator,
        user: "ada@example.com",
    };
    let poller = h.kit.spawn_event_poller(Duration::from_millis(200));
    let cookie = h.sign_in().await;
    let acme = token_claims(&cookie)["org_id"].as_str().unwrap().to_owned();
    h.emulator
        .set_member_role("ada@example.com", &acme, "member")
        .unwrap();
    assert!(h.emulator.end_session(&sid(&cookie)));
    let started = Instant::now();
    loop {
        let (_, json) = h.whoami("/dashboard", Some(&cookie)).await;
        if json["email"].is_null() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "not applied by the poller"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The cursor is the last event the poller applied, kept in Redis.
    let last = h.emulator.events().last().unwrap().id.clone();
    let stored = || {
        let client = redis::Client::open(redis.url()).unwrap();
        let mut c = client.get_connection().unwrap();
        redis
            .keys("authkit:refresh:value:*")
            .into_iter()
            .filter_map(|k| redis::cmd("GET").arg(k).query::<String>(&mut c).ok())
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    while !stored().contains(&last) {
        assert!(
            Instant::now() < deadline,
            "cursor {last} not stored: {:?}",
            stored()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    poller.abort();

    // A restart: a new handle on the same Redis resumes at the cursor.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = kit();
    let h = Harness {
        app: test_routes().merge(second.routes()).layer(second.layer()),
        kit: second,
        ..h
    };
    let poller = h.kit.spawn_event_poller(Duration::from_millis(200));
    let fresh = h.sign_in().await;
    h.emulator.reset_counters();
    tokio::time::sleep(Duration::from_millis(800)).await;
    for _ in 0..5 {
        let (response, json) = h.whoami("/dashboard", Some(&fresh)).await;
        assert_eq!(json["email"], "ada@example.com");
        assert!(
            session_set_cookie(&response).is_none(),
            "no replayed change refreshes it"
        );
    }
    assert_eq!(h.refresh_exchanges(), 0);
    // And new events are still applied.
    assert!(h.emulator.end_session(&sid(&fresh)));
    let started = Instant::now();
    loop {
        let (_, json) = h.whoami("/dashboard", Some(&fresh)).await;
        if json["email"].is_null() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "not applied after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    poller.abort();
}
