//! What the layer covers by default, in an app built the way the start-axum template builds
//! one: `.leptos_routes(…)` with no context, the template's `file_and_error_handler`
//! fallback, then `.merge(authkit.routes())` and `.layer(authkit.layer())`.
//!
//! - every page the app renders is covered without being listed anywhere — a Leptos route,
//!   and the fallback's 404 page — so a signed-in user never sees a signed-out nav;
//! - the site's own files (`/pkg/…`, `favicon.ico`) never are: no cookie read, no refresh,
//!   no `private, no-store`, no `Vary: Cookie`, under the default and under a catch-all
//!   matcher, and a signed-out visitor in middleware-auth mode still gets them;
//! - every session-dependent answer says in `Server-Timing` whether it was signed in, which
//!   is how the provider in the browser learns at once that the session ended.

use crate::support::*;
use authkit_leptos::{use_auth, AuthKitLayer, AuthKitProvider, FinishAbandonedRendersLayer};
use axum::Router;
use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderMap, StatusCode};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use leptos_router::components::{Route, Router as LeptosRouter, Routes};
use leptos_router::path;
use std::path::PathBuf;
use std::time::Duration;

#[component]
fn CoverageApp() -> impl IntoView {
    view! {
        <AuthKitProvider>
            <Nav />
            <LeptosRouter>
                <Routes fallback=|| "Page not found.">
                    <Route path=path!("/listed/nowhere") view=|| "A page no matcher lists" />
                </Routes>
            </LeptosRouter>
        </AuthKitProvider>
    }
}

#[component]
fn Nav() -> impl IntoView {
    let auth = use_auth();
    view! {
        <nav>
            {move || match auth.user() {
                Some(user) => format!("nav: signed in as {}", user.email),
                None => "nav: Sign in".to_owned(),
            }}
        </nav>
    }
}

fn shell(options: LeptosOptions) -> impl IntoView {
    let _ = options;
    view! {
        <!DOCTYPE html>
        <html>
            <head></head>
            <body><CoverageApp /></body>
        </html>
    }
}

/// A site root with cargo-leptos's output (`pkg/`) and an asset (`favicon.ico`).
fn site_root() -> PathBuf {
    let root = std::env::temp_dir().join(format!(
        "authkit-coverage-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("pkg/app.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(root.join("pkg/app.js"), b"export default 1;").unwrap();
    std::fs::write(root.join("favicon.ico"), b"icon").unwrap();
    root
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The template's router with AuthKit added, the layer shaped by `layer`.
async fn template_app(layer: fn(AuthKitLayer) -> AuthKitLayer) -> (Harness, PathBuf) {
    let (emulator, kit) = emulator_and_kit(&Options::default()).await;
    let root = site_root();
    let options = LeptosOptions::builder()
        .output_name("app")
        .site_root(root.to_str().unwrap())
        .site_pkg_dir("pkg")
        .build();
    let routes = generate_route_list(CoverageApp);
    let app = Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(FinishAbandonedRendersLayer::new())
        .merge(kit.routes())
        .layer(layer(kit.layer().site(&options)))
        .with_state(options);
    let harness = Harness {
        emulator,
        kit,
        app,
        user: "ada@example.com",
    };
    (harness, root)
}

fn timing(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("server-timing")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_page_listed_nowhere_and_the_404_page_render_signed_in() {
    let (h, root) = template_app(|l| l).await;
    let cookie = h.sign_in().await;
    let (response, body) = h.page("/listed/nowhere", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("A page no matcher lists"), "{body}");
    assert!(
        body.contains("nav: signed in as ada@example.com"),
        "a signed-in user sees the signed-in nav: {body}"
    );
    assert_eq!(
        timing(response.headers()),
        ["authkit-session;desc=signed-in"]
    );

    let (response, body) = h.page("/no/such/page", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found."), "{body}");
    assert!(
        body.contains("nav: signed in as ada@example.com"),
        "the fallback's 404 page too: {body}"
    );
    assert!(
        response.headers()[CACHE_CONTROL]
            .to_str()
            .unwrap()
            .starts_with("private, no-cache, no-store"),
        "a page rendered for a session is never cached publicly"
    );

    let (_, body) = h.page("/listed/nowhere", None).await;
    assert!(body.contains("nav: Sign in"), "{body}");
    std::fs::remove_dir_all(root).unwrap();
}

/// A session whose access token is in the refresh window: a covered request would refresh
/// it and write a new cookie.
async fn expiring(h: &Harness) -> String {
    h.session_expiring_in(Duration::from_secs(5), Duration::from_secs(300))
        .await
}

#[tokio::test]
async fn site_files_keep_their_headers_under_the_default_and_a_catch_all() {
    for (name, layer) in [
        ("default", (|l| l) as fn(AuthKitLayer) -> AuthKitLayer),
        ("catch-all matcher", |l: AuthKitLayer| {
            l.matcher(["/:path*"]).unwrap()
        }),
        ("catch-all, middleware auth", |l: AuthKitLayer| {
            l.matcher(["/:path*"])
                .unwrap()
                .middleware_auth(["/"])
                .unwrap()
        }),
    ] {
        let (h, root) = template_app(layer).await;
        let cookie = expiring(&h).await;
        for path in ["/pkg/app.wasm", "/pkg/app.js", "/favicon.ico"] {
            for sent in [Some(cookie.as_str()), None] {
                let response = h.get(path, sent).await;
                let headers = response.headers();
                assert_eq!(response.status(), StatusCode::OK, "{name} {path}");
                assert!(
                    headers
                        .get(CACHE_CONTROL)
                        .is_none_or(|v| !v.to_str().unwrap().contains("private")),
                    "{name} {path}: {headers:?}"
                );
                assert!(
                    headers.get_all(VARY).iter().all(|v| !v
                        .to_str()
                        .unwrap()
                        .to_ascii_lowercase()
                        .contains("cookie")),
                    "{name} {path}: {headers:?}"
                );
                assert!(headers.get(SET_COOKIE).is_none(), "{name} {path}");
                assert!(timing(headers).is_empty(), "{name} {path}");
            }
        }
        assert_eq!(
            h.refresh_exchanges(),
            0,
            "{name}: a site file never refreshes a session"
        );
        // A page with the same cookie is covered and refreshes it once.
        let response = h.get("/listed/nowhere", Some(&cookie)).await;
        assert!(session_set_cookie(&response).is_some(), "{name}");
        assert_eq!(h.refresh_exchanges(), 1, "{name}");
        std::fs::remove_dir_all(root).unwrap();
    }
}

/// WorkOS ends the session (revoked, say) and the access token has expired: the next
/// covered request's refresh is refused, the cookie is deleted, and the answer says
/// `signed-out` — what the provider in the browser watches for.
#[tokio::test]
async fn an_answer_after_the_session_ended_says_signed_out() {
    let (h, root) = template_app(|l| l).await;
    let cookie = h.expired_session().await;
    let sid = token_claims(&cookie)["sid"].as_str().unwrap().to_owned();
    assert!(h.emulator.end_session(&sid));
    let response = h.get("/listed/nowhere", Some(&cookie)).await;
    assert!(deletes_cookie(response.headers(), "wos-session"));
    assert_eq!(
        timing(response.headers()),
        ["authkit-session;desc=signed-out"]
    );
    std::fs::remove_dir_all(root).unwrap();
}
