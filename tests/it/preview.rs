//! Preview deploys (#26 item 3; authkit-nextjs #103, #82): a request on an origin of
//! `WORKOS_REDIRECT_ORIGINS` signs in, finishes the callback and signs out on its own
//! origin; any other `Host` / `X-Forwarded-Host` — unlisted, a second label under the
//! wildcard, a look-alike, a port, upper case, a trailing dot, userinfo, control or
//! non-ASCII bytes — gets the configured `WORKOS_REDIRECT_URI`, and nothing the app answers
//! names a host outside the list. Against the real router and the emulator over loopback,
//! which accepts the wildcard redirect URI as WorkOS does.

use crate::support::*;
use authkit_leptos::testing::FlowState;
use axum::body::Body;
use http::{header, HeaderValue, Request, Response, StatusCode};

const PREVIEWS: &str = "https://*.preview.example.com";
const PREVIEW_CALLBACK: &str = "https://*.preview.example.com/callback";

async fn preview_harness(trust_forwarded_host: bool) -> Harness {
    let options = Options {
        config: if trust_forwarded_host {
            |c| c.redirect_origins([PREVIEWS]).trust_forwarded_host(true)
        } else {
            |c| c.redirect_origins([PREVIEWS])
        },
        ..Options::default()
    };
    let h = Harness::with(options).await;
    // As in the WorkOS dashboard: the configured callback and the wildcard one.
    h.emulator.register_redirect_uri(REDIRECT_URI);
    h.emulator.register_redirect_uri(PREVIEW_CALLBACK);
    h
}

/// `GET path` as a browser on `host` sends it (or with `X-Forwarded-Host` too).
fn on_host(path: &str, host: &[u8], forwarded: Option<&[u8]>) -> Request<Body> {
    let mut request = Request::get(path)
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(header::HOST, HeaderValue::from_bytes(host).unwrap());
    if let Some(f) = forwarded {
        headers.insert("x-forwarded-host", HeaderValue::from_bytes(f).unwrap());
    }
    request
}

/// The `redirect_uri` of the authorize URL a start request was sent to.
fn authorize_redirect_uri(h: &Harness, response: &Response<Body>) -> String {
    assert_eq!(response.status(), StatusCode::FOUND);
    let loc = location(response);
    assert!(
        loc.starts_with(&h.emulator.base_url().to_string()),
        "to WorkOS: {loc}"
    );
    query_of(&loc)["redirect_uri"].clone()
}

/// Hosts a browser never sends for the preview origins, each with why.
fn hostile_hosts() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("unlisted", b"evil.example.net"),
        ("the wildcard's own domain", b"preview.example.com"),
        ("two labels under the wildcard", b"a.b.preview.example.com"),
        ("a look-alike suffix", b"evilpreview.example.com"),
        (
            "the listed name inside another",
            b"pr-1.preview.example.com.evil.net",
        ),
        (
            "a port the entry does not name",
            b"pr-1.preview.example.com:8443",
        ),
        (
            "the default port written out",
            b"pr-1.preview.example.com:443",
        ),
        ("upper case", b"PR-1.preview.example.com"),
        ("upper case in the listed part", b"pr-1.PREVIEW.example.com"),
        ("a trailing dot", b"pr-1.preview.example.com."),
        ("userinfo before", b"evil.net@pr-1.preview.example.com"),
        ("userinfo after", b"pr-1.preview.example.com@evil.net"),
        ("a tab", b"pr-1.preview.example.com\tevil.net"),
        ("a space", b"pr-1.preview.example.com evil.net"),
        ("a path", b"pr-1.preview.example.com/evil"),
        ("an encoded dot", b"pr-1.preview.example.com%2eevil.net"),
        ("an IDN in UTF-8", "prä.preview.example.com".as_bytes()),
        ("non-UTF-8 bytes", b"pr-\xff.preview.example.com"),
        ("an empty label", b".preview.example.com"),
        ("a hyphen label", b"-.preview.example.com"),
        ("empty", b""),
    ]
}

/// A flow the start response began, approved by the emulator: the callback's path and
/// query (on the host the emulator sent the browser back to) and the flow cookie.
struct PreviewFlow {
    callback_path: String,
    verifier_pair: String,
}

async fn approve(start: &Response<Body>) -> PreviewFlow {
    let verifier_pair = set_cookies(start.headers())[0]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let back = http_client()
        .get(location(start))
        .send()
        .await
        .expect("emulator reachable");
    assert_eq!(back.status().as_u16(), 302, "auto-approve redirects back");
    let back = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    PreviewFlow {
        callback_path: back[url::Position::BeforePath..].to_owned(),
        verifier_pair,
    }
}

#[tokio::test]
async fn an_allowed_preview_origin_signs_in_calls_back_and_lands_on_its_own_origin() {
    let h = preview_harness(false).await;
    let host = "pr-42.preview.example.com";
    let start = h
        .send(on_host(
            "/auth/sign-in?return_to=%2Fdashboard",
            host.as_bytes(),
            None,
        ))
        .await;
    let preview_callback = format!("https://{host}/callback");
    assert_eq!(authorize_redirect_uri(&h, &start), preview_callback);
    let flow_cookie = set_cookies(start.headers())[0].clone();
    assert!(
        flow_cookie.contains("; Secure"),
        "an https origin: {flow_cookie}"
    );
    let state = query_of(&location(&start))["state"].clone();
    let flow = FlowState::unseal(&state, h.kit.config()).unwrap();
    assert_eq!(
        flow.redirect_uri.as_deref(),
        Some(preview_callback.as_str())
    );

    // The emulator accepts the wildcard-registered URI and sends the code back there.
    let back = http_client().get(location(&start)).send().await.unwrap();
    assert_eq!(back.status().as_u16(), 302);
    let back = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("{preview_callback}?code=")),
        "{back}"
    );

    // The callback on the preview host finishes there.
    let path_and_query = &back[format!("https://{host}").len()..];
    let mut callback = on_host(path_and_query, host.as_bytes(), None);
    callback.headers_mut().insert(
        header::COOKIE,
        HeaderValue::from_str(flow_cookie.split(';').next().unwrap()).unwrap(),
    );
    let response = h.send(callback).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(location(&response), format!("https://{host}/dashboard"));
    let session = session_set_cookie(&response).expect("a session cookie");
    assert!(session.contains("; Secure"), "{session}");
}

#[tokio::test]
async fn the_configured_origin_and_the_request_without_a_host_keep_the_configured_redirect_uri() {
    let h = preview_harness(false).await;
    let response = h.get("/auth/sign-in", None).await;
    assert_eq!(authorize_redirect_uri(&h, &response), REDIRECT_URI);
    let state = query_of(&location(&response))["state"].clone();
    let flow = FlowState::unseal(&state, h.kit.config()).unwrap();
    assert_eq!(flow.redirect_uri, None, "authkit-nextjs's state shape");
    let response = h
        .send(on_host("/auth/sign-in", b"localhost:3000", None))
        .await;
    assert_eq!(authorize_redirect_uri(&h, &response), REDIRECT_URI);
}

#[tokio::test]
async fn hostile_hosts_fall_back_to_the_configured_redirect_uri() {
    let h = preview_harness(false).await;
    for (why, host) in hostile_hosts() {
        // Marked as moved already, so the start route does not send it to the configured
        // host first: the authorize URL itself must carry the configured redirect URI.
        let response = h
            .send(on_host("/auth/sign-in?authkit_moved=1", host, None))
            .await;
        assert_eq!(authorize_redirect_uri(&h, &response), REDIRECT_URI, "{why}");
        // Unmarked, it is moved to the configured origin, never elsewhere.
        let response = h.send(on_host("/auth/sign-in", host, None)).await;
        let loc = location(&response);
        assert!(
            loc.starts_with("http://localhost:3000/auth/sign-in?")
                || loc.starts_with(&h.emulator.base_url().to_string()),
            "{why}: {loc}"
        );
    }
}

#[tokio::test]
async fn x_forwarded_host_counts_only_when_the_config_trusts_it() {
    let listed = b"pr-7.preview.example.com".as_slice();
    let untrusting = preview_harness(false).await;
    let response = untrusting
        .send(on_host(
            "/auth/sign-in?authkit_moved=1",
            b"evil.example.net",
            Some(listed),
        ))
        .await;
    assert_eq!(authorize_redirect_uri(&untrusting, &response), REDIRECT_URI);

    let trusting = preview_harness(true).await;
    let response = trusting
        .send(on_host("/auth/sign-in", b"app-internal:8080", Some(listed)))
        .await;
    assert_eq!(
        authorize_redirect_uri(&trusting, &response),
        "https://pr-7.preview.example.com/callback"
    );
    // The proxy's value (the last one) decides; a client's value before it does not.
    let response = trusting
        .send(on_host(
            "/auth/sign-in?authkit_moved=1",
            b"pr-7.preview.example.com",
            Some(b"pr-7.preview.example.com, evil.example.net"),
        ))
        .await;
    assert_eq!(authorize_redirect_uri(&trusting, &response), REDIRECT_URI);
    // Hostile forwarded values fall back too, whatever `Host` says.
    for (why, host) in hostile_hosts() {
        if std::str::from_utf8(host).is_ok_and(|h| h.contains(',')) {
            continue;
        }
        let response = trusting
            .send(on_host("/auth/sign-in?authkit_moved=1", listed, Some(host)))
            .await;
        assert_eq!(
            authorize_redirect_uri(&trusting, &response),
            REDIRECT_URI,
            "forwarded {why}"
        );
    }
}

#[test]
fn a_host_with_cr_or_lf_never_reaches_the_app() {
    // What "CRLF in Host" would need: http (and hyper before it) refuse such a header.
    for bad in [
        &b"pr-1.preview.example.com\r\nX-Evil: 1"[..],
        b"a\nb",
        b"a\rb",
    ] {
        assert!(HeaderValue::from_bytes(bad).is_err());
    }
}

#[tokio::test]
async fn a_preview_flow_finishes_only_on_its_own_origin() {
    let h = preview_harness(false).await;
    let start = h
        .send(on_host("/auth/sign-in", b"pr-1.preview.example.com", None))
        .await;
    let flow = approve(&start).await;
    let calls_before = h.authenticate_calls();
    // The code and the flow's cookie, presented on another host (one a cookie domain
    // shares cookies with, or a hostile Host): refused before any code exchange.
    for host in [
        &b"pr-2.preview.example.com"[..],
        b"localhost:3000",
        b"evil.example.net",
    ] {
        let mut request = on_host(&flow.callback_path, host, None);
        request.headers_mut().insert(
            header::COOKIE,
            HeaderValue::from_str(&flow.verifier_pair).unwrap(),
        );
        let response = h.send(request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(body_text(response).await.contains("oauth_state_mismatch"));
    }
    assert_eq!(h.authenticate_calls(), calls_before, "no code exchange");
}

#[tokio::test]
async fn sign_out_returns_to_the_preview_origin_and_nowhere_unlisted() {
    let h = preview_harness(false).await;
    let sign_out = |host: &[u8], cookie: &str| {
        let mut request = Request::post("/auth/sign-out")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, format!("wos-session={cookie}"))
            .body(Body::from("return_to=%2Fbye"))
            .unwrap();
        request
            .headers_mut()
            .insert(header::HOST, HeaderValue::from_bytes(host).unwrap());
        request
    };
    let cookie = h.sign_in().await;
    let response = h.send(sign_out(b"pr-9.preview.example.com", &cookie)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let logout = location(&response);
    assert_eq!(
        query_of(&logout)["return_to"],
        "https://pr-9.preview.example.com/bye"
    );
    // The emulator (as WorkOS with the wildcard registered) sends the browser back there.
    let back = http_client().get(&logout).send().await.unwrap();
    assert_eq!(back.status().as_u16(), 302);
    assert_eq!(
        back.headers()["location"],
        "https://pr-9.preview.example.com/bye"
    );

    for (why, host) in hostile_hosts() {
        let cookie = h.sign_in().await;
        let response = h.send(sign_out(host, &cookie)).await;
        let logout = location(&response);
        assert_eq!(
            query_of(&logout)["return_to"],
            "http://localhost:3000/bye",
            "{why}"
        );
    }
}

#[tokio::test]
async fn nothing_an_unlisted_host_asks_for_leaves_the_allow_list() {
    let h = preview_harness(false).await;
    let listed = |url: &str| {
        let Ok(url) = url::Url::parse(url) else {
            return true; // a path on this site
        };
        let host = url.host_str().unwrap_or_default().to_owned();
        host == "localhost"
            || url.origin() == url::Url::parse(h.emulator.base_url()).unwrap().origin()
            || host
                .strip_suffix(".preview.example.com")
                .is_some_and(|label| !label.contains('.'))
    };
    for (why, host) in hostile_hosts() {
        for path in [
            "/auth/sign-in",
            "/auth/sign-up?authkit_moved=1",
            "/callback?code=x&state=y",
            "/dashboard",
        ] {
            let response = h.send(on_host(path, host, None)).await;
            if let Some(loc) = response.headers().get(header::LOCATION) {
                let loc = loc.to_str().unwrap();
                assert!(listed(loc), "{why} {path}: {loc}");
                for (_, redirect_uri) in url::Url::parse(loc)
                    .map(|u| u.query_pairs().into_owned().collect::<Vec<_>>())
                    .unwrap_or_default()
                    .iter()
                    .filter(|(k, _)| k == "redirect_uri")
                {
                    assert_eq!(redirect_uri, REDIRECT_URI, "{why} {path}");
                }
            }
        }
    }
}

#[tokio::test]
async fn middleware_auth_sends_a_preview_visitor_to_sign_in_on_its_own_origin() {
    let h = Harness::with(Options {
        config: |c| c.redirect_origins([PREVIEWS]),
        layer: |l| l.middleware_auth(["/"]).unwrap(),
        ..Options::default()
    })
    .await;
    h.emulator.register_redirect_uri(REDIRECT_URI);
    h.emulator.register_redirect_uri(PREVIEW_CALLBACK);
    let response = h
        .send(on_host("/dashboard", b"pr-5.preview.example.com", None))
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let loc = location(&response);
    assert_eq!(
        query_of(&loc)["redirect_uri"],
        "https://pr-5.preview.example.com/callback"
    );
    for (why, host) in hostile_hosts() {
        let response = h.send(on_host("/dashboard", host, None)).await;
        assert_eq!(
            query_of(&location(&response))["redirect_uri"],
            REDIRECT_URI,
            "{why}"
        );
    }
}
