//! The claims of a WorkOS access token, [`AccessTokenClaims`]: the lowest piece of the
//! token layer, which knows no error type of its own (claims that do not parse are a
//! `serde_json::Error`, which the verifier reports as [`JwtError::Malformed`](super::JwtError::Malformed)).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::fmt;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
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
///
/// Deserializing needs a JSON object; a standard claim given twice is an error (`duplicate
/// field`), a custom one given twice keeps its last value, as `JSON.parse`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The user's role in that organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// All of the user's roles in that organization.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The permissions granted by those roles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// The organization's entitlements.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<String>,
    /// The feature flags enabled for the user.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub feature_flags: Vec<String>,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Issue time, unix seconds.
    pub iat: u64,
    /// Not-before time, unix seconds, when the token has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// When the user last authenticated, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    /// The acting admin when the session is an impersonation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    /// Every other claim, as it appeared in the token.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Written out rather than derived: `#[serde(flatten)]` would buffer every claim in serde's
/// intermediate tree before reading it (an allocation per string, twice), on every request
/// that verifies a token. Same rules as the derive: the seven required claims must be
/// there, `null` reads as absent (an empty list for the four lists), wrong types and
/// duplicated standard claims are errors; anything else goes to `extra`.
impl<'de> Deserialize<'de> for AccessTokenClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

/// A claim name: a standard one (no allocation) or any other.
enum Claim {
    Iss,
    Sub,
    Sid,
    Jti,
    OrgId,
    Role,
    Roles,
    Permissions,
    Entitlements,
    FeatureFlags,
    Exp,
    Iat,
    Nbf,
    AuthTime,
    Act,
    Other(String),
}

impl Claim {
    fn from_name(name: &str) -> Self {
        match name {
            "iss" => Self::Iss,
            "sub" => Self::Sub,
            "sid" => Self::Sid,
            "jti" => Self::Jti,
            "org_id" => Self::OrgId,
            "role" => Self::Role,
            "roles" => Self::Roles,
            "permissions" => Self::Permissions,
            "entitlements" => Self::Entitlements,
            "feature_flags" => Self::FeatureFlags,
            "exp" => Self::Exp,
            "iat" => Self::Iat,
            "nbf" => Self::Nbf,
            "auth_time" => Self::AuthTime,
            "act" => Self::Act,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl<'de> Deserialize<'de> for Claim {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl Visitor<'_> for NameVisitor {
            type Value = Claim;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Claim, E> {
                Ok(Claim::from_name(name))
            }
        }
        deserializer.deserialize_identifier(NameVisitor)
    }
}

struct ClaimsVisitor;

/// Stores a standard claim's value, refusing a second one.
fn once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> Visitor<'de> for ClaimsVisitor {
    type Value = AccessTokenClaims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of access token claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AccessTokenClaims, A::Error> {
        let (mut iss, mut sub, mut sid, mut jti) = (None, None, None, None);
        let (mut exp, mut iat) = (None, None);
        let (mut org_id, mut role, mut nbf, mut auth_time, mut act) =
            (None, None, None, None, None);
        let (mut roles, mut permissions, mut entitlements, mut feature_flags) =
            (None, None, None, None);
        let mut extra = Map::new();
        while let Some(claim) = map.next_key::<Claim>()? {
            match claim {
                Claim::Iss => once(&mut iss, &mut map, "iss")?,
                Claim::Sub => once(&mut sub, &mut map, "sub")?,
                Claim::Sid => once(&mut sid, &mut map, "sid")?,
                Claim::Jti => once(&mut jti, &mut map, "jti")?,
                Claim::Exp => once(&mut exp, &mut map, "exp")?,
                Claim::Iat => once(&mut iat, &mut map, "iat")?,
                Claim::OrgId => once(&mut org_id, &mut map, "org_id")?,
                Claim::Role => once(&mut role, &mut map, "role")?,
                Claim::Nbf => once(&mut nbf, &mut map, "nbf")?,
                Claim::AuthTime => once(&mut auth_time, &mut map, "auth_time")?,
                Claim::Act => once(&mut act, &mut map, "act")?,
                Claim::Roles => once(&mut roles, &mut map, "roles")?,
                Claim::Permissions => once(&mut permissions, &mut map, "permissions")?,
                Claim::Entitlements => once(&mut entitlements, &mut map, "entitlements")?,
                Claim::FeatureFlags => once(&mut feature_flags, &mut map, "feature_flags")?,
                Claim::Other(name) => {
                    extra.insert(name, map.next_value()?);
                }
            }
        }
        let list = |v: Option<Option<Vec<String>>>| v.flatten().unwrap_or_default();
        Ok(AccessTokenClaims {
            iss: iss.ok_or_else(|| de::Error::missing_field("iss"))?,
            sub: sub.ok_or_else(|| de::Error::missing_field("sub"))?,
            sid: sid.ok_or_else(|| de::Error::missing_field("sid"))?,
            jti: jti.ok_or_else(|| de::Error::missing_field("jti"))?,
            org_id: org_id.flatten(),
            role: role.flatten(),
            roles: list(roles),
            permissions: list(permissions),
            entitlements: list(entitlements),
            feature_flags: list(feature_flags),
            exp: exp.ok_or_else(|| de::Error::missing_field("exp"))?,
            iat: iat.ok_or_else(|| de::Error::missing_field("iat"))?,
            nbf: nbf.flatten(),
            auth_time: auth_time.flatten(),
            act: act.flatten(),
            extra,
        })
    }
}

/// The `act` claim: who is acting on the user's behalf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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

fn unix_to_system(secs: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(secs.min(MAX_UNIX_SECS)))
        .unwrap_or(UNIX_EPOCH)
}

/// The system clock in whole unix seconds: what `exp`, `iat` and the crate's other
/// wall-clock times are compared with.
pub(crate) fn unix_now() -> u64 {
    system_to_unix(SystemTime::now())
}

/// Whole unix seconds (times before 1970 count as 0).
pub(super) fn system_to_unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The derive this module used before its hand-written `Deserialize` (with
    /// `#[serde(flatten)]`): the reference the property test compares with.
    #[derive(Deserialize)]
    struct Reference {
        iss: String,
        sub: String,
        sid: String,
        jti: String,
        #[serde(default)]
        org_id: Option<String>,
        #[serde(default)]
        role: Option<String>,
        #[serde(default, deserialize_with = "null_as_empty")]
        roles: Vec<String>,
        #[serde(default, deserialize_with = "null_as_empty")]
        permissions: Vec<String>,
        #[serde(default, deserialize_with = "null_as_empty")]
        entitlements: Vec<String>,
        #[serde(default, deserialize_with = "null_as_empty")]
        feature_flags: Vec<String>,
        exp: u64,
        iat: u64,
        #[serde(default)]
        nbf: Option<u64>,
        #[serde(default)]
        auth_time: Option<u64>,
        #[serde(default)]
        act: Option<Actor>,
        #[serde(flatten)]
        extra: Map<String, Value>,
    }

    fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
    }

    impl From<Reference> for AccessTokenClaims {
        fn from(r: Reference) -> Self {
            Self {
                iss: r.iss,
                sub: r.sub,
                sid: r.sid,
                jti: r.jti,
                org_id: r.org_id,
                role: r.role,
                roles: r.roles,
                permissions: r.permissions,
                entitlements: r.entitlements,
                feature_flags: r.feature_flags,
                exp: r.exp,
                iat: r.iat,
                nbf: r.nbf,
                auth_time: r.auth_time,
                act: r.act,
                extra: r.extra,
            }
        }
    }

    /// A value of one of the shapes a claim can take (right or wrong for it).
    fn claim_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            "[a-z_]{0,8}".prop_map(Value::from),
            (0u64..4_000_000_000).prop_map(Value::from),
            Just(json!(-1)),
            Just(json!(1.5)),
            proptest::collection::vec("[a-z:]{0,6}", 0..4).prop_map(|v| json!(v)),
            Just(json!([1, "a"])),
            Just(json!({"sub": "admin@example.com"})),
            Just(json!({})),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        /// Any object of standard and other claims, with values of any shape, reads
        /// exactly as the derived (flattening) deserializer read it, or fails as it did.
        #[test]
        fn reads_claims_as_the_derive_did(
            present in proptest::collection::vec(any::<bool>(), 15),
            values in proptest::collection::vec(claim_value(), 15),
            required_ok in any::<bool>(),
            others in proptest::collection::btree_map("[a-z_]{1,8}", claim_value(), 0..4),
        ) {
            let names = ["iss", "sub", "sid", "jti", "org_id", "role", "roles", "permissions",
                "entitlements", "feature_flags", "exp", "iat", "nbf", "auth_time", "act"];
            let mut object = Map::new();
            for ((name, here), value) in names.iter().zip(&present).zip(&values) {
                if *here {
                    object.insert((*name).to_owned(), value.clone());
                }
            }
            if required_ok {
                for name in ["iss", "sub", "sid", "jti"] {
                    object.insert(name.to_owned(), json!("x"));
                }
                object.insert("exp".to_owned(), json!(2));
                object.insert("iat".to_owned(), json!(1));
            }
            for (name, value) in others {
                object.entry(name).or_insert(value);
            }
            let text = Value::Object(object).to_string();
            let ours = serde_json::from_str::<AccessTokenClaims>(&text).ok();
            let reference = serde_json::from_str::<Reference>(&text).ok().map(AccessTokenClaims::from);
            prop_assert_eq!(ours, reference, "{}", text);
        }
    }

    #[test]
    fn a_standard_claim_given_twice_is_an_error_a_custom_one_keeps_its_last_value() {
        let base = r#""iss":"i","sub":"user_1","sid":"s","jti":"j","exp":2,"iat":1"#;
        let twice = format!(r#"{{{base},"sub":"user_2"}}"#);
        let error = serde_json::from_str::<AccessTokenClaims>(&twice).unwrap_err();
        assert!(
            error.to_string().contains("duplicate field `sub`"),
            "{error}"
        );
        let custom = format!(r#"{{{base},"team":"a","team":"b"}}"#);
        let claims: AccessTokenClaims = serde_json::from_str(&custom).unwrap();
        assert_eq!(claims.extra["team"], "b");
        assert!(serde_json::from_str::<AccessTokenClaims>("[1]").is_err());
    }

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
