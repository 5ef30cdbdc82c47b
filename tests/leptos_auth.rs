//! The session API inside Leptos: server functions and SSR through leptos_axum, with the
//! AuthKit layer and the emulator — authkit-nextjs `auth.spec` and the `withAuth` parts
//! of `session.spec`, plus "a refresh during SSR is visible to a server function".

mod authkit_support;

use authkit_leptos::emulator::{Emulator, Endpoint, Seed};
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::{AuthError, AuthKit, SignInOptions};
use authkit_support::{
    http_client, location, query_of, session_set_cookie, set_cookies, unseal, PASSWORD,
    REDIRECT_URI,
};
use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::{header, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use leptos::prelude::*;
use leptos_axum::LeptosRoutes as _;
use leptos_router::components::{Route, Router as LeptosRouter, Routes};
use leptos_router::path;
use std::time::Duration;
use tower::ServiceExt as _;

// ------------------------------------------------------------------ server functions

#[server(prefix = "/api", endpoint = "whoami")]
async fn whoami_fn() -> Result<Option<String>, AuthError> {
    Ok(authkit_leptos::with_auth().await?.user.map(|u| u.email))
}

#[server(prefix = "/api", endpoint = "protected")]
async fn protected_fn() -> Result<String, AuthError> {
    Ok(authkit_leptos::ensure_signed_in().await?.user.email)
}

#[server(prefix = "/api", endpoint = "refresh")]
async fn refresh_fn() -> Result<(String, String), AuthError> {
    let before = authkit_leptos::with_auth()
        .await?
        .access_token
        .map(|t| t.as_str().to_owned())
        .unwrap_or_default();
    let refreshed = authkit_leptos::refresh_session(None).await?;
    let after = authkit_leptos::with_auth()
        .await?
        .access_token
        .map(|t| t.as_str().to_owned())
        .unwrap_or_default();
    assert_eq!(
        after,
        refreshed.access_token.as_str(),
        "later reads see the refreshed session"
    );
    Ok((before, after))
}

#[server(prefix = "/api", endpoint = "switch")]
async fn switch_fn(organization_id: String) -> Result<(Option<String>, Option<String>), AuthError> {
    let s = authkit_leptos::switch_to_organization(&organization_id).await?;
    let again = authkit_leptos::with_auth().await?;
    assert_eq!(again.organization_id, s.organization_id);
    Ok((s.organization_id, s.role))
}

#[derive(serde::Deserialize)]
struct MyClaims {
    sid: String,
    org_id: Option<String>,
    permissions: Vec<String>,
}

#[server(prefix = "/api", endpoint = "claims")]
async fn claims_fn() -> Result<Option<(String, Option<String>, usize)>, AuthError> {
    let claims: Option<MyClaims> = authkit_leptos::get_token_claims().await?;
    Ok(claims.map(|c| (c.sid, c.org_id, c.permissions.len())))
}

#[server(prefix = "/api", endpoint = "recent")]
async fn recent_fn(max_age_secs: u64) -> Result<bool, AuthError> {
    Ok(
        authkit_leptos::check_recent_auth(Duration::from_secs(max_age_secs))
            .await?
            .is_stale,
    )
}

#[server(prefix = "/api", endpoint = "links")]
async fn links_fn() -> Result<(String, String), AuthError> {
    let options = SignInOptions {
        return_to: Some("/billing?tab=1".into()),
        organization_id: Some("org_123".into()),
        login_hint: Some("ada@example.com".into()),
        ..Default::default()
    };
    Ok((
        authkit_leptos::get_sign_in_url(options.clone()).await?,
        authkit_leptos::get_sign_up_url(options).await?,
    ))
}

#[server(prefix = "/api", endpoint = "apikey")]
async fn api_key_fn() -> Result<Option<String>, AuthError> {
    Ok(authkit_leptos::validate_api_key().await?.map(|k| k.id))
}

// ------------------------------------------------------------------ SSR pages

#[component]
fn TestApp() -> impl IntoView {
    view! {
        <LeptosRouter>
            <Routes fallback=|| "not found">
                <Route path=path!("/page/protected") view=ProtectedPage />
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

fn shell(_: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head></head>
            <body>
                <TestApp />
            </body>
        </html>
    }
}

// ------------------------------------------------------------------ harness

struct App {
    emulator: Emulator,
    kit: AuthKit,
    router: Router,
}

async fn app(server_fns_covered: bool) -> App {
    let emulator = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve_as("ada@example.com")
        .start()
        .await
        .unwrap();
    let config = emulator
        .config_builder()
        .redirect_uri(REDIRECT_URI)
        .cookie_password(PASSWORD)
        .build()
        .unwrap();
    let kit = AuthKit::new(config).unwrap();
    let options = LeptosOptions::builder().output_name("test").build();
    let routes = leptos_axum::generate_route_list(TestApp);
    let context = {
        let kit = kit.clone();
        move || provide_context(kit.clone())
    };
    let ctx = context.clone();
    let mut layer = kit.layer().matcher(["/page/:path*"]).unwrap();
    if !server_fns_covered {
        layer = layer.without_server_fns();
    }
    let router = Router::new()
        .route(
            "/api/{*fn_name}",
            post(move |req: Request<Body>| {
                leptos_axum::handle_server_fns_with_context(ctx.clone(), req)
            }),
        )
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .merge(kit.routes())
        .layer(layer)
        .with_state(options);
    App {
        emulator,
        kit,
        router,
    }
}

impl App {
    async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.unwrap()
    }

    async fn sign_in(&self) -> String {
        let start = self
            .send(Request::get("/auth/sign-in").body(Body::empty()).unwrap())
            .await;
        let pair = set_cookies(start.headers())[0]
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let back = http_client().get(location(&start)).send().await.unwrap();
        let q = query_of(back.headers()["location"].to_str().unwrap());
        let path = format!(
            "/callback?code={}&state={}",
            q["code"],
            url::form_urlencoded::byte_serialize(q["state"].as_bytes()).collect::<String>()
        );
        let response = self
            .send(
                Request::get(path.as_str())
                    .header(header::COOKIE, pair)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        session_set_cookie(&response)
            .unwrap()
            .strip_prefix("wos-session=")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }

    /// Calls a server function the way the WebAssembly client does (form-encoded args,
    /// JSON back).
    async fn call(
        &self,
        endpoint: &str,
        args: &str,
        cookie: Option<&str>,
    ) -> (StatusCode, serde_json::Value, Response<Body>) {
        let mut req = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::REFERER, "http://localhost:3000/billing?tab=2");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("wos-session={c}"));
        }
        let response = self
            .send(req.body(Body::from(args.to_owned())).unwrap())
            .await;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        });
        (
            parts.status,
            json,
            Response::from_parts(parts, Body::empty()),
        )
    }

    async fn page(&self, path: &str, cookie: Option<&str>) -> (Response<Body>, String) {
        let mut req = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("wos-session={c}"));
        }
        let response = self.send(req.body(Body::empty()).unwrap()).await;
        let (parts, body) = response.into_parts();
        let text = String::from_utf8_lossy(&body.collect().await.unwrap().to_bytes()).into_owned();
        (Response::from_parts(parts, Body::empty()), text)
    }
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn with_auth_in_a_server_function() {
    let a = app(true).await;
    let (status, body, _) = a.call("whoami", "", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::Value::Null,
        "signed out: no user, not an error"
    );
    let cookie = a.sign_in().await;
    let (status, body, _) = a.call("whoami", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ada@example.com");
}

#[tokio::test]
async fn with_auth_on_an_uncovered_route_names_the_fix() {
    let a = app(false).await;
    let (status, body, _) = a.call("whoami", "", None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let error: AuthError =
        serde_json::from_value(body.clone()).unwrap_or_else(|_| panic!("an AuthError: {body}"));
    assert!(
        matches!(error, AuthError::NotCovered { ref path, .. } if path == "/api/whoami"),
        "{error:?}"
    );
    assert!(error.to_string().contains("AuthKitLayer::matcher"));
}

#[tokio::test]
async fn ensure_signed_in_from_webassembly_returns_the_sign_in_url() {
    let a = app(true).await;
    let (status, body, response) = a.call("protected", "", None).await;
    // 401, as the middleware-auth mode answers (not the 500 Leptos gives any `Err`).
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let error: AuthError = serde_json::from_value(body).unwrap();
    let url = error.sign_in_url().expect("a sign-in URL").to_owned();
    // It returns to the page that called, not to the server function's path.
    assert_eq!(url, "/auth/sign-in?return_to=%2Fbilling%3Ftab%3D2");
    assert!(
        response.headers().get(header::LOCATION).is_none(),
        "no 302 for a fetch"
    );
    let cookie = a.sign_in().await;
    let (status, body, _) = a.call("protected", "", Some(&cookie)).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, serde_json::json!("ada@example.com"))
    );
}

#[tokio::test]
async fn ensure_signed_in_from_a_plain_form_redirects() {
    let a = app(true).await;
    let response = a
        .send(
            Request::post("/api/protected")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html,application/xhtml+xml")
                .header(header::REFERER, "http://localhost:3000/settings")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/auth/sign-in?return_to=%2Fsettings");
}

#[tokio::test]
async fn a_protected_page_redirects_during_ssr_keeping_path_and_query() {
    let a = app(true).await;
    let (response, body) = a.page("/page/protected?tab=2&x=%C3%A9", None).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{body}");
    assert_eq!(
        location(&response),
        "/auth/sign-in?return_to=%2Fpage%2Fprotected%3Ftab%3D2%26x%3D%25C3%25A9"
    );
    assert!(!body.contains("Hello"), "no protected content");
    let cookie = a.sign_in().await;
    let (response, body) = a.page("/page/protected", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("Hello, ada@example.com!"), "{body}");
}

#[tokio::test]
async fn a_refresh_during_ssr_is_visible_to_server_functions_in_the_same_request() {
    let a = app(true).await;
    a.emulator.set_token_ttl(Duration::ZERO);
    let cookie = a.sign_in().await;
    a.emulator.set_token_ttl(Duration::from_secs(300));
    a.emulator.reset_counters();
    let (response, body) = a.page("/page/whoami", Some(&cookie)).await;
    assert!(body.contains("signed in as ada@example.com"), "{body}");
    assert_eq!(
        a.emulator.counters().get(Endpoint::Authenticate),
        1,
        "one refresh, by the layer"
    );
    let set = session_set_cookie(&response).expect("the refreshed cookie is written");
    assert_ne!(set, format!("wos-session={cookie}"));
}

#[tokio::test]
async fn refresh_session_updates_the_request_and_the_cookie() {
    let a = app(true).await;
    let cookie = a.sign_in().await;
    let (status, body, response) = a.call("refresh", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(body[0], body[1], "a new access token");
    let set = session_set_cookie(&response).expect("the layer writes the refreshed session");
    let new = unseal(
        set.strip_prefix("wos-session=")
            .unwrap()
            .split(';')
            .next()
            .unwrap(),
    );
    assert_eq!(new["accessToken"], body[1]);
}

#[tokio::test]
async fn switch_to_organization_changes_org_and_role() {
    let a = app(true).await;
    let cookie = a.sign_in().await;
    let session = unseal(&cookie);
    let user_id = session["user"]["id"].as_str().unwrap();
    let memberships = a
        .kit
        .client()
        .list_organization_memberships(user_id, None)
        .await
        .unwrap();
    let mut by_name = std::collections::HashMap::new();
    for m in &memberships.data {
        let org = a
            .kit
            .client()
            .get_organization(&m.organization_id)
            .await
            .unwrap();
        by_name.insert(org.name.clone(), m.organization_id.clone());
    }
    let globex = &by_name["Globex"];
    let (status, body, response) = a
        .call(
            "switch",
            &format!("organization_id={globex}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0], globex.as_str());
    assert_eq!(body[1], "member");
    // The refresh token was rotated by the switch: use the new cookie from here on.
    let set = session_set_cookie(&response).expect("the switched session is written");
    let cookie = set
        .strip_prefix("wos-session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    // An SSO-only organization needs a new sign-in into that organization.
    let umbrella = &by_name["Umbrella"];
    let (status, body, _) = a
        .call(
            "switch",
            &format!("organization_id={umbrella}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let error: AuthError = serde_json::from_value(body).unwrap();
    let url = error
        .sign_in_url()
        .expect("re-authentication URL")
        .to_owned();
    assert!(
        url.contains(&format!("organization_id={umbrella}")),
        "{url}"
    );

    // Not a member: a terminal error, not a crash.
    let (status, body, _) = a
        .call("switch", "organization_id=org_nope", Some(&cookie))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(serde_json::from_value::<AuthError>(body).is_ok());
}

#[tokio::test]
async fn token_claims_recent_auth_and_links() {
    let a = app(true).await;
    let (_, body, _) = a.call("claims", "", None).await;
    assert_eq!(body, serde_json::Value::Null);
    let cookie = a.sign_in().await;
    let (status, body, _) = a.call("claims", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body[0].as_str().unwrap().starts_with("session_"));
    assert!(body[2].as_u64().unwrap() > 0);

    let (_, stale, _) = a.call("recent", "max_age_secs=600", Some(&cookie)).await;
    assert_eq!(stale, false, "just signed in");
    a.emulator.advance_clock(Duration::from_secs(0));
    let (_, links, _) = a.call("links", "", None).await;
    let sign_in = links[0].as_str().unwrap();
    assert_eq!(sign_in, "/auth/sign-in?return_to=%2Fbilling%3Ftab%3D1&organization_id=org_123&login_hint=ada%40example.com");
    assert!(links[1].as_str().unwrap().starts_with("/auth/sign-up?"));
}

#[tokio::test]
async fn validate_api_key_reads_the_bearer_header() {
    let a = app(true).await;
    let call = |auth: Option<&'static str>| {
        let mut req = Request::post("/api/apikey")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(v) = auth {
            req = req.header(header::AUTHORIZATION, v);
        }
        a.send(req.body(Body::empty()).unwrap())
    };
    let body = |r: Response<Body>| async move {
        serde_json::from_slice::<serde_json::Value>(
            &r.into_body().collect().await.unwrap().to_bytes(),
        )
        .unwrap()
    };
    assert!(body(call(Some("Bearer sk_org_acme_demo_key")).await)
        .await
        .is_string());
    assert_eq!(
        body(call(Some("Bearer sk_unknown")).await).await,
        serde_json::Value::Null
    );
    assert_eq!(body(call(None).await).await, serde_json::Value::Null);
}

#[tokio::test]
async fn sign_out_from_a_form_clears_cookies_and_ends_the_session() {
    let a = app(true).await;
    let cookie = a.sign_in().await;
    let session = unseal(&cookie);
    let response = a
        .send(
            Request::post("/api/authkit/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .header(
                    header::COOKIE,
                    format!("wos-session={cookie}; wos-auth-verifier-12345678=x"),
                )
                .body(Body::from("return_to=%2Fgoodbye"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookies = set_cookies(response.headers());
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("wos-session=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("wos-auth-verifier-12345678=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    let logout = location(&response);
    assert!(
        logout.starts_with(&format!(
            "{}/user_management/sessions/logout?",
            a.emulator.base_url()
        )),
        "{logout}"
    );
    let q = query_of(&logout);
    assert!(q["session_id"].starts_with("session_"));
    assert_eq!(q["return_to"], "http://localhost:3000/goodbye");
    // Following it ends the session at WorkOS and comes back.
    let back = http_client().get(&logout).send().await.unwrap();
    assert_eq!(back.status().as_u16(), 302);
    assert_eq!(back.headers()["location"], "http://localhost:3000/goodbye");
    let refresh = a
        .kit
        .client()
        .authenticate_with_refresh_token(session["refreshToken"].as_str().unwrap(), None)
        .await;
    assert_eq!(refresh.unwrap_err().error_code(), Some("invalid_grant"));
}

#[tokio::test]
async fn sign_out_without_a_session_goes_straight_to_return_to() {
    let a = app(true).await;
    let response = a
        .send(
            Request::post("/api/authkit/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .body(Body::from("return_to=https%3A%2F%2Fevil.example%2Fx"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/x", "same-origin only");
}

#[tokio::test]
async fn sign_out_outside_the_layer_reads_the_cookie() {
    let a = app(false).await;
    let cookie = a.sign_in().await;
    let response = a
        .send(
            Request::post("/api/authkit/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, format!("wos-session={cookie}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(query_of(&location(&response))["session_id"].starts_with("session_"));
    assert!(set_cookies(response.headers())
        .iter()
        .any(|c| c.starts_with("wos-session=;")));
}

#[tokio::test]
async fn the_plain_sign_out_route_works_without_leptos() {
    let a = app(true).await;
    let cookie = a.sign_in().await;
    let response = a
        .send(
            Request::post("/auth/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("wos-session={cookie}"))
                .body(Body::from("return_to=%2F"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("/user_management/sessions/logout?session_id=session_"));
}
