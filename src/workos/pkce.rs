//! PKCE (RFC 7636) for the AuthKit code flow: a fresh verifier per sign-in, its S256 challenge in
//! the authorization URL, the verifier sent back with the code.
//!
//! Threat model: an authorization code intercepted on its way to the redirect URI (a leaky log,
//! a referrer, a malicious app on the same custom scheme) is useless without the verifier, which
//! never leaves the server except in the code exchange. The verifier is 32 bytes (256 bits) from
//! the operating system's CSPRNG, base64url-encoded to exactly 43 characters — the shortest
//! verifier RFC 7636 allows, and the length the WorkOS SDK produces.

use std::fmt;

use aws_lc_rs::digest::{digest, SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The only challenge method this crate uses: `S256`.
pub(super) const CODE_CHALLENGE_METHOD: &str = "S256";

/// Random bytes in a verifier; 32 bytes encode to exactly 43 base64url characters.
const VERIFIER_BYTES: usize = 32;

/// A PKCE verifier and its challenge. `Debug` hides the verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct PkcePair {
    verifier: String,
    challenge: String,
}

impl PkcePair {
    /// A new pair from the system CSPRNG.
    pub fn generate() -> Result<Self, PkceError> {
        let verifier = crate::encoding::random_base64url::<VERIFIER_BYTES>()
            .ok_or(PkceError::RandomUnavailable)?;
        let challenge = challenge_for(&verifier);
        Ok(Self {
            verifier,
            challenge,
        })
    }

    /// The pair for an existing verifier, e.g. one read back from the sealed state. The
    /// verifier must be 43–128 characters of `A-Z a-z 0-9 - . _ ~` (RFC 7636 §4.1).
    pub fn from_verifier(verifier: impl Into<String>) -> Result<Self, PkceError> {
        let verifier = verifier.into();
        let valid_chars = verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !(43..=128).contains(&verifier.len()) || !valid_chars {
            return Err(PkceError::InvalidVerifier);
        }
        let challenge = challenge_for(&verifier);
        Ok(Self {
            verifier,
            challenge,
        })
    }

    /// The verifier: keep it server-side (sealed), send it only with the code exchange.
    pub fn code_verifier(&self) -> &str {
        &self.verifier
    }

    /// The challenge, `base64url(SHA-256(verifier))`, for the authorization URL.
    pub fn code_challenge(&self) -> &str {
        &self.challenge
    }

    /// The challenge method, always `S256`.
    pub fn code_challenge_method(&self) -> &'static str {
        CODE_CHALLENGE_METHOD
    }
}

impl fmt::Debug for PkcePair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PkcePair")
            .field("verifier", &"[redacted]")
            .field("challenge", &self.challenge)
            .finish()
    }
}

/// The S256 challenge of a verifier: `base64url(SHA-256(verifier))`, no padding.
pub(super) fn challenge_for(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()))
}

/// A PKCE pair could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkceError {
    /// The operating system's random number generator failed.
    #[error("the system random number generator is unavailable; cannot create a PKCE verifier")]
    RandomUnavailable,
    /// A verifier is not 43–128 characters of `A-Z a-z 0-9 - . _ ~`.
    #[error("a PKCE code verifier must be 43-128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'")]
    InvalidVerifier,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        // RFC 7636 Appendix B: the 32 octets, their base64url verifier, and the S256 challenge.
        let octets: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = URL_SAFE_NO_PAD.encode(octets);
        assert_eq!(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let pair = PkcePair::from_verifier(verifier).unwrap();
        assert_eq!(
            pair.code_challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(pair.code_challenge_method(), "S256");
    }

    #[test]
    fn generated_pairs_are_43_chars_fresh_and_consistent() {
        let a = PkcePair::generate().unwrap();
        let b = PkcePair::generate().unwrap();
        assert_eq!(a.code_verifier().len(), 43);
        assert!(a
            .code_verifier()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a.code_verifier(), b.code_verifier());
        assert_eq!(a.code_challenge(), challenge_for(a.code_verifier()));
        assert_eq!(a.code_challenge().len(), 43);
    }

    #[test]
    fn bad_verifiers_are_refused() {
        for bad in [
            "short".to_owned(),
            "a".repeat(129),
            format!("{}+", "a".repeat(43)),
        ] {
            assert_eq!(
                PkcePair::from_verifier(bad),
                Err(PkceError::InvalidVerifier)
            );
        }
        assert!(PkcePair::from_verifier("a".repeat(128)).is_ok());
    }

    #[test]
    fn debug_hides_the_verifier() {
        let p = PkcePair::generate().unwrap();
        assert!(!format!("{p:?}").contains(p.code_verifier()));
    }
}
