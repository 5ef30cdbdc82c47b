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
//!
//! When WorkOS answers the exchange with `organization_selection_required`, the callback
//! renders the organization picker instead, and a `POST` to the same path completes the
//! sign-in with the organization the user chose ([`crate::pending`] has the threat model);
//! the other answers that ask the user to do something first (email verification, MFA,
//! SSO) get a page that says what to do, with their own [`CallbackErrorCode`].

use crate::authkit::AuthKit;
use crate::headers::{redirect_with_cookies, PRIVATE_NO_STORE};
use crate::oauth_state::{sanitize_return_path, FlowState};
use crate::pending::{self, PendingSelection};
use crate::request_auth::AccessToken;
use crate::session::{
    find_cookie_in_headers, flow_cookie_name, pkce_delete_cookie, session_set_cookies,
    SessionCookies,
};
use crate::user::{Impersonator, User};
use crate::workos::{AuthenticateResponse, AuthenticationErrorCode, OauthTokens, WorkOsError};
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
    /// WorkOS needs the user's email address verified first
    /// (`email_verification_required`).
    EmailVerificationRequired,
    /// WorkOS needs multi-factor authentication first: enrolling a factor
    /// (`mfa_enrollment`) or passing a challenge (`mfa_challenge`, `mfa_verification`).
    MfaRequired,
    /// The user must sign in with their organization's SSO (`sso_required`).
    SsoRequired,
    /// WorkOS asks which organization to sign in to (`organization_selection_required`)
    /// and its answer cannot be turned into the picker (no organizations or token in it,
    /// or the pending choice could not be kept). The picker itself is not an error.
    OrganizationSelectionRequired,
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
            Self::EmailVerificationRequired => "email_verification_required",
            Self::MfaRequired => "mfa_required",
            Self::SsoRequired => "sso_required",
            Self::OrganizationSelectionRequired => "organization_selection_required",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::AuthenticationFailed | Self::MissingTokens => StatusCode::BAD_GATEWAY,
            Self::AccessDenied
            | Self::EmailVerificationRequired
            | Self::MfaRequired
            | Self::SsoRequired
            | Self::OrganizationSelectionRequired => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The code for a WorkOS answer that asks for a further step, if it is one of these.
    fn from_step(step: AuthenticationErrorCode) -> Option<Self> {
        Some(match step {
            AuthenticationErrorCode::EmailVerificationRequired => Self::EmailVerificationRequired,
            AuthenticationErrorCode::MfaEnrollment
            | AuthenticationErrorCode::MfaChallenge
            | AuthenticationErrorCode::MfaVerification => Self::MfaRequired,
            AuthenticationErrorCode::SsoRequired => Self::SsoRequired,
            AuthenticationErrorCode::OrganizationSelectionRequired => {
                Self::OrganizationSelectionRequired
            }
            _ => return None,
        })
    }

    /// For the answers that ask the user to do something first: the page's title.
    fn step_title(self) -> Option<&'static str> {
        Some(match self {
            Self::EmailVerificationRequired => "Verify your email address",
            Self::MfaRequired => "Two-step verification needed",
            Self::SsoRequired => "Sign in with your organization",
            Self::OrganizationSelectionRequired => "Choose an organization",
            _ => return None,
        })
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
            Self::EmailVerificationRequired => {
                "Your email address has to be verified before you can sign in. Sign in again: \
                 you will be asked for the code sent to your inbox."
            }
            Self::MfaRequired => {
                "Your account needs two-step verification to sign in. Sign in again to set it \
                 up or to enter your code."
            }
            Self::SsoRequired => {
                "Your organization requires single sign-on. Sign in again and continue with \
                 your organization's sign-in."
            }
            Self::OrganizationSelectionRequired => {
                "You belong to several organizations and this sign-in did not say which one. \
                 Sign in again and choose one."
            }
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
    stylesheet: Option<String>,
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

    /// A stylesheet (a URL, e.g. `/pkg/app.css`) the callback's own pages link to: the
    /// organization picker and the pages that ask the user to verify their email, set up
    /// MFA or use SSO. They carry stable class names (`authkit-page`,
    /// `authkit-org-picker`, `authkit-org-list`, `authkit-org`, `authkit-org-choose`,
    /// `authkit-notice`, `authkit-actions`) and no inline style or script, so a strict
    /// Content-Security-Policy holds.
    pub fn stylesheet(mut self, href: impl Into<String>) -> Self {
        self.stylesheet = Some(href.into());
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
        Ok(Completed::SignedIn(location, session_cookies)) => {
            cookies.extend(session_cookies);
            redirect_with_cookies(StatusCode::TEMPORARY_REDIRECT, &location, cookies)
        }
        Ok(Completed::ChooseOrganization { html, cookie }) => {
            cookies.extend(cookie);
            html_response(StatusCode::OK, html, cookies)
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
            failure_response(&kit, &options, error, cookies)
        }
    }
}

/// The answer for a failed callback: `on_error`'s, else the default page; with `cookies`
/// (deletions) and `no-store`.
fn failure_response(
    kit: &AuthKit,
    options: &CallbackOptions,
    error: CallbackError,
    cookies: Vec<String>,
) -> Response {
    let mut response = match &options.on_error {
        Some(hook) => hook(error),
        None => error_page(kit, options, &error),
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

/// An HTML page with `cookies`, never cached.
fn html_response(status: StatusCode, html: String, cookies: Vec<String>) -> Response {
    let mut response = Body::from(html).into_response();
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(SET_COOKIE, v);
        }
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static(PRIVATE_NO_STORE));
    h.append(http::header::VARY, HeaderValue::from_static("Cookie"));
    response
}

/// What a callback ends with when it does not fail.
enum Completed {
    /// Signed in: where to go, and the session cookies.
    SignedIn(String, Vec<String>),
    /// WorkOS asks which organization: the picker, and the cookie holding the pending
    /// choice (none for a public client, whose picker starts new sign-ins).
    ChooseOrganization {
        html: String,
        cookie: Option<String>,
    },
}

/// The form the organization picker posts.
#[derive(Default, Deserialize)]
pub(crate) struct ChoiceForm {
    organization_id: Option<String>,
    form_key: Option<String>,
}

/// `POST` at the callback's path: the organization picker's choice. Completes the
/// sign-in with WorkOS's organization-selection grant when the post carries this
/// browser's pending-choice cookie and the form key sealed in it, and comes from this
/// site (see [`crate::pending`]); the cookie is deleted whatever happens.
pub(crate) async fn choose_organization(
    State((kit, options)): State<(AuthKit, CallbackOptions)>,
    uri: http::Uri,
    headers: HeaderMap,
    form: Result<axum::Form<ChoiceForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let cookies = vec![pending::select_delete_cookie(&kit)];
    let fail = |code| CallbackError {
        code,
        workos: None,
        description: None,
        has_code: false,
        has_state: false,
    };
    // A refused choice: logged (never the form, the cookie or a token) and answered with
    // the error page; nothing reaches WorkOS.
    let refuse = |code: CallbackErrorCode, why: &str, cookies: Vec<String>| {
        tracing::warn!(
            code = code.as_str(),
            "refused an organization choice: {why}"
        );
        failure_response(&kit, &options, fail(code), cookies)
    };
    // The configured redirect URI, or this request's listed preview origin (as the
    // callback that showed the picker).
    let redirect_uri = kit.config().redirect_uri_for(&headers, &uri).into_owned();
    if crate::headers::is_cross_site(&headers, &redirect_uri) {
        return refuse(
            CallbackErrorCode::OauthStateMismatch,
            "posted from another site",
            cookies,
        );
    }
    let form = form.map(|axum::Form(f)| f).unwrap_or_default();
    let pending = find_cookie_in_headers(&headers, &pending::select_cookie_name(&kit))
        .and_then(|sealed| PendingSelection::unseal(&sealed, kit.config()));
    let Some(pending) = pending else {
        // No choice pending in this browser: another browser, an expired or forged cookie.
        return refuse(
            CallbackErrorCode::InvalidState,
            "no pending choice in this browser (another browser, an expired or forged cookie)",
            cookies,
        );
    };
    let (Some(organization_id), Some(key)) = (
        form.organization_id.filter(|o| !o.is_empty()),
        form.form_key,
    ) else {
        return refuse(
            CallbackErrorCode::MissingAuthParams,
            "the form lacks the organization or its key",
            cookies,
        );
    };
    if !pending.accepts(&key) {
        return refuse(
            CallbackErrorCode::OauthStateMismatch,
            "the form key is not this browser's",
            cookies,
        );
    }
    if !kit.first_use_of_state(&pending.form_key).await {
        return refuse(
            CallbackErrorCode::InvalidState,
            "the choice was already used",
            cookies,
        );
    }
    let exchanged = kit
        .client()
        .authenticate_with_organization_selection(&pending.token, &organization_id)
        .await;
    let result = match exchanged {
        Ok(response) => {
            finish_sign_in(
                &kit,
                &options,
                &headers,
                &redirect_uri,
                response,
                pending.return_pathname.as_deref(),
                pending.custom_state.clone(),
            )
            .await
        }
        Err(e) => Err(exchange_error(e, fail)),
    };
    match result {
        Ok((location, session_cookies)) => {
            let mut all = cookies;
            all.extend(session_cookies);
            redirect_with_cookies(StatusCode::SEE_OTHER, &location, all)
        }
        Err(error) => {
            tracing::warn!(
                code = error.code.as_str(),
                workos = ?error.workos.as_ref().map(ToString::to_string),
                "AuthKit organization choice failed"
            );
            failure_response(&kit, &options, error, cookies)
        }
    }
}

/// The callback error for a failed exchange: a typed step when WorkOS asks for one, else
/// `missing_tokens` or `authentication_failed`.
fn exchange_error(
    e: WorkOsError,
    fail: impl Fn(CallbackErrorCode) -> CallbackError,
) -> CallbackError {
    let code = match &e {
        WorkOsError::MissingTokens { .. } => CallbackErrorCode::MissingTokens,
        e => e
            .authentication_required()
            .and_then(CallbackErrorCode::from_step)
            .unwrap_or(CallbackErrorCode::AuthenticationFailed),
    };
    CallbackError {
        workos: Some(e),
        ..fail(code)
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
) -> Result<Completed, CallbackError> {
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
    let response = match kit
        .client()
        .authenticate_with_code(code, Some(&flow.code_verifier))
        .await
    {
        Ok(response) => response,
        Err(e) => {
            if let Some((token, organizations)) = pending::organization_choice(&e) {
                if let Some(picker) =
                    organization_picker(kit, options, &flow, token, &organizations)
                {
                    return Ok(picker);
                }
            }
            return Err(exchange_error(e, fail));
        }
    };
    let (location, cookies) = finish_sign_in(
        kit,
        options,
        headers,
        redirect_uri,
        response,
        flow.return_pathname.as_deref(),
        flow.custom_state.clone(),
    )
    .await?;
    Ok(Completed::SignedIn(location, cookies))
}

/// The picker for WorkOS's `organization_selection_required`: with the API key, forms
/// that post the choice back (the token sealed in the pending-choice cookie); without (a
/// public client), links that start a new sign-in into each organization. `None` when the
/// pending choice cannot be kept (too big for a cookie, no randomness).
fn organization_picker(
    kit: &AuthKit,
    options: &CallbackOptions,
    flow: &FlowState,
    token: String,
    organizations: &[pending::OfferedOrganization],
) -> Option<Completed> {
    let stylesheet = options.stylesheet.as_deref();
    if !kit.client().has_api_key() {
        let link = |organization_id: &str| {
            kit.sign_in_link(&crate::SignInOptions {
                return_to: flow.return_pathname.clone(),
                organization_id: Some(organization_id.to_owned()),
                state: flow.custom_state.clone(),
                ..Default::default()
            })
        };
        let html = pending::picker_page(organizations, kit.callback_path(), None, link, stylesheet);
        return Some(Completed::ChooseOrganization { html, cookie: None });
    }
    let choice = PendingSelection::new(
        token,
        flow.return_pathname.clone(),
        flow.custom_state.clone(),
    )?;
    let sealed = choice.seal(kit.config())?;
    let cookie = pending::select_set_cookie(kit, &sealed);
    if cookie.split(';').next().unwrap_or_default().len() > crate::session::MAX_COOKIE_BYTES {
        tracing::warn!(
            "the pending organization choice does not fit a cookie (custom state too large?)"
        );
        return None;
    }
    let html = pending::picker_page(
        organizations,
        kit.callback_path(),
        Some(&choice.form_key),
        |_| String::new(),
        stylesheet,
    );
    Some(Completed::ChooseOrganization {
        html,
        cookie: Some(cookie),
    })
}

/// Turns WorkOS's answer into the session: sealed into cookies (deleting stale parts and
/// host-only leftovers), `on_success` called, and where to go next.
async fn finish_sign_in(
    kit: &AuthKit,
    options: &CallbackOptions,
    headers: &HeaderMap,
    redirect_uri: &Url,
    response: AuthenticateResponse,
    return_pathname: Option<&str>,
    custom_state: Option<String>,
) -> Result<(String, Vec<String>), CallbackError> {
    let fail = |code| CallbackError {
        code,
        workos: None,
        description: None,
        has_code: true,
        has_state: true,
    };
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
            state: custom_state,
        })
        .await;
    }

    let location = return_location(options, return_pathname, redirect_uri);
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

fn error_page(kit: &AuthKit, options: &CallbackOptions, error: &CallbackError) -> Response {
    if let Some(title) = error.code.step_title() {
        // Not "Couldn't sign you in": the user has something to do, and the page says what.
        let html = pending::step_page(
            title,
            error.code.message(),
            error.code.as_str(),
            kit.sign_in_path(),
            options.stylesheet.as_deref(),
        );
        return html_response(error.status(), html, Vec::new());
    }
    let retry = html_escape(kit.sign_in_path());
    // `error_description` comes from the query string: anyone can craft it, so it is
    // logged (by the caller) but never shown on this origin.
    // No inline style or script: the page renders under a strict Content-Security-Policy
    // (`style-src 'self'`), with the crate's stylesheet (and the app's) from this origin.
    let html = format!(
        "{head}<body class=\"authkit-page\"><h1>Couldn't sign you in</h1><p>{message}</p>{hint}\
<p><a href=\"{retry}\">Sign in again</a> · <a href=\"/\">Home</a></p><p><code>{code}</code></p></body></html>",
        head = pending::page_head("Sign-in problem", options.stylesheet.as_deref()),
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
