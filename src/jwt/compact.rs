//! Reading a compact JWS (`header.payload.signature`) into its parts, without verifying
//! anything: the parsing [`TokenVerifier`](super::TokenVerifier) does before the signature
//! check, and [`decode_unverified`] for display. Every failure is a
//! [`JwtError::Malformed`], never a panic.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::JwtError;

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
    // One SIMD pass for the separators (a token is about 1 KiB).
    let mut dots = memchr::memchr_iter(b'.', token.as_bytes());
    let (first, second) = (dots.next(), dots.next());
    let (Some(first), Some(second), None) = (first, second, dots.next()) else {
        let count = 1 + memchr::memchr_iter(b'.', token.as_bytes()).count();
        return Err(JwtError::malformed(format!(
            "a JWT has 3 parts separated by '.', this value has {count}"
        )));
    };
    let (header, payload, signature) = (
        &token[..first],
        &token[first + 1..second],
        &token[second + 1..],
    );
    let signing_input = &token[..second];
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
