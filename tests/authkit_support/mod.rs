//! A real app for the session tests: the built-in emulator over loopback, an `AuthKit`
//! pointed at it, and an axum router with the AuthKit routes and layer, driven with
//! `tower::ServiceExt::oneshot`. Signing in runs the real flow: start route → emulator
//! `authorize` (auto-approve) → callback.
#![allow(dead_code, unreachable_pub)]

use authkit_leptos::emulator::{Emulator, Seed};
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
}

pub struct Options {
    pub token_ttl: Option<Duration>,
    pub layer: fn(AuthKitLayer) -> AuthKitLayer,
    pub builder: fn(authkit_leptos::AuthKitBuilder) -> authkit_leptos::AuthKitBuilder,
    pub auto_approve_as: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            token_ttl: None,
            layer: |l| l,
            builder: |b| b,
            auto_approve_as: "ada@example.com",
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
        let mut builder = Emulator::builder()
            .seed(Seed::demo().expect("the demo seed parses"))
            .auto_approve_as(options.auto_approve_as);
        if let Some(ttl) = options.token_ttl {
            builder = builder.token_ttl(ttl);
        }
        let emulator = builder.start().await.expect("the emulator starts");
        let config = emulator
            .config_builder()
            .redirect_uri(REDIRECT_URI)
            .cookie_password(PASSWORD)
            .http_timeout(Duration::from_secs(5))
            .build()
            .expect("valid config");
        let kit = (options.builder)(AuthKit::builder(config))
            .build()
            .expect("authkit builds");
        let layer = (options.layer)(
            kit.layer()
                .matcher(["/", "/dashboard/:path*"])
                .expect("patterns compile"),
        );
        let app = test_routes().merge(kit.routes()).layer(layer);
        Self { emulator, kit, app }
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

    /// Runs the whole sign-in flow and returns the sealed session cookie value.
    pub async fn sign_in(&self) -> String {
        self.sign_in_with("/auth/sign-in?return_to=%2Fdashboard")
            .await
            .session
    }

    /// Runs the flow from a start URL and returns what the callback answered.
    pub async fn sign_in_with(&self, start: &str) -> SignInResult {
        let start_response = self.get(start, None).await;
        assert_eq!(
            start_response.status(),
            StatusCode::FOUND,
            "start route redirects"
        );
        let authorize = location(&start_response);
        let verifier = set_cookies(start_response.headers())
            .into_iter()
            .find(|c| c.starts_with("wos-auth-verifier-"))
            .expect("a verifier cookie");
        let verifier_pair = verifier.split(';').next().unwrap().to_owned();
        let emulator_response = http_client()
            .get(&authorize)
            .send()
            .await
            .expect("emulator reachable");
        assert_eq!(
            emulator_response.status().as_u16(),
            302,
            "auto-approve redirects back"
        );
        let back = emulator_response.headers()["location"]
            .to_str()
            .unwrap()
            .to_owned();
        let back = url::Url::parse(&back).unwrap();
        assert_eq!(&back[..url::Position::AfterPath], REDIRECT_URI);
        let callback = format!("/callback?{}", back.query().unwrap_or_default());
        let response = self
            .send(
                Request::get(callback.as_str())
                    .header(header::COOKIE, verifier_pair.clone())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let cookies = set_cookies(response.headers());
        let session = cookies
            .iter()
            .find_map(|c| c.strip_prefix("wos-session="))
            .map(|c| c.split(';').next().unwrap().to_owned())
            .unwrap_or_default();
        SignInResult {
            status: response.status(),
            location: response
                .headers()
                .get(header::LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            cookies,
            session,
            verifier_pair,
            callback,
        }
    }
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
