//! WorkOS's Sessions API: the `session` object and `GET /user_management/users/{id}/sessions`.
//! (Revoking is `POST /user_management/sessions/revoke`, in [`crate::api`].)
//!
//! A session object is `{"object": "session", "id", "user_id", "organization_id"?,
//! "status", "auth_method", "ip_address", "user_agent", "expires_at", "ended_at",
//! "created_at", "updated_at", "impersonator"?}`: `status` is `active`, `revoked` or
//! `expired`; `auth_method` is WorkOS's snake-case session value (`password`, `oauth`,
//! `sso`, `impersonation`, …), not the CamelCase `authentication_method` of
//! `authenticate`; `ip_address` and `user_agent` are what the app passed to
//! `authenticate` (`null` when it passed nothing).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::clock::iso8601;
use super::paging::{self, Cursor, ListParams, Order};
use super::state::AppState;
use super::store::SessionRec;
use super::urlencoded;
use super::wire::ApiError;

/// The session's `auth_method`, from the method recorded at sign-in (the seeded user's
/// `authentication_method`, `Password` by default, or `Impersonation`).
fn auth_method(method: &str) -> &'static str {
    match method {
        "Password" | "password" => "password",
        "SSO" | "sso" => "sso",
        "Impersonation" | "impersonation" => "impersonation",
        "MagicAuth" | "magic_code" => "magic_code",
        "Passkey" | "passkey" => "passkey",
        "CrossAppAuth" | "cross_app_auth" => "cross_app_auth",
        "ExternalAuth" | "external_auth" => "external_auth",
        "MigratedSession" | "migrated_session" => "migrated_session",
        // GoogleOAuth, MicrosoftOAuth, GitHubOAuth, AppleOAuth, …
        m if m.ends_with("OAuth") || m == "oauth" => "oauth",
        _ => "unknown",
    }
}

/// A WorkOS session object, as of `now_ms`.
pub(crate) fn session_json(s: &SessionRec, now_ms: i64) -> Value {
    let mut object = Map::new();
    object.insert("object".into(), "session".into());
    object.insert("id".into(), s.id.clone().into());
    object.insert("user_id".into(), s.user_id.clone().into());
    if let Some(org) = &s.org_id {
        object.insert("organization_id".into(), org.clone().into());
    }
    object.insert("status".into(), s.status(now_ms).into());
    object.insert("auth_method".into(), auth_method(&s.method).into());
    object.insert("ip_address".into(), json!(s.client.ip_address));
    object.insert("user_agent".into(), json!(s.client.user_agent));
    object.insert("expires_at".into(), iso8601(s.expires_ms).into());
    object.insert("ended_at".into(), json!(s.ended_ms.map(iso8601)));
    object.insert("created_at".into(), iso8601(s.created_ms).into());
    object.insert("updated_at".into(), iso8601(s.updated_ms).into());
    if let Some(impersonator) = &s.impersonator {
        object.insert("impersonator".into(), json!(impersonator));
    }
    Value::Object(object)
}

/// `GET /user_management/users/{id}/sessions?limit&after&before&order`: the user's active
/// sessions ("a list of all active sessions for a specific user", as WorkOS documents
/// it), newest first unless `order` says otherwise.
pub(crate) async fn list_sessions(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let store = app.lock();
    if let Err(e) = super::api::require_api_key(&store, &headers) {
        return e.into_response();
    }
    if store.user(&user_id).is_none() {
        return ApiError::not_found("User", &user_id).into_response();
    }
    let Ok(pairs) = urlencoded::parse(query.as_deref().unwrap_or_default()) else {
        return ApiError::message(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The query string is not valid percent-encoded UTF-8.",
        )
        .into_response();
    };
    let params = match ListParams::parse(&pairs, Order::Desc) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let now = store.clock.now_ms();
    let theirs = || store.sessions.values().filter(|s| s.user_id == user_id);
    let active: Vec<&SessionRec> = theirs().filter(|s| s.is_active(now)).collect();
    // A cursor may name any of the user's sessions, even one that has ended since.
    let resolve = |id: &str| theirs().find(|s| s.id == id).map(|s| s.seq);
    let page = match paging::paginate(&active, |s| s.seq, |s| &s.id, resolve, &params) {
        Ok(page) => page,
        Err(Cursor(field)) => {
            return paging::invalid(
                field,
                &format!("{field} is not the id of one of this user's sessions."),
            )
            .into_response()
        }
    };
    let data: Vec<Value> = page.items.iter().map(|s| session_json(s, now)).collect();
    Json(json!({
        "object": "list",
        "data": data,
        "list_metadata": { "before": page.before, "after": page.after },
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ClientInfo;
    use crate::Impersonator;

    #[test]
    fn session_objects_have_workos_fields() {
        let mut s = SessionRec {
            id: "session_1".into(),
            seq: 1,
            user_id: "user_1".into(),
            org_id: None,
            impersonator: None,
            method: "GoogleOAuth".into(),
            auth_time: 1,
            created_ms: 1_000,
            updated_ms: 1_000,
            expires_ms: 10_000,
            ended_ms: None,
            client: ClientInfo {
                ip_address: Some("203.0.113.9".into()),
                user_agent: None,
            },
        };
        let json = session_json(&s, 2_000);
        assert_eq!(json["object"], "session");
        assert_eq!(json["status"], "active");
        assert_eq!(json["auth_method"], "oauth");
        assert_eq!(json["ip_address"], "203.0.113.9");
        assert_eq!(json["user_agent"], Value::Null);
        assert_eq!(json["ended_at"], Value::Null);
        assert_eq!(json["expires_at"], "1970-01-01T00:00:10.000Z");
        assert!(json.get("organization_id").is_none());
        assert!(json.get("impersonator").is_none());
        assert_eq!(session_json(&s, 10_000)["status"], "expired");

        s.org_id = Some("org_1".into());
        s.ended_ms = Some(3_000);
        s.method = "Impersonation".into();
        s.impersonator = Some(Impersonator {
            email: "grace@example.com".into(),
            reason: None,
        });
        let json = session_json(&s, 4_000);
        assert_eq!(json["status"], "revoked");
        assert_eq!(json["organization_id"], "org_1");
        assert_eq!(json["ended_at"], "1970-01-01T00:00:03.000Z");
        assert_eq!(json["auth_method"], "impersonation");
        assert_eq!(json["impersonator"]["email"], "grace@example.com");
        assert_eq!(auth_method("Password"), "password");
        assert_eq!(auth_method("SSO"), "sso");
        assert_eq!(auth_method("Something"), "unknown");
    }
}
