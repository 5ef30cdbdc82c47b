//! The URLs the browser is sent to (AuthKit sign-in, logout) and the encoding of ids in API paths.
//!
//! These are built exactly as the WorkOS Node SDK builds them, so a WorkOS server (or the
//! emulator) sees the same requests from a Leptos app as from a Next.js one:
//!
//! - the authorize query has its keys sorted and absent values dropped, and is encoded as
//!   `encodeURIComponent` with space as `+` and `!`, `'`, `*` percent-encoded (the SDK's
//!   `toQueryString`). The `state` value round-trips unchanged: the callback compares it
//!   byte for byte with its cookie;
//! - the logout query is `URLSearchParams` (`application/x-www-form-urlencoded`);
//! - ids in paths are `encodeURIComponent` with `:` kept, and `.`/`..`/empty ids are refused, so
//!   an id can never step out of its path segment.

use std::fmt::Write as _;

use url::Url;

use super::WorkOsError;

/// Which AuthKit screen to open first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScreenHint {
    /// `sign-in`
    SignIn,
    /// `sign-up`
    SignUp,
}

impl ScreenHint {
    /// The wire form: `sign-in` or `sign-up`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign-in",
            Self::SignUp => "sign-up",
        }
    }
}

/// What goes into the AuthKit authorization URL, besides the client id, `provider=authkit`,
/// `response_type=code` and `code_challenge_method=S256`, which are always sent.
/// Every `None` is left out of the URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizationUrlParams {
    /// Where WorkOS sends the user back with `?code=…&state=…`.
    pub redirect_uri: Option<String>,
    /// The PKCE challenge (`code_challenge`); see [`PkcePair`](super::PkcePair).
    pub code_challenge: Option<String>,
    /// The opaque `state`, echoed back verbatim to the redirect URI.
    pub state: Option<String>,
    /// Open the sign-in or the sign-up screen.
    pub screen_hint: Option<ScreenHint>,
    /// Pre-fill the email field.
    pub login_hint: Option<String>,
    /// OIDC `max_age`: require a sign-in no older than this many seconds.
    pub max_age: Option<u64>,
    /// Sign in to this organization.
    pub organization_id: Option<String>,
    /// OIDC `prompt`, e.g. `consent`.
    pub prompt: Option<String>,
    /// Route to the identity provider of this domain.
    pub domain_hint: Option<String>,
    /// Use this SSO connection.
    pub connection_id: Option<String>,
    /// Accept this invitation while signing up.
    pub invitation_token: Option<String>,
    /// The nonce that claims an unclaimed WorkOS environment.
    pub claim_nonce: Option<String>,
}

/// Builds `…/user_management/authorize?…` for `base` (the API base URL) and `client_id`.
pub(crate) fn authorization_url(base: &Url, client_id: &str, p: &AuthorizationUrlParams) -> Url {
    let max_age = p.max_age.map(|v| v.to_string());
    let code_challenge_method = p.code_challenge.as_ref().map(|_| "S256");
    // Already in sorted key order (the SDK sorts with `localeCompare`; for these lowercase
    // ASCII keys that is byte order, `_` before letters). A unit test checks the order.
    let pairs = [
        ("claim_nonce", p.claim_nonce.as_deref()),
        ("client_id", Some(client_id)),
        ("code_challenge", p.code_challenge.as_deref()),
        ("code_challenge_method", code_challenge_method),
        ("connection_id", p.connection_id.as_deref()),
        ("domain_hint", p.domain_hint.as_deref()),
        ("invitation_token", p.invitation_token.as_deref()),
        ("login_hint", p.login_hint.as_deref()),
        ("max_age", max_age.as_deref()),
        ("organization_id", p.organization_id.as_deref()),
        ("prompt", p.prompt.as_deref()),
        ("provider", Some("authkit")),
        ("redirect_uri", p.redirect_uri.as_deref()),
        ("response_type", Some("code")),
        ("screen_hint", p.screen_hint.map(ScreenHint::as_str)),
        ("state", p.state.as_deref()),
    ];
    let mut query = String::new();
    for (key, value) in pairs {
        let Some(value) = value else { continue };
        if !query.is_empty() {
            query.push('&');
        }
        encode_rfc1738(&mut query, key);
        query.push('=');
        encode_rfc1738(&mut query, value);
    }
    let mut url = endpoint_url(base, "/user_management/authorize");
    url.set_query(Some(&query));
    url
}

/// Builds `…/user_management/sessions/logout?session_id=…[&return_to=…]`.
pub(crate) fn logout_url(base: &Url, session_id: &str, return_to: Option<&str>) -> Url {
    let mut url = endpoint_url(base, "/user_management/sessions/logout");
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("session_id", session_id);
        if let Some(r) = return_to.filter(|r| !r.is_empty()) {
            q.append_pair("return_to", r);
        }
    }
    url
}

/// `base` with `path` appended to its path (a base path prefix, if any, is kept), and no query
/// or fragment.
pub(crate) fn endpoint_url(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// One path segment from a caller-supplied id: `encodeURIComponent` with `:` kept (as the
/// WorkOS SDK's `encodePathParameter`). Empty, `.` and `..` are refused.
pub(crate) fn path_segment(what: &'static str, id: &str) -> Result<String, WorkOsError> {
    if id.is_empty() {
        return Err(WorkOsError::InvalidArgument {
            what,
            reason: "it is empty",
        });
    }
    if id == "." || id == ".." {
        return Err(WorkOsError::InvalidArgument {
            what,
            reason: "`.` and `..` are not ids",
        });
    }
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if is_uri_component_unreserved(b) || b == b':' {
            out.push(char::from(b));
        } else {
            push_percent(&mut out, b);
        }
    }
    Ok(out)
}

/// The bytes `encodeURIComponent` leaves alone.
fn is_uri_component_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// `encodeURIComponent(s)` with `%20` → `+` and `!'*` percent-encoded (the SDK's `encodeRFC1738`).
fn encode_rfc1738(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b'!' | b'\'' | b'*' => push_percent(out, b),
            _ if is_uri_component_unreserved(b) => out.push(char::from(b)),
            _ => push_percent(out, b),
        }
    }
}

fn push_percent(out: &mut String, b: u8) {
    // Writing to a String cannot fail.
    let _ = write!(out, "%{b:02X}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:8787").unwrap()
    }

    fn keys(url: &Url) -> Vec<String> {
        url.query_pairs().map(|(k, _)| k.into_owned()).collect()
    }

    #[test]
    fn every_key_comes_out_sorted() {
        let p = AuthorizationUrlParams {
            redirect_uri: Some("http://localhost:3000/callback".into()),
            code_challenge: Some("ch".into()),
            state: Some("st".into()),
            screen_hint: Some(ScreenHint::SignUp),
            login_hint: Some("a@b.c".into()),
            max_age: Some(0),
            organization_id: Some("org_1".into()),
            prompt: Some("consent".into()),
            domain_hint: Some("b.c".into()),
            connection_id: Some("conn_1".into()),
            invitation_token: Some("inv".into()),
            claim_nonce: Some("n".into()),
        };
        let url = authorization_url(&base(), "client_1", &p);
        let got = keys(&url);
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(got, sorted);
        // The same options given to @workos-inc/node 10.14.0 `getAuthorizationUrl`.
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8787/user_management/authorize?claim_nonce=n&client_id=client_1\
             &code_challenge=ch&code_challenge_method=S256&connection_id=conn_1&domain_hint=b.c\
             &invitation_token=inv&login_hint=a%40b.c&max_age=0&organization_id=org_1&prompt=consent\
             &provider=authkit&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback&response_type=code\
             &screen_hint=sign-up&state=st"
        );
    }

    #[test]
    fn absent_values_are_left_out() {
        let url = authorization_url(&base(), "client_1", &AuthorizationUrlParams::default());
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8787/user_management/authorize?client_id=client_1&provider=authkit&response_type=code"
        );
    }

    #[test]
    fn values_are_encoded_like_the_node_sdk() {
        let p = AuthorizationUrlParams {
            state: Some("Fe26.2*1*a~b c!d'e(f)g/h?é&=+%".into()),
            ..Default::default()
        };
        let url = authorization_url(&base(), "client_1", &p);
        // Expected value produced by @workos-inc/node 10.14.0 `toQueryString`.
        assert!(
            url.as_str()
                .ends_with("&state=Fe26.2%2A1%2Aa~b+c%21d%27e(f)g%2Fh%3F%C3%A9%26%3D%2B%25"),
            "{url}"
        );
        let state: Vec<_> = url.query_pairs().filter(|(k, _)| k == "state").collect();
        assert_eq!(state[0].1, "Fe26.2*1*a~b c!d'e(f)g/h?é&=+%");
    }

    #[test]
    fn logout_url_uses_form_encoding() {
        let url = logout_url(&base(), "session_1", Some("http://localhost:3000/a b?c=d"));
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8787/user_management/sessions/logout?session_id=session_1&return_to=http%3A%2F%2Flocalhost%3A3000%2Fa+b%3Fc%3Dd"
        );
        let url = logout_url(&base(), "session_1", None);
        assert_eq!(url.query(), Some("session_id=session_1"));
    }

    #[test]
    fn a_base_path_prefix_is_kept() {
        let base = Url::parse("https://proxy.example.com/workos/").unwrap();
        assert_eq!(
            endpoint_url(&base, "/sso/jwks/c").as_str(),
            "https://proxy.example.com/workos/sso/jwks/c"
        );
    }

    #[test]
    fn ids_stay_inside_their_segment() {
        assert_eq!(path_segment("user id", "user_01:x").unwrap(), "user_01:x");
        assert_eq!(
            path_segment("user id", "a/../b?c#d").unwrap(),
            "a%2F..%2Fb%3Fc%23d"
        );
        for bad in ["", ".", ".."] {
            assert!(matches!(
                path_segment("user id", bad),
                Err(WorkOsError::InvalidArgument {
                    what: "user id",
                    ..
                })
            ));
        }
    }
}
