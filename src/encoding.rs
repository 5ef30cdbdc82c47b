//! The small encodings the crate needs in more than one place, in one home: hexadecimal,
//! and percent-encoding as JavaScript's `encodeURIComponent` / `decodeURIComponent` do it
//! (the `cookie` npm package reads and writes cookie values with them, so a Next.js app and
//! this crate agree byte for byte). The encoders themselves are crates' (`base16ct`,
//! `percent-encoding`); what is here is which case, which bytes and which failure rules.

use std::borrow::Cow;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Lowercase hexadecimal of `bytes` (the forms of cookie passwords, sign-in nonces and
/// store keys), by RustCrypto's constant-time encoder: what is encoded is often a secret.
pub(crate) fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// `N` bytes from the operating system's CSPRNG, base64url without padding: the form of
/// PKCE verifiers, flow-cookie secrets, form keys and CSP nonces. `None` when the generator
/// fails (never a predictable value in its place).
pub(crate) fn random_base64url<const N: usize>() -> Option<String> {
    use base64::Engine as _;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<N>()?))
}

/// `N` bytes from the operating system's CSPRNG, in lowercase hexadecimal (sign-in nonces,
/// lock owners); `None` when the generator fails.
pub(crate) fn random_hex<const N: usize>() -> Option<String> {
    Some(hex(&random_bytes::<N>()?))
}

fn random_bytes<const N: usize>() -> Option<[u8; N]> {
    use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes).ok()?;
    Some(bytes)
}

/// What `encodeURIComponent` escapes: everything but ASCII letters, digits and
/// `-_.!~*'()` (ECMA-262 §19.2.6.5).
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Appends `value` as `encodeURIComponent` writes it (escapes in uppercase hex).
pub(crate) fn push_uri_component(out: &mut String, value: &str) {
    out.extend(utf8_percent_encode(value, URI_COMPONENT));
}

/// Whether every `%` in `s` starts a two-hex-digit escape.
fn escapes_are_well_formed(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// `decodeURIComponent`: `None` when an escape is malformed (`%zz`, a lone `%`) or the
/// decoded bytes are not UTF-8, where JavaScript throws a `URIError`.
pub(crate) fn decode_uri_component(s: &str) -> Option<Cow<'_, str>> {
    if !escapes_are_well_formed(s) {
        return None;
    }
    percent_decode_str(s).decode_utf8().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_component_round_trips_like_javascript() {
        let mut out = String::new();
        push_uri_component(&mut out, "Fe26.2*1*a-b_c~d!e'(f)g h;i=j%k,é");
        // encodeURIComponent("Fe26.2*1*a-b_c~d!e'(f)g h;i=j%k,é") in Node.
        assert_eq!(out, "Fe26.2*1*a-b_c~d!e'(f)g%20h%3Bi%3Dj%25k%2C%C3%A9");
        assert_eq!(
            decode_uri_component(&out).unwrap(),
            "Fe26.2*1*a-b_c~d!e'(f)g h;i=j%k,é"
        );
    }

    #[test]
    fn malformed_escapes_fail_as_in_javascript() {
        for bad in ["%", "%4", "%zz", "a%4g", "%41%zz", "%E9", "%C3"] {
            assert_eq!(decode_uri_component(bad), None, "{bad}");
        }
        assert_eq!(decode_uri_component("plain").unwrap(), "plain");
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
    }
}
