//! The one error type of the token layer, [`JwtError`].

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use super::claims::AccessTokenClaims;

/// Longest attacker-controlled string (`kid`, `alg`) echoed into an error message.
const MAX_ECHO: usize = 64;

/// Why an access token was not accepted, or why its keys could not be loaded.
///
/// Every variant except [`JwtError::JwksFetch`] means "this token is not valid now": the
/// session should be refreshed ([`JwtError::Expired`]) or treated as signed out (the rest).
/// [`JwtError::JwksFetch`] is transient — WorkOS could not be reached and no usable keys were
/// cached — so it must not log the user out; see [`JwtError::is_transient`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not a JWT: wrong number of parts, bad base64url, bad JSON, or claims that do not have
    /// the shape of a WorkOS access token.
    #[error("malformed access token: {0}")]
    Malformed(String),
    /// The header names an algorithm other than RS256 (`none`, `HS256`, `ES256`, …).
    /// Rejected before any key is looked up.
    #[error("unsupported token algorithm {alg:?}: WorkOS access tokens are signed with RS256")]
    UnsupportedAlgorithm {
        /// The `alg` header value (shortened).
        alg: String,
    },
    /// The header has no `kid`, so no key of the JWKS can be chosen.
    #[error("the access token header has no `kid`, so no JWKS key can be chosen")]
    MissingKid,
    /// No RS256 key in the JWKS has this `kid`, even after refetching it (refetches on an
    /// unknown `kid` are rate-limited by the cache's cooldown).
    #[error("no RS256 key with kid {kid:?} in the WorkOS JWKS; was the token issued for another WorkOS client id?")]
    UnknownKid {
        /// The token's `kid` (shortened).
        kid: String,
    },
    /// The JWKS holds more than one usable key with this `kid`, so the token is rejected
    /// rather than guessing (as `jose` does).
    #[error("the WorkOS JWKS has several keys with kid {kid:?}; refusing to choose one")]
    AmbiguousKid {
        /// The duplicated `kid` (shortened).
        kid: String,
    },
    /// The key for the token's `kid` in the JWKS could not be used (bad modulus, key too
    /// small, …).
    #[error("the WorkOS JWKS key {kid:?} is unusable: {reason}")]
    BadJwk {
        /// The key's `kid` (shortened).
        kid: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The signature does not match the header and payload under the key for its `kid`:
    /// the token was forged or altered.
    #[error("the access token signature is invalid")]
    InvalidSignature,
    /// The signature is valid but the token has expired (`exp <= now`, no leeway). The
    /// claims are included so the caller can refresh the session (for example, keep `org_id`).
    #[error("the access token expired at {} (unix seconds); refresh the session", .claims.exp)]
    Expired {
        /// The claims of the expired but authentic token.
        claims: Box<AccessTokenClaims>,
    },
    /// The signature is valid but the token's `nbf` is in the future.
    #[error("the access token is not valid before {nbf} (unix seconds); check the server clock")]
    NotYetValid {
        /// The token's `nbf`.
        nbf: u64,
    },
    /// The token's `iss` is not one of the issuers the verifier accepts.
    #[error("the access token's issuer {found:?} is not one this app accepts ({expected}); if it is your WorkOS environment's, add it to WORKOS_ISSUER")]
    IssuerMismatch {
        /// The accepted issuers, comma-separated.
        expected: String,
        /// The token's `iss` (shortened).
        found: String,
    },
    /// The JWKS could not be fetched and no usable cached keys were available.
    #[error("could not load the WorkOS JWKS: {0}")]
    JwksFetch(#[source] JwksFetchError),
}

impl JwtError {
    /// True when the failure says nothing about the token — the keys could not be loaded —
    /// so a session must be kept, not cleared.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::JwksFetch(_))
    }

    /// The claims of an authentic but expired token, for the refresh path.
    pub fn expired_claims(&self) -> Option<&AccessTokenClaims> {
        match self {
            Self::Expired { claims } => Some(claims),
            _ => None,
        }
    }

    pub(super) fn malformed(reason: impl Into<String>) -> Self {
        Self::Malformed(reason.into())
    }
}

/// Why the JWKS could not be fetched or read. Cheap to clone: one failed fetch is shared by
/// every verification that waited for it.
#[derive(Clone)]
pub struct JwksFetchError(Arc<dyn StdError + Send + Sync + 'static>);

impl JwksFetchError {
    /// Wraps the error a [`JwksSource`](super::JwksSource) returned.
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self(Arc::from(error.into()))
    }

    /// The underlying error.
    pub fn inner(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Debug for JwksFetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JwksFetchError").field(&self.0).finish()
    }
}

impl fmt::Display for JwksFetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl StdError for JwksFetchError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// Shortens an attacker-controlled string before it goes into an error message or a log.
pub(super) fn echo(value: &str) -> String {
    match value.char_indices().nth(MAX_ECHO) {
        Some((cut, _)) => format!("{}…", value.get(..cut).unwrap_or_default()),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_shortens_long_values_on_a_char_boundary() {
        assert_eq!(echo("abc"), "abc");
        let long = "é".repeat(100);
        let short = echo(&long);
        assert_eq!(short.chars().count(), MAX_ECHO + 1);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn only_fetch_failures_are_transient() {
        let fetch = JwtError::JwksFetch(JwksFetchError::new("connection refused"));
        assert!(fetch.is_transient());
        assert_eq!(
            fetch.to_string(),
            "could not load the WorkOS JWKS: connection refused"
        );
        assert!(!JwtError::InvalidSignature.is_transient());
        assert!(!JwtError::MissingKid.is_transient());
    }
}
