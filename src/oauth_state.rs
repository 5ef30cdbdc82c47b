//! The sign-in flow's state: the PKCE verifier and where to return, sealed into the OAuth
//! `state` parameter, and the per-flow `wos-auth-verifier-<hash>` cookie that binds the
//! flow to the browser that started it.
//!
//! Threat model. The state is sealed with the cookie password (iron, TTL 600 s), so it
//! cannot be forged or read by the browser or by WorkOS, and the PKCE verifier never
//! leaves the server unsealed. The state travels in URLs (to WorkOS and back in the
//! callback URL, which logs, `Referer` headers, proxies and browser history may keep), so
//! it proves nothing about the browser: the flow cookie does. It holds a random secret
//! (32 bytes) whose SHA-256 digest is sealed in the state ([`FlowState::binding`]), so
//! whoever sees a callback URL before the user's browser uses it still cannot finish the
//! sign-in from another browser — the verifier is not recoverable from the URL alone —
//! and the callback checks the cookie *before* it records the state as used, so a forged
//! cookie presented with a seen state does not spend the user's flow. (authkit-nextjs's
//! cookie holds the sealed state itself; the callback accepts flows of that shape only
//! with [`AuthKitBuilder::accept_nextjs_flows`](crate::AuthKitBuilder::accept_nextjs_flows).)
//! The same cookie is what stops login CSRF: a callback whose browser did not start the
//! flow has no cookie to show. Whoever can set cookies on the parent domain can plant a
//! flow cookie of their own flow (and so sign a victim into the attacker's account); a
//! `__Host-` flow cookie name (`WORKOS_FLOW_COOKIE_NAME=__Host-wos-auth-verifier`) stops
//! that, since no other host can set such a cookie.
//!
//! One cookie per flow (named by a hash of the state) lets several tabs sign in at once
//! without clobbering each other; at most [`MAX_VERIFIER_COOKIES`] are kept so a browser
//! that starts many flows never sends headers large enough to be refused.
//!
//! The return path is reduced to a same-origin path and query before it is sealed and
//! again before it is used, so `returnTo=https://evil.example` cannot send a user away.

use crate::config::{AuthKitConfig, CookieConfig};
use crate::seal::{self, SealError};
use crate::session::{flow_cookie_name, PKCE_STATE_TTL};
use aws_lc_rs::hmac;
use serde::{Deserialize, Serialize};
use std::fmt;
use url::Url;

/// When a browser already holds this many verifier cookies, starting another flow expires
/// the rest (as authkit-nextjs does, to stay clear of HTTP 431).
pub(crate) const MAX_VERIFIER_COOKIES: usize = 5;

/// The most bytes of custom `state` a flow may carry.
pub(crate) const MAX_CUSTOM_STATE_BYTES: usize = 2048;

/// A return path longer than this is replaced by `/`, so the flow's cookie (which seals
/// it) stays well under the browsers' 4096-byte limit.
pub(crate) const MAX_RETURN_PATH_BYTES: usize = 1024;

/// What is sealed into the OAuth `state` (authkit-nextjs's shape, so either app can
/// finish a flow the other started).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub struct FlowState {
    /// A random nonce, so every flow's state differs.
    pub nonce: String,
    /// The PKCE code verifier.
    pub code_verifier: String,
    /// The app's own state, handed back to `on_success`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_state: Option<String>,
    /// Where to send the user after signing in (a same-origin path and query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_pathname: Option<String>,
    /// The digest of the secret the flow's cookie holds (base64url SHA-256): the flow can
    /// be finished only by a browser that shows the secret. `None` in the states
    /// authkit-nextjs seals (its cookie holds the state itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// The redirect URI the flow was started with, when it is not the configured one (a
    /// preview origin of `WORKOS_REDIRECT_ORIGINS`; authkit-session's `redirectUri`): the
    /// callback finishes only on that origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

impl fmt::Debug for FlowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowState")
            .field("code_verifier", &"[redacted]")
            .field("custom_state", &self.custom_state)
            .field("return_pathname", &self.return_pathname)
            .field("bound", &self.binding.is_some())
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Why a flow's state could not be created or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub enum StateError {
    /// Sealing or unsealing failed (tampered, expired, or sealed with another password).
    #[error("sign-in state is invalid or expired: {0}")]
    Seal(#[from] SealError),
    /// The custom state is too large for a cookie.
    #[error(
        "custom state is {0} bytes; at most {MAX_CUSTOM_STATE_BYTES} fit in the sign-in cookie"
    )]
    CustomStateTooLarge(usize),
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
}

#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
impl FlowState {
    /// A new flow with a fresh nonce.
    pub fn new(
        code_verifier: String,
        return_pathname: Option<String>,
        custom_state: Option<String>,
    ) -> Result<Self, StateError> {
        if let Some(s) = &custom_state {
            if s.len() > MAX_CUSTOM_STATE_BYTES {
                return Err(StateError::CustomStateTooLarge(s.len()));
            }
        }
        Ok(Self {
            nonce: crate::encoding::random_hex::<16>().ok_or(StateError::Random)?,
            code_verifier,
            custom_state,
            return_pathname: return_pathname.map(|p| {
                let path = sanitize_return_path(&p);
                if path.len() > MAX_RETURN_PATH_BYTES {
                    "/".to_owned()
                } else {
                    path
                }
            }),
            binding: None,
            redirect_uri: None,
        })
    }

    /// Binds the flow to a browser: a new random secret (32 bytes, base64url) for the
    /// flow's cookie, whose digest goes into the state. Returns the secret.
    pub(crate) fn bind(&mut self) -> Result<String, StateError> {
        let secret = crate::encoding::random_base64url::<32>().ok_or(StateError::Random)?;
        self.binding = Some(binding_digest(&secret));
        Ok(secret)
    }

    /// Whether the flow cookie's `value` is the secret this state is bound to (compared
    /// digest to digest, in constant time). `false` for a state without a binding.
    pub(crate) fn is_bound_to(&self, value: &str) -> bool {
        self.binding.as_deref().is_some_and(|digest| {
            aws_lc_rs::constant_time::verify_slices_are_equal(
                digest.as_bytes(),
                binding_digest(value).as_bytes(),
            )
            .is_ok()
        })
    }

    /// Seals the state (TTL 600 s); the result is both the `state` parameter and the
    /// verifier cookie's value.
    pub fn seal(&self, config: &AuthKitConfig) -> Result<String, StateError> {
        Ok(seal::seal(self, config.passwords(), Some(PKCE_STATE_TTL))?)
    }

    /// Unseals a state, failing when it was tampered with, sealed with another password,
    /// or is older than 600 s (plus iron's 60 s skew).
    pub fn unseal(sealed: &str, config: &AuthKitConfig) -> Result<Self, StateError> {
        Ok(seal::unseal(sealed, config.passwords())?)
    }
}

/// Reduces anything a user or a link supplied as "where to go next" to a path and query
/// on this site: absolute URLs, protocol-relative `//host`, backslash tricks and control
/// characters all end up as a local path. Empty input gives `/`: `/dashboard?tab=2` stays
/// as it is, `https://evil.example/steal` becomes `/steal` and `//evil.example` becomes `/`
/// (these and more in the unit tests).
pub(crate) fn sanitize_return_path(input: &str) -> String {
    // Parse against a placeholder origin, as authkit-nextjs does, then keep only the
    // path and query. The WHATWG parser turns `\` into `/`, drops tabs and newlines, and
    // percent-encodes the rest, so the output is always a valid header value.
    let Ok(base) = Url::parse("https://placeholder.invalid/") else {
        return "/".to_owned();
    };
    let Ok(url) = base.join(input.trim()) else {
        return "/".to_owned();
    };
    // A path that begins with `//`, `/\` or `\` would be read as another host by a
    // browser (it treats `\` as `/`). A special scheme's path has no `\` left, but another
    // scheme's is opaque: `x:\\evil.example` has the path `\\evil.example` (found by the
    // `matcher` fuzz target). So every leading `/` and `\` goes, then one `/` is put back.
    let path = url.path().trim_start_matches(['/', '\\']);
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(path);
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The digest a bound state seals for its flow cookie's secret: base64url SHA-256 of a
/// label and the secret.
fn binding_digest(secret: &str) -> String {
    use base64::Engine as _;
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(b"authkit-leptos flow cookie\0");
    context.update(secret.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(context.finish().as_ref())
}

/// The flow cookie's `Set-Cookie` value (named for `sealed_state`, holding `value`: the
/// flow's secret) and the deletions of older flow cookies (when the browser already
/// holds [`MAX_VERIFIER_COOKIES`] or more).
pub(crate) fn verifier_cookies(
    cookie: &CookieConfig,
    sealed_state: &str,
    value: &str,
    secure_url: Option<&str>,
    request_cookie_header: Option<&str>,
) -> Vec<String> {
    let mut out = vec![crate::session::flow_set_cookie(
        cookie,
        sealed_state,
        value,
        secure_url,
    )];
    let existing =
        verifier_cookie_names(request_cookie_header.unwrap_or_default(), &cookie.flow_name);
    if existing.len() >= MAX_VERIFIER_COOKIES {
        let keep = flow_cookie_name(cookie, sealed_state);
        for name in existing.into_iter().filter(|n| *n != keep) {
            out.push(crate::session::pkce_delete_cookie(
                cookie, &name, secure_url,
            ));
        }
    }
    out
}

/// Every flow cookie name (`<base>…`, e.g. `wos-auth-verifier*`) in a `Cookie` header.
pub(crate) fn verifier_cookie_names(cookie_header: &str, base: &str) -> Vec<String> {
    let mut names: Vec<String> = cookie_header
        .split(';')
        .filter_map(|pair| pair.split_once('=').map(|(k, _)| k.trim()))
        .filter(|k| k.starts_with(base))
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// How long a sign-in link that carries custom state is accepted after it was made (its
/// signature says until when): a day, so a link on a page left open, or in an e-mail read
/// the same day, still works, and a leaked one stops working.
pub(crate) const SIGNED_LINK_LIFETIME: std::time::Duration =
    std::time::Duration::from_secs(24 * 60 * 60);

/// Derives the signing key of sign-in links from a cookie password (domain separation
/// from the password's other uses: iron's PBKDF2, the refresh store's names): a link's MAC
/// is never a MAC under the password itself.
const SIGNED_LINK_KEY_LABEL: &[u8] = b"authkit-leptos sign-in link v2";

/// The parameters of a sign-in link a signature covers: everything the start route reads
/// (the screen, as the route's path picks it; the return path as it is in the URL, i.e.
/// already reduced by [`sanitize_return_path`]).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LinkParams<'a> {
    pub(crate) screen: &'a str,
    pub(crate) return_to: Option<&'a str>,
    pub(crate) organization_id: Option<&'a str>,
    pub(crate) login_hint: Option<&'a str>,
    pub(crate) prompt: Option<&'a str>,
    pub(crate) state: Option<&'a str>,
    pub(crate) max_age: Option<u64>,
}

impl LinkParams<'_> {
    /// The signed message: every parameter in a fixed order, each present or absent and
    /// length-prefixed (no two sets of parameters give the same bytes), then the expiry.
    fn message(&self, expires: u64) -> Vec<u8> {
        let max_age = self.max_age.map(|v| v.to_string());
        let mut out = Vec::with_capacity(256);
        for value in [
            Some(self.screen),
            self.return_to,
            self.organization_id,
            self.login_hint,
            self.prompt,
            self.state,
            max_age.as_deref(),
        ] {
            match value {
                None => out.push(0),
                Some(v) => {
                    out.push(1);
                    out.extend_from_slice(
                        &u64::try_from(v.len()).unwrap_or(u64::MAX).to_be_bytes(),
                    );
                    out.extend_from_slice(v.as_bytes());
                }
            }
        }
        out.extend_from_slice(&expires.to_be_bytes());
        out
    }
}

fn signed_link_key(password: &str) -> hmac::Key {
    let derived = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, password.as_bytes()),
        SIGNED_LINK_KEY_LABEL,
    );
    hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref())
}

/// The `state_mac` of a sign-in link carrying custom state, valid until `expires` (Unix
/// seconds, the link's `state_expires`): HMAC-SHA256 over every parameter of the link and
/// the expiry, under a key derived from the current cookie password, base64url. Only links
/// the app made (with [`get_sign_in_url`](crate::get_sign_in_url) or
/// [`AuthKit::sign_in_link`](crate::AuthKit::sign_in_link)) carry one, so a visitor can
/// neither mint state that `on_success` would take for the app's nor change the other
/// parameters of a link that carries some.
pub(crate) fn signed_link_mac(
    config: &AuthKitConfig,
    params: &LinkParams<'_>,
    expires: u64,
) -> String {
    use base64::Engine as _;
    let (_, password) = config.passwords().current();
    let tag = hmac::sign(
        &signed_link_key(password.expose()),
        &params.message(expires),
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
}

/// Whether `mac` signs exactly these parameters until `expires`, under the key of any
/// configured password (links made before a password rotation stay valid), compared in
/// constant time, and `now` (Unix seconds) is not past `expires`.
pub(crate) fn signed_link_is_valid(
    config: &AuthKitConfig,
    params: &LinkParams<'_>,
    expires: u64,
    mac: &str,
    now: u64,
) -> bool {
    use base64::Engine as _;
    if now > expires {
        return false;
    }
    let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(mac) else {
        return false;
    };
    let message = params.message(expires);
    config.passwords().iter().any(|(_, password)| {
        hmac::verify(&signed_link_key(password.expose()), &message, &tag).is_ok()
    })
}

#[cfg(test)]
mod mac_tests {
    use super::*;

    fn config(passwords: &[(&str, &str)]) -> AuthKitConfig {
        AuthKitConfig::builder()
            .client_id("c")
            .api_key("k")
            .redirect_uri("http://localhost:3000/callback")
            .cookie_passwords(
                crate::config::PasswordMap::from_entries(passwords.iter().copied()).unwrap(),
            )
            .build()
            .unwrap()
    }

    fn params(state: &str) -> LinkParams<'_> {
        LinkParams {
            screen: "sign-in",
            return_to: Some("/billing"),
            login_hint: Some("ada@example.com"),
            state: Some(state),
            ..Default::default()
        }
    }

    #[test]
    fn link_macs_verify_only_for_their_parameters_and_survive_rotation() {
        let old = config(&[("1", &"a".repeat(32))]);
        let p = params("plan=pro");
        let mac = signed_link_mac(&old, &p, 1_000);
        assert!(signed_link_is_valid(&old, &p, 1_000, &mac, 999));
        assert!(!signed_link_is_valid(
            &old,
            &params("plan=enterprise"),
            1_000,
            &mac,
            999
        ));
        for changed in [
            LinkParams {
                screen: "sign-up",
                ..p
            },
            LinkParams {
                return_to: Some("/admin"),
                ..p
            },
            LinkParams {
                return_to: None,
                ..p
            },
            LinkParams {
                login_hint: Some("grace@example.com"),
                ..p
            },
            LinkParams {
                organization_id: Some("org_1"),
                ..p
            },
            LinkParams {
                prompt: Some("consent"),
                ..p
            },
            LinkParams {
                max_age: Some(0),
                ..p
            },
            // The same bytes moved from one parameter to the next.
            LinkParams {
                return_to: Some("/billingada@example.com"),
                login_hint: Some(""),
                ..p
            },
        ] {
            assert!(
                !signed_link_is_valid(&old, &changed, 1_000, &mac, 999),
                "{changed:?}"
            );
        }
        assert!(
            !signed_link_is_valid(&old, &p, 1_001, &mac, 999),
            "another expiry"
        );
        assert!(!signed_link_is_valid(&old, &p, 1_000, "", 999));
        assert!(!signed_link_is_valid(&old, &p, 1_000, "not base64 !", 999));
        assert!(!signed_link_is_valid(&old, &p, 1_000, &mac[..10], 999));
        let rotated = config(&[("1", &"a".repeat(32)), ("2", &"b".repeat(32))]);
        assert!(signed_link_is_valid(&rotated, &p, 1_000, &mac, 999));
        let other = config(&[("1", &"c".repeat(32))]);
        assert!(!signed_link_is_valid(&other, &p, 1_000, &mac, 999));
    }

    /// A link is accepted up to its expiry (inclusive) and refused after.
    #[test]
    fn link_macs_expire() {
        let c = config(&[("1", &"a".repeat(32))]);
        let p = params("plan=pro");
        let mac = signed_link_mac(&c, &p, 1_000);
        assert!(signed_link_is_valid(&c, &p, 1_000, &mac, 1_000));
        assert!(!signed_link_is_valid(&c, &p, 1_000, &mac, 1_001));
    }

    /// The key is derived from the password: a MAC under the password itself, over the
    /// same message, is refused.
    #[test]
    fn the_key_is_not_the_password() {
        use base64::Engine as _;
        let password = "a".repeat(32);
        let c = config(&[("1", &password)]);
        let p = params("plan=pro");
        let raw = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, password.as_bytes()),
            &p.message(1_000),
        );
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.as_ref());
        assert!(!signed_link_is_valid(&c, &p, 1_000, &raw, 999));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AuthKitConfig {
        AuthKitConfig::builder()
            .client_id("client_1")
            .api_key("sk_test_1")
            .redirect_uri("http://localhost:3000/callback")
            .cookie_password("0123456789abcdef0123456789abcdef")
            .build()
            .unwrap()
    }

    /// Found by the `matcher` fuzz target: a non-special scheme keeps backslashes in its
    /// (opaque) path, and `/\\host` is `//host` to a browser.
    #[test]
    fn a_non_special_scheme_with_backslashes_stays_on_this_site() {
        for input in [
            "hehttps:\\\\ptt:pvis:\\\\evl.m\u{1}\u{2}m###",
            "x:\\\\evil.example",
            "x:\\/evil.example",
            "x:/\\evil.example",
            "javascript:\\\\evil.example",
        ] {
            let clean = sanitize_return_path(input);
            assert!(clean.starts_with('/'), "{input:?} gave {clean:?}");
            assert!(
                !clean[1..].starts_with(['/', '\\']),
                "{input:?} gave {clean:?}"
            );
        }
        assert_eq!(sanitize_return_path("x:\\\\evil.example"), "/evil.example");
    }

    #[test]
    fn hostile_return_paths_stay_on_this_site() {
        let cases = [
            ("/dashboard", "/dashboard"),
            ("/dashboard?tab=a&b=c", "/dashboard?tab=a&b=c"),
            ("/dashboard?tab=2", "/dashboard?tab=2"),
            ("https://evil.example/steal", "/steal"),
            ("//evil.example", "/"),
            ("dashboard", "/dashboard"),
            ("", "/"),
            ("https://evil.example/steal?x=1", "/steal?x=1"),
            ("//evil.example/path", "/path"),
            ("///evil.example", "/"),
            ("/\\evil.example", "/"),
            ("\\\\evil.example", "/"),
            ("javascript:alert(1)", "/alert(1)"),
            ("/a\r\nSet-Cookie: x=1", "/aSet-Cookie:%20x=1"),
            ("/\tevil", "/evil"),
            ("http://localhost:3000/ok#frag", "/ok"),
            ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
            ("/ünï?q=✓", "/%C3%BCn%C3%AF?q=%E2%9C%93"),
        ];
        for (input, want) in cases {
            let got = sanitize_return_path(input);
            assert_eq!(got, want, "input {input:?}");
            assert!(got.starts_with('/') && !got.starts_with("//"), "{got}");
            assert!(http::HeaderValue::from_str(&got).is_ok(), "{got}");
        }
    }

    #[test]
    fn state_round_trips_and_is_tamper_evident() {
        let c = config();
        let s = FlowState::new(
            "v".repeat(43),
            Some("https://x.example/back?a=1".into()),
            Some("mine".into()),
        )
        .unwrap();
        assert_eq!(s.return_pathname.as_deref(), Some("/back?a=1"));
        let sealed = s.seal(&c).unwrap();
        assert!(sealed.starts_with("Fe26.2*1*"));
        let back = FlowState::unseal(&sealed, &c).unwrap();
        assert_eq!(back, s);
        let mut tampered = sealed.clone();
        tampered.insert(20, 'x');
        assert!(FlowState::unseal(&tampered, &c).is_err());
        // The state carries an expiry 600 s out.
        let exp: u64 = sealed.split('*').nth(5).unwrap().parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!((exp - now).abs_diff(600_000) < 5_000, "{exp} vs {now}");
    }

    /// A bound state accepts exactly its secret; an unbound one (authkit-nextjs's shape)
    /// accepts none; the binding survives sealing.
    #[test]
    fn a_bound_state_accepts_only_its_secret() {
        let mut s = FlowState::new("v".into(), None, None).unwrap();
        assert!(!s.is_bound_to(""));
        let secret = s.bind().unwrap();
        assert_eq!(secret.len(), 43);
        assert!(s.is_bound_to(&secret));
        for other in ["", "x", &secret[1..], &format!("{secret}x")] {
            assert!(!s.is_bound_to(other), "{other}");
        }
        let back = FlowState::unseal(&s.seal(&config()).unwrap(), &config()).unwrap();
        assert!(back.is_bound_to(&secret));
        assert!(!format!("{back:?}").contains(back.binding.as_deref().unwrap()));
        let mut t = FlowState::new("v".into(), None, None).unwrap();
        assert_ne!(t.bind().unwrap(), secret);
    }

    #[test]
    fn nonces_differ_and_debug_hides_the_verifier() {
        let a = FlowState::new("secret-verifier".into(), None, None).unwrap();
        let b = FlowState::new("secret-verifier".into(), None, None).unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert!(!format!("{a:?}").contains("secret-verifier"));
    }

    #[test]
    fn a_huge_return_path_falls_back_to_home() {
        let long = format!("/search?q={}", "x".repeat(MAX_RETURN_PATH_BYTES));
        let s = FlowState::new("v".into(), Some(long), None).unwrap();
        assert_eq!(s.return_pathname.as_deref(), Some("/"));
        let sealed = s.seal(&config()).unwrap();
        assert!(sealed.len() < 1024);
    }

    #[test]
    fn custom_state_is_bounded() {
        assert!(matches!(
            FlowState::new(
                "v".into(),
                None,
                Some("x".repeat(MAX_CUSTOM_STATE_BYTES + 1))
            ),
            Err(StateError::CustomStateTooLarge(_))
        ));
    }

    #[test]
    fn at_most_five_verifier_cookies_are_kept() {
        let c = CookieConfig::default();
        let header = "wos-session=abc; wos-auth-verifier-1=a; wos-auth-verifier-2=b";
        assert_eq!(
            verifier_cookies(&c, "state", "secret", None, Some(header)).len(),
            1
        );
        let header = (1..=5)
            .map(|i| format!("wos-auth-verifier-{i}=x"))
            .collect::<Vec<_>>()
            .join("; ");
        let out = verifier_cookies(
            &c,
            "state",
            "secret",
            Some("http://localhost/"),
            Some(&header),
        );
        assert_eq!(out.len(), 6, "{out:?}");
        assert!(out[0].starts_with(&format!(
            "{}=secret;",
            crate::session::pkce_cookie_name("state")
        )));
        assert!(out[1..].iter().all(|c| c.contains("Max-Age=0")));
    }
}
