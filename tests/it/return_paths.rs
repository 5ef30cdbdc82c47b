//! Return paths: where the callback sends the browser (the state's return path with its
//! query, the configured default, `base_url`), and hostile values.
//!
//! Hostile return paths (`tests/data/hostile_return_paths.json`: 75 values — protocol-
//! relative and backslash forms, other schemes, percent-encoded and double-encoded
//! slashes, tab/CR/LF/NUL and other whitespace, `javascript:`, full-width and look-alike
//! slashes, header-injection attempts, very long values) through every place a return
//! path enters on the server: the sign-in start route and the callback it leads to, the
//! sign-out form signed out and signed in, and the layer's middleware-auth redirect.
//! (`ensure_signed_in` from a hostile `Referer` is below; the browser's navigation of
//! `SignInRequired`: the `components::navigate` unit tests.)
//!
//! Every answer must be: not a 5xx, no control bytes in any header, and a `Location` a
//! browser resolves on this origin — 0 redirects off the origin, 0 header injections.

use crate::support::callback::*;
use crate::support::leptos_app::leptos_default;
use crate::support::*;
use authkit_leptos::CallbackOptions;
use axum::body::Body;
use http::{header, HeaderMap, Request, StatusCode};

const ORIGIN: &str = "http://localhost:3000";

fn hostile() -> Vec<String> {
    serde_json::from_str(include_str!("../data/hostile_return_paths.json")).expect("valid JSON")
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
    let flow = h.approve(response).await;
    let done = h
        .send(callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ))
        .await;
    assert!(
        !done.status().is_server_error(),
        "callback {}",
        done.status()
    );
    assert_clean_headers(done.headers(), "callback");
    location(&done)
}

#[tokio::test]
async fn the_default_return_path_is_home_and_configurable() {
    let h = Harness::new().await;
    let result = h.sign_in_with("/auth/sign-in").await;
    assert_eq!(result.location.as_deref(), Some("http://localhost:3000/"));

    let (code, state, pair) = code_and_state(&h, "/auth/sign-in").await;
    let app = h
        .kit
        .routes_with::<()>(CallbackOptions::default().return_pathname("/welcome"));
    let response = tower::ServiceExt::oneshot(
        app,
        callback_request(Some(&code), Some(&state), Some(&pair)),
    )
    .await
    .unwrap();
    assert_eq!(location(&response), "http://localhost:3000/welcome");
}

#[tokio::test]
async fn hostile_return_paths_stay_on_this_site() {
    let h = Harness::new().await;
    for (hostile, want) in [
        ("https://evil.example/steal", "http://localhost:3000/steal"),
        ("//evil.example/x", "http://localhost:3000/x"),
        ("/\\evil.example", "http://localhost:3000/"),
        ("https:evil.example", "http://localhost:3000/evil.example"),
        (
            "/%0d%0aSet-Cookie:x=1",
            "http://localhost:3000/%0d%0aSet-Cookie:x=1",
        ),
        ("javascript:alert(1)", "http://localhost:3000/alert(1)"),
    ] {
        let start = format!(
            "/auth/sign-in?return_to={}",
            url::form_urlencoded::byte_serialize(hostile.as_bytes()).collect::<String>()
        );
        let result = h.sign_in_with(&start).await;
        let loc = result.location.unwrap();
        assert!(
            loc.starts_with("http://localhost:3000/"),
            "{hostile} -> {loc}"
        );
        assert_eq!(loc, want, "{hostile}");
    }
}

#[tokio::test]
async fn the_state_return_path_wins_over_the_configured_default() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in?return_to=%2Fcustom-path").await;
    let response = send_with(
        &h,
        CallbackOptions::default().return_pathname("/dashboard"),
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    assert_eq!(location(&response), "http://localhost:3000/custom-path");
}

#[tokio::test]
async fn the_return_path_keeps_every_query_parameter() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let response = finish_restated(&h, &flow, |s| {
        s.return_pathname = Some("/custom-path?foo=bar&baz=qux".into());
    })
    .await;
    assert_eq!(
        location(&response),
        "http://localhost:3000/custom-path?foo=bar&baz=qux"
    );
}

#[tokio::test]
async fn a_full_url_return_path_keeps_only_path_and_query() {
    let h = Harness::new().await;
    let flow = h.flow("/auth/sign-in").await;
    let response = finish_restated(&h, &flow, |s| {
        s.return_pathname = Some("https://example.com/invite/k0123456789?x=1".into());
    })
    .await;
    assert_eq!(
        location(&response),
        "http://localhost:3000/invite/k0123456789?x=1"
    );
}

/// `base_url` sets the origin the callback redirects to, keeping the return path and its
/// query; a value that is not a URL is refused when the options are built.
#[tokio::test]
async fn base_url_keeps_the_return_path_and_query() {
    let h = Harness::new().await;
    assert!(CallbackOptions::default().base_url("not a url").is_err());
    let flow = h.flow("/auth/sign-in?return_to=%2Finvite%3Fcode%3D7").await;
    let response = send_with(
        &h,
        CallbackOptions::default()
            .base_url("https://base.example")
            .unwrap(),
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    assert_eq!(location(&response), "https://base.example/invite?code=7");
}

macro_rules! invalid_base_url {
    ($($name:ident: $url:expr,)*) => {$(
        #[test]
        fn $name() {
            assert!(CallbackOptions::default().base_url($url).is_err(), "{:?}", $url);
        }
    )*};
}

invalid_base_url! {
    a_base_url_that_is_not_a_url_is_rejected: "invalid-url",
    a_relative_base_url_is_rejected: "/app",
    a_base_url_with_another_scheme_is_rejected: "ftp://files.example",
    an_empty_base_url_is_rejected: "",
}

/// A hostile return path sealed into the state (as a compromised or buggy start route
/// could) still lands on this site.
macro_rules! hostile_return_path {
    ($($name:ident: $hostile:expr,)*) => {$(
        #[tokio::test]
        async fn $name() {
            let h = Harness::new().await;
            let flow = h.flow("/auth/sign-in").await;
            let response = finish_restated(&h, &flow, |s| {
                s.return_pathname = Some($hostile.into());
            })
            .await;
            assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
            let target = url::Url::parse(&location(&response)).unwrap();
            assert_eq!(target.scheme(), "http", "{}", $hostile);
            assert_eq!(target.host_str(), Some("localhost"), "{}", $hostile);
            assert_eq!(target.port(), Some(3000), "{}", $hostile);
            assert!(!target.path().starts_with("//"), "{}", target);
        }
    )*};
}

hostile_return_path! {
    a_javascript_url_return_path_stays_on_this_site: "javascript:alert(document.domain)",
    a_data_url_return_path_stays_on_this_site: "data:text/html,<script>alert(1)</script>",
    an_absolute_https_return_path_stays_on_this_site: "https://evil.com/phishing",
    a_protocol_relative_return_path_stays_on_this_site: "//evil.com/phishing",
    a_backslash_return_path_stays_on_this_site: "/\\evil.com/phishing",
    a_single_slash_scheme_return_path_stays_on_this_site: "https:/evil.com",
}

/// `ensure_signed_in` in a server function returns to the page that called it (its
/// `Referer`): from a hostile `Referer`, the sign-in URL it answers stays on this origin
/// and carries a same-origin return path.
#[tokio::test]
async fn ensure_signed_in_from_a_hostile_referer_stays_on_the_origin() {
    use axum::body::Body;
    use http::Request;
    let h = leptos_default().await;
    let hostile: Vec<String> =
        serde_json::from_str(include_str!("../data/hostile_return_paths.json")).unwrap();
    let mut referers: Vec<String> = hostile
        .iter()
        .filter(|v| http::HeaderValue::from_str(v).is_ok())
        .cloned()
        .collect();
    referers.extend(
        hostile
            .iter()
            .map(|v| format!("http://localhost:3000/page?next={}", url_encode(v))),
    );
    let page = url::Url::parse("http://localhost:3000/x").unwrap();
    for referer in referers {
        let response = h
            .send(
                Request::post("/api/protected")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, "application/json")
                    .header(header::REFERER, referer.as_str())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let status = response.status();
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{referer:?}: {}",
            String::from_utf8_lossy(&body)
        );
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let url = json["SignInRequired"]["sign_in_url"].as_str().unwrap();
        assert!(url.starts_with("/auth/sign-in?"), "{referer:?}: {url}");
        let return_to = url::Url::parse(&format!("http://localhost:3000{url}"))
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "return_to")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| "/".to_owned());
        let resolved = page.join(&return_to).unwrap();
        assert_eq!(resolved.origin(), page.origin(), "{referer:?}: {return_to}");
        assert!(!return_to.starts_with("//"), "{referer:?}: {return_to}");
    }
}

fn url_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
