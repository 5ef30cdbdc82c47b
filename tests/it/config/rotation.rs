//! Rotating the cookie password end to end (#26 item 4): an app that adds a new password
//! (a password map with numeric ids) still opens the cookies sealed with the old one, and
//! seals what it writes next with the new one; once the old one is dropped, its cookies
//! read as signed out (and are deleted), never as an error.

use crate::support::*;
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::{AuthKit, PasswordMap};

const NEW_PASSWORD: &str = "the-new-cookie-password-of-32-chars!";

/// What the test handler answers at `/dashboard` with `cookie`.
async fn who(
    app: &axum::Router,
    cookie: &str,
) -> (http::Response<axum::body::Body>, serde_json::Value) {
    use tower::ServiceExt as _;
    let response = app
        .clone()
        .oneshot(
            http::Request::get("/dashboard")
                .header(http::header::COOKIE, format!("wos-session={cookie}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body)
        .await
        .unwrap()
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or_default();
    (
        http::Response::from_parts(parts, axum::body::Body::empty()),
        json,
    )
}

fn app(h: &Harness, passwords: PasswordMap) -> axum::Router {
    let config = h
        .emulator
        .config_builder()
        .redirect_uri(REDIRECT_URI)
        .cookie_passwords(passwords)
        .build()
        .unwrap();
    let kit = AuthKit::new(config).unwrap();
    test_routes().merge(kit.routes()).layer(kit.layer())
}

#[tokio::test]
async fn a_new_password_opens_old_cookies_and_seals_new_ones() {
    let h = Harness::new().await;
    // Signed in before the rotation (password id "1"), with a token that needs a refresh.
    let old_cookie = h.expired_session().await;
    assert!(old_cookie.starts_with("Fe26.2*1*"), "{old_cookie:.12}");

    let rotated = app(
        &h,
        PasswordMap::from_entries([("1", PASSWORD), ("2", NEW_PASSWORD)]).unwrap(),
    );
    let (response, json) = who(&rotated, &old_cookie).await;
    assert_eq!(
        json["email"], "ada@example.com",
        "the old cookie still opens"
    );
    let new_cookie = cookie_value(&session_set_cookie(&response).expect("refreshed")).to_owned();
    assert!(
        new_cookie.starts_with("Fe26.2*2*"),
        "new seals use the new password: {new_cookie:.12}"
    );

    // The old password dropped: its cookies are signed out and deleted; the new ones work.
    let only_new = app(
        &h,
        PasswordMap::from_entries([("2", NEW_PASSWORD)]).unwrap(),
    );
    let (response, json) = who(&only_new, &old_cookie).await;
    assert_eq!(json["email"], serde_json::Value::Null);
    assert!(deletes_cookie(response.headers(), "wos-session"));
    let (_, json) = who(&only_new, &new_cookie).await;
    assert_eq!(json["email"], "ada@example.com");
}
