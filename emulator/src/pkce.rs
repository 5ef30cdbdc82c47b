//! PKCE (RFC 7636) with the `S256` method, the only one the emulator accepts.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// `[A-Za-z0-9-._~]`, 43 to 128 characters: the RFC 7636 form of verifiers and challenges.
fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is exactly 43 base64url characters (a SHA-256 digest).
pub(crate) fn is_valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && is_pkce_string(challenge)
}

/// Whether `verifier` is well formed and hashes to `challenge`.
pub(crate) fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    if !is_pkce_string(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(is_valid_challenge(challenge));
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx",
            challenge
        ));
        assert!(!verifier_matches("short", challenge));
        assert!(!is_valid_challenge("not a challenge"));
    }
}
