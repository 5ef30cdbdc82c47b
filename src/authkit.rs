//! [`AuthKit`]: the one handle an app builds at start-up. It owns the validated
//! configuration, the WorkOS client, the token verifier (with its JWKS cache) and the
//! refresh gate, and hands out the axum layer and routes (example on the type).

use crate::cache::ExactCache;
use crate::config::AuthKitConfig;
use crate::jwt::{decode_unverified, unix_now, AccessTokenClaims, JwtError, TokenVerifier};
use crate::lookups::{Lookups, DEFAULT_LOOKUP_RATE};
use crate::refresh::publication::{open_result, seal_result, StoreNames};
use crate::refresh::shared::Exchanger;
use crate::refresh::{
    RefreshError, RefreshErrorHook, RefreshFailure, RefreshOutcome, RefreshStore, RefreshSuccess,
    RefreshSuccessHook, Refresher, SessionUpdate, StoreKey, DEFAULT_GRACE,
};
use crate::revocation::list::Verdict;
use crate::revocation::Revocations;
use crate::session::{alternative_joins, Session, SessionCookies};
use crate::workos::{AuthenticateResponse, WorkOsClient, WorkOsError};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How many unsealed sessions are remembered (a few KiB each; see
/// [`AuthKit::unseal_session`]).
const UNSEALED_SESSION_CACHE: usize = 1024;

/// How many used sign-in states are remembered (32 bytes + an instant each).
const USED_STATES: usize = 65_536;
/// How long a used sign-in state is remembered: its sealed lifetime (600 s) plus iron's
/// 60 s clock skew, after which it no longer unseals anyway.
const USED_STATE_TTL: Duration = Duration::from_secs(660);

/// Where the sign-in start route is mounted by default.
pub(crate) const DEFAULT_SIGN_IN_PATH: &str = "/auth/sign-in";
/// Where the sign-up start route is mounted by default.
pub(crate) const DEFAULT_SIGN_UP_PATH: &str = "/auth/sign-up";
/// Where the webhook route is mounted by default (when a webhook secret is configured).
pub(crate) const DEFAULT_WEBHOOK_PATH: &str = "/auth/webhooks";

/// Why [`AuthKitBuilder::build`] (or [`AuthKit::new`]) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A route path given to the builder does not start with `/`.
    #[error("route path `{path}` must start with `/` (AuthKitBuilder::{method})")]
    RoutePath {
        /// The path as given.
        path: String,
        /// The builder method it was given to (`sign_in_path`, `sign_up_path`).
        method: &'static str,
    },
    /// The WorkOS HTTP client could not be set up.
    #[error(transparent)]
    Client(#[from] WorkOsError),
}

/// Builds an [`AuthKit`] with non-default options.
pub struct AuthKitBuilder {
    config: AuthKitConfig,
    client: Option<WorkOsClient>,
    refresh_buffer: Option<Duration>,
    refresh_grace: Duration,
    jwks_cooldown: Option<Duration>,
    cache_entries: Option<usize>,
    sign_in_path: String,
    sign_up_path: String,
    on_refresh_success: Option<RefreshSuccessHook>,
    on_refresh_error: Option<RefreshErrorHook>,
    refresh_store: Option<Arc<dyn RefreshStore>>,
    lookup_rate: u32,
    accept_nextjs_flows: bool,
    revocations_kept_for: Duration,
    webhook_path: String,
}

impl fmt::Debug for AuthKitBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKitBuilder")
            .field("config", &self.config)
            .field("refresh_buffer", &self.refresh_buffer)
            .finish_non_exhaustive()
    }
}

impl AuthKitBuilder {
    /// Refresh an access token this long before it expires. Default: 30 s for tokens
    /// that live 5 minutes or less, else 60 s (as authkit-nextjs). Zero disables
    /// proactive refresh (tokens are then refreshed once expired).
    pub fn refresh_buffer(mut self, buffer: Duration) -> Self {
        self.refresh_buffer = Some(buffer);
        self
    }

    /// How long a finished refresh keeps answering requests that still carry the old
    /// cookie (default 30 s). See [Refreshing](crate#refreshing).
    pub fn refresh_grace(mut self, grace: Duration) -> Self {
        self.refresh_grace = grace;
        self
    }

    /// The least time between two JWKS fetches triggered by an unknown key id (default
    /// 30 s, as `jose`): a token signed with a key newer than the cache is accepted once
    /// this has passed since the last fetch.
    pub fn jwks_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.jwks_cooldown = Some(cooldown);
        self
    }

    /// How many recently seen session cookies the layer remembers, unsealed and with
    /// their access token verified (default 1024 sessions and 4096 tokens; `0` turns it
    /// off). The same cookie on the next request then costs two lookups (each found by
    /// the value's MAC or signature and confirmed by comparing the whole value) instead of
    /// iron's PBKDF2/HMAC/AES and an RSA verification; the token's `exp`/`nbf` are still
    /// checked on every request, and a token is answered from memory only while the JWKS
    /// still holds the key that verified it. Only values that passed the full check are
    /// stored, with their text (a few KiB per entry).
    pub fn verified_cache_entries(mut self, entries: usize) -> Self {
        self.cache_entries = Some(entries);
        self
    }

    /// Where [`AuthKit::routes`] mounts the sign-in start route (default `/auth/sign-in`).
    pub fn sign_in_path(mut self, path: impl Into<String>) -> Self {
        self.sign_in_path = path.into();
        self
    }

    /// Where [`AuthKit::routes`] mounts the sign-up start route (default `/auth/sign-up`).
    pub fn sign_up_path(mut self, path: impl Into<String>) -> Self {
        self.sign_up_path = path.into();
        self
    }

    /// Called once per successful refresh.
    pub fn on_refresh_success(
        mut self,
        hook: impl Fn(&RefreshSuccess<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.on_refresh_success = Some(Arc::new(hook));
        self
    }

    /// Called once per failed refresh exchange (with whether it was transient),
    /// however many requests waited for it.
    pub fn on_refresh_error(
        mut self,
        hook: impl Fn(&RefreshFailure<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.on_refresh_error = Some(Arc::new(hook));
        self
    }

    /// Shares refresh coordination with the other replicas of this app through `store`
    /// ([`RedisRefreshStore`](crate::RedisRefreshStore), feature `redis`, or your own
    /// [`RefreshStore`]): one WorkOS exchange per refresh token across all of them, and
    /// late requests on any replica get the new session for the grace period. Without
    /// it, the in-process gate coordinates the requests of this process only. See
    /// [`RedisRefreshStore`](crate::RedisRefreshStore) for what is stored and what
    /// happens when the store fails.
    pub fn refresh_store(mut self, store: impl RefreshStore) -> Self {
        self.refresh_store = Some(Arc::new(store));
        self
    }

    /// The most WorkOS calls per second (sustained; bursts of twice as many) the
    /// components' lookups may make together — `/api/authkit/organizations` (the
    /// organizations a user can switch to) and `/api/authkit/organization-name` (the
    /// impersonation banner). Default 20, a fifth of WorkOS's AuthKit read limit.
    ///
    /// Their answers are remembered per user (and per organization) for 30 s, and requests
    /// that arrive together share one call, so a user costs at most one call per 30 s
    /// however often the endpoints are called; over this rate the last answer is served,
    /// else the browser is told to try again. One signed-in user can therefore never push
    /// the app into WorkOS's rate limit for everyone (#23).
    pub fn lookup_rate(mut self, per_second: u32) -> Self {
        self.lookup_rate = per_second;
        self
    }

    /// Whether the callback also finishes sign-in flows that authkit-nextjs started
    /// (default `false`). Their flow cookie holds the sealed state itself — which is also in
    /// the callback URL — under the flow's name or the legacy unsuffixed
    /// `wos-auth-verifier`; this crate's own flows bind the cookie to a secret the URL does
    /// not carry, so a callback URL seen by someone else (a log, a `Referer`, a proxy)
    /// signs in no other browser. Turn it on only while a Next.js app that sends users to
    /// *this* app's callback (a shared redirect URI) is still being moved over: for those
    /// flows, whoever sees the callback URL first can finish the sign-in, as with
    /// authkit-nextjs. The session cookie is interchangeable with a Next.js app either way.
    pub fn accept_nextjs_flows(mut self, accept: bool) -> Self {
        self.accept_nextjs_flows = accept;
        self
    }

    /// How long a revocation or role change WorkOS sent is remembered (default one hour):
    /// at least your access tokens' lifetime (WorkOS dashboard → Authentication →
    /// Sessions; 5 minutes by default), after which every token it could apply to has
    /// expired and its refresh asks WorkOS anyway.
    pub fn revocations_kept_for(mut self, keep: Duration) -> Self {
        self.revocations_kept_for = keep;
        self
    }

    /// Where [`AuthKit::routes`] mounts the webhook route when a webhook secret is
    /// configured (default `/auth/webhooks`); the URL to enter in the WorkOS dashboard
    /// (*Webhooks* → *Create endpoint*) is your app's origin plus this path.
    pub fn webhook_path(mut self, path: impl Into<String>) -> Self {
        self.webhook_path = path.into();
        self
    }

    /// Uses this WorkOS client instead of one built from the configuration.
    pub fn client(mut self, client: WorkOsClient) -> Self {
        self.client = Some(client);
        self
    }

    /// Builds the handle.
    ///
    /// # Errors
    /// [`BuildError::RoutePath`] when a route path does not start with `/`;
    /// [`BuildError::Client`] when the WorkOS HTTP client cannot be set up (TLS).
    pub fn build(self) -> Result<AuthKit, BuildError> {
        for (path, method) in [
            (&self.sign_in_path, "sign_in_path"),
            (&self.sign_up_path, "sign_up_path"),
            (&self.webhook_path, "webhook_path"),
        ] {
            if !path.starts_with('/') {
                return Err(BuildError::RoutePath {
                    path: path.clone(),
                    method,
                });
            }
        }
        let client = match self.client {
            Some(c) => c,
            None => WorkOsClient::new(&self.config)?,
        };
        let off = self.config.features_without_api_key();
        if !off.is_empty() {
            // Once per AuthKit, at start-up: a public client is a choice, but what it turns
            // off should never be a surprise at the first click.
            tracing::warn!(
                features_off = %off.join("; "),
                "no WORKOS_API_KEY: a public client (sign-in with PKCE, the callback, refresh and \
                 sign-out use the client id alone); these features need the key and are off"
            );
        }
        let jwks_client = client.clone();
        let mut verifier = TokenVerifier::builder(move || {
            let client = jwks_client.clone();
            async move { client.fetch_jwks().await }
        });
        if let Some(cooldown) = self.jwks_cooldown {
            verifier = verifier.refetch_cooldown(cooldown);
        }
        if let Some(entries) = self.cache_entries {
            verifier = verifier.verified_token_cache(entries);
        }
        verifier = verifier.issuers(self.config.issuers().iter().cloned());
        let verifier = verifier.build();
        let revocations = Revocations::new(
            self.revocations_kept_for,
            self.config.webhook_secret().map(|s| s.expose()),
            self.refresh_store
                .clone()
                .map(|store| (store, StoreNames::new(self.config.passwords()))),
        );
        let refresher = Refresher::new(
            self.refresh_grace,
            self.refresh_store,
            self.config.passwords(),
        );
        Ok(AuthKit {
            inner: Arc::new(Inner {
                config: self.config,
                client,
                verifier,
                refresher,
                revocations: Arc::new(revocations),
                revocations_keep: self.revocations_kept_for,
                webhook_path: self.webhook_path,
                sessions: ExactCache::new(self.cache_entries.unwrap_or(UNSEALED_SESSION_CACHE)),
                used_states: crate::cache::SeenOnce::new(USED_STATES, USED_STATE_TTL),
                refresh_buffer: self.refresh_buffer,
                sign_in_path: self.sign_in_path,
                sign_up_path: self.sign_up_path,
                on_refresh_success: self.on_refresh_success,
                on_refresh_error: self.on_refresh_error,
                lookups: Lookups::new(self.lookup_rate),
                accept_nextjs_flows: self.accept_nextjs_flows,
            }),
        })
    }
}

struct Inner {
    config: AuthKitConfig,
    client: WorkOsClient,
    verifier: TokenVerifier,
    /// The refresh gate, and the store shared with other replicas.
    refresher: Refresher,
    /// What WorkOS said about sessions (revocations, role changes).
    revocations: Arc<Revocations>,
    revocations_keep: Duration,
    webhook_path: String,
    /// Sessions unsealed recently, by cookie value.
    sessions: ExactCache<Arc<Session>>,
    /// Sign-in states already used by a callback (their nonces' digests).
    used_states: crate::cache::SeenOnce,
    refresh_buffer: Option<Duration>,
    sign_in_path: String,
    sign_up_path: String,
    on_refresh_success: Option<RefreshSuccessHook>,
    on_refresh_error: Option<RefreshErrorHook>,
    /// The components' WorkOS reads, remembered and bounded in rate.
    lookups: ComponentLookups,
    /// The callback finishes flows authkit-nextjs started (cookie = state).
    accept_nextjs_flows: bool,
}

/// The components' lookups: the organizations a user can switch to, and organization names.
pub(crate) type ComponentLookups = Lookups<Arc<[crate::user::OrganizationChoice]>, String>;

/// The AuthKit handle: configuration, WorkOS client, token verifier and refresh gate.
/// Cheap to clone; build one per process. It hands out the axum layer and routes:
///
/// ```no_run
/// use authkit_leptos::{AuthKit, AuthKitConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let authkit = AuthKit::new(AuthKitConfig::from_env()?)?;
/// let app: axum::Router = axum::Router::new()
///     // .leptos_routes(...)
///     .merge(authkit.routes())
///     .layer(authkit.layer().matcher(["/", "/dashboard/:path*", "/profile/:path*"])?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AuthKit {
    inner: Arc<Inner>,
}

impl fmt::Debug for AuthKit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKit")
            .field("config", &self.inner.config)
            .field("sign_in_path", &self.inner.sign_in_path)
            .finish_non_exhaustive()
    }
}

/// What the layer concluded about one request's cookie.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum CookieAction {
    /// Leave the cookie as it is.
    Keep,
    /// Write this sealed session.
    Set(String),
    /// Delete it (unreadable, foreign, or the session ended).
    Delete,
}

/// The sealed session is a bearer credential: `Debug` shows its length only.
impl fmt::Debug for CookieAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keep => f.write_str("Keep"),
            Self::Set(sealed) => write!(f, "Set([sealed session, {} bytes])", sealed.len()),
            Self::Delete => f.write_str("Delete"),
        }
    }
}

/// Which of a request's session cookies is its session ([`AuthKit::session_cookie`]).
#[derive(PartialEq, Eq)]
pub(crate) enum SessionCookie<'a> {
    /// No session cookie.
    None,
    /// This value (a plain cookie, or parts joined).
    One(Cow<'a, str>),
    /// Cookies of different sessions: signed out, and no cookie written over either.
    Conflict,
}

/// The sealed session is a bearer credential: `Debug` shows its length only.
impl fmt::Debug for SessionCookie<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::One(sealed) => write!(f, "One([sealed session, {} bytes])", sealed.len()),
            Self::Conflict => f.write_str("Conflict"),
        }
    }
}

/// The session as resolved for one request.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) session: Option<Arc<Session>>,
    pub(crate) claims: Option<Arc<AccessTokenClaims>>,
    pub(crate) cookie: CookieAction,
    /// Signed out for this request only because the session could not be checked
    /// (JWKS or WorkOS unavailable, or refusing our credentials); the cookie stays.
    pub(crate) undetermined: bool,
}

impl Resolved {
    pub(crate) fn signed_out(cookie: CookieAction) -> Self {
        Self {
            session: None,
            claims: None,
            cookie,
            undetermined: false,
        }
    }

    /// Signed out for now, session unknown: see [`Resolved::undetermined`].
    fn undetermined() -> Self {
        Self {
            undetermined: true,
            ..Self::signed_out(CookieAction::Keep)
        }
    }
}

impl AuthKit {
    /// An AuthKit with default options.
    ///
    /// # Errors
    /// See [`AuthKitBuilder::build`].
    pub fn new(config: AuthKitConfig) -> Result<Self, BuildError> {
        Self::builder(config).build()
    }

    /// Starts an AuthKit with options.
    pub fn builder(config: AuthKitConfig) -> AuthKitBuilder {
        AuthKitBuilder {
            config,
            client: None,
            refresh_buffer: None,
            refresh_grace: DEFAULT_GRACE,
            jwks_cooldown: None,
            cache_entries: None,
            sign_in_path: DEFAULT_SIGN_IN_PATH.to_owned(),
            sign_up_path: DEFAULT_SIGN_UP_PATH.to_owned(),
            on_refresh_success: None,
            on_refresh_error: None,
            refresh_store: None,
            lookup_rate: DEFAULT_LOOKUP_RATE,
            accept_nextjs_flows: false,
            revocations_kept_for: crate::revocation::DEFAULT_KEEP,
            webhook_path: DEFAULT_WEBHOOK_PATH.to_owned(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AuthKitConfig {
        &self.inner.config
    }

    /// The WorkOS client.
    pub fn client(&self) -> &WorkOsClient {
        &self.inner.client
    }

    /// The access-token verifier (and its JWKS cache).
    pub fn verifier(&self) -> &TokenVerifier {
        &self.inner.verifier
    }

    /// The sign-in start route's path.
    pub fn sign_in_path(&self) -> &str {
        &self.inner.sign_in_path
    }

    /// The sign-up start route's path.
    pub fn sign_up_path(&self) -> &str {
        &self.inner.sign_up_path
    }

    /// Whether the callback finishes flows authkit-nextjs started
    /// ([`AuthKitBuilder::accept_nextjs_flows`]).
    pub(crate) fn accepts_nextjs_flows(&self) -> bool {
        self.inner.accept_nextjs_flows
    }

    /// Which of a request's session cookies is its session (the layer's, sign-out's and
    /// the callback's choice alike):
    ///
    /// - one candidate (the usual case) is the session, checked by whoever unseals it;
    /// - several (browsers send a host-only and a domain cookie of one name both, RFC 6265
    ///   §5.4, and someone who can set cookies on the parent domain can add their own):
    ///   those that unseal must all be one session (one user, one WorkOS session id) —
    ///   then the one whose access token expires last — else [`SessionCookie::Conflict`]:
    ///   one of them was planted (cookie tossing), and neither may win;
    /// - a split session whose parts do not unseal as the browser sent them first is
    ///   joined in the other ways the parts allow ([`alternative_joins`]), so junk parts
    ///   planted beside it never sign the user out.
    ///
    /// When nothing unseals, the first candidate is returned (it reads as signed out and is
    /// deleted, as a garbage cookie is).
    ///
    /// [`alternative_joins`]: crate::session::alternative_joins
    pub(crate) fn session_cookie<'a>(
        &self,
        cookies: &'a SessionCookies,
        headers: &http::HeaderMap,
    ) -> SessionCookie<'a> {
        let mut candidates = cookies.candidates();
        let Some(first) = candidates.next() else {
            return SessionCookie::None;
        };
        let single = candidates.next().is_none();
        // The common cases cost nothing here: one plain cookie (`resolve` unseals it), or
        // one split session whose parts unseal as the browser sent them (a cache lookup
        // after its first request). Junk parts tossed beside a split session, or several
        // candidates, take the checks below.
        if single && (cookies.joined.is_none() || self.unseal_session(first).is_ok()) {
            return SessionCookie::One(Cow::Borrowed(first));
        }
        let mut found: Vec<(Cow<'a, str>, Arc<Session>)> = cookies
            .candidates()
            .filter_map(|v| Some((Cow::Borrowed(v), self.unseal_session(v).ok()?)))
            .collect();
        let joined_unseals = cookies
            .joined
            .as_deref()
            .is_some_and(|j| found.iter().any(|(v, _)| v == j));
        if cookies.joined.is_some() && !joined_unseals {
            for alternative in alternative_joins(headers, &self.config().cookie().name) {
                if let Ok(session) = self.unseal_session(&alternative) {
                    found.push((Cow::Owned(alternative), session));
                }
            }
        }
        let Some((_, reference)) = found.first() else {
            return SessionCookie::One(Cow::Borrowed(first));
        };
        let owner = |s: &Session| (s.user.id.clone(), token_claim(&s.access_token, "sid"));
        let reference = owner(reference);
        if found.iter().any(|(_, s)| owner(s) != reference) {
            tracing::warn!(
                candidates = found.len(),
                "the request carries session cookies of different sessions (a cookie planted \
                 on the parent domain?); signed out for this request, no cookie written"
            );
            return SessionCookie::Conflict;
        }
        // One session in several copies (a host-only and a domain cookie, one refreshed
        // later): the freshest.
        let newest = found
            .into_iter()
            .enumerate()
            .max_by_key(|(i, (_, s))| {
                let exp = token_claim(&s.access_token, "exp")
                    .and_then(|e| e.parse::<u64>().ok())
                    .unwrap_or_default();
                (exp, std::cmp::Reverse(*i))
            })
            .map(|(_, (value, _))| value);
        newest.map_or(SessionCookie::One(Cow::Borrowed(first)), SessionCookie::One)
    }

    /// The components' WorkOS lookups (remembered, bounded in rate).
    pub(crate) fn lookups(&self) -> &ComponentLookups {
        &self.inner.lookups
    }

    /// The webhook route's path, when a webhook secret is configured (see
    /// [`AuthKitBuilder::webhook_path`]).
    pub fn webhook_path(&self) -> Option<&str> {
        self.inner
            .revocations
            .webhook()
            .map(|_| self.inner.webhook_path.as_str())
    }

    /// Polls WorkOS's Events API for session events every `every` (a few seconds is
    /// usual) and applies them as the webhook route does — for apps that cannot receive
    /// webhooks. Revoked sessions are signed out and changed roles refreshed at their next
    /// request (see [`RefreshStore`] for replicas: with one, a single replica polls and the
    /// cursor survives restarts). Runs until the returned task is aborted; call it once,
    /// inside the tokio runtime.
    ///
    /// The Events API needs the API key: for a public client (no `WORKOS_API_KEY`) this
    /// logs one error saying so and returns a task that has nothing to do (it ends at once).
    pub fn spawn_event_poller(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        if !self.inner.client.has_api_key() {
            tracing::error!(
                "the WorkOS Events API poller needs WORKOS_API_KEY, and none is configured: \
                 not polling (use the webhook route, WORKOS_WEBHOOK_SECRET, instead)"
            );
            return tokio::spawn(async {});
        }
        crate::revocation::poller::spawn(
            self.inner.client.clone(),
            Arc::clone(&self.inner.revocations),
            self.inner.revocations_keep,
            every,
        )
    }

    /// What WorkOS said about sessions.
    pub(crate) fn revocations(&self) -> &Revocations {
        &self.inner.revocations
    }

    /// The callback route's path (the redirect URI's path).
    pub fn callback_path(&self) -> &str {
        self.inner.config.redirect_uri().path()
    }

    /// `true` the first time a callback presents the sign-in state with this nonce, `false`
    /// for any later use (RFC 9700 §4.7.1: a state is single-use). With a refresh store,
    /// across replicas; if the store cannot answer, this process's memory decides.
    pub(crate) async fn first_use_of_state(&self, nonce: &str) -> bool {
        let digest = crate::cache::digest(nonce.as_bytes());
        let here = self.inner.used_states.first_use(digest);
        if let Some(shared) = self.inner.refresher.shared() {
            match shared
                .store
                .first_use(&shared.names.nonce(nonce), USED_STATE_TTL)
                .await
            {
                Ok(first) => return here && first,
                Err(e) => tracing::warn!(
                    error = %e,
                    "the refresh store could not record a used sign-in state; this replica's memory decides"
                ),
            }
        }
        here
    }

    /// Whether `claims` are due for a proactive refresh at `now`.
    pub(crate) fn is_expiring(&self, claims: &AccessTokenClaims, now: u64) -> bool {
        let buffer = match self.inner.refresh_buffer {
            Some(b) => b.as_secs(),
            None if claims.lifetime_secs() <= 300 => 30,
            None => 60,
        };
        buffer > 0 && claims.exp < now.saturating_add(buffer)
    }

    /// Unseals a `wos-session` cookie value (what the layer does first on every
    /// request), remembering the result: the same cookie again costs a lookup (by the
    /// seal's MAC, confirmed by comparing the whole value) instead of iron's PBKDF2, HMAC
    /// and AES (a seal's content is a pure function of its bytes and the password map;
    /// only values that unsealed, or that this handle sealed itself at a sign-in, a
    /// refresh or [`save_session`](crate::save_session), are stored, bounded by
    /// [`AuthKitBuilder::verified_cache_entries`]: the first request after this replica
    /// refreshed a session is a repeat). The session is shared (`Arc`) with
    /// that cache: a repeat costs a reference count, not a copy of the session.
    ///
    /// # Errors
    /// [`SealError`](crate::seal::SealError) when the value is not a seal made with one
    /// of the configured passwords (tampered, foreign, truncated).
    pub fn unseal_session(&self, value: &str) -> Result<Arc<Session>, crate::seal::SealError> {
        if let Some(session) = self.inner.sessions.get(value) {
            return Ok(session);
        }
        let session = Arc::new(Session::unseal(value, self.inner.config.passwords())?);
        self.inner.sessions.insert(value, Arc::clone(&session));
        Ok(session)
    }

    /// Reads one request's session cookie value: unseal, check the token against the
    /// user, verify it, and refresh when it is expired or about to expire.
    pub(crate) async fn resolve(&self, cookie_value: Option<&str>) -> Resolved {
        let Some(value) = cookie_value.filter(|v| !v.is_empty()) else {
            return Resolved::signed_out(CookieAction::Keep);
        };
        let session = match self.unseal_session(value) {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, "session cookie does not unseal; treating the visitor as signed out");
                return Resolved::signed_out(CookieAction::Delete);
            }
        };
        let now = unix_now();
        let (current, org) = match self
            .inner
            .verifier
            .verify_allow_expired(&session.access_token)
            .await
        {
            Ok(v) => {
                if v.claims.sub != session.user.id {
                    tracing::debug!(
                        "access token subject differs from the sealed user; signed out"
                    );
                    return Resolved::signed_out(CookieAction::Delete);
                }
                let changed = match self.inner.revocations.verdict(&v.claims) {
                    Verdict::Valid => None,
                    Verdict::Ended => {
                        tracing::debug!("WorkOS ended this session; signed out");
                        return Resolved::signed_out(CookieAction::Delete);
                    }
                    // Roles or permissions changed: refresh now, as if expiring.
                    Verdict::Refresh { at } => Some((v.claims.sid.clone(), at)),
                };
                if !v.expired && changed.is_none() && !self.is_expiring(&v.claims, now) {
                    return Resolved {
                        session: Some(session),
                        claims: Some(v.claims),
                        cookie: CookieAction::Keep,
                        undetermined: false,
                    };
                }
                let org = v.claims.org_id.clone();
                if let Some((sid, at)) = changed {
                    let update = self.refresh(&session, org.as_deref(), false).await;
                    if update.is_ok() {
                        self.inner.revocations.refreshed(sid, at);
                    }
                    let current = (!v.expired).then(|| (Arc::clone(&session), v.claims));
                    return self.after_refresh(update, current);
                }
                (if v.expired { None } else { Some(v.claims) }, org)
            }
            Err(e) if e.is_transient() => {
                // The keys cannot be fetched: nothing can be verified, but the session
                // may well be fine. Signed out for this request; the cookie stays.
                tracing::warn!(error = %e, "cannot verify the access token (JWKS unavailable); keeping the cookie");
                return Resolved::undetermined();
            }
            Err(e @ JwtError::IssuerMismatch { .. }) => {
                // A refresh would get a token from the same issuer: signed out at once (no
                // WorkOS call per request), and the operator told what to configure.
                tracing::warn!(error = %e, "signed out: the access token's issuer is not accepted");
                return Resolved::signed_out(CookieAction::Delete);
            }
            Err(e) => {
                tracing::debug!(error = %e, "access token does not verify; trying a refresh");
                (None, unverified_org(&session.access_token))
            }
        };

        let outcome = self.refresh(&session, org.as_deref(), false).await;
        self.after_refresh(outcome, current.map(|c| (session, c)))
    }

    /// What a request gets after its refresh: the new session; or, when the refresh failed
    /// but the `current` token still works (a proactive refresh), that one; else signed
    /// out — with the cookie deleted only when the session is over.
    fn after_refresh(
        &self,
        outcome: RefreshOutcome,
        current: Option<(Arc<Session>, Arc<AccessTokenClaims>)>,
    ) -> Resolved {
        match outcome {
            Ok(update) => Resolved {
                session: Some(Arc::clone(&update.session)),
                claims: Some(Arc::clone(&update.claims)),
                cookie: CookieAction::Set(update.sealed.clone()),
                undetermined: false,
            },
            Err(e) => {
                if let Some((session, claims)) = current.filter(|(_, c)| c.exp > unix_now()) {
                    // A proactive refresh failed but the token still works: serve it.
                    tracing::debug!(error = %e, "proactive refresh failed; the current token is still valid");
                    return Resolved {
                        session: Some(session),
                        claims: Some(claims),
                        cookie: CookieAction::Keep,
                        undetermined: false,
                    };
                }
                if e.ends_session() {
                    tracing::debug!(error = %e, "the session has ended; deleting its cookie");
                    Resolved::signed_out(CookieAction::Delete)
                } else if e.is_transient() {
                    tracing::warn!(error = %e, "session refresh failed transiently; keeping the cookie");
                    Resolved::undetermined()
                } else {
                    // E.g. 401 from a rotated API key: an operator's problem, not the
                    // user's; deleting every user's cookie would sign everyone out.
                    tracing::error!(error = %e, "session refresh refused; keeping the cookie (check the WorkOS configuration)");
                    Resolved::undetermined()
                }
            }
        }
    }

    /// Exchanges the session's refresh token through the refresher (see
    /// [`Refresher::refresh`]; `requested`: the organization was asked for, not carried
    /// over).
    pub(crate) async fn refresh(
        &self,
        session: &Session,
        organization_id: Option<&str>,
        requested: bool,
    ) -> RefreshOutcome {
        self.inner
            .refresher
            .refresh(self, session, organization_id, requested)
            .await
    }

    /// Forgets every remembered refresh into WorkOS session `sid` (a sign-out): no
    /// earlier cookie of that session can be traded for a newer one afterwards.
    pub(crate) fn forget_session(&self, sid: &str) {
        self.inner.refresher.forget_session(sid);
    }

    /// Forgets a remembered refresh of this session's token (after signing out).
    pub(crate) fn forget_refresh(&self, refresh_token: &str) {
        self.inner.refresher.forget_refresh(refresh_token);
    }

    /// The refresh exchange itself (runs on the gate's task): one retry on 429,
    /// honouring `Retry-After` within 1–10 s.
    async fn exchange_at_workos(self, old: Session, org: Option<String>) -> RefreshOutcome {
        let client = &self.inner.client;
        let mut response = client
            .authenticate_with_refresh_token(&old.refresh_token, org.as_deref())
            .await;
        if let Err(e) = &response {
            if e.status().map(|s| s.as_u16()) == Some(429) {
                let wait = e
                    .retry_after()
                    .unwrap_or(Duration::from_secs(1))
                    .clamp(Duration::from_secs(1), Duration::from_secs(10));
                tracing::debug!(?wait, "WorkOS rate-limited the refresh; retrying once");
                tokio::time::sleep(wait).await;
                response = client
                    .authenticate_with_refresh_token(&old.refresh_token, org.as_deref())
                    .await;
            }
        }
        let result = match response {
            Ok(response) => {
                self.session_update(response, old.authentication_method)
                    .await
            }
            Err(e) => Err(RefreshError::WorkOs(Arc::new(e))),
        };
        let update = match result {
            Ok(update) => update,
            Err(e) => {
                if let Some(hook) = &self.inner.on_refresh_error {
                    hook(&RefreshFailure {
                        error: &e,
                        user_id: &old.user.id,
                    });
                }
                return Err(e);
            }
        };
        if let Some(hook) = &self.inner.on_refresh_success {
            hook(&RefreshSuccess {
                user: &update.session.user,
                organization_id: update.claims.org_id.as_deref(),
                impersonator: update.session.impersonator.as_ref(),
                session_id: &update.claims.sid,
            });
        }
        Ok(Arc::new(update))
    }

    /// The claims of an access token WorkOS just issued (or another replica stored,
    /// sealed with our password). The tokens come straight from WorkOS over TLS; verify
    /// them anyway when the keys are at hand, and fall back to reading the claims if the
    /// JWKS is unreachable (the refresh token was already spent: losing the result would
    /// sign the user out).
    async fn trusted_claims(&self, token: &str) -> Result<Arc<AccessTokenClaims>, RefreshError> {
        Ok(match self.inner.verifier.verify_workos_token(token).await {
            Ok(c) => c,
            Err(e) if e.is_transient() => Arc::new(claims_unverified(token).ok_or(
                RefreshError::Invalid("the new access token cannot be decoded"),
            )?),
            // A key WorkOS has not published yet (even after a refetch): the token came
            // over the authenticated back channel, so it is trusted as authkit-nextjs
            // trusts it, rather than spending the code or refresh token for nothing.
            Err(JwtError::UnknownKid { .. }) => {
                tracing::warn!(
                    "the new access token's key is not in the JWKS yet; trusting WorkOS's answer"
                );
                Arc::new(claims_unverified(token).ok_or(RefreshError::Invalid(
                    "the new access token cannot be decoded",
                ))?)
            }
            Err(JwtError::Expired { claims }) => Arc::new(*claims),
            Err(e) => {
                tracing::warn!(error = %e, "the access token WorkOS returned does not verify");
                return Err(RefreshError::Invalid(
                    "the new access token does not verify",
                ));
            }
        })
    }

    /// Turns an authenticate response into a sealed session (the whitelist of fields).
    pub(crate) async fn session_update(
        &self,
        response: AuthenticateResponse,
        previous_method: Option<String>,
    ) -> Result<SessionUpdate, RefreshError> {
        let claims = self.trusted_claims(&response.access_token).await?;
        if claims.sub != response.user.id {
            return Err(RefreshError::Invalid(
                "the new access token belongs to another user",
            ));
        }
        let session = Session {
            access_token: response.access_token,
            refresh_token: response.refresh_token,
            user: response.user,
            impersonator: response.impersonator,
            authentication_method: response.authentication_method.or(previous_method),
        };
        let sealed = session
            .seal(self.inner.config.passwords())
            .map_err(|e| RefreshError::Seal(e.to_string()))?;
        let session = Arc::new(session);
        // The next request on this replica carries this seal: it unseals to exactly this
        // session (a seal's content is a pure function of its bytes and the passwords), so
        // it goes into the cache of unsealed sessions now and that request is a repeat.
        // Its access token is already in the verifier's cache (`trusted_claims` above).
        self.inner.sessions.insert(&sealed, Arc::clone(&session));
        Ok(SessionUpdate {
            session,
            claims,
            sealed,
        })
    }
}

/// The refresh wing reaches WorkOS and the seals through the handle.
#[async_trait::async_trait]
impl Exchanger for AuthKit {
    async fn exchange(self, old: Session, org: Option<String>) -> RefreshOutcome {
        self.exchange_at_workos(old, org).await
    }

    /// The new cookie, sealed for whoever holds `from` (see
    /// [`publication`](crate::refresh::publication)).
    fn publication(&self, from: &str, name: &StoreKey, update: &SessionUpdate) -> Option<String> {
        seal_result(from, name, &update.sealed)
    }

    fn open(&self, from: &str, name: &StoreKey, published: &str) -> Option<(Session, String)> {
        let cookie = open_result(from, name, published)?;
        match Session::unseal(&cookie, self.inner.config.passwords()) {
            Ok(session) => Some((session, cookie)),
            Err(e) => {
                tracing::warn!(error = %e, "a shared refresh result does not unseal with this app's cookie password");
                None
            }
        }
    }

    /// A session another replica published is checked as a cookie is — its access token
    /// verified against the JWKS (an unknown key id is refetched, within the cooldown, and
    /// then refused), never with the trust a token straight from WorkOS gets — and must be
    /// the requester's: same user, same WorkOS session, and a token whose `sub` is that
    /// user. With write access to Redis, another user's session planted under the
    /// requester's token would otherwise become the requester's (#23 item 2).
    async fn adopted_claims(
        &self,
        requester: &Session,
        found: &Session,
    ) -> Option<Arc<AccessTokenClaims>> {
        let claims = match self
            .inner
            .verifier
            .verify_allow_expired(&found.access_token)
            .await
        {
            Ok(verified) => verified.claims,
            Err(e) => {
                tracing::warn!(error = %e, "a shared refresh result's access token does not verify; not adopting it");
                return None;
            }
        };
        let requester_sid = decode_unverified(&requester.access_token)
            .ok()
            .and_then(|(_, c)| c.get("sid")?.as_str().map(str::to_owned));
        let same_owner = found.user.id == requester.user.id
            && claims.sub == found.user.id
            && requester_sid.as_deref() == Some(claims.sid.as_str());
        if !same_owner {
            tracing::warn!("a shared refresh result belongs to another session; not adopting it");
            return None;
        }
        Some(claims)
    }
}

/// A claim of a token, read without verification, as text (`sid`, `exp`).
fn token_claim(token: &str, claim: &str) -> Option<String> {
    let (_, claims) = decode_unverified(token).ok()?;
    match claims.get(claim)? {
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The `org_id` of a token that did not verify, to keep the organization on refresh.
fn unverified_org(token: &str) -> Option<String> {
    let (_, claims) = decode_unverified(token).ok()?;
    claims.get("org_id")?.as_str().map(str::to_owned)
}

fn claims_unverified(token: &str) -> Option<AccessTokenClaims> {
    let (_, claims) = decode_unverified(token).ok()?;
    serde_json::from_value(claims).ok()
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    //! What a session found in the shared store must be before a replica adopts it
    //! (#23 item 2): verified like a cookie, and the requester's own.

    use super::*;
    use crate::emulator::{Emulator, Seed};
    use crate::testing::{sign_in, EmulatorConfig as _};

    const PASSWORD: &str = "a-cookie-password-of-32-characters!!";

    async fn app(seed: Seed) -> (Emulator, AuthKit, axum::Router) {
        let emulator = Emulator::builder()
            .seed(seed)
            .auto_approve()
            .start()
            .await
            .unwrap();
        let config = emulator
            .config_builder()
            .redirect_uri("http://localhost:3000/callback")
            .cookie_password(PASSWORD)
            .build()
            .unwrap();
        let kit = AuthKit::new(config).unwrap();
        let router = axum::Router::new().merge(kit.routes());
        (emulator, kit, router)
    }

    async fn session(kit: &AuthKit, router: &axum::Router, email: &str) -> Arc<Session> {
        let cookie = sign_in(router, kit, email).await.unwrap();
        kit.unseal_session(cookie.value()).unwrap()
    }

    #[tokio::test]
    async fn only_the_requesters_own_verified_session_is_adopted() {
        let (_emulator, kit, router) = app(Seed::demo().unwrap()).await;
        let ada = session(&kit, &router, "ada@example.com").await;
        // Ada's session, refreshed by "another replica": adopted.
        let refreshed = kit.refresh(&ada, None, false).await.unwrap();
        assert!(kit.adopted_claims(&ada, &refreshed.session).await.is_some());

        // Another user's session planted under Ada's token: refused.
        let grace = session(&kit, &router, "grace@example.com").await;
        assert!(kit.adopted_claims(&ada, &grace).await.is_none());
        // Ada's other session (another browser, another `sid`): refused.
        let ada_elsewhere = session(&kit, &router, "ada@example.com").await;
        assert!(kit.adopted_claims(&ada, &ada_elsewhere).await.is_none());
        // Ada's user with another user's token inside: refused.
        let mixed = Session {
            access_token: grace.access_token.clone(),
            ..(*refreshed.session).clone()
        };
        assert!(kit.adopted_claims(&ada, &mixed).await.is_none());
        // A token whose signature does not verify: refused.
        let mut forged = (*refreshed.session).clone();
        // A character in the middle of the signature (the last one may carry only padding
        // bits).
        let at = forged.access_token.len() - 20;
        let flipped = if &forged.access_token[at..=at] == "A" {
            "B"
        } else {
            "A"
        };
        forged.access_token.replace_range(at..=at, flipped);
        assert!(kit.adopted_claims(&ada, &forged).await.is_none());
    }

    /// A session this handle sealed itself (sign-in, refresh, `save_session`) is in the
    /// cache of unsealed sessions before any request carries it back (#27 item 5): the
    /// first request after a refresh on this replica is a repeat, and it unseals to the
    /// very session the refresh made.
    #[tokio::test]
    async fn a_session_sealed_here_is_a_repeat_on_its_first_request() {
        let (_emulator, kit, router) = app(Seed::demo().unwrap()).await;
        let ada = session(&kit, &router, "ada@example.com").await;
        let refreshed = kit.refresh(&ada, None, false).await.unwrap();
        let cached = kit
            .inner
            .sessions
            .get(&refreshed.sealed)
            .expect("the new seal is cached before it is sent");
        assert!(Arc::ptr_eq(&cached, &refreshed.session));
        assert!(Arc::ptr_eq(
            &kit.unseal_session(&refreshed.sealed).unwrap(),
            &refreshed.session
        ));

        // With the caches off (`verified_cache_entries(0)`), nothing is kept.
        let off = AuthKit::builder(kit.config().clone())
            .verified_cache_entries(0)
            .build()
            .unwrap();
        let refreshed = off.refresh(&refreshed.session, None, false).await.unwrap();
        assert!(off.inner.sessions.get(&refreshed.sealed).is_none());
    }

    /// A token signed with a key this app's JWKS does not hold (another WorkOS — here a
    /// second emulator with the same seed, so the user ids match) is trusted when it comes
    /// over the back channel from WorkOS, never when it comes out of the store.
    #[tokio::test]
    async fn a_token_signed_with_an_unknown_key_is_not_adopted() {
        let (_emulator, kit, router) = app(Seed::demo().unwrap()).await;
        let (_other, other_kit, other_router) = app(Seed::demo().unwrap()).await;
        let ada = session(&kit, &router, "ada@example.com").await;
        let foreign = session(&other_kit, &other_router, "ada@example.com").await;
        assert_eq!(foreign.user.id, ada.user.id, "the same seeded user");
        let planted = Session {
            // The requester's own sid would be needed too; the key check comes first.
            ..(*foreign).clone()
        };
        assert!(kit.adopted_claims(&ada, &planted).await.is_none());
    }
}

#[cfg(test)]
mod debug_tests {
    //! The internal types that carry a sealed session cookie never show it in `Debug`
    //! (#23 item 8): a `{:?}` in a log line must not hand out a session.

    use super::*;

    #[test]
    fn cookie_actions_and_resolved_sessions_hide_the_seal() {
        let sealed = "Fe26.2*1*salt*iv*SEALEDSESSION*exp*salt*mac~2".to_owned();
        let action = CookieAction::Set(sealed.clone());
        assert!(
            !format!("{action:?}").contains("SEALEDSESSION"),
            "{action:?}"
        );
        assert!(format!("{action:?}").starts_with("Set"), "{action:?}");
        let resolved = Resolved::signed_out(CookieAction::Set(sealed.clone()));
        assert!(
            !format!("{resolved:?}").contains("SEALEDSESSION"),
            "{resolved:?}"
        );
        let chosen = SessionCookie::One(Cow::Owned(sealed));
        assert!(
            !format!("{chosen:?}").contains("SEALEDSESSION"),
            "{chosen:?}"
        );
    }
}
