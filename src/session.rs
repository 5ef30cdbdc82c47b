//! The signed-in session and the cookies that carry it, as authkit-nextjs writes them.
//!
//! - [`Session`] is what the `wos-session` cookie seals (its docs give the shape and the
//!   cookie's attributes).
//! - [`session_set_cookie`] / [`session_delete_cookie`] build the `Set-Cookie` values:
//!   `name=value; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000[; Domain=d][; Secure]`.
//! - [`flow_cookie_name`], [`flow_set_cookie`] and [`pkce_delete_cookie`] do the same for the
//!   short-lived `wos-auth-verifier-<hash>` cookie of the sign-in flow ([`pkce_cookie_name`]
//!   and [`pkce_set_cookie`]: the name under the default base, and the cookie as
//!   authkit-nextjs writes it).
//! - [`SessionCookies`] and [`find_cookie`] read them back from a request's `Cookie`
//!   headers.
//!
//! # Security
//!
//! The cookies are `HttpOnly` (scripts cannot read the tokens) and `SameSite=Lax` by
//! default. `Secure` is added when the app is served over https, and always with
//! `SameSite=None`; when the URL is unknown or unparseable the cookie is marked `Secure`,
//! failing closed. Tokens and sealed values never appear in `Debug` output.
//!
//! A request's `Cookie` header says nothing of who set each cookie: one set for the parent
//! domain by a sibling subdomain arrives beside the host's own under the same name
//! (RFC 6265 §5.4). [`SessionCookies`] therefore keeps every value it is sent — each plain
//! value, the parts joined, and [`alternative_joins`] of parts sent twice — and leaves the
//! choice to the layer, which refuses to pick between two sessions (see the layer's threat
//! model). With the `__Host-` prefix on [`CookieConfig::name`] and
//! [`CookieConfig::flow_name`], no other host can set these cookies at all. With a cookie
//! domain configured, [`SessionCookies::host_only_deletions`] deletes what was written
//! before it.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{CookieConfig, PasswordMap, SameSite};
use crate::seal::{self, SealError};
use crate::user::{Impersonator, User};

/// The PKCE/state cookie's name prefix (also the legacy name without a hash).
pub(crate) const PKCE_COOKIE_PREFIX: &str = "wos-auth-verifier";
/// The PKCE/state cookie's lifetime in seconds (the sealed state's ttl, 10 minutes).
pub(crate) const PKCE_COOKIE_MAX_AGE: u64 = 600;
/// The ttl to seal the sign-in state with (matches the PKCE cookie's lifetime).
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub const PKCE_STATE_TTL: Duration = Duration::from_secs(PKCE_COOKIE_MAX_AGE);

const EXPIRED: &str = "Expires=Thu, 01 Jan 1970 00:00:00 GMT";

/// A signed-in session: the tokens from WorkOS and who they belong to.
///
/// It is what the `wos-session` cookie seals: exactly
/// `{accessToken, refreshToken, user, impersonator?, authenticationMethod?}`, in that key
/// order (camelCase, `None` fields omitted), exactly as authkit-nextjs seals it, so cookies
/// are interchangeable with a Next.js app sharing the password. It is a whitelist: extra
/// fields found in a cookie (`organizationId`, `oauthTokens`, … written by other SDKs) are
/// dropped on read, which keeps re-sealed cookies under the browser's 4096-byte limit.
///
/// The cookie is written as
/// `wos-session=<seal>; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000[; Domain=d][; Secure]`
/// (name, lifetime, domain and `SameSite` from [`CookieConfig`]): `HttpOnly`, so scripts
/// cannot read the tokens; `Secure` when the app is served over https, always with
/// `SameSite=None`, and when the URL is unknown or unparseable (failing closed). A session
/// over 4096 bytes is split into `wos-session.0`, `wos-session.1`, …. Tokens never appear
/// in `Debug` output.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The WorkOS access token (a JWT).
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// The signed-in user.
    pub user: User,
    /// Present when an admin is impersonating the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonator: Option<Impersonator>,
    /// How the user signed in (`Password`, `GoogleOAuth`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_method: Option<String>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("user", &self.user)
            .field("impersonator", &self.impersonator)
            .field("authentication_method", &self.authentication_method)
            .finish()
    }
}

impl Session {
    /// Seals the session for the cookie (no expiry inside the seal, as authkit-nextjs:
    /// the cookie's `Max-Age` and the tokens' own lifetimes bound it).
    pub fn seal(&self, passwords: &PasswordMap) -> Result<String, SealError> {
        seal::seal(self, passwords, None)
    }

    /// Reads a sealed session cookie value.
    pub fn unseal(sealed: &str, passwords: &PasswordMap) -> Result<Self, SealError> {
        seal::unseal(sealed, passwords)
    }
}

/// Whether cookies get `Secure`: always with `SameSite=None`; otherwise when `url` (the
/// request URL, or the redirect URI) is https. A missing or unparseable URL counts as
/// https, so the cookie is never sent in clear by mistake.
pub(crate) fn is_secure(same_site: SameSite, url: Option<&str>) -> bool {
    if same_site == SameSite::None {
        return true;
    }
    match url.map(Url::parse) {
        Some(Ok(url)) => url.scheme() == "https",
        _ => true,
    }
}

/// The `Set-Cookie` value that stores a sealed session:
/// `name=value; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000[; Domain=d][; Secure]`.
///
/// `url` decides `Secure`: added when `url` is https, always with `SameSite=None`, and
/// when `url` is absent or does not parse (failing closed). The value is written as
/// `encodeURIComponent` would; a seal's characters are all kept as they are.
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use authkit_leptos::testing::session_set_cookie;
/// use authkit_leptos::CookieConfig;
/// let cookie = CookieConfig::default();
/// let c = session_set_cookie(&cookie, "Fe26.2*1*ab~2", Some("http://localhost:3000/"));
/// assert_eq!(c, "wos-session=Fe26.2*1*ab~2; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000");
/// let c = session_set_cookie(&cookie, "Fe26.2*1*ab~2", Some("https://app.example.com/"));
/// assert!(c.ends_with("; Max-Age=34560000; Secure"));
/// # }
/// ```
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub fn session_set_cookie(config: &CookieConfig, value: &str, url: Option<&str>) -> String {
    let secure = is_secure(config.same_site, url);
    set_cookie(
        &config.name,
        value,
        config.same_site,
        config.max_age,
        config.domain.as_deref(),
        secure,
    )
}

/// The most bytes of `name=value` a browser keeps in one cookie (RFC 6265 §6.1 asks for at
/// least 4096; Chromium and Firefox stop there). A larger `Set-Cookie` is dropped silently.
pub(crate) const MAX_COOKIE_BYTES: usize = 4096;

/// The value bytes of each part when a session is split.
const PART_VALUE_BYTES: usize = 3800;

/// Parts read or deleted at most (a request naming more is not a session of ours).
const MAX_PARTS: usize = 32;

/// The name of part `index` of a split session cookie: `wos-session.0`, `wos-session.1`, …
pub(crate) fn session_part_name(name: &str, index: usize) -> String {
    format!("{name}.{index}")
}

/// The `Set-Cookie` values that store a sealed session: one cookie, byte-identical to
/// [`session_set_cookie`] (and to authkit-nextjs), when `name=value` fits in
/// [`MAX_COOKIE_BYTES`]; else the value split into parts `name.0`, `name.1`, … of at most
/// 3800 bytes each, with the same attributes, which [`SessionCookies`] joins again. (A
/// single 15 KB cookie is dropped by browsers: the user would never be signed in —
/// authkit-nextjs#404.)
pub(crate) fn session_set_cookies(
    config: &CookieConfig,
    value: &str,
    url: Option<&str>,
) -> Vec<String> {
    if config.name.len() + 1 + value.len() <= MAX_COOKIE_BYTES {
        return vec![session_set_cookie(config, value, url)];
    }
    let secure = is_secure(config.same_site, url);
    // Seals are ASCII, so byte chunks are character chunks.
    value
        .as_bytes()
        .chunks(PART_VALUE_BYTES)
        .enumerate()
        .map(|(i, part)| {
            set_cookie(
                &session_part_name(&config.name, i),
                std::str::from_utf8(part).unwrap_or_default(),
                config.same_site,
                config.max_age,
                config.domain.as_deref(),
                secure,
            )
        })
        .collect()
}

/// The session cookies a request carries: every value of the plain cookie (browsers may
/// send two: one host-only and one for a parent domain) and the parts of a split
/// session. `Debug` shows their sizes, never the sealed values.
#[derive(Clone, Default, PartialEq, Eq)]
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub struct SessionCookies {
    /// Values of the plain `name` cookie, in the order the browser sent them: after a
    /// cookie `Domain` is configured (or when a sibling app sets one) browsers send both
    /// the host-only and the domain cookie under one name (RFC 6265 §5.4 orders them by
    /// path length, then age, so neither is reliably first).
    pub plain: Vec<String>,
    /// Part indices present (`name.<i>`), ascending, at most 32.
    pub part_indices: Vec<usize>,
    /// The parts `name.0`, `name.1`, … joined, when part 0 and every part up to the last
    /// consecutive one are present.
    pub joined: Option<String>,
}

impl fmt::Debug for SessionCookies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCookies")
            .field(
                "plain_lengths",
                &self.plain.iter().map(String::len).collect::<Vec<_>>(),
            )
            .field("part_indices", &self.part_indices)
            .field("joined_length", &self.joined.as_ref().map(String::len))
            .finish()
    }
}

#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
impl SessionCookies {
    /// Reads them from a request's `Cookie` headers, in one pass over each header.
    pub fn from_headers(headers: &http::HeaderMap, name: &str) -> Self {
        let mut plain = Vec::new();
        // Allocated only when a part is present (the request path of an ordinary session
        // pays for nothing here).
        let mut parts: Vec<Option<String>> = Vec::new();
        for header in headers.get_all(http::header::COOKIE) {
            let text = cookie_header_text(header.as_bytes());
            for (key, value) in cookie_pairs(&text) {
                if key == name {
                    plain.push(cookie_value(value).into_owned());
                    continue;
                }
                let Some(index) = part_index(key, name) else {
                    continue;
                };
                if parts.is_empty() {
                    parts.resize(MAX_PARTS, None);
                }
                if parts[index].is_none() {
                    parts[index] = Some(cookie_value(value).into_owned());
                }
            }
        }
        let part_indices: Vec<usize> = (0..parts.len()).filter(|i| parts[*i].is_some()).collect();
        let joined = parts
            .first()
            .and_then(Option::as_ref)
            .map(|_| parts.iter().map_while(|p| p.as_deref()).collect::<String>());
        Self {
            plain,
            part_indices,
            joined,
        }
    }

    /// The values worth trying, in order: each plain cookie, then the joined parts.
    pub fn candidates(&self) -> impl Iterator<Item = &str> {
        self.plain
            .iter()
            .map(String::as_str)
            .chain(self.joined.as_deref())
            .filter(|v| !v.is_empty())
    }

    /// Whether the request carried any session cookie (plain or part).
    pub fn any(&self) -> bool {
        !self.plain.is_empty() || !self.part_indices.is_empty()
    }

    /// Deletions for what the browser holds and a new write of `written` `Set-Cookie`
    /// values (the session's, split in parts when it is over 4096 bytes; empty when the
    /// session is being deleted)
    /// does not overwrite: the plain cookie when parts are written, parts beyond the new
    /// ones, every part when a single cookie is written.
    pub fn stale_deletions(
        &self,
        config: &CookieConfig,
        url: Option<&str>,
        written: &[String],
    ) -> Vec<String> {
        let secure = is_secure(config.same_site, url);
        let domain = config.domain.as_deref();
        let split = written.len() > 1
            || written.first().is_some_and(|c| {
                c.starts_with(&format!("{}=", session_part_name(&config.name, 0)))
            });
        let mut out = Vec::new();
        if split && !self.plain.is_empty() {
            out.push(delete_cookie(
                &config.name,
                config.same_site,
                domain,
                secure,
            ));
        }
        let kept_parts = if split { written.len() } else { 0 };
        for &i in &self.part_indices {
            if i >= kept_parts {
                out.push(delete_cookie(
                    &session_part_name(&config.name, i),
                    config.same_site,
                    domain,
                    secure,
                ));
            }
        }
        out
    }

    /// With a cookie `Domain` configured: deletions of the host-only session cookie and of
    /// the host-only twin of every part the request carried. A cookie set before the domain
    /// was configured is a different cookie to the browser (RFC 6265 §5.3 step 6); left
    /// alone it would sit beside (and may be sent before) the domain cookie written now.
    /// Empty without a configured domain.
    pub(crate) fn host_only_deletions(
        &self,
        config: &CookieConfig,
        url: Option<&str>,
    ) -> Vec<String> {
        if config.domain.as_deref().is_none_or(str::is_empty) {
            return Vec::new();
        }
        let secure = is_secure(config.same_site, url);
        std::iter::once(config.name.clone())
            .chain(
                self.part_indices
                    .iter()
                    .map(|&i| session_part_name(&config.name, i)),
            )
            .map(|name| delete_cookie(&name, config.same_site, None, secure))
            .collect()
    }
}

/// How many joins of a split session's parts [`alternative_joins`] gives at most.
const MAX_ALTERNATIVE_JOINS: usize = 16;
/// How many values of one part [`alternative_joins`] considers at most.
const MAX_VALUES_PER_PART: usize = 4;

/// Other ways to join a split session's parts than [`SessionCookies::joined`] (the first
/// value of each part, all consecutive parts): for when that does not unseal because
/// someone else's cookies sit beside the user's (cookie tossing: a junk part after the
/// last one, or a second value for a part, which the browser may send first). Each
/// combination of the values of parts `0..n` (the first values first), and each of its
/// prefixes (longest first), at most [`MAX_ALTERNATIVE_JOINS`], the primary join left out.
pub(crate) fn alternative_joins(headers: &http::HeaderMap, name: &str) -> Vec<String> {
    let mut values: Vec<Vec<String>> = Vec::new();
    for header in headers.get_all(http::header::COOKIE) {
        let text = cookie_header_text(header.as_bytes());
        for (key, value) in cookie_pairs(&text) {
            let Some(index) = part_index(key, name) else {
                continue;
            };
            if values.len() <= index {
                values.resize(index + 1, Vec::new());
            }
            let value = cookie_value(value).into_owned();
            let slot = &mut values[index];
            if slot.len() < MAX_VALUES_PER_PART && !slot.contains(&value) && !value.is_empty() {
                slot.push(value);
            }
        }
    }
    let parts: Vec<&Vec<String>> = values.iter().take_while(|v| !v.is_empty()).collect();
    let mut out: Vec<String> = Vec::new();
    // Odometer over the choices of each part, first values first.
    let mut choice = vec![0usize; parts.len()];
    'combinations: loop {
        for len in (1..=parts.len()).rev() {
            let joined: String = (0..len).map(|i| parts[i][choice[i]].as_str()).collect();
            let primary = len == parts.len() && choice.iter().all(|&c| c == 0);
            if !primary && !out.contains(&joined) {
                out.push(joined);
                if out.len() >= MAX_ALTERNATIVE_JOINS {
                    break 'combinations;
                }
            }
        }
        let mut i = parts.len();
        loop {
            if i == 0 {
                break 'combinations;
            }
            i -= 1;
            choice[i] += 1;
            if choice[i] < parts[i].len() {
                break;
            }
            choice[i] = 0;
        }
    }
    out
}

/// The part index of cookie `key` for session cookie `name`: `name.0` … `name.31`, as
/// [`session_part_name`] writes them (no leading zero).
fn part_index(key: &str, name: &str) -> Option<usize> {
    key.strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('.'))
        .filter(|i| {
            matches!(i.len(), 1 | 2)
                && i.bytes().all(|b| b.is_ascii_digit())
                && (i.len() == 1 || !i.starts_with('0'))
        })
        .and_then(|i| i.parse::<usize>().ok())
        .filter(|i| *i < MAX_PARTS)
}

/// The `Set-Cookie` value that deletes the session cookie (same Path, Domain, SameSite
/// and Secure as when it was set, so the browser matches it).
pub(crate) fn session_delete_cookie(config: &CookieConfig, url: Option<&str>) -> String {
    let secure = is_secure(config.same_site, url);
    delete_cookie(
        &config.name,
        config.same_site,
        config.domain.as_deref(),
        secure,
    )
}

/// The PKCE cookie's name for a sealed state under the default base name:
/// `wos-auth-verifier-` followed by the FNV-1a-32 hash of the state's UTF-8 bytes as 8
/// lowercase hex digits (authkit-nextjs's), so concurrent sign-ins in several tabs do not
/// overwrite each other. [`flow_cookie_name`] gives it under the configured base name.
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub fn pkce_cookie_name(sealed_state: &str) -> String {
    format!(
        "{PKCE_COOKIE_PREFIX}-{:08x}",
        fnv1a32(sealed_state.as_bytes())
    )
}

/// The flow cookie's name for a sealed state: [`CookieConfig::flow_name`] (default
/// `wos-auth-verifier`, or e.g. `__Host-wos-auth-verifier`), `-`, and the state's FNV-1a-32
/// hash as in [`pkce_cookie_name`].
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub fn flow_cookie_name(config: &CookieConfig, sealed_state: &str) -> String {
    format!(
        "{}-{:08x}",
        config.flow_name,
        fnv1a32(sealed_state.as_bytes())
    )
}

/// The `Set-Cookie` value of a flow cookie as authkit-nextjs writes it, holding the sealed
/// state itself (this crate's own flows hold a random secret bound into the state instead,
/// with the same name and attributes): named by [`flow_cookie_name`], the session cookie's attributes
/// with `Max-Age=600`, and `SameSite=Strict` relaxed to `Lax` (the callback is a
/// cross-site navigation from WorkOS; `None` stays `None`).
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub fn pkce_set_cookie(config: &CookieConfig, sealed_state: &str, url: Option<&str>) -> String {
    flow_set_cookie(config, sealed_state, sealed_state, url)
}

/// The `Set-Cookie` value of the flow cookie of `sealed_state` holding `value`, with the
/// attributes of [`pkce_set_cookie`].
pub(crate) fn flow_set_cookie(
    config: &CookieConfig,
    sealed_state: &str,
    value: &str,
    url: Option<&str>,
) -> String {
    let same_site = pkce_same_site(config.same_site);
    let secure = is_secure(same_site, url);
    set_cookie(
        &flow_cookie_name(config, sealed_state),
        value,
        same_site,
        PKCE_COOKIE_MAX_AGE,
        config.domain.as_deref(),
        secure,
    )
}

/// The `Set-Cookie` value of a flow cookie with its own `name` (the flow cookies'
/// attributes: `HttpOnly`, `SameSite` Lax unless None, ten minutes), e.g. the cookie that
/// holds a pending organization choice.
pub(crate) fn named_flow_set_cookie(
    config: &CookieConfig,
    name: &str,
    value: &str,
    url: Option<&str>,
) -> String {
    let same_site = pkce_same_site(config.same_site);
    let secure = is_secure(same_site, url);
    set_cookie(
        name,
        value,
        same_site,
        PKCE_COOKIE_MAX_AGE,
        config.domain.as_deref(),
        secure,
    )
}

/// The `Set-Cookie` value that deletes the PKCE cookie called `name` (from
/// [`flow_cookie_name`], or the legacy unsuffixed base name).
pub(crate) fn pkce_delete_cookie(config: &CookieConfig, name: &str, url: Option<&str>) -> String {
    let same_site = pkce_same_site(config.same_site);
    let secure = is_secure(same_site, url);
    delete_cookie(name, same_site, config.domain.as_deref(), secure)
}

fn pkce_same_site(same_site: SameSite) -> SameSite {
    match same_site {
        SameSite::Strict => SameSite::Lax,
        other => other,
    }
}

fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash: u32, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

fn set_cookie(
    name: &str,
    value: &str,
    same_site: SameSite,
    max_age: u64,
    domain: Option<&str>,
    secure: bool,
) -> String {
    let mut out = String::with_capacity(name.len() + value.len() + 96);
    out.push_str(name);
    out.push('=');
    push_cookie_value(&mut out, value);
    out.push_str("; Path=/; HttpOnly; SameSite=");
    out.push_str(same_site.as_str());
    // Writing to a String cannot fail.
    let _ = write!(out, "; Max-Age={max_age}");
    push_domain_secure(&mut out, domain, secure);
    out
}

fn delete_cookie(name: &str, same_site: SameSite, domain: Option<&str>, secure: bool) -> String {
    let mut out = String::with_capacity(name.len() + 120);
    out.push_str(name);
    out.push_str("=; ");
    out.push_str(EXPIRED);
    out.push_str("; Path=/; HttpOnly; SameSite=");
    out.push_str(same_site.as_str());
    out.push_str("; Max-Age=0");
    push_domain_secure(&mut out, domain, secure);
    out
}

fn push_domain_secure(out: &mut String, domain: Option<&str>, secure: bool) {
    if let Some(domain) = domain.filter(|d| !d.is_empty()) {
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    if secure {
        out.push_str("; Secure");
    }
}

/// Writes `value` as `encodeURIComponent` would. Seals only contain characters it keeps
/// (letters, digits, `-_.*~`), so they are written unchanged; anything else is escaped
/// rather than allowed to inject attributes.
fn push_cookie_value(out: &mut String, value: &str) {
    crate::encoding::push_uri_component(out, value);
}

/// The value of the cookie called `name` in a `Cookie` request header, parsed as the
/// `cookie` npm package does: pairs split on `;`, spaces and tabs trimmed, surrounding
/// double quotes removed, `%XX` escapes decoded when valid, and the first of duplicate
/// names wins. Pairs without `=` are skipped.
pub(crate) fn find_cookie<'a>(header: &'a str, name: &str) -> Option<Cow<'a, str>> {
    cookie_pairs(header).find_map(|(key, value)| (key == name).then(|| cookie_value(value)))
}

/// The `name=value` pairs of a `Cookie` header, in order, the name trimmed of spaces and
/// tabs (RFC 6265 §5.4 `cookie-string`, read leniently: a pair without `=` is skipped).
/// Splits with `memchr`: a split session's header is 10 KiB and more, read on every
/// request.
fn cookie_pairs(header: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut start = 0;
    memchr::memchr_iter(b';', header.as_bytes())
        .chain(std::iter::once(header.len()))
        .filter_map(move |end| {
            // `;` is ASCII: both ends are character boundaries.
            let pair = &header[start..end];
            start = end + 1;
            let (key, value) = pair.split_once('=')?;
            Some((trim_ows(key), value))
        })
}

/// A cookie's value as sent: trimmed of spaces and tabs, a pair of surrounding double
/// quotes removed, then percent-decoded ([`percent_decode`]).
fn cookie_value(value: &str) -> Cow<'_, str> {
    let value = trim_ows(value);
    let value = match value.strip_prefix('"') {
        Some(rest) => rest
            .strip_suffix('"')
            .unwrap_or(if rest.is_empty() { rest } else { value }),
        None => value,
    };
    percent_decode(value)
}

/// A `Cookie` header's text, read as bytes: the whole header when it is UTF-8, else every
/// `;`-separated pair that is (the crate's own cookies are ASCII). A foreign cookie with
/// other bytes (Latin-1 from an old app on the parent domain) drops only itself, never the
/// session cookie beside it. (`HeaderValue::to_str` refuses any byte above 0x7E, so a
/// single `theme=café` would otherwise hide the whole header.)
pub(crate) fn cookie_header_text(value: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(value) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(
            value
                .split(|&b| b == b';')
                .filter_map(|pair| std::str::from_utf8(pair).ok())
                .collect::<Vec<_>>()
                .join(";"),
        ),
    }
}

/// [`find_cookie`] over every `Cookie` header of a request (HTTP/2 may split them), each
/// read as bytes ([`cookie_header_text`]).
pub(crate) fn find_cookie_in_headers<'a>(
    headers: &'a http::HeaderMap,
    name: &str,
) -> Option<Cow<'a, str>> {
    headers.get_all(http::header::COOKIE).iter().find_map(|v| {
        match cookie_header_text(v.as_bytes()) {
            Cow::Borrowed(text) => find_cookie(text, name),
            Cow::Owned(text) => find_cookie(&text, name).map(|c| Cow::Owned(c.into_owned())),
        }
    })
}

/// Reads the session from a `Cookie` header: `Ok(None)` when there is no (or an empty)
/// session cookie, an error when there is one that does not unseal to a session (treat
/// the visitor as signed out and delete it with [`session_delete_cookie`]). The layer
/// reads every session cookie of a request with [`SessionCookies`]; this is for tests.
#[cfg(test)]
fn load(
    cookie_header: &str,
    cookie: &CookieConfig,
    passwords: &PasswordMap,
) -> Result<Option<Session>, SealError> {
    match find_cookie(cookie_header, &cookie.name) {
        Some(value) if !value.is_empty() => Session::unseal(&value, passwords).map(Some),
        _ => Ok(None),
    }
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// `decodeURIComponent`, or the input unchanged when it is not a valid escape sequence
/// of UTF-8 (as the `cookie` package's `tryDecode`).
fn percent_decode(s: &str) -> Cow<'_, str> {
    if memchr::memchr(b'%', s.as_bytes()).is_none() {
        return Cow::Borrowed(s);
    }
    crate::encoding::decode_uri_component(s).unwrap_or(Cow::Borrowed(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuthKitConfig;
    use std::collections::BTreeMap;

    const PW: &str = "0123456789abcdef0123456789abcdef";

    fn user() -> User {
        User {
            object: "user".into(),
            id: "user_01".into(),
            email: "ada@example.com".into(),
            email_verified: true,
            first_name: Some("Ada".into()),
            profile_picture_url: None,
            last_name: Some("Lovelace".into()),
            last_sign_in_at: None,
            locale: None,
            created_at: "2025-01-01T00:00:00.000Z".into(),
            updated_at: "2025-01-01T00:00:00.000Z".into(),
            external_id: None,
            metadata: BTreeMap::new(),
            name: None,
        }
    }

    fn session() -> Session {
        Session {
            access_token: "eyJ.access.token".into(),
            refresh_token: "refresh_secret".into(),
            user: user(),
            impersonator: None,
            authentication_method: None,
        }
    }

    fn config() -> CookieConfig {
        CookieConfig::default()
    }

    const HTTP: Option<&str> = Some("http://localhost:3000/callback");
    const HTTPS: Option<&str> = Some("https://app.example.com/callback");

    #[test]
    fn session_serializes_in_nextjs_key_order_and_omits_none() {
        let json = serde_json::to_string(&session()).unwrap();
        assert!(
            json.starts_with(
                r#"{"accessToken":"eyJ.access.token","refreshToken":"refresh_secret","user":{"#
            ),
            "{json}"
        );
        assert!(
            !json.contains("impersonator") && !json.contains("authenticationMethod"),
            "{json}"
        );
        let mut s = session();
        s.impersonator = Some(Impersonator {
            email: "admin@example.com".into(),
            reason: Some("support".into()),
        });
        s.authentication_method = Some("Password".into());
        let json = serde_json::to_string(&s).unwrap();
        let keys: Vec<String> =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&json)
                .unwrap()
                .keys()
                .cloned()
                .collect();
        // serde_json's Map sorts keys; check positions in the text instead.
        let pos = |k: &str| json.find(&format!("\"{k}\":")).unwrap();
        assert!(pos("accessToken") < pos("refreshToken"));
        assert!(pos("refreshToken") < pos("user"));
        assert!(pos("user") < pos("impersonator"));
        assert!(pos("impersonator") < pos("authenticationMethod"));
        assert_eq!(keys.len(), 5);
        assert!(json.ends_with(r#""impersonator":{"email":"admin@example.com","reason":"support"},"authenticationMethod":"Password"}"#), "{json}");
    }

    #[test]
    fn extra_fields_in_a_cookie_are_dropped() {
        let mut v = serde_json::to_value(session()).unwrap();
        v["organizationId"] = "org_1".into();
        v["oauthTokens"] = serde_json::json!({"accessToken": "x"});
        let s: Session = serde_json::from_value(v).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("organizationId") && !json.contains("oauthTokens"));
    }

    #[test]
    fn debug_redacts_tokens() {
        let dbg = format!("{:?}", session());
        assert!(
            !dbg.contains("eyJ.access.token") && !dbg.contains("refresh_secret"),
            "{dbg}"
        );
        assert!(dbg.contains("ada@example.com"));
    }

    #[test]
    fn set_cookie_defaults() {
        assert_eq!(
            session_set_cookie(&config(), "v", HTTP),
            "wos-session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000"
        );
        assert_eq!(
            session_set_cookie(&config(), "v", HTTPS),
            "wos-session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000; Secure"
        );
    }

    #[test]
    fn set_cookie_custom_name_max_age_domain() {
        let c = CookieConfig {
            name: "my-session".into(),
            max_age: 3600,
            domain: Some("example.com".into()),
            same_site: SameSite::Lax,
            ..CookieConfig::default()
        };
        assert_eq!(
            session_set_cookie(&c, "v", HTTPS),
            "my-session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600; Domain=example.com; Secure"
        );
        assert_eq!(
            session_set_cookie(&c, "v", HTTP),
            "my-session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600; Domain=example.com"
        );
    }

    #[test]
    fn same_site_strict_and_none() {
        let strict = CookieConfig {
            same_site: SameSite::Strict,
            ..config()
        };
        assert_eq!(
            session_set_cookie(&strict, "v", HTTP),
            "wos-session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=34560000"
        );
        let none = CookieConfig {
            same_site: SameSite::None,
            ..config()
        };
        assert_eq!(
            session_set_cookie(&none, "v", HTTP),
            "wos-session=v; Path=/; HttpOnly; SameSite=None; Max-Age=34560000; Secure"
        );
    }

    #[test]
    fn missing_or_unparseable_url_is_secure() {
        for url in [None, Some("not a url"), Some("/relative/path"), Some("")] {
            assert!(is_secure(SameSite::Lax, url), "{url:?}");
            assert!(
                session_set_cookie(&config(), "v", url).ends_with("; Secure"),
                "{url:?}"
            );
        }
        assert!(!is_secure(SameSite::Lax, Some("http://127.0.0.1:3000/")));
        assert!(!is_secure(SameSite::Strict, Some("HTTP://Example.com/")));
        assert!(is_secure(SameSite::Lax, Some("HTTPS://Example.com/")));
        assert!(is_secure(SameSite::None, Some("http://localhost/")));
    }

    #[test]
    fn delete_cookie_strings() {
        assert_eq!(
            session_delete_cookie(&config(), HTTP),
            "wos-session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
        let c = CookieConfig {
            domain: Some("example.com".into()),
            same_site: SameSite::None,
            ..config()
        };
        assert_eq!(
            session_delete_cookie(&c, HTTP),
            "wos-session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=None; Max-Age=0; Domain=example.com; Secure"
        );
    }

    #[test]
    fn cookie_values_cannot_inject_attributes() {
        let c = session_set_cookie(&config(), "a; Domain=evil.com", HTTP);
        assert!(
            c.starts_with("wos-session=a%3B%20Domain%3Devil.com; Path=/"),
            "{c}"
        );
        // Seal characters pass through unchanged.
        let seal_like = "Fe26.2*1*abc*A-_b*c*123*def*GhI~2";
        assert!(session_set_cookie(&config(), seal_like, HTTP)
            .starts_with(&format!("wos-session={seal_like};")));
    }

    #[test]
    fn fnv1a_vectors_and_pkce_name() {
        assert_eq!(format!("{:08x}", fnv1a32(b"")), "811c9dc5");
        assert_eq!(format!("{:08x}", fnv1a32(b"a")), "e40c292c");
        assert_eq!(format!("{:08x}", fnv1a32(b"foobar")), "bf9cf968");
        assert_eq!(pkce_cookie_name("foobar"), "wos-auth-verifier-bf9cf968");
        assert_eq!(pkce_cookie_name(""), "wos-auth-verifier-811c9dc5");
    }

    #[test]
    fn pkce_cookie_attributes() {
        assert_eq!(
            pkce_set_cookie(&config(), "foobar", HTTP),
            "wos-auth-verifier-bf9cf968=foobar; Path=/; HttpOnly; SameSite=Lax; Max-Age=600"
        );
        let strict = CookieConfig {
            same_site: SameSite::Strict,
            max_age: 5,
            domain: Some("example.com".into()),
            ..config()
        };
        assert_eq!(
            pkce_set_cookie(&strict, "foobar", HTTPS),
            "wos-auth-verifier-bf9cf968=foobar; Path=/; HttpOnly; SameSite=Lax; Max-Age=600; Domain=example.com; Secure"
        );
        let none = CookieConfig {
            same_site: SameSite::None,
            ..config()
        };
        assert_eq!(
            pkce_set_cookie(&none, "foobar", HTTP),
            "wos-auth-verifier-bf9cf968=foobar; Path=/; HttpOnly; SameSite=None; Max-Age=600; Secure"
        );
        assert_eq!(
            pkce_delete_cookie(&strict, "wos-auth-verifier-bf9cf968", HTTP),
            "wos-auth-verifier-bf9cf968=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Domain=example.com"
        );
        assert_eq!(
            pkce_delete_cookie(&config(), PKCE_COOKIE_PREFIX, None),
            "wos-auth-verifier=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
        );
    }

    #[test]
    fn find_cookie_parses_like_the_cookie_package() {
        let h = "a=1; wos-session=first;wos-session=second";
        assert_eq!(find_cookie(h, "wos-session").as_deref(), Some("first"));
        assert_eq!(
            find_cookie("  wos-session \t=  spaced  ; b=2", "wos-session").as_deref(),
            Some("spaced")
        );
        assert_eq!(
            find_cookie("wos-session=\"quoted\"", "wos-session").as_deref(),
            Some("quoted")
        );
        assert_eq!(
            find_cookie("wos-session=\"", "wos-session").as_deref(),
            Some("")
        );
        assert_eq!(
            find_cookie("wos-session=\"half", "wos-session").as_deref(),
            Some("\"half")
        );
        assert_eq!(
            find_cookie("wos-session=a%20b", "wos-session").as_deref(),
            Some("a b")
        );
        assert_eq!(
            find_cookie("wos-session=%E2%9C%93", "wos-session").as_deref(),
            Some("✓")
        );
        assert_eq!(
            find_cookie("wos-session=100%", "wos-session").as_deref(),
            Some("100%")
        );
        assert_eq!(
            find_cookie("wos-session=%FF", "wos-session").as_deref(),
            Some("%FF")
        );
        assert_eq!(
            find_cookie("wos-session=a=b", "wos-session").as_deref(),
            Some("a=b")
        );
        assert_eq!(
            find_cookie("junk; wos-session=v", "wos-session").as_deref(),
            Some("v")
        );
        assert_eq!(find_cookie("Wos-Session=v", "wos-session"), None);
        assert_eq!(find_cookie("wos-session-x=v", "wos-session"), None);
        for garbage in [
            "",
            ";;;",
            "=",
            "==;=",
            "wos-session",
            "é=🎉; ü",
            "\u{0}=\u{0}",
        ] {
            assert_eq!(find_cookie(garbage, "wos-session"), None, "{garbage:?}");
        }
        assert_eq!(
            find_cookie("wos-session=", "wos-session").as_deref(),
            Some("")
        );
    }

    #[test]
    fn find_cookie_in_split_headers() {
        let mut headers = http::HeaderMap::new();
        headers.append(http::header::COOKIE, http::HeaderValue::from_static("a=1"));
        headers.append(
            http::header::COOKIE,
            http::HeaderValue::from_bytes(b"\xff=\xff").unwrap(),
        );
        headers.append(
            http::header::COOKIE,
            http::HeaderValue::from_static("wos-session=v"),
        );
        assert_eq!(
            find_cookie_in_headers(&headers, "wos-session").as_deref(),
            Some("v")
        );
        assert_eq!(find_cookie_in_headers(&headers, "b"), None);
    }

    #[test]
    fn sessions_over_the_limit_are_split_and_joined_back() {
        let cfg = config();
        // Under the limit: one cookie, byte-identical to session_set_cookie.
        let small = "Fe26.2*1*".to_owned() + &"a".repeat(4096 - "wos-session=".len() - 9);
        assert_eq!(small.len() + "wos-session=".len(), 4096);
        assert_eq!(
            session_set_cookies(&cfg, &small, HTTP),
            vec![session_set_cookie(&cfg, &small, HTTP)]
        );
        // One byte more: parts of at most 3800 value bytes, same attributes.
        let big = small.clone() + "b";
        let parts = session_set_cookies(&cfg, &big, HTTP);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].starts_with("wos-session.0=Fe26.2*1*"));
        assert!(parts[1].starts_with("wos-session.1="));
        for p in &parts {
            assert!(p.split(';').next().unwrap().len() <= 4096);
            assert!(
                p.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000"),
                "{p}"
            );
        }
        // Read back, in any order the browser sends them.
        let pairs: Vec<&str> = parts.iter().map(|p| p.split(';').next().unwrap()).collect();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            http::HeaderValue::from_str(&format!("x=1; {}; {}", pairs[1], pairs[0])).unwrap(),
        );
        let read = SessionCookies::from_headers(&headers, "wos-session");
        assert_eq!(read.joined.as_deref(), Some(big.as_str()));
        assert_eq!(read.part_indices, [0, 1]);
        assert_eq!(read.candidates().collect::<Vec<_>>(), [big.as_str()]);
        // A missing part 0 joins nothing; a gap stops the join.
        headers.insert(
            http::header::COOKIE,
            http::HeaderValue::from_str(pairs[1]).unwrap(),
        );
        assert_eq!(
            SessionCookies::from_headers(&headers, "wos-session").joined,
            None
        );
    }

    #[test]
    fn stale_parts_and_plain_cookies_are_deleted_when_the_form_changes() {
        let cfg = config();
        let read = |header: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::header::COOKIE,
                http::HeaderValue::from_str(header).unwrap(),
            );
            SessionCookies::from_headers(&headers, "wos-session")
        };
        let deleted = |cookies: Vec<String>| -> Vec<String> {
            cookies
                .iter()
                .map(|c| c.split('=').next().unwrap().to_owned())
                .collect()
        };
        let plain = vec![session_set_cookie(&cfg, "v", HTTP)];
        let three = session_set_cookies(&cfg, &"x".repeat(9000), HTTP);
        assert_eq!(three.len(), 3);
        // Shrunk to one cookie: every part goes.
        let sent = read("wos-session.0=a; wos-session.1=b; wos-session.2=c");
        assert_eq!(
            deleted(sent.stale_deletions(&cfg, HTTP, &plain)),
            ["wos-session.0", "wos-session.1", "wos-session.2"]
        );
        // Grown into parts: the plain cookie goes, and parts beyond the new ones.
        let sent = read("wos-session=v; wos-session.5=z");
        assert_eq!(
            deleted(sent.stale_deletions(&cfg, HTTP, &three)),
            ["wos-session", "wos-session.5"]
        );
        // Same form: nothing.
        assert!(read("wos-session=v")
            .stale_deletions(&cfg, HTTP, &plain)
            .is_empty());
        // Deleted (nothing written): every part; the plain deletion is the caller's.
        let sent = read("wos-session=v; wos-session.0=a");
        assert_eq!(
            deleted(sent.stale_deletions(&cfg, HTTP, &[])),
            ["wos-session.0"]
        );
        // Hostile part names are ignored, and at most 32 are read.
        let many: Vec<String> = (0..100).map(|i| format!("wos-session.{i}=x")).collect();
        let sent = read(&(many.join("; ") + "; wos-session.-1=x; wos-session.00x=y"));
        assert_eq!(sent.part_indices.len(), 32);
    }

    #[test]
    fn foreign_cookies_with_other_bytes_never_hide_ours() {
        for header in [
            "theme=caf\u{e9}; wos-session=v".as_bytes().to_vec(),
            b"theme=caf\xe9; wos-session=v".to_vec(),
            b"wos-session=v; \xff\xfe=\x80".to_vec(),
            "\u{1F600}=\u{1F600}; wos-session=v; x=\u{e9}"
                .as_bytes()
                .to_vec(),
            b"a=\x00\x01; wos-session=v".to_vec(),
        ] {
            let mut headers = http::HeaderMap::new();
            if let Ok(value) = http::HeaderValue::from_bytes(&header) {
                headers.append(http::header::COOKIE, value);
                assert_eq!(
                    find_cookie_in_headers(&headers, "wos-session").as_deref(),
                    Some("v"),
                    "{header:?}"
                );
            }
        }
    }

    #[test]
    fn every_value_of_a_duplicated_name_in_order() {
        let mut headers = http::HeaderMap::new();
        headers.append(
            http::header::COOKIE,
            http::HeaderValue::from_static("wos-session=stale; a=1; wos-session=fresh"),
        );
        headers.append(
            http::header::COOKIE,
            http::HeaderValue::from_bytes(b"x=\xe9; wos-session=third").unwrap(),
        );
        headers.append(
            http::header::COOKIE,
            http::HeaderValue::from_static(
                "wos-session.1=b;wos-session.0=a; wos-session.0=late; wos-session.02=x",
            ),
        );
        let found = SessionCookies::from_headers(&headers, "wos-session");
        assert_eq!(found.plain, ["stale", "fresh", "third"]);
        assert_eq!(
            (found.part_indices, found.joined.as_deref()),
            (vec![0, 1], Some("ab")),
            "the first value of each part, joined in index order; `name.02` is not a part"
        );
    }

    #[test]
    fn load_reads_the_session_cookie() {
        let passwords = PasswordMap::single(PW);
        let sealed = session().seal(&passwords).unwrap();
        let header = format!("theme=dark; wos-session={sealed}; other=1");
        assert_eq!(
            load(&header, &config(), &passwords).unwrap(),
            Some(session())
        );
        assert_eq!(load("theme=dark", &config(), &passwords).unwrap(), None);
        assert_eq!(load("wos-session=", &config(), &passwords).unwrap(), None);
        assert!(load("wos-session=garbage", &config(), &passwords).is_err());
        let other = PasswordMap::single("another-password-that-is-long-enough!!");
        assert!(matches!(
            load(&header, &config(), &other),
            Err(SealError::BadMac)
        ));
        // A valid seal of something that is not a session is an error too.
        let not_session = seal::seal(&serde_json::json!({}), &passwords, None).unwrap();
        assert!(matches!(
            load(&format!("wos-session={not_session}"), &config(), &passwords),
            Err(SealError::Json { .. })
        ));
    }

    #[test]
    fn the_session_cookies_are_read_by_the_configured_name() {
        let cfg = AuthKitConfig::builder()
            .client_id("client_1")
            .api_key("sk_test")
            .redirect_uri("http://localhost:3000/callback")
            .cookie_password(PW)
            .cookie_name("custom")
            .build()
            .unwrap();
        let sealed = session().seal(cfg.passwords()).unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            format!("wos-session=x; custom={sealed}").parse().unwrap(),
        );
        let read: Vec<Session> = SessionCookies::from_headers(&headers, &cfg.cookie().name)
            .candidates()
            .map(|value| Session::unseal(value, cfg.passwords()).unwrap())
            .collect();
        assert_eq!(read, [session()]);
    }

    /// `find_cookie` as it was (std's `split`), for the property test.
    fn two_pass_find(header: &str, name: &str) -> Option<String> {
        header.split(';').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            if trim_ows(key) != name {
                return None;
            }
            let value = trim_ows(value);
            let value = match value.strip_prefix('"') {
                Some(rest) => {
                    rest.strip_suffix('"')
                        .unwrap_or(if rest.is_empty() { rest } else { value })
                }
                None => value,
            };
            Some(percent_decode(value).into_owned())
        })
    }

    /// The two-pass reader of the `Cookie` headers this module had before the one-pass
    /// `from_headers` (std's `split`, a part name formatted per part): the reference the
    /// property test below compares with.
    fn two_pass_reference(headers: &http::HeaderMap, name: &str) -> SessionCookies {
        let mut plain = Vec::new();
        let mut parts: Vec<Option<String>> = Vec::new();
        for header in headers.get_all(http::header::COOKIE) {
            let text = cookie_header_text(header.as_bytes());
            plain.extend(text.split(';').filter_map(|pair| two_pass_find(pair, name)));
            for pair in text.split(';') {
                let Some((key, _)) = pair.split_once('=') else {
                    continue;
                };
                let Some(index) = trim_ows(key)
                    .strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .filter(|i| {
                        !i.is_empty() && i.len() <= 2 && i.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|i| i.parse::<usize>().ok())
                    .filter(|i| *i < MAX_PARTS)
                else {
                    continue;
                };
                if parts.is_empty() {
                    parts.resize(MAX_PARTS, None);
                }
                if parts[index].is_none() {
                    parts[index] = two_pass_find(pair, &session_part_name(name, index));
                }
            }
        }
        let part_indices = (0..parts.len()).filter(|i| parts[*i].is_some()).collect();
        let joined = parts
            .first()
            .and_then(Option::as_ref)
            .map(|_| parts.iter().map_while(|p| p.as_deref()).collect::<String>());
        SessionCookies {
            plain,
            part_indices,
            joined,
        }
    }

    proptest::proptest! {
        #[test]
        fn the_one_pass_reader_reads_what_the_two_pass_one_did(
            headers in proptest::collection::vec(
                proptest::collection::vec(
                    (
                        proptest::sample::select(vec![
                            &b"wos-session"[..], b"wos-session.0", b"wos-session.1",
                            b"wos-session.01", b"wos-session.2", b"wos-session.31",
                            b"wos-session.32", b"wos-session.", b"wos-sessionX",
                            b" wos-session\t", b"\twos-session.1 ", b"a", b"",
                        ]),
                        proptest::sample::select(vec![&b"="[..], b" = ", b""]),
                        proptest::collection::vec(
                            proptest::sample::select(vec![
                                &b"Fe26.2*1*ab~2"[..], b"x", b"=", b" ", b"\t", b"\"",
                                b"%", b"%41", b"%zz", b"%C3%A9", "\u{e9}".as_bytes(),
                                b"\xe9", b"\xff",
                            ]),
                            0..4,
                        ),
                        proptest::sample::select(vec![&b";"[..], b"; ", b";;"]),
                    ),
                    0..8,
                ),
                1..4,
            )
        ) {
            let mut map = http::HeaderMap::new();
            for pairs in &headers {
                let mut bytes = Vec::new();
                for (key, eq, value, separator) in pairs {
                    bytes.extend_from_slice(key);
                    bytes.extend_from_slice(eq);
                    bytes.extend(value.concat());
                    bytes.extend_from_slice(separator);
                }
                if let Ok(value) = http::HeaderValue::from_bytes(&bytes) {
                    map.append(http::header::COOKIE, value);
                    let text = cookie_header_text(&bytes);
                    proptest::prop_assert_eq!(
                        find_cookie(&text, "wos-session").map(Cow::into_owned),
                        two_pass_find(&text, "wos-session")
                    );
                }
            }
            proptest::prop_assert_eq!(
                SessionCookies::from_headers(&map, "wos-session"),
                two_pass_reference(&map, "wos-session")
            );
        }
    }
}
