//! The AuthKit layer through the real router and the real emulator over loopback: what it
//! makes of the session cookie (none, valid, garbage, tampered, foreign, another user's,
//! split over 4 KB), the cache headers of answers that depend on the session, and what an
//! uncovered path says. The session cookie next to odd foreign cookies or a stale twin:
//! `session::bad_headers`.

use crate::support::*;
use axum::body::Body;
use http::{header, Method, Request, StatusCode};
use std::time::Duration;

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
    assert_eq!(h.authenticate_calls(), 0);
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
async fn a_post_to_a_covered_route_is_answered_like_a_get() {
    // The layer resolves sessions for every method, not only GET.
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    let response = h
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/things")
                .header(header::COOKIE, format!("wos-session={cookie}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body["email"], "ada@example.com");
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
