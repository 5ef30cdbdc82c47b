//! The JSON endpoints: `authenticate`, JWKS, logout and revoke, users, organizations,
//! memberships, API-key validation and health.
//!
//! Every answer is JSON with `Content-Type: application/json`; bad input gets a WorkOS error
//! shape (`{"error","error_description"}` from `authenticate`, `{"code","message"}`
//! elsewhere) and never a 500. Endpoints the SDK calls with the API key require it as
//! `Authorization: Bearer`; `authenticate` also accepts it as `client_secret`.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use secrecy::ExposeSecret as _;
use serde_json::{json, Map, Value};

use crate::faults::GrantType;
use crate::pages;
use crate::seed::{is_valid_redirect_uri, MembershipStatus};
use crate::state::AppState;
use crate::store::{ClientInfo, GrantError, Store};
use crate::urlencoded;
use crate::wire::{self, ApiError, AuthenticateResponse, WireUser};

/// Reads a POST body as a JSON object, or form fields when sent form-encoded.
pub(crate) fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, String> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let text =
            std::str::from_utf8(body).map_err(|_| "the form body is not UTF-8".to_owned())?;
        let pairs = urlencoded::parse(text).map_err(|e| e.to_string())?;
        return Ok(pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("expected a JSON object".to_owned()),
        Err(e) => Err(format!("malformed JSON ({e})")),
    }
}

/// The bearer token of the `Authorization` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(token.trim())
    } else {
        None
    }
}

fn is_api_key(store: &Store, candidate: &str) -> bool {
    verify_slices_are_equal(
        store.settings.api_key.expose_secret().as_bytes(),
        candidate.as_bytes(),
    )
    .is_ok()
}

pub(crate) fn require_api_key(store: &Store, headers: &HeaderMap) -> Result<(), ApiError> {
    match bearer(headers) {
        Some(key) if is_api_key(store, key) => Ok(()),
        _ => Err(ApiError::unauthorized()),
    }
}

fn str_field<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(Value::as_str)
}

/// `POST /user_management/authenticate` (`authorization_code` and `refresh_token`).
pub(crate) async fn authenticate(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match authenticate_inner(&app, &headers, &body) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn authenticate_inner(
    app: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let bad = |description: String| {
        ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_request", description)
    };
    let fields = parse_body(headers, body)
        .map_err(|e| bad(format!("The request body must be a JSON object: {e}.")))?;
    let grant_type = str_field(&fields, "grant_type")
        .ok_or_else(|| bad("grant_type is required.".to_owned()))?;
    let grant = match grant_type {
        "authorization_code" => GrantType::AuthorizationCode,
        "refresh_token" => GrantType::RefreshToken,
        "urn:workos:oauth:grant-type:organization-selection" => GrantType::OrganizationSelection,
        other => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type `{other}` is not supported by the emulator; use authorization_code, refresh_token or urn:workos:oauth:grant-type:organization-selection."),
            ))
        }
    };
    let client_id =
        str_field(&fields, "client_id").ok_or_else(|| bad("client_id is required.".to_owned()))?;
    let secret = str_field(&fields, "client_secret").or_else(|| bearer(headers));

    let issue = {
        let mut store = app.lock();
        store.counters.hit_grant(grant);
        if client_id != store.settings.client_id {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                format!("Unknown client_id `{client_id}`."),
            ));
        }
        let confidential = match secret {
            Some(secret) if is_api_key(&store, secret) => true,
            Some(_) => {
                return Err(ApiError::oauth(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "The client_secret (API key) is not this emulator's API key.",
                ))
            }
            None => false,
        };
        let result = match grant {
            GrantType::AuthorizationCode => {
                let code = str_field(&fields, "code")
                    .ok_or_else(|| bad("code is required.".to_owned()))?;
                let verifier = str_field(&fields, "code_verifier");
                // Recorded on the session, as WorkOS does, when the app passes them on.
                let client = ClientInfo {
                    ip_address: str_field(&fields, "ip_address")
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned),
                    user_agent: str_field(&fields, "user_agent")
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned),
                };
                store.redeem_code(code, client_id, verifier, confidential, client)
            }
            GrantType::RefreshToken => {
                let token = str_field(&fields, "refresh_token")
                    .ok_or_else(|| bad("refresh_token is required.".to_owned()))?;
                let org = str_field(&fields, "organization_id");
                store.refresh(token, org)
            }
            GrantType::OrganizationSelection => {
                // As `@workos-inc/node` sends it: only a confidential client (the API
                // key as `client_secret`).
                if !confidential {
                    return Err(ApiError::oauth(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        "The organization-selection grant needs the client_secret (API key).",
                    ));
                }
                let token = str_field(&fields, "pending_authentication_token")
                    .ok_or_else(|| bad("pending_authentication_token is required.".to_owned()))?;
                let org = str_field(&fields, "organization_id")
                    .ok_or_else(|| bad("organization_id is required.".to_owned()))?;
                let client = ClientInfo {
                    ip_address: str_field(&fields, "ip_address")
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned),
                    user_agent: str_field(&fields, "user_agent")
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned),
                };
                store.select_organization(token, client_id, org, client)
            }
        };
        result.map_err(grant_error)?
    };

    // Sign outside the lock: concurrent refreshes should not queue behind RSA.
    let access_token = issue.key.sign_jwt(&issue.claims).map_err(|_| {
        ApiError::oauth(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The emulator could not sign the access token; try again.",
        )
    })?;
    Ok(Json(AuthenticateResponse::new(&issue, access_token)).into_response())
}

fn grant_error(error: GrantError) -> ApiError {
    match error {
        GrantError::InvalidGrant(m) => ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_grant", m),
        GrantError::InvalidClient(m) => {
            ApiError::oauth(StatusCode::UNAUTHORIZED, "invalid_client", m)
        }
        GrantError::NotMember(m) => ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_request", m),
        GrantError::Switch {
            error,
            org_id,
            email,
        } => {
            let description = match error {
                crate::seed::SwitchError::SsoRequired => {
                    "The organization requires signing in with its SSO connection."
                }
                crate::seed::SwitchError::MfaEnrollment => {
                    "The organization requires multi-factor authentication; enroll a factor."
                }
            };
            ApiError::with_body(
                StatusCode::BAD_REQUEST,
                json!({
                    "error": error.code(),
                    "error_description": description,
                    "code": error.code(),
                    "message": description,
                    "email": email,
                    "organization_id": org_id,
                }),
            )
        }
        GrantError::Step(step) => {
            let message = match step.code {
                "email_verification_required" => {
                    "Email ownership must be verified before authentication."
                }
                "mfa_enrollment" => "The user must enroll in MFA to finish authenticating.",
                "mfa_challenge" => {
                    "The user must complete an MFA challenge to finish authenticating."
                }
                _ => "The user must choose an organization to finish their authentication.",
            };
            // WorkOS's shapes (reference/authkit/authentication-errors): `code`,
            // `message`, `pending_authentication_token`, and per code the `email` and
            // `email_verification_id`, the `user`, the enrolled `authentication_factors`,
            // or the `organizations` to choose among.
            let mut body = json!({
                "code": step.code,
                "message": message,
                "pending_authentication_token": step.token,
            });
            match step.code {
                "email_verification_required" => {
                    body["email"] = json!(step.user.email);
                    body["email_verification_id"] =
                        json!(crate::ids::stable_id("email_verification", &step.user.id));
                }
                "mfa_challenge" => {
                    body["authentication_factors"] = json!([{
                        "id": crate::ids::stable_id("auth_factor", &step.user.id),
                        "type": "totp",
                    }]);
                    body["user"] = wire::user_json(&step.user);
                }
                "organization_selection_required" => {
                    body["organizations"] = step
                        .organizations
                        .iter()
                        .map(|(id, name)| json!({ "id": id, "name": name }))
                        .collect();
                    body["user"] = wire::user_json(&step.user);
                }
                _ => body["user"] = wire::user_json(&step.user),
            }
            ApiError::with_body(StatusCode::FORBIDDEN, body)
        }
        GrantError::Random(_) => ApiError::oauth(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The emulator could not generate a random value; try again.",
        ),
    }
}

/// `GET /sso/jwks/{client_id}`.
pub(crate) async fn jwks(State(app): State<AppState>, Path(client_id): Path<String>) -> Response {
    let store = app.lock();
    if client_id != store.settings.client_id {
        return ApiError::not_found("Client", &client_id).into_response();
    }
    let keys: Vec<_> = store.published_keys().map(|k| k.jwk().clone()).collect();
    Json(json!({ "keys": keys })).into_response()
}

/// `GET /user_management/sessions/logout?session_id=…&return_to=…`.
pub(crate) async fn logout(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let html_error = |text: &str| {
        (
            StatusCode::BAD_REQUEST,
            Html(pages::message("Cannot sign out", text)),
        )
            .into_response()
    };
    let Ok(pairs) = urlencoded::parse(query.as_deref().unwrap_or_default()) else {
        return html_error("The query string is not valid percent-encoded UTF-8.");
    };
    let Ok(Some(session_id)) = urlencoded::single(&pairs, "session_id") else {
        return html_error("session_id is required (once).");
    };
    let return_to = match urlencoded::single(&pairs, "return_to") {
        Ok(Some(url)) if is_valid_redirect_uri(url) => Some(url),
        Ok(None) => None,
        _ => return html_error("return_to must be an absolute http(s) URL."),
    };
    // Like WorkOS's allowed logout URLs: once redirect URIs are configured, `return_to`
    // must be on one of their origins (else only this machine's URLs are accepted).
    let mut store = app.lock();
    if let Some(url) = return_to {
        let allowed = &store.settings.redirect_uris;
        let permitted = if allowed.is_empty() {
            // Unregistered: this machine only (no open redirect).
            crate::seed::is_loopback_uri(url)
        } else {
            allowed
                .iter()
                .any(|a| crate::seed::matches_registered(a, url, false))
        };
        if !permitted {
            return html_error(
                "return_to is not on an allowed redirect URI's origin (unregistered, only localhost URLs).",
            );
        }
    }
    // Unknown or already ended sessions are fine: signing out is idempotent.
    store.end_session(session_id);
    drop(store);
    match return_to.and_then(|url| HeaderValue::from_str(url).ok()) {
        Some(location) => {
            let mut response = StatusCode::FOUND.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response
        }
        None => Html(pages::message("Signed out", "You can close this window.")).into_response(),
    }
}

/// `POST /user_management/sessions/revoke` with `{"session_id"}`.
pub(crate) async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut store = app.lock();
    if let Err(e) = require_api_key(&store, &headers) {
        return e.into_response();
    }
    let fields = match parse_body(&headers, &body) {
        Ok(f) => f,
        Err(e) => return ApiError::bad_body(e).into_response(),
    };
    let Some(session_id) = str_field(&fields, "session_id") else {
        return unprocessable("session_id", "session_id is required.");
    };
    if store.sessions.contains_key(session_id) {
        store.end_session(session_id);
        Json(json!({})).into_response()
    } else {
        ApiError::not_found("Session", session_id).into_response()
    }
}

/// `GET /user_management/users/{id}`.
pub(crate) async fn get_user(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let store = app.lock();
    if let Err(e) = require_api_key(&store, &headers) {
        return e.into_response();
    }
    match store.user(&id) {
        Some(user) => Json(WireUser::new(user)).into_response(),
        None => ApiError::not_found("User", &id).into_response(),
    }
}

/// `GET /organizations/{id}`.
pub(crate) async fn get_organization(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let store = app.lock();
    if let Err(e) = require_api_key(&store, &headers) {
        return e.into_response();
    }
    match store.org(&id) {
        Some(org) => Json(wire::organization(org)).into_response(),
        None => ApiError::not_found("Organization", &id).into_response(),
    }
}

/// `GET /user_management/organization_memberships?user_id|organization_id&statuses&limit&after&before&order`.
pub(crate) async fn list_memberships(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let store = app.lock();
    if let Err(e) = require_api_key(&store, &headers) {
        return e.into_response();
    }
    let Ok(pairs) = urlencoded::parse(query.as_deref().unwrap_or_default()) else {
        return ApiError::message(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The query string is not valid percent-encoded UTF-8.",
        )
        .into_response();
    };
    let get = |key: &str| {
        urlencoded::single(&pairs, key)
            .ok()
            .flatten()
            .filter(|v| !v.is_empty())
    };
    let user_id = get("user_id");
    let org_id = get("organization_id");
    if user_id.is_none() && org_id.is_none() {
        return unprocessable("user_id", "Give user_id or organization_id (or both).");
    }
    let statuses: Vec<&str> = match get("statuses") {
        Some(list) => list.split(',').map(str::trim).collect(),
        None => vec![MembershipStatus::Active.as_str()],
    };
    let limit = match get("limit").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return unprocessable("limit", "limit must be a number from 1 to 100."),
    };
    let mut items: Vec<_> = store
        .memberships
        .iter()
        .filter(|m| user_id.is_none_or(|u| m.user_id == u))
        .filter(|m| org_id.is_none_or(|o| m.org_id == o))
        .filter(|m| statuses.contains(&m.status.as_str()))
        .collect();
    if get("order") == Some("desc") {
        items.reverse();
    }
    // Cursors are membership ids; an unknown cursor yields an empty page.
    let position = |id: &str| items.iter().position(|m| m.id == id);
    let (from, to) = match (get("after"), get("before")) {
        (Some(after), _) => {
            let from = position(after).map_or(items.len(), |i| i + 1);
            (from, (from + limit).min(items.len()))
        }
        (None, Some(before)) => {
            let to = position(before).unwrap_or(0);
            (to.saturating_sub(limit), to)
        }
        (None, None) => (0, limit.min(items.len())),
    };
    let page = items.get(from..to).unwrap_or_default();
    let data: Vec<Value> = page
        .iter()
        .map(|m| {
            let name = store
                .org(&m.org_id)
                .map(|o| o.name.as_str())
                .filter(|_| !store.omit_membership_names);
            wire::membership(m, name)
        })
        .collect();
    let before = if from > 0 {
        page.first().map(|m| m.id.clone())
    } else {
        None
    };
    let after = if to < items.len() {
        page.last().map(|m| m.id.clone())
    } else {
        None
    };
    Json(json!({
        "object": "list",
        "data": data,
        "list_metadata": { "before": before, "after": after },
    }))
    .into_response()
}

/// `POST /api_keys/validations` with `{"value"}`.
pub(crate) async fn validate_api_key(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let store = app.lock();
    if let Err(e) = require_api_key(&store, &headers) {
        return e.into_response();
    }
    let fields = match parse_body(&headers, &body) {
        Ok(f) => f,
        Err(e) => return ApiError::bad_body(e).into_response(),
    };
    let Some(value) = str_field(&fields, "value") else {
        return unprocessable("value", "value is required.");
    };
    let found = store.api_keys.iter().find(|k| {
        k.value.as_ref().is_some_and(|v| {
            verify_slices_are_equal(v.expose_secret().as_bytes(), value.as_bytes()).is_ok()
        })
    });
    Json(json!({ "api_key": found.map(wire::api_key) })).into_response()
}

/// `GET /health`.
pub(crate) async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

fn unprocessable(field: &str, message: &str) -> Response {
    ApiError::with_body(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({
            "code": "invalid_request_parameters",
            "message": message,
            "errors": [{ "field": field, "code": "invalid" }],
        }),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_parse_as_json_or_form() {
        let mut headers = HeaderMap::new();
        assert!(parse_body(&headers, b"{\"a\":1}").is_ok());
        assert!(parse_body(&headers, b"[1]").is_err());
        assert!(parse_body(&headers, b"{oops").is_err());
        assert!(parse_body(&headers, b"").is_err());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        let form = parse_body(&headers, b"grant_type=refresh_token&x=a%2Bb").unwrap();
        assert_eq!(form["grant_type"], "refresh_token");
        assert_eq!(form["x"], "a+b");
        assert!(parse_body(&headers, b"x=%ff").is_err());
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer sk_1"),
        );
        assert_eq!(bearer(&headers), Some("sk_1"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }
}
