//! The routes AuthKit mounts: the sign-in and sign-up start routes, the callback, and a
//! plain sign-out form target; plus the [`sign_out`] server function.
//!
//! Sign-in links are plain links to a start route, so pages can render them without
//! JavaScript and without setting a cookie while they render; following the link creates
//! the PKCE pair and sealed state, sets the flow's verifier cookie and redirects to AuthKit.

use crate::auth::SignInOptions;
use crate::authkit::AuthKit;
use crate::callback::{self, CallbackOptions};
use crate::error::AuthError;
use crate::jwt::decode_unverified;
use crate::middleware::{cookie_header, is_cross_site, redirect, sign_in_unavailable, RequestAuth};
use crate::oauth_state::{sanitize_return_path, verifier_cookie_names};
use crate::session::{
    pkce_delete_cookie, session_delete_cookie, session_delete_host_only_cookie, Session,
    SessionCookies,
};
use crate::workos::ScreenHint;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{OriginalUri, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

/// The default path of the plain sign-out form target.
pub(crate) const DEFAULT_SIGN_OUT_PATH: &str = "/auth/sign-out";

impl AuthKit {
    /// The AuthKit routes with default callback options: `GET /auth/sign-in`,
    /// `GET /auth/sign-up`, `POST /auth/sign-out`, and `GET` at the redirect URI's path.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        self.routes_with(CallbackOptions::default())
    }

    /// The AuthKit routes with callback options (`return_pathname`, `base_url`,
    /// `on_success`, `on_error`).
    pub fn routes_with<S: Clone + Send + Sync + 'static>(
        &self,
        options: CallbackOptions,
    ) -> Router<S> {
        let start = Router::new()
            .route(self.sign_in_path(), get(sign_in))
            .route(self.sign_up_path(), get(sign_up))
            .route(DEFAULT_SIGN_OUT_PATH, post(sign_out_form))
            .with_state(self.clone());
        let callback = Router::new()
            .route(self.callback_path(), get(callback::handle))
            .with_state((self.clone(), options));
        Router::new().merge(start).merge(callback)
    }

    /// What signing out does: where to send the browser, the session cookie's deletion,
    /// and the deletions of every flow (verifier) cookie. Also forgets any remembered
    /// refresh of the session, so its old cookie stops working at once.
    pub(crate) fn sign_out_plan(
        &self,
        headers: &HeaderMap,
        session: Option<(&Session, String)>,
        return_to: Option<&str>,
    ) -> SignOutPlan {
        let config = self.config();
        let secure_url = Some(config.redirect_uri().as_str());
        let verifier_deletes = verifier_cookie_names(&cookie_header(headers))
            .iter()
            .map(|name| pkce_delete_cookie(config.cookie(), name, secure_url))
            .collect();
        let return_path = sanitize_return_path(return_to.unwrap_or("/"));
        // Forget the remembered refreshes of both the cookie the browser sent and the
        // session it became in this request (the layer may have refreshed it), so neither
        // an old nor a current cookie can be traded for a session after signing out.
        if let Some((sent, _)) = self.session_from_cookie(headers) {
            self.forget_refresh(&sent.refresh_token);
        }
        let location = match session {
            Some((session, sid)) => {
                self.forget_refresh(&session.refresh_token);
                self.forget_session(&sid);
                // Absolute URL on this site: WorkOS checks it against the allowed logout URLs.
                let return_url = config
                    .redirect_uri()
                    .join(&return_path)
                    .map(String::from)
                    .unwrap_or_else(|_| "/".to_owned());
                self.client()
                    .logout_url(&sid, Some(&return_url))
                    .to_string()
            }
            None => return_path,
        };
        SignOutPlan {
            location,
            session_delete: std::iter::once(session_delete_cookie(config.cookie(), secure_url))
                .chain(session_delete_host_only_cookie(config.cookie(), secure_url))
                .chain(
                    SessionCookies::from_headers(headers, &config.cookie().name).stale_deletions(
                        config.cookie(),
                        secure_url,
                        &[],
                    ),
                )
                .collect(),
            verifier_deletes,
        }
    }

    /// The session and its id from the cookie itself (for sign-out on a request the
    /// layer does not cover).
    pub(crate) fn session_from_cookie(&self, headers: &HeaderMap) -> Option<(Session, String)> {
        // The first of the cookies with the session's name that unseals (a stale
        // host-only twin may come first), else a split session's parts.
        let cookies = SessionCookies::from_headers(headers, &self.config().cookie().name);
        let session = cookies
            .candidates()
            .find_map(|value| Session::unseal(value, self.config().passwords()).ok())?;
        let (_, claims) = decode_unverified(&session.access_token).ok()?;
        let sid = claims.get("sid")?.as_str()?.to_owned();
        Some((session, sid))
    }
}

/// See [`AuthKit::sign_out_plan`].
pub(crate) struct SignOutPlan {
    location: String,
    /// The session cookie's deletion, and its host-only twin when a domain is configured.
    session_delete: Vec<String>,
    verifier_deletes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct StartQuery {
    return_to: Option<String>,
    organization_id: Option<String>,
    login_hint: Option<String>,
    prompt: Option<String>,
    state: Option<String>,
    /// Signs `state` (see [`custom_state_mac`](crate::oauth_state::custom_state_mac)).
    state_mac: Option<String>,
    max_age: Option<u64>,
}

impl From<StartQuery> for SignInOptions {
    fn from(q: StartQuery) -> Self {
        Self {
            return_to: q.return_to,
            organization_id: q.organization_id,
            login_hint: q.login_hint,
            prompt: q.prompt,
            state: q.state,
            max_age: q.max_age,
        }
    }
}

async fn sign_in(
    State(kit): State<AuthKit>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    query: Result<Query<StartQuery>, QueryRejection>,
) -> Response {
    start(&kit, ScreenHint::SignIn, &uri, &headers, query)
}

async fn sign_up(
    State(kit): State<AuthKit>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    query: Result<Query<StartQuery>, QueryRejection>,
) -> Response {
    start(&kit, ScreenHint::SignUp, &uri, &headers, query)
}

/// The query parameter that marks a start request already moved to the redirect URI's
/// origin, so a proxy that rewrites `Host` can never cause a redirect loop.
const MOVED_PARAM: &str = "authkit_moved";

/// Where to send a start request that arrived at another host than the redirect URI's:
/// the same path and query on the redirect URI's origin. The flow cookie set by the start
/// route is host-only, so it must be set on the host WorkOS will send the browser back to
/// (opening `http://localhost:3000` when the redirect URI says `127.0.0.1` is the classic
/// case; authkit-nextjs answers its callback with an error then).
///
/// Hosts are compared as browsers compare origins' hosts: parsed as WHATWG URL hosts
/// (ASCII case-folded, IDNA, IPv4 forms normalized) with the port defaulted by the
/// redirect URI's scheme. The request's host is `X-Forwarded-Host` when a proxy set it,
/// else `Host` (or the URI's authority, for HTTP/2).
fn move_to_redirect_origin(kit: &AuthKit, uri: &http::Uri, headers: &HeaderMap) -> Option<String> {
    let query = uri.query().unwrap_or_default();
    if query
        .split('&')
        .any(|pair| pair.split('=').next() == Some(MOVED_PARAM))
    {
        return None;
    }
    let request_host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(http::header::HOST))
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').next().unwrap_or_default().trim().to_owned())
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
        .filter(|h| !h.is_empty())?;
    let target = kit.config().redirect_uri();
    let seen = url::Url::parse(&format!("{}://{request_host}/", target.scheme())).ok()?;
    if seen.host() == target.host()
        && seen.port_or_known_default() == target.port_or_known_default()
    {
        return None;
    }
    // With a cookie `Domain` covering this host, the flow cookie reaches the callback's host
    // anyway (RFC 6265 §5.1.3 domain-match); stay where the user is.
    if let (Some(domain), Some(url::Host::Domain(host))) =
        (kit.config().cookie().domain.as_deref(), seen.host())
    {
        let domain = domain.trim_start_matches('.').to_ascii_lowercase();
        if !domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}"))) {
            return None;
        }
    }
    let mut origin = target.origin().ascii_serialization();
    origin.push_str(uri.path());
    origin.push('?');
    if !query.is_empty() {
        origin.push_str(query);
        origin.push('&');
    }
    origin.push_str(MOVED_PARAM);
    origin.push_str("=1");
    Some(origin)
}

fn start(
    kit: &AuthKit,
    screen: ScreenHint,
    uri: &http::Uri,
    headers: &HeaderMap,
    query: Result<Query<StartQuery>, QueryRejection>,
) -> Response {
    if let Some(location) = move_to_redirect_origin(kit, uri, headers) {
        return redirect(StatusCode::FOUND, &location, Vec::new());
    }
    let query = query.map(|Query(q)| q).unwrap_or_default();
    // Custom state reaches `on_success` only from a link the app made: a visitor cannot
    // mint it by typing `?state=…`.
    if let Some(state) = &query.state {
        let signed = query.state_mac.as_deref().is_some_and(|mac| {
            crate::oauth_state::custom_state_mac_is_valid(kit.config(), state, mac)
        });
        if !signed {
            return sign_in_unavailable(&AuthError::InvalidInput(
                "this sign-in link carries custom state that this app did not sign: use a \
                 link from get_sign_in_url / AuthKit::sign_in_link"
                    .to_owned(),
            ));
        }
    }
    let options: SignInOptions = query.into();
    match kit.authorization_redirect(screen, &options, &cookie_header(headers)) {
        Ok((url, cookies)) => redirect(StatusCode::FOUND, url.as_str(), cookies),
        Err(e) => sign_in_unavailable(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct SignOutForm {
    return_to: Option<String>,
}

/// `POST /auth/sign-out` for apps without the server function (plain HTML forms).
/// Refused (403) when the form was posted from another site.
async fn sign_out_form(
    State(kit): State<AuthKit>,
    headers: HeaderMap,
    form: Result<Form<SignOutForm>, FormRejection>,
) -> Response {
    if is_cross_site(&headers, kit.config().redirect_uri()) {
        return (StatusCode::FORBIDDEN, "Cross-site sign-out refused.").into_response();
    }
    let return_to = form.ok().and_then(|Form(f)| f.return_to);
    let session = kit.session_from_cookie(&headers);
    let plan = kit.sign_out_plan(
        &headers,
        session.as_ref().map(|(s, sid)| (s, sid.clone())),
        return_to.as_deref(),
    );
    let mut cookies = plan.session_delete;
    cookies.extend(plan.verifier_deletes);
    redirect(StatusCode::SEE_OTHER, &plan.location, cookies)
}

/// The body of the [`sign_out`](crate::sign_out) server function.
pub(crate) async fn sign_out_impl(return_to: Option<String>) -> Result<(), AuthError> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()
        .ok_or(AuthError::NoRequestContext)?;
    let request_auth = parts.extensions.get::<RequestAuth>().cloned();
    let kit = request_auth
        .as_ref()
        .map(|a| a.authkit().clone())
        .or_else(leptos::prelude::use_context::<AuthKit>)
        .ok_or_else(|| AuthError::not_covered(parts.uri.path()))?;
    if is_cross_site(&parts.headers, kit.config().redirect_uri()) {
        return Err(AuthError::InvalidInput(
            "cross-site sign-out refused".into(),
        ));
    }
    // The resolved session; else the cookie's own (the layer could not resolve it, e.g.
    // WorkOS was unreachable for a refresh): the WorkOS session must still end, or it
    // stays alive on a shared computer.
    let session = request_auth
        .as_ref()
        .and_then(|a| a.current().map(|(s, c)| (s, c.sid)))
        .or_else(|| kit.session_from_cookie(&parts.headers));
    let plan = kit.sign_out_plan(
        &parts.headers,
        session.as_ref().map(|(s, sid)| (s, sid.clone())),
        return_to.as_deref(),
    );
    let mut cookies = plan.verifier_deletes;
    match &request_auth {
        // The layer writes the session cookie's deletion, after anything else it set.
        Some(a) => a.clear(),
        None => cookies.extend(plan.session_delete),
    }
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        for c in cookies {
            if let Ok(v) = http::HeaderValue::from_str(&c) {
                response.append_header(http::header::SET_COOKIE, v);
            }
        }
    }
    crate::auth::redirect(&plan.location);
    Ok(())
}
