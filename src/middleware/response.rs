//! What the layer writes on a response: the session cookie's outcome with the cache
//! headers of a session-dependent answer ([`finish`]), and middleware-auth mode's answer
//! to a signed-out visitor ([`sign_in_response`]).

use crate::authkit::{AuthKit, CookieAction};
use crate::error::AuthError;
use crate::flow::{sign_in_unavailable, SignInOptions};
use crate::headers::{
    cookie_header, is_document_request, redirect_with_cookies, referer_path, PRIVATE_NO_STORE,
};
use crate::session::{session_delete_cookie, session_set_cookies, SessionCookies};
use crate::workos::ScreenHint;
use axum::body::Body;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE, VARY};
use http::HeaderName;
use http::{HeaderMap, Method, Response, StatusCode};

const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// The `Server-Timing` entry that tells the browser whether a session-dependent answer was
/// given signed in. `<AuthKitProvider>` watches every same-origin response's entries (a
/// `PerformanceObserver`, no wrapper around `fetch`), so whatever learns first that the
/// session ended (a server function's answer, a refresh that failed) updates the page at
/// once. Not a secret: the page shows the same. The names are the browser half's
/// (`components::snapshot::SESSION_TIMING`, checked by a test below).
const SIGNED_IN_TIMING: HeaderValue = HeaderValue::from_static("authkit-session;desc=signed-in");
const SIGNED_OUT_TIMING: HeaderValue = HeaderValue::from_static("authkit-session;desc=signed-out");

/// Applies the cookie action and, when the response depends on the session, makes it
/// private and uncacheable and says whether it was answered `signed_in`.
pub(super) fn finish(
    kit: &AuthKit,
    response: &mut Response<Body>,
    cookie: &CookieAction,
    sent: &SessionCookies,
    session_dependent: bool,
    signed_in: bool,
) {
    let config = kit.config();
    let secure_url = Some(config.redirect_uri().as_str());
    let written = match cookie {
        CookieAction::Keep => None,
        CookieAction::Set(sealed) => Some(session_set_cookies(config.cookie(), sealed, secure_url)),
        CookieAction::Delete => Some(vec![session_delete_cookie(config.cookie(), secure_url)]),
    };
    let headers = response.headers_mut();
    // A handler that wrote the session cookie itself (`name=` or a part's `name.`, e.g. a
    // custom sign-out) wins.
    let name = config.cookie().name.as_bytes();
    let handler_set_it = |headers: &HeaderMap| {
        headers.get_all(SET_COOKIE).iter().any(|v| {
            v.as_bytes()
                .strip_prefix(name)
                .is_some_and(|rest| matches!(rest.first(), Some(b'=' | b'.')))
        })
    };
    if let Some(written) = written.filter(|_| !handler_set_it(headers)) {
        let new_cookies: &[String] = match cookie {
            CookieAction::Set(_) => &written,
            _ => &[],
        };
        let stale = sent.stale_deletions(config.cookie(), secure_url, new_cookies);
        // With a cookie domain, a host-only cookie and host-only parts may linger from
        // before it was configured: delete them whenever the session is deleted or
        // replaced, so an old session never sits beside (or beats) the new one.
        let twins = sent.host_only_deletions(config.cookie(), secure_url);
        for value in written.iter().chain(&stale).chain(&twins) {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(SET_COOKIE, value);
            }
        }
    }
    if session_dependent || !matches!(cookie, CookieAction::Keep) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(PRIVATE_NO_STORE));
        append_vary(headers, "Cookie");
        headers.append(
            SERVER_TIMING,
            if signed_in {
                SIGNED_IN_TIMING
            } else {
                SIGNED_OUT_TIMING
            },
        );
    }
}

/// Adds `value` to `Vary` unless it is already listed (case-insensitively).
pub(super) fn append_vary(headers: &mut HeaderMap, value: &'static str) {
    let present = headers
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(value) || v.trim() == "*");
    if !present {
        headers.append(VARY, HeaderValue::from_static(value));
    }
}

/// Redirects a signed-out document request straight to AuthKit (with a new PKCE flow),
/// or answers anything else (server functions, `fetch`, prefetches) with `401` and an
/// [`AuthError::SignInRequired`] body — the encoding Leptos server functions decode, so
/// a WebAssembly caller gets an error whose `sign_in_url()` it can navigate to.
pub(super) fn sign_in_response(
    kit: &AuthKit,
    method: &Method,
    headers: &HeaderMap,
    uri: &http::Uri,
    path_and_query: &str,
    screen: ScreenHint,
) -> Response<Body> {
    if !is_document_request(headers) {
        // A fetch comes back to the page that made it, not to the endpoint it called.
        let return_to = referer_path(headers).unwrap_or_else(|| "/".to_owned());
        let options = SignInOptions {
            return_to: Some(return_to),
            ..Default::default()
        };
        let error = AuthError::SignInRequired {
            sign_in_url: kit.start_url(screen, &options),
        };
        let body = serde_json::to_string(&error).unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return response;
    }
    let options = SignInOptions {
        return_to: Some(path_and_query.to_owned()),
        ..Default::default()
    };
    let redirect_uri = kit.config().redirect_uri_for(headers, uri);
    match kit.authorization_redirect(screen, &options, &cookie_header(headers), &redirect_uri) {
        Ok((url, cookies)) => {
            let status = if method == Method::GET || method == Method::HEAD {
                StatusCode::TEMPORARY_REDIRECT
            } else {
                StatusCode::SEE_OTHER
            };
            redirect_with_cookies(status, url.as_str(), cookies)
        }
        Err(e) => sign_in_unavailable(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::snapshot::{SESSION_TIMING, SIGNED_IN, SIGNED_OUT};

    #[test]
    fn the_timing_entries_are_the_ones_the_browser_reads() {
        assert_eq!(
            SIGNED_IN_TIMING.to_str().unwrap(),
            format!("{SESSION_TIMING};desc={SIGNED_IN}")
        );
        assert_eq!(
            SIGNED_OUT_TIMING.to_str().unwrap(),
            format!("{SESSION_TIMING};desc={SIGNED_OUT}")
        );
    }
}
