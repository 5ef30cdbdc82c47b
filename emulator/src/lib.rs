//! A local WorkOS: a WorkOS User Management server for tests and local development, with
//! no account and no network.
//!
//! It serves the WorkOS endpoints AuthKit uses — `authorize` with a hosted sign-in page,
//! `authenticate` (authorization code with PKCE, single-use rotating refresh tokens), the
//! JWKS, logout, the Sessions API (list and revoke), users, organizations, memberships,
//! the Events API, API-key validation and health — and delivers WorkOS events as signed
//! webhooks ([`EmulatorBuilder::webhook`]), with the same JSON shapes as the real API, so
//! any WorkOS client
//! (the official `@workos-inc/node` SDK, authkit-nextjs, authkit-leptos, your own Rust code)
//! works against it unchanged. It runs in-process for tests, or on its own as a command
//! (feature `cli`: `cli::run`, behind `authkit emulator` in authkit-leptos).
//!
//! ```no_run
//! use workos_emulator::{Emulator, Seed};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = Emulator::builder()
//!     .seed(Seed::demo()?)
//!     .auto_approve_as("ada@example.com")
//!     .start()
//!     .await?;
//! println!("WorkOS at {} (client {})", emulator.base_url(), emulator.client_id());
//! // Point your app's WorkOS client at it: API base URL, client id and API key.
//! let (base_url, client_id, api_key) =
//!     (emulator.base_url(), emulator.client_id(), emulator.api_key());
//! # let _ = (base_url, client_id, api_key);
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! With authkit-leptos, `authkit_leptos::testing::EmulatorConfig` adds
//! `emulator.config_builder()`: an `AuthKitConfig` builder already pointed at it.
//!
//! # What it enforces
//!
//! - `authorize` checks `client_id`, `redirect_uri` (only localhost URLs unless the seed
//!   lists them; a listed `https://*.example.com/callback` accepts one label of any value in
//!   the `*`'s place, as WorkOS's wildcard redirect URIs), `response_type=code` and PKCE
//!   (`S256` only), and echoes `state` byte for byte.
//! - Codes are single use, expire after ten minutes and are bound to the client and the
//!   PKCE challenge. The API key is checked as `client_secret` or `Authorization: Bearer`.
//! - Refresh tokens are **single use** and rotated, as WorkOS does: using one twice answers
//!   `400 invalid_grant`. That is what exposes refresh races in clients.
//! - `organization_id` on a refresh switches the session's organization for an active
//!   member; an organization can be seeded to answer `sso_required` or `mfa_enrollment`.
//! - Logout and revocation end the session (`session.revoked`); its refresh tokens stop
//!   working. A session expires 30 days after sign-in.
//! - A seeded user can require a step at the code exchange, answered in WorkOS's shapes:
//!   `organization_selection_required` (completed by the organization-selection grant),
//!   `email_verification_required`, `mfa_enrollment`, `mfa_challenge` (see [`SeedUser`]).
//! - A member removed from an organization can no longer refresh in it; a changed role
//!   shows in the next refresh.
//! - `GET /events` lists the [events](Event) of the last 30 days, oldest first unless
//!   `order` says otherwise (the README has every parameter); webhooks carry the same
//!   objects, signed `WorkOS-Signature: t=<ms>, v1=<hex HMAC-SHA256 of "<t>.<body>">`.
//!
//! # For tests
//!
//! - Auto-approve ([`EmulatorBuilder::auto_approve`]): `authorize` redirects straight back
//!   with a code for the `login_hint` user, the chosen user, or the first seeded user.
//! - [Counters](Emulator::counters) per endpoint, [faults](Emulator::inject_fault)
//!   (status + `Retry-After`, delay, dropped connection), a movable
//!   [clock](Emulator::advance_clock) and a settable [token lifetime](Emulator::set_token_ttl).
//! - What an admin does in the dashboard, each recording its event: a member's
//!   [role](Emulator::set_member_role), a [removed membership](Emulator::remove_membership),
//!   an [edited](Emulator::update_user) or [deleted](Emulator::delete_user) user, an
//!   [ended session](Emulator::end_session); the [events](Emulator::events) so far, and how
//!   [webhook deliveries](Emulator::webhook_stats) went.
//!
//! The same controls over HTTP, for tests in other languages:
//!
//! | method and path | body | effect |
//! | --- | --- | --- |
//! | `GET /__emulator/counters` | | calls per endpoint ([`Endpoint::as_str`] names), plus `authenticate.<grant_type>` |
//! | `POST /__emulator/counters/reset` | | zeroes the counters |
//! | `GET /__emulator/faults` | | the pending faults |
//! | `POST /__emulator/faults` | `{"endpoint", "status"?, "retry_after"?, "body"?, "delay_ms"?, "drop"?, "times"?}` | queues a fault (one of status, delay, drop) |
//! | `DELETE /__emulator/faults` | | clears them |
//! | `GET /__emulator/clock` | | `{"now", "offset_seconds"}` |
//! | `POST /__emulator/clock` | `{"advance_seconds": n}` (negative moves it back) | moves the clock |
//! | `POST /__emulator/token_ttl` | `{"seconds": n}` | sets the access-token lifetime |
//! | `POST /__emulator/keys/rotate` | | new signing key; the old one stays in the JWKS |
//! | `POST /__emulator/keys/retire` | | unpublishes all but the signing key |
//! | `GET /__emulator/sessions` | | `{"active": n, "sessions": [{"id", "user_id", "user_email", "organization_id"}]}` |
//! | `POST /__emulator/sessions/revoke` | `{"session_id"}` | ends it (`session.revoked`); `{"revoked": false}` if unknown or already ended |
//! | `GET /__emulator/events` | | `{"events": [...]}`: every event kept, oldest first |
//! | `POST /__emulator/memberships/role` | `{"user", "organization", "role"}` | makes `role` the member's only role (`organization_membership.updated`); `{"membership"}` |
//! | `POST /__emulator/memberships/remove` | `{"user", "organization"}` | removes the membership (`organization_membership.deleted`); `{"membership"}` |
//! | `POST /__emulator/users/update` | `{"user", "email"?, "first_name"?, "last_name"?, "email_verified"?, "locale"?, "external_id"?, "metadata"?}` | `user.updated`; `{"user"}` |
//! | `POST /__emulator/users/delete` | `{"user"}` | revokes their sessions, removes their memberships, deletes them (`user.deleted`); `{"sessions_revoked": n}` |
//! | `GET /__emulator/webhooks` | | `{"configured", "url", "delivered", "failed", "attempts", "pending"}` |
//!
//! A `user` is an id or an email, an `organization` an id or a name. An unknown one answers
//! `404`, a malformed body `400`, both `{"code", "message"}`.
//!
//! # Threat model
//!
//! None: this is a development and test tool. Anyone who can reach it can sign in as any
//! seeded user, impersonate, and change its clock and faults. It binds to `127.0.0.1`
//! unless told otherwise; do not expose it. Its API key and tokens are still kept out of
//! `Debug` output and logs so that test logs stay clean.

mod admin;
mod api;
mod authorize;
mod clock;
mod controls;
mod events;
mod faults;
mod ids;
mod keys;
mod pages;
mod paging;
mod pkce;
mod seed;
mod server;
mod sessions;
mod state;
mod store;
mod urlencoded;
mod webhooks;
mod wire;

// The README's examples are compiled as doc tests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

/// Fuzzing entry (`fuzz/`, through authkit-leptos's `fuzzing` module): a POST body as the
/// API reads it, form-encoded or JSON. Never panics. Not part of the API.
#[doc(hidden)]
pub fn fuzz_body(form: bool, body: &[u8]) {
    let mut headers = http::HeaderMap::new();
    if form {
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
    }
    let _ = api::parse_body(&headers, body);
    let _ = urlencoded::parse(&String::from_utf8_lossy(body));
}

#[cfg(feature = "cli")]
pub mod cli;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;

pub use controls::{ControlError, UserUpdate};
pub use events::Event;
pub use faults::{Counters, Endpoint, Fault, FaultKind, GrantType};
// The seed's secrets (API keys, passwords): `secrecy`'s string, wiped on drop and shown by
// `Debug` as `[REDACTED]`, re-exported so a test needs no dependency of its own to build one.
pub use secrecy::{ExposeSecret, SecretString};
pub use seed::Impersonator;
pub use seed::{
    MembershipStatus, MfaStep, Requirement, Seed, SeedApiKey, SeedDomain, SeedError,
    SeedMembership, SeedOrganization, SeedPermission, SeedRole, SeedUser, SwitchError,
};
pub use webhooks::WebhookStats;

use crate::keys::SigningKey;
use crate::server::Running;
use crate::state::AppState;
use crate::store::{AutoApprove, Settings, Store};

/// The client id when neither the builder nor the seed pins one.
pub const DEFAULT_CLIENT_ID: &str = "client_emulator";
/// The API key when neither the builder nor the seed pins one.
pub const DEFAULT_API_KEY: &str = "sk_test_emulator";
/// The default access-token lifetime (WorkOS's): 5 minutes.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The seed could not be read or is inconsistent.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source} (is another process using the port?)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The auto-approve email is not a seeded user.
    #[error(
        "auto-approve names `{0}`, but no seeded user has that email; add the user to the seed"
    )]
    UnknownAutoApproveUser(String),
    /// The client id or API key is empty.
    #[error("the emulator's {0} must not be empty")]
    EmptyCredential(&'static str),
    /// The RSA signing key could not be generated.
    #[error("could not generate the RSA signing key: {0}")]
    Key(String),
    /// The webhook URL is not an absolute `http://` URL, or its client could not be built.
    #[error("webhook: {0}")]
    Webhook(String),
}

/// Configures and starts an [`Emulator`]. Values set here win over the seed's.
#[derive(Default)]
pub struct EmulatorBuilder {
    seed: Option<Seed>,
    seed_file: Option<PathBuf>,
    client_id: Option<String>,
    api_key: Option<SecretString>,
    redirect_uris: Vec<String>,
    token_ttl: Option<Duration>,
    auto_approve: Option<Option<String>>,
    host: Option<IpAddr>,
    port: u16,
    webhook: Option<(String, SecretString)>,
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("seed_file", &self.seed_file)
            .field("client_id", &self.client_id)
            .field("api_key", &self.api_key)
            .field("token_ttl", &self.token_ttl)
            .field("auto_approve", &self.auto_approve)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("webhook_url", &self.webhook.as_ref().map(|(url, _)| url))
            .finish_non_exhaustive()
    }
}

impl EmulatorBuilder {
    /// Uses this seed (replaces an earlier `seed` or `seed_file`).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self.seed_file = None;
        self
    }

    /// Reads the seed from this YAML/JSON file at start (replaces an earlier `seed`).
    pub fn seed_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed_file = Some(path.into());
        self.seed = None;
        self
    }

    /// Pins the client id (default: the seed's, else [`DEFAULT_CLIENT_ID`]).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Pins the API key (default: the seed's, else [`DEFAULT_API_KEY`]).
    pub fn api_key(mut self, api_key: impl Into<SecretString>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// Allows this redirect URI (once any is given, only listed ones are accepted).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Sets the access-token lifetime (default 5 minutes; zero issues expired tokens).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = Some(ttl);
        self
    }

    /// Signs in without a page: `authorize` redirects straight back with a code for the
    /// `login_hint` user, else the seed's first user.
    pub fn auto_approve(mut self) -> Self {
        self.auto_approve = Some(None);
        self
    }

    /// Like [`auto_approve`](Self::auto_approve), with this seeded user as the default.
    pub fn auto_approve_as(mut self, email: impl Into<String>) -> Self {
        self.auto_approve = Some(Some(email.into()));
        self
    }

    /// The address to bind (default `127.0.0.1`).
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = Some(host);
        self
    }

    /// The port to bind (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Delivers every event to `url` as a WorkOS webhook signed with `secret` (what the
    /// app's `WORKOS_WEBHOOK_SECRET` must be): a `POST` of the event object with
    /// `WorkOS-Signature: t=<unix ms>, v1=<hex HMAC-SHA256 of "<t>.<body>">`, in order, on
    /// a task of its own, retried on failure. See [`Emulator::webhook_stats`].
    pub fn webhook(mut self, url: impl Into<String>, secret: impl Into<SecretString>) -> Self {
        self.webhook = Some((url.into(), secret.into()));
        self
    }

    /// Loads the seed, generates the signing key, binds and starts serving.
    pub async fn start(self) -> Result<Emulator, EmulatorError> {
        let seed = match (&self.seed, &self.seed_file) {
            (Some(seed), _) => seed.clone(),
            (None, Some(path)) => Seed::from_file(path)?,
            (None, None) => Seed::default(),
        };
        let resolved = seed.resolve()?;

        let client_id = self
            .client_id
            .or_else(|| seed.client_id.clone())
            .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_owned());
        let api_key = self
            .api_key
            .or_else(|| seed.api_key.clone())
            .unwrap_or_else(|| SecretString::from(DEFAULT_API_KEY));
        if client_id.trim().is_empty() {
            return Err(EmulatorError::EmptyCredential("client id"));
        }
        if api_key.expose_secret().trim().is_empty() {
            return Err(EmulatorError::EmptyCredential("API key"));
        }
        let mut redirect_uris = seed.redirect_uris.clone();
        for uri in &self.redirect_uris {
            if !seed::is_valid_redirect_uri(uri) {
                return Err(SeedError::Invalid {
                    field: "redirect_uri".to_owned(),
                    message: format!("`{uri}` is not an absolute http(s) URL without a fragment"),
                }
                .into());
            }
            redirect_uris.push(uri.clone());
        }
        let auto_approve = match &self.auto_approve {
            None => AutoApprove::Off,
            Some(None) => AutoApprove::FirstUser,
            Some(Some(email)) => {
                let index = seed
                    .users
                    .iter()
                    .position(|u| u.email.trim().eq_ignore_ascii_case(email.trim()))
                    .ok_or_else(|| EmulatorError::UnknownAutoApproveUser(email.clone()))?;
                match resolved.user_ids.get(index) {
                    Some(id) => AutoApprove::User(id.clone()),
                    None => return Err(EmulatorError::UnknownAutoApproveUser(email.clone())),
                }
            }
        };
        let token_ttl = self
            .token_ttl
            .or(seed.token_ttl_seconds.map(Duration::from_secs))
            .unwrap_or(DEFAULT_TOKEN_TTL);
        let webhook = match self.webhook {
            None => None,
            Some((url, secret)) => {
                // Plain HTTP only: the endpoint is the app under test, on this machine
                // or a trusted network, and the client then needs no TLS stack.
                let parsed = url::Url::parse(&url)
                    .ok()
                    .filter(|u| u.scheme() == "http" && u.host().is_some())
                    .ok_or_else(|| {
                        EmulatorError::Webhook(format!(
                            "`{url}` is not an absolute http:// URL (deliveries are plain HTTP)"
                        ))
                    })?;
                if secret.expose_secret().trim().is_empty() {
                    return Err(EmulatorError::EmptyCredential("webhook secret"));
                }
                Some((parsed, secret))
            }
        };

        let key = tokio::task::spawn_blocking(SigningKey::generate)
            .await
            .map_err(|e| EmulatorError::Key(e.to_string()))?
            .map_err(|e| EmulatorError::Key(e.to_string()))?;

        let addr = SocketAddr::new(
            self.host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            self.port,
        );
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let base_url = format!("http://{}", display_addr(bound));

        let settings = Settings {
            client_id: client_id.clone(),
            api_key: api_key.clone(),
            redirect_uris,
            token_ttl,
            auto_approve,
            base_url: base_url.clone(),
        };
        let mut store = Store::new(settings, &seed, &resolved, key);
        let delivery = match webhook {
            None => None,
            Some((url, secret)) => {
                let (queue, delivery) =
                    webhooks::start(url, secret.clone()).map_err(EmulatorError::Webhook)?;
                store.events.deliver_to(queue);
                Some((delivery, secret))
            }
        };
        let state = AppState::new(store);
        let running = server::spawn(listener, state.clone())
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        Ok(Emulator {
            state,
            running,
            base_url,
            client_id,
            api_key,
            webhooks: delivery,
        })
    }
}

/// `127.0.0.1:8787`; IPv6 in brackets; an unspecified address shown as loopback so the URL
/// is usable.
fn display_addr(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => format!("127.0.0.1:{}", addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => format!("[::1]:{}", addr.port()),
        _ => addr.to_string(),
    }
}

/// A running emulator. It stops when dropped or on [`shutdown`](Self::shutdown).
pub struct Emulator {
    state: AppState,
    running: Running,
    base_url: String,
    client_id: String,
    api_key: SecretString,
    /// The webhook delivery task and its secret, when a webhook URL is configured.
    webhooks: Option<(webhooks::Delivery, SecretString)>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts configuring an emulator.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Registers one more redirect URI (as the builder's
    /// [`redirect_uri`](EmulatorBuilder::redirect_uri) does), e.g. once an app's configuration
    /// is known. While none is registered only localhost URLs are accepted.
    pub fn register_redirect_uri(&self, uri: impl Into<String>) {
        let uri = uri.into();
        let mut store = self.state.lock();
        if !store.settings.redirect_uris.contains(&uri) {
            store.settings.redirect_uris.push(uri);
        }
    }

    /// `http://127.0.0.1:<port>`, with no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// The client id (`WORKOS_CLIENT_ID`).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The API key (`WORKOS_API_KEY`).
    pub fn api_key(&self) -> &str {
        self.api_key.expose_secret()
    }

    /// The JWKS URL, `{base_url}/sso/jwks/{client_id}`.
    pub fn jwks_url(&self) -> String {
        format!("{}/sso/jwks/{}", self.base_url, self.client_id)
    }

    /// A snapshot of the per-endpoint call counters.
    pub fn counters(&self) -> Counters {
        self.state.lock().counters.clone()
    }

    /// Zeroes the counters.
    pub fn reset_counters(&self) {
        self.state.lock().counters = Counters::default();
    }

    /// Queues a fault for the next calls to `endpoint` (after any already queued for it).
    pub fn inject_fault(&self, endpoint: Endpoint, fault: Fault) {
        self.state.lock().faults.push(endpoint, fault);
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.state.lock().faults.clear();
    }

    /// Moves the emulator's clock forward (codes and sign-in requests expire, new tokens
    /// carry later `iat`/`exp`).
    pub fn advance_clock(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.state.lock().clock.shift_ms(ms);
    }

    /// Moves the emulator's clock back. Tokens issued afterwards are already expired for
    /// a client on the real clock once `by` exceeds the token lifetime.
    pub fn rewind_clock(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.state.lock().clock.shift_ms(-ms);
    }

    /// Sets the lifetime of access tokens issued from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.state.lock().settings.token_ttl = ttl;
    }

    /// Generates a new signing key and returns its `kid`. Tokens are signed with it from
    /// now on; the previous keys stay in the JWKS until
    /// [`retire_old_signing_keys`](Self::retire_old_signing_keys).
    pub async fn rotate_signing_key(&self) -> Result<String, EmulatorError> {
        let key = tokio::task::spawn_blocking(SigningKey::generate)
            .await
            .map_err(|e| EmulatorError::Key(e.to_string()))?
            .map_err(|e| EmulatorError::Key(e.to_string()))?;
        Ok(self.state.lock().rotate_key(key))
    }

    /// Unpublishes every key but the current signing key.
    pub fn retire_old_signing_keys(&self) {
        self.state.lock().retired_keys.clear();
    }

    /// The `kid` of the key that signs new tokens.
    pub fn signing_key_id(&self) -> String {
        self.state.lock().signing_key.kid().to_owned()
    }

    /// Ends a session as logout does (`session.revoked`; its refresh tokens stop working);
    /// `false` if it was unknown or already ended.
    pub fn end_session(&self, session_id: &str) -> bool {
        self.state.lock().end_session(session_id)
    }

    /// Every event recorded in the last 30 days (of the emulator's clock), oldest first,
    /// as `GET /events` lists them.
    pub fn events(&self) -> Vec<Event> {
        self.state
            .lock()
            .events
            .all()
            .map(|e| e.event.clone())
            .collect()
    }

    /// Makes `role` the only role of `user` (id or email) in `organization` (id or name),
    /// as an admin would in the dashboard: records `organization_membership.updated`, and
    /// the member's sessions carry the new role and its permissions from their next
    /// refresh.
    pub fn set_member_role(
        &self,
        user: &str,
        organization: &str,
        role: &str,
    ) -> Result<(), ControlError> {
        self.state
            .lock()
            .set_member_role(user, organization, role)
            .map(drop)
    }

    /// Removes `user` (id or email) from `organization` (id or name): records
    /// `organization_membership.deleted`; their sessions in that organization can no longer
    /// refresh in it (`invalid_grant`).
    pub fn remove_membership(&self, user: &str, organization: &str) -> Result<(), ControlError> {
        self.state
            .lock()
            .remove_membership(user, organization)
            .map(drop)
    }

    /// Changes `user` (id or email): records `user.updated`.
    pub fn update_user(&self, user: &str, update: UserUpdate) -> Result<(), ControlError> {
        self.state.lock().update_user(user, update).map(drop)
    }

    /// Deletes `user` (id or email): revokes each of their active sessions
    /// (`session.revoked`), removes their memberships (`organization_membership.deleted`)
    /// and records `user.deleted`. Returns how many sessions were revoked.
    pub fn delete_user(&self, user: &str) -> Result<usize, ControlError> {
        self.state.lock().delete_user(user)
    }

    /// The webhook secret (`WORKOS_WEBHOOK_SECRET`), when a webhook URL is configured.
    pub fn webhook_secret(&self) -> Option<&str> {
        self.webhooks
            .as_ref()
            .map(|(_, secret)| secret.expose_secret())
    }

    /// How webhook deliveries have gone so far (all zero without a webhook URL).
    pub fn webhook_stats(&self) -> WebhookStats {
        self.webhooks
            .as_ref()
            .map(|(delivery, _)| delivery.stats())
            .unwrap_or_default()
    }

    /// Waits until every event recorded so far has been delivered or given up on;
    /// `false` if that took longer than `timeout`.
    pub async fn wait_for_webhooks(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.webhook_stats().pending > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// How many sessions are open.
    pub fn active_sessions(&self) -> usize {
        self.state.lock().active_sessions()
    }

    /// Stops serving: no new connections; requests in flight get up to five seconds.
    /// Webhook deliveries still queued are dropped (see
    /// [`wait_for_webhooks`](Self::wait_for_webhooks)).
    pub async fn shutdown(mut self) {
        if let Some((delivery, _)) = &self.webhooks {
            delivery.stop();
        }
        if let Some(tx) = self.running.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.running.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.running.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.running.task.take() {
            // Frees the port now; open connections are told to close by the dropped signal.
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handle_can_be_shared_across_tasks() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Emulator>();
        assert_send_sync::<EmulatorBuilder>();
        assert_send_sync::<Counters>();
    }

    #[test]
    fn display_addr_is_usable_in_a_url() {
        assert_eq!(display_addr("0.0.0.0:80".parse().unwrap()), "127.0.0.1:80");
        assert_eq!(display_addr("[::]:80".parse().unwrap()), "[::1]:80");
        assert_eq!(display_addr("[::1]:80".parse().unwrap()), "[::1]:80");
        assert_eq!(
            display_addr("10.0.0.1:8787".parse().unwrap()),
            "10.0.0.1:8787"
        );
    }
}
