//! The claims of a WorkOS access token, [`AccessTokenClaims`]: the lowest piece of the
//! token layer, which knows no error type of its own (claims that do not parse are a
//! `serde_json::Error`, which the verifier reports as [`JwtError::Malformed`](super::JwtError::Malformed)).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// 9999-12-31T23:59:59Z: timestamps beyond it are clamped when turned into a `SystemTime`.
const MAX_UNIX_SECS: u64 = 253_402_300_799;

/// The claims of a WorkOS access token.
///
/// Field names are the JWT claim names. Claims WorkOS always sets are plain fields; the
/// others are `Option`s or empty vectors when absent (or `null`). Every other claim — for
/// example those added by a JWT template — is kept in [`extra`](Self::extra) and can be read
/// typed with [`custom`](Self::custom) or, together with the standard ones, [`claims`](Self::claims).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// Issuer.
    pub iss: String,
    /// The user id, `user_…`.
    pub sub: String,
    /// The session id, `session_…` (used to build the logout URL).
    pub sid: String,
    /// The token's unique id.
    pub jti: String,
    /// The organization the session is scoped to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The user's role in that organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// All of the user's roles in that organization.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub roles: Vec<String>,
    /// The permissions granted by those roles.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub permissions: Vec<String>,
    /// The organization's entitlements.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub entitlements: Vec<String>,
    /// The feature flags enabled for the user.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub feature_flags: Vec<String>,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Issue time, unix seconds.
    pub iat: u64,
    /// Not-before time, unix seconds, when the token has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// When the user last authenticated, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    /// The acting admin when the session is an impersonation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    /// Every other claim, as it appeared in the token.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `act` claim: who is acting on the user's behalf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The acting admin (WorkOS puts their email here).
    pub sub: String,
}

impl AccessTokenClaims {
    /// When the token expires.
    pub fn expires_at(&self) -> SystemTime {
        unix_to_system(self.exp)
    }

    /// When the token was issued.
    pub fn issued_at(&self) -> SystemTime {
        unix_to_system(self.iat)
    }

    /// The token's lifetime, `exp − iat`, in seconds (0 if `iat` is after `exp`).
    pub fn lifetime_secs(&self) -> u64 {
        self.exp.saturating_sub(self.iat)
    }

    /// Whether the token is expired at `now`: `exp <= now`, with no leeway (as `jose`).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.exp <= system_to_unix(now)
    }

    /// Reads the custom claims (those in [`extra`](Self::extra)) as `T`.
    ///
    /// ```
    /// # use authkit_leptos::jwt::AccessTokenClaims;
    /// #[derive(serde::Deserialize)]
    /// struct Custom { department: String }
    /// # let claims: AccessTokenClaims = serde_json::from_value(serde_json::json!({
    /// #     "iss": "i", "sub": "user_1", "sid": "session_1", "jti": "j", "exp": 2, "iat": 1,
    /// #     "department": "R&D" })).unwrap();
    /// let custom: Custom = claims.custom()?;
    /// assert_eq!(custom.department, "R&D");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn custom<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(Value::Object(self.extra.clone()))
    }

    /// Reads every claim, standard and custom, as `T`.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(serde_json::to_value(self)?)
    }
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

fn unix_to_system(secs: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(secs.min(MAX_UNIX_SECS)))
        .unwrap_or(UNIX_EPOCH)
}

/// Whole unix seconds (times before 1970 count as 0).
pub(super) fn system_to_unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({"iss": "https://api.workos.com", "sub": "user_1", "sid": "session_1",
               "jti": "jti_1", "exp": 1_700_000_300u64, "iat": 1_700_000_000u64})
    }

    #[test]
    fn optional_claims_default_and_null_lists_are_empty() {
        let mut v = minimal();
        v["roles"] = Value::Null;
        v["org_id"] = Value::Null;
        let c: AccessTokenClaims = serde_json::from_value(v).unwrap();
        assert!(c.roles.is_empty() && c.permissions.is_empty() && c.feature_flags.is_empty());
        assert_eq!(c.org_id, None);
        assert_eq!(c.act, None);
        assert_eq!(c.lifetime_secs(), 300);
        assert_eq!(
            c.expires_at(),
            UNIX_EPOCH + Duration::from_secs(1_700_000_300)
        );
        assert!(c.is_expired_at(UNIX_EPOCH + Duration::from_secs(1_700_000_300)));
        assert!(!c.is_expired_at(UNIX_EPOCH + Duration::from_secs(1_700_000_299)));
    }

    #[test]
    fn missing_required_claim_is_an_error() {
        let mut v = minimal();
        v.as_object_mut().unwrap().remove("sid");
        let err = serde_json::from_value::<AccessTokenClaims>(v).unwrap_err();
        assert!(err.to_string().contains("sid"), "{err}");
    }

    #[test]
    fn custom_and_full_claims_round_trip() {
        #[derive(Deserialize)]
        struct Custom {
            department: String,
        }
        #[derive(Deserialize)]
        struct Full {
            sub: String,
            department: String,
            #[serde(default)]
            roles: Vec<String>,
        }
        let mut v = minimal();
        v["department"] = json!("R&D");
        v["roles"] = json!(["admin"]);
        let c: AccessTokenClaims = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c.extra.len(), 1);
        assert_eq!(c.custom::<Custom>().unwrap().department, "R&D");
        let full: Full = c.claims().unwrap();
        assert_eq!(
            (full.sub.as_str(), full.department.as_str()),
            ("user_1", "R&D")
        );
        assert_eq!(full.roles, ["admin"]);
        assert_eq!(serde_json::to_value(&c).unwrap(), v);
    }

    #[test]
    fn huge_timestamps_do_not_overflow() {
        let mut v = minimal();
        v["exp"] = json!(u64::MAX);
        v["iat"] = json!(u64::MAX);
        let c: AccessTokenClaims = serde_json::from_value(v).unwrap();
        assert!(c.expires_at() > SystemTime::now());
        assert_eq!(c.lifetime_secs(), 0);
    }
}
