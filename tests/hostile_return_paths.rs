//! Hostile return paths (`tests/data/hostile_return_paths.json`: 75 values — protocol-
//! relative and backslash forms, other schemes, percent-encoded and double-encoded
//! slashes, tab/CR/LF/NUL and other whitespace, `javascript:`, full-width and look-alike
//! slashes, header-injection attempts, very long values) through every place a return
//! path enters on the server: the sign-in start route and the callback it leads to, the
//! sign-out form signed out and signed in, and the layer's middleware-auth redirect.
//! (`ensure_signed_in` from a hostile `Referer`: `tests/components.rs`; the browser's
//! navigation of `SignInRequired`: `components::navigate` unit tests.)
//!
//! Every answer must be: not a 5xx, no control bytes in any header, and a `Location` a
//! browser resolves on this origin — 0 redirects off the origin, 0 header injections.

mod authkit_support;

use authkit_support::*;
use axum::body::Body;
use http::{header, HeaderMap, Request, StatusCode};

const ORIGIN: &str = "http://localhost:3000";

fn hostile() -> Vec<String> {
    serde_json::from_str(include_str!("data/hostile_return_paths.json")).expect("valid JSON")
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// No header carries a control byte (a CR/LF would be a header injection).
fn assert_clean_headers(headers: &HeaderMap, context: &str) {
    for (name, value) in headers {
        assert!(
            !value.as_bytes().iter().any(|&b| b < 0x20 || b == 0x7f),
            "{context}: control byte in header {name}"
        );
    }
}

/// `location` is one a browser on this origin follows without leaving it.
fn assert_on_origin(location: &str, context: &str) {
    let page = url::Url::parse(&format!("{ORIGIN}/some/page")).unwrap();
    let resolved = page
        .join(location)
        .unwrap_or_else(|e| panic!("{context}: `{location}` does not parse: {e}"));
    assert_eq!(
        resolved.origin(),
        page.origin(),
        "{context}: `{location}` leaves the origin"
    );
    if !location.starts_with(ORIGIN) {
        assert!(
            location.starts_with('/')
                && !location.starts_with("//")
                && !location.starts_with("/\\"),
            "{context}: `{location}` is not a plain same-origin path"
        );
    }
}

/// Runs the sign-in flow from `start` (if the start route accepts it) and checks every
/// redirect on the way: the start's own, and the callback's landing page.
async fn sign_in_lands_on_origin(h: &Harness, start: &str, context: &str) {
    let response = h.get(start, None).await;
    assert!(
        !response.status().is_server_error(),
        "{context}: {}",
        response.status()
    );
    assert_clean_headers(response.headers(), context);
    if response.status() != StatusCode::FOUND {
        // Refused (a value too long for the sign-in cookie): a clear 4xx, no redirect.
        assert!(
            response.status().is_client_error(),
            "{context}: {}",
            response.status()
        );
        return;
    }
    let authorize = location(&response);
    if authorize.starts_with('/') {
        assert_on_origin(&authorize, context);
        return;
    }
    let result = h.sign_in_with(start).await;
    assert!(
        !result.status.is_server_error(),
        "{context}: callback {}",
        result.status
    );
    let landing = result.location.expect("the callback redirects");
    assert_on_origin(&landing, &format!("{context} → callback"));
}

#[tokio::test]
async fn the_sign_in_start_route_and_its_callback_never_leave_the_origin() {
    let h = Harness::new().await;
    let values = hostile();
    assert!(values.len() >= 40);
    for value in &values {
        let start = format!("/auth/sign-in?return_to={}", encode(value));
        sign_in_lands_on_origin(&h, &start, &format!("sign-in return_to={value:?}")).await;
    }
}

#[tokio::test]
async fn the_sign_out_form_never_leaves_the_origin() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    for value in hostile() {
        for signed_in in [false, true] {
            let context = format!("sign-out (signed in: {signed_in}) return_to={value:?}");
            let mut request = Request::post("/auth/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, ORIGIN);
            if signed_in {
                request = request.header(header::COOKIE, format!("wos-session={cookie}"));
            }
            let response = h
                .send(
                    request
                        .body(Body::from(format!("return_to={}", encode(&value))))
                        .unwrap(),
                )
                .await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{context}");
            assert_clean_headers(response.headers(), &context);
            let to = location(&response);
            if signed_in {
                // Off to WorkOS's logout, which comes back to `return_to`: on this origin.
                let logout = url::Url::parse(&to).unwrap();
                assert_eq!(
                    logout.path(),
                    "/user_management/sessions/logout",
                    "{context}"
                );
                let back = logout
                    .query_pairs()
                    .find(|(k, _)| k == "return_to")
                    .map(|(_, v)| v.into_owned())
                    .expect("a return_to for WorkOS");
                assert!(back.starts_with(&format!("{ORIGIN}/")), "{context}: {back}");
                assert_on_origin(&back, &context);
            } else {
                assert_on_origin(&to, &context);
            }
        }
    }
}

#[tokio::test]
async fn the_middleware_auth_redirect_never_leaves_the_origin() {
    let h = Harness::with(Options {
        // Everything the layer covers needs a session except `/`.
        layer: |l| l.middleware_auth(["/"]).unwrap(),
        ..Options::default()
    })
    .await;
    let mut requests: Vec<String> = hostile()
        .iter()
        .map(|v| format!("/dashboard/x?next={}", encode(v)))
        .collect();
    // Hostile paths themselves (as far as they are valid request targets).
    requests.extend(
        [
            "/dashboard//evil.example",
            "/dashboard/%2F%2Fevil.example",
            "/dashboard/..%2F..%2F%2Fevil.example",
            "/dashboard/%5C%5Cevil.example",
            "/dashboard/%0d%0aSet-Cookie:x=1",
            "/dashboard/%E5%98%8A%E5%98%8D",
        ]
        .map(str::to_owned),
    );
    for target in requests {
        let context = format!("middleware-auth {target}");
        let response = h.get(&target, None).await;
        // As authkit-nextjs: a 307 straight to AuthKit, the return path sealed in the state.
        assert_eq!(
            response.status(),
            StatusCode::TEMPORARY_REDIRECT,
            "{context}"
        );
        assert_clean_headers(response.headers(), &context);
        let authorize = location(&response);
        assert!(
            authorize.starts_with(h.emulator.base_url().trim_end_matches('/')),
            "{context}: {authorize}"
        );
        let landing = finish_flow(&h, &response).await;
        assert_on_origin(&landing, &format!("{context} → callback"));
    }
}

/// Completes a sign-in whose first redirect (to AuthKit, with the verifier cookie) is
/// `response`; returns where the callback sends the browser.
async fn finish_flow(h: &Harness, response: &http::Response<Body>) -> String {
    let verifier = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("wos-auth-verifier-"))
        .expect("a verifier cookie");
    let verifier_pair = verifier.split(';').next().unwrap().to_owned();
    let back = http_client()
        .get(location(response))
        .send()
        .await
        .expect("emulator reachable");
    assert_eq!(back.status().as_u16(), 302, "auto-approve redirects back");
    let back = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let callback = format!("/callback?{}", back.query().unwrap_or_default());
    let done = h
        .send(
            Request::get(callback.as_str())
                .header(header::COOKIE, verifier_pair)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(
        !done.status().is_server_error(),
        "callback {}",
        done.status()
    );
    assert_clean_headers(done.headers(), "callback");
    location(&done)
}
