//! The callback route: where WorkOS sends the browser back with `?code=…&state=…`.
//!
//! A plain axum handler, not a server function (leptos_axum would turn an error into a
//! redirect to the `Referer`). It unseals the state (tamper-proof, 10-minute lifetime),
//! checks that the browser holds the flow's cookie with the secret bound into the state
//! (login CSRF, and a leaked callback URL: see [`crate::oauth_state`]), marks the state
//! used, exchanges the code with the PKCE verifier, stores the session cookie (deleting
//! host-only leftovers when a cookie domain is configured), deletes the flow cookie, and
//! redirects to the return path — reduced to a path and query on this site, whatever the
//! state says. Failures never show a stack trace: the default error page says what
//! happened and offers to sign in again; `on_error` replaces it.

use crate::authkit::AuthKit;
use crate::headers::{redirect_with_cookies, PRIVATE_NO_STORE};
use crate::oauth_state::{sanitize_return_path, FlowState};
use crate::request_auth::AccessToken;
use crate::session::{
    find_cookie_in_headers, flow_cookie_name, pkce_delete_cookie, session_set_cookies,
    SessionCookies,
};
use crate::user::{Impersonator, User};
use crate::workos::{OauthTokens, WorkOsError};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use html_escape::encode_quoted_attribute as html_escape;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use url::Url;

/// Why a callback failed (the codes authkit-nextjs uses, plus the WorkOS ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackErrorCode {
    /// `code` or `state` is missing from the query.
    MissingAuthParams,
    /// The flow's verifier cookie is gone (blocked cookies, another browser, > 10 min).
    MissingPkceCookie,
    /// The flow cookie is not the one of this `state` (another browser, or a cookie made
    /// up from the callback URL).
    OauthStateMismatch,
    /// The state cannot be unsealed (tampered with, expired, or another password), or a
    /// callback already used it (states are single-use, RFC 9700 §4.7.1).
    InvalidState,
    /// The user cancelled, or WorkOS refused (`?error=…`).
    AccessDenied,
    /// WorkOS refused the code (expired, replayed, wrong verifier) or could not be reached.
    AuthenticationFailed,
    /// WorkOS answered without tokens.
    MissingTokens,
}

impl CallbackErrorCode {
    /// The machine-readable code, e.g. `missing_pkce_cookie`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingAuthParams => "missing_auth_params",
            Self::MissingPkceCookie => "missing_pkce_cookie",
            Self::OauthStateMismatch => "oauth_state_mismatch",
            Self::InvalidState => "invalid_state",
            Self::AccessDenied => "access_denied",
            Self::AuthenticationFailed => "authentication_failed",
            Self::MissingTokens => "missing_tokens",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::AuthenticationFailed | Self::MissingTokens => StatusCode::BAD_GATEWAY,
            Self::AccessDenied => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::MissingAuthParams => "The sign-in response is incomplete.",
            Self::MissingPkceCookie => "Sign-in session could not be verified. Please try signing in again.",
            Self::OauthStateMismatch | Self::InvalidState => {
                "This sign-in link does not belong to this browser session, or it has expired. Please try signing in again."
            }
            Self::AccessDenied => "Sign-in was cancelled.",
            Self::AuthenticationFailed => "We couldn't complete your sign-in. Please try again.",
            Self::MissingTokens => "We couldn't complete your sign-in: no session was returned.",
        }
    }

    /// What usually causes it, where that is worth telling the user.
    fn hint(self) -> Option<&'static str> {
        match self {
            Self::MissingPkceCookie => Some(
                "This browser holds no record of starting this sign-in. That happens when sign-in \
                 started at another address than the one it returned to (for example \
                 http://localhost:3000 instead of http://127.0.0.1:3000: browsers keep cookies \
                 per host name), when cookies are blocked for this site, or when more than 10 \
                 minutes passed on the sign-in page.",
            ),
            _ => None,
        }
    }
}

/// A failed callback, for `on_error`.
#[derive(Debug)]
#[non_exhaustive]
pub struct CallbackError {
    /// What failed.
    pub code: CallbackErrorCode,
    /// The WorkOS error, when the code exchange failed.
    pub workos: Option<WorkOsError>,
    /// `error_description` from WorkOS, when it sent `?error=…`.
    pub description: Option<String>,
    /// Whether the request carried `code` / `state`.
    pub has_code: bool,
    /// See `has_code`.
    pub has_state: bool,
}

impl CallbackError {
    /// Whether WorkOS refused the code exchange itself (a 4xx: the code was spent,
    /// replayed, expired or did not match the verifier) — the user's situation, not a
    /// gateway failure. A 408 or 429 is WorkOS being busy, not a refusal.
    pub fn is_refused_by_workos(&self) -> bool {
        self.workos
            .as_ref()
            .is_some_and(|e| !e.is_transient() && e.status().is_some_and(|s| s.is_client_error()))
    }

    /// The status of the default error page: `400` for what the browser sent (a replayed
    /// or spent code included), `403` when the user cancelled, `502` when WorkOS failed or
    /// answered without tokens.
    pub fn status(&self) -> StatusCode {
        if self.code == CallbackErrorCode::AuthenticationFailed && self.is_refused_by_workos() {
            StatusCode::BAD_REQUEST
        } else {
            self.code.status()
        }
    }
}

/// The WorkOS error, when the code exchange failed, is the source.
impl std::error::Error for CallbackError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.workos
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthKit callback failed: {}", self.code.as_str())?;
        if let Some(w) = &self.workos {
            write!(f, " ({w})")?;
        }
        Ok(())
    }
}

/// What `on_success` receives once the session is stored.
#[derive(Clone)]
#[non_exhaustive]
pub struct CallbackSuccess {
    /// The user.
    pub user: User,
    /// The organization signed into.
    pub organization_id: Option<String>,
    /// The impersonator, for an impersonation session.
    pub impersonator: Option<Impersonator>,
    /// How the user authenticated.
    pub authentication_method: Option<String>,
    /// The access token.
    pub access_token: AccessToken,
    /// The identity provider's tokens, when WorkOS returned them.
    pub oauth_tokens: Option<OauthTokens>,
    /// The custom state passed to the sign-in link.
    pub state: Option<String>,
}

impl fmt::Debug for CallbackSuccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackSuccess")
            .field("user", &self.user.id)
            .field("organization_id", &self.organization_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

type SuccessHook =
    Arc<dyn Fn(CallbackSuccess) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;
type ErrorHook = Arc<dyn Fn(CallbackError) -> Response + Send + Sync>;

/// Options of the callback route (authkit-nextjs `handleAuth`), given to
/// [`AuthKit::routes_with`].
///
/// The callback route is where WorkOS sends the browser back with `?code=…&state=…`: a
/// plain axum handler, not a server function (leptos_axum would turn an error into a
/// redirect to the `Referer`). It checks the flow's state against the per-flow verifier
/// cookie (login CSRF), unseals the state (tamper-proof, 10-minute lifetime), exchanges
/// the code with the PKCE verifier, stores the session cookie, deletes the verifier
/// cookie, and redirects to the return path — reduced to a path and query on this site,
/// whatever the state says. Failures never show a stack trace: the default error page
/// says what happened and offers to sign in again; [`on_error`](Self::on_error)
/// replaces it.
#[derive(Clone, Default)]
pub struct CallbackOptions {
    return_pathname: Option<String>,
    base_url: Option<Url>,
    on_success: Option<SuccessHook>,
    on_error: Option<ErrorHook>,
}

impl fmt::Debug for CallbackOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackOptions")
            .field("return_pathname", &self.return_pathname)
            .field("base_url", &self.base_url.as_ref().map(Url::as_str))
            .finish_non_exhaustive()
    }
}

impl CallbackOptions {
    /// Where to go after signing in when the flow did not say (default `/`).
    pub fn return_pathname(mut self, path: impl Into<String>) -> Self {
        self.return_pathname = Some(path.into());
        self
    }

    /// The public origin to redirect to (behind a proxy that rewrites the host).
    /// Fails on a string that is not an absolute http(s) URL.
    pub fn base_url(mut self, url: &str) -> Result<Self, url::ParseError> {
        let parsed = Url::parse(url)?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(url::ParseError::RelativeUrlWithoutBase);
        }
        self.base_url = Some(parsed);
        Ok(self)
    }

    /// Runs after the session is stored, before the redirect.
    pub fn on_success<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(CallbackSuccess) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_success = Some(Arc::new(move |s| Box::pin(hook(s))));
        self
    }

    /// Builds the response for a failed callback (the verifier cookie is still deleted).
    pub fn on_error(
        mut self,
        hook: impl Fn(CallbackError) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.on_error = Some(Arc::new(hook));
        self
    }
}

/// The callback's query.
#[derive(Default, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The code is a one-time credential and the state a sealed value: `Debug` says only
/// whether they are there.
impl fmt::Debug for CallbackQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackQuery")
            .field("has_code", &self.code.is_some())
            .field("has_state", &self.state.is_some())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// The callback route (`GET` at the redirect URI's path, mounted by [`AuthKit::routes`]).
pub(crate) async fn handle(
    State((kit, options)): State<(AuthKit, CallbackOptions)>,
    uri: http::Uri,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    // The configured redirect URI, or this request's preview origin when it is listed
    // (`WORKOS_REDIRECT_ORIGINS`): where this callback runs and finishes.
    let redirect_uri = kit.config().redirect_uri_for(&headers, &uri).into_owned();
    let secure_url = Some(redirect_uri.as_str().to_owned());
    let cookie = kit.config().cookie();
    // Whatever happens, the flow's verifier cookie is spent.
    let mut cookies = Vec::new();
    if let Some(state) = query.state.as_deref().filter(|s| !s.is_empty()) {
        cookies.push(pkce_delete_cookie(
            cookie,
            &flow_cookie_name(cookie, state),
            secure_url.as_deref(),
        ));
    }
    match complete(&kit, &options, &headers, &query, &redirect_uri).await {
        Ok((location, session_cookies)) => {
            cookies.extend(session_cookies);
            redirect_with_cookies(StatusCode::TEMPORARY_REDIRECT, &location, cookies)
        }
        Err(error) if already_signed_in(&kit, &headers, &error) => {
            // The back button (or a second tab) replays a completed sign-in: the user has
            // a session, so take them where the sign-in was going.
            tracing::debug!(
                code = error.code.as_str(),
                "callback replayed by a signed-in browser; sending it to the return path"
            );
            let location = replay_location(&kit, &options, query.state.as_deref(), &redirect_uri);
            redirect_with_cookies(StatusCode::SEE_OTHER, &location, cookies)
        }
        Err(error) => {
            tracing::warn!(
                code = error.code.as_str(),
                workos = ?error.workos.as_ref().map(ToString::to_string),
                description = ?error.description.as_deref().map(|d| d.chars().take(200).collect::<String>()),
                "AuthKit callback failed"
            );
            let mut response = match &options.on_error {
                Some(hook) => hook(error),
                None => error_page(&kit, &error),
            };
            let h = response.headers_mut();
            for c in cookies {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    h.append(SET_COOKIE, v);
                }
            }
            h.insert(CACHE_CONTROL, HeaderValue::from_static(PRIVATE_NO_STORE));
            response
        }
    }
}

/// Whether a failed callback came from a browser that already holds a working session,
/// for failures a replay causes (flow cookie gone or not matching, the code spent).
fn already_signed_in(kit: &AuthKit, headers: &HeaderMap, error: &CallbackError) -> bool {
    let replay_kind = match error.code {
        CallbackErrorCode::MissingPkceCookie
        | CallbackErrorCode::OauthStateMismatch
        | CallbackErrorCode::InvalidState => true,
        CallbackErrorCode::AuthenticationFailed => error.is_refused_by_workos(),
        _ => false,
    };
    replay_kind && kit.session_from_cookie(headers).is_some()
}

/// Where a replayed sign-in goes: the return path sealed in its state when it still
/// unseals, else the callback's default.
fn replay_location(
    kit: &AuthKit,
    options: &CallbackOptions,
    state: Option<&str>,
    redirect_uri: &Url,
) -> String {
    let sealed_path = state
        .and_then(|s| FlowState::unseal(s, kit.config()).ok())
        .and_then(|flow| flow.return_pathname);
    return_location(options, sealed_path.as_deref(), redirect_uri)
}

async fn complete(
    kit: &AuthKit,
    options: &CallbackOptions,
    headers: &HeaderMap,
    query: &CallbackQuery,
    redirect_uri: &Url,
) -> Result<(String, Vec<String>), CallbackError> {
    let fail = |code| CallbackError {
        code,
        workos: None,
        description: None,
        has_code: query.code.as_deref().is_some_and(|c| !c.is_empty()),
        has_state: query.state.as_deref().is_some_and(|s| !s.is_empty()),
    };
    if query.error.is_some() {
        let mut e = fail(CallbackErrorCode::AccessDenied);
        e.description = query
            .error_description
            .clone()
            .or_else(|| query.error.clone());
        return Err(e);
    }
    let (Some(code), Some(state)) = (
        query.code.as_deref().filter(|c| !c.is_empty()),
        query.state.as_deref().filter(|s| !s.is_empty()),
    ) else {
        return Err(fail(CallbackErrorCode::MissingAuthParams));
    };
    let cookie_config = kit.config().cookie();
    let nextjs = kit.accepts_nextjs_flows();
    // The flow's own cookie; the legacy unsuffixed name (authkit-nextjs ≤ 3's, which anyone
    // on the parent domain can also set) only for Next.js flows.
    let cookie_value = find_cookie_in_headers(headers, &flow_cookie_name(cookie_config, state))
        .or_else(|| {
            nextjs
                .then(|| find_cookie_in_headers(headers, &cookie_config.flow_name))
                .flatten()
        })
        .ok_or_else(|| fail(CallbackErrorCode::MissingPkceCookie))?;
    let flow = FlowState::unseal(state, kit.config())
        .map_err(|_| fail(CallbackErrorCode::InvalidState))?;
    // The browser that started the flow holds the secret bound into the state; the
    // callback URL alone (anyone who saw it) does not. A flow authkit-nextjs started is
    // unbound: its cookie is the state itself, accepted only when configured.
    let from_this_browser = if flow.binding.is_some() {
        flow.is_bound_to(&cookie_value)
    } else {
        nextjs && constant_time_eq(cookie_value.as_bytes(), state.as_bytes())
    };
    if !from_this_browser {
        return Err(fail(CallbackErrorCode::OauthStateMismatch));
    }
    // The flow finishes on the origin it was started for (a preview origin sealed in the
    // state, else the configured redirect URI's), never on another one a cookie domain
    // shared its cookie with.
    let flow_redirect_uri = flow
        .redirect_uri
        .as_deref()
        .unwrap_or(kit.config().redirect_uri().as_str());
    if flow_redirect_uri != redirect_uri.as_str() {
        return Err(fail(CallbackErrorCode::OauthStateMismatch));
    }
    // Single-use, before WorkOS is asked and only once the browser is known to be the
    // one that started the flow (a forged cookie never spends the user's state): a
    // replayed callback (or a second code obtained for the same state) never reaches the
    // code exchange.
    if !kit.first_use_of_state(&flow.nonce).await {
        return Err(fail(CallbackErrorCode::InvalidState));
    }
    let response = kit
        .client()
        .authenticate_with_code(code, Some(&flow.code_verifier))
        .await
        .map_err(|e| {
            let code = match e {
                WorkOsError::MissingTokens { .. } => CallbackErrorCode::MissingTokens,
                _ => CallbackErrorCode::AuthenticationFailed,
            };
            CallbackError {
                workos: Some(e),
                ..fail(code)
            }
        })?;
    let oauth_tokens = response.oauth_tokens.clone();
    let update = kit
        .session_update(response, None)
        .await
        .map_err(|_| fail(CallbackErrorCode::AuthenticationFailed))?;
    let secure_url = redirect_uri.as_str();
    // The session (split into parts when it is too big for one cookie), and deletions of
    // session cookies the browser already holds that the new ones do not overwrite.
    let mut session_cookie =
        session_set_cookies(kit.config().cookie(), &update.sealed, Some(secure_url));
    let sent = SessionCookies::from_headers(headers, &kit.config().cookie().name);
    let stale = sent.stale_deletions(kit.config().cookie(), Some(secure_url), &session_cookie);
    session_cookie.extend(stale);
    // With a cookie domain: the host-only cookie and parts from before it was configured
    // go, so the old session never sits beside (or beats) the new one.
    session_cookie.extend(sent.host_only_deletions(kit.config().cookie(), Some(secure_url)));

    if let Some(hook) = &options.on_success {
        hook(CallbackSuccess {
            user: update.session.user.clone(),
            organization_id: update.claims.org_id.clone(),
            impersonator: update.session.impersonator.clone(),
            authentication_method: update.session.authentication_method.clone(),
            access_token: AccessToken::from_string(update.session.access_token.clone()),
            oauth_tokens,
            state: flow.custom_state.clone(),
        })
        .await;
    }

    let location = return_location(options, flow.return_pathname.as_deref(), redirect_uri);
    Ok((location, session_cookie))
}

/// Where a completed sign-in goes: the return path sealed in the flow's state, else the
/// callback's `return_pathname`, else `/` — reduced to this site, on `base_url` (default:
/// the origin of the request's redirect URI: the configured one, or a listed preview one).
fn return_location(
    options: &CallbackOptions,
    sealed_path: Option<&str>,
    redirect_uri: &Url,
) -> String {
    let path = sanitize_return_path(
        sealed_path
            .or(options.return_pathname.as_deref())
            .unwrap_or("/"),
    );
    let base = options
        .base_url
        .clone()
        .unwrap_or_else(|| redirect_uri.clone());
    base.join(&path).map(String::from).unwrap_or(path)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

fn error_page(kit: &AuthKit, error: &CallbackError) -> Response {
    let retry = html_escape(kit.sign_in_path());
    // `error_description` comes from the query string: anyone can craft it, so it is
    // logged (by the caller) but never shown on this origin.
    // No inline style or script: the page renders under a strict Content-Security-Policy
    // (`style-src 'self'`), with the crate's stylesheet from this origin.
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Sign-in problem</title><link rel=\"stylesheet\" href=\"{stylesheet}\"></head><body class=\"authkit-page\"><h1>Couldn't sign you in</h1><p>{message}</p>{hint}\
<p><a href=\"{retry}\">Sign in again</a> · <a href=\"/\">Home</a></p><p><code>{code}</code></p></body></html>",
        stylesheet = crate::csp::AUTHKIT_STYLESHEET_PATH,
        message = error.code.message(),
        hint = error
            .code
            .hint()
            .map(|h| format!("<p id=\"hint\">{}</p>", html_escape(h)))
            .unwrap_or_default(),
        code = error.code.as_str(),
    );
    let mut response = Body::from(html).into_response();
    *response.status_mut() = error.status();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The callback's query holds a one-time credential (the code) and the sealed state:
    /// `Debug` shows neither (#23 item 8).
    #[test]
    fn debug_hides_the_code_and_the_state() {
        let query = CallbackQuery {
            code: Some("01SECRETCODE".into()),
            state: Some("Fe26.2*1*sealedstate~2".into()),
            error: None,
            error_description: None,
        };
        let text = format!("{query:?}");
        assert!(
            !text.contains("SECRETCODE") && !text.contains("sealedstate"),
            "{text}"
        );
    }
}
