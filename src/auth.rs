//! Reading and changing the session from server functions and during SSR: [`with_auth`],
//! [`ensure_signed_in`], sign-in links, sign-out, refresh, organization switching, custom
//! flows and token helpers — the server side of authkit-nextjs, typed.
//!
//! Every function here reads the [`RequestAuth`] that [`AuthKitLayer`](crate::AuthKitLayer)
//! put into the request's extensions, through the `http::request::Parts` leptos_axum
//! provides as context, so SSR and server functions in one request see the same session,
//! including one refreshed earlier in that request.

use crate::authkit::AuthKit;
use crate::error::AuthError;
use crate::headers::is_cross_site;
use crate::jwt::decode_unverified;
use crate::jwt::unix_now;
use crate::request_auth::{current_request, LayerState, RequestAuth};
use crate::workos::{AuthenticateResponse, ScreenHint};
use leptos::prelude::use_context;
use serde::de::DeserializeOwned;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::flow::SignInOptions;
use crate::request_auth::{Auth, SignedIn};

/// The request's [`RequestAuth`], from the leptos_axum request context.
pub fn request_auth() -> Result<RequestAuth, AuthError> {
    let parts = current_request()?;
    let state = LayerState::of(&parts);
    state
        .request_auth()
        .cloned()
        .ok_or_else(|| state.not_covered())
}

/// The current session: `user` is `None` when signed out.
///
/// Works in server functions and while rendering (SSR); errors only when the request is
/// not covered by the AuthKit layer (add its path to the matcher) or when called outside
/// a request.
///
/// Return [`AuthError`] (or your own error type that keeps it, see
/// [`decode_server_fn_error`](crate::decode_server_fn_error)) rather than `ServerFnError`:
/// the browser then follows a sign-in the server asks for with no glue code.
///
/// ```no_run
/// use authkit_leptos::{with_auth, AuthError};
/// use leptos::prelude::*;
///
/// #[server]
/// pub async fn greeting() -> Result<String, AuthError> {
///     let auth = with_auth().await?;
///     Ok(match auth.user {
///         Some(user) => format!("Welcome, {}", user.display_name()),
///         None => "Not signed in".to_owned(),
///     })
/// }
/// ```
pub async fn with_auth() -> Result<Auth, AuthError> {
    Ok(request_auth()?.auth())
}

/// The signed-in session, or a redirect to sign-in.
///
/// For a signed-out visitor: a page request (or a plain form post) is answered with a
/// `302` to the sign-in flow, keeping the path and query to return to; a WebAssembly
/// server-function call gets `401` with [`AuthError::SignInRequired`] carrying that URL. Either way
/// the function returns `Err`, so the code after `?` only runs for a signed-in user.
/// Don't swallow the error: return it (Leptos renders no protected content for it).
pub async fn ensure_signed_in() -> Result<SignedIn, AuthError> {
    let auth = request_auth()?;
    if let Some(signed_in) = auth.signed_in() {
        return Ok(signed_in);
    }
    let return_to = return_path(&auth);
    let sign_in_url = auth.authkit().start_url(
        auth.screen_for(&return_to),
        &SignInOptions {
            return_to: Some(return_to),
            ..Default::default()
        },
    );
    answer_with_sign_in(&auth, &sign_in_url);
    Err(AuthError::SignInRequired { sign_in_url })
}

/// Sets the answer for an error that sends the user to sign in at `url`: a page request
/// is redirected there (`302`); a server-function call answers `401` (as the layer's
/// middleware-auth mode does), not the `500` Leptos gives any `Err`.
fn answer_with_sign_in(auth: &RequestAuth, url: &str) {
    let response = use_context::<leptos_axum::ResponseOptions>();
    if auth.is_document_request() {
        redirect_via_leptos(url);
        // leptos_axum picks the `302` from the first `Accept` header only, the layer reads
        // them all: follow the layer, or an odd first `Accept` would leave the `Err` a 500.
        if let Some(response) = response {
            response.set_status(http::StatusCode::FOUND);
        }
    } else if let Some(response) = response {
        response.set_status(http::StatusCode::UNAUTHORIZED);
    }
}

/// Where a sign-in started from this request should return to: the page itself, or for a
/// server-function call the page that made it.
fn return_path(auth: &RequestAuth) -> String {
    let path = auth.path_and_query();
    // A server-function call (a POST from a form or from WebAssembly, or anything under
    // the default `/api` prefix) returns to the page that made it, not to the endpoint.
    let server_fn = !auth.is_read() || path.starts_with("/api/");
    match (server_fn, auth.referer_path()) {
        (true, Some(referer)) => referer.to_owned(),
        (true, None) => "/".to_owned(),
        (false, _) => path.to_owned(),
    }
}

/// Redirects the page being rendered or the server-function call being answered, through
/// `leptos_axum::redirect`, which panics in Leptos 0.8 on a location that is not a valid
/// header value; such a location (only possible from a misbehaving upstream) is skipped.
fn redirect_via_leptos(location: &str) {
    if http::HeaderValue::from_str(location).is_ok() {
        leptos_axum::redirect(location);
    } else {
        tracing::warn!("not redirecting to a location that is not a valid header value");
    }
}

/// The AuthKit handle: the layer puts it into every request it sees (covered or not), so an
/// app needs no context for it.
fn authkit() -> Result<AuthKit, AuthError> {
    let parts = current_request()?;
    let state = LayerState::of(&parts);
    state.authkit().ok_or_else(|| state.not_covered())
}

/// A same-origin link that starts signing in (works without JavaScript; sets no cookie
/// while a page renders — the start route does that when followed).
pub async fn get_sign_in_url(options: SignInOptions) -> Result<String, AuthError> {
    Ok(authkit()?.start_url(ScreenHint::SignIn, &options))
}

/// Like [`get_sign_in_url`], opening the sign-up screen.
pub async fn get_sign_up_url(options: SignInOptions) -> Result<String, AuthError> {
    Ok(authkit()?.start_url(ScreenHint::SignUp, &options))
}

/// The body of the [`sign_out`](crate::sign_out) server function.
pub(crate) async fn sign_out_impl(return_to: Option<String>) -> Result<(), AuthError> {
    let parts = current_request()?;
    let state = LayerState::of(&parts);
    let request_auth = state.request_auth().cloned();
    let kit = state.authkit().ok_or_else(|| state.not_covered())?;
    if is_cross_site(
        &parts.headers,
        &kit.config().redirect_uri_for(&parts.headers, &parts.uri),
    ) {
        return Err(AuthError::InvalidInput(
            "cross-site sign-out refused".into(),
        ));
    }
    // The resolved session; else the cookie's own (the layer could not resolve it, e.g.
    // WorkOS was unreachable for a refresh): the WorkOS session must still end, or it
    // stays alive on a shared computer.
    let session = request_auth
        .as_ref()
        .and_then(|a| a.current().map(|(s, c)| (s, c.sid.clone())))
        .or_else(|| kit.session_from_cookie(&parts.headers));
    let plan = kit.sign_out_plan(
        &parts.headers,
        &parts.uri,
        session.as_ref().map(|(s, sid)| (&**s, sid.clone())),
        return_to.as_deref(),
    );
    let mut cookies = plan.verifier_deletes;
    match &request_auth {
        // The layer writes the session cookie's deletion, after anything else it set.
        Some(a) => a.clear(),
        None => cookies.extend(plan.session_delete),
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        for c in cookies {
            if let Ok(v) = http::HeaderValue::from_str(&c) {
                response.append_header(http::header::SET_COOKIE, v);
            }
        }
    }
    redirect_via_leptos(&plan.location);
    Ok(())
}

/// The signed-in user's active WorkOS sessions, newest first, the current one marked (as
/// WorkOS's Sessions API lists them: `GET /user_management/users/{id}/sessions`), for an
/// account page's "your sessions" list.
///
/// # Errors
/// [`AuthError::SignInRequired`] when signed out; [`AuthError::WorkOs`] when WorkOS did
/// not answer.
pub async fn list_user_sessions() -> Result<Vec<crate::SessionInfo>, AuthError> {
    let auth = request_auth()?;
    let Some(signed_in) = auth.signed_in() else {
        return Err(sign_in_required(&auth));
    };
    let sessions = active_sessions(auth.authkit(), &signed_in.user.id).await?;
    Ok(sessions
        .into_iter()
        .map(|s| crate::SessionInfo {
            current: s.id == signed_in.session_id,
            id: s.id,
            organization_id: s.organization_id,
            auth_method: s.auth_method,
            ip_address: s.ip_address,
            user_agent: s.user_agent,
            created_at: s.created_at,
            expires_at: s.expires_at,
        })
        .collect())
}

/// The user's active sessions, every page (at most 1000).
async fn active_sessions(
    kit: &AuthKit,
    user_id: &str,
) -> Result<Vec<crate::workos::UserSession>, AuthError> {
    if !kit.client().has_api_key() {
        return Err(AuthError::api_key_required(
            "the Sessions API (list_user_sessions, sign out everywhere)",
        ));
    }
    let mut sessions = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let page = kit
            .client()
            .list_sessions(user_id, after.as_deref())
            .await
            .map_err(|e| AuthError::workos(&e))?;
        sessions.extend(page.data.into_iter().filter(|s| s.is_active()));
        match page.list_metadata.after {
            Some(next) if !next.is_empty() => after = Some(next),
            _ => break,
        }
    }
    Ok(sessions)
}

/// Signs the user out of every device: revokes each of their active WorkOS sessions (the
/// Sessions API), records them as ended so every replica signs them out at their next
/// request (not when their tokens expire), then signs this browser out as
/// [`sign_out`](crate::sign_out) does. A cross-site request is refused, as sign-out is.
pub(crate) async fn sign_out_everywhere_impl(return_to: Option<String>) -> Result<(), AuthError> {
    let auth = request_auth()?;
    auth.refuse_cross_site_write()?;
    let Some(signed_in) = auth.signed_in() else {
        return Err(sign_in_required(&auth));
    };
    let kit = auth.authkit().clone();
    let sessions = active_sessions(&kit, &signed_in.user.id).await?;
    let mut ended = vec![signed_in.session_id.clone()];
    for session in sessions {
        match kit.client().revoke_session(&session.id).await {
            Ok(()) => {}
            // Already gone: ended all the same.
            Err(e) if e.status().map(|s| s.as_u16()) == Some(404) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not revoke a session while signing out everywhere");
                continue;
            }
        }
        ended.push(session.id);
    }
    kit.revocations().end_sessions(ended).await;
    sign_out_impl(return_to).await
}

/// [`AuthError::SignInRequired`] returning to where this request came from.
fn sign_in_required(auth: &RequestAuth) -> AuthError {
    let return_to = return_path(auth);
    AuthError::SignInRequired {
        sign_in_url: auth.authkit().start_url(
            auth.screen_for(&return_to),
            &SignInOptions {
                return_to: Some(return_to),
                ..Default::default()
            },
        ),
    }
}

/// Refreshes the session now (optionally into another organization) and returns it. The
/// new cookie is written by the layer; later reads in this request see the new session.
/// A state-changing request from another site (`Sec-Fetch-Site` / `Origin`) is refused with
/// [`AuthError::InvalidInput`], as sign-out is (the same holds for
/// [`switch_to_organization`] and [`save_session`]).
pub async fn refresh_session(organization_id: Option<&str>) -> Result<SignedIn, AuthError> {
    let auth = request_auth()?;
    auth.refuse_cross_site_write()?;
    let Some((session, claims)) = auth.current() else {
        return Err(AuthError::SignInRequired {
            sign_in_url: auth.authkit().start_url(
                ScreenHint::SignIn,
                &SignInOptions {
                    return_to: Some(return_path(&auth)),
                    ..Default::default()
                },
            ),
        });
    };
    let org = organization_id.or(claims.org_id.as_deref());
    match auth
        .authkit()
        .refresh(&session, org, organization_id.is_some())
        .await
    {
        Ok(update) => {
            auth.update(&update);
            Ok(SignedIn::new(&update.session, &update.claims))
        }
        Err(e) => {
            if e.ends_session() {
                auth.clear();
            }
            Err(refresh_error(
                &e,
                auth.authkit(),
                organization_id,
                &return_path(&auth),
            ))
        }
    }
}

fn refresh_error(
    e: &crate::refresh::RefreshError,
    kit: &AuthKit,
    organization_id: Option<&str>,
    return_to: &str,
) -> AuthError {
    if let Some(w) = e.workos() {
        // Follow WorkOS's own URL only when it is a real http(s) URL (https unless the
        // API itself is plain http, as the local emulator is).
        let api_scheme = kit.config().api_base_url().scheme();
        let redirect_url = w
            .http()
            .and_then(|h| h.authkit_redirect_url())
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| u.scheme() == "https" || (u.scheme() == "http" && api_scheme == "http"));
        if let Some(url) = redirect_url {
            return AuthError::ReauthenticationRequired { url: url.into() };
        }
        if w.is_authentication_required() {
            return AuthError::ReauthenticationRequired {
                url: kit.start_url(
                    ScreenHint::SignIn,
                    &SignInOptions {
                        organization_id: organization_id.map(str::to_owned),
                        return_to: Some(return_to.to_owned()),
                        ..Default::default()
                    },
                ),
            };
        }
    }
    AuthError::refresh(e)
}

/// Switches the session to another organization the user belongs to. When WorkOS needs
/// the user to authenticate again for it (SSO, MFA enrollment) the error is
/// [`AuthError::ReauthenticationRequired`]; on a page request the browser is also
/// redirected there (`302`), a server-function call answers `401` (also when signed
/// out: [`AuthError::SignInRequired`]). A switch WorkOS
/// refuses (not a member) answers `403`, one it could not answer (down, rate-limiting)
/// `503` — never the `500` Leptos gives any `Err`.
pub async fn switch_to_organization(organization_id: &str) -> Result<SignedIn, AuthError> {
    let result = refresh_session(Some(organization_id)).await;
    let Ok(auth) = request_auth() else {
        return result;
    };
    match &result {
        Err(
            AuthError::ReauthenticationRequired { url }
            | AuthError::SignInRequired { sign_in_url: url },
        ) => answer_with_sign_in(&auth, url),
        Err(AuthError::Refresh { transient, .. }) if !auth.is_document_request() => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(if *transient {
                    http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    http::StatusCode::FORBIDDEN
                });
            }
        }
        _ => {}
    }
    result
}

/// Stores a session obtained by a custom flow (magic auth, email verification, …): the
/// layer writes the cookie, and later reads in this request see it.
///
/// Only for an [`AuthenticateResponse`] this server **just received from WorkOS** (a
/// `workos::WorkOsClient` authenticate call): its access token is trusted as WorkOS's own
/// answer over TLS (a key id WorkOS has not published yet is accepted, as
/// authkit-nextjs's `saveSession` does). Never pass a response that came from the
/// browser, a queue or a store: that would let whoever wrote it choose the session.
pub async fn save_session(response: AuthenticateResponse) -> Result<SignedIn, AuthError> {
    let auth = request_auth()?;
    auth.refuse_cross_site_write()?;
    let update = auth
        .authkit()
        .session_update(response, None)
        .await
        .map_err(AuthError::internal)?;
    auth.update(&update);
    Ok(SignedIn::new(&update.session, &update.claims))
}

/// The current access token's claims as your own type (standard and custom claims), or
/// `None` when signed out. The token was verified by the layer.
///
/// ```no_run
/// # async fn f() -> Result<(), authkit_leptos::AuthError> {
/// #[derive(serde::Deserialize)]
/// struct Claims { sid: String, department: Option<String> }
/// let claims: Option<Claims> = authkit_leptos::get_token_claims().await?;
/// # Ok(()) }
/// ```
pub async fn get_token_claims<T: DeserializeOwned>() -> Result<Option<T>, AuthError> {
    let Some((session, _)) = request_auth()?.current() else {
        return Ok(None);
    };
    let (_, claims) = decode_unverified(&session.access_token).map_err(AuthError::internal)?;
    serde_json::from_value(claims).map(Some).map_err(|e| {
        AuthError::internal(format_args!(
            "token claims do not match the requested type: {e}"
        ))
    })
}

/// How recently the user authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecentAuth {
    /// When they last authenticated (`auth_time`), if the token says.
    pub authenticated_at: Option<SystemTime>,
    /// Whether that is longer ago than the allowed age (or unknown: fails closed).
    pub is_stale: bool,
}

/// Whether the user authenticated within `max_age` (for sensitive actions). A token
/// without `auth_time` counts as stale; a future `auth_time` as recent.
pub async fn check_recent_auth(max_age: Duration) -> Result<RecentAuth, AuthError> {
    let auth = request_auth()?;
    Ok(recent_auth(
        auth.current().and_then(|(_, c)| c.auth_time),
        max_age,
        unix_now(),
    ))
}

pub(crate) fn recent_auth(auth_time: Option<u64>, max_age: Duration, now: u64) -> RecentAuth {
    match auth_time {
        None => RecentAuth {
            authenticated_at: None,
            is_stale: true,
        },
        Some(t) => RecentAuth {
            authenticated_at: UNIX_EPOCH.checked_add(Duration::from_secs(t)),
            is_stale: now.saturating_sub(t) > max_age.as_secs(),
        },
    }
}

/// Validates the request's `Authorization: Bearer <key>` as a WorkOS API key. `None`
/// when there is no bearer token or WorkOS does not know the key.
pub async fn validate_api_key() -> Result<Option<crate::workos::ApiKey>, AuthError> {
    let auth = request_auth()?;
    if !auth.authkit().client().has_api_key() {
        return Err(AuthError::api_key_required("validate_api_key"));
    }
    let Some(key) = auth.authorization().and_then(bearer_token) else {
        return Ok(None);
    };
    auth.authkit()
        .client()
        .validate_api_key(key)
        .await
        .map_err(|e| AuthError::workos(&e))
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub(crate) fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Auth {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let state = LayerState::of(parts);
        state
            .request_auth()
            .map(RequestAuth::auth)
            .ok_or_else(|| AuthRejection {
                error: state.not_covered(),
            })
    }
}

/// Why the [`Auth`] extractor refused a request: the AuthKit layer does not cover its
/// route (a configuration mistake, [`AuthError::NotCovered`]). As a response it is a
/// `500` whose plain-text body names the path and the matcher pattern to add (no secret:
/// the same words `with_auth` returns), and the same message is logged.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct AuthRejection {
    error: AuthError,
}

impl AuthRejection {
    /// The error: [`AuthError::NotCovered`] with the request path.
    pub fn error(&self) -> &AuthError {
        &self.error
    }
}

impl axum::response::IntoResponse for AuthRejection {
    fn into_response(self) -> axum::response::Response {
        tracing::error!(error = %self.error, "the Auth extractor ran outside the AuthKit layer");
        (
            http::StatusCode::INTERNAL_SERVER_ERROR,
            self.error.to_string(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_auth_boundaries() {
        let max = Duration::from_secs(300);
        assert!(recent_auth(None, max, 1000).is_stale);
        assert!(
            !recent_auth(Some(700), max, 1000).is_stale,
            "exactly max_age is still recent"
        );
        assert!(recent_auth(Some(699), max, 1000).is_stale);
        assert!(
            !recent_auth(Some(2000), max, 1000).is_stale,
            "a future auth_time counts as recent"
        );
        assert_eq!(
            recent_auth(Some(700), max, 1000).authenticated_at,
            UNIX_EPOCH.checked_add(Duration::from_secs(700))
        );
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token("Bearer sk_1"), Some("sk_1"));
        assert_eq!(bearer_token("bearer   sk_1 "), Some("sk_1"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token(""), None);
    }
}
