//! Middleware-auth mode: signed-out requests to covered pages are sent to AuthKit (`307`
//! for documents, `303` after a form post, `401` for `fetch`), unauthenticated paths and
//! the callback pass, sign-up paths open the sign-up screen, a dead cookie is deleted and a
//! transient failure keeps it.
// Named explicitly: the Leptos prelude has a `location` too.
use crate::support::*;
use authkit_leptos::emulator::{Endpoint, Fault};
use axum::body::Body;
use http::{header, Request, StatusCode};

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
    // The flow's verifier cookie is set, named after the state, with the flow's secret
    // (bound into the state) as value — not the state (#23 item 4).
    let verifier = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("wos-auth-verifier-"))
        .expect("verifier cookie");
    assert!(
        verifier.starts_with(&format!(
            "{}=",
            authkit_leptos::testing::pkce_cookie_name(&q["state"])
        )),
        "{verifier}"
    );
    assert!(
        !verifier.contains(&format!("={}", q["state"])),
        "{verifier}"
    );
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

/// Middleware-auth mode with a catch-all matcher never covers the site's own files (they
/// used to answer `401` to signed-out visitors unless listed as unauthenticated paths, so
/// the sign-in page of a public path could not hydrate): cargo-leptos's `/pkg/…` and the
/// files in the site root reach the app, while pages stay protected.
#[tokio::test]
async fn middleware_auth_with_a_catch_all_never_covers_the_site_files() {
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
            let root = std::env::temp_dir().join(format!("authkit-ma-site-{}", std::process::id()));
            std::fs::create_dir_all(&root).unwrap();
            std::fs::write(root.join("favicon.ico"), b"icon").unwrap();
            let site = leptos::config::LeptosOptions::builder()
                .output_name("authkit-demo")
                .site_root(root.to_str().unwrap())
                .site_pkg_dir("pkg")
                .build();
            l.site(&site)
                .matcher(["/:path*"])
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
        // No such route in the test router: a 404 from the app, not the layer's 401.
        assert_eq!(
            asset(&everything, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Pages stay protected.
    assert_eq!(
        asset(&everything, "/dashboard").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn middleware_auth_redirects_head_requests_with_307() {
    let h = protect_everything().await;
    let response = h
        .send(
            Request::head("/dashboard")
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(location(&response).starts_with(&format!(
        "{}/user_management/authorize?",
        h.emulator.base_url()
    )));
}

#[tokio::test]
async fn middleware_auth_redirects_the_home_page_when_nothing_is_public() {
    let h = protect_everything().await;
    let response = h.get("/", None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let q = query_of(&location(&response));
    assert_eq!(q["redirect_uri"], REDIRECT_URI);
    assert_eq!(q["client_id"], h.emulator.client_id());
}

/// With a catch-all matcher and no public path, the callback (and the start route) still
/// answer for themselves: a signed-out browser can sign in.
#[tokio::test]
async fn middleware_auth_lets_the_callback_path_through_without_a_session() {
    let h = Harness::with(Options {
        layer: |l| {
            l.matcher(["/:path*"])
                .unwrap()
                .middleware_auth(Vec::<String>::new())
                .unwrap()
        },
        ..Options::default()
    })
    .await;
    let response = h.get("/callback", None).await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "the callback handler answered, not a redirect to AuthKit"
    );
    assert!(body_text(response).await.contains("missing_auth_params"));
    // And a whole sign-in completes through it.
    let result = h.sign_in_with("/auth/sign-in").await;
    assert_eq!(result.status, StatusCode::TEMPORARY_REDIRECT);
    assert!(!result.session.is_empty());
}

#[tokio::test]
async fn middleware_auth_takes_the_callback_path_from_the_configured_redirect_uri() {
    let h = Harness::with(Options {
        config: |c| c.redirect_uri("http://localhost:3000/oauth/done"),
        layer: |l| {
            l.matcher(["/:path*"])
                .unwrap()
                .middleware_auth(Vec::<String>::new())
                .unwrap()
        },
        ..Options::default()
    })
    .await;
    assert_eq!(h.kit.callback_path(), "/oauth/done");
    let response = h.get("/oauth/done", None).await;
    assert_ne!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    // Every other page is protected.
    let response = h.get("/dashboard", None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
}

#[tokio::test]
async fn middleware_auth_allows_nested_unauthenticated_patterns() {
    let h = protect_with_public_paths().await;
    for path in ["/public", "/open", "/open/a/b"] {
        let response = h.get(path, None).await;
        assert_ne!(
            response.status(),
            StatusCode::TEMPORARY_REDIRECT,
            "{path} is public"
        );
    }
    let response = h.get("/dashboard", None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
}

#[tokio::test]
async fn sign_up_paths_accept_patterns() {
    let h = protect_with_public_paths().await;
    let response = h.get("/dashboard/signup/team", None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(query_of(&location(&response))["screen_hint"], "sign-up");
    // A sign-up path without a pattern.
    let response = h.get("/dashboard/join", None).await;
    assert_eq!(query_of(&location(&response))["screen_hint"], "sign-up");
    let response = h.get("/dashboard/settings", None).await;
    assert_eq!(query_of(&location(&response))["screen_hint"], "sign-in");
}

fn header_names(response: &http::Response<Body>) -> Vec<String> {
    response
        .headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn no_internal_authkit_headers_reach_the_browser() {
    let h = protect_with_public_paths().await;
    let cookie = h.sign_in().await;
    let expired = h.expired_session().await;
    let responses = [
        h.get("/dashboard/join", None).await,
        h.get("/dashboard", Some(&cookie)).await,
        h.get("/dashboard", Some(&expired)).await,
        h.get("/public", None).await,
    ];
    for response in &responses {
        for name in header_names(response) {
            assert!(
                !name.starts_with("x-workos")
                    && !name.starts_with("x-authkit")
                    && !["x-sign-up-paths", "x-url", "x-redirect-uri"].contains(&name.as_str()),
                "internal header {name} leaked"
            );
        }
    }
}

#[tokio::test]
async fn middleware_auth_deletes_a_dead_cookie_and_redirects() {
    let h = protect_everything().await;
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let response = h.get("/dashboard", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(deletes_cookie(response.headers(), "wos-session"));
    let q = query_of(&location(&response));
    let flow_cookie = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("wos-auth-verifier-"))
        .expect("a new flow");
    // The new flow's cookie, named after its state (holding its secret, #23 item 4).
    assert!(
        flow_cookie.starts_with(&format!(
            "{}=",
            authkit_leptos::testing::pkce_cookie_name(&q["state"])
        )),
        "{flow_cookie}"
    );
}

#[tokio::test]
async fn middleware_auth_keeps_a_cookie_through_a_transient_failure_but_still_redirects() {
    let h = protect_everything().await;
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(503));
    let response = h.get("/dashboard", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(
        session_set_cookie(&response).is_none(),
        "the session cookie survives the outage"
    );
}

#[tokio::test]
async fn a_request_without_an_accept_header_is_not_treated_as_a_page() {
    let h = protect_everything().await;
    let response = h
        .send(Request::get("/dashboard").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookies(response.headers()).is_empty(), "no flow cookie");
}
