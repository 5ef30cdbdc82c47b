//! Entry points for the fuzz targets in `fuzz/` (#11 R1). Compiled only under `cargo fuzz`,
//! which builds every crate with `--cfg fuzzing`, and for the unit test below that replays
//! the committed corpus; nothing here is part of the API.
//!
//! Each function takes the fuzzer's bytes, drives one parser of untrusted input exactly as
//! the request path does, and asserts the properties that must hold whatever the bytes
//! (beyond "no panic"): a return path never leaves the origin, a foreign cookie never hides
//! the session cookie, what is sealed unseals to the same value. A failed assertion is a
//! crash for libFuzzer; each crash found becomes a unit test beside the code it broke.

use std::sync::OnceLock;

use http::{header, HeaderMap, HeaderValue};
use serde_json::Value;

use crate::config::{AuthKitConfig, PasswordMap};
use crate::oauth_state::{sanitize_return_path, FlowState};
use crate::session::{find_cookie_in_headers, Session, SessionCookies};

const PASSWORD: &str = "a-fuzzing-cookie-password-of-32-chars-or-more";

fn passwords() -> &'static PasswordMap {
    static PASSWORDS: OnceLock<PasswordMap> = OnceLock::new();
    PASSWORDS.get_or_init(|| PasswordMap::single(PASSWORD))
}

fn config() -> &'static AuthKitConfig {
    static CONFIG: OnceLock<AuthKitConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        AuthKitConfig::builder()
            .client_id("client_fuzzing")
            .api_key("sk_test_fuzzing")
            .redirect_uri("http://localhost:3000/callback")
            .cookie_password(PASSWORD)
            .build()
            .expect("a valid fuzzing config")
    })
}

/// The first byte picks a mode, the rest is the input.
fn split_mode(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(mode, rest)| (*mode, rest))
}

/// `unseal`: a `wos-session` value as it arrives (any text), and round trips of any JSON.
///
/// Mode 0: unseal the bytes as a session and as JSON (must fail cleanly or succeed).
/// Mode 1: the bytes as JSON text; when valid, seal it, and unsealing gives the same value
/// back (`null` reads as `{}`, as in iron-session), and reading it as a [`Session`] fails cleanly or succeeds.
pub fn unseal(data: &[u8]) {
    let Some((mode, rest)) = split_mode(data) else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if mode % 2 == 0 {
        let _ = Session::unseal(&text, passwords());
        let _ = crate::seal::unseal_json(&text, passwords());
        return;
    }
    let Ok(value) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let sealed = crate::seal::seal_json(&value, passwords(), None).expect("sealing JSON");
    let back = crate::seal::unseal_json(&sealed, passwords()).expect("unsealing what was sealed");
    // iron-session reads a `null` payload as `{}` (`unseal(..) ?? {}`); so does the crate.
    let expected = if value.is_null() {
        serde_json::json!({})
    } else {
        value
    };
    assert_eq!(back, expected, "seal/unseal changed the value");
    let _ = Session::unseal(&sealed, passwords());
}

/// The session cookie a request carries, from `Cookie` header bytes.
///
/// The bytes are split on `\n` into several `Cookie` headers (HTTP/2 sends one per cookie).
/// Whatever they hold, a `wos-session` cookie added before or after them in its own pair
/// is still found: a foreign cookie never hides the session.
pub fn cookie_header(data: &[u8]) {
    const SESSION: &str = "Fe26.2**session-value";
    let headers_from = |parts: &[&[u8]]| {
        let mut headers = HeaderMap::new();
        for part in parts {
            if let Ok(value) = HeaderValue::from_bytes(part) {
                headers.append(header::COOKIE, value);
            }
        }
        headers
    };
    let parts: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let headers = headers_from(&parts);
    let cookies = SessionCookies::from_headers(&headers, "wos-session");
    let _ = cookies.candidates().count();
    let _ = find_cookie_in_headers(&headers, "wos-session");
    let _ = crate::oauth_state::verifier_cookie_names(
        &String::from_utf8_lossy(data),
        "wos-auth-verifier",
    );
    let _ = crate::session::alternative_joins(&headers, "wos-session");

    for (before, after) in [(true, false), (false, true)] {
        let mut value = Vec::new();
        if before {
            value.extend_from_slice(format!("wos-session={SESSION}; ").as_bytes());
        }
        value.extend_from_slice(data.split(|b| *b == b'\n').next().unwrap_or_default());
        if after {
            value.extend_from_slice(format!("; wos-session={SESSION}").as_bytes());
        }
        let Ok(header_value) = HeaderValue::from_bytes(&value) else {
            continue;
        };
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, header_value);
        let cookies = SessionCookies::from_headers(&headers, "wos-session");
        assert!(
            cookies.plain.iter().any(|v| v == SESSION),
            "the session cookie was hidden by {:?}",
            String::from_utf8_lossy(&value)
        );
    }
}

/// The route matcher (a pattern and a path, split on the first `\n`) and the return-path
/// sanitiser: a sanitised path always stays on the origin it is joined to, and is a
/// valid header value.
pub fn matcher(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (pattern, path) = text.split_once('\n').unwrap_or((&text, "/"));
    if let Ok(compiled) = crate::matcher::RoutePattern::new(pattern) {
        let _ = compiled.matches(path);
    }
    if let Ok(matcher) = crate::matcher::Matcher::new([pattern]) {
        let _ = matcher.matches(path);
        let _ = matcher.covers(path);
    }
    let clean = sanitize_return_path(&text);
    assert_stays_on_origin(&clean, &text);
}

/// A sanitised return path: starts with one `/`, is a header value, and joined to an
/// origin stays on it.
fn assert_stays_on_origin(clean: &str, input: &str) {
    assert!(clean.starts_with('/'), "{input:?} gave {clean:?}");
    assert!(
        !clean.starts_with("//") && !clean.starts_with("/\\"),
        "{input:?} gave {clean:?}"
    );
    assert!(
        HeaderValue::from_str(clean).is_ok(),
        "{input:?} gave {clean:?}"
    );
    let origin = url::Url::parse("https://app.example/").expect("origin");
    let joined = origin.join(clean).expect("a path joins");
    assert_eq!(joined.origin(), origin.origin(), "{input:?} gave {clean:?}");
}

/// The sealed sign-in state (the OAuth `state` parameter and the verifier cookie).
///
/// Mode 0: unseal the bytes as a state. Mode 1: the bytes as a return path, custom state
/// and verifier (split on `\n`); a state built from them seals and unseals to itself, and
/// its return path stays on the origin.
pub fn sign_in_state(data: &[u8]) {
    let Some((mode, rest)) = split_mode(data) else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if mode % 2 == 0 {
        let _ = FlowState::unseal(&text, config());
        return;
    }
    let mut fields = text.splitn(3, '\n');
    let return_path = fields.next().map(str::to_owned);
    let custom_state = fields.next().map(str::to_owned);
    let verifier = fields.next().unwrap_or_default().to_owned();
    let Ok(state) = FlowState::new(verifier, return_path.clone(), custom_state) else {
        return;
    };
    if let (Some(clean), Some(input)) = (&state.return_pathname, &return_path) {
        assert_stays_on_origin(clean, input);
    }
    let sealed = state.seal(config()).expect("sealing a sign-in state");
    let back = FlowState::unseal(&sealed, config()).expect("unsealing what was sealed");
    assert_eq!(back, state, "seal/unseal changed the sign-in state");
}

/// The JWT parser: shape, header and claims, as verification reads them before and after
/// the signature check, and the `decode-token` command's decoder.
pub fn jwt(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    crate::jwt::fuzz_parse(&text);
    let _ = crate::jwt::decode_unverified(&text);
}

/// The emulator's body decoders: the first byte picks form (odd) or JSON (even).
#[cfg(feature = "emulator")]
pub fn emulator_body(data: &[u8]) {
    let Some((mode, rest)) = split_mode(data) else {
        return;
    };
    crate::emulator::fuzz_body(mode % 2 == 1, rest);
}

#[cfg(test)]
mod tests {
    type Target = fn(&[u8]);

    /// Every input of the committed corpus (`fuzz/corpus/<target>/`, what the last fuzzing
    /// run kept) still passes its target in the normal test run, and so do the inputs that
    /// once failed.
    #[test]
    fn the_committed_corpus_and_past_failures_pass_every_target() {
        #[cfg_attr(not(feature = "emulator"), allow(unused_mut))]
        let mut targets: Vec<(&str, Target)> = vec![
            ("unseal", super::unseal),
            ("cookie_header", super::cookie_header),
            ("matcher", super::matcher),
            ("sign_in_state", super::sign_in_state),
            ("jwt", super::jwt),
        ];
        #[cfg(feature = "emulator")]
        targets.push(("emulator_body", super::emulator_body));
        let corpus = authkit_test_support::manifest_dir!().join("fuzz/corpus");
        for (name, target) in targets {
            let mut inputs = 0;
            for entry in std::fs::read_dir(corpus.join(name)).expect("the corpus is committed") {
                target(&std::fs::read(entry.expect("a corpus file").path()).unwrap());
                inputs += 1;
            }
            assert!(inputs > 0, "{name}: the corpus is empty");
        }
        // Found by the fuzzer: `null` sealed and unsealed reads as `{}` (iron-session's rule).
        super::unseal(b"\x01null");
    }
}
