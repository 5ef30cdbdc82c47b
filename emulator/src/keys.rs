//! RS256 signing keys, the JWKS that publishes them, and access-token signing.
//!
//! Each key is an RSA-2048 key pair generated in memory when the emulator starts (or when a
//! test asks for a rotation); private keys never leave the process. Tokens are assembled by
//! hand — `base64url(header).base64url(claims).base64url(signature)` — with a header that
//! always names the key (`kid`), because jose-based verifiers refuse a JWKS with several
//! candidate keys for a token without one.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;

use crate::ids;

/// Why a key could not be made or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum KeyError {
    /// RSA key generation failed.
    #[error("could not generate an RSA-2048 signing key")]
    Generate,
    /// The public key could not be read back as `RSAPublicKey` DER.
    #[error("could not read the RSA public key (modulus and exponent)")]
    PublicKey,
    /// Signing failed.
    #[error("could not sign the token")]
    Sign,
    /// The system random source failed.
    #[error(transparent)]
    Random(#[from] ids::RandomError),
    /// The claims could not be serialized.
    #[error("could not serialize the token: {0}")]
    Json(#[from] serde_json::Error),
}

/// One public key as published in the JWKS.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Jwk {
    kty: &'static str,
    kid: String,
    alg: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    n: String,
    e: String,
}

/// An RSA key pair with its key id.
pub(crate) struct SigningKey {
    kid: String,
    pair: KeyPair,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key with a random `kid`. Takes tens of milliseconds:
    /// call it off the async executor.
    pub(crate) fn generate() -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
        let kid = format!("key_{}", ids::token(12)?);
        let (n, e) = parse_rsa_public_key(pair.public_key().as_ref()).ok_or(KeyError::PublicKey)?;
        let jwk = Jwk {
            kty: "RSA",
            kid: kid.clone(),
            alg: "RS256",
            use_: "sig",
            n: URL_SAFE_NO_PAD.encode(n),
            e: URL_SAFE_NO_PAD.encode(e),
        };
        Ok(Self { kid, pair, jwk })
    }

    /// The key id carried in token headers and in the JWKS.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, as a JWK.
    pub(crate) fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs `claims` as a compact RS256 JWT whose header names this key.
    pub(crate) fn sign_jwt(&self, claims: &impl Serialize) -> Result<String, KeyError> {
        let header = serde_json::to_vec(&Header {
            alg: "RS256",
            typ: "JWT",
            kid: &self.kid,
        })?;
        let payload = serde_json::to_vec(claims)?;
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| KeyError::Sign)?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
    }
}

/// Reads `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017)
/// and returns the big-endian modulus and exponent without leading zero bytes.
fn parse_rsa_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tag, body, rest) = der_element(der)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (tag, n, after_n) = der_element(body)?;
    if tag != 0x02 {
        return None;
    }
    let (tag, e, after_e) = der_element(after_n)?;
    if tag != 0x02 || !after_e.is_empty() {
        return None;
    }
    Some((strip_leading_zeros(n)?, strip_leading_zeros(e)?))
}

/// Splits one DER element off `input`: (tag, contents, remaining input).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (len_bytes, rest) = rest.split_at(count);
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

fn strip_leading_zeros(int: &[u8]) -> Option<&[u8]> {
    let start = int.iter().position(|b| *b != 0)?;
    int.get(start..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_and_long_form_der() {
        // SEQUENCE { INTEGER 0x00 0xC1 0x02, INTEGER 0x01 0x00 0x01 }
        let der = [
            0x30, 0x0a, 0x02, 0x03, 0x00, 0xc1, 0x02, 0x02, 0x03, 0x01, 0x00, 0x01,
        ];
        let (n, e) = parse_rsa_public_key(&der).unwrap();
        assert_eq!(n, &[0xc1, 0x02]);
        assert_eq!(e, &[0x01, 0x00, 0x01]);

        let mut long = vec![0x30, 0x81, 0x0a];
        long.extend_from_slice(&der[2..]);
        assert!(parse_rsa_public_key(&long).is_some());
    }

    #[test]
    fn rejects_malformed_der() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x02],
            &[0x31, 0x03, 0x02, 0x01, 0x01],
            &[0x30, 0x03, 0x02, 0x01, 0x01],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x03],
        ] {
            assert!(parse_rsa_public_key(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn signs_tokens_that_verify_with_the_published_key() {
        let key = SigningKey::generate().unwrap();
        let jwk = key.jwk();
        assert_eq!(jwk.e, "AQAB");
        assert_eq!(URL_SAFE_NO_PAD.decode(&jwk.n).unwrap().len(), 256);

        let token = key.sign_jwt(&serde_json::json!({"sub": "user_1"})).unwrap();
        let mut parts = token.split('.');
        let header = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["kid"], key.kid());

        let n = URL_SAFE_NO_PAD.decode(&jwk.n).unwrap();
        let e = URL_SAFE_NO_PAD.decode(&jwk.e).unwrap();
        let public = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e };
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        public
            .verify(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                signed.as_bytes(),
                &signature,
            )
            .unwrap();
    }
}
