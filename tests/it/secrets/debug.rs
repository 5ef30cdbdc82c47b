//! #11 R6 Secrets: `Debug` of every public type that holds a secret redacts it. Each type
//! is built holding known secrets — a marker API key, cookie password and Redis password,
//! and the real tokens, code, state and verifier of a sign-in through the emulator — and
//! neither `{:?}` nor `{:#?}` shows any of them, whole or as a distinctive fragment (a
//! JWT's signature, the middle of a long value). The logs and the demo's pages are checked
//! by `secrets::logs` and the demo's `app/tests/it/demo_secrets.rs`; client-visible `AuthError`
//! messages by the error tests.

use crate::support::*;
use authkit_leptos::emulator::{Emulator, Seed};
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::testing::{FlowState, SessionCookies};
use authkit_leptos::workos::{OauthTokens, PkcePair};
use authkit_leptos::{
    AccessTokenInfo, Auth, AuthKit, AuthKitConfig, CallbackOptions, PasswordMap, RedisRefreshStore,
    RequestAuth, Secret, Session,
};
use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Router};
use http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const API_KEY: &str = "sk_test_debug_marker_api_key_93c1f0a7";
const COOKIE_PASSWORD: &str = "debug-marker-cookie-password-5e2b7d91c4a6f038";
const OLD_PASSWORD: &str = "debug-marker-old-cookie-password-a1b2c3d4e5f6";
const REDIS_PASSWORD: &str = "redis-marker-password-0d9e8f7a";
const SEED_USER_PASSWORD: &str = "seed-marker-user-password-6b5a4c3d";
const SEED_KEY_VALUE: &str = "sk_org_seed_marker_key_value_2f1e0d";
const BEARER: &str = "bearer-marker-token-value-8c7b6a5f4e3d";
const IDP_TOKEN: &str = "idp-marker-access-token-1a2b3c4d5e6f";

/// `{:?}` and `{:#?}` of a value, labelled.
fn debug_of(label: &str, value: &dyn Debug) -> Vec<(String, String)> {
    vec![
        (format!("{label} {{:?}}"), format!("{value:?}")),
        (format!("{label} {{:#?}}"), format!("{value:#?}")),
    ]
}

/// The secret and the distinctive parts of it a truncated output could still hold.
fn fragments(secret: &str) -> Vec<String> {
    const FRAGMENT: usize = 16;
    let mut out = vec![secret.to_owned()];
    let parts: Vec<&str> = secret.split('.').collect();
    if parts.len() == 3 && parts[2].len() >= FRAGMENT {
        out.push(parts[2].to_owned());
    }
    if secret.len() >= 2 * FRAGMENT {
        let middle = secret.len() / 2 - FRAGMENT / 2;
        out.push(secret[middle..middle + FRAGMENT].to_owned());
    }
    out
}

/// Shared slots the hooks and handlers write their `Debug` outputs to.
type Outputs = Arc<Mutex<Vec<(String, String)>>>;

/// Shows the request's `RequestAuth`, `Auth` and `SignedIn` (the handler's view).
async fn show(Extension(request): Extension<RequestAuth>, auth: Auth) -> String {
    let mut out = debug_of("RequestAuth", &request);
    out.extend(debug_of("Auth", &auth));
    out.extend(debug_of("SignedIn (RequestAuth)", &request.signed_in()));
    out.extend(debug_of("SignedIn (Auth)", &auth.clone().signed_in()));
    out.extend(debug_of("AccessToken", &auth.access_token));
    assert!(auth.user.is_some(), "the handler saw a signed-in user");
    serde_json::to_string(&out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_of_every_public_type_holding_a_secret_redacts_it() {
    let mut shown: Vec<(String, String)> = Vec::new();
    let mut secrets: Vec<(&str, String)> = vec![
        ("API key", API_KEY.into()),
        ("cookie password", COOKIE_PASSWORD.into()),
        ("old cookie password", OLD_PASSWORD.into()),
        ("Redis password", REDIS_PASSWORD.into()),
        ("seeded user password", SEED_USER_PASSWORD.into()),
        ("seeded API key", SEED_KEY_VALUE.into()),
        ("bearer token", BEARER.into()),
        ("identity provider token", IDP_TOKEN.into()),
    ];

    // Configuration, seeds and the emulator.
    shown.extend(debug_of("Secret", &Secret::new(API_KEY)));
    shown.extend(debug_of(
        "PasswordMap",
        &PasswordMap::from_entries([("1", OLD_PASSWORD), ("2", COOKIE_PASSWORD)]).unwrap(),
    ));
    let seed = Seed::from_yaml(&format!(
        "api_key: {API_KEY}\nusers:\n  - email: ada@example.com\n    password: {SEED_USER_PASSWORD}\n\
         organizations:\n  - name: Acme\n    memberships:\n      - email: ada@example.com\n        role: admin\n\
         roles:\n  - slug: admin\n    permissions: [members:manage]\n\
         api_keys:\n  - name: CI\n    value: {SEED_KEY_VALUE}\n    organization: Acme\n"
    ))
    .unwrap();
    shown.extend(debug_of("Seed", &seed));
    let builder = Emulator::builder()
        .seed(seed)
        .api_key(API_KEY)
        .auto_approve_as("ada@example.com");
    shown.extend(debug_of("EmulatorBuilder", &builder));
    let emulator = builder.start().await.unwrap();
    assert_eq!(emulator.api_key(), API_KEY);
    shown.extend(debug_of("Emulator", &emulator));
    let config_builder = emulator
        .config_builder()
        .redirect_uri(REDIRECT_URI)
        .cookie_password(COOKIE_PASSWORD)
        .http_timeout(Duration::from_secs(5));
    shown.extend(debug_of("AuthKitConfigBuilder", &config_builder));
    let config: AuthKitConfig = config_builder.build().unwrap();
    shown.extend(debug_of("AuthKitConfig", &config));
    let store = RedisRefreshStore::open(&format!("redis://:{REDIS_PASSWORD}@127.0.0.1:1/0"))
        .expect("a Redis URL (nothing connects yet)");
    assert!(!store.url().contains(REDIS_PASSWORD), "{}", store.url());
    shown.extend(debug_of("RedisRefreshStore", &store));
    let bad_url = RedisRefreshStore::open(&format!("redis://:{REDIS_PASSWORD}@127.0.0.1:port/0"))
        .expect_err("not a port");
    shown.extend(debug_of("RefreshStoreError", &bad_url));
    shown.push(("RefreshStoreError (Display)".into(), bad_url.to_string()));

    // The AuthKit handle, with hooks and a callback that record what they are given.
    let hooks: Outputs = Arc::default();
    let builder = AuthKit::builder(config.clone())
        .refresh_store(store)
        .on_refresh_success({
            let hooks = Arc::clone(&hooks);
            move |s| hooks.lock().unwrap().extend(debug_of("RefreshSuccess", s))
        })
        .on_refresh_error({
            let hooks = Arc::clone(&hooks);
            move |f| hooks.lock().unwrap().extend(debug_of("RefreshFailure", f))
        });
    shown.extend(debug_of("AuthKitBuilder", &builder));
    // The Redis at port 1 is down: the in-process gate takes over (as documented).
    let kit = builder.build().unwrap();
    shown.extend(debug_of("AuthKit", &kit));
    shown.extend(debug_of("WorkOsClient", kit.client()));
    shown.extend(debug_of("TokenVerifier", kit.verifier()));
    let options = CallbackOptions::default()
        .on_success({
            let hooks = Arc::clone(&hooks);
            move |s| {
                hooks
                    .lock()
                    .unwrap()
                    .extend(debug_of("CallbackSuccess", &s));
                async {}
            }
        })
        .on_error({
            let hooks = Arc::clone(&hooks);
            move |e| {
                hooks.lock().unwrap().extend(debug_of("CallbackError", &e));
                axum::response::IntoResponse::into_response(StatusCode::BAD_REQUEST)
            }
        });
    shown.extend(debug_of("CallbackOptions", &options));
    let layer = kit.layer().matcher(["/", "/show"]).unwrap();
    shown.extend(debug_of("AuthKitLayer", &layer));
    shown.extend(debug_of(
        "AuthKitService",
        &tower::Layer::layer(&layer, Router::<()>::new()),
    ));
    let app = Router::new()
        .route("/show", get(show))
        .route("/", get(whoami))
        .merge(kit.routes_with(options))
        .layer(layer);
    let h = Harness {
        emulator,
        kit: kit.clone(),
        app,
        user: "ada@example.com",
    };

    // A sign-in; its code, state and verifier, the session and its tokens.
    let result = h.sign_in_with("/auth/sign-in?return_to=%2F").await;
    assert_eq!(result.status.as_u16(), 307, "signed in");
    let callback = query_of(&result.callback);
    let flow = FlowState::unseal(&callback["state"], kit.config()).unwrap();
    shown.extend(debug_of("FlowState", &flow));
    let pkce = PkcePair::from_verifier(flow.code_verifier.clone()).unwrap();
    shown.extend(debug_of("PkcePair", &pkce));
    let session = Session::unseal(&result.session, kit.config().passwords()).unwrap();
    shown.extend(debug_of("Session", &session));
    secrets.extend([
        ("authorization code", callback["code"].clone()),
        ("sealed state", callback["state"].clone()),
        ("code verifier", flow.code_verifier.clone()),
        ("sealed session", result.session.clone()),
        ("access token", session.access_token.clone()),
        ("refresh token", session.refresh_token.clone()),
    ]);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::COOKIE,
        HeaderValue::from_str(&format!("wos-session={}", result.session)).unwrap(),
    );
    shown.extend(debug_of(
        "SessionCookies",
        &SessionCookies::from_headers(&headers, "wos-session"),
    ));
    shown.extend(debug_of(
        "AccessTokenInfo",
        &AccessTokenInfo {
            token: session.access_token.clone(),
            expires_in: 300,
        },
    ));
    let idp: OauthTokens = serde_json::from_value(serde_json::json!({
        "access_token": IDP_TOKEN, "refresh_token": IDP_TOKEN, "scopes": ["email"],
    }))
    .unwrap();
    shown.extend(debug_of("OauthTokens", &idp));

    // What a handler sees (the request also carries a bearer token).
    let response = h
        .send(
            Request::get("/show")
                .header(header::COOKIE, format!("wos-session={}", result.session))
                .header(header::AUTHORIZATION, format!("Bearer {BEARER}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let handler: Vec<(String, String)> = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(handler.len(), 10);
    shown.extend(handler);

    // The callback replayed (WorkOS refuses the spent code: `on_error` gets the error).
    let replay = h
        .send(
            Request::get(result.callback.as_str())
                .header(header::COOKIE, result.verifier_pair.clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);

    // A refresh: the raw WorkOS answer, then the layer's refresh of an expired session
    // (success hook) and of a spent refresh token (failure hook).
    let refreshed = kit
        .client()
        .authenticate_with_refresh_token(&session.refresh_token, None)
        .await
        .unwrap();
    shown.extend(debug_of("AuthenticateResponse", &refreshed));
    secrets.extend([
        ("refreshed access token", refreshed.access_token.clone()),
        ("refreshed refresh token", refreshed.refresh_token.clone()),
    ]);
    let expired = h.expired_session().await;
    let expired_session = unseal_with(&expired);
    secrets.extend([
        ("expired session", expired.clone()),
        ("expired session's refresh token", expired_session.1),
    ]);
    let (answer, _) = h.whoami("/", Some(&expired)).await;
    assert!(session_set_cookie(&answer).is_some(), "refreshed");
    let spent = Session {
        refresh_token: session.refresh_token.clone(),
        ..expired_session.0
    };
    let spent = spent.seal(kit.config().passwords()).unwrap();
    let (answer, _) = h.whoami("/", Some(&spent)).await;
    assert!(answer.status().is_success());
    secrets.push(("session with a spent refresh token", spent));

    // A session cookie as `testing::sign_in` returns it.
    let cookie = authkit_leptos::testing::sign_in(&h.app, &kit, "ada@example.com")
        .await
        .unwrap();
    shown.extend(debug_of("SessionCookie", &cookie));
    secrets.push(("testing session cookie", cookie.value().to_owned()));

    let hooks = hooks.lock().unwrap().clone();
    for label in [
        "CallbackSuccess",
        "CallbackError",
        "RefreshSuccess",
        "RefreshFailure",
    ] {
        assert!(
            hooks.iter().any(|(l, _)| l.starts_with(label)),
            "the {label} hook ran: {hooks:?}"
        );
    }
    shown.extend(hooks);

    for (what, secret) in &secrets {
        assert!(secret.len() >= 16, "{what} is a real secret: {secret}");
    }
    let mut leaks = Vec::new();
    for (label, text) in &shown {
        for (what, secret) in &secrets {
            if fragments(secret).iter().any(|f| text.contains(f.as_str())) {
                leaks.push(format!("{label} shows the {what}: {text}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n\n"));
}

/// The session sealed in `cookie` with the marker password, and its refresh token.
fn unseal_with(cookie: &str) -> (Session, String) {
    let session = Session::unseal(cookie, &PasswordMap::single(COOKIE_PASSWORD)).unwrap();
    let refresh = session.refresh_token.clone();
    (session, refresh)
}
