//! Test controls that change the directory the way an admin would in the WorkOS dashboard —
//! a member's role, a removed membership, an edited or deleted user — each recording the
//! event WorkOS would send; and their HTTP form under `/__emulator/` for tests in other
//! languages. (Revoking a session is [`Store::end_session`].)
//!
//! A user is named by id or email, an organization by id or name, so tests can use what
//! the seed says.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::state::AppState;
use super::store::Store;
use super::wire::{self, ApiError};

/// Why a test control could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No user has this id or email.
    #[error("no user has the id or email `{0}`")]
    UnknownUser(String),
    /// No organization has this id or name.
    #[error("no organization has the id or name `{0}`")]
    UnknownOrganization(String),
    /// The user has no membership in the organization.
    #[error("`{user}` has no membership in `{organization}`")]
    NotAMember {
        /// The user, as given.
        user: String,
        /// The organization, as given.
        organization: String,
    },
    /// The change itself is not valid (an empty role, an email already taken, …).
    #[error("{0}")]
    Invalid(String),
}

/// Changes to a user for [`Emulator::update_user`](crate::Emulator::update_user): each
/// field that is set replaces the user's. Over HTTP the same fields are JSON.
///
/// ```
/// use workos_emulator::UserUpdate;
///
/// let update = UserUpdate::new().first_name("Augusta").email_verified(true);
/// # let _ = update;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UserUpdate {
    /// A new email address (unique among users).
    #[serde(default)]
    pub email: Option<String>,
    /// A new first name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// A new last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Whether the email address is verified.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// A new locale.
    #[serde(default)]
    pub locale: Option<String>,
    /// A new external id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// New metadata (replaces all of it).
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
}

impl UserUpdate {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the email address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the first name.
    pub fn first_name(mut self, name: impl Into<String>) -> Self {
        self.first_name = Some(name.into());
        self
    }

    /// Sets the last name.
    pub fn last_name(mut self, name: impl Into<String>) -> Self {
        self.last_name = Some(name.into());
        self
    }

    /// Sets whether the email address is verified.
    pub fn email_verified(mut self, verified: bool) -> Self {
        self.email_verified = Some(verified);
        self
    }

    /// Sets the locale.
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// Sets the external id.
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }

    /// Replaces the metadata.
    pub fn metadata(mut self, metadata: BTreeMap<String, String>) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

impl Store {
    /// The id of the user with this id, else this email.
    fn find_user(&self, user: &str) -> Result<String, ControlError> {
        self.user(user)
            .or_else(|| self.user_by_email(user))
            .map(|u| u.id.clone())
            .ok_or_else(|| ControlError::UnknownUser(user.to_owned()))
    }

    /// The id of the organization with this id, else this name.
    fn find_org(&self, organization: &str) -> Result<String, ControlError> {
        let name = organization.trim();
        self.org(organization)
            .or_else(|| self.orgs.iter().find(|o| o.name.eq_ignore_ascii_case(name)))
            .map(|o| o.id.clone())
            .ok_or_else(|| ControlError::UnknownOrganization(organization.to_owned()))
    }

    /// The index of the user's membership in the organization (any status).
    fn find_membership(&self, user: &str, organization: &str) -> Result<usize, ControlError> {
        let user_id = self.find_user(user)?;
        let org_id = self.find_org(organization)?;
        self.memberships
            .iter()
            .position(|m| m.user_id == user_id && m.org_id == org_id)
            .ok_or_else(|| ControlError::NotAMember {
                user: user.to_owned(),
                organization: organization.to_owned(),
            })
    }

    fn membership_json(&self, index: usize) -> Value {
        self.memberships.get(index).map_or(Value::Null, |m| {
            wire::membership(m, self.org(&m.org_id).map(|o| o.name.as_str()))
        })
    }

    /// Makes `role` the member's only role (`organization_membership.updated`). Their
    /// sessions carry it, with its permissions, from their next refresh.
    pub(crate) fn set_member_role(
        &mut self,
        user: &str,
        organization: &str,
        role: &str,
    ) -> Result<Value, ControlError> {
        let role = role.trim();
        if role.is_empty() {
            return Err(ControlError::Invalid("the role slug is empty".to_owned()));
        }
        let index = self.find_membership(user, organization)?;
        let now = self.clock.now_ms();
        if let Some(m) = self.memberships.get_mut(index) {
            m.roles = vec![role.to_owned()];
            m.updated_ms = now;
        }
        let data = self.membership_json(index);
        self.events
            .record("organization_membership.updated", data.clone(), now);
        Ok(data)
    }

    /// Removes the membership (`organization_membership.deleted`). Sessions in that
    /// organization stay open, but refreshing in it answers `invalid_grant` from now on.
    pub(crate) fn remove_membership(
        &mut self,
        user: &str,
        organization: &str,
    ) -> Result<Value, ControlError> {
        let index = self.find_membership(user, organization)?;
        let data = self.membership_json(index);
        self.memberships.remove(index);
        let now = self.clock.now_ms();
        self.events
            .record("organization_membership.deleted", data.clone(), now);
        Ok(data)
    }

    /// Applies `update` to the user (`user.updated`).
    pub(crate) fn update_user(
        &mut self,
        user: &str,
        update: UserUpdate,
    ) -> Result<Value, ControlError> {
        let id = self.find_user(user)?;
        if let Some(email) = &update.email {
            let email = email.trim();
            if email.is_empty() || !email.contains('@') {
                return Err(ControlError::Invalid(format!(
                    "`{email}` is not an email address"
                )));
            }
            if self.user_by_email(email).is_some_and(|u| u.id != id) {
                return Err(ControlError::Invalid(format!(
                    "another user already has the email `{email}`"
                )));
            }
        }
        let now = self.clock.now_ms();
        let Some(rec) = self.users.iter_mut().find(|u| u.id == id) else {
            return Err(ControlError::UnknownUser(user.to_owned()));
        };
        let UserUpdate {
            email,
            first_name,
            last_name,
            email_verified,
            locale,
            external_id,
            metadata,
        } = update;
        if let Some(email) = email {
            rec.email = email.trim().to_owned();
        }
        if first_name.is_some() {
            rec.first_name = first_name;
        }
        if last_name.is_some() {
            rec.last_name = last_name;
        }
        if let Some(verified) = email_verified {
            rec.email_verified = verified;
        }
        if locale.is_some() {
            rec.locale = locale;
        }
        if external_id.is_some() {
            rec.external_id = external_id;
        }
        if let Some(metadata) = metadata {
            rec.metadata = metadata;
        }
        rec.updated_ms = now;
        let data = wire::user_json(rec);
        self.events.record("user.updated", data.clone(), now);
        Ok(data)
    }

    /// Deletes the user: revokes each of their active sessions (`session.revoked`, oldest
    /// first), removes their memberships (`organization_membership.deleted`), then the
    /// user (`user.deleted`). Returns how many sessions were revoked.
    pub(crate) fn delete_user(&mut self, user: &str) -> Result<usize, ControlError> {
        let id = self.find_user(user)?;
        let now = self.clock.now_ms();
        let mut sessions: Vec<(u64, String)> = self
            .sessions
            .values()
            .filter(|s| s.user_id == id && s.is_active(now))
            .map(|s| (s.seq, s.id.clone()))
            .collect();
        sessions.sort();
        let mut revoked = 0;
        for (_, sid) in &sessions {
            if self.end_session(sid) {
                revoked += 1;
            }
        }
        while let Some(index) = self.memberships.iter().position(|m| m.user_id == id) {
            let data = self.membership_json(index);
            self.memberships.remove(index);
            self.events
                .record("organization_membership.deleted", data, now);
        }
        if let Some(index) = self.users.iter().position(|u| u.id == id) {
            let data = self
                .users
                .get(index)
                .map(wire::user_json)
                .unwrap_or_default();
            self.users.remove(index);
            self.events.record("user.deleted", data, now);
        }
        Ok(revoked)
    }
}

fn control_error(error: &ControlError) -> Response {
    let (status, code) = match error {
        ControlError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
        _ => (StatusCode::NOT_FOUND, "not_found"),
    };
    ApiError::message(status, code, error.to_string()).into_response()
}

fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(ApiError::bad_body)
}

/// `GET /__emulator/events`: every event kept, oldest first.
pub(crate) async fn events(State(app): State<AppState>) -> Response {
    let store = app.lock();
    let events: Vec<Value> = store.events.all().map(|e| e.event.to_json()).collect();
    Json(json!({ "events": events })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleRequest {
    user: String,
    organization: String,
    role: String,
}

/// `POST /__emulator/memberships/role` with `{"user", "organization", "role"}`.
pub(crate) async fn set_member_role(State(app): State<AppState>, bytes: Bytes) -> Response {
    let req: RoleRequest = match body(&bytes) {
        Ok(req) => req,
        Err(e) => return e.into_response(),
    };
    match app
        .lock()
        .set_member_role(&req.user, &req.organization, &req.role)
    {
        Ok(membership) => Json(json!({ "membership": membership })).into_response(),
        Err(e) => control_error(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembershipRequest {
    user: String,
    organization: String,
}

/// `POST /__emulator/memberships/remove` with `{"user", "organization"}`.
pub(crate) async fn remove_membership(State(app): State<AppState>, bytes: Bytes) -> Response {
    let req: MembershipRequest = match body(&bytes) {
        Ok(req) => req,
        Err(e) => return e.into_response(),
    };
    match app.lock().remove_membership(&req.user, &req.organization) {
        Ok(membership) => Json(json!({ "membership": membership })).into_response(),
        Err(e) => control_error(&e),
    }
}

/// `POST /__emulator/users/update` with `{"user", "email"?, "first_name"?, "last_name"?,
/// "email_verified"?, "locale"?, "external_id"?, "metadata"?}`.
pub(crate) async fn update_user(State(app): State<AppState>, bytes: Bytes) -> Response {
    // `user` names whom; the other fields are a `UserUpdate`, which refuses unknown ones
    // (serde cannot refuse them through `flatten`).
    let mut fields: serde_json::Map<String, Value> = match body(&bytes) {
        Ok(fields) => fields,
        Err(e) => return e.into_response(),
    };
    let Some(Value::String(user)) = fields.remove("user") else {
        return ApiError::bad_body("`user` (an id or email) is required").into_response();
    };
    let update: UserUpdate = match serde_json::from_value(Value::Object(fields)) {
        Ok(update) => update,
        Err(e) => return ApiError::bad_body(e).into_response(),
    };
    match app.lock().update_user(&user, update) {
        Ok(user) => Json(json!({ "user": user })).into_response(),
        Err(e) => control_error(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRequest {
    user: String,
}

/// `POST /__emulator/users/delete` with `{"user"}`.
pub(crate) async fn delete_user(State(app): State<AppState>, bytes: Bytes) -> Response {
    let req: UserRequest = match body(&bytes) {
        Ok(req) => req,
        Err(e) => return e.into_response(),
    };
    match app.lock().delete_user(&req.user) {
        Ok(revoked) => Json(json!({ "sessions_revoked": revoked })).into_response(),
        Err(e) => control_error(&e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionRequest {
    session_id: String,
}

/// `POST /__emulator/sessions/revoke` with `{"session_id"}`: `{"revoked": false}` when it
/// was unknown or had already ended.
pub(crate) async fn revoke_session(State(app): State<AppState>, bytes: Bytes) -> Response {
    let req: SessionRequest = match body(&bytes) {
        Ok(req) => req,
        Err(e) => return e.into_response(),
    };
    let revoked = app.lock().end_session(&req.session_id);
    Json(json!({ "revoked": revoked })).into_response()
}

/// `GET /__emulator/webhooks`: where events are delivered and how that went.
pub(crate) async fn webhooks(State(app): State<AppState>) -> Response {
    let store = app.lock();
    let body = match store.events.webhook_stats() {
        Some((url, stats)) => json!({
            "configured": true,
            "url": url,
            "delivered": stats.delivered,
            "failed": stats.failed,
            "attempts": stats.attempts,
            "pending": stats.pending,
        }),
        None => json!({
            "configured": false,
            "url": null,
            "delivered": 0,
            "failed": 0,
            "attempts": 0,
            "pending": 0,
        }),
    };
    Json(body).into_response()
}
