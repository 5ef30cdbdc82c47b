//! Sign-in start routes and the callback, through the real router and the emulator:
//! authkit-nextjs `authkit-callback-route.spec` and `pkce.spec`.

mod authkit_support;

use authkit_leptos::emulator::{Endpoint, Fault};
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::testing::{pkce_cookie_name, FlowState};
use authkit_leptos::{CallbackErrorCode, CallbackOptions};
use authkit_support::*;
use axum::body::Body;
use axum::response::IntoResponse;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt as _;
use std::sync::{Arc, Mutex};

async fn text(response: http::Response<Body>) -> String {
    String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

/// Starts a flow and gets the emulator's redirect back (code + state), without calling
/// the callback.
async fn code_and_state(h: &Harness, start: &str) -> (String, String, String) {
    let start_response = h.get(start, None).await;
    let verifier = set_cookies(start_response.headers())
        .into_iter()
        .find(|c| c.starts_with("wos-auth-verifier-"))
        .unwrap();
    let pair = verifier.split(';').next().unwrap().to_owned();
    let back = http_client()
        .get(location(&start_response))
        .send()
        .await
        .unwrap();
    let q = query_of(back.headers()["location"].to_str().unwrap());
    (q["code"].clone(), q["state"].clone(), pair)
}

fn callback_request(
    code: Option<&str>,
    state: Option<&str>,
    cookie: Option<&str>,
) -> Request<Body> {
    let mut url = url::Url::parse("http://localhost:3000/callback").unwrap();
    {
        let mut q = url.query_pairs_mut();
        if let Some(c) = code {
            q.append_pair("code", c);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
    }
    let path = format!("/callback?{}", url.query().unwrap_or_default());
    let mut r = Request::get(path.as_str());
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::empty()).unwrap()
}

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
    let want = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600",
        pkce_cookie_name(&q["state"]),
        q["state"]
    );
    assert_eq!(cookies[0], want);
    let state = FlowState::unseal(&q["state"], h.kit.config()).unwrap();
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
async fn a_successful_callback_stores_the_session_and_returns() {
    let h = Harness::new().await;
    let result = h
        .sign_in_with("/auth/sign-in?return_to=%2Fdashboard%3Ftab%3D2")
        .await;
    assert_eq!(result.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        result.location.as_deref(),
        Some("http://localhost:3000/dashboard?tab=2")
    );
    let session_cookie = result
        .cookies
        .iter()
        .find(|c| c.starts_with("wos-session="))
        .unwrap();
    assert!(
        session_cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000"),
        "{session_cookie}"
    );
    let verifier_name = result.verifier_pair.split('=').next().unwrap();
    assert!(
        result
            .cookies
            .iter()
            .any(|c| c.starts_with(&format!("{verifier_name}=;")) && c.contains("Max-Age=0")),
        "verifier deleted: {:?}",
        result.cookies
    );
    let session = unseal(&result.session);
    let keys: Vec<&String> = session.as_object().unwrap().keys().collect();
    assert!(
        keys.iter().all(|k| [
            "accessToken",
            "refreshToken",
            "user",
            "impersonator",
            "authenticationMethod"
        ]
        .contains(&k.as_str())),
        "whitelist only: {keys:?}"
    );
    assert_eq!(session["user"]["email"], "ada@example.com");
    assert!(
        session["user"].get("emailVerified").is_some(),
        "camelCase user"
    );
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
async fn base_url_sets_the_redirect_origin() {
    let h = Harness::new().await;
    assert!(CallbackOptions::default().base_url("not a url").is_err());
    let (code, state, pair) = code_and_state(&h, "/auth/sign-in?return_to=%2Fx").await;
    let app = h.kit.routes_with::<()>(
        CallbackOptions::default()
            .base_url("https://app.example.com")
            .unwrap(),
    );
    let response = tower::ServiceExt::oneshot(
        app,
        callback_request(Some(&code), Some(&state), Some(&pair)),
    )
    .await
    .unwrap();
    assert_eq!(location(&response), "https://app.example.com/x");
}

async fn expect_error(
    h: &Harness,
    request: Request<Body>,
    code: CallbackErrorCode,
    status: StatusCode,
) -> Vec<String> {
    let response = h.send(request).await;
    assert_eq!(response.status(), status, "{code:?}");
    let cookies = set_cookies(response.headers());
    assert!(
        cookies.iter().all(|c| !c.starts_with("wos-session=")),
        "no session on failure"
    );
    let page = text(response).await;
    assert!(page.contains(code.as_str()), "{page}");
    assert!(page.contains("Sign in again"), "{page}");
    assert!(
        !page.contains("panicked") && !page.contains("src/"),
        "no internals: {page}"
    );
    cookies
}

#[tokio::test]
async fn missing_code_or_state_is_missing_auth_params() {
    let h = Harness::new().await;
    let (_, state, pair) = code_and_state(&h, "/auth/sign-in").await;
    let cookies = expect_error(
        &h,
        callback_request(None, Some(&state), Some(&pair)),
        CallbackErrorCode::MissingAuthParams,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&pkce_cookie_name(&state)) && c.contains("Max-Age=0")),
        "verifier deleted on failure"
    );
    expect_error(
        &h,
        callback_request(Some("code"), None, None),
        CallbackErrorCode::MissingAuthParams,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        &h,
        Request::get("/callback").body(Body::empty()).unwrap(),
        CallbackErrorCode::MissingAuthParams,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn a_missing_verifier_cookie_is_missing_pkce_cookie() {
    let h = Harness::new().await;
    let (code, state, _) = code_and_state(&h, "/auth/sign-in").await;
    expect_error(
        &h,
        callback_request(Some(&code), Some(&state), None),
        CallbackErrorCode::MissingPkceCookie,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn flows_are_isolated_per_cookie() {
    let h = Harness::new().await;
    let (_, _, pair_a) = code_and_state(&h, "/auth/sign-in").await;
    let (code_b, state_b, pair_b) = code_and_state(&h, "/auth/sign-in").await;
    // Finishing flow B with only A's cookie fails; with both it succeeds.
    expect_error(
        &h,
        callback_request(Some(&code_b), Some(&state_b), Some(&pair_a)),
        CallbackErrorCode::MissingPkceCookie,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let both = format!("{pair_a}; {pair_b}");
    let response = h
        .send(callback_request(Some(&code_b), Some(&state_b), Some(&both)))
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
}

#[tokio::test]
async fn a_state_that_differs_from_the_cookie_is_a_mismatch() {
    let h = Harness::new().await;
    let (code, state, _) = code_and_state(&h, "/auth/sign-in").await;
    let (_, other_state, _) = code_and_state(&h, "/auth/sign-in").await;
    // The legacy unsuffixed cookie holding another flow's state.
    let cookie = format!("wos-auth-verifier={other_state}");
    expect_error(
        &h,
        callback_request(Some(&code), Some(&state), Some(&cookie)),
        CallbackErrorCode::OauthStateMismatch,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn the_legacy_verifier_cookie_still_works() {
    let h = Harness::new().await;
    let (code, state, _) = code_and_state(&h, "/auth/sign-in").await;
    let response = h
        .send(callback_request(
            Some(&code),
            Some(&state),
            Some(&format!("wos-auth-verifier={state}")),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
}

#[tokio::test]
async fn a_forged_state_is_rejected() {
    let h = Harness::new().await;
    let (code, _, _) = code_and_state(&h, "/auth/sign-in").await;
    for forged in ["not-a-seal", "Fe26.2*1*aa*bb*cc**dd*ee~2"] {
        let cookie = format!("{}={forged}", pkce_cookie_name(forged));
        expect_error(
            &h,
            callback_request(Some(&code), Some(forged), Some(&cookie)),
            CallbackErrorCode::InvalidState,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    // A state sealed with another password.
    let other = FlowState::new("v".repeat(43), None, None).unwrap();
    let other_config = h
        .emulator
        .config_builder()
        .redirect_uri(REDIRECT_URI)
        .cookie_password("another-password-that-is-32-chars-long!")
        .build()
        .unwrap();
    let sealed = other.seal(&other_config).unwrap();
    let cookie = format!("{}={sealed}", pkce_cookie_name(&sealed));
    expect_error(
        &h,
        callback_request(Some(&code), Some(&sealed), Some(&cookie)),
        CallbackErrorCode::InvalidState,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn a_wrong_verifier_or_a_replayed_code_fails_the_exchange() {
    let h = Harness::new().await;
    let (code, state, pair) = code_and_state(&h, "/auth/sign-in").await;
    // A valid state for this app, but with another verifier.
    let wrong = FlowState::new("w".repeat(43), None, None)
        .unwrap()
        .seal(h.kit.config())
        .unwrap();
    let cookie = format!("{}={wrong}", pkce_cookie_name(&wrong));
    expect_error(
        &h,
        callback_request(Some(&code), Some(&wrong), Some(&cookie)),
        CallbackErrorCode::AuthenticationFailed,
        // WorkOS refused the exchange: the browser's situation, not a gateway failure.
        StatusCode::BAD_REQUEST,
    )
    .await;
    // The code is spent after a failed attempt too? WorkOS codes are single-use once
    // exchanged; exchange it properly, then replay it.
    let (code, state2, pair2) = code_and_state(&h, "/auth/sign-in").await;
    let ok = h
        .send(callback_request(Some(&code), Some(&state2), Some(&pair2)))
        .await;
    assert_eq!(ok.status(), StatusCode::TEMPORARY_REDIRECT);
    let _ = (state, pair);
    // Replayed whole: the state is single-use, so WorkOS is not even asked.
    let calls = h.authenticate_calls();
    expect_error(
        &h,
        callback_request(Some(&code), Some(&state2), Some(&pair2)),
        CallbackErrorCode::InvalidState,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(h.authenticate_calls(), calls);
}

#[tokio::test]
async fn workos_without_tokens_is_missing_tokens() {
    let h = Harness::new().await;
    let (code, state, pair) = code_and_state(&h, "/auth/sign-in").await;
    let user = serde_json::json!({"object":"user","id":"user_1","email":"a@b.c","email_verified":true,"created_at":"x","updated_at":"x"});
    h.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::status(200).body(serde_json::json!({ "user": user })),
    );
    expect_error(
        &h,
        callback_request(Some(&code), Some(&state), Some(&pair)),
        CallbackErrorCode::MissingTokens,
        StatusCode::BAD_GATEWAY,
    )
    .await;
}

#[tokio::test]
async fn workos_unreachable_is_a_clear_error() {
    let h = Harness::new().await;
    let (code, state, pair) = code_and_state(&h, "/auth/sign-in").await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::drop_connection());
    expect_error(
        &h,
        callback_request(Some(&code), Some(&state), Some(&pair)),
        CallbackErrorCode::AuthenticationFailed,
        StatusCode::BAD_GATEWAY,
    )
    .await;
}

#[tokio::test]
async fn a_cancelled_sign_in_shows_a_page() {
    let h = Harness::new().await;
    let (_, state, pair) = code_and_state(&h, "/auth/sign-in").await;
    let path = format!(
        "/callback?error=access_denied&error_description=User+cancelled&state={}",
        url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>()
    );
    let response = h
        .send(
            Request::get(path.as_str())
                .header(header::COOKIE, pair)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        set_cookies(response.headers())
            .iter()
            .any(|c| c.contains("Max-Age=0")),
        "verifier deleted"
    );
    let page = text(response).await;
    assert!(page.contains("Sign-in was cancelled"));
    assert!(
        !page.contains("User cancelled"),
        "query text is never shown on this origin"
    );
}

#[tokio::test]
async fn on_success_sees_the_user_and_custom_state() {
    let h = Harness::new().await;
    /// (email, custom state, organization) per call.
    type Seen = Vec<(String, Option<String>, Option<String>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let sink = Arc::clone(&seen);
    let app = h
        .kit
        .routes_with::<()>(CallbackOptions::default().on_success(move |s| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().unwrap().push((
                    s.user.email.clone(),
                    s.state.clone(),
                    s.organization_id.clone(),
                ));
            }
        }));
    let link = h.kit.sign_in_link(&authkit_leptos::SignInOptions {
        state: Some("custom-123".into()),
        ..Default::default()
    });
    let (code, state, pair) = code_and_state(&h, &link).await;
    let response = tower::ServiceExt::oneshot(
        app,
        callback_request(Some(&code), Some(&state), Some(&pair)),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "ada@example.com");
    assert_eq!(
        seen[0].1.as_deref(),
        Some("custom-123"),
        "custom state, not the nonce"
    );
    assert!(seen[0].2.is_some());
}

#[tokio::test]
async fn on_error_replaces_the_page_and_the_verifier_is_still_deleted() {
    let h = Harness::new().await;
    let app = h
        .kit
        .routes_with::<()>(CallbackOptions::default().on_error(|e| {
            (
                StatusCode::IM_A_TEAPOT,
                format!("custom: {}", e.code.as_str()),
            )
                .into_response()
        }));
    let (_, state, pair) = code_and_state(&h, "/auth/sign-in").await;
    let response =
        tower::ServiceExt::oneshot(app, callback_request(None, Some(&state), Some(&pair)))
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert!(set_cookies(response.headers())
        .iter()
        .any(|c| c.starts_with(&pkce_cookie_name(&state)) && c.contains("Max-Age=0")));
    assert_eq!(text(response).await, "custom: missing_auth_params");
}

#[tokio::test]
async fn at_most_five_flow_cookies_are_kept() {
    let h = Harness::new().await;
    let existing = (0..5)
        .map(|i| format!("wos-auth-verifier-0000000{i}=x"))
        .collect::<Vec<_>>()
        .join("; ");
    let response = h
        .send(
            Request::get("/auth/sign-in")
                .header(header::COOKIE, existing)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let cookies = set_cookies(response.headers());
    assert_eq!(cookies.len(), 6, "{cookies:?}");
    assert_eq!(
        cookies.iter().filter(|c| c.contains("Max-Age=0")).count(),
        5
    );
}

#[tokio::test]
async fn the_authentication_method_is_persisted() {
    let h = Harness::with(Options {
        auto_approve_as: "grace@example.com",
        ..Options::default()
    })
    .await;
    let result = h.sign_in_with("/auth/sign-in").await;
    let session = unseal(&result.session);
    assert_eq!(session["user"]["email"], "grace@example.com");
    assert_eq!(session["authenticationMethod"], "GoogleOAuth");
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

/// When the flow cookie is missing anyway, the callback's page says what usually causes it.
#[tokio::test]
async fn a_callback_without_its_flow_cookie_explains_the_host_trap() {
    let h = Harness::new().await;
    let (code, state, _) = code_and_state(&h, "/auth/sign-in").await;
    let response = h
        .send(callback_request(Some(&code), Some(&state), None))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = text(response).await;
    assert!(page.contains("missing_pkce_cookie"), "{page}");
    assert!(
        page.contains("http://localhost:3000 instead of http://127.0.0.1:3000"),
        "{page}"
    );
    assert!(page.contains("cookies are blocked"), "{page}");
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

/// A foreign cookie with non-ASCII bytes next to the flow cookie does not lose it: the
/// sign-in completes.
#[tokio::test]
async fn a_foreign_non_ascii_cookie_does_not_lose_the_flow_cookie() {
    let h = Harness::new().await;
    let (code, state, pair) = code_and_state(&h, "/auth/sign-in?return_to=%2Fdashboard").await;
    let mut request = callback_request(Some(&code), Some(&state), None);
    let mut bytes = b"theme=caf\xc3\xa9; lang=\xe9; ".to_vec();
    bytes.extend_from_slice(pair.as_bytes());
    request.headers_mut().insert(
        header::COOKIE,
        http::HeaderValue::from_bytes(&bytes).unwrap(),
    );
    let response = h.send(request).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(
        location(&response).ends_with("/dashboard"),
        "{}",
        location(&response)
    );
    assert!(session_set_cookie(&response).is_some());
}

/// The back button after signing in replays the callback URL: a browser that holds a
/// session lands on the return path (with or without the flow cookie still there), not on
/// an error page; without a session a replayed code is a 400, never a 5xx.
#[tokio::test]
async fn replaying_a_completed_callback_while_signed_in_lands_on_the_return_path() {
    let h = Harness::new().await;
    let (code, state, pair) =
        code_and_state(&h, "/auth/sign-in?return_to=%2Fdashboard%3Ftab%3D2").await;
    let first = h
        .send(callback_request(Some(&code), Some(&state), Some(&pair)))
        .await;
    assert_eq!(first.status(), StatusCode::TEMPORARY_REDIRECT);
    let session = cookie_value(&session_set_cookie(&first).unwrap()).to_owned();
    let session_pair = format!("wos-session={session}");
    for cookie in [session_pair.clone(), format!("{pair}; {session_pair}")] {
        let replay = h
            .send(callback_request(Some(&code), Some(&state), Some(&cookie)))
            .await;
        assert_eq!(replay.status(), StatusCode::SEE_OTHER, "{cookie}");
        assert_eq!(location(&replay), "http://localhost:3000/dashboard?tab=2");
        assert!(
            session_set_cookie(&replay).is_none(),
            "the session stays as it is"
        );
    }
    // Signed out, the replay is the user's situation: 400 with or without the flow cookie.
    for cookie in [Some(pair.as_str()), None] {
        let replay = h
            .send(callback_request(Some(&code), Some(&state), cookie))
            .await;
        assert_eq!(replay.status(), StatusCode::BAD_REQUEST, "{cookie:?}");
    }
    // A garbage session cookie is not "signed in".
    let replay = h
        .send(callback_request(
            Some(&code),
            Some(&state),
            Some("wos-session=Fe26.2*garbage"),
        ))
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
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
                    let body = text(response).await;
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
