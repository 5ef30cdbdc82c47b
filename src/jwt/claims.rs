//! The claims of a WorkOS access token, and reading a token's parts without verifying it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::error::JwtError;

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

/// The three base64url parts of a compact JWS, still encoded.
pub(super) struct TokenParts<'a> {
    pub(super) header: &'a str,
    pub(super) payload: &'a str,
    pub(super) signature: &'a str,
    /// `header.payload`: the bytes the signature covers.
    pub(super) signing_input: &'a str,
}

/// Splits a compact JWT into exactly three parts.
pub(super) fn split(token: &str) -> Result<TokenParts<'_>, JwtError> {
    let count = token.split('.').count();
    let shape = || {
        JwtError::malformed(format!(
            "a JWT has 3 parts separated by '.', this value has {count}"
        ))
    };
    if count != 3 {
        return Err(shape());
    }
    let (signing_input, signature) = token.rsplit_once('.').ok_or_else(shape)?;
    let (header, payload) = signing_input.split_once('.').ok_or_else(shape)?;
    Ok(TokenParts {
        header,
        payload,
        signature,
        signing_input,
    })
}

/// Decodes one base64url (unpadded) part.
pub(super) fn b64(part: &str, what: &str) -> Result<Vec<u8>, JwtError> {
    // As strict as `base64`'s URL_SAFE_NO_PAD (no padding, canonical trailing bits).
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(part)
        .map_err(|_| JwtError::malformed(format!("the {what} is not unpadded base64url")))
}

/// Decodes one base64url part holding JSON.
pub(super) fn json_part<T: DeserializeOwned>(part: &str, what: &str) -> Result<T, JwtError> {
    let bytes = b64(part, what)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| JwtError::malformed(format!("the {what} is not valid: {e}")))
}

/// Decodes a JWT's header and claims **without verifying anything**: no signature, no
/// expiry. For display and debugging only (the `authkit decode-token` command); never make
/// an access decision from its result — use [`TokenVerifier::verify`](super::TokenVerifier::verify).
///
/// The token must have exactly three `.`-separated parts whose first two are base64url JSON
/// objects (surrounding whitespace is ignored); anything else is a [`JwtError::Malformed`]
/// error, never a panic.
///
/// ```
/// use authkit_leptos::jwt::decode_unverified;
///
/// // {"alg":"RS256","kid":"k1"} . {"sub":"user_1"} . (signature)
/// let (header, claims) =
///     decode_unverified("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyXzEifQ.c2ln")?;
/// assert_eq!(header["kid"], "k1");
/// assert_eq!(claims["sub"], "user_1");
/// assert!(decode_unverified("not a token").is_err());
/// # Ok::<(), authkit_leptos::jwt::JwtError>(())
/// ```
pub fn decode_unverified(token: &str) -> Result<(Value, Value), JwtError> {
    let parts = split(token.trim())?;
    let header: Map<String, Value> = json_part(parts.header, "header")?;
    let claims: Map<String, Value> = json_part(parts.payload, "payload")?;
    Ok((Value::Object(header), Value::Object(claims)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        /// The SIMD decoder accepts and rejects exactly what `base64`'s strict
        /// URL_SAFE_NO_PAD does, with the same bytes: padding, the standard alphabet,
        /// non-canonical trailing bits and impossible lengths are all errors.
        #[test]
        fn token_parts_decode_as_strictly_as_the_base64_crate(
            text in "[A-Za-z0-9_\\-+/=.]{0,70}",
            bytes in proptest::collection::vec(any::<u8>(), 0..70),
        ) {
            for input in [text, URL_SAFE_NO_PAD.encode(&bytes)] {
                prop_assert_eq!(b64(&input, "part").ok(), URL_SAFE_NO_PAD.decode(&input).ok(), "{}", input);
            }
        }
    }

    fn enc(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
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

    #[test]
    fn decode_unverified_reads_header_and_claims() {
        let token = format!("{}.{}.sig", enc(&json!({"alg": "RS256"})), enc(&minimal()));
        let (h, c) = decode_unverified(&token).unwrap();
        assert_eq!(h["alg"], "RS256");
        assert_eq!(c["sid"], "session_1");
    }

    #[test]
    fn decode_unverified_rejects_garbage_without_panicking() {
        let obj = enc(&json!({}));
        let cases = [
            String::new(),
            ".".into(),
            "..".into(),
            "...".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            "é.é.é".into(),
            format!("{obj}.!!!.x"),
            format!("{}.{obj}.x", URL_SAFE_NO_PAD.encode("[1]")),
            format!("{}.{obj}.x", URL_SAFE_NO_PAD.encode("{\"a\":")),
            format!("{obj}=.{obj}.x"),
            format!("{}.{obj}.x", URL_SAFE_NO_PAD.encode([0xff, 0xfe])),
        ];
        for case in &cases {
            assert!(
                matches!(decode_unverified(case), Err(JwtError::Malformed(_))),
                "{case:?}"
            );
        }
        // Every byte pattern of a short string: no panic.
        for a in 0u8..=255 {
            for b in [b'.', b'a', b'=', 0] {
                let bytes = [a, b'.', b, b'.', a];
                let _ = decode_unverified(&String::from_utf8_lossy(&bytes));
            }
        }
    }

    #[test]
    fn split_gives_the_signing_input() {
        let p = split("aa.bb.cc").unwrap();
        assert_eq!(
            (p.header, p.payload, p.signature, p.signing_input),
            ("aa", "bb", "cc", "aa.bb")
        );
        let err = split("a.b").err().unwrap();
        assert!(err.to_string().contains("this value has 2"), "{err}");
    }
}
