//! The JSON the emulator sends, shaped exactly as the WorkOS API (snake_case), and its
//! error bodies.
//!
//! Error bodies follow what `@workos-inc/node` maps to exceptions: OAuth-style
//! `{"error", "error_description"}` from `authenticate`, `{"code", "message"}` elsewhere,
//! always with `Content-Type: application/json`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::clock::iso8601;
use super::store::{ApiKeyRec, Issue, MemberRec, OrgRec, UserRec};
use crate::seed::Impersonator;

/// A WorkOS user, every field present (`null` where empty), as in `authenticate` responses.
#[derive(Debug, Serialize)]
pub(crate) struct WireUser<'a> {
    object: &'static str,
    id: &'a str,
    email: &'a str,
    email_verified: bool,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    name: Option<String>,
    profile_picture_url: Option<&'a str>,
    last_sign_in_at: Option<String>,
    locale: Option<&'a str>,
    created_at: String,
    updated_at: String,
    external_id: Option<&'a str>,
    metadata: &'a std::collections::BTreeMap<String, String>,
}

impl<'a> WireUser<'a> {
    pub(crate) fn new(u: &'a UserRec) -> Self {
        Self {
            object: "user",
            id: &u.id,
            email: &u.email,
            email_verified: u.email_verified,
            first_name: u.first_name.as_deref(),
            last_name: u.last_name.as_deref(),
            name: u.full_name(),
            profile_picture_url: u.profile_picture_url.as_deref(),
            last_sign_in_at: u.last_sign_in_ms.map(iso8601),
            locale: u.locale.as_deref(),
            created_at: iso8601(u.created_ms),
            updated_at: iso8601(u.updated_ms),
            external_id: u.external_id.as_deref(),
            metadata: &u.metadata,
        }
    }
}

/// A WorkOS user as JSON (`GET /user_management/users/{id}`, and the `data` of user events).
pub(crate) fn user_json(u: &UserRec) -> Value {
    serde_json::to_value(WireUser::new(u)).unwrap_or(Value::Null)
}

/// The `authenticate` response body (§5 of the wire reference).
#[derive(Debug, Serialize)]
pub(crate) struct AuthenticateResponse<'a> {
    user: WireUser<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_id: Option<&'a str>,
    access_token: String,
    refresh_token: &'a str,
    authentication_method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    impersonator: Option<&'a Impersonator>,
}

impl<'a> AuthenticateResponse<'a> {
    pub(crate) fn new(issue: &'a Issue, access_token: String) -> Self {
        Self {
            user: WireUser::new(&issue.user),
            organization_id: issue.claims.org_id.as_deref(),
            access_token,
            refresh_token: &issue.refresh_token,
            authentication_method: &issue.method,
            impersonator: issue.impersonator.as_ref(),
        }
    }
}

/// A WorkOS organization.
pub(crate) fn organization(o: &OrgRec) -> Value {
    let created = iso8601(o.created_ms);
    let domains: Vec<Value> = o
        .domains
        .iter()
        .map(|d| {
            json!({
                "object": "organization_domain",
                "id": d.id,
                "domain": d.domain,
                "organization_id": o.id,
                "state": d.state,
                "verification_strategy": "manual",
                "created_at": created,
                "updated_at": created,
            })
        })
        .collect();
    json!({
        "object": "organization",
        "id": o.id,
        "name": o.name,
        "allow_profiles_outside_organization": false,
        "domains": domains,
        "created_at": created,
        "updated_at": created,
        "external_id": o.external_id,
        "metadata": o.metadata,
    })
}

/// A WorkOS organization membership.
pub(crate) fn membership(m: &MemberRec, org_name: Option<&str>) -> Value {
    let created = iso8601(m.created_ms);
    let updated = iso8601(m.updated_ms);
    let roles: Vec<Value> = m.roles.iter().map(|r| json!({ "slug": r })).collect();
    json!({
        "object": "organization_membership",
        "id": m.id,
        "user_id": m.user_id,
        "organization_id": m.org_id,
        "organization_name": org_name,
        "status": m.status.as_str(),
        "role": { "slug": m.primary_role() },
        "roles": roles,
        "directory_managed": false,
        "custom_attributes": {},
        "created_at": created,
        "updated_at": updated,
    })
}

/// A WorkOS API key object (never its value).
pub(crate) fn api_key(k: &ApiKeyRec) -> Value {
    let created = iso8601(k.created_ms);
    let value = k.value.as_ref().map_or("", |v| v.expose());
    let tail: String = value
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let owner = match &k.org_id {
        Some(org) => json!({ "type": "organization", "id": org }),
        None => Value::Null,
    };
    json!({
        "object": "api_key",
        "id": k.id,
        "owner": owner,
        "name": k.name,
        "obfuscated_value": format!("sk_…{tail}"),
        "last_used_at": null,
        "permissions": k.permissions,
        "created_at": created,
        "updated_at": created,
    })
}

/// An error response in a WorkOS shape.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

impl ApiError {
    /// `{"error": error, "error_description": description}` (OAuth style).
    pub(crate) fn oauth(status: StatusCode, error: &str, description: impl Into<String>) -> Self {
        Self::with_body(
            status,
            json!({ "error": error, "error_description": description.into() }),
        )
    }

    /// `{"code": code, "message": message}`.
    pub(crate) fn message(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self::with_body(status, json!({ "code": code, "message": message.into() }))
    }

    /// Any JSON body.
    pub(crate) fn with_body(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body,
            retry_after: None,
        }
    }

    /// Adds `Retry-After`.
    pub(crate) fn retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after = seconds;
        self
    }

    /// 401 for a missing or wrong API key.
    pub(crate) fn unauthorized() -> Self {
        Self::message(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Send the emulator's API key as `Authorization: Bearer <API key>`.",
        )
    }

    /// 404 for an unknown entity.
    pub(crate) fn not_found(entity: &str, id: &str) -> Self {
        Self::with_body(
            StatusCode::NOT_FOUND,
            json!({
                "code": "entity_not_found",
                "message": format!("{entity} not found: '{id}'."),
                "entity_id": id,
            }),
        )
    }

    /// 400 for a body that is not the JSON object expected.
    pub(crate) fn bad_body(detail: impl std::fmt::Display) -> Self {
        Self::message(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("The request body must be a JSON object: {detail}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}
