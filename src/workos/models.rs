//! What the WorkOS API answers, read from its snake_case wire form.
//!
//! The types are lenient in the way the WorkOS Node SDK is: fields it defaults are defaulted
//! here, unknown fields are ignored (or kept, where the SDK passes them on). The one strict rule
//! is the one authkit-nextjs enforces: an authentication without both tokens cannot become a
//! session ([`WorkOsError::MissingTokens`]).
//!
//! Tokens are secrets: the `Debug` output of every type holding one shows `[redacted]` instead.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::WorkOsError;
use crate::user::{Impersonator, User};

/// The result of `POST /user_management/authenticate` (code exchange or refresh).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct AuthenticateResponse {
    /// The signed-in user.
    pub user: User,
    /// The organization the session is scoped to, if any.
    pub organization_id: Option<String>,
    /// The access token (a JWT).
    pub access_token: String,
    /// The refresh token (single-use: each refresh returns a new one).
    pub refresh_token: String,
    /// Present when an admin is signed in as this user.
    pub impersonator: Option<Impersonator>,
    /// How the user signed in: `SSO`, `Password`, `GoogleOAuth`, `MagicAuth`, … (passed on unchanged).
    pub authentication_method: Option<String>,
    /// The upstream identity provider's tokens, when WorkOS returns them.
    pub oauth_tokens: Option<OauthTokens>,
    /// Any other top-level fields of the response, as the WorkOS SDK passes them on.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for AuthenticateResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticateResponse")
            .field("user", &self.user)
            .field("organization_id", &self.organization_id)
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("impersonator", &self.impersonator)
            .field("authentication_method", &self.authentication_method)
            .field("oauth_tokens", &self.oauth_tokens)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The response as it comes off the wire: everything optional, checked in [`into_response`].
///
/// [`into_response`]: AuthenticateWire::into_response
#[derive(Deserialize)]
pub(crate) struct AuthenticateWire {
    user: User,
    #[serde(default)]
    organization_id: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    impersonator: Option<Impersonator>,
    #[serde(default)]
    authentication_method: Option<String>,
    #[serde(default)]
    oauth_tokens: Option<OauthTokens>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

impl AuthenticateWire {
    /// Checks that both tokens are there (an empty string counts as missing, as in authkit-nextjs).
    pub(crate) fn into_response(self) -> Result<AuthenticateResponse, WorkOsError> {
        let access_token =
            self.access_token
                .filter(|t| !t.is_empty())
                .ok_or(WorkOsError::MissingTokens {
                    missing: "access_token",
                })?;
        let refresh_token =
            self.refresh_token
                .filter(|t| !t.is_empty())
                .ok_or(WorkOsError::MissingTokens {
                    missing: "refresh_token",
                })?;
        Ok(AuthenticateResponse {
            user: self.user,
            organization_id: self.organization_id,
            access_token,
            refresh_token,
            impersonator: self.impersonator,
            authentication_method: self.authentication_method,
            oauth_tokens: self.oauth_tokens,
            extra: self.extra,
        })
    }
}

/// Tokens of the upstream identity provider (e.g. Google), returned for OAuth sign-ins when
/// the WorkOS dashboard is set to return them.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct OauthTokens {
    /// The provider's access token.
    pub access_token: String,
    /// The provider's refresh token.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// When the access token expires (Unix seconds).
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// The scopes granted.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl fmt::Debug for OauthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OauthTokens")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The key set served at `GET /sso/jwks/{client_id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JwkSet {
    /// The public keys.
    pub keys: Vec<Jwk>,
}

/// One public key of a [`JwkSet`] (RFC 7517). Members this type does not name are kept in
/// [`other`](Self::other), so the set serializes back unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Jwk {
    /// Key type: `RSA`, `EC`, `OKP`.
    pub kty: String,
    /// Key id, matched against the token header's `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The algorithm the key is for, e.g. `RS256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use: `sig` for signature keys.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Permitted operations, e.g. `["verify"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// RSA modulus (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// X.509 certificate chain (base64 DER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5c: Option<Vec<String>>,
    /// Every other member (`crv`, `x`, `y`, `x5t`, …).
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A WorkOS organization (`GET /organizations/{id}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// The organization id, `org_…`.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Whether members may sign in with profiles outside the organization's domains.
    #[serde(default)]
    pub allow_profiles_outside_organization: bool,
    /// Its domains.
    #[serde(default)]
    pub domains: Vec<OrganizationDomain>,
    /// Your own id for this organization.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// Last update time (ISO 8601).
    #[serde(default)]
    pub updated_at: String,
}

/// A domain of an [`Organization`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct OrganizationDomain {
    /// The domain id, `org_domain_…`.
    #[serde(default)]
    pub id: String,
    /// The domain name, e.g. `example.com`.
    pub domain: String,
    /// `verified`, `pending`, `failed`, …
    #[serde(default)]
    pub state: Option<String>,
}

/// A user's membership in an organization.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct OrganizationMembership {
    /// The membership id, `om_…`.
    pub id: String,
    /// The member.
    pub user_id: String,
    /// The organization.
    pub organization_id: String,
    /// The organization's name, when WorkOS includes it.
    #[serde(default)]
    pub organization_name: Option<String>,
    /// `active`, `inactive` or `pending`.
    pub status: String,
    /// The member's (primary) role.
    #[serde(default)]
    pub role: Option<RoleSlug>,
    /// All the member's roles, when WorkOS lists several.
    #[serde(default)]
    pub roles: Option<Vec<RoleSlug>>,
    /// Whether the membership is managed by directory sync.
    #[serde(default)]
    pub directory_managed: bool,
    /// Attributes from directory sync.
    #[serde(default)]
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// Last update time (ISO 8601).
    #[serde(default)]
    pub updated_at: String,
}

/// A role reference, `{ "slug": "admin" }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RoleSlug {
    /// The role's slug.
    pub slug: String,
}

/// One page of organization memberships.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct OrganizationMembershipList {
    /// The memberships on this page.
    pub data: Vec<OrganizationMembership>,
    /// Cursors for the neighbouring pages.
    #[serde(default)]
    pub list_metadata: ListMetadata,
}

/// Pagination cursors of a list response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ListMetadata {
    /// Cursor for the previous page.
    #[serde(default)]
    pub before: Option<String>,
    /// Cursor for the next page.
    #[serde(default)]
    pub after: Option<String>,
}

/// An API key that WorkOS found valid (`POST /api_keys/validations`). It never carries the key
/// value itself.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ApiKey {
    /// The key's id, `api_key_…`.
    pub id: String,
    /// Who the key belongs to.
    #[serde(default)]
    pub owner: Option<ApiKeyOwner>,
    /// The key's name.
    #[serde(default)]
    pub name: String,
    /// The key with most characters hidden, e.g. `sk_…abcd`.
    #[serde(default)]
    pub obfuscated_value: Option<String>,
    /// When the key was last used (ISO 8601).
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// The permissions granted to the key.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// Last update time (ISO 8601).
    #[serde(default)]
    pub updated_at: String,
}

/// The owner of an [`ApiKey`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ApiKeyOwner {
    /// `organization` or `user`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The owner's id.
    pub id: String,
    /// For a user-owned key, the organization it acts in.
    #[serde(default)]
    pub organization_id: Option<String>,
}

/// `{ "api_key": … | null }`.
#[derive(Deserialize)]
pub(crate) struct ApiKeyValidation {
    pub(crate) api_key: Option<ApiKey>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(tokens: &str) -> Result<AuthenticateResponse, WorkOsError> {
        let json = format!(r#"{{"user":{{"id":"user_1","email":"a@b.c"}}{tokens}}}"#);
        serde_json::from_str::<AuthenticateWire>(&json)
            .unwrap()
            .into_response()
    }

    #[test]
    fn both_tokens_are_required() {
        assert!(wire(r#","access_token":"at","refresh_token":"rt""#).is_ok());
        for (tokens, missing) in [
            (r#","refresh_token":"rt""#, "access_token"),
            (r#","access_token":"","refresh_token":"rt""#, "access_token"),
            (r#","access_token":"at""#, "refresh_token"),
            (
                r#","access_token":"at","refresh_token":null"#,
                "refresh_token",
            ),
        ] {
            match wire(tokens) {
                Err(WorkOsError::MissingTokens { missing: m }) => {
                    assert_eq!(m, missing, "{tokens}")
                }
                other => panic!("{tokens}: {other:?}"),
            }
        }
    }

    #[test]
    fn debug_redacts_tokens() {
        let r = wire(r#","access_token":"at_secret","refresh_token":"rt_secret","oauth_tokens":{"access_token":"oat_secret","refresh_token":"ort_secret","expires_at":1,"scopes":["email"]},"sealed_session":"sealed_secret""#).unwrap();
        let dbg = format!("{r:?}");
        for s in [
            "at_secret",
            "rt_secret",
            "oat_secret",
            "ort_secret",
            "sealed_secret",
        ] {
            assert!(!dbg.contains(s), "{dbg}");
        }
        assert!(dbg.contains("sealed_session"), "{dbg}");
    }

    #[test]
    fn jwk_keeps_unknown_members() {
        let json =
            serde_json::json!({"kty":"EC","kid":"k1","use":"sig","crv":"P-256","x":"xx","y":"yy"});
        let jwk: Jwk = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(jwk.use_.as_deref(), Some("sig"));
        assert_eq!(jwk.other.get("crv"), Some(&serde_json::json!("P-256")));
        assert_eq!(serde_json::to_value(&jwk).unwrap(), json);
    }
}

/// A WorkOS session of a user, as the Sessions API lists it (WorkOS's `session` object).
/// Not the cookie's [`Session`](crate::Session): this is what WorkOS knows of a sign-in
/// (device, address, status), with no token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserSession {
    /// The session id, `session_…` (the access token's `sid`).
    pub id: String,
    /// The user.
    pub user_id: String,
    /// The organization the session is in, if any.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// `active`, `revoked` or `expired`.
    #[serde(default)]
    pub status: String,
    /// How the user signed in, as the Sessions API says it (`password`, `oauth`, `sso`,
    /// `magic_code`, `impersonation`, …).
    #[serde(default)]
    pub auth_method: Option<String>,
    /// The client's IP address when the session started, as WorkOS saw it.
    #[serde(default)]
    pub ip_address: Option<String>,
    /// The client's `User-Agent` when the session started.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// When it expires (ISO 8601).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// When it ended (ISO 8601), if it did.
    #[serde(default)]
    pub ended_at: Option<String>,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// Last update time (ISO 8601).
    #[serde(default)]
    pub updated_at: String,
}

impl UserSession {
    /// Whether the session is still active.
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

/// One page of a user's sessions.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UserSessionList {
    /// The sessions on this page.
    pub data: Vec<UserSession>,
    /// Cursors for the neighbouring pages.
    #[serde(default)]
    pub list_metadata: ListMetadata,
}

/// A WorkOS event (Events API and webhooks): `{"object":"event", "id", "event", "data",
/// "created_at"}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// The event id, `event_…` (the same in webhooks and the Events API).
    pub id: String,
    /// Its type, e.g. `session.revoked`.
    pub event: String,
    /// The object it is about (a session, a user, a membership, …).
    #[serde(default)]
    pub data: serde_json::Value,
    /// When it happened (ISO 8601).
    #[serde(default)]
    pub created_at: String,
}

/// One page of events.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct EventList {
    /// The events on this page, in the order asked for.
    pub data: Vec<Event>,
    /// Cursors: `after` is where the next page starts.
    #[serde(default)]
    pub list_metadata: ListMetadata,
}
