//! The sign-in start routes: the flow cookie and the authorization URL they redirect to
//! (options, login hint, sign-up screen), the move to the redirect URI's host first, the
//! flow cookie's size limit, and custom state only from links the app made.

use crate::support::*;
use authkit_leptos::testing::{pkce_cookie_name, FlowState};
use axum::body::Body;
use http::{header, Request, StatusCode};

#[tokio::test]
async fn the_start_route_sets_a_flow_cookie_and_redirects_to_authkit() {
    let h = Harness::new().await;
    let response = h
        .get("/auth/sign-in?return_to=%2Fdashboard%3Ftab%3D2", None)
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let loc = location(&response);
    let q = query_of(&loc);
    assert_eq!(q["client_id"], h.emulator.client_id());
    assert_eq!(q["provider"], "authkit");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["screen_hint"], "sign-in");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    // Query keys are sorted, as the WorkOS SDK sends them.
    let keys: Vec<String> = url::Url::parse(&loc)
        .unwrap()
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let cookies = set_cookies(response.headers());
    assert_eq!(cookies.len(), 1);
    // Named after the state; its value is the flow's secret, bound into the state (#23
    // item 4: authkit-nextjs's holds the state itself).
    let secret = cookie_value(&cookies[0]);
    assert!(secret.len() == 43 && secret != q["state"], "{secret}");
    let want = format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600",
        pkce_cookie_name(&q["state"]),
    );
    assert_eq!(cookies[0], want);
    let state = FlowState::unseal(&q["state"], h.kit.config()).unwrap();
    assert!(state.binding.is_some());
    assert_eq!(state.return_pathname.as_deref(), Some("/dashboard?tab=2"));
    assert_eq!(state.code_verifier.len(), 43);
}

#[tokio::test]
async fn sign_up_and_options_reach_the_authorize_url() {
    let h = Harness::new().await;
    let link = h.kit.sign_up_link(&authkit_leptos::SignInOptions {
        organization_id: Some("org_x".into()),
        login_hint: Some("a@b.c".into()),
        prompt: Some("consent".into()),
        max_age: Some(0),
        state: Some("mine".into()),
        ..Default::default()
    });
    let response = h.get(&link, None).await;
    let q = query_of(&location(&response));
    assert_eq!(q["screen_hint"], "sign-up");
    assert_eq!(q["organization_id"], "org_x");
    assert_eq!(q["login_hint"], "a@b.c");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["max_age"], "0", "max_age 0 is forwarded");
    let state = FlowState::unseal(&q["state"], h.kit.config()).unwrap();
    assert_eq!(state.custom_state.as_deref(), Some("mine"));
}

#[tokio::test]
async fn login_hint_selects_the_user() {
    let h = Harness::new().await;
    let result = h
        .sign_in_with("/auth/sign-in?login_hint=alan%40example.com")
        .await;
    assert_eq!(unseal(&result.session)["user"]["email"], "alan@example.com");
}

/// A start request at another host than the redirect URI's (`127.0.0.1` while the redirect
/// URI says `localhost`, or the reverse) is first moved to the redirect URI's origin, with
/// its path and query, and sets no flow cookie there: the verifier cookie must be set on
/// the host the callback will run on. Hosts compare as browsers compare them.
#[tokio::test]
async fn a_start_request_on_another_host_moves_to_the_redirect_uris_origin_first() {
    let h = Harness::new().await;
    let start = |host: &'static str, path: &'static str| {
        let h = &h;
        async move {
            h.send(
                Request::get(path)
                    .header(header::HOST, host)
                    .header(header::ACCEPT, "text/html")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    // The redirect URI is http://localhost:3000/callback.
    for (host, path) in [
        (
            "127.0.0.1:3000",
            "/auth/sign-in?return_to=%2Fdashboard%3Fa%3D1",
        ),
        ("localhost", "/auth/sign-in?return_to=%2Fdashboard%3Fa%3D1"),
        (
            "localhost:3001",
            "/auth/sign-in?return_to=%2Fdashboard%3Fa%3D1",
        ),
        ("[::1]:3000", "/auth/sign-in?return_to=%2Fdashboard%3Fa%3D1"),
        (
            "localhost.:3000",
            "/auth/sign-in?return_to=%2Fdashboard%3Fa%3D1",
        ),
        (
            "127.0.0.1:3000",
            "/auth/sign-up?return_to=%2Fdashboard%3Fa%3D1",
        ),
    ] {
        let response = start(host, path).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{host}");
        let (route, query) = path.split_once('?').unwrap();
        assert_eq!(
            location(&response),
            format!("http://localhost:3000{route}?{query}&authkit_moved=1"),
            "{host}"
        );
        assert!(
            set_cookies(response.headers()).is_empty(),
            "no flow cookie on the wrong host ({host})"
        );
    }
    // The same host, however it is written, starts the flow at once.
    for host in ["localhost:3000", "LOCALHOST:3000", "LocalHost:3000"] {
        let response = start(host, "/auth/sign-in?return_to=%2Fdashboard").await;
        assert_eq!(response.status(), StatusCode::FOUND, "{host}");
        assert!(
            location(&response).starts_with(h.emulator.base_url()),
            "{host}"
        );
        assert!(
            set_cookies(response.headers())
                .iter()
                .any(|c| c.starts_with("wos-auth-verifier-")),
            "{host}"
        );
    }
    // A proxy's X-Forwarded-Host is the host the browser used.
    let response = h
        .send(
            Request::get("/auth/sign-in")
                .header(header::HOST, "10.0.0.7:8080")
                .header("x-forwarded-host", "localhost:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(location(&response).starts_with(h.emulator.base_url()));
    // Already moved once (a proxy rewriting Host): never a loop, the flow starts.
    let response = start("127.0.0.1:3000", "/auth/sign-in?authkit_moved=1").await;
    assert!(location(&response).starts_with(h.emulator.base_url()));
}

/// With a cookie `Domain` covering both hosts, the flow cookie reaches the callback's host
/// anyway: a start request on a sibling host starts the flow where it is.
#[tokio::test]
async fn a_start_request_on_a_host_the_cookie_domain_covers_is_not_moved() {
    let h = Harness::with(Options {
        config: |c| {
            c.redirect_uri("http://app.example.test:3000/callback")
                .cookie_domain("example.test")
        },
        ..Options::default()
    })
    .await;
    for host in ["tenant.example.test:3000", "example.test:3000"] {
        let response = h
            .send(
                Request::get("/auth/sign-in")
                    .header(header::HOST, host)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::FOUND, "{host}");
        assert!(
            location(&response).starts_with(h.emulator.base_url()),
            "{host}"
        );
    }
    // A host outside the domain is still moved.
    let response = h
        .send(
            Request::get("/auth/sign-in")
                .header(header::HOST, "127.0.0.1:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(location(&response).starts_with("http://app.example.test:3000/auth/sign-in?"));
}

/// The flow cookie never exceeds what a browser keeps: within the documented limits of
/// custom state (2 KiB) and return path (1 KiB), a start either sets a cookie of at most
/// 4096 bytes or answers 400 saying what to shorten — never a silently dropped cookie.
#[tokio::test]
async fn the_flow_cookie_fits_in_a_browser_or_the_start_says_why_not() {
    let h = Harness::new().await;
    let mut refused = 0;
    for state_len in [0, 512, 1024, 1536, 2048] {
        for path_len in [0, 500, 1000] {
            let url = h.kit.sign_in_link(&authkit_leptos::SignInOptions {
                state: (state_len > 0).then(|| "s".repeat(state_len)),
                return_to: Some(format!("/{}", "p".repeat(path_len))),
                ..Default::default()
            });
            let response = h.get(&url, None).await;
            match response.status() {
                StatusCode::FOUND => {
                    for c in set_cookies(response.headers()) {
                        let pair = c.split(';').next().unwrap();
                        assert!(
                            pair.len() <= 4096,
                            "{state_len}/{path_len}: {} bytes",
                            pair.len()
                        );
                    }
                }
                StatusCode::BAD_REQUEST => {
                    refused += 1;
                    assert!(set_cookies(response.headers()).is_empty());
                    let body = body_text(response).await;
                    assert!(
                        body.contains("shorten the custom state or the return path"),
                        "{body}"
                    );
                }
                other => panic!("{state_len}/{path_len}: {other}"),
            }
        }
    }
    assert!(
        refused > 0,
        "the largest combination does not fit and is refused"
    );
}

/// Custom state reaches `on_success` only from links the app made: typed into the start
/// route (or with a MAC for other state) it is refused, and the sign-in does not start.
#[tokio::test]
async fn visitors_cannot_mint_custom_state() {
    let h = Harness::new().await;
    let link = h.kit.sign_in_link(&authkit_leptos::SignInOptions {
        state: Some("plan=pro".into()),
        ..Default::default()
    });
    let mac = query_of(&link)["state_mac"].clone();
    for forged in [
        "/auth/sign-in?state=plan%3Denterprise".to_owned(),
        format!("/auth/sign-in?state=plan%3Denterprise&state_mac={mac}"),
        "/auth/sign-in?state=plan%3Dpro&state_mac=AAAA".to_owned(),
        "/auth/sign-up?state=x".to_owned(),
    ] {
        let response = h.get(&forged, None).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{forged}");
        assert!(set_cookies(response.headers()).is_empty(), "{forged}");
    }
    let response = h.get(&link, None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    // Links without custom state need no MAC.
    assert_eq!(
        h.get("/auth/sign-in?return_to=%2Fx", None).await.status(),
        StatusCode::FOUND
    );
}

/// A link with custom state is signed whole (#23 item 8): changing, adding or removing any
/// other sign-in parameter (return path, login hint, organization, prompt, `max_age`) or
/// its expiry breaks the signature; the signature expires (a day after the link was
/// made); and its key is derived from the cookie password, so a MAC made with the
/// password itself (as links were signed before) is refused.
#[tokio::test]
async fn a_signed_link_covers_every_parameter_and_expires() {
    use base64::Engine as _;
    let h = Harness::new().await;
    let link = h.kit.sign_in_link(&authkit_leptos::SignInOptions {
        state: Some("plan=pro".into()),
        return_to: Some("/billing".into()),
        login_hint: Some("ada@example.com".into()),
        organization_id: Some("org_123".into()),
        ..Default::default()
    });
    let q = query_of(&link);
    let expires: u64 = q
        .get("state_expires")
        .unwrap_or_else(|| panic!("no expiry in {link}"))
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        (now + 23 * 3600..=now + 25 * 3600).contains(&expires),
        "{expires} vs {now}"
    );
    let changed = |key: &str, value: Option<&str>| {
        let mut url = url::Url::parse("http://x.invalid")
            .unwrap()
            .join(&link)
            .unwrap();
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != key)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if let Some(v) = value {
            pairs.push((key.to_owned(), v.to_owned()));
        }
        url.query_pairs_mut().clear().extend_pairs(pairs);
        format!("{}?{}", url.path(), url.query().unwrap())
    };
    for forged in [
        changed("login_hint", Some("grace@example.com")),
        changed("login_hint", None),
        changed("return_to", Some("/admin")),
        changed("organization_id", Some("org_456")),
        changed("prompt", Some("consent")),
        changed("max_age", Some("0")),
        changed("state_expires", Some(&(expires + 3600).to_string())),
        changed("state_expires", None),
    ] {
        let response = h.get(&forged, None).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{forged}");
        assert!(set_cookies(response.headers()).is_empty(), "{forged}");
    }
    assert_eq!(h.get(&link, None).await.status(), StatusCode::FOUND);

    // A MAC under the cookie password itself, over the state alone.
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, PASSWORD.as_bytes());
    let mut message = b"authkit-leptos sign-in link custom state\0".to_vec();
    message.extend_from_slice(b"plan=pro");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(aws_lc_rs::hmac::sign(&key, &message).as_ref());
    let response = h
        .get(
            &format!("/auth/sign-in?state=plan%3Dpro&state_mac={raw}"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
