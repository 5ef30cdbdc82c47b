//! Helpers for your own tests (feature `testing`): sign in through the real flow against
//! the built-in emulator, with no browser, and get the session cookie to send.
//!
//! ```no_run
//! use authkit_leptos::emulator::{Emulator, Seed};
//! use authkit_leptos::testing::EmulatorConfig as _;
//! use authkit_leptos::{testing, AuthKit};
//!
//! # async fn test() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = Emulator::builder().seed(Seed::demo()?).auto_approve().start().await?;
//! let config = emulator
//!     .config_builder()
//!     .redirect_uri("http://localhost:3000/callback")
//!     .cookie_password(authkit_leptos::Secret::random_cookie_password())
//!     .build()?;
//! let authkit = AuthKit::new(config)?;
//! let app: axum::Router = axum::Router::new()
//!     // your routes …
//!     .merge(authkit.routes())
//!     .layer(authkit.layer().matcher(["/:path*"])?);
//!
//! let cookie = testing::sign_in(&app, &authkit, "ada@example.com").await?;
//! // Send `cookie.header()` as the `Cookie` header of your requests.
//! # let _ = cookie;
//! # Ok(()) }
//! ```
//!
//! ## The sign-in flow's and the cookies' internals
//!
//! For tests that forge, replay or inspect a sign-in flow or the cookies the layer writes
//! (this crate's own suites do; an app's tests rarely need more than [`sign_in`]): the
//! sealed OAuth `state` ([`FlowState`]), the name of its `wos-auth-verifier-…` cookie
//! ([`pkce_cookie_name`], [`flow_cookie_name`]), the `Set-Cookie` values the crate writes
//! ([`session_set_cookie`], [`pkce_set_cookie`]), how it reads a request's session cookies
//! ([`SessionCookies`]) and the `Cache-Control` it sets ([`PRIVATE_NO_STORE`]). The
//! application API never needs them.
//!
//! ## Load runs
//!
//! [`spawn_runtime_stats`] (or [`spawn_runtime_stats_from_env`]) keeps the server's count
//! of alive tokio tasks in a file, once a second, for a load run that checks the count
//! comes back to where it started (this repository's `scripts/soak.sh` does, against the
//! demo and `examples/start-axum`).

use crate::authkit::AuthKit;
use crate::config::{AuthKitConfig, AuthKitConfigBuilder};
use crate::emulator::Emulator;
use axum::body::Body;
use http::{header, Request, StatusCode};
use std::fmt;
use tower::ServiceExt as _;

mod runtime_stats;

pub use runtime_stats::{
    spawn_runtime_stats, spawn_runtime_stats_from_env, RuntimeStatsError, RUNTIME_STATS_INTERVAL,
};

/// For tests: the `Cache-Control` value on every response that carries a session (or a
/// redirect to sign in), so no cache stores it.
pub use crate::headers::PRIVATE_NO_STORE;
/// For tests that forge or inspect a sign-in flow: what is sealed into the OAuth `state`
/// (and into the flow's cookie), and why it could not be sealed or read.
pub use crate::oauth_state::{FlowState, StateError};
/// For tests that follow a sign-in flow by hand: the flow cookie's name for a sealed
/// state, and how long that state (and its cookie) lives.
pub use crate::session::{flow_cookie_name, pkce_cookie_name, PKCE_STATE_TTL};
/// For tests of the cookie attributes: the `Set-Cookie` values the crate writes for a
/// session and for a flow, and how it reads a request's session cookies.
pub use crate::session::{pkce_set_cookie, session_set_cookie, SessionCookies};
/// A signed-in session cookie, as the browser would hold it: one `wos-session` cookie, or
/// for a session over 4096 bytes its parts `wos-session.0`, `wos-session.1`, ….
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCookie {
    /// `(name, value)` of each cookie, parts in order.
    pairs: Vec<(String, String)>,
    /// The whole seal (the parts joined).
    value: String,
}

impl SessionCookie {
    /// The sealed value (for a split session, its parts joined).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// `name=value` (or `name.0=…; name.1=…` for a split session), for a `Cookie`
    /// request header.
    pub fn header(&self) -> String {
        self.pairs
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// How many cookies the browser holds for the session (1, or the number of parts).
    pub fn cookie_count(&self) -> usize {
        self.pairs.len()
    }
}

impl fmt::Debug for SessionCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCookie")
            .field(
                "names",
                &self
                    .pairs
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Why [`sign_in`] could not sign in.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    /// A step answered something else than expected.
    #[error("sign-in step `{step}` answered {status}: {detail}")]
    Step {
        /// The step (`start`, `authorize`, `callback`).
        step: &'static str,
        /// Its status.
        status: u16,
        /// What was missing. Start the emulator with `.auto_approve()` so `authorize`
        /// redirects back at once.
        detail: String,
    },
    /// The emulator could not be reached.
    #[error("cannot reach the emulator: {0}")]
    Network(String),
}

fn step(step: &'static str, status: StatusCode, detail: impl Into<String>) -> SignInError {
    SignInError::Step {
        step,
        status: status.as_u16(),
        detail: detail.into(),
    }
}

/// Points an [`AuthKitConfig`] at a running [`Emulator`]: `emulator.config_builder()`
/// (bring it in with `use authkit_leptos::testing::EmulatorConfig as _;`).
pub trait EmulatorConfig {
    /// An [`AuthKitConfig`] builder pointed at this emulator (client id, API key, API base
    /// URL); add the redirect URI and cookie password.
    fn config_builder(&self) -> AuthKitConfigBuilder;
}

impl EmulatorConfig for Emulator {
    fn config_builder(&self) -> AuthKitConfigBuilder {
        AuthKitConfig::builder()
            .client_id(self.client_id())
            .api_key(self.api_key())
            .api_base_url(self.base_url())
    }
}

/// Signs in as the seeded user `email` through `app` (which must merge
/// [`AuthKit::routes`]) and the emulator `authkit` points at (started with
/// `.auto_approve()`): the start route, the emulator's `authorize`, and the callback —
/// the real flow, PKCE and state checks included. Returns the session cookie.
pub async fn sign_in(
    app: &axum::Router,
    authkit: &AuthKit,
    email: &str,
) -> Result<SessionCookie, SignInError> {
    let start_path = format!(
        "{}?login_hint={}",
        authkit.sign_in_path(),
        url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>()
    );
    let start = app
        .clone()
        .oneshot(
            Request::get(start_path)
                .body(Body::empty())
                .map_err(|e| step("start", StatusCode::BAD_REQUEST, e.to_string()))?,
        )
        .await
        .map_err(|e| match e {})?;
    let location = header_str(start.headers(), header::LOCATION).ok_or_else(|| {
        step(
            "start",
            start.status(),
            "no redirect to AuthKit (is `authkit.routes()` merged?)",
        )
    })?;

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| SignInError::Network(e.to_string()))?;
    let back = client
        .get(&location)
        .send()
        .await
        .map_err(|e| SignInError::Network(e.to_string()))?;
    let back_status =
        StatusCode::from_u16(back.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let back_location = back
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| url::Url::parse(v).ok())
        .ok_or_else(|| {
            step(
                "authorize",
                back_status,
                "no redirect back (start the emulator with `.auto_approve()`)",
            )
        })?;
    let state = back_location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| step("authorize", back_status, "no state in the redirect"))?;

    let verifier_name = flow_cookie_name(authkit.config().cookie(), &state);
    let verifier = start
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .find(|pair| pair.starts_with(&format!("{verifier_name}=")))
        .ok_or_else(|| step("start", start.status(), "no flow cookie"))?
        .to_owned();
    let callback_path = format!(
        "{}?{}",
        back_location.path(),
        back_location.query().unwrap_or_default()
    );
    let callback = app
        .clone()
        .oneshot(
            Request::get(callback_path)
                .header(header::COOKIE, verifier)
                .body(Body::empty())
                .map_err(|e| step("callback", StatusCode::BAD_REQUEST, e.to_string()))?,
        )
        .await
        .map_err(|e| match e {})?;
    let name = &authkit.config().cookie().name;
    let set: Vec<(String, String)> = callback
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next()?.split_once('='))
        .filter(|(_, value)| !value.is_empty())
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let single = set.iter().find(|(n, _)| n == name).cloned();
    let pairs = match single {
        Some(pair) => vec![pair],
        None => {
            // A split session: `name.0`, `name.1`, … in order.
            let mut parts: Vec<(usize, (String, String))> = set
                .into_iter()
                .filter_map(|(n, v)| {
                    let index = n.strip_prefix(name.as_str())?.strip_prefix('.')?;
                    Some((index.parse().ok()?, (n, v)))
                })
                .collect();
            parts.sort_by_key(|(i, _)| *i);
            parts.into_iter().map(|(_, pair)| pair).collect()
        }
    };
    if pairs.is_empty() {
        return Err(step("callback", callback.status(), "no session cookie"));
    }
    let value = pairs.iter().map(|(_, v)| v.as_str()).collect();
    Ok(SessionCookie { pairs, value })
}

fn header_str(headers: &http::HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

/// The `WorkOS-Signature` header value WorkOS would send with webhook `body` for an
/// endpoint whose secret is `secret`, signed now: `t=<unix ms>, v1=<hex HMAC-SHA256>`.
/// For tests that post events to the webhook route ([`AuthKit::routes`] mounts it when
/// `WORKOS_WEBHOOK_SECRET` is set).
pub fn sign_webhook(secret: &str, body: &[u8]) -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    crate::revocation::webhook::sign(secret, body, now_ms)
}
