//! The HTTP edges of the request path, shared by the layer, the routes, the callback and
//! the server API: what they read from a request's headers (its cookies, `Referer`,
//! `Sec-Fetch-Site` / `Origin`, `Accept`) and the headers a session-dependent answer
//! carries ([`PRIVATE_NO_STORE`], `Vary: Cookie`, a redirect's `Set-Cookie`s).
//!
//! It holds no session state and starts no flow: every other module of the request path
//! stands above it.

use crate::oauth_state::sanitize_return_path;
use axum::body::Body;
use http::header::{HeaderName, HeaderValue, ACCEPT, CACHE_CONTROL, LOCATION, SET_COOKIE, VARY};
use http::{HeaderMap, Response, StatusCode};

/// The `Cache-Control` of every response that depends on a session.
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub const PRIVATE_NO_STORE: &str = "private, no-cache, no-store, must-revalidate, max-age=0";

/// Every `Cookie` header of a request, joined (HTTP/2 may send several).
pub(crate) fn cookie_header(headers: &HeaderMap) -> String {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .map(|v| crate::session::cookie_header_text(v.as_bytes()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The same-site path and query of the `Referer`, if there is one.
pub(crate) fn referer_path(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(http::header::REFERER)?.to_str().ok()?;
    let url = url::Url::parse(referer).ok()?;
    Some(sanitize_return_path(&url[url::Position::BeforePath..]))
}

/// Whether a state-changing request came from another site (a forged form post):
/// `Sec-Fetch-Site` says so, or `Origin` names another origin than the app's (the
/// redirect URI's). Requests without either header (non-browser clients) pass.
pub(crate) fn is_cross_site(headers: &HeaderMap, app_origin: &url::Url) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        Some(origin) => url::Url::parse(origin)
            .map(|o| o.origin() != app_origin.origin())
            .unwrap_or(true),
        None => false,
    }
}

/// Whether a request is a browser navigation or a plain form post (not `fetch`, not a
/// prefetch): only those may receive cookies for a new sign-in flow or a 302.
pub(crate) fn is_document_request(headers: &HeaderMap) -> bool {
    let accepts_html = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"));
    // Names built once (looking a header up by `&str` parses the name every time).
    const PREFETCH_HEADERS: [HeaderName; 4] = [
        HeaderName::from_static("purpose"),
        HeaderName::from_static("sec-purpose"),
        HeaderName::from_static("x-purpose"),
        HeaderName::from_static("x-moz"),
    ];
    let prefetch = PREFETCH_HEADERS.iter().any(|h| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("prefetch"))
    });
    accepts_html && !prefetch
}

/// A redirect response (empty body) to `location` that sets `cookies` in order, private
/// and uncacheable (`Cache-Control: private, no-store…`, `Vary: Cookie`). A location that
/// is not a valid header value becomes `/`.
pub(crate) fn redirect_with_cookies(
    status: StatusCode,
    location: &str,
    cookies: Vec<String>,
) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let location = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    headers.insert(LOCATION, location);
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            headers.append(SET_COOKIE, v);
        }
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(PRIVATE_NO_STORE));
    headers.append(VARY, HeaderValue::from_static("Cookie"));
    response
}
