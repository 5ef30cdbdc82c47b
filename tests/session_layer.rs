//! The AuthKit layer through the real router and the real emulator over loopback:
//! authkit-nextjs `session.spec` (updateSession / middleware), `cookie.spec` and the
//! refresh-race behaviour this crate adds.

mod authkit_support;

use authkit_leptos::emulator::{Endpoint, Fault};
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_support::*;
use axum::body::Body;
use http::{header, Request, StatusCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A session whose access token is already expired (issued with a zero lifetime).
async fn expired_session(h: &Harness) -> String {
    h.emulator.set_token_ttl(Duration::ZERO);
    let cookie = h.sign_in().await;
    h.emulator.set_token_ttl(Duration::from_secs(300));
    h.emulator.reset_counters();
    cookie
}

/// Calls to `POST /user_management/authenticate` since the counters were reset (every
/// one a refresh in these tests; answered by a fault or not).
fn refreshes(h: &Harness) -> u64 {
    h.emulator.counters().get(Endpoint::Authenticate)
}

#[tokio::test]
async fn no_cookie_is_signed_out_without_cookie_headers() {
    let h = Harness::new().await;
    let (response, body) = h.whoami("/", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["user"], serde_json::Value::Null);
    assert_eq!(body["has_access_token"], false);
    assert!(session_set_cookie(&response).is_none());
    // The body says "signed out": it depends on the session, so no shared cache may keep
    // it for the next visitor (who may be signed in).
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        authkit_leptos::testing::PRIVATE_NO_STORE
    );
    assert!(response.headers()[header::VARY]
        .to_str()
        .unwrap()
        .contains("Cookie"));
}

#[tokio::test]
async fn a_valid_session_exposes_every_field() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    h.emulator.reset_counters();
    let (response, body) = h.whoami("/dashboard", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["email"], "ada@example.com");
    assert!(body["user"].as_str().unwrap().starts_with("user_"));
    assert!(body["session_id"].as_str().unwrap().starts_with("session_"));
    assert!(body["organization_id"]
        .as_str()
        .unwrap()
        .starts_with("org_"));
    assert_eq!(body["role"], "admin");
    assert!(body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "admin"));
    assert!(!body["permissions"].as_array().unwrap().is_empty());
    assert!(body["feature_flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "new-feature"));
    assert_eq!(body["has_access_token"], true);
    // A valid, fresh session writes no cookie but is private.
    assert!(session_set_cookie(&response).is_none());
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "private, no-cache, no-store, must-revalidate, max-age=0"
    );
    assert_eq!(response.headers()[header::VARY], "Cookie");
    assert_eq!(refreshes(&h), 0);
}

#[tokio::test]
async fn garbage_tampered_and_foreign_cookies_are_signed_out_and_deleted() {
    let h = Harness::new().await;
    let good = h.sign_in().await;
    let mut tampered = good.clone();
    let mid = tampered.len() / 2;
    tampered.replace_range(
        mid..mid + 1,
        if &good[mid..mid + 1] == "A" { "B" } else { "A" },
    );
    let foreign = authkit_leptos::seal::seal_json(
        &unseal(&good),
        &authkit_leptos::PasswordMap::single("another-password-that-is-32-chars-long!"),
        None,
    )
    .unwrap();
    for bad in [
        "garbage",
        "Fe26.2*1*x*y*z*w*v*u~2",
        "",
        &tampered,
        &foreign,
        "%E0%A4%A",
    ] {
        let (response, body) = h.whoami("/", Some(bad)).await;
        assert_eq!(response.status(), StatusCode::OK, "{bad}");
        assert_eq!(body["user"], serde_json::Value::Null, "{bad}");
        if !bad.is_empty() {
            let deletion =
                session_set_cookie(&response).unwrap_or_else(|| panic!("deleted: {bad}"));
            assert_eq!(
                deletion,
                "wos-session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
            );
        }
    }
}

#[tokio::test]
async fn a_token_for_another_user_is_rejected() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    let mut session = unseal(&cookie);
    session["user"]["id"] = "user_someone_else".into();
    let forged = authkit_leptos::seal::seal_json(
        &session,
        &authkit_leptos::PasswordMap::single(PASSWORD),
        None,
    )
    .unwrap();
    let (response, body) = h.whoami("/", Some(&forged)).await;
    assert_eq!(body["user"], serde_json::Value::Null);
    assert!(session_set_cookie(&response).unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn a_client_header_cannot_inject_a_session() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    let request = Request::get("/")
        .header("x-workos-session", cookie.as_str())
        .header("x-workos-middleware", "true")
        .body(Body::empty())
        .unwrap();
    let response = h.send(request).await;
    let body: serde_json::Value = serde_json::from_slice(
        &http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes(),
    )
    .unwrap();
    assert_eq!(body["user"], serde_json::Value::Null);
}

#[tokio::test]
async fn an_uncovered_path_says_how_to_fix_the_matcher() {
    let h = Harness::new().await;
    let response = h.get("/public", None).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = String::from_utf8(
        http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("`/public`"), "{text}");
    assert!(text.contains("AuthKitLayer::matcher"), "{text}");
}

/// The `Auth` extractor's rejection is a named error type (the route a handler sits on is
/// not covered), usable with `?` and in `Result<_, AuthRejection>` handlers.
#[tokio::test]
async fn the_auth_extractor_rejects_with_a_named_error() {
    use axum::extract::FromRequestParts as _;
    let (mut parts, ()) = Request::get("/elsewhere").body(()).unwrap().into_parts();
    let rejection = authkit_leptos::Auth::from_request_parts(&mut parts, &())
        .await
        .unwrap_err();
    assert!(matches!(
        rejection.error(),
        authkit_leptos::AuthError::NotCovered { path, .. } if path == "/elsewhere"
    ));
    let as_error: &dyn std::error::Error = &rejection;
    assert!(as_error.to_string().contains("AuthKitLayer::matcher"));
    let response = axum::response::IntoResponse::into_response(rejection);
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn a_route_path_without_a_leading_slash_is_a_build_error_naming_the_method() {
    let config = authkit_leptos::AuthKitConfig::builder()
        .client_id("client_1")
        .api_key("sk_test_1")
        .redirect_uri("http://localhost:3000/callback")
        .cookie_password(PASSWORD)
        .build()
        .unwrap();
    let error = authkit_leptos::AuthKit::builder(config)
        .sign_up_path("auth/sign-up")
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, authkit_leptos::BuildError::RoutePath { path, method: "sign_up_path" } if path == "auth/sign-up"),
        "{error:?}"
    );
    assert!(error.to_string().contains("must start with `/`"), "{error}");
}

#[test]
fn random_cookie_passwords_are_never_predictable() {
    let a = authkit_leptos::Secret::try_random_cookie_password().expect("the OS has randomness");
    let b = authkit_leptos::Secret::random_cookie_password();
    assert_eq!(a.expose().len(), 64);
    assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a.expose(), b.expose());
    assert_ne!(a.expose(), "0".repeat(64));
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_new_cookie_written() {
    let h = Harness::new().await;
    let cookie = expired_session(&h).await;
    let old = unseal(&cookie);
    let (response, body) = h.whoami("/dashboard/x", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(refreshes(&h), 1);
    let set = session_set_cookie(&response).expect("a refreshed cookie");
    assert!(
        set.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "http redirect URI: no Secure");
    let new_value = set
        .strip_prefix("wos-session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let new = unseal(new_value);
    assert_ne!(new["refreshToken"], old["refreshToken"], "rotated");
    assert_ne!(new["accessToken"], old["accessToken"]);
    assert_eq!(new["user"]["id"], old["user"]["id"]);
    // The organization is kept through the refresh.
    let (_, again) = h.whoami("/", Some(new_value)).await;
    assert_eq!(again["organization_id"], body["organization_id"]);
    assert_eq!(refreshes(&h), 1, "the new token needs no refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_requests_share_one_refresh() {
    let h = Arc::new(Harness::new().await);
    let cookie = Arc::new(expired_session(&h).await);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let h = Arc::clone(&h);
        let cookie = Arc::clone(&cookie);
        tasks.push(tokio::spawn(async move {
            let path = if i % 2 == 0 { "/" } else { "/dashboard/a" };
            let (response, body) = h.whoami(path, Some(&cookie)).await;
            (session_set_cookie(&response), body["email"].clone())
        }));
    }
    let mut new_cookies = std::collections::HashSet::new();
    for t in tasks {
        let (set, email) = t.await.unwrap();
        assert_eq!(email, "ada@example.com");
        new_cookies.insert(set.expect("every response carries the new cookie"));
    }
    assert_eq!(refreshes(&h), 1, "exactly one upstream refresh");
    assert_eq!(new_cookies.len(), 1, "everyone got the same new session");
}

#[tokio::test]
async fn a_late_request_with_the_old_cookie_gets_the_same_new_session() {
    let h = Harness::new().await;
    let cookie = expired_session(&h).await;
    let (first, _) = h.whoami("/", Some(&cookie)).await;
    // The browser sent this one before it saw the new cookie.
    let (second, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(
        body["email"], "ada@example.com",
        "not signed out by invalid_grant"
    );
    assert_eq!(session_set_cookie(&first), session_set_cookie(&second));
    assert_eq!(refreshes(&h), 1);
}

#[tokio::test]
async fn an_ended_session_is_signed_out_and_its_cookie_deleted() {
    let h = Harness::new().await;
    let cookie = expired_session(&h).await;
    let session = unseal(&cookie);
    let (_, claims) =
        authkit_leptos::jwt::decode_unverified(session["accessToken"].as_str().unwrap()).unwrap();
    assert!(h.emulator.end_session(claims["sid"].as_str().unwrap()));
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["user"], serde_json::Value::Null);
    assert!(
        session_set_cookie(&response).unwrap().contains("Max-Age=0"),
        "terminal: deleted"
    );
}

#[tokio::test]
async fn transient_refresh_failures_keep_the_cookie() {
    let h = Harness::new().await;
    let cookie = expired_session(&h).await;
    for fault in [
        Fault::status(503),
        Fault::status(500),
        Fault::status(502),
        Fault::status(504),
        Fault::status(408),
        Fault::drop_connection(),
    ] {
        h.emulator
            .inject_fault(Endpoint::Authenticate, fault.clone());
        let (response, body) = h.whoami("/", Some(&cookie)).await;
        assert_eq!(body["user"], serde_json::Value::Null, "{fault:?}");
        assert!(
            session_set_cookie(&response).is_none(),
            "cookie kept on {fault:?}"
        );
    }
    // Once WorkOS is back, the same cookie still works.
    let (_, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
}

#[tokio::test]
async fn a_429_is_retried_once_after_retry_after() {
    let h = Harness::new().await;
    let cookie = expired_session(&h).await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(429).retry_after(1));
    let started = std::time::Instant::now();
    let (_, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(refreshes(&h), 2, "one retry");
}

#[tokio::test]
async fn two_429s_give_up_and_keep_the_cookie() {
    let h = Harness::new().await;
    let cookie = expired_session(&h).await;
    h.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::status(429).retry_after(1).times(2),
    );
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["user"], serde_json::Value::Null);
    assert!(session_set_cookie(&response).is_none());
    assert_eq!(refreshes(&h), 2);
}

#[tokio::test]
async fn short_tokens_refresh_30_seconds_before_expiry() {
    // A 20-second token is always inside the 30 s buffer.
    let h = Harness::with(Options {
        token_ttl: Some(Duration::from_secs(20)),
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    h.emulator.reset_counters();
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert!(session_set_cookie(&response).is_some());
    assert_eq!(
        h.emulator
            .counters()
            .grant(authkit_leptos::emulator::GrantType::RefreshToken),
        1
    );
    assert_eq!(refreshes(&h), 1);
}

#[tokio::test]
async fn a_zero_buffer_disables_proactive_refresh() {
    let h = Harness::with(Options {
        token_ttl: Some(Duration::from_secs(20)),
        builder: |b| b.refresh_buffer(Duration::ZERO),
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    h.emulator.reset_counters();
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert!(session_set_cookie(&response).is_none());
    assert_eq!(refreshes(&h), 0);
}

#[tokio::test]
async fn a_custom_buffer_applies() {
    // 5-minute tokens with a 10-minute buffer: always refreshed.
    let h = Harness::with(Options {
        builder: |b| b.refresh_buffer(Duration::from_secs(600)),
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    h.emulator.reset_counters();
    let _ = h.whoami("/", Some(&cookie)).await;
    assert_eq!(refreshes(&h), 1);
}

#[tokio::test]
async fn a_failed_proactive_refresh_serves_the_still_valid_token() {
    let h = Harness::with(Options {
        token_ttl: Some(Duration::from_secs(20)),
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    h.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::status(400)
            .body(serde_json::json!({"error": "invalid_grant", "error_description": "used"})),
    );
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(
        body["email"], "ada@example.com",
        "the current token still works"
    );
    assert!(session_set_cookie(&response).is_none(), "cookie kept");
}

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
    let cookie = Arc::new(expired_session(&h).await);
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

#[tokio::test]
async fn the_jwks_is_fetched_once_for_many_requests() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    for _ in 0..25 {
        let (_, body) = h.whoami("/", Some(&cookie)).await;
        assert_eq!(body["email"], "ada@example.com");
    }
    assert_eq!(h.emulator.counters().get(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn rotated_signing_keys_are_picked_up() {
    let h = Harness::with(Options {
        builder: |b| b.jwks_refetch_cooldown(Duration::from_millis(200)),
        ..Options::default()
    })
    .await;
    let old = h.sign_in().await;
    h.emulator.rotate_signing_key().await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let new = h.sign_in().await;
    for cookie in [&old, &new] {
        let (_, body) = h.whoami("/", Some(cookie)).await;
        assert_eq!(body["email"], "ada@example.com");
    }
    assert_eq!(
        h.emulator.counters().get(Endpoint::Jwks),
        2,
        "one refetch for the new kid"
    );
}

#[tokio::test]
async fn an_unreachable_jwks_keeps_the_cookie() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    // A fresh AuthKit (cold JWKS cache) against a JWKS that fails.
    h.emulator
        .inject_fault(Endpoint::Jwks, Fault::status(503).times(10));
    let config = h
        .emulator
        .config_builder()
        .redirect_uri(REDIRECT_URI)
        .cookie_password(PASSWORD)
        .build()
        .unwrap();
    let kit = authkit_leptos::AuthKit::new(config).unwrap();
    let app = test_routes().layer(kit.layer().matcher(["/"]).unwrap());
    let response = tower::ServiceExt::oneshot(
        app,
        Request::get("/")
            .header(header::COOKIE, format!("wos-session={cookie}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        session_set_cookie(&response).is_none(),
        "not deleted while WorkOS is unreachable"
    );
}

#[tokio::test]
async fn an_authorization_header_makes_the_response_private() {
    let h = Harness::new().await;
    let response = h
        .send(
            Request::get("/")
                .header(header::AUTHORIZATION, "Bearer x")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "private, no-cache, no-store, must-revalidate, max-age=0"
    );
    let vary: Vec<_> = response
        .headers()
        .get_all(header::VARY)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(vary, ["Cookie", "Authorization"]);
}

#[tokio::test]
async fn bad_matcher_patterns_fail_at_start_up() {
    let h = Harness::new().await;
    let err = h.kit.layer().matcher(["/ok", "no-slash"]).unwrap_err();
    assert!(err.to_string().contains("`no-slash`"), "{err}");
    assert!(h.kit.layer().middleware_auth(["/(.*)"]).is_err());
}

// ------------------------------------------------------------------ middleware auth

async fn middleware_auth_harness() -> Harness {
    Harness::with(Options {
        layer: |l| {
            l.middleware_auth(["/"])
                .unwrap()
                .sign_up_paths(["/dashboard/join"])
                .unwrap()
        },
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn middleware_auth_redirects_signed_out_documents_to_authkit() {
    let h = middleware_auth_harness().await;
    let response = h.get("/dashboard/reports?range=7d", None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = location(&response);
    assert!(
        location.starts_with(&format!(
            "{}/user_management/authorize?",
            h.emulator.base_url()
        )),
        "{location}"
    );
    let q = query_of(&location);
    assert_eq!(q["screen_hint"], "sign-in");
    assert_eq!(q["redirect_uri"], REDIRECT_URI);
    assert_eq!(q["code_challenge_method"], "S256");
    // The flow's verifier cookie is set, named after the state, with the state as value.
    let verifier = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("wos-auth-verifier-"))
        .expect("verifier cookie");
    assert!(verifier.contains(&format!("={}", q["state"])), "{verifier}");
    assert!(verifier.contains("Max-Age=600"));
    // The state returns to the page asked for.
    let state = authkit_leptos::testing::FlowState::unseal(&q["state"], h.kit.config()).unwrap();
    assert_eq!(
        state.return_pathname.as_deref(),
        Some("/dashboard/reports?range=7d")
    );
}

#[tokio::test]
async fn middleware_auth_allows_unauthenticated_paths_and_signed_in_users() {
    let h = middleware_auth_harness().await;
    let (response, body) = h.whoami("/", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["user"], serde_json::Value::Null);
    let cookie = h.sign_in().await;
    let (response, body) = h.whoami("/dashboard", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["email"], "ada@example.com");
}

#[tokio::test]
async fn middleware_auth_uses_303_for_posts_and_401_for_fetch() {
    let h = middleware_auth_harness().await;
    let post = h
        .send(
            Request::post("/dashboard")
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(post.status(), StatusCode::SEE_OTHER);
    let fetch = h
        .send(
            Request::post("/api/thing")
                .header(header::ACCEPT, "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(fetch.status(), StatusCode::UNAUTHORIZED);
    assert!(
        set_cookies(fetch.headers()).is_empty(),
        "no flow cookie for a fetch"
    );
    let body: serde_json::Value = serde_json::from_slice(
        &http_body_util::BodyExt::collect(fetch.into_body())
            .await
            .unwrap()
            .to_bytes(),
    )
    .unwrap();
    // The body is an AuthError, as Leptos server functions encode errors, so a
    // WebAssembly caller gets `SignInRequired` and can navigate.
    let error: authkit_leptos::AuthError = serde_json::from_value(body).unwrap();
    assert_eq!(
        error.sign_in_url(),
        Some("/auth/sign-in?return_to=%2F"),
        "no Referer: back to /"
    );
}

#[tokio::test]
async fn middleware_auth_sends_sign_up_paths_to_the_sign_up_screen() {
    let h = middleware_auth_harness().await;
    let response = h.get("/dashboard/join", None).await;
    assert_eq!(query_of(&location(&response))["screen_hint"], "sign-up");
}

#[tokio::test]
async fn middleware_auth_never_blocks_the_callback() {
    let h = Harness::with(Options {
        layer: |l| {
            l.matcher(["/callback"])
                .unwrap()
                .middleware_auth(Vec::<String>::new())
                .unwrap()
        },
        ..Options::default()
    })
    .await;
    let result = h.sign_in_with("/auth/sign-in").await;
    assert_eq!(result.status, StatusCode::TEMPORARY_REDIRECT);
    assert!(!result.session.is_empty());
}

#[tokio::test]
async fn prefetches_get_no_flow_cookie() {
    let h = middleware_auth_harness().await;
    let response = h
        .send(
            Request::get("/dashboard")
                .header(header::ACCEPT, "text/html")
                .header("sec-purpose", "prefetch")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookies(response.headers()).is_empty());
}

/// Middleware-auth mode with a catch-all matcher covers the site's own files; the README's
/// documented exclusion (`/pkg/:path*`, `/favicon.ico` as unauthenticated paths) serves them
/// to signed-out visitors again.
#[tokio::test]
async fn middleware_auth_with_a_catch_all_needs_the_static_files_listed() {
    let asset = |h: &Harness, path: &'static str| {
        let request = Request::get(path)
            .header(header::ACCEPT, "*/*")
            .body(Body::empty())
            .unwrap();
        let app = h.app.clone();
        async move { tower::ServiceExt::oneshot(app, request).await.unwrap() }
    };
    let everything = Harness::with(Options {
        layer: |l| {
            l.matcher(["/:path*"])
                .unwrap()
                .middleware_auth(["/"])
                .unwrap()
        },
        ..Options::default()
    })
    .await;
    for path in [
        "/pkg/authkit-demo.wasm",
        "/pkg/authkit-demo.js",
        "/favicon.ico",
    ] {
        assert_eq!(
            asset(&everything, path).await.status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    let documented = Harness::with(Options {
        layer: |l| {
            l.matcher(["/:path*"])
                .unwrap()
                .middleware_auth(["/", "/pkg/:path*", "/favicon.ico"])
                .unwrap()
        },
        ..Options::default()
    })
    .await;
    for path in [
        "/pkg/authkit-demo.wasm",
        "/pkg/authkit-demo.js",
        "/favicon.ico",
    ] {
        // No such route in the test router: a 404 from the app, not the layer's 401.
        assert_eq!(
            asset(&documented, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Pages stay protected.
    assert_eq!(
        asset(&documented, "/dashboard").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// A request with raw header bytes in `Cookie` (as browsers send a foreign cookie set by
/// `document.cookie` or a sibling app).
fn with_cookie_bytes(path: &str, cookie: &[u8]) -> Request<Body> {
    Request::get(path)
        .header(
            header::COOKIE,
            http::HeaderValue::from_bytes(cookie).unwrap(),
        )
        .body(Body::empty())
        .unwrap()
}

async fn json_of(response: http::Response<Body>) -> serde_json::Value {
    serde_json::from_str(&body_text(response).await).unwrap_or_default()
}

/// One foreign cookie with non-ASCII bytes (UTF-8 or Latin-1, before or after ours) never
/// hides the session cookie next to it.
#[tokio::test]
async fn a_foreign_cookie_with_non_ascii_bytes_never_hides_the_session() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    for (before, after) in [
        ("theme=café; ".as_bytes(), &b""[..]),
        (b"theme=caf\xe9; ", b""),
        (b"", "; theme=café".as_bytes()),
        (b"", b"; \xff\xfe=\x80\x81"),
        ("名前=値; ".as_bytes(), b"; x=\xc3"),
    ] {
        let mut bytes = before.to_vec();
        bytes.extend_from_slice(format!("wos-session={cookie}").as_bytes());
        bytes.extend_from_slice(after);
        let response = h.send(with_cookie_bytes("/dashboard", &bytes)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let json = json_of(response).await;
        assert_eq!(
            json["email"],
            "ada@example.com",
            "{:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

/// Two cookies with the session's name (a stale host-only one and the current one, in
/// either order): the one that unseals is used, not the first.
#[tokio::test]
async fn of_two_cookies_with_the_sessions_name_the_one_that_unseals_wins() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    for header in [
        format!("wos-session=Fe26.2*1*stale; wos-session={cookie}"),
        format!("wos-session={cookie}; wos-session=Fe26.2*1*stale"),
        format!("wos-session=; wos-session={cookie}"),
    ] {
        let response = h
            .send(with_cookie_bytes("/dashboard", header.as_bytes()))
            .await;
        let set = session_set_cookie(&response);
        let json = json_of(response).await;
        assert_eq!(json["email"], "ada@example.com", "{header}");
        assert!(set.is_none(), "nothing to rewrite: {set:?}");
    }
}

/// With a cookie domain, signing out deletes the domain cookie and its host-only twin.
#[tokio::test]
async fn sign_out_with_a_cookie_domain_deletes_the_host_only_twin_too() {
    let h = Harness::with(Options {
        config: |c| c.cookie_domain("localhost"),
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    let response = h
        .send(
            Request::post("/auth/sign-out")
                .header(
                    header::COOKIE,
                    format!("wos-session=host-only-stale; wos-session={cookie}"),
                )
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("return_to=%2F"))
                .unwrap(),
        )
        .await;
    let deletions: Vec<String> = set_cookies(response.headers())
        .into_iter()
        .filter(|c| c.starts_with("wos-session=;") || c.starts_with("wos-session=\"\""))
        .collect();
    assert_eq!(deletions.len(), 2, "{deletions:?}");
    assert!(
        deletions.iter().any(|c| c.contains("Domain=localhost")),
        "{deletions:?}"
    );
    assert!(
        deletions.iter().any(|c| !c.contains("Domain=")),
        "{deletions:?}"
    );
    // The session found behind the stale twin was signed out at WorkOS.
    assert!(location(&response).contains("/user_management/sessions/logout?session_id="));
}

/// Right after WorkOS rotates its signing key, tokens WorkOS itself issues (a new sign-in,
/// a refresh) carry a `kid` the cached key set lacks, inside the unknown-kid cooldown:
/// they are never lost (one bounded refetch), while unknown `kid`s in cookies stay
/// throttled.
#[tokio::test]
async fn a_signing_key_rotation_never_loses_tokens_straight_from_workos() {
    use authkit_leptos::emulator::Endpoint;
    let h = Harness::new().await;
    // Warm the key set (and its unknown-kid cooldown) with the first key.
    let first = h.sign_in().await;
    let (_, json) = h.whoami("/dashboard", Some(&first)).await;
    assert_eq!(json["email"], "ada@example.com");
    let expired = expired_session(&h).await;
    h.emulator.rotate_signing_key().await.unwrap();
    // (Forced refetches are at most one a second.)
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let jwks_before = h.emulator.counters().get(Endpoint::Jwks);

    // A new sign-in: the code exchange's tokens are signed with the new key.
    let result = h.sign_in_with("/auth/sign-in?return_to=%2Fdashboard").await;
    assert_eq!(
        result.status,
        StatusCode::TEMPORARY_REDIRECT,
        "{:?}",
        result.location
    );
    let (_, json) = h.whoami("/dashboard", Some(&result.session)).await;
    assert_eq!(
        json["email"], "ada@example.com",
        "the new session works at once"
    );

    // A refresh in the same window: the rotated refresh token's result is kept.
    let (response, json) = h.whoami("/dashboard", Some(&expired)).await;
    assert_eq!(json["email"], "ada@example.com");
    assert!(session_set_cookie(&response).is_some());
    let fetches_after_rotation = h.emulator.counters().get(Endpoint::Jwks) - jwks_before;
    assert_eq!(fetches_after_rotation, 1, "one forced refetch serves both");

    // Access tokens with kids nobody published (in a cookie sealed with our password, so
    // the layer replaces them by refreshing) cannot force refetches: they stay throttled.
    let session = unseal(&result.session);
    let token = session["accessToken"].as_str().unwrap();
    let (_, payload_and_sig) = token.split_once('.').unwrap();
    let before = h.emulator.counters().get(Endpoint::Jwks);
    for i in 0..20 {
        let header = base64_url(&format!(
            r#"{{"alg":"RS256","kid":"attacker-{i}","typ":"JWT"}}"#
        ));
        let forged = format!("{header}.{payload_and_sig}");
        let mut tampered = session.clone();
        tampered["accessToken"] = forged.into();
        let cookie = seal_json(&tampered);
        let _ = h.whoami("/dashboard", Some(&cookie)).await;
    }
    assert_eq!(
        h.emulator.counters().get(Endpoint::Jwks),
        before,
        "no refetch for forged kids"
    );
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn seal_json(session: &serde_json::Value) -> String {
    let session: authkit_leptos::Session = serde_json::from_value(session.clone()).unwrap();
    session
        .seal(&authkit_leptos::PasswordMap::single(PASSWORD))
        .unwrap()
}

/// A seed whose user has 200 permissions and 50 feature flags: a sealed session of well
/// over 4 KB (as authkit-nextjs#404 reports).
fn big_seed() -> authkit_leptos::emulator::Seed {
    let permissions: Vec<String> = (0..200)
        .map(|i| format!("resource-{i:03}:manage"))
        .collect();
    let flags: Vec<String> = (0..50)
        .map(|i| format!("feature-flag-number-{i:02}"))
        .collect();
    let yaml = format!(
        "users:\n  - email: ada@example.com\n    first_name: Ada\n    password: analytical-engine\n\
         organizations:\n  - name: Big\n    feature_flags: [{flags}]\n    memberships:\n      - email: ada@example.com\n        role: admin\n\
         \x20 - name: Small\n    memberships:\n      - email: ada@example.com\n        role: viewer\n\
         roles:\n  - slug: admin\n    permissions: [{permissions}]\n  - slug: viewer\n    permissions: [posts:read]\n",
        flags = flags.join(", "),
        permissions = permissions.join(", "),
    );
    authkit_leptos::emulator::Seed::from_yaml(&yaml).expect("the big seed parses")
}

/// The `Cookie` header a browser sends back for these `Set-Cookie` values (session
/// cookies and their parts; deletions dropped).
fn cookie_header_for(set_cookies: &[String]) -> String {
    set_cookies
        .iter()
        .filter(|c| c.starts_with("wos-session") && !c.contains("Max-Age=0"))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Sessions over 4 KB are split into parts the browser keeps (each `name=value` ≤ 4096
/// bytes), read back joined, refreshed as parts, shrunk back to one cookie (stale parts
/// deleted) and fully deleted on sign-out. Sessions under the limit stay one cookie.
#[tokio::test]
async fn sessions_over_4_kb_are_split_into_parts_and_read_back() {
    let h = Harness::with(Options {
        seed: big_seed,
        ..Options::default()
    })
    .await;
    // Sign in to the big organization (auto-approve picks the first one).
    let result = h.sign_in_with("/auth/sign-in?return_to=%2Fdashboard").await;
    let sessions: Vec<&String> = result
        .cookies
        .iter()
        .filter(|c| c.starts_with("wos-session"))
        .collect();
    assert!(sessions.len() >= 2, "split into parts: {sessions:?}");
    assert!(
        result
            .cookies
            .iter()
            .all(|c| !c.starts_with("wos-session=")),
        "no plain cookie"
    );
    for c in &sessions {
        let pair = c.split(';').next().unwrap();
        assert!(pair.len() <= 4096, "{} bytes", pair.len());
        assert!(c.contains("; Path=/; HttpOnly; SameSite=Lax"), "{c}");
    }
    let header = cookie_header_for(&result.cookies);
    assert!(header.len() > 4096);
    let request = |cookie: &str| {
        Request::get("/dashboard")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap()
    };
    let response = h.send(request(&header)).await;
    let json: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(json["email"], "ada@example.com");
    assert_eq!(json["permissions"].as_array().unwrap().len(), 200);
    assert_eq!(json["feature_flags"].as_array().unwrap().len(), 50);

    // A refresh writes parts again.
    h.emulator.set_token_ttl(Duration::ZERO);
    let expired = cookie_header_for(&h.sign_in_with("/auth/sign-in").await.cookies);
    h.emulator.set_token_ttl(Duration::from_secs(300));
    let response = h.send(request(&expired)).await;
    let refreshed = set_cookies(response.headers());
    assert!(
        refreshed.iter().any(|c| c.starts_with("wos-session.1=")),
        "{refreshed:?}"
    );
    let json: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(json["email"], "ada@example.com");

    // Sign-out deletes every part.
    let response = h
        .send(
            Request::post("/auth/sign-out")
                .header(header::COOKIE, &header)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let deleted = set_cookies(response.headers());
    let parts = sessions.len();
    for i in 0..parts {
        assert!(
            deleted
                .iter()
                .any(|c| c.starts_with(&format!("wos-session.{i}=;")) && c.contains("Max-Age=0")),
            "part {i} not deleted: {deleted:?}"
        );
    }
    assert!(deletes_cookie(response.headers(), "wos-session"));
}
