//! The demo's strict Content-Security-Policy (#26 item 5), through its real router: every
//! answer carries the policy with a fresh nonce and no `'unsafe-inline'`, and every inline
//! script of a page (signed out and signed in, the not-found page) carries that nonce, while
//! no page holds an inline style or a `javascript:` URL. Chromium checks the same pages in
//! `end2end/tests/csp.spec.ts`.
#![cfg(feature = "ssr")]

use authkit_leptos::emulator::{Emulator, Seed};
use authkit_leptos::testing::{self, EmulatorConfig as _};
use authkit_leptos::{AuthKit, STRICT_POLICY};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use leptos::prelude::LeptosOptions;
use tower::ServiceExt as _;

const REDIRECT_URI: &str = "http://localhost:3000/callback";

async fn demo() -> (Router, AuthKit, Emulator) {
    let emulator = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve_as("ada@example.com")
        .start()
        .await
        .unwrap();
    let config = emulator
        .config_builder()
        .redirect_uri(REDIRECT_URI)
        .cookie_password("csp-test-cookie-password-of-32-chars!!")
        .build()
        .unwrap();
    let kit = AuthKit::builder(config).build().unwrap();
    let options = LeptosOptions::builder().output_name("authkit-demo").build();
    let app = authkit_demo::server::router(&kit, options, "http://localhost:3000".into());
    (app, kit, emulator)
}

/// The page at `path`: its status, the nonce its policy names, and its HTML.
async fn page(app: &Router, path: &str, cookie: Option<&str>) -> (StatusCode, String, String) {
    let mut request = Request::get(path).header(header::ACCEPT, "text/html");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"))
        .to_owned();
    assert_eq!(policy, STRICT_POLICY.replace("{nonce}", &nonce), "{path}");
    assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
    let body = axum::body::to_bytes(response.into_body(), 4 << 20)
        .await
        .unwrap();
    (status, nonce, String::from_utf8(body.to_vec()).unwrap())
}

/// Every inline `<script>` carries `nonce`; no inline style, no `javascript:` URL.
fn assert_strict(path: &str, nonce: &str, html: &str) {
    let mut inline = 0;
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or_default();
        if !open.contains(" src=") {
            inline += 1;
            assert!(
                open.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: an inline script without this response's nonce: <script{open}>"
            );
        }
    }
    assert!(inline > 0, "{path}: the hydration script is inline");
    assert!(!html.contains("<style"), "{path}: an inline <style>");
    assert!(!html.contains(" style="), "{path}: a style attribute");
    assert!(!html.to_ascii_lowercase().contains("javascript:"), "{path}");
}

#[tokio::test]
async fn every_page_carries_the_policy_and_its_scripts_carry_its_nonce() {
    let (app, kit, _emulator) = demo().await;
    let (status, nonce, html) = page(&app, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_strict("/", &nonce, &html);
    let (_, other, _) = page(&app, "/", None).await;
    assert_ne!(nonce, other, "a fresh nonce per response");

    let (status, nonce, html) = page(&app, "/no-such-page", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_strict("/no-such-page", &nonce, &html);

    let ada = testing::sign_in(&app, &kit, "ada@example.com")
        .await
        .unwrap();
    for path in [
        "/",
        "/profile",
        "/dashboard",
        "/protected",
        "/protected/in-order",
        "/protected/async",
        "/data",
        "/features",
        "/team",
        "/account",
    ] {
        let (status, nonce, html) = page(&app, path, Some(&ada.header())).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_strict(path, &nonce, &html);
    }
}

#[tokio::test]
async fn the_callback_error_page_links_the_crates_stylesheet_instead_of_inline_style() {
    let (app, _kit, _emulator) = demo().await;
    let (status, _, html) = page(&app, "/callback", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Couldn't sign you in"), "{html}");
    assert!(!html.contains("<style") && !html.contains(" style=") && !html.contains("<script"));
    assert!(
        html.contains(&format!(
            "<link rel=\"stylesheet\" href=\"{}\">",
            authkit_leptos::AUTHKIT_STYLESHEET_PATH
        )),
        "{html}"
    );
    let css = app
        .clone()
        .oneshot(
            Request::get(authkit_leptos::AUTHKIT_STYLESHEET_PATH)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        css.headers()[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
}
