//! Preview deploys: a redirect URI that follows the request's own origin, for the origins
//! an allow-list names (`WORKOS_REDIRECT_ORIGINS`), and never for any other.
//!
//! **Threat model.** The request's host is whatever the client (or a proxy) wrote in `Host`
//! or `X-Forwarded-Host`: anyone can send any value. A redirect URI built from it decides
//! where WorkOS sends the user's authorization code and where a signed-out user lands, so a
//! host the app does not own must never get into one (the classic host-header injection).
//! Hence: only hosts that match an origin of the allow-list — exactly, or by one leading
//! `*.` label — produce a redirect URI of their own; every other value (unlisted, with a
//! port the entry does not name, upper case, a trailing dot, userinfo, control characters,
//! non-ASCII, several `Host` headers) falls back to the configured `WORKOS_REDIRECT_URI`.
//! The match is on the exact text browsers send (lower-case ASCII, punycode for IDNs, no
//! default port), with no normalization that could make two spellings meet.
//!
//! **Which header.** `Host` (or HTTP/2's `:authority`), unless the configuration says the
//! app runs behind a proxy that sets `X-Forwarded-Host`
//! ([`trust_forwarded_host`](crate::AuthKitConfigBuilder::trust_forwarded_host),
//! `WORKOS_TRUST_FORWARDED_HOST=true`): then its last value, the one the nearest proxy
//! wrote. Trust it only when every request reaches the app through that proxy, or a client
//! can pick any listed origin itself (still only a listed one).
//!
//! **The scheme** is the matching entry's: behind a TLS-terminating proxy the app sees
//! plain http, so the request cannot tell. List an origin under one scheme; when a host is
//! listed under both, the first entry wins.

use std::fmt;
use url::Url;

/// The characters a DNS label may hold as browsers send it in `Host`: lower-case ASCII
/// letters, digits and `-` (not first or last), 1 to 63 of them.
fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// One entry of the allow-list: `scheme://host[:port]`, where the host may start with
/// `*.` (exactly one label, of any value).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct OriginPattern {
    /// `http` or `https`.
    scheme: &'static str,
    /// Whether the first label is `*`.
    wildcard: bool,
    /// The host after `*.`, or the whole host.
    host: String,
    /// An explicit port other than the scheme's default.
    port: Option<u16>,
}

impl fmt::Debug for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

impl OriginPattern {
    /// Parses an entry: `https://app.example.com`, `https://*.preview.example.com`,
    /// `http://localhost:3000`. Host names are compared in lower case, so the entry is
    /// lower-cased; a trailing `/` is allowed. Refused, with the reason: another scheme, a
    /// path, query, fragment or userinfo, a `*` anywhere but as the whole first label, a
    /// wildcard over fewer than two labels (`*.com`), a label browsers never send, a bad
    /// port, an IPv6 literal.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let lower = text.trim().to_ascii_lowercase();
        let (scheme, rest) = match lower.split_once("://") {
            Some(("https", rest)) => ("https", rest),
            Some(("http", rest)) => ("http", rest),
            _ => return Err(format!("`{text}` must start with http:// or https://")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@', '\\']) {
            return Err(format!(
                "`{text}` must be an origin only (scheme, host and port: no path, query, \
                 fragment or user)"
            ));
        }
        if rest.starts_with('[') {
            return Err(format!("`{text}`: IPv6 addresses are not supported here"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => {
                let n = port
                    .parse::<u16>()
                    .ok()
                    .filter(|n| *n > 0 && n.to_string() == port)
                    .ok_or_else(|| format!("`{text}`: `{port}` is not a port number"))?;
                let default = if scheme == "https" { 443 } else { 80 };
                (host, (n != default).then_some(n))
            }
            None => (rest, None),
        };
        let (wildcard, host) = match host.strip_prefix("*.") {
            Some(suffix) => (true, suffix),
            None => (false, host),
        };
        if host.contains('*') {
            return Err(format!(
                "`{text}`: `*` may only be the whole first label (`https://*.preview.example.com`)"
            ));
        }
        if !host.split('.').all(is_label) {
            return Err(format!(
                "`{text}`: `{host}` is not a host name as browsers send it (ASCII letters, \
                 digits and `-`; punycode `xn--…` for international names; no trailing dot)"
            ));
        }
        if wildcard && host.split('.').count() < 2 {
            return Err(format!(
                "`{text}`: a `*.` entry needs at least two labels after it (a domain you \
                 own, not a top-level domain)"
            ));
        }
        Ok(Self {
            scheme,
            wildcard,
            host: host.to_owned(),
            port,
        })
    }

    /// Whether `host` (a request's `host[:port]`, exactly as sent) is this entry's.
    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        if port != self.port {
            return false;
        }
        if !self.wildcard {
            return host == self.host;
        }
        host.strip_suffix(self.host.as_str())
            .and_then(|head| head.strip_suffix('.'))
            .is_some_and(is_label)
    }
}

/// Splits a request's `host[:port]` as browsers send it, refusing anything else: labels
/// of lower-case ASCII letters, digits and `-` (so no upper case, trailing dot, userinfo,
/// whitespace, control or non-ASCII characters), and a port without leading zeros.
fn split_host(value: &str) -> Option<(&str, Option<u16>)> {
    if value.len() > 260 {
        return None;
    }
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) => {
            let n = port.parse::<u16>().ok().filter(|n| n.to_string() == port)?;
            (host, Some(n))
        }
        None => (value, None),
    };
    host.split('.').all(is_label).then_some((host, port))
}

/// The host a request names, by the rules of the [module docs](self): the last
/// `X-Forwarded-Host` value when `trust_forwarded_host`, else the one `Host` header, else
/// the request URI's authority (HTTP/2). `None` when it cannot be read as text or `Host`
/// is repeated.
pub(crate) fn request_host<'a>(
    headers: &'a http::HeaderMap,
    uri: &'a http::Uri,
    trust_forwarded_host: bool,
) -> Option<&'a str> {
    if trust_forwarded_host {
        let mut forwarded = headers.get_all("x-forwarded-host").iter();
        if let Some(first) = forwarded.next() {
            // The nearest proxy's value is the last one, in the last header.
            let last = forwarded.next_back().unwrap_or(first);
            let text = last.to_str().ok()?;
            return Some(text.rsplit(',').next().unwrap_or_default().trim());
        }
    }
    let mut hosts = headers.get_all(http::header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().ok(),
        (Some(_), Some(_)) => None,
        (None, _) => uri.authority().map(|a| a.as_str()),
    }
}

/// The redirect URI for a request whose host is `host`: `configured` moved to the first
/// matching entry's origin (same path and query), or `None` when no entry matches.
pub(crate) fn redirect_uri_on(
    patterns: &[OriginPattern],
    configured: &Url,
    host: &str,
) -> Option<Url> {
    let (name, port) = split_host(host)?;
    let pattern = patterns.iter().find(|p| p.matches(name, port))?;
    let mut text = format!("{}://{name}", pattern.scheme);
    if let Some(port) = port {
        text.push_str(&format!(":{port}"));
    }
    text.push_str(&configured[url::Position::BeforePath..url::Position::AfterQuery]);
    let url = Url::parse(&text).ok()?;
    // Belt and braces: what was built names exactly the host that matched.
    (url.host_str() == Some(name) && url.port() == port).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(list: &[&str]) -> Vec<OriginPattern> {
        list.iter()
            .map(|p| OriginPattern::parse(p).unwrap())
            .collect()
    }

    fn on(list: &[&str], host: &str) -> Option<String> {
        let configured = Url::parse("https://app.example.com/auth/callback?x=1").unwrap();
        redirect_uri_on(&patterns(list), &configured, host).map(String::from)
    }

    #[test]
    fn entries_are_origins_and_wildcards_one_whole_label() {
        for ok in [
            "https://app.example.com",
            "https://*.preview.example.com/",
            "HTTP://LOCALHOST:3000",
            "https://xn--bcher-kva.example",
            "http://127.0.0.1:8080",
        ] {
            assert!(OriginPattern::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "app.example.com",
            "ftp://app.example.com",
            "https://app.example.com/callback",
            "https://app.example.com?x",
            "https://user@app.example.com",
            "https://*.com",
            "https://*",
            "https://a.*.example.com",
            "https://pre-*.example.com",
            "https://**.example.com",
            "https://app.example.com.",
            "https://bücher.example",
            "https://app.example.com:0",
            "https://app.example.com:065",
            "https://app.example.com:99999",
            "https://[::1]:3000",
            "https://-app.example.com",
            "https://app_1.example.com",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            OriginPattern::parse("HTTPS://*.Preview.Example.com:443")
                .unwrap()
                .to_string(),
            "https://*.preview.example.com"
        );
    }

    #[test]
    fn a_listed_host_gets_its_own_redirect_uri_with_the_configured_path() {
        let list = ["https://*.preview.example.com", "http://localhost:3000"];
        assert_eq!(
            on(&list, "pr-42.preview.example.com").as_deref(),
            Some("https://pr-42.preview.example.com/auth/callback?x=1")
        );
        assert_eq!(
            on(&list, "localhost:3000").as_deref(),
            Some("http://localhost:3000/auth/callback?x=1")
        );
    }

    #[test]
    fn a_wildcard_matches_exactly_one_label_and_nothing_else_leaves_the_list() {
        let list = ["https://*.preview.example.com", "http://localhost:3000"];
        for hostile in [
            "preview.example.com",
            "a.b.preview.example.com",
            "evilpreview.example.com",
            "pr.preview.example.com.evil.net",
            "pr.preview.example.com.",
            "PR.preview.example.com",
            "pr.preview.example.COM",
            "pr.preview.example.com:443",
            "pr.preview.example.com:8443",
            "evil.net@pr.preview.example.com",
            "pr.preview.example.com@evil.net",
            "pr.preview.example.com\r\nX-Evil: 1",
            "pr.preview.example.com evil.net",
            "pr.preview.example.com/evil",
            "prä.preview.example.com",
            "pr.preview.example.com%2eevil.net",
            "localhost",
            "localhost:3001",
            "localhost:03000",
            "",
            ":3000",
            ".preview.example.com",
            "-.preview.example.com",
        ] {
            assert_eq!(on(&list, hostile), None, "{hostile:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 4096, ..Default::default() })]

        /// Whatever the host text, a redirect URI is either none or on a listed origin:
        /// one label under the wildcard's domain, or the exact listed host and port, and it
        /// always parses back to the very host it was built from.
        #[test]
        fn nothing_leaves_the_allow_list(host in "[a-zA-Z0-9.:@%/\\\\ _\\-\\[\\]\u{e4}\\x00-\\x1f]{0,40}(\\.preview\\.example\\.com|localhost)?(:[0-9]{1,6})?") {
            let list = ["https://*.preview.example.com", "http://localhost:3000"];
            if let Some(uri) = on(&list, &host) {
                let url = Url::parse(&uri).unwrap();
                let name = url.host_str().unwrap();
                let listed = (url.scheme() == "https"
                    && url.port().is_none()
                    && name
                        .strip_suffix(".preview.example.com")
                        .is_some_and(is_label))
                    || (url.scheme() == "http" && name == "localhost" && url.port() == Some(3000));
                proptest::prop_assert!(listed, "{host:?} gave {uri}");
                proptest::prop_assert_eq!(url.path(), "/auth/callback");
            }
        }
    }

    #[test]
    fn the_forwarded_host_counts_only_when_trusted_and_then_its_last_value() {
        let uri: http::Uri = "/auth/sign-in".parse().unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("host", "internal:8080".parse().unwrap());
        headers.insert(
            "x-forwarded-host",
            "evil.net, pr-1.preview.example.com".parse().unwrap(),
        );
        assert_eq!(request_host(&headers, &uri, false), Some("internal:8080"));
        assert_eq!(
            request_host(&headers, &uri, true),
            Some("pr-1.preview.example.com")
        );
        headers.append("host", "pr-2.preview.example.com".parse().unwrap());
        assert_eq!(
            request_host(&headers, &uri, false),
            None,
            "two Host headers"
        );
        let h2: http::Uri = "https://pr-3.preview.example.com/x".parse().unwrap();
        assert_eq!(
            request_host(&http::HeaderMap::new(), &h2, false),
            Some("pr-3.preview.example.com")
        );
    }
}
