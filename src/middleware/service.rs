//! [`AuthKitService`]: what the layer wraps around the app's routes, and the pass a
//! covered request takes through it.

use super::future::ResponseFuture;
use super::response::{append_vary, finish, sign_in_response};
use super::site::SiteFiles;
use crate::authkit::{AuthKit, CookieAction, Resolved, SessionCookie};
use crate::matcher::Matcher;
use crate::request_auth::RequestAuth;
use crate::session::SessionCookies;
use crate::workos::ScreenHint;
use axum::body::Body;
use http::header::AUTHORIZATION;
use http::{Request, Response};
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

/// What an `AuthKitLayer` was configured with; every service it makes shares one.
#[derive(Clone, Debug)]
pub(super) struct LayerConfig {
    pub(super) kit: AuthKit,
    /// `None`: the whole app (the default); else only these paths.
    pub(super) matcher: Option<Matcher>,
    /// The server-function paths (`/api/:path*`).
    pub(super) server_fns: Matcher,
    /// Whether they are covered (with either coverage); off after `without_server_fns`.
    pub(super) cover_server_fns: bool,
    /// Never covered.
    pub(super) site: SiteFiles,
    pub(super) middleware_auth: Option<MiddlewareAuth>,
    pub(super) sign_up_paths: Arc<Matcher>,
}

impl LayerConfig {
    /// Whether the layer resolves the session for `path`.
    fn covers(&self, path: &str) -> bool {
        if self.site.contains(path) {
            return false;
        }
        let server_fn = self.server_fns.covers(path);
        match &self.matcher {
            Some(matcher) => (server_fn && self.cover_server_fns) || matcher.covers(path),
            None => !server_fn || self.cover_server_fns,
        }
    }
}

/// Signed-out visitors are sent to sign in, except on these paths.
#[derive(Clone, Debug, Default)]
pub(super) struct MiddlewareAuth {
    pub(super) unauthenticated: Matcher,
}

/// The service [`AuthKitLayer`](super::AuthKitLayer) wraps around your routes. Its
/// future is a [`ResponseFuture`].
#[derive(Clone)]
pub struct AuthKitService<S> {
    inner: S,
    config: Arc<LayerConfig>,
}

impl<S> AuthKitService<S> {
    pub(super) fn new(inner: S, config: Arc<LayerConfig>) -> Self {
        Self { inner, config }
    }
}

impl<S> fmt::Debug for AuthKitService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKitService")
            .field("matcher", &self.config.matcher)
            .finish_non_exhaustive()
    }
}

impl<S, B> tower::Service<Request<B>> for AuthKitService<S>
where
    S: tower::Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // Anything already there did not come from this layer; never trust it.
        req.extensions_mut().remove::<RequestAuth>();
        let path = req.uri().path();
        // The crate's own routes (sign-in, sign-up, sign-out, callback) manage the
        // cookies themselves; resolving (and maybe refreshing) there would only race them.
        if !self.config.covers(path) || self.config.kit.is_own_route(path) {
            if !self.config.site.contains(path) {
                // Uncovered pages still find the handle (sign-in links, the components'
                // settings, `with_auth`'s "not covered" error) without app context.
                req.extensions_mut().insert(self.config.kit.clone());
            }
            return ResponseFuture::inner(self.inner.call(req));
        }
        // The clone is not ready; keep the ready one for this call (tower's idiom).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let config = Arc::clone(&self.config);
        ResponseFuture::session(Box::pin(session_pass(inner, config, req)))
    }
}

/// A covered request: resolve its session, send a signed-out visitor to sign in first
/// (middleware-auth mode), else run the inner service with the [`RequestAuth`] in the
/// request's extensions; then write the session's outcome on the response.
async fn session_pass<S, B>(
    mut inner: S,
    config: Arc<LayerConfig>,
    mut req: Request<B>,
) -> Result<Response<Body>, S::Error>
where
    S: tower::Service<Request<B>, Response = Response<Body>>,
{
    let kit = &config.kit;
    let cookie_name = &kit.config().cookie().name;
    let cookies = SessionCookies::from_headers(req.headers(), cookie_name);
    let had_cookie = cookies.any();
    let had_authorization = req.headers().contains_key(AUTHORIZATION);
    let resolved = match kit.session_cookie(&cookies, req.headers()) {
        SessionCookie::None => kit.resolve(None).await,
        SessionCookie::One(value) => kit.resolve(Some(&value)).await,
        // Two sessions in one request, one of them planted: signed out for this request,
        // and nothing written over either (the warning is logged where it was found).
        SessionCookie::Conflict => Resolved::signed_out(CookieAction::Keep),
    };

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
            let mut response = sign_in_response(
                kit,
                req.method(),
                req.headers(),
                req.uri(),
                &path_and_query,
                screen,
            );
            finish(kit, &mut response, &resolved.cookie, &cookies, true, false);
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
        signed_in,
    );
    if had_authorization {
        append_vary(response.headers_mut(), "Authorization");
    }
    Ok(response)
}
