//! The session of one request: [`RequestAuth`], which the layer resolves once and
//! everything handling the request shares (SSR and server functions alike), and the values
//! it hands out: [`Auth`], [`SignedIn`] and the [`AccessToken`] inside them.
//!
//! The layer creates the `RequestAuth` and puts it into the request's extensions, which a
//! client cannot set; the server API ([`crate::auth`]) reads and changes it; the layer
//! writes what it ends as (a new cookie, a deletion) on the response.

use crate::authkit::{AuthKit, CookieAction, Resolved};
use crate::error::AuthError;
use crate::headers::{is_cross_site, is_document_request, referer_path};
use crate::jwt::AccessTokenClaims;
use crate::matcher::Matcher;
use crate::refresh::SessionUpdate;
use crate::session::Session;
use crate::session_claims::deref_to_claims;
use crate::user::User;
use crate::workos::ScreenHint;
use crate::SessionClaims;
use http::header::AUTHORIZATION;
use http::{HeaderMap, Method};
use std::fmt;
use std::sync::{Arc, Mutex};

/// A WorkOS access token. `Debug` does not show it; call [`as_str`](Self::as_str) where
/// you send it (e.g. `Authorization: Bearer …`).
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub(crate) fn from_string(token: String) -> Self {
        Self(token)
    }

    /// The JWT.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

/// The current session, as `withAuth()` returns it in authkit-nextjs. Every field is empty
/// when the visitor is signed out (`user` is `None`).
///
/// The claims (`organization_id`, `role`, `roles`, `permissions`, `entitlements`,
/// `feature_flags`, `impersonator`) live in its [`SessionClaims`], which it dereferences
/// to: `auth.organization_id` and `auth.has_role("admin")` read them, as flat as
/// `withAuth()`'s `{ user, organizationId, … }` and with the predicates the page's
/// [`AuthContext`](crate::AuthContext) has.
///
/// An `Auth` could hold a session id without a user; the crate never hands one out: an
/// `Auth` from [`RequestAuth::auth`], [`with_auth`](crate::with_auth) or the extractor is
/// either signed out (every field empty, as [`Default`]) or made from a [`SignedIn`]
/// (`user`, `session_id` and `access_token` all set). Code that needs the user should hold
/// the [`SignedIn`] ([`signed_in`](Self::signed_in),
/// [`ensure_signed_in`](crate::ensure_signed_in)), whose fields are not optional.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Auth {
    /// The signed-in user.
    pub user: Option<User>,
    /// The session id (`sid`).
    pub session_id: Option<String>,
    /// The access token, for calling your APIs.
    pub access_token: Option<AccessToken>,
    /// What the session allows (also reached through `Deref`).
    pub claims: SessionClaims,
}
deref_to_claims!(Auth);

/// The session of a signed-in user: [`ensure_signed_in`](crate::ensure_signed_in) returns
/// it, so code holding one never has to check for a missing user. Dereferences to its
/// [`SessionClaims`], as [`Auth`] does.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SignedIn {
    /// The signed-in user.
    pub user: User,
    /// The session id (`sid`).
    pub session_id: String,
    /// The access token.
    pub access_token: AccessToken,
    /// What the session allows (also reached through `Deref`).
    pub claims: SessionClaims,
}
deref_to_claims!(SignedIn);

impl SignedIn {
    /// Copies what a signed-in session shows out of the (shared) session and claims.
    pub(crate) fn new(session: &Session, claims: &AccessTokenClaims) -> Self {
        Self {
            user: session.user.clone(),
            session_id: claims.sid.clone(),
            access_token: AccessToken(session.access_token.clone()),
            claims: SessionClaims::of(claims, session.impersonator.as_ref()),
        }
    }
}

impl From<SignedIn> for Auth {
    fn from(s: SignedIn) -> Self {
        Self {
            user: Some(s.user),
            session_id: Some(s.session_id),
            access_token: Some(s.access_token),
            claims: s.claims,
        }
    }
}

impl Auth {
    /// The signed-in session, if there is one.
    pub fn signed_in(self) -> Option<SignedIn> {
        Some(SignedIn {
            user: self.user?,
            session_id: self.session_id?,
            access_token: self.access_token?,
            claims: self.claims,
        })
    }
}

/// What the [`AuthKitLayer`](crate::AuthKitLayer) left on a request, read in this one
/// place: the session it resolved (a covered request), and the handle (every request it
/// saw; an app may also provide one as Leptos context).
pub(crate) struct LayerState<'a> {
    parts: &'a http::request::Parts,
}

impl<'a> LayerState<'a> {
    /// The layer's state on a request with these parts.
    pub(crate) fn of(parts: &'a http::request::Parts) -> Self {
        Self { parts }
    }

    /// The resolved session, when the layer covered the request.
    pub(crate) fn request_auth(&self) -> Option<&'a RequestAuth> {
        self.parts.extensions.get::<RequestAuth>()
    }

    /// The handle: the resolved session's, else the one the layer left on an uncovered
    /// request, else one provided as Leptos context.
    pub(crate) fn authkit(&self) -> Option<AuthKit> {
        self.request_auth()
            .map(|a| a.authkit().clone())
            .or_else(|| self.parts.extensions.get::<AuthKit>().cloned())
            .or_else(leptos::prelude::use_context::<AuthKit>)
    }

    /// [`AuthError::NotCovered`] for this request's path.
    pub(crate) fn not_covered(&self) -> AuthError {
        AuthError::not_covered(self.parts.uri.path())
    }
}

/// The request leptos_axum is handling (its `Parts` in context), as the session API sees
/// it; [`AuthError::NoRequestContext`] outside one.
pub(crate) fn current_request() -> Result<http::request::Parts, AuthError> {
    leptos::prelude::use_context::<http::request::Parts>().ok_or(AuthError::NoRequestContext)
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
    state: Mutex<SessionState>,
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

/// What the request knows of the session now; changed by refreshes, saves and sign-outs.
struct SessionState {
    session: Option<Arc<Session>>,
    claims: Option<Arc<AccessTokenClaims>>,
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
    /// The layer's view of one covered request, with the session it resolved.
    pub(crate) fn new(
        kit: AuthKit,
        resolved: Resolved,
        path_and_query: String,
        method: &Method,
        headers: &HeaderMap,
        sign_up_paths: Arc<Matcher>,
    ) -> Self {
        let referer_path = referer_path(headers);
        // The app's origin: the configured one, or a listed preview origin the request is on
        // (`WORKOS_REDIRECT_ORIGINS`; the `Host` header names it here).
        let cross_site = is_cross_site(
            headers,
            &kit.config()
                .redirect_uri_for(headers, &http::Uri::default()),
        );
        let authorization = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Self {
            inner: Arc::new(RequestAuthInner {
                kit,
                state: Mutex::new(SessionState {
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

    fn lock(&self) -> std::sync::MutexGuard<'_, SessionState> {
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

    /// The session as [`Auth`].
    pub fn auth(&self) -> Auth {
        self.current()
            .map(|(s, c)| SignedIn::new(&s, &c).into())
            .unwrap_or_default()
    }

    /// The session, if signed in.
    pub fn signed_in(&self) -> Option<SignedIn> {
        self.current().map(|(s, c)| SignedIn::new(&s, &c))
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
    pub(crate) fn current(&self) -> Option<(Arc<Session>, Arc<AccessTokenClaims>)> {
        self.inner
            .consulted
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let state = self.lock();
        match (&state.session, &state.claims) {
            (Some(s), Some(c)) => Some((Arc::clone(s), Arc::clone(c))),
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
        state.session = Some(Arc::clone(&update.session));
        state.claims = Some(Arc::clone(&update.claims));
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

    /// (signed in, cookie action, whether the session was consulted), read once by the
    /// layer when the response head goes out; later changes only warn.
    pub(crate) fn outcome(&self) -> (bool, CookieAction, bool) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_in() -> SignedIn {
        let user: User = serde_json::from_value(serde_json::json!({
            "object": "user",
            "id": "user_1",
            "email": "ada@example.com",
            "email_verified": true,
            "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z"
        }))
        .unwrap();
        SignedIn {
            user,
            session_id: "session_1".into(),
            access_token: AccessToken("a.b.c".into()),
            claims: SessionClaims {
                organization_id: Some("org_1".into()),
                role: Some("admin".into()),
                roles: vec!["admin".into()],
                permissions: vec!["posts:write".into()],
                entitlements: vec!["audit-logs".into()],
                feature_flags: vec!["beta".into()],
                impersonator: None,
            },
        }
    }

    #[test]
    fn an_auth_is_either_all_signed_out_or_made_from_a_signed_in_session() {
        let out = Auth::default();
        assert!(out.user.is_none() && out.session_id.is_none() && out.access_token.is_none());
        assert!(out.roles.is_empty() && out.permissions.is_empty());
        assert_eq!(out.signed_in(), None);

        let session = signed_in();
        let auth = Auth::from(session.clone());
        assert_eq!(auth.user.as_ref().map(|u| u.id.as_str()), Some("user_1"));
        assert_eq!(auth.session_id.as_deref(), Some("session_1"));
        assert!(auth.access_token.is_some());
        assert!(auth.has_permission("posts:write") && auth.has_feature_flag("beta"));
        assert_eq!(auth.signed_in(), Some(session));
    }

    #[test]
    fn access_token_debug_is_redacted() {
        let t = AccessToken("eyJhbGciOi.secret.sig".into());
        assert!(!format!("{t:?}").contains("secret"));
        let auth = Auth {
            access_token: Some(t),
            ..Default::default()
        };
        assert!(!format!("{auth:?}").contains("secret"));
    }
}
