//! authkit-nextjs `session.spec` ported: `withAuth`, `updateSessionMiddleware`,
//! `updateSession` (PKCE cleanup, refresh hooks, proactive refresh), `refreshSession`,
//! `getTokenClaims` and `checkRecentAuth`, through the real router (the AuthKit layer,
//! Leptos SSR and server functions) and the emulator over loopback. `tests/PARITY.md`
//! maps every nextjs case to a test here or elsewhere.

mod authkit_support;

use authkit_leptos::emulator::{Endpoint, Fault, Seed};
use authkit_leptos::testing::FlowState;
use authkit_leptos::{AuthError, AuthKitConfig};
use authkit_support::*;
// Named explicitly: the Leptos prelude has a `location` too.
use authkit_support::location;
use axum::body::Body;
use http::{header, Method, Request, StatusCode};
use leptos::prelude::*;
use leptos_router::components::{Route, Router as LeptosRouter, Routes};
use leptos_router::path;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ------------------------------------------------------------------ the Leptos app

#[server(prefix = "/api", endpoint = "whoami")]
async fn whoami_fn() -> Result<Option<String>, AuthError> {
    Ok(authkit_leptos::with_auth().await?.user.map(|u| u.email))
}

#[server(prefix = "/api", endpoint = "protected")]
async fn protected_fn() -> Result<String, AuthError> {
    Ok(authkit_leptos::ensure_signed_in().await?.user.email)
}

/// `refresh_session`, then what a later `with_auth` in the same request sees.
#[server(prefix = "/api", endpoint = "refresh")]
async fn refresh_fn(
    organization_id: Option<String>,
) -> Result<(Option<String>, Option<String>), AuthError> {
    let refreshed = authkit_leptos::refresh_session(organization_id.as_deref()).await?;
    let later = authkit_leptos::with_auth().await?;
    assert_eq!(later.organization_id, refreshed.organization_id);
    Ok((refreshed.organization_id, later.user.map(|u| u.email)))
}

#[server(prefix = "/api", endpoint = "claims-map")]
async fn claims_map_fn() -> Result<Option<serde_json::Value>, AuthError> {
    authkit_leptos::get_token_claims().await
}

/// The WorkOS claims every access token may carry.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StandardClaims {
    sub: String,
    sid: String,
    org_id: Option<String>,
    role: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    entitlements: Vec<String>,
    #[serde(default)]
    feature_flags: Vec<String>,
}

#[server(prefix = "/api", endpoint = "claims-typed")]
async fn claims_typed_fn() -> Result<Option<StandardClaims>, AuthError> {
    authkit_leptos::get_token_claims().await
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Actor {
    sub: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ImpersonationClaims {
    act: Option<Actor>,
}

#[server(prefix = "/api", endpoint = "claims-nested")]
async fn claims_nested_fn() -> Result<Option<ImpersonationClaims>, AuthError> {
    authkit_leptos::get_token_claims().await
}

/// `(is_stale, authenticated_at as Unix seconds)`.
#[server(prefix = "/api", endpoint = "recent")]
async fn recent_fn(max_age_secs: u64) -> Result<(bool, Option<u64>), AuthError> {
    let r = authkit_leptos::check_recent_auth(Duration::from_secs(max_age_secs)).await?;
    let at = r
        .authenticated_at
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    Ok((r.is_stale, at))
}

/// A custom flow: the app exchanges a code itself and stores the result with
/// `save_session`; a later `with_auth` in the same request sees the new session.
#[server(prefix = "/api", endpoint = "custom-flow")]
async fn custom_flow_fn(code: String, verifier: String) -> Result<Option<String>, AuthError> {
    let kit = expect_context::<authkit_leptos::AuthKit>();
    let response = kit
        .client()
        .authenticate_with_code(&code, Some(&verifier))
        .await
        .map_err(|e| AuthError::WorkOs(e.to_string()))?;
    let saved = authkit_leptos::save_session(response).await?;
    let later = authkit_leptos::with_auth().await?;
    assert_eq!(later.user.as_ref().map(|u| &u.id), Some(&saved.user.id));
    Ok(later.user.map(|u| u.email))
}

#[component]
fn TestApp() -> impl IntoView {
    view! {
        <LeptosRouter>
            <Routes fallback=|| "not found">
                <Route path=path!("/page/protected") view=ProtectedPage />
                <Route path=path!("/page/join") view=ProtectedPage />
                <Route path=path!("/page/whoami") view=WhoamiPage />
            </Routes>
        </LeptosRouter>
    }
}

#[component]
fn ProtectedPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| protected_fn());
    view! {
        <Suspense fallback=|| "loading">
            {move || Suspend::new(async move {
                match data.await {
                    Ok(email) => format!("Hello, {email}!"),
                    Err(e) => format!("error: {e}"),
                }
            })}
        </Suspense>
    }
}

#[component]
fn WhoamiPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| whoami_fn());
    view! {
        <Suspense fallback=|| "loading">
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(email)) => format!("signed in as {email}"),
                    Ok(None) => "signed out".to_owned(),
                    Err(e) => format!("error: {e}"),
                }
            })}
        </Suspense>
    }
}

async fn leptos(options: Options) -> Harness {
    Harness::with_leptos(options, TestApp).await
}

async fn leptos_default() -> Harness {
    leptos(Options::default()).await
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A session cookie whose sealed user is not the access token's subject.
fn forged_user(cookie: &str) -> String {
    let mut session = unseal(cookie);
    session["user"]["id"] = "user_someone_else".into();
    authkit_leptos::seal::seal_json(
        &session,
        &authkit_leptos::PasswordMap::single(PASSWORD),
        None,
    )
    .unwrap()
}

fn invalid_grant() -> Fault {
    Fault::status(400).body(serde_json::json!({
        "error": "invalid_grant",
        "error_description": "The refresh token has already been used."
    }))
}

fn header_names(response: &http::Response<Body>) -> Vec<String> {
    response
        .headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .collect()
}

// ================================================================== withAuth

#[tokio::test]
async fn ensure_signed_in_redirects_when_the_sealed_user_does_not_match_the_token() {
    let h = leptos_default().await;
    let forged = forged_user(&h.sign_in().await);
    let (response, body) = h.page("/page/protected", Some(&forged)).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{body}");
    assert_eq!(
        location(&response),
        "/auth/sign-in?return_to=%2Fpage%2Fprotected"
    );
    assert!(!body.contains("Hello"), "no protected content: {body}");
    assert!(
        deletes_cookie(response.headers(), "wos-session"),
        "the forged cookie is deleted"
    );
}

#[tokio::test]
async fn with_auth_in_a_server_function_rejects_a_mismatched_session() {
    let h = leptos_default().await;
    let forged = forged_user(&h.sign_in().await);
    let (status, body, response) = h.call("whoami", "", Some(&forged)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::Value::Null,
        "signed out, not the forged user"
    );
    assert!(deletes_cookie(response.headers(), "wos-session"));
}

#[tokio::test]
async fn with_auth_outside_a_request_says_it_needs_the_request_context() {
    let err = authkit_leptos::with_auth().await.unwrap_err();
    assert_eq!(err, AuthError::NoRequestContext);
    assert!(err.to_string().contains("server function"), "{err}");
}

#[tokio::test]
async fn ensure_signed_in_outside_a_request_is_an_error_not_a_redirect() {
    let err = authkit_leptos::ensure_signed_in().await.unwrap_err();
    assert_eq!(err, AuthError::NoRequestContext);
    assert_eq!(err.sign_in_url(), None);
}

#[tokio::test]
async fn ensure_signed_in_on_an_uncovered_route_names_the_fix() {
    let h = leptos(Options {
        layer: |l| l.without_server_fns(),
        ..Options::default()
    })
    .await;
    let (status, body, _) = h.call("protected", "", None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let error: AuthError = serde_json::from_value(body.clone()).expect("an AuthError");
    assert!(
        matches!(error, AuthError::NotCovered { ref path, .. } if path == "/api/protected"),
        "{error:?}"
    );
    assert!(error.to_string().contains("AuthKitLayer::matcher"));
}

#[tokio::test]
async fn ensure_signed_in_return_path_reaches_the_sealed_state_with_its_query() {
    let h = leptos_default().await;
    let (response, _) = h.page("/page/protected?test=123", None).await;
    let sign_in = location(&response);
    assert_eq!(
        sign_in,
        "/auth/sign-in?return_to=%2Fpage%2Fprotected%3Ftest%3D123"
    );
    // Following the link seals the path and query into the flow's state.
    let start = h.get(&sign_in, None).await;
    let q = query_of(&location(&start));
    let state = FlowState::unseal(&q["state"], h.kit.config()).unwrap();
    assert_eq!(
        state.return_pathname.as_deref(),
        Some("/page/protected?test=123")
    );
}

#[tokio::test]
async fn ensure_signed_in_on_a_sign_up_path_opens_the_sign_up_screen() {
    let h = leptos(Options {
        layer: |l| l.sign_up_paths(["/page/join"]).unwrap(),
        ..Options::default()
    })
    .await;
    let (response, _) = h.page("/page/join", None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let sign_up = location(&response);
    assert_eq!(sign_up, "/auth/sign-up?return_to=%2Fpage%2Fjoin");
    let start = h.get(&sign_up, None).await;
    assert_eq!(query_of(&location(&start))["screen_hint"], "sign-up");
    // Other pages still open the sign-in screen.
    let (response, _) = h.page("/page/protected", None).await;
    assert!(location(&response).starts_with("/auth/sign-in?"));
}

#[tokio::test]
async fn ensure_signed_in_from_a_server_function_on_a_sign_up_page_links_to_sign_up() {
    let h = leptos(Options {
        layer: |l| l.sign_up_paths(["/page/join"]).unwrap(),
        ..Options::default()
    })
    .await;
    let response = h
        .send(
            Request::post("/api/protected")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .header(header::REFERER, "http://localhost:3000/page/join?team=1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let error: AuthError = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(
        error.sign_in_url(),
        Some("/auth/sign-up?return_to=%2Fpage%2Fjoin%3Fteam%3D1")
    );
}

// ================================================================== start-up checks

fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

const BASE_VARS: [(&str, &str); 4] = [
    ("WORKOS_CLIENT_ID", "client_1234567890"),
    ("WORKOS_API_KEY", "sk_test_1234567890"),
    ("WORKOS_REDIRECT_URI", "http://localhost:3000/callback"),
    ("WORKOS_COOKIE_PASSWORD", PASSWORD),
];

fn config_without(name: &str, replacement: Option<&str>) -> Result<AuthKitConfig, String> {
    let mut pairs: Vec<(&str, &str)> = BASE_VARS
        .iter()
        .copied()
        .filter(|(k, _)| *k != name)
        .collect();
    if let Some(v) = replacement {
        pairs.push((name, v));
    }
    AuthKitConfig::from_vars(vars(&pairs)).map_err(|e| e.to_string())
}

#[test]
fn a_config_without_a_redirect_uri_fails_at_start_up() {
    let err = config_without("WORKOS_REDIRECT_URI", None).unwrap_err();
    assert!(err.contains("WORKOS_REDIRECT_URI: missing"), "{err}");
}

#[test]
fn a_config_without_a_cookie_password_fails_at_start_up() {
    let err = config_without("WORKOS_COOKIE_PASSWORD", None).unwrap_err();
    assert!(err.contains("WORKOS_COOKIE_PASSWORD: missing"), "{err}");
}

#[test]
fn a_cookie_password_under_32_characters_fails_at_start_up() {
    let err = config_without("WORKOS_COOKIE_PASSWORD", Some("short")).unwrap_err();
    assert!(err.contains("WORKOS_COOKIE_PASSWORD"), "{err}");
    assert!(err.contains("at least 32 characters"), "{err}");
    assert!(config_without("WORKOS_COOKIE_PASSWORD", Some(&"x".repeat(32))).is_ok());
}

// ================================================================== the layer: refresh

#[tokio::test]
async fn an_access_token_with_a_bad_signature_is_refreshed() {
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    let mut session = unseal(&cookie);
    let token = session["accessToken"].as_str().unwrap().to_owned();
    let (head, sig) = token.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    session["accessToken"] = format!("{head}.{flipped}{}", &sig[1..]).into();
    let tampered = authkit_leptos::seal::seal_json(
        &session,
        &authkit_leptos::PasswordMap::single(PASSWORD),
        None,
    )
    .unwrap();
    h.emulator.reset_counters();
    let (response, body) = h.whoami("/", Some(&tampered)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(
        h.refresh_exchanges(),
        1,
        "a token that fails verification is refreshed"
    );
    let set = session_set_cookie(&response).expect("the refreshed session is written");
    let new = unseal(cookie_value(&set));
    assert_ne!(new["accessToken"], session["accessToken"]);
}

#[tokio::test]
async fn a_terminal_invalid_grant_deletes_the_cookie() {
    let h = Harness::new().await;
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["user"], serde_json::Value::Null);
    assert_eq!(
        session_set_cookie(&response).as_deref(),
        Some("wos-session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
    );
}

/// A refresh WorkOS refuses without ending the session (no `invalid_grant`: a rotated API
/// key, a bad request) signs the request out but keeps the cookie: deleting it would sign
/// every user out over an operator's mistake. (authkit-nextjs deletes on any
/// non-transient error; see `tests/PARITY.md`.)
macro_rules! refused_refresh_keeps_the_cookie {
    ($($name:ident: $status:expr,)*) => {$(
        #[tokio::test]
        async fn $name() {
            let h = Harness::new().await;
            let cookie = h.expired_session().await;
            h.emulator.inject_fault(Endpoint::Authenticate, Fault::status($status));
            let (response, body) = h.whoami("/", Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(body["user"], serde_json::Value::Null);
            assert!(session_set_cookie(&response).is_none(), "{}: cookie kept", $status);
            assert_eq!(h.authenticate_calls(), 1, "no retry for {}", $status);
        }
    )*};
}

refused_refresh_keeps_the_cookie! {
    a_refresh_refused_with_400_without_invalid_grant_keeps_the_cookie: 400,
    a_refresh_refused_with_401_keeps_the_cookie: 401,
    a_refresh_refused_with_403_keeps_the_cookie: 403,
}

/// A refresh that fails with a transient error keeps the cookie (the session is fine;
/// WorkOS is not), and the same cookie works once WorkOS is back.
macro_rules! transient_refresh_failure {
    ($($name:ident: $fault:expr,)*) => {$(
        #[tokio::test]
        async fn $name() {
            let h = Harness::new().await;
            let cookie = h.expired_session().await;
            h.emulator.inject_fault(Endpoint::Authenticate, $fault);
            let (response, body) = h.whoami("/", Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(body["user"], serde_json::Value::Null);
            assert!(session_set_cookie(&response).is_none(), "the cookie is kept");
            let (_, body) = h.whoami("/", Some(&cookie)).await;
            assert_eq!(body["email"], "ada@example.com", "and works once WorkOS is back");
        }
    )*};
}

transient_refresh_failure! {
    a_rate_limited_refresh_429_keeps_the_cookie: Fault::status(429).retry_after(1).times(2),
    a_refresh_during_a_503_keeps_the_cookie: Fault::status(503),
    a_refresh_timing_out_at_workos_408_keeps_the_cookie: Fault::status(408),
    a_refresh_during_a_500_keeps_the_cookie: Fault::status(500),
    a_refresh_during_a_502_keeps_the_cookie: Fault::status(502),
    a_refresh_during_a_504_keeps_the_cookie: Fault::status(504),
    a_refresh_whose_connection_drops_keeps_the_cookie: Fault::drop_connection(),
}

#[tokio::test]
async fn a_refresh_with_workos_unreachable_keeps_the_cookie() {
    let h = Harness::new().await;
    let cookie = h.expired_session().await;
    // The keys are cached (the sign-in verified a token); now WorkOS goes away.
    let Harness { emulator, kit, app } = h;
    emulator.shutdown().await;
    let response = tower::ServiceExt::oneshot(
        app,
        Request::get("/")
            .header(header::COOKIE, format!("wos-session={cookie}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        session_set_cookie(&response).is_none(),
        "not deleted while WorkOS is down"
    );
    let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body["user"], serde_json::Value::Null);
    drop(kit);
}

#[tokio::test]
async fn a_refresh_that_times_out_keeps_the_cookie() {
    let h = Harness::with(Options {
        config: |c| c.http_timeout(Duration::from_millis(300)),
        ..Options::default()
    })
    .await;
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::delay(Duration::from_secs(1)));
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["user"], serde_json::Value::Null);
    assert!(
        session_set_cookie(&response).is_none(),
        "a timeout is transient"
    );
}

// ================================================================== middleware auth

/// Middleware auth with no public path: every covered page needs a user.
async fn protect_everything() -> Harness {
    Harness::with(Options {
        layer: |l| l.middleware_auth(Vec::<String>::new()).unwrap(),
        ..Options::default()
    })
    .await
}

/// Middleware auth with public pages (`/`, `/public`, `/open/…`) and sign-up paths.
async fn protect_with_public_paths() -> Harness {
    Harness::with(Options {
        layer: |l| {
            l.matcher(["/public", "/open/:path*"])
                .unwrap()
                .middleware_auth(["/", "/public", "/open/:path*"])
                .unwrap()
                .sign_up_paths(["/dashboard/signup/:path*", "/dashboard/join"])
                .unwrap()
        },
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn middleware_auth_redirects_head_requests_with_307() {
    let h = protect_everything().await;
    let response = h
        .send(
            Request::head("/dashboard")
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(location(&response).starts_with(&format!(
        "{}/user_management/authorize?",
        h.emulator.base_url()
    )));
}

#[tokio::test]
async fn middleware_auth_redirects_the_home_page_when_nothing_is_public() {
    let h = protect_everything().await;
    let response = h.get("/", None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let q = query_of(&location(&response));
    assert_eq!(q["redirect_uri"], REDIRECT_URI);
    assert_eq!(q["client_id"], h.emulator.client_id());
}

#[tokio::test]
async fn middleware_auth_lets_the_callback_path_through_without_a_session() {
    let h = Harness::with(Options {
        layer: |l| {
            l.matcher(["/:path*"])
                .unwrap()
                .middleware_auth(Vec::<String>::new())
                .unwrap()
        },
        ..Options::default()
    })
    .await;
    let response = h.get("/callback", None).await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "the callback handler answered, not a redirect to AuthKit"
    );
    assert!(body_text(response).await.contains("missing_auth_params"));
}

#[tokio::test]
async fn middleware_auth_takes_the_callback_path_from_the_configured_redirect_uri() {
    let h = Harness::with(Options {
        config: |c| c.redirect_uri("http://localhost:3000/oauth/done"),
        layer: |l| {
            l.matcher(["/:path*"])
                .unwrap()
                .middleware_auth(Vec::<String>::new())
                .unwrap()
        },
        ..Options::default()
    })
    .await;
    assert_eq!(h.kit.callback_path(), "/oauth/done");
    let response = h.get("/oauth/done", None).await;
    assert_ne!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    // Every other page is protected.
    let response = h.get("/dashboard", None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
}

#[tokio::test]
async fn middleware_auth_allows_nested_unauthenticated_patterns() {
    let h = protect_with_public_paths().await;
    for path in ["/public", "/open", "/open/a/b"] {
        let response = h.get(path, None).await;
        assert_ne!(
            response.status(),
            StatusCode::TEMPORARY_REDIRECT,
            "{path} is public"
        );
    }
    let response = h.get("/dashboard", None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
}

#[tokio::test]
async fn sign_up_paths_accept_patterns() {
    let h = protect_with_public_paths().await;
    let response = h.get("/dashboard/signup/team", None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(query_of(&location(&response))["screen_hint"], "sign-up");
    let response = h.get("/dashboard/settings", None).await;
    assert_eq!(query_of(&location(&response))["screen_hint"], "sign-in");
}

#[tokio::test]
async fn no_internal_authkit_headers_reach_the_browser() {
    let h = protect_with_public_paths().await;
    let cookie = h.sign_in().await;
    let expired = h.expired_session().await;
    let responses = [
        h.get("/dashboard/join", None).await,
        h.get("/dashboard", Some(&cookie)).await,
        h.get("/dashboard", Some(&expired)).await,
        h.get("/public", None).await,
    ];
    for response in &responses {
        for name in header_names(response) {
            assert!(
                !name.starts_with("x-workos")
                    && !name.starts_with("x-authkit")
                    && !["x-sign-up-paths", "x-url", "x-redirect-uri"].contains(&name.as_str()),
                "internal header {name} leaked"
            );
        }
    }
}

#[test]
fn middleware_auth_rejects_an_invalid_pattern_at_start_up() {
    let config = AuthKitConfig::builder()
        .client_id("client_1234567890")
        .api_key("sk_test_1234567890")
        .redirect_uri(REDIRECT_URI)
        .cookie_password(PASSWORD)
        .build()
        .unwrap();
    let kit = authkit_leptos::AuthKit::new(config).unwrap();
    assert!(kit.layer().middleware_auth(["[*"]).is_err());
    assert!(kit.layer().sign_up_paths(["[*"]).is_err());
    assert!(kit.layer().middleware_auth(["/ok/:path*"]).is_ok());
}

#[test]
fn a_bad_unauthenticated_path_error_names_the_pattern() {
    let config = AuthKitConfig::builder()
        .client_id("client_1234567890")
        .api_key("sk_test_1234567890")
        .redirect_uri(REDIRECT_URI)
        .cookie_password(PASSWORD)
        .build()
        .unwrap();
    let kit = authkit_leptos::AuthKit::new(config).unwrap();
    let err = kit
        .layer()
        .middleware_auth(["/fine", "/users/:id(\\d+)"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`/users/:id(\\d+)`"), "{err}");
    assert!(err.contains("not supported"), "{err}");
}

#[tokio::test]
async fn middleware_auth_deletes_a_dead_cookie_and_redirects() {
    let h = protect_everything().await;
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let response = h.get("/dashboard", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(deletes_cookie(response.headers(), "wos-session"));
    let q = query_of(&location(&response));
    let flow_cookie = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("wos-auth-verifier-"))
        .expect("a new flow");
    assert_eq!(cookie_value(&flow_cookie), q["state"]);
}

#[tokio::test]
async fn middleware_auth_keeps_a_cookie_through_a_transient_failure_but_still_redirects() {
    let h = protect_everything().await;
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(503));
    let response = h.get("/dashboard", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(
        session_set_cookie(&response).is_none(),
        "the session cookie survives the outage"
    );
}

#[tokio::test]
async fn a_request_without_an_accept_header_is_not_treated_as_a_page() {
    let h = protect_everything().await;
    let response = h
        .send(Request::get("/dashboard").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookies(response.headers()).is_empty(), "no flow cookie");
}

// ================================================================== updateSession

#[tokio::test]
async fn a_signed_out_page_render_sets_no_flow_cookie() {
    let h = leptos_default().await;
    let (response, body) = h.page("/page/whoami", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("signed out"), "{body}");
    assert!(set_cookies(response.headers()).is_empty());
    // Even a page that needs a user only links to the start route.
    let (response, _) = h.page("/page/protected", None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(location(&response).starts_with("/auth/sign-in?"));
    assert!(set_cookies(response.headers()).is_empty());
}

#[tokio::test]
async fn a_failed_refresh_on_a_protected_page_redirects_and_deletes_the_cookie() {
    let h = leptos_default().await;
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let (response, body) = h.page("/page/protected", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{body}");
    assert_eq!(
        location(&response),
        "/auth/sign-in?return_to=%2Fpage%2Fprotected"
    );
    assert!(deletes_cookie(response.headers(), "wos-session"));
}

#[tokio::test]
async fn a_refresh_during_ssr_signs_the_page_in() {
    let h = leptos_default().await;
    let cookie = h.expired_session().await;
    let (response, body) = h.page("/page/whoami", Some(&cookie)).await;
    assert!(body.contains("signed in as ada@example.com"), "{body}");
    assert_eq!(h.refresh_exchanges(), 1);
    assert!(session_set_cookie(&response).is_some());
}

// ------------------------------------------------------------------ PKCE cookie cleanup

fn stale_flow_cookies(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("wos-auth-verifier-{i:08x}=stale-state-{i}"))
        .collect()
}

/// A signed-out document request to a middleware-auth page, with these cookies.
async fn redirect_with_cookies(h: &Harness, cookies: &[String]) -> http::Response<Body> {
    let mut request = Request::get("/dashboard").header(header::ACCEPT, "text/html");
    if !cookies.is_empty() {
        request = request.header(header::COOKIE, cookies.join("; "));
    }
    let response = h.send(request.body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    response
}

fn new_flow_cookie(response: &http::Response<Body>) -> Option<String> {
    let state = query_of(&location(response))["state"].clone();
    set_cookie_named(
        response.headers(),
        &authkit_leptos::testing::pkce_cookie_name(&state),
    )
}

#[tokio::test]
async fn flow_cookies_below_the_limit_are_kept_when_a_flow_starts() {
    let h = protect_everything().await;
    let existing = vec![
        "wos-auth-verifier-aaaaaaaa=stale-a".to_owned(),
        "wos-auth-verifier-bbbbbbbb=stale-b".to_owned(),
    ];
    let response = redirect_with_cookies(&h, &existing).await;
    let cookies = set_cookies(response.headers());
    assert!(new_flow_cookie(&response).is_some(), "{cookies:?}");
    assert_eq!(cookies.len(), 1, "concurrent flows preserved: {cookies:?}");
}

#[tokio::test]
async fn every_flow_cookie_is_expired_at_the_limit_when_a_flow_starts() {
    let h = protect_everything().await;
    let response = redirect_with_cookies(&h, &stale_flow_cookies(5)).await;
    for i in 0..5 {
        assert!(
            deletes_cookie(response.headers(), &format!("wos-auth-verifier-{i:08x}")),
            "stale cookie {i} expired"
        );
    }
    let new = new_flow_cookie(&response).expect("the new flow's cookie");
    assert!(new.contains("Max-Age=600"));
}

#[tokio::test]
async fn stale_flow_cookies_are_expired_when_a_failed_refresh_redirects() {
    let h = protect_everything().await;
    let session = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let mut cookies = stale_flow_cookies(5);
    cookies.push(format!("wos-session={session}"));
    let response = redirect_with_cookies(&h, &cookies).await;
    assert!(deletes_cookie(
        response.headers(),
        "wos-auth-verifier-00000000"
    ));
    assert!(deletes_cookie(response.headers(), "wos-session"));
    assert!(new_flow_cookie(&response).is_some());
}

#[tokio::test]
async fn fetch_requests_neither_set_nor_expire_flow_cookies() {
    let h = protect_everything().await;
    let response = h
        .send(
            Request::get("/dashboard")
                .header(header::ACCEPT, "application/json")
                .header(header::COOKIE, stale_flow_cookies(10).join("; "))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        !set_cookies(response.headers())
            .iter()
            .any(|c| c.contains("wos-auth-verifier")),
        "{:?}",
        set_cookies(response.headers())
    );
}

#[tokio::test]
async fn other_cookies_are_never_expired_by_flow_cleanup() {
    let h = protect_everything().await;
    let mut cookies = stale_flow_cookies(5);
    cookies.push("some-other-cookie=value".to_owned());
    let response = redirect_with_cookies(&h, &cookies).await;
    assert!(!set_cookies(response.headers())
        .iter()
        .any(|c| c.starts_with("some-other-cookie=")));
}

#[tokio::test]
async fn the_legacy_verifier_cookie_survives_below_the_limit() {
    let h = protect_everything().await;
    let response =
        redirect_with_cookies(&h, &["wos-auth-verifier=legacy-sealed-state".to_owned()]).await;
    assert!(set_cookie_named(response.headers(), "wos-auth-verifier").is_none());
}

#[tokio::test]
async fn the_legacy_verifier_cookie_is_expired_at_the_limit() {
    let h = protect_everything().await;
    let mut cookies = stale_flow_cookies(5);
    cookies.push("wos-auth-verifier=legacy-sealed-state".to_owned());
    let response = redirect_with_cookies(&h, &cookies).await;
    assert!(deletes_cookie(response.headers(), "wos-auth-verifier"));
}

// ------------------------------------------------------------------ refresh hooks

static SUCCESS_SEEN: Mutex<Vec<(String, Option<String>, String)>> = Mutex::new(Vec::new());

#[tokio::test]
async fn the_refresh_success_hook_sees_the_user_organization_and_session() {
    let h = Harness::with(Options {
        builder: |b| {
            b.on_refresh_success(|s| {
                SUCCESS_SEEN.lock().unwrap().push((
                    s.user.id.clone(),
                    s.organization_id.map(str::to_owned),
                    s.session_id.to_owned(),
                ));
            })
        },
        ..Options::default()
    })
    .await;
    let cookie = h.expired_session().await;
    let before = token_claims(&cookie);
    let (_, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    let seen = SUCCESS_SEEN.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, before["sub"].as_str().unwrap());
    assert_eq!(seen[0].1.as_deref(), before["org_id"].as_str(), "org kept");
    assert_eq!(seen[0].2, before["sid"].as_str().unwrap());
}

static FAILURES_SEEN: Mutex<Vec<(String, bool)>> = Mutex::new(Vec::new());

#[tokio::test]
async fn the_refresh_error_hook_reports_a_terminal_failure() {
    let h = Harness::with(Options {
        builder: |b| {
            b.on_refresh_error(|f| {
                FAILURES_SEEN
                    .lock()
                    .unwrap()
                    .push((f.user_id.to_owned(), f.error.is_transient()));
            })
        },
        ..Options::default()
    })
    .await;
    let cookie = h.expired_session().await;
    let user = unseal(&cookie)["user"]["id"].as_str().unwrap().to_owned();
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let _ = h.whoami("/", Some(&cookie)).await;
    assert_eq!(FAILURES_SEEN.lock().unwrap().clone(), [(user, false)]);
}

// ------------------------------------------------------------------ proactive refresh

#[tokio::test]
async fn long_lived_tokens_refresh_60_seconds_before_expiry() {
    let h = Harness::new().await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(50), Duration::from_secs(3600))
        .await;
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(h.refresh_exchanges(), 1);
    let new = unseal(cookie_value(&session_set_cookie(&response).unwrap()));
    assert_ne!(new["accessToken"], unseal(&cookie)["accessToken"]);
}

#[tokio::test]
async fn a_long_lived_token_outside_the_buffer_is_not_refreshed() {
    let h = Harness::new().await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(90), Duration::from_secs(3600))
        .await;
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(h.refresh_exchanges(), 0);
    assert!(session_set_cookie(&response).is_none());
}

#[tokio::test]
async fn a_five_minute_token_with_45_seconds_left_is_not_refreshed() {
    let h = Harness::new().await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(45), Duration::from_secs(300))
        .await;
    let (response, _) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(h.refresh_exchanges(), 0, "outside the 30 s buffer");
    assert!(session_set_cookie(&response).is_none());
}

#[tokio::test]
async fn a_five_minute_token_with_20_seconds_left_is_refreshed() {
    let h = Harness::new().await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(20), Duration::from_secs(300))
        .await;
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(h.refresh_exchanges(), 1, "inside the 30 s buffer");
    assert!(session_set_cookie(&response).is_some());
}

#[tokio::test]
async fn a_custom_buffer_of_120_seconds_refreshes_a_token_with_90_left() {
    let h = Harness::with(Options {
        builder: |b| b.refresh_buffer(Duration::from_secs(120)),
        ..Options::default()
    })
    .await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(90), Duration::from_secs(3600))
        .await;
    let (response, _) = h.whoami("/dashboard", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(h.refresh_exchanges(), 1);
}

#[tokio::test]
async fn a_zero_buffer_serves_a_token_with_5_seconds_left_unchanged() {
    let h = Harness::with(Options {
        builder: |b| b.refresh_buffer(Duration::ZERO),
        ..Options::default()
    })
    .await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(5), Duration::from_secs(3600))
        .await;
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(h.refresh_exchanges(), 0);
    assert!(session_set_cookie(&response).is_none());
}

#[tokio::test]
async fn a_proactive_refresh_during_an_outage_serves_the_current_token() {
    let h = Harness::new().await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(20), Duration::from_secs(300))
        .await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(500));
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(
        body["email"], "ada@example.com",
        "served with the current token"
    );
    assert!(
        session_set_cookie(&response).is_none(),
        "the cookie is untouched"
    );
    assert_eq!(h.authenticate_calls(), 1);
}

static EXPIRED_DURING_ERRORS: Mutex<u32> = Mutex::new(0);

#[tokio::test]
async fn a_token_that_expires_while_the_refresh_is_retried_is_not_served() {
    let h = Harness::with(Options {
        builder: |b| {
            b.on_refresh_error(|_| {
                *EXPIRED_DURING_ERRORS.lock().unwrap() += 1;
            })
        },
        ..Options::default()
    })
    .await;
    // A one-second token: inside the buffer now, expired once the rate-limited refresh
    // has waited its second and failed.
    let cookie = h.sign_in_with_ttl(Duration::from_secs(1)).await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(429).retry_after(1));
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let (response, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(body["user"], serde_json::Value::Null);
    assert!(deletes_cookie(response.headers(), "wos-session"));
    assert_eq!(h.authenticate_calls(), 2, "one retry after the 429");
    assert_eq!(*EXPIRED_DURING_ERRORS.lock().unwrap(), 1);
}

static PROACTIVE_SUCCESSES: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[tokio::test]
async fn a_proactive_refresh_fires_the_success_hook() {
    let h = Harness::with(Options {
        builder: |b| {
            b.on_refresh_success(|s| {
                PROACTIVE_SUCCESSES
                    .lock()
                    .unwrap()
                    .push(s.user.email.clone());
            })
        },
        ..Options::default()
    })
    .await;
    let cookie = h
        .session_expiring_in(Duration::from_secs(20), Duration::from_secs(300))
        .await;
    let _ = h.whoami("/", Some(&cookie)).await;
    assert_eq!(
        PROACTIVE_SUCCESSES.lock().unwrap().clone(),
        ["ada@example.com"]
    );
}

// ================================================================== refreshSession

#[tokio::test]
async fn refresh_session_signed_out_asks_to_sign_in_without_calling_workos() {
    let h = leptos_default().await;
    h.emulator.reset_counters();
    let (status, body, _) = h.call("refresh", "", None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert!(
        matches!(error, AuthError::SignInRequired { .. }),
        "{error:?}"
    );
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn refresh_session_signed_out_returns_to_the_calling_page() {
    let h = leptos_default().await;
    let (_, body, _) = h.call("refresh", "", None).await;
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert_eq!(
        error.sign_in_url(),
        Some("/auth/sign-in?return_to=%2Fbilling%3Ftab%3D2")
    );
}

#[tokio::test]
async fn refresh_session_keeps_the_organization_by_default() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    let org = token_claims(&cookie)["org_id"].as_str().unwrap().to_owned();
    h.emulator.reset_counters();
    let (status, body, response) = h.call("refresh", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0], org.as_str());
    assert_eq!(body[1], "ada@example.com");
    assert_eq!(h.refresh_exchanges(), 1);
    assert!(session_set_cookie(&response).is_some());
}

#[tokio::test]
async fn refresh_session_into_another_organization_changes_the_org_id() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    let current = token_claims(&cookie)["org_id"].as_str().unwrap().to_owned();
    let user_id = unseal(&cookie)["user"]["id"].as_str().unwrap().to_owned();
    let mut other = None;
    for m in h
        .kit
        .client()
        .list_organization_memberships(&user_id, None)
        .await
        .unwrap()
        .data
    {
        let org = h
            .kit
            .client()
            .get_organization(&m.organization_id)
            .await
            .unwrap();
        if org.name == "Globex" {
            other = Some(m.organization_id);
        }
    }
    let other = other.expect("Ada is in Globex");
    assert_ne!(other, current);
    let (status, body, response) = h
        .call(
            "refresh",
            &format!("organization_id={other}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0], other.as_str());
    let stored = cookie_value(&session_set_cookie(&response).unwrap()).to_owned();
    assert_eq!(token_claims(&stored)["org_id"], other.as_str());
}

#[tokio::test]
async fn refresh_session_reports_a_terminal_failure_and_clears_the_cookie() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    assert!(h
        .emulator
        .end_session(token_claims(&cookie)["sid"].as_str().unwrap()));
    let (status, body, response) = h.call("refresh", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert!(
        matches!(
            error,
            AuthError::Refresh {
                transient: false,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(deletes_cookie(response.headers(), "wos-session"));
}

#[tokio::test]
async fn refresh_session_reports_a_transient_failure_and_keeps_the_cookie() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(503));
    let (status, body, response) = h.call("refresh", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert!(
        matches!(
            error,
            AuthError::Refresh {
                transient: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        session_set_cookie(&response).is_none(),
        "the cookie is kept"
    );
}

// ================================================================== getTokenClaims

#[tokio::test]
async fn get_token_claims_returns_the_workos_claims_as_a_typed_struct() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    let raw = token_claims(&cookie);
    let (status, body, _) = h.call("claims-typed", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims: StandardClaims = serde_json::from_value(body).unwrap();
    assert_eq!(claims.sub, raw["sub"].as_str().unwrap());
    assert_eq!(claims.sid, raw["sid"].as_str().unwrap());
    assert_eq!(claims.org_id.as_deref(), raw["org_id"].as_str());
    assert_eq!(claims.role.as_deref(), Some("admin"));
    assert_eq!(claims.roles, ["admin"]);
    assert!(claims.permissions.contains(&"members:manage".to_owned()));
    assert!(claims.entitlements.contains(&"audit-logs".to_owned()));
    assert!(claims.feature_flags.contains(&"new-feature".to_owned()));
}

#[tokio::test]
async fn get_token_claims_is_none_when_signed_out() {
    let h = leptos_default().await;
    let (status, body, _) = h.call("claims-map", "", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::Value::Null);
}

#[tokio::test]
async fn get_token_claims_without_an_organization_has_only_standard_claims() {
    let h = leptos(Options {
        seed: || {
            Seed::from_yaml("users:\n  - email: solo@example.com\n    first_name: Solo\n").unwrap()
        },
        auto_approve_as: "solo@example.com",
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    let (_, body, _) = h.call("claims-map", "", Some(&cookie)).await;
    let claims = body.as_object().expect("a claims map");
    for standard in ["iss", "sub", "sid", "jti", "iat", "exp"] {
        assert!(claims.contains_key(standard), "{standard} in {claims:?}");
    }
    for org_claim in ["org_id", "role", "roles", "permissions"] {
        assert!(!claims.contains_key(org_claim), "{org_claim} in {claims:?}");
    }
}

#[tokio::test]
async fn get_token_claims_as_a_map_includes_the_standard_jwt_claims() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    let (_, body, _) = h.call("claims-map", "", Some(&cookie)).await;
    assert_eq!(body, token_claims(&cookie), "every claim, as issued");
    assert!(body["exp"].as_u64().unwrap() > body["iat"].as_u64().unwrap());
    assert!(body["iss"]
        .as_str()
        .unwrap()
        .starts_with(h.emulator.base_url()));
}

#[tokio::test]
async fn get_token_claims_reads_nested_claims() {
    let h = leptos(Options {
        seed: || {
            Seed::from_yaml(
                "users:\n  - email: ada@example.com\n    impersonator:\n      email: grace@example.com\n      reason: support ticket\n",
            )
            .unwrap()
        },
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    let (status, body, _) = h.call("claims-nested", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["act"]["sub"], "grace@example.com");
    let (_, who) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(who["impersonator"], "grace@example.com");
}

// ================================================================== checkRecentAuth

#[tokio::test]
async fn check_recent_auth_is_fresh_right_after_sign_in() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    let (status, body, _) = h.call("recent", "max_age_secs=300", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0], false);
    let at = body[1].as_u64().expect("authenticated_at");
    assert_eq!(at, token_claims(&cookie)["auth_time"].as_u64().unwrap());
    assert!(now_secs().abs_diff(at) < 60);
}

#[tokio::test]
async fn check_recent_auth_is_stale_past_max_age() {
    let h = leptos_default().await;
    // Signed in ten minutes ago (with a token that is still valid).
    h.emulator.rewind_clock(Duration::from_secs(600));
    let cookie = h.sign_in_with_ttl(Duration::from_secs(3600)).await;
    h.emulator.advance_clock(Duration::from_secs(600));
    let (_, body, _) = h.call("recent", "max_age_secs=300", Some(&cookie)).await;
    assert_eq!(body[0], true, "{body}");
    let (_, body, _) = h.call("recent", "max_age_secs=900", Some(&cookie)).await;
    assert_eq!(body[0], false, "{body}");
}

#[tokio::test]
async fn check_recent_auth_is_stale_when_signed_out() {
    let h = leptos_default().await;
    let (status, body, _) = h.call("recent", "max_age_secs=300", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::json!([true, null]));
}

// ================================================================== saveSession

#[tokio::test]
async fn save_session_stores_a_session_from_a_custom_flow() {
    let h = leptos_default().await;
    let flow = h.flow("/auth/sign-in").await;
    let verifier = FlowState::unseal(&flow.state, h.kit.config())
        .unwrap()
        .code_verifier;
    let (status, body, response) = h
        .call(
            "custom-flow",
            &format!("code={}&verifier={verifier}", flow.code),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, "ada@example.com");
    let set = session_set_cookie(&response).expect("the layer writes the saved session");
    assert!(
        set.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000"),
        "{set}"
    );
    let (_, who) = h.whoami("/", Some(cookie_value(&set))).await;
    assert_eq!(who["email"], "ada@example.com");
}

#[tokio::test]
async fn a_post_to_a_covered_route_is_answered_like_a_get() {
    // The layer resolves sessions for every method, not only GET.
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    let response = h
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/things")
                .header(header::COOKIE, format!("wos-session={cookie}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body["email"], "ada@example.com");
}
