//! #11 R2 Token attacks through the demo's Bearer API route: every forged, tampered, stale
//! or foreign access token sent as `Authorization: Bearer` to `/demo-api/data` (the data
//! page's "third-party API", which verifies the token with the crate) answers `401` with
//! the same fixed body, which echoes nothing of the token. The attack table, the front and
//! the cast are shared with `tests/it/tokens/attacks.rs` (the same attacks in a session
//! cookie), through `tests/it/support/attack.rs`; the tokens are made with
//! `tests/it/support/token.rs`.
//!
//! The demo runs in this process: its own router ([`authkit_demo::server::router`], what
//! `main` serves), with the site settings of `Leptos.toml` and an `AuthKit` configured as
//! `main` configures it for a real WorkOS — from the `WORKOS_*` variables through
//! [`authkit_demo::mode::decide`] — here pointed at the front (`WORKOS_API_HOSTNAME`,
//! `WORKOS_API_PORT`, `WORKOS_API_HTTPS`), which adds the test's key to the emulator's
//! JWKS. Requests go to the router with `tower::ServiceExt::oneshot`, so no HTTP server
//! stands between the attack and the route: a 1 MiB token reaches the route and is refused
//! there like every other.
//!
//! `sub ≠ sealed user` has no Bearer form (a header carries no sealed user). JWKS fetches:
//! a token rejected before a key is looked up, or naming a known key, fetches nothing; an
//! unknown `kid` at most once per case (the refetch cooldown).
#![cfg(feature = "ssr")]

use crate::support::attack::{
    attacks, other_client_seed, start_trusting_front, Cast, Failures, Front,
};
use authkit_demo::mode::{self, Mode};
use authkit_leptos::emulator::{Emulator, Endpoint, Seed};
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::{testing, AuthKit, PasswordMap};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tower::ServiceExt as _;

const PASSWORD: &str = "bearer-attacks-cookie-password-2c9e7f4a1d6b8350";
const REDIRECT_URI: &str = "http://localhost:3000/callback";
/// The demo's fixed answer to a bearer token that does not verify.
const DEMO_REFUSAL: &str = r#"{"error":"invalid or expired access token"}"#;

/// The demo's router, configured for WorkOS at the front, with the emulator behind it and
/// the cast of the attacks.
struct Demo {
    app: Router,
    emulator: Emulator,
    cast: Cast,
    /// The JWKS fetches the demo made while Ada signed in (before the counters' reset).
    jwks_fetches_at_sign_in: u64,
    _front: Front,
}

/// The session in a sealed cookie value, unsealed.
fn unseal(cookie: &testing::SessionCookie) -> Value {
    authkit_leptos::seal::unseal_json(cookie.value(), &PasswordMap::single(PASSWORD))
        .expect("the session unseals")
}

impl Demo {
    async fn start() -> Self {
        let emulator = Emulator::builder()
            .seed(Seed::demo().unwrap())
            .auto_approve_as("ada@example.com")
            .start()
            .await
            .unwrap();
        let front = start_trusting_front(&emulator).await;

        // The demo's WorkOS mode, from the variables its binary reads.
        let vars = [
            ("WORKOS_CLIENT_ID", emulator.client_id().to_owned()),
            ("WORKOS_API_KEY", emulator.api_key().to_owned()),
            ("WORKOS_REDIRECT_URI", REDIRECT_URI.to_owned()),
            ("WORKOS_COOKIE_PASSWORD", PASSWORD.to_owned()),
            ("WORKOS_API_HOSTNAME", "127.0.0.1".to_owned()),
            ("WORKOS_API_PORT", front.port.to_string()),
            ("WORKOS_API_HTTPS", "false".to_owned()),
            // The front stands where WorkOS is; the tokens name the emulator.
            (
                "WORKOS_ISSUER",
                format!(
                    "{}/user_management/{}",
                    emulator.base_url(),
                    emulator.client_id()
                ),
            ),
        ];
        let Mode::WorkOs(config) = mode::decide(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        })
        .unwrap() else {
            panic!("the WORKOS_* variables select WorkOS");
        };
        let kit = AuthKit::builder(*config).build().unwrap();
        let leptos_toml = std::fs::read_to_string(
            crate::support::checkout::manifest_dir().join("../Leptos.toml"),
        )
        .unwrap();
        let options = leptos::config::get_config_from_str(&leptos_toml).unwrap();
        let app = authkit_demo::server::router(&kit, options, "http://localhost:3000".into());

        // Ada signs in through the demo's own routes.
        let ada = unseal(
            &testing::sign_in(&app, &kit, "ada@example.com")
                .await
                .unwrap(),
        );
        let jwks_fetches_at_sign_in = emulator.counters().get(Endpoint::Jwks);
        // Grace at another client: a second emulator with its own client id and keys.
        let other = Emulator::builder()
            .seed(other_client_seed())
            .auto_approve_as("grace@example.com")
            .start()
            .await
            .unwrap();
        let other_kit = AuthKit::builder(
            other
                .config_builder()
                .redirect_uri(REDIRECT_URI)
                .cookie_password(PASSWORD)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
        let other_client = unseal(
            &testing::sign_in(&other_kit.routes(), &other_kit, "grace@example.com")
                .await
                .unwrap(),
        );
        other.shutdown().await;

        let cast = Cast::new(&emulator, ada, other_client).await;
        emulator.reset_counters();
        Self {
            app,
            emulator,
            cast,
            jwks_fetches_at_sign_in,
            _front: front,
        }
    }

    /// `GET /demo-api/data` with `Authorization: Bearer <token>`: status and body.
    async fn call(&self, token: &str) -> (StatusCode, String) {
        let request = Request::get("/demo-api/data")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn jwks_fetches(&self) -> u64 {
        self.emulator.counters().get(Endpoint::Jwks)
    }
}

/// #11 R2 through the demo's Bearer API route (`/demo-api/data` on the demo's own
/// router): genuine tokens get `200` with their claims; every attack with a Bearer form
/// gets `401` with the same fixed body, which echoes nothing of the token. JWKS fetches as
/// through the cookie.
#[tokio::test]
async fn the_demo_bearer_route_answers_401_to_every_attack() {
    let demo = Demo::start().await;
    let cast = &demo.cast;

    // Controls: a genuine emulator token and one the front's key signed.
    let (status, body) = demo.call(cast.ada["accessToken"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["user_id"],
        cast.ada_id()
    );
    let (status, body) = demo.call(&cast.grace_token()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["user_id"],
        cast.grace_id()
    );
    assert_eq!(
        demo.jwks_fetches_at_sign_in + demo.jwks_fetches(),
        1,
        "the demo fetched the JWKS once (Ada's sign-in and both controls)"
    );

    let attacks = attacks(cast);
    let mut failures = Failures::default();
    let mut tried = 0;
    for attack in attacks.iter().filter(|a| a.bearer) {
        let case = attack.name.as_str();
        tried += 1;
        demo.emulator.reset_counters();
        let (status, body) = demo.call(&attack.token).await;
        failures.check(
            status == StatusCode::UNAUTHORIZED,
            case,
            format!("{status} {body:.200}"),
        );
        failures.check(body == DEMO_REFUSAL, case, format!("body: {body:.200}"));
        let fetches = demo.jwks_fetches();
        failures.check(
            fetches <= u64::from(attack.may_fetch_jwks),
            case,
            format!("{fetches} JWKS fetches"),
        );
    }
    assert!(tried >= 40, "{tried} attacks have a Bearer form");
    failures.assert_none(tried);
    // The demo still serves genuine tokens afterwards.
    let (status, _) = demo.call(&cast.grace_token()).await;
    assert_eq!(status, StatusCode::OK);
}
