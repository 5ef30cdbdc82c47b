//! [`AuthKitLayer`]: the tower layer that resolves the session once per request.
//!
//! For every request whose path its matcher covers, the layer reads the session cookie,
//! unseals it, checks the access token against the sealed user, verifies it against the
//! WorkOS JWKS, refreshes it when it is expired or about to expire (one exchange per
//! refresh token at a time, see [`crate::refresh`]), and puts the result into the
//! request's extensions, where [`with_auth`](crate::with_auth) finds it during SSR and in
//! server functions alike — so both see the *refreshed* session, never the stale cookie.
//! On the way out it writes the new cookie (or deletes a dead one) and marks the response
//! private.
//!
//! Threat model: the session is only ever read from the sealed cookie and handed on in
//! request extensions, which a client cannot set; headers a client sends (for example the
//! `x-workos-session` header authkit-nextjs uses internally) are never trusted. A cookie
//! that is garbage, tampered with, sealed with another password, or belongs to another
//! user is treated as "signed out" and deleted; WorkOS being down or slow (timeouts
//! apply) never deletes a cookie. Nothing secret is logged.
//!
//! Deployment caveat: `Secure` on the cookies follows the scheme of the configured
//! redirect URI (an app behind a TLS-terminating proxy sees plain http requests).
//!
//! Add the layer *after* the routes (`Router::layer` only wraps routes that exist):
//!
//! ```no_run
//! # use authkit_leptos::{AuthKit, AuthKitConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let authkit = AuthKit::new(AuthKitConfig::from_env()?)?;
//! let app: axum::Router = axum::Router::new()
//!     // .leptos_routes(...).fallback(...)
//!     .merge(authkit.routes())
//!     .layer(
//!         authkit
//!             .layer()
//!             .matcher(["/", "/dashboard/:path*", "/profile/:path*"])?
//!             .middleware_auth(["/", "/about"])?,
//!     );
//! # Ok(()) }
//! ```

use crate::auth::SignInOptions;
use crate::authkit::{AuthKit, CookieAction, Resolved, SessionUpdate};
use crate::error::AuthError;
use crate::jwt::AccessTokenClaims;
use crate::matcher::{Matcher, MatcherError};
use crate::oauth_state::{sanitize_return_path, verifier_cookies, FlowState};
use crate::session::{session_delete_cookie, session_set_cookies, Session, SessionCookies};
use crate::workos::{AuthorizationUrlParams, PkcePair, ScreenHint};
use axum::body::Body;
use http::header::{
    HeaderValue, ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE, VARY,
};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// The `Cache-Control` of every response that depends on a session.
pub const PRIVATE_NO_STORE: &str = "private, no-cache, no-store, must-revalidate, max-age=0";

/// Where Leptos mounts server functions by default; covered unless
/// [`AuthKitLayer::without_server_fns`] is called.
pub const DEFAULT_SERVER_FN_PATTERN: &str = "/api/:path*";

/// Signed-out visitors are sent to sign in, except on these paths.
#[derive(Clone, Debug, Default)]
struct MiddlewareAuth {
    unauthenticated: Matcher,
}

#[derive(Debug)]
struct LayerConfig {
    kit: AuthKit,
    matcher: Matcher,
    middleware_auth: Option<MiddlewareAuth>,
    sign_up_paths: Arc<Matcher>,
}

/// The AuthKit tower layer. Build it with [`AuthKit::layer`].
#[derive(Clone, Debug)]
pub struct AuthKitLayer {
    config: Arc<LayerConfig>,
}

impl AuthKit {
    /// The layer, covering only the server-function paths (`/api/:path*`) until
    /// [`matcher`](AuthKitLayer::matcher) adds yours.
    pub fn layer(&self) -> AuthKitLayer {
        let mut matcher = Matcher::default();
        // The pattern is a constant known to compile.
        let _ = matcher.push(DEFAULT_SERVER_FN_PATTERN);
        AuthKitLayer {
            config: Arc::new(LayerConfig {
                kit: self.clone(),
                matcher,
                middleware_auth: None,
                sign_up_paths: Arc::default(),
            }),
        }
    }
}

impl AuthKitLayer {
    fn edit(mut self, f: impl FnOnce(&mut LayerConfig)) -> Self {
        let mut config = LayerConfig {
            kit: self.config.kit.clone(),
            matcher: self.config.matcher.clone(),
            middleware_auth: self.config.middleware_auth.clone(),
            sign_up_paths: self.config.sign_up_paths.clone(),
        };
        f(&mut config);
        self.config = Arc::new(config);
        self
    }

    /// The paths the layer covers, as a Next.js middleware `matcher`
    /// (`"/"`, `"/dashboard/:path*"`, …; see [`crate::matcher`]). Adds to the server-function
    /// pattern. A bad pattern is an error here, at start-up.
    pub fn matcher<I, S>(self, patterns: I) -> Result<Self, MatcherError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let extra = Matcher::new(patterns)?;
        Ok(self.edit(|c| {
            for p in extra.patterns() {
                let _ = c.matcher.push(p);
            }
        }))
    }

    /// Stops covering `/api/:path*` (server functions) by default.
    pub fn without_server_fns(self) -> Self {
        self.edit(|c| {
            let kept: Vec<String> = c
                .matcher
                .patterns()
                .filter(|p| *p != DEFAULT_SERVER_FN_PATTERN)
                .map(str::to_owned)
                .collect();
            c.matcher = Matcher::new(kept).unwrap_or_default();
        })
    }

    /// Middleware-auth mode: signed-out visitors to any covered path are sent to sign in
    /// before the app runs, except on `unauthenticated_paths` (and the callback path,
    /// which is always allowed). Document requests are redirected to AuthKit; other
    /// requests (server functions, `fetch`) get `401` with the sign-in URL.
    ///
    /// A catch-all matcher (`"/:path*"`) covers the site's own files too (cargo-leptos
    /// serves `/pkg/<name>.js` and `.wasm`; `/favicon.ico`), which then answer `401` to
    /// signed-out visitors and the page cannot hydrate: list them here
    /// (`["/", "/pkg/:path*", "/favicon.ico"]`) or keep them out of the matcher.
    ///
    /// The components' own reads of the session (`/api/authkit/snapshot`,
    /// `/api/authkit/access-token`, `/api/authkit/organizations`) are always let through:
    /// they answer a signed-out visitor with "signed out", not an error.
    pub fn middleware_auth<I, S>(self, unauthenticated_paths: I) -> Result<Self, MatcherError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut unauthenticated = Matcher::new(unauthenticated_paths)?;
        let callback = self.config.kit.callback_path().to_owned();
        unauthenticated.push(&crate::matcher::literal_pattern(&callback))?;
        // The components' own reads answer "signed out" themselves (the provider calls them
        // on focus on public pages too); a 401 there would send visitors of public pages
        // to sign in.
        for path in crate::components::server::SIGNED_OUT_ANSWERS {
            unauthenticated.push(&crate::matcher::literal_pattern(path))?;
        }
        Ok(self.edit(|c| c.middleware_auth = Some(MiddlewareAuth { unauthenticated })))
    }

    /// Paths whose sign-in redirect opens the sign-up screen instead.
    pub fn sign_up_paths<I, S>(self, patterns: I) -> Result<Self, MatcherError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let m = Matcher::new(patterns)?;
        Ok(self.edit(|c| c.sign_up_paths = Arc::new(m)))
    }
}

impl<S> tower::Layer<S> for AuthKitLayer {
    type Service = AuthKitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthKitService {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The service [`AuthKitLayer`] wraps around your routes.
#[derive(Clone)]
pub struct AuthKitService<S> {
    inner: S,
    config: Arc<LayerConfig>,
}

impl<S> fmt::Debug for AuthKitService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKitService")
            .field("matcher", &self.config.matcher)
            .finish_non_exhaustive()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, B> tower::Service<Request<B>> for AuthKitService<S>
where
    S: tower::Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call (tower's idiom).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = Arc::clone(&self.config);
        Box::pin(async move {
            // Anything already there did not come from this layer; never trust it.
            req.extensions_mut().remove::<RequestAuth>();
            let path = req.uri().path();
            // The crate's own routes (sign-in, sign-up, sign-out, callback) manage the
            // cookies themselves; resolving (and maybe refreshing) there would only race them.
            if !config.matcher.covers(path) || config.kit.is_own_route(path) {
                return inner.call(req).await;
            }
            let kit = &config.kit;
            let cookie_name = &kit.config().cookie().name;
            let cookies = SessionCookies::from_headers(req.headers(), cookie_name);
            let cookie_value = session_cookie(&cookies, kit);
            let had_cookie = cookies.any();
            let had_authorization = req.headers().contains_key(AUTHORIZATION);
            let resolved = kit.resolve(cookie_value).await;

            let path_and_query = req
                .uri()
                .path_and_query()
                .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
            let path = path_and_query.split('?').next().unwrap_or_default();
            if let Some(ma) = &config.middleware_auth {
                if resolved.session.is_none() && !ma.unauthenticated.matches(path) {
                    let screen = if config.sign_up_paths.matches(path) {
                        ScreenHint::SignUp
                    } else {
                        ScreenHint::SignIn
                    };
                    let mut response =
                        sign_in_response(kit, req.method(), req.headers(), &path_and_query, screen);
                    finish(kit, &mut response, &resolved.cookie, &cookies, true);
                    return Ok(response);
                }
            }

            let auth = RequestAuth::new(
                kit.clone(),
                resolved,
                path_and_query,
                req.method(),
                req.headers(),
                Arc::clone(&config.sign_up_paths),
            );
            req.extensions_mut().insert(auth.clone());
            let mut response = inner.call(req).await?;
            let (signed_in, cookie, consulted) = auth.outcome();
            // Session-dependent: a session or credentials were sent, or the app read the
            // session (a signed-out page or a redirect to sign-in depends on it too).
            finish(
                kit,
                &mut response,
                &cookie,
                &cookies,
                signed_in || had_cookie || had_authorization || consulted,
            );
            if had_authorization {
                append_vary(response.headers_mut(), "Authorization");
            }
            Ok(response)
        })
    }
}

/// The session cookie's value: the first candidate that unseals (each cookie with the
/// session's name, then a split session's parts joined), else the first one (which then
/// reads as signed out and is deleted). Browsers send two cookies with one name when a
/// host-only and a domain cookie coexist (RFC 6265 §5.4); checking more than one costs an
/// unseal only in that case.
fn session_cookie<'a>(cookies: &'a SessionCookies, kit: &AuthKit) -> Option<&'a str> {
    let mut candidates = cookies.candidates();
    let first = candidates.next()?;
    let mut rest = candidates.peekable();
    if rest.peek().is_none() {
        return Some(first);
    }
    let passwords = kit.config().passwords();
    std::iter::once(first)
        .chain(rest)
        .find(|v| Session::unseal(v, passwords).is_ok())
        .or(Some(first))
}

/// Applies the cookie action and, when the response depends on the session, makes it
/// private and uncacheable.
fn finish(
    kit: &AuthKit,
    response: &mut Response<Body>,
    cookie: &CookieAction,
    sent: &SessionCookies,
    session_dependent: bool,
) {
    let config = kit.config();
    let secure_url = Some(config.redirect_uri().as_str());
    let written = match cookie {
        CookieAction::Keep => None,
        CookieAction::Set(sealed) => Some(session_set_cookies(config.cookie(), sealed, secure_url)),
        CookieAction::Delete => Some(vec![session_delete_cookie(config.cookie(), secure_url)]),
    };
    let headers = response.headers_mut();
    // A handler that wrote the session cookie itself (e.g. a custom sign-out) wins.
    let plain = format!("{}=", config.cookie().name);
    let part = format!("{}.", config.cookie().name);
    let handler_set_it = headers.get_all(SET_COOKIE).iter().any(|v| {
        v.as_bytes().starts_with(plain.as_bytes()) || v.as_bytes().starts_with(part.as_bytes())
    });
    if let Some(written) = written.filter(|_| !handler_set_it) {
        let new_cookies: &[String] = match cookie {
            CookieAction::Set(_) => &written,
            _ => &[],
        };
        let stale = sent.stale_deletions(config.cookie(), secure_url, new_cookies);
        // With a cookie domain, a host-only twin may linger from before it was configured:
        // delete it too whenever the session cookie is deleted or replaced.
        let twin = crate::session::session_delete_host_only_cookie(config.cookie(), secure_url);
        for value in written.iter().chain(&stale).chain(&twin) {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(SET_COOKIE, value);
            }
        }
    }
    if session_dependent || !matches!(cookie, CookieAction::Keep) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(PRIVATE_NO_STORE));
        append_vary(headers, "Cookie");
    }
}

/// Adds `value` to `Vary` unless it is already listed (case-insensitively).
fn append_vary(headers: &mut HeaderMap, value: &'static str) {
    let present = headers
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(value) || v.trim() == "*");
    if !present {
        headers.append(VARY, HeaderValue::from_static(value));
    }
}

/// Whether a request is a browser navigation or a plain form post (not `fetch`, not a
/// prefetch): only those may receive cookies for a new sign-in flow or a 302.
pub(crate) fn is_document_request(headers: &HeaderMap) -> bool {
    let accepts_html = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"));
    let prefetch = ["purpose", "sec-purpose", "x-purpose", "x-moz"]
        .iter()
        .any(|h| {
            headers
                .get(*h)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("prefetch"))
        });
    accepts_html && !prefetch
}

/// Redirects a signed-out document request straight to AuthKit (with a new PKCE flow),
/// or answers anything else (server functions, `fetch`, prefetches) with `401` and an
/// [`AuthError::SignInRequired`] body — the encoding Leptos server functions decode, so
/// a WebAssembly caller gets an error whose `sign_in_url()` it can navigate to.
fn sign_in_response(
    kit: &AuthKit,
    method: &Method,
    headers: &HeaderMap,
    path_and_query: &str,
    screen: ScreenHint,
) -> Response<Body> {
    if !is_document_request(headers) {
        // A fetch comes back to the page that made it, not to the endpoint it called.
        let return_to = referer_path(headers).unwrap_or_else(|| "/".to_owned());
        let options = SignInOptions {
            return_to: Some(return_to),
            ..Default::default()
        };
        let error = AuthError::SignInRequired {
            sign_in_url: kit.start_url(screen, &options),
        };
        let body = serde_json::to_string(&error).unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return response;
    }
    let options = SignInOptions {
        return_to: Some(path_and_query.to_owned()),
        ..Default::default()
    };
    match kit.authorization_redirect(screen, &options, &cookie_header(headers)) {
        Ok((url, cookies)) => {
            let status = if method == Method::GET || method == Method::HEAD {
                StatusCode::TEMPORARY_REDIRECT
            } else {
                StatusCode::SEE_OTHER
            };
            redirect(status, url.as_str(), cookies)
        }
        Err(e) => sign_in_unavailable(&e),
    }
}

/// The answer when a sign-in flow cannot be started: 400 for the caller's own mistakes
/// (custom state too large), 503 otherwise.
pub(crate) fn sign_in_unavailable(error: &AuthError) -> Response<Body> {
    let (status, text) = match error {
        AuthError::InvalidInput(message) => (StatusCode::BAD_REQUEST, message.clone()),
        _ => {
            tracing::error!(error = %error, "cannot start a sign-in flow");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable right now. Please try again.".to_owned(),
            )
        }
    };
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Every `Cookie` header of a request, joined (HTTP/2 may send several).
pub(crate) fn cookie_header(headers: &HeaderMap) -> String {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .map(|v| crate::session::cookie_header_text(v.as_bytes()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The same-site path and query of the `Referer`, if there is one.
pub(crate) fn referer_path(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(http::header::REFERER)?.to_str().ok()?;
    let url = url::Url::parse(referer).ok()?;
    Some(sanitize_return_path(&url[url::Position::BeforePath..]))
}

/// Whether a state-changing request came from another site (a forged form post):
/// `Sec-Fetch-Site` says so, or `Origin` names another origin than the app's (the
/// redirect URI's). Requests without either header (non-browser clients) pass.
pub(crate) fn is_cross_site(headers: &HeaderMap, app_origin: &url::Url) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        Some(origin) => url::Url::parse(origin)
            .map(|o| o.origin() != app_origin.origin())
            .unwrap_or(true),
        None => false,
    }
}

/// A redirect response with cookies.
pub(crate) fn redirect(status: StatusCode, location: &str, cookies: Vec<String>) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let location = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    headers.insert(LOCATION, location);
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            headers.append(SET_COOKIE, v);
        }
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(PRIVATE_NO_STORE));
    headers.append(VARY, HeaderValue::from_static("Cookie"));
    response
}

impl AuthKit {
    /// Starts a sign-in flow: a new PKCE pair and sealed state, the authorization URL, and
    /// the verifier cookie(s) to set on the redirect.
    pub(crate) fn authorization_redirect(
        &self,
        screen: ScreenHint,
        options: &SignInOptions,
        request_cookie_header: &str,
    ) -> Result<(url::Url, Vec<String>), AuthError> {
        let pkce = PkcePair::generate().map_err(AuthError::internal)?;
        let state = FlowState::new(
            pkce.code_verifier().to_owned(),
            options.return_to.clone(),
            options.state.clone(),
        )
        .map_err(|e| match e {
            crate::oauth_state::StateError::CustomStateTooLarge(_) => {
                AuthError::InvalidInput(e.to_string())
            }
            e => AuthError::internal(e),
        })?;
        let sealed = state.seal(self.config()).map_err(AuthError::internal)?;
        // The sealed state is the flow cookie's value: a browser drops a cookie over
        // 4096 bytes silently and the callback would fail; refuse clearly instead.
        let cookie_bytes = crate::session::pkce_cookie_name(&sealed).len() + 1 + sealed.len();
        if cookie_bytes > crate::session::MAX_COOKIE_BYTES {
            return Err(AuthError::InvalidInput(format!(
                "the sign-in state would need a {cookie_bytes}-byte cookie, over the {} bytes \
                 browsers keep: shorten the custom state or the return path",
                crate::session::MAX_COOKIE_BYTES
            )));
        }
        let url = self.client().authorization_url(&AuthorizationUrlParams {
            redirect_uri: Some(self.config().redirect_uri().to_string()),
            code_challenge: Some(pkce.code_challenge().to_owned()),
            state: Some(sealed.clone()),
            screen_hint: Some(screen),
            login_hint: options.login_hint.clone(),
            max_age: options.max_age,
            organization_id: options.organization_id.clone(),
            prompt: options.prompt.clone(),
            ..Default::default()
        });
        let cookies = verifier_cookies(
            self.config().cookie(),
            &sealed,
            Some(self.config().redirect_uri().as_str()),
            Some(request_cookie_header),
        );
        Ok((url, cookies))
    }

    /// Whether `path` is one of the routes [`AuthKit::routes`] mounts.
    pub(crate) fn is_own_route(&self, path: &str) -> bool {
        path == self.sign_in_path()
            || path == self.sign_up_path()
            || path == self.callback_path()
            || path == crate::routes::DEFAULT_SIGN_OUT_PATH
    }

    /// A same-origin link that starts signing in with these options (what
    /// [`get_sign_in_url`](crate::get_sign_in_url) returns, for code outside a request:
    /// e-mails, tests). Custom `state` is signed, so only links the app made can carry it.
    pub fn sign_in_link(&self, options: &SignInOptions) -> String {
        self.start_url(ScreenHint::SignIn, options)
    }

    /// [`sign_in_link`](Self::sign_in_link) for AuthKit's sign-up screen.
    pub fn sign_up_link(&self, options: &SignInOptions) -> String {
        self.start_url(ScreenHint::SignUp, options)
    }

    /// The same-origin link to the sign-in (or sign-up) start route with these options.
    pub(crate) fn start_url(&self, screen: ScreenHint, options: &SignInOptions) -> String {
        let path = match screen {
            ScreenHint::SignIn => self.sign_in_path(),
            ScreenHint::SignUp => self.sign_up_path(),
        };
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(v) = &options.return_to {
            query.append_pair("return_to", &sanitize_return_path(v));
        }
        if let Some(v) = &options.organization_id {
            query.append_pair("organization_id", v);
        }
        if let Some(v) = &options.login_hint {
            query.append_pair("login_hint", v);
        }
        if let Some(v) = &options.prompt {
            query.append_pair("prompt", v);
        }
        if let Some(v) = &options.state {
            query.append_pair("state", v);
            query.append_pair(
                "state_mac",
                &crate::oauth_state::custom_state_mac(self.config(), v),
            );
        }
        if let Some(v) = options.max_age {
            query.append_pair("max_age", &v.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }
}

/// The session the layer resolved for one request, shared by everything that handles the
/// request (SSR and server functions). Updates made through it (a refresh, a saved
/// session, a sign-out) are visible to later reads in the same request and written to the
/// response by the layer.
#[derive(Clone)]
pub struct RequestAuth {
    inner: Arc<RequestAuthInner>,
}

struct RequestAuthInner {
    kit: AuthKit,
    state: Mutex<State>,
    path_and_query: String,
    referer_path: Option<String>,
    /// The request came from another site (`Sec-Fetch-Site` / `Origin`).
    cross_site: bool,
    document: bool,
    /// A GET or HEAD: a page load (or a GET server function), not a form post or call.
    reading: bool,
    authorization: Option<String>,
    /// The layer's `sign_up_paths`, for sign-in links made while handling the request.
    sign_up_paths: Arc<Matcher>,
    /// Set once the layer has read the outcome (the response head is being sent).
    finalized: std::sync::atomic::AtomicBool,
    /// Set once anything read or changed the session during the request: the response
    /// then depends on it (even a signed-out one), so it must not be cached publicly.
    consulted: std::sync::atomic::AtomicBool,
}

struct State {
    session: Option<Session>,
    claims: Option<AccessTokenClaims>,
    cookie: CookieAction,
    undetermined: bool,
}

impl fmt::Debug for RequestAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("RequestAuth")
            .field("path", &self.inner.path_and_query)
            .field("user", &state.session.as_ref().map(|s| &s.user.id))
            .finish_non_exhaustive()
    }
}

impl RequestAuth {
    fn new(
        kit: AuthKit,
        resolved: Resolved,
        path_and_query: String,
        method: &Method,
        headers: &HeaderMap,
        sign_up_paths: Arc<Matcher>,
    ) -> Self {
        let referer_path = referer_path(headers);
        let cross_site = is_cross_site(headers, kit.config().redirect_uri());
        let authorization = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Self {
            inner: Arc::new(RequestAuthInner {
                kit,
                state: Mutex::new(State {
                    session: resolved.session,
                    claims: resolved.claims,
                    cookie: resolved.cookie,
                    undetermined: resolved.undetermined,
                }),
                path_and_query,
                referer_path,
                cross_site,
                document: is_document_request(headers),
                reading: method == Method::GET || method == Method::HEAD,
                authorization,
                sign_up_paths,
                finalized: std::sync::atomic::AtomicBool::new(false),
                consulted: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// The screen a sign-in that returns to `return_to` opens: sign-up on the layer's
    /// `sign_up_paths`, as in middleware-auth mode.
    pub(crate) fn screen_for(&self, return_to: &str) -> ScreenHint {
        let path = return_to.split(['?', '#']).next().unwrap_or(return_to);
        if self.inner.sign_up_paths.matches(path) {
            ScreenHint::SignUp
        } else {
            ScreenHint::SignIn
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The AuthKit handle.
    pub fn authkit(&self) -> &AuthKit {
        &self.inner.kit
    }

    /// The request's path and query.
    pub fn path_and_query(&self) -> &str {
        &self.inner.path_and_query
    }

    /// The same-origin page a server-function request came from (its `Referer`).
    pub(crate) fn referer_path(&self) -> Option<&str> {
        self.inner.referer_path.as_deref()
    }

    /// Whether the request is a GET or HEAD (a page load), rather than a post or a call.
    pub(crate) fn is_read(&self) -> bool {
        self.inner.reading
    }

    /// Refuses a state-changing request (not GET/HEAD) sent from another site: a forged
    /// form post or `fetch` must not switch, refresh or save anyone's session.
    pub(crate) fn refuse_cross_site_write(&self) -> Result<(), AuthError> {
        if self.inner.cross_site && !self.inner.reading {
            return Err(AuthError::InvalidInput(
                "cross-site request refused: the session can only be changed from this site"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// Whether the request is a browser navigation or a plain form post.
    pub fn is_document_request(&self) -> bool {
        self.inner.document
    }

    /// The request's `Authorization` header.
    pub(crate) fn authorization(&self) -> Option<&str> {
        self.inner.authorization.as_deref()
    }

    /// The current session and its verified claims.
    pub(crate) fn current(&self) -> Option<(Session, AccessTokenClaims)> {
        self.inner
            .consulted
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let state = self.lock();
        match (&state.session, &state.claims) {
            (Some(s), Some(c)) => Some((s.clone(), c.clone())),
            _ => None,
        }
    }

    /// Signed out for this request only because the session could not be checked now
    /// (JWKS or WorkOS unavailable); the cookie was kept.
    pub(crate) fn is_undetermined(&self) -> bool {
        self.lock().undetermined
    }

    /// Replaces the session (after a refresh or `save_session`); the layer writes the cookie.
    pub(crate) fn update(&self, update: &SessionUpdate) {
        self.warn_if_finalized();
        let mut state = self.lock();
        state.session = Some(update.session.clone());
        state.claims = Some(update.claims.clone());
        state.cookie = CookieAction::Set(update.sealed.clone());
        state.undetermined = false;
    }

    /// Ends the session for the rest of the request; the layer deletes the cookie.
    pub(crate) fn clear(&self) {
        self.warn_if_finalized();
        let mut state = self.lock();
        state.session = None;
        state.claims = None;
        state.cookie = CookieAction::Delete;
        state.undetermined = false;
    }

    /// A session change after the response head went out (e.g. from a resource that
    /// resolves while a page streams) cannot reach the browser; say so loudly.
    fn warn_if_finalized(&self) {
        if self
            .inner
            .finalized
            .load(std::sync::atomic::Ordering::Acquire)
        {
            tracing::warn!(
                path = %self.inner.path_and_query,
                "the session changed after the response head was sent; the new cookie is lost. \
                 Change the session in a server function or a blocking resource."
            );
        }
    }

    /// (signed in, cookie action, whether the session was consulted).
    fn outcome(&self) -> (bool, CookieAction, bool) {
        self.inner
            .finalized
            .store(true, std::sync::atomic::Ordering::Release);
        let consulted = self
            .inner
            .consulted
            .load(std::sync::atomic::Ordering::Relaxed);
        let state = self.lock();
        (state.session.is_some(), state.cookie.clone(), consulted)
    }
}
