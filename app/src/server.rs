//! The demo's axum router: the Leptos pages and server functions, the "third-party API"
//! of the data page, the AuthKit routes, and the AuthKit layer over all of them. `main`
//! serves it; tests build the same router in-process.

use crate::app::{shell, App};
use crate::DemoContext;
use authkit_leptos::{
    provide_csp_nonce, AuthKit, CallbackOptions, ContentSecurityPolicyLayer,
    FinishAbandonedRendersLayer,
};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// The whole demo app for `authkit`, with `public_url` (the demo's own base URL, which the
/// data page's server function calls) and the site layout in `leptos_options`.
///
/// The layer covers every page and server function the app renders (no list of pages)
/// and never the site's files under `leptos_options` (`/pkg/…`, `favicon.ico`).
///
/// Every response carries a strict Content-Security-Policy
/// ([`authkit_leptos::STRICT_POLICY`]: inline script only with the response's nonce, no
/// inline style at all), whose nonce the pages' scripts carry ([`provide_csp_nonce`] in
/// both render contexts: the routes and the not-found fallback).
pub fn router(authkit: &AuthKit, leptos_options: LeptosOptions, public_url: String) -> Router {
    let routes = generate_route_list(App);
    let demo = DemoContext { public_url };
    Router::new()
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || {
                provide_csp_nonce();
                provide_context(demo.clone());
            },
            {
                let leptos_options = leptos_options.clone();
                move || shell(leptos_options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context(
            provide_csp_nonce,
            shell,
        ))
        // Leptos 0.8 keeps an abandoned render's tasks alive; this runs it to its end.
        .layer(FinishAbandonedRendersLayer::new())
        .route("/demo-api/data", get(demo_api).with_state(authkit.clone()))
        // The callback's own pages (the organization picker, "verify your email", …) wear
        // the demo's stylesheet; they have no inline style, so a strict CSP holds.
        .merge(authkit.routes_with(CallbackOptions::default().stylesheet(crate::app::STYLESHEET)))
        .layer(authkit.layer().site(&leptos_options))
        // Outermost: the pages, the server functions, the site's files and the AuthKit
        // routes' own pages all carry the policy.
        .layer(ContentSecurityPolicyLayer::strict())
        .with_state(leptos_options)
}

/// The "third-party API" of the data page: it accepts a WorkOS access token as a bearer
/// token and verifies it against the JWKS, as your own backend would.
async fn demo_api(State(authkit): State<AuthKit>, headers: HeaderMap) -> impl IntoResponse {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "missing bearer token" })),
        );
    };
    match authkit.verifier().verify(token).await {
        Ok(claims) => (
            StatusCode::OK,
            Json(serde_json::json!({
                "message": "Hello from the demo API",
                "user_id": claims.sub,
                "organization_id": claims.org_id,
                "permissions": claims.permissions,
            })),
        ),
        Err(_) => (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "invalid or expired access token" })),
        ),
    }
}
