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
