//! `authkit_leptos::testing`: what a user's own test does to get a signed-in cookie.

use authkit_leptos::emulator::{Emulator, Seed};
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::{testing, Auth, AuthKit, Secret};
use axum::body::Body;
use axum::routing::get;
use http::{header, Request};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

#[tokio::test]
async fn sign_in_returns_a_working_session_cookie() {
    let emulator = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve()
        .start()
        .await
        .unwrap();
    let config = emulator
        .config_builder()
        .redirect_uri("http://localhost:3000/callback")
        .cookie_password(Secret::random_cookie_password())
        .build()
        .unwrap();
    let authkit = AuthKit::new(config).unwrap();
    let app = axum::Router::new()
        .route(
            "/me",
            get(|auth: Auth| async move { auth.user.map(|u| u.email).unwrap_or_default() }),
        )
        .merge(authkit.routes())
        .layer(authkit.layer().matcher(["/me"]).unwrap());

    for email in ["ada@example.com", "alan@example.com", "mary@example.com"] {
        let cookie = testing::sign_in(&app, &authkit, email).await.unwrap();
        if email == "mary@example.com" {
            // Her session (200 permissions) is over 4 KB: split cookies, one header.
            assert!(cookie.cookie_count() >= 2, "{cookie:?}");
            assert!(cookie.header().starts_with("wos-session.0=Fe26.2*"));
            assert!(cookie.header().contains("; wos-session.1="));
            assert!(cookie.value().starts_with("Fe26.2*") && cookie.value().ends_with("~2"));
        } else {
            assert_eq!(cookie.cookie_count(), 1);
            assert!(cookie.header().starts_with("wos-session=Fe26.2*"));
        }
        assert!(
            !format!("{cookie:?}").contains(cookie.value()),
            "Debug hides the value"
        );
        let response = app
            .clone()
            .oneshot(
                Request::get("/me")
                    .header(header::COOKIE, cookie.header())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, email);
    }
}

#[tokio::test]
async fn without_auto_approve_the_error_says_what_to_do() {
    let emulator = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .start()
        .await
        .unwrap();
    let config = emulator
        .config_builder()
        .redirect_uri("http://localhost:3000/callback")
        .cookie_password(Secret::random_cookie_password())
        .build()
        .unwrap();
    let authkit = AuthKit::new(config).unwrap();
    let app: axum::Router = axum::Router::new().merge(authkit.routes());
    let error = testing::sign_in(&app, &authkit, "ada@example.com")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("auto_approve"), "{error}");
}

/// `EmulatorConfig::config_builder` points an `AuthKitConfig` at the emulator (client id,
/// API key, API base URL).
#[tokio::test]
async fn config_builder_points_authkit_at_the_emulator() {
    let emu = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve()
        .start()
        .await
        .unwrap();
    let config = emu
        .config_builder()
        .redirect_uri("http://localhost:3000/callback")
        .cookie_password("a-cookie-password-of-at-least-32-chars")
        .build()
        .unwrap();
    assert_eq!(config.client_id(), emu.client_id());
    assert_eq!(config.api_key().map(|k| k.expose()), Some(emu.api_key()));
    assert_eq!(
        config.api_base_url().as_str().trim_end_matches('/'),
        emu.base_url()
    );
}
