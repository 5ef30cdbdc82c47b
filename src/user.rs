//! The user and impersonator types, shared by the server and the hydrated client.
//!
//! They serialize in the camelCase form that `@workos-inc/node` produces and that
//! authkit-nextjs seals into `wos-session`, so a cookie written by a Next.js app reads
//! here unchanged. They also accept the snake_case wire form of the WorkOS API.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A WorkOS user, as stored in the session cookie.
///
/// It serializes in the camelCase form that `@workos-inc/node` produces and that
/// authkit-nextjs seals into `wos-session`, so a cookie written by a Next.js app reads here
/// unchanged; it also accepts the snake_case wire form of the WorkOS API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// Always `"user"`.
    #[serde(default = "user_object")]
    pub object: String,
    /// The user id, `user_…`.
    pub id: String,
    /// The user's email address.
    pub email: String,
    /// Whether the email address was verified.
    #[serde(alias = "email_verified", default)]
    pub email_verified: bool,
    /// Given name.
    #[serde(alias = "first_name", default)]
    pub first_name: Option<String>,
    /// Avatar URL.
    #[serde(alias = "profile_picture_url", default)]
    pub profile_picture_url: Option<String>,
    /// Family name.
    #[serde(alias = "last_name", default)]
    pub last_name: Option<String>,
    /// Last sign-in time (ISO 8601).
    #[serde(alias = "last_sign_in_at", default)]
    pub last_sign_in_at: Option<String>,
    /// Preferred locale.
    #[serde(default)]
    pub locale: Option<String>,
    /// Creation time (ISO 8601).
    #[serde(alias = "created_at", default)]
    pub created_at: String,
    /// Last update time (ISO 8601).
    #[serde(alias = "updated_at", default)]
    pub updated_at: String,
    /// Your own id for this user.
    #[serde(alias = "external_id", default)]
    pub external_id: Option<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
}

fn user_object() -> String {
    "user".to_owned()
}

impl User {
    /// The name to greet the user by: first name, else full name, else email.
    pub fn display_name(&self) -> &str {
        self.first_name
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.email)
    }
}

/// Present when an admin is signed in as this user ("impersonation").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Impersonator {
    /// The admin's email address.
    pub email: String,
    /// Why they are impersonating, if they said.
    #[serde(default)]
    pub reason: Option<String>,
}

/// An organization the user can switch to (what
/// the `OrganizationSwitcher` component lists): one of the user's active
/// WorkOS organization memberships.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationChoice {
    /// `org_…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The user's role there, when WorkOS says.
    pub role: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wire_snake_case_and_writes_camel_case() {
        let wire = r#"{"object":"user","id":"user_1","email":"a@b.c","email_verified":true,
            "first_name":"Ada","last_name":null,"profile_picture_url":null,"last_sign_in_at":null,
            "locale":null,"created_at":"2025-01-01T00:00:00.000Z","updated_at":"2025-01-01T00:00:00.000Z",
            "external_id":null,"metadata":{"k":"v"},"name":"Ada"}"#;
        let user: User = serde_json::from_str(wire).unwrap();
        assert!(user.email_verified);
        assert_eq!(user.first_name.as_deref(), Some("Ada"));
        let json = serde_json::to_value(&user).unwrap();
        assert_eq!(json["emailVerified"], true);
        assert_eq!(json["firstName"], "Ada");
        assert_eq!(json["metadata"]["k"], "v");
        let back: User = serde_json::from_value(json).unwrap();
        assert_eq!(back, user);
    }
}

/// One of the signed-in user's WorkOS sessions, as an account page lists them ("your
/// sessions"): what WorkOS's Sessions API reports about where and when it started. No
/// token, nothing that signs anyone in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The WorkOS session id (`session_…`).
    pub id: String,
    /// Whether it is the session of this request.
    pub current: bool,
    /// The organization it is in, if any.
    pub organization_id: Option<String>,
    /// How the user signed in (`password`, `oauth`, `sso`, … as WorkOS's Sessions API
    /// says it).
    pub auth_method: Option<String>,
    /// The client's IP address when it started, as WorkOS saw it.
    pub ip_address: Option<String>,
    /// The client's `User-Agent` when it started.
    pub user_agent: Option<String>,
    /// When it started (ISO 8601).
    pub created_at: String,
    /// When it expires (ISO 8601).
    pub expires_at: Option<String>,
}
