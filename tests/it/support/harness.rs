//! The harness: a real app for the suites — the built-in emulator over loopback, an
//! `AuthKit` pointed at it, and an axum router with the AuthKit routes and layer, driven
//! with `tower::ServiceExt::oneshot`. Signing in runs the real flow: start route → emulator
//! `authorize` (auto-approve) → callback — [`Harness::sign_in`] with the crate's public
//! `authkit_leptos::testing::sign_in`, the helper users' tests use; [`Harness::flow`],
//! [`Harness::approve`] and [`Harness::sign_in_with`] step through it for the tests of the
//! flow itself. Also the small helpers most suites share (`location`, `set_cookies`,
//! `unseal`, `token_claims`, …).
#![allow(dead_code, unreachable_pub)]

use authkit_leptos::emulator::{Emulator, Fault, Seed};
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::{Auth, AuthKit, AuthKitLayer};
use axum::body::Body;
use axum::routing::get;
use axum::{Json, Router};
use http::{header, HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use std::collections::HashMap;
use std::time::Duration;
use tower::ServiceExt as _;

pub const REDIRECT_URI: &str = "http://localhost:3000/callback";
pub const PASSWORD: &str = "a-test-cookie-password-of-32-chars-or-more";

/// What the test handlers answer: the session as `with_auth` would give it.
pub async fn whoami(auth: Auth) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "user": auth.user.as_ref().map(|u| u.id.clone()),
        "email": auth.user.as_ref().map(|u| u.email.clone()),
        "session_id": auth.session_id,
        "organization_id": auth.organization_id,
        "role": auth.role,
        "roles": auth.roles,
        "permissions": auth.permissions,
        "entitlements": auth.entitlements,
        "feature_flags": auth.feature_flags,
        "impersonator": auth.impersonator.as_ref().map(|i| i.email.clone()),
        "has_access_token": auth.access_token.is_some(),
    }))
}

pub struct Harness {
    pub emulator: Emulator,
    pub kit: AuthKit,
    pub app: Router,
    /// The seeded user the emulator signs in ([`Options::auto_approve_as`]).
    pub user: &'static str,
}

pub struct Options {
    pub token_ttl: Option<Duration>,
    pub layer: fn(AuthKitLayer) -> AuthKitLayer,
    pub builder: fn(authkit_leptos::AuthKitBuilder) -> authkit_leptos::AuthKitBuilder,
    pub auto_approve_as: &'static str,
    /// Applied to the config builder after the harness's own settings (redirect URI,
    /// password, timeout), so it can override them.
    pub config: fn(authkit_leptos::AuthKitConfigBuilder) -> authkit_leptos::AuthKitConfigBuilder,
    /// The emulator's seed (default: the demo seed).
    pub seed: fn() -> Seed,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            token_ttl: None,
            layer: |l| l,
            builder: |b| b,
            auto_approve_as: "ada@example.com",
            config: |c| c,
            seed: || Seed::demo().expect("the demo seed parses"),
        }
    }
}

pub fn test_routes() -> Router {
    Router::new()
        .route("/", get(whoami))
        .route("/dashboard", get(whoami))
        .route("/dashboard/{*rest}", get(whoami))
        .route("/public", get(whoami))
        .route("/api/{*rest}", get(whoami).post(whoami))
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Self {
        let (emulator, kit) = emulator_and_kit(&options).await;
        let layer = (options.layer)(
            kit.layer()
                .matcher(["/", "/dashboard/:path*"])
                .expect("patterns compile"),
        );
        let app = test_routes().merge(kit.routes()).layer(layer);
        Self {
            emulator,
            kit,
            app,
            user: options.auto_approve_as,
        }
    }

    /// Signs in as [`Harness::user`] through the real flow — start route, the emulator's
    /// `authorize`, callback — with the crate's own helper for users' tests,
    /// `authkit_leptos::testing::sign_in`, and returns the sealed session cookie's value.
    /// (A session too big for one cookie is refused here: send
    /// `testing::sign_in(…).header()` for those.)
    pub async fn sign_in(&self) -> String {
        let cookie = authkit_leptos::testing::sign_in(&self.app, &self.kit, self.user)
            .await
            .unwrap_or_else(|e| panic!("signing in as {}: {e}", self.user));
        assert_eq!(
            cookie.cookie_count(),
            1,
            "{cookie:?} is split into parts: use `testing::sign_in` and its `header()`"
        );
        cookie.value().to_owned()
    }

    /// Runs the flow from a start URL step by step — [`Harness::flow`], then the callback
    /// with the flow's cookie — and returns what the callback answered. For tests of the
    /// flow itself: the callback's status, `Location` and every `Set-Cookie` (the flow
    /// cookie's deletion, split sessions), the flow cookie and the callback URL, which
    /// [`Harness::sign_in`] (`testing::sign_in`) keeps to itself; and for start URLs other
    /// than the plain sign-in (a return path, sign-up, an organization, a link).
    pub async fn sign_in_with(&self, start: &str) -> SignInResult {
        let flow = self.flow(start).await;
        let callback = format!(
            "{}?code={}&state={}",
            self.kit.callback_path(),
            url::form_urlencoded::byte_serialize(flow.code.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(flow.state.as_bytes()).collect::<String>()
        );
        let response = self
            .send(
                Request::get(callback.as_str())
                    .header(header::COOKIE, flow.verifier_pair.clone())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let cookies = set_cookies(response.headers());
        let name = &self.kit.config().cookie().name;
        let session = set_cookie_named(response.headers(), name)
            .map(|c| cookie_value(&c).to_owned())
            .unwrap_or_default();
        SignInResult {
            status: response.status(),
            location: response
                .headers()
                .get(header::LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            cookies,
            session,
            verifier_pair: flow.verifier_pair,
            callback,
        }
    }

    /// Starts a flow at `start` and lets the emulator approve it ([`Harness::approve`]),
    /// without calling the callback.
    pub async fn flow(&self, start: &str) -> Flow {
        let start_response = self.get(start, None).await;
        assert_eq!(
            start_response.status(),
            StatusCode::FOUND,
            "start route redirects"
        );
        self.approve(&start_response).await
    }

    /// Lets the emulator approve the flow `redirect` started (the start route's redirect,
    /// or middleware auth's): the code and state it sends back to the redirect URI, and
    /// the flow cookie the redirect set.
    pub async fn approve<B>(&self, redirect: &Response<B>) -> Flow {
        let authorize_url = location(redirect);
        let state = query_of(&authorize_url)
            .remove("state")
            .expect("a state in the authorization URL");
        let verifier = set_cookie_named(
            redirect.headers(),
            &authkit_leptos::testing::pkce_cookie_name(&state),
        )
        .expect("the flow's cookie");
        let verifier_pair = verifier.split(';').next().unwrap().to_owned();
        let back = http_client()
            .get(&authorize_url)
            .send()
            .await
            .expect("emulator reachable");
        assert_eq!(back.status().as_u16(), 302, "auto-approve redirects back");
        let back = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
        assert_eq!(
            &back[..url::Position::AfterPath],
            self.kit.config().redirect_uri().as_str(),
            "back to the redirect URI"
        );
        let q = query_of(back.as_str());
        assert_eq!(q["state"], state, "the state comes back as it was");
        Flow {
            authorize_url,
            code: q["code"].clone(),
            state,
            verifier_pair,
        }
    }

    /// Sends one request through the router.
    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.app
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible")
    }

    /// GET `path` with a session cookie (if any).
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response<Body> {
        let mut req = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("wos-session={c}"));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// The JSON the test handler answered for `path` with `cookie`.
    pub async fn whoami(
        &self,
        path: &str,
        cookie: Option<&str>,
    ) -> (Response<Body>, serde_json::Value) {
        let response = self.get(path, cookie).await;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (Response::from_parts(parts, Body::empty()), json)
    }
}

/// The emulator and an `AuthKit` pointed at it, as [`Options`] say.
pub async fn emulator_and_kit(options: &Options) -> (Emulator, AuthKit) {
    let mut builder = Emulator::builder()
        .seed((options.seed)())
        .auto_approve_as(options.auto_approve_as);
    if let Some(ttl) = options.token_ttl {
        builder = builder.token_ttl(ttl);
    }
    let emulator = builder.start().await.expect("the emulator starts");
    let config = (options.config)(
        emulator
            .config_builder()
            .redirect_uri(REDIRECT_URI)
            .cookie_password(PASSWORD)
            .http_timeout(Duration::from_secs(5)),
    )
    .build()
    .expect("valid config");
    // The emulator accepts unregistered redirect URIs on localhost only.
    let redirect_uri = config.redirect_uri().as_str();
    if !redirect_uri.starts_with("http://localhost") && !redirect_uri.starts_with("http://127.") {
        emulator.register_redirect_uri(redirect_uri);
    }
    let kit = (options.builder)(AuthKit::builder(config))
        .build()
        .expect("authkit builds");
    (emulator, kit)
}

pub struct SignInResult {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub session: String,
    pub verifier_pair: String,
    pub callback: String,
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn location<B>(response: &Response<B>) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The `wos-session` Set-Cookie header, if the response has one.
pub fn session_set_cookie<B>(response: &Response<B>) -> Option<String> {
    set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with("wos-session="))
}

pub fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .or_else(|_| url::Url::parse("http://x.invalid").unwrap().join(url))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Reads the sealed session with the test password.
pub fn unseal(cookie: &str) -> serde_json::Value {
    authkit_leptos::seal::unseal_json(cookie, &authkit_leptos::PasswordMap::single(PASSWORD))
        .expect("the session unseals")
}

// ------------------------------------------------------------------ more response helpers

/// The value part of a `Set-Cookie` header (`name=value; …` → `value`).
pub fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    pair.split_once('=').map_or("", |(_, v)| v)
}

/// The `Set-Cookie` header for cookie `name`, if the response has one.
pub fn set_cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    set_cookies(headers)
        .into_iter()
        .find(|c| c.split_once('=').is_some_and(|(n, _)| n == name))
}

/// Whether the response deletes cookie `name` (`name=; …; Max-Age=0`).
pub fn deletes_cookie(headers: &HeaderMap, name: &str) -> bool {
    set_cookie_named(headers, name)
        .is_some_and(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0"))
}

/// The body of a response as text.
pub async fn body_text(response: Response<Body>) -> String {
    String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned()
}

/// The (unverified) claims of the access token sealed in a session cookie.
pub fn token_claims(cookie: &str) -> serde_json::Value {
    let session = unseal(cookie);
    authkit_leptos::jwt::decode_unverified(session["accessToken"].as_str().unwrap())
        .expect("the access token decodes")
        .1
}

/// One sign-in flow stopped before the callback: what the emulator sent back, and the
/// flow cookie the start route set.
pub struct Flow {
    /// The authorization URL the start route redirected to.
    pub authorize_url: String,
    /// The code the emulator issued.
    pub code: String,
    /// The (sealed) state the emulator echoed back.
    pub state: String,
    /// `wos-auth-verifier-…=<state>`, ready for a `Cookie` header.
    pub verifier_pair: String,
}

impl Harness {
    /// The AuthKit layer and routes around a Leptos app (SSR pages from `app`, server
    /// functions at `/api/…`) plus the JSON `whoami` handler at `/`, `/dashboard…` and
    /// `/public`. The layer covers `/`, `/dashboard/:path*`, `/page/:path*` and `/api/:path*`
    /// (then `options.layer` applies).
    pub async fn with_leptos<F, IV>(options: Options, app: F) -> Self
    where
        F: Fn() -> IV + Clone + Send + Sync + 'static,
        IV: leptos::prelude::IntoView + 'static,
    {
        let (emulator, kit) = emulator_and_kit(&options).await;
        let layer = (options.layer)(
            kit.layer()
                .matcher(["/", "/dashboard/:path*", "/page/:path*"])
                .expect("patterns compile"),
        );
        let router = leptos_routes::router(&kit, app).layer(layer);
        Self {
            emulator,
            kit,
            app: router,
            user: options.auto_approve_as,
        }
    }

    /// Signs in while the emulator issues access tokens with `ttl`, then restores a
    /// 5-minute lifetime and zeroes the counters.
    pub async fn sign_in_with_ttl(&self, ttl: Duration) -> String {
        self.emulator.set_token_ttl(ttl);
        let cookie = self.sign_in().await;
        self.emulator.set_token_ttl(Duration::from_secs(300));
        self.emulator.reset_counters();
        cookie
    }

    /// A session whose access token is already expired.
    pub async fn expired_session(&self) -> String {
        self.sign_in_with_ttl(Duration::ZERO).await
    }

    /// A session whose access token lives `lifetime` and has `left` of it remaining,
    /// issued on a rewound emulator clock.
    pub async fn session_expiring_in(&self, left: Duration, lifetime: Duration) -> String {
        let rewind = lifetime - left;
        self.emulator.rewind_clock(rewind);
        let cookie = self.sign_in_with_ttl(lifetime).await;
        self.emulator.advance_clock(rewind);
        cookie
    }

    /// Refresh-token exchanges that reached the emulator's handler since the counters
    /// were reset.
    pub fn refresh_exchanges(&self) -> u64 {
        self.emulator
            .counters()
            .grant(authkit_leptos::emulator::GrantType::RefreshToken)
    }

    /// Calls to `POST /user_management/authenticate` (any grant, faults included).
    pub fn authenticate_calls(&self) -> u64 {
        self.emulator
            .counters()
            .get(authkit_leptos::emulator::Endpoint::Authenticate)
    }

    /// Calls a server function the way the WebAssembly client does (form-encoded args,
    /// JSON back), from the page `referer`.
    pub async fn call(
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

    /// Renders a page (a document request) and returns the response and its HTML.
    pub async fn page(&self, path: &str, cookie: Option<&str>) -> (Response<Body>, String) {
        let response = self.get(path, cookie).await;
        let (parts, body) = response.into_parts();
        let text = String::from_utf8_lossy(&body.collect().await.unwrap().to_bytes()).into_owned();
        (Response::from_parts(parts, Body::empty()), text)
    }
}

/// The router of [`Harness::with_leptos`] (without the layer).
pub mod leptos_routes {
    use super::whoami;
    use authkit_leptos::AuthKit;
    use axum::body::Body;
    use axum::routing::{get, post};
    use axum::Router;
    use http::Request;
    use leptos::prelude::*;
    use leptos_axum::LeptosRoutes as _;

    pub fn router<F, IV>(kit: &AuthKit, app: F) -> Router
    where
        F: Fn() -> IV + Clone + Send + Sync + 'static,
        IV: IntoView + 'static,
    {
        let options = LeptosOptions::builder().output_name("test").build();
        let routes = leptos_axum::generate_route_list(app.clone());
        let context = {
            let kit = kit.clone();
            move || provide_context(kit.clone())
        };
        let ctx = context.clone();
        let shell = move || {
            let app = app.clone();
            view! {
                <!DOCTYPE html>
                <html>
                    <head></head>
                    <body>{app()}</body>
                </html>
            }
        };
        Router::new()
            .route(
                "/api/{*fn_name}",
                post(move |req: Request<Body>| {
                    leptos_axum::handle_server_fns_with_context(ctx.clone(), req)
                }),
            )
            .route("/", get(whoami))
            .route("/dashboard", get(whoami))
            .route("/dashboard/{*rest}", get(whoami))
            .route("/public", get(whoami))
            .leptos_routes_with_context(&options, routes, context, shell)
            .merge(kit.routes())
            .with_state(options)
    }
}

// ------------------------------------------------------------------ shared by several suites

/// A session cookie whose sealed user is not the access token's subject.
pub fn forged_user(cookie: &str) -> String {
    let mut session = unseal(cookie);
    session["user"]["id"] = "user_someone_else".into();
    authkit_leptos::seal::seal_json(
        &session,
        &authkit_leptos::PasswordMap::single(PASSWORD),
        None,
    )
    .unwrap()
}

/// WorkOS ending the session: `400 invalid_grant` on the next `authenticate` call.
pub fn invalid_grant() -> Fault {
    Fault::status(400).body(serde_json::json!({
        "error": "invalid_grant",
        "error_description": "The refresh token has already been used."
    }))
}

/// Middleware auth with no public path: every covered page needs a user.
pub async fn protect_everything() -> Harness {
    Harness::with(Options {
        layer: |l| l.middleware_auth(Vec::<String>::new()).unwrap(),
        ..Options::default()
    })
    .await
}

/// Middleware auth with public pages (`/`, `/public`, `/open/…`) and sign-up paths.
pub async fn protect_with_public_paths() -> Harness {
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

/// Posts a form to `path` as a browser without JavaScript would.
pub async fn post_form(
    h: &Harness,
    path: &str,
    body: &str,
    cookie: Option<&str>,
) -> Response<Body> {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    h.send(request.body(Body::from(body.to_owned())).unwrap())
        .await
}
