//! The HTTP server: routes, the counting/fault-injecting middleware, and a listener whose
//! connections can be cut on purpose.
//!
//! Counting and faults run as a route layer on the WorkOS endpoints only (the hosted page
//! forms and `/__emulator/` are neither counted nor faultable). A "drop" fault flips a flag
//! shared with the connection's I/O object; from then on the connection refuses to write and
//! reads end-of-file, so the client sees the connection close with no response at all —
//! exactly what a network failure looks like.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::{IncomingStream, Listener};
use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::faults::{Endpoint, FaultKind};
use super::state::AppState;
use super::wire::ApiError;
use super::{admin, api, authorize, controls, events, ids, sessions};

/// Builds the router.
pub(crate) fn router(state: AppState) -> Router {
    let workos = Router::new()
        .route(Endpoint::Authorize.route(), get(authorize::authorize))
        .route(Endpoint::Authenticate.route(), post(api::authenticate))
        .route(Endpoint::Jwks.route(), get(api::jwks))
        .route(Endpoint::Logout.route(), get(api::logout))
        .route(Endpoint::RevokeSession.route(), post(api::revoke))
        .route(Endpoint::GetUser.route(), get(api::get_user))
        .route(
            Endpoint::GetOrganization.route(),
            get(api::get_organization),
        )
        .route(
            Endpoint::ListOrganizationMemberships.route(),
            get(api::list_memberships),
        )
        .route(
            Endpoint::ValidateApiKey.route(),
            post(api::validate_api_key),
        )
        .route(Endpoint::Health.route(), get(api::health))
        .route(Endpoint::ListEvents.route(), get(events::list_events))
        .route(Endpoint::ListSessions.route(), get(sessions::list_sessions))
        .route_layer(middleware::from_fn_with_state(state.clone(), intercept));
    let sign_in_pages = Router::new().route(
        "/__emulator/sign-in/{request}",
        get(authorize::page).post(authorize::submit),
    );
    let control = Router::new()
        .route("/__emulator/counters", get(admin::counters))
        .route("/__emulator/counters/reset", post(admin::reset_counters))
        .route(
            "/__emulator/faults",
            get(admin::list_faults)
                .post(admin::add_fault)
                .delete(admin::clear_faults),
        )
        .route(
            "/__emulator/clock",
            get(admin::clock).post(admin::move_clock),
        )
        .route("/__emulator/token_ttl", post(admin::token_ttl))
        .route("/__emulator/keys/rotate", post(admin::rotate_key))
        .route("/__emulator/keys/retire", post(admin::retire_keys))
        .route("/__emulator/sessions", get(admin::sessions))
        .route(
            "/__emulator/sessions/revoke",
            post(controls::revoke_session),
        )
        .route("/__emulator/events", get(controls::events))
        .route(
            "/__emulator/memberships/role",
            post(controls::set_member_role),
        )
        .route(
            "/__emulator/memberships/remove",
            post(controls::remove_membership),
        )
        .route("/__emulator/users/update", post(controls::update_user))
        .route("/__emulator/users/delete", post(controls::delete_user))
        .route("/__emulator/webhooks", get(controls::webhooks))
        .route_layer(middleware::from_fn(require_ip_or_localhost_host));
    workos
        .merge(sign_in_pages)
        .merge(control)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The test controls answer only requests addressed to an IP address or `localhost`:
/// a web page cannot reach them through a DNS name it controls that resolves to this
/// machine (DNS rebinding), because such a request carries that name in `Host`.
async fn require_ip_or_localhost_host(
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    match host {
        Some(host) if !is_ip_or_localhost(&host) => ApiError::message(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            "The /__emulator/ controls answer only requests to an IP address or localhost."
                .to_owned(),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

/// `host[:port]` names an IP address (v4, or v6 in brackets), `localhost` or `*.localhost`.
fn is_ip_or_localhost(host: &str) -> bool {
    let Ok(url) = url::Url::parse(&format!("http://{host}/")) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => true,
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    }
}

async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::message(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("The emulator has no endpoint {method} {}.", uri.path()),
    )
    .into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::message(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {method}.", uri.path()),
    )
    .into_response()
}

/// Counts the call, applies the next fault for its endpoint, and tags the response with an
/// `X-Request-ID`.
async fn intercept(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| Endpoint::from_route(p.as_str()));
    let Some(endpoint) = endpoint else {
        return next.run(request).await;
    };
    let fault = {
        let mut store = app.lock();
        store.counters.hit(endpoint);
        store.faults.take(endpoint)
    };
    let mut response = match fault {
        None => next.run(request).await,
        Some(FaultKind::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Some(FaultKind::Status {
            status,
            retry_after,
            body,
        }) => {
            let body = body.unwrap_or_else(|| {
                serde_json::json!({
                    "code": "emulated_fault",
                    "message": format!("The emulator was told to answer {} with {status}.", endpoint.as_str()),
                })
            });
            ApiError::with_body(status, body)
                .retry_after(retry_after)
                .into_response()
        }
        Some(FaultKind::DropConnection) => {
            match request.extensions().get::<ConnectInfo<ConnInfo>>() {
                Some(ConnectInfo(conn)) => conn.kill(),
                None => {
                    return ApiError::message(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "emulated_fault",
                        "A dropped connection was requested, but this request has no connection.",
                    )
                    .into_response()
                }
            }
            // Never written: the connection refuses to write from now on.
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    };
    if let Ok(id) = ids::hex_token(16) {
        if let Ok(value) = HeaderValue::from_str(&format!("req_{id}")) {
            response.headers_mut().insert("x-request-id", value);
        }
    }
    response
}

/// A TCP listener whose connections carry a kill switch.
pub(crate) struct KillableListener {
    inner: TcpListener,
}

/// Per-connection information handed to handlers: the connection's kill switch.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    kill: Arc<AtomicBool>,
}

impl ConnInfo {
    fn kill(&self) {
        self.kill.store(true, Ordering::SeqCst);
    }
}

/// A TCP stream that stops working once its connection is killed.
pub(crate) struct ConnIo {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl ConnIo {
    fn killed(&self) -> bool {
        self.kill.load(Ordering::SeqCst)
    }
}

fn aborted() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by fault injection",
    )
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.killed() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl Listener for KillableListener {
    type Io = ConnIo;
    type Addr = ConnInfo;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, _peer)) => {
                    // Best effort: small JSON answers should not wait for Nagle.
                    let _ = stream.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    let io = ConnIo {
                        inner: stream,
                        kill: Arc::clone(&kill),
                    };
                    return (io, ConnInfo { kill });
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()?;
        Ok(ConnInfo {
            kill: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A running server: its address, a shutdown trigger and its task.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) shutdown: Option<oneshot::Sender<()>>,
    pub(crate) task: Option<JoinHandle<()>>,
}

/// Serves `state` on `listener` until the returned shutdown trigger fires or is dropped.
pub(crate) fn spawn(listener: TcpListener, state: AppState) -> io::Result<Running> {
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(state).into_make_service_with_connect_info::<ConnInfo>();
    let server =
        axum::serve(KillableListener { inner: listener }, app).with_graceful_shutdown(async move {
            // Fires on an explicit shutdown and when the handle is dropped.
            let _ = rx.await;
        });
    let task = tokio::spawn(async move {
        // `serve` only returns errors from the listener, which ours never produces.
        let _ = server.await;
    });
    Ok(Running {
        addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}

#[cfg(test)]
mod host_tests {
    #[test]
    fn only_ip_addresses_and_localhost_reach_the_controls() {
        for ok in [
            "127.0.0.1:8787",
            "localhost:8787",
            "LOCALHOST",
            "app.localhost:1",
            "[::1]:8787",
            "10.0.0.5",
        ] {
            assert!(super::is_ip_or_localhost(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8787",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "",
            "a b",
        ] {
            assert!(!super::is_ip_or_localhost(bad), "{bad}");
        }
    }
}
