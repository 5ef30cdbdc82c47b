//! The routes AuthKit mounts: the sign-in and sign-up start routes, the callback, and a
//! plain sign-out form target (the [`sign_out`](crate::sign_out) server function's body is
//! in [`crate::auth`]).
//!
//! Sign-in links are plain links to a start route, so pages can render them without
//! JavaScript and without setting a cookie while they render; following the link creates
//! the PKCE pair and sealed state, sets the flow's verifier cookie and redirects to AuthKit.

use crate::authkit::AuthKit;
use crate::callback::{self, CallbackOptions};
use crate::error::AuthError;
use crate::flow::{sign_in_unavailable, SignInOptions, DEFAULT_SIGN_OUT_PATH};
use crate::headers::{cookie_header, is_cross_site, redirect_with_cookies};
use crate::oauth_state::{signed_link_is_valid, LinkParams};
use crate::workos::ScreenHint;
use axum::body::Bytes;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{OriginalUri, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

/// The AuthKit routes (what [`AuthKit::routes_with`] returns): `GET` at the sign-in and
/// sign-up paths, `POST /auth/sign-out`, `GET /auth/authkit.css` (the stylesheet of the
/// callback's own pages), and `GET` at the redirect URI's path with the callback `options`
/// (`POST` there is the organization picker's choice, see [`crate::pending`]).
pub(crate) fn router<S: Clone + Send + Sync + 'static>(
    kit: &AuthKit,
    options: CallbackOptions,
) -> Router<S> {
    let start = Router::new()
        .route(kit.sign_in_path(), get(sign_in))
        .route(kit.sign_up_path(), get(sign_up))
        .route(DEFAULT_SIGN_OUT_PATH, post(sign_out_form))
        .route(
            crate::csp::AUTHKIT_STYLESHEET_PATH,
            get(crate::csp::stylesheet),
        )
        .with_state(kit.clone());
    let callback = Router::new()
        .route(
            kit.callback_path(),
            get(callback::handle).post(callback::choose_organization),
        )
        .with_state((kit.clone(), options));
    let mut routes = Router::new().merge(start).merge(callback);
    if let Some(path) = kit.webhook_path() {
        routes = routes.merge(
            Router::new()
                .route(path, post(webhook))
                .with_state(kit.clone()),
        );
    }
    routes
}

/// `POST` at the webhook path: a WorkOS event, applied once its `WorkOS-Signature` checks
/// out (see `crate::revocation::webhook`). `200` for every verified event (also the types
/// that change nothing, so WorkOS does not retry them), `400`/`401` for anything else,
/// which changes nothing.
async fn webhook(State(kit): State<AuthKit>, headers: HeaderMap, body: Bytes) -> Response {
    use crate::revocation::webhook::SIGNATURE_HEADER;
    let Some(verifier) = kit.revocations().webhook() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if let Err(refused) = verifier.verify(header, &body, now_ms) {
        tracing::warn!(reason = %refused, "refused a webhook delivery");
        return (refused.status(), refused.to_string()).into_response();
    }
    let event: crate::workos::Event = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(_) => {
            tracing::warn!("a signed webhook delivery is not a WorkOS event");
            return (StatusCode::BAD_REQUEST, "not a WorkOS event").into_response();
        }
    };
    let changes = kit.revocations().apply(&event).await;
    tracing::debug!(event = %event.event, id = %event.id, changes, "applied a WorkOS event");
    (
        StatusCode::OK,
        axum::Json(serde_json::json!({ "received": true })),
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
struct StartQuery {
    return_to: Option<String>,
    organization_id: Option<String>,
    login_hint: Option<String>,
    prompt: Option<String>,
    state: Option<String>,
    /// Until when the link's signature holds (Unix seconds).
    state_expires: Option<u64>,
    /// Signs the link that carries `state` (see
    /// [`signed_link_mac`](crate::oauth_state::signed_link_mac)).
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
/// else `Host` (or the URI's authority, for HTTP/2): the move only ever goes to the
/// configured origin, so any value is safe here. A request on a listed preview origin
/// (`WORKOS_REDIRECT_ORIGINS`, [`AuthKitConfig::redirect_uri_for`](crate::AuthKitConfig::redirect_uri_for))
/// is not moved.
fn move_to_redirect_origin(kit: &AuthKit, uri: &http::Uri, headers: &HeaderMap) -> Option<String> {
    // A listed preview origin (`WORKOS_REDIRECT_ORIGINS`) signs in where it is.
    if kit.config().redirect_uri_for(headers, uri).as_ref() != kit.config().redirect_uri() {
        return None;
    }
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
        return redirect_with_cookies(StatusCode::FOUND, &location, Vec::new());
    }
    let query = query.map(|Query(q)| q).unwrap_or_default();
    // Custom state reaches `on_success` only from a link the app made, as it made it: a
    // visitor cannot mint it by typing `?state=…`, change the other parameters of a link
    // that carries it, or use such a link once it expired.
    if let Some(state) = &query.state {
        let params = LinkParams {
            screen: screen.as_str(),
            return_to: query.return_to.as_deref(),
            organization_id: query.organization_id.as_deref(),
            login_hint: query.login_hint.as_deref(),
            prompt: query.prompt.as_deref(),
            state: Some(state),
            max_age: query.max_age,
        };
        let signed = match (query.state_expires, query.state_mac.as_deref()) {
            (Some(expires), Some(mac)) => {
                signed_link_is_valid(kit.config(), &params, expires, mac, crate::jwt::unix_now())
            }
            _ => false,
        };
        if !signed {
            return sign_in_unavailable(&AuthError::InvalidInput(
                "this sign-in link carries custom state that this app did not sign, was \
                 changed, or has expired: use a fresh link from get_sign_in_url / \
                 AuthKit::sign_in_link"
                    .to_owned(),
            ));
        }
    }
    let options: SignInOptions = query.into();
    let redirect_uri = kit.config().redirect_uri_for(headers, uri);
    match kit.authorization_redirect(screen, &options, &cookie_header(headers), &redirect_uri) {
        Ok((url, cookies)) => redirect_with_cookies(StatusCode::FOUND, url.as_str(), cookies),
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
    uri: http::Uri,
    headers: HeaderMap,
    form: Result<Form<SignOutForm>, FormRejection>,
) -> Response {
    if is_cross_site(&headers, &kit.config().redirect_uri_for(&headers, &uri)) {
        return (StatusCode::FORBIDDEN, "Cross-site sign-out refused.").into_response();
    }
    let return_to = form.ok().and_then(|Form(f)| f.return_to);
    let session = kit.session_from_cookie(&headers);
    let plan = kit.sign_out_plan(
        &headers,
        &uri,
        session.as_ref().map(|(s, sid)| (&**s, sid.clone())),
        return_to.as_deref(),
    );
    let mut cookies = plan.session_delete;
    cookies.extend(plan.verifier_deletes);
    redirect_with_cookies(StatusCode::SEE_OTHER, &plan.location, cookies)
}
