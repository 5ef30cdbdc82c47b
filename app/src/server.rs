//! The demo's axum router: the Leptos pages and server functions, the "third-party API"
//! of the data page, the AuthKit routes, and the AuthKit layer over all of them. `main`
//! serves it; tests build the same router in-process.

use crate::app::{shell, App};
use crate::DemoContext;
use authkit_leptos::{AuthKit, MatcherError};
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The pages the AuthKit layer covers: the `withAuth` docs' matcher (`/`, `/dashboard/:path*`,
/// `/profile/:path*`) plus the demo's other pages. Server functions under `/api` are covered too.
pub const MATCHER: [&str; 8] = [
    "/",
    "/about",
    "/profile/:path*",
    "/dashboard/:path*",
    "/protected/:path*",
    "/data/:path*",
    "/features/:path*",
    "/team/:path*",
];

/// The whole demo app for `authkit`, with `public_url` (the demo's own base URL, which the
/// data page's server function calls) and the site layout in `leptos_options`.
///
/// # Errors
/// When a [`MATCHER`] pattern does not compile (never, for the patterns above).
pub fn router(
    authkit: &AuthKit,
    leptos_options: LeptosOptions,
    public_url: String,
) -> Result<Router, MatcherError> {
    let routes = generate_route_list(App);
    let context = {
        let authkit = authkit.clone();
        let demo = DemoContext { public_url };
        move || {
            provide_context(authkit.clone());
            provide_context(demo.clone());
        }
    };
    Ok(Router::new()
        .leptos_routes_with_context(&leptos_options, routes, context, {
            let leptos_options = leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        // Only the Leptos routes above (pages, server functions, the fallback's shell).
        .layer(middleware::from_fn(finish_abandoned_renders))
        .route("/demo-api/data", get(demo_api).with_state(authkit.clone()))
        .merge(authkit.routes())
        .layer(authkit.layer().matcher(MATCHER)?)
        .with_state(leptos_options))
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

// ---------------------------------------------------------------- abandoned renders

/// How long a render that lost its client may still run to its end.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// Leptos responses are produced to their end even when the client leaves early.
///
/// With leptos_axum 0.8 (leptos_integration_utils 0.8.9, hydration_context 0.3.2), a page
/// render releases its reactive state only when its HTML stream is read to the end: the
/// stream takes each resource's serialized value out of the render's shared context, and
/// its last item cleans up the root owner. A client that leaves before the end (a closed
/// tab, a proxy timeout, a load generator stopping) drops the handler or the body
/// half-way, and each `Resource` of the page (the page's own, and the one in
/// authkit-leptos's `Impersonation` widget) then keeps a tokio task waiting for ever:
/// hundreds per `scripts/soak.sh` run, which counts tasks. Cleaning up the owner when the
/// body is dropped (what leptos 0.9 does) did not release them here; reading the stream to
/// its end does. So the handler runs in a task of its own, which a leaving client cannot
/// cancel, and a body dropped before its end is read to the end in a new task, within
/// [`DRAIN_LIMIT`]. A panic in the handler still reaches the caller. This can go when a
/// Leptos upgrade passes the soak run without it.
async fn finish_abandoned_renders(request: Request, next: Next) -> Response {
    let (send, receive) = tokio::sync::oneshot::channel();
    let handler = tokio::spawn(async move {
        let response = next.run(request).await;
        // Wrapped before it is handed over: if nobody takes it, it is dropped (and its
        // body read to the end) here or in the channel.
        let _ = send.send(response.map(|body| Body::new(DrainOnDrop { body, done: false })));
    });
    match receive.await {
        Ok(response) => response,
        Err(_) => match handler.await {
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    }
}

/// Reads `body` to its end (or an error), for at most [`DRAIN_LIMIT`].
async fn drain(mut body: Body) {
    let to_end = async {
        while let Some(Ok(_)) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
        }
    };
    let _ = tokio::time::timeout(DRAIN_LIMIT, to_end).await;
}

/// A response body that, dropped before its end, is read to the end in a new task.
struct DrainOnDrop {
    body: Body,
    done: bool,
}

impl HttpBody for DrainOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.body).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            this.done = true;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        if self.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(std::mem::take(&mut self.body)));
        }
    }
}
