//! #11 R2 Token attacks, end to end, where a *session cookie* carries the token: every
//! forged, tampered, stale or foreign access token sealed in a cookie is rejected by the
//! AuthKit layer (`with_auth` / the `Auth` extractor, on a real router with the emulator
//! over loopback). `tokens::verify` checks the same attacks against the verifier
//! alone; this suite checks that nothing between the browser and the verifier undoes that.
//! The same attacks as `Authorization: Bearer` tokens, at the demo's `/demo-api/data`,
//! are the demo package's `app/tests/it/bearer_attacks.rs`; the two share the attack table,
//! the front and the cast (`support::attack`).
//!
//! # The setup
//!
//! To tell "rejected because of the attack" from "rejected because nothing can be signed",
//! the app must trust a key the test holds. A small loopback **front** stands where WorkOS
//! is: it forwards every call to the emulator and adds one public key of the test's
//! (`kid` `crate::support::attack::WORKOS_KID`) to the JWKS the emulator serves, so a token the
//! test signs with that key is as genuine as one the emulator issues. Each attack changes
//! one thing about such a token; the controls (the same token unchanged, and a genuine
//! emulator session) are checked to be accepted before the attacks of each table run.
//!
//! # What "rejected" means
//!
//! - Through the cookie (`every_attack_in_a_session_cookie_is_signed_out`): the page sees no
//!   user (`Auth.user` is `None`), a protected page redirects to sign in (`307`), an API
//!   call answers `401`, the cookie is deleted, never a `500`. A token that does not
//!   verify makes the layer try the cookie's refresh token once per request (the emulator
//!   counts each); a made-up refresh token is refused (`invalid_grant`) and that ends the
//!   session. A genuine token for another user than the sealed one is signed out at once,
//!   with no refresh.
//! - With a working refresh token in the cookie (`a_working_refresh_token_never_signs_in_as_the_forged_subject`):
//!   the refresh signs in the refresh token's owner, as WorkOS says — never the forged
//!   token's `sub`, never with its claims.
//! - JWKS fetches: a token rejected before a key is looked up (`alg`, `crit`, base64, size)
//!   or naming a known key fetches nothing; an unknown `kid` refetches at most once per
//!   30 s cooldown (`src/jwt/jwks.rs`), so at most once per case here; a flood of unknown
//!   `kid`s costs one refetch per cooldown
//!   (`a_flood_of_unknown_kids_refetches_the_jwks_once_per_cooldown`).
//!
//! # Binding to the client id
//!
//! The crate binds a token to its client id through the key set: it only trusts keys
//! served at `/sso/jwks/{client_id}`, and checks `iss` against the API host's issuers (or
//! `WORKOS_ISSUER`; see `tokens::issuer`), not `aud` (as authkit-nextjs,
//! whose `jwtVerify` has no issuer or audience option). So "a token for another client id"
//! is tested as WorkOS would issue it: a genuine token from a second emulator with its own
//! client id and keys (and the same users), presented with that client's refresh token.
#![cfg(feature = "ssr")]

use crate::support::attack::{
    attacks, start_trusting_front, Cast, Failures, Front, Verdict, ATTACKER, MADE_UP_REFRESH_TOKEN,
    TRUSTED,
};
use crate::support::token::{jwk, key, pem, pkcs1_der, sign, spki_der};
use crate::support::{
    deletes_cookie, session_set_cookie, test_routes, unseal, Harness, Options, PASSWORD,
    REDIRECT_URI,
};
use authkit_leptos::emulator::{Emulator, Endpoint, GrantType, Seed};
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::{AuthKit, PasswordMap, Session};
use aws_lc_rs::signature::KeyPair as _;
use axum::body::Body;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

// =======================================================================================
// The world: emulator, front, an app pointed at the front, and real sessions
// =======================================================================================

struct World {
    front: Front,
    /// The app (AuthKit layer in middleware-auth mode: `/` is public, `/dashboard…` and
    /// `/api/…` need a session) and the emulator behind the front.
    h: Harness,
    /// Ada, Grace and their tokens.
    cast: Cast,
}

impl World {
    async fn new() -> Self {
        Self::with(|b| b).await
    }

    /// The world with the app's `AuthKit` built through `builder`.
    async fn with(
        builder: fn(authkit_leptos::AuthKitBuilder) -> authkit_leptos::AuthKitBuilder,
    ) -> Self {
        let emulator = Emulator::builder()
            .seed(Seed::demo().unwrap())
            .auto_approve_as("ada@example.com")
            .start()
            .await
            .unwrap();
        let front = start_trusting_front(&emulator).await;
        let config = emulator
            .config_builder()
            .api_base_url(front.base_url.clone())
            // The front stands where WorkOS is, the tokens still name the emulator (as an
            // app behind a custom auth domain lists its issuer).
            .issuers([format!(
                "{}/user_management/{}",
                emulator.base_url(),
                emulator.client_id()
            )])
            .redirect_uri(REDIRECT_URI)
            .cookie_password(PASSWORD)
            .http_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let kit = builder(AuthKit::builder(config)).build().unwrap();
        let layer = kit
            .layer()
            .matcher(["/", "/dashboard/:path*"])
            .unwrap()
            .middleware_auth(["/"])
            .unwrap();
        let app = test_routes().merge(kit.routes()).layer(layer);
        let h = Harness {
            emulator,
            kit,
            app,
            user: "ada@example.com",
        };
        let ada = unseal(&h.sign_in().await);

        // Grace at another client: a second emulator with its own client id and keys.
        let other = Harness::with(Options {
            seed: crate::support::attack::other_client_seed,
            auto_approve_as: "grace@example.com",
            ..Options::default()
        })
        .await;
        let other_client = unseal(&other.sign_in().await);
        let cast = Cast::new(&h.emulator, ada, other_client).await;

        h.emulator.reset_counters();
        Self { front, h, cast }
    }

    fn refresh_exchanges(&self) -> u64 {
        self.h.emulator.counters().grant(GrantType::RefreshToken)
    }

    fn jwks_fetches(&self) -> u64 {
        self.h.emulator.counters().get(Endpoint::Jwks)
    }
}

/// A `wos-session` value sealed with the app's password, as `Session::seal` writes it.
fn seal_session(access_token: &str, refresh_token: &str, user: &Value) -> String {
    let session: Session = serde_json::from_value(json!({
        "accessToken": access_token,
        "refreshToken": refresh_token,
        "user": user,
    }))
    .unwrap();
    session.seal(&PasswordMap::single(PASSWORD)).unwrap()
}

async fn body_of(response: http::Response<Body>) -> (StatusCode, http::HeaderMap, String) {
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// What the attacker hoped to see and must never: Grace's identity, or her claims.
fn leaks_grace(w: &World, text: &str) -> bool {
    text.contains(w.cast.grace_id()) || text.contains("grace@example.com")
}

// =======================================================================================
// The tests
// =======================================================================================

/// The controls: a genuine emulator session and a token the front's key signed are both
/// accepted, so every rejection below is down to the attack alone.
async fn controls_are_accepted(w: &World) {
    let ada = seal_session(
        w.cast.ada["accessToken"].as_str().unwrap(),
        w.cast.ada["refreshToken"].as_str().unwrap(),
        &w.cast.ada["user"],
    );
    let (response, body) = w.h.whoami("/dashboard", Some(&ada)).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    assert_eq!(body["user"], w.cast.ada_id());
    let grace = seal_session(&w.cast.grace_token(), MADE_UP_REFRESH_TOKEN, &w.cast.grace);
    let (response, body) = w.h.whoami("/dashboard", Some(&grace)).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    assert_eq!(
        body["user"],
        w.cast.grace_id(),
        "the front's key is trusted"
    );
    assert_eq!(w.refresh_exchanges(), 0);
}

/// #11 R2 through `with_auth`: every attack, sealed in a session cookie with a made-up
/// refresh token, reads as signed out on a public page (no user, cookie deleted), sends a
/// protected page to sign in (`307` to AuthKit), answers an API call `401`, never `500`.
/// A token that does not verify costs one refused refresh per request; a genuine token
/// of another user none. JWKS fetches only for an unknown `kid`, at most one per case.
#[tokio::test]
async fn every_attack_in_a_session_cookie_is_signed_out() {
    let w = World::new().await;
    controls_are_accepted(&w).await;
    let attacks = attacks(&w.cast);
    let authorize = format!("{}/user_management/authorize?", w.front.base_url);
    let mut failures = Failures::default();
    for attack in &attacks {
        let case = attack.name.as_str();
        let refresh = attack
            .refresh_token
            .as_deref()
            .unwrap_or(MADE_UP_REFRESH_TOKEN);
        let cookie = seal_session(&attack.token, refresh, &attack.user);
        w.h.emulator.reset_counters();

        // A public page: the handler runs and sees no user.
        let (page, body) = w.h.whoami("/", Some(&cookie)).await;
        failures.check(
            page.status() == StatusCode::OK,
            case,
            format!("public page: {}", page.status()),
        );
        failures.check(
            body["user"].is_null(),
            case,
            format!("public page signed in: {body}"),
        );
        failures.check(
            !body["has_access_token"].as_bool().unwrap_or(true),
            case,
            "an access token was handed out",
        );
        failures.check(
            deletes_cookie(page.headers(), "wos-session"),
            case,
            "public page: cookie not deleted",
        );

        // A protected page: sent to sign in.
        let (status, headers, text) = body_of(w.h.get("/dashboard", Some(&cookie)).await).await;
        failures.check(
            status == StatusCode::TEMPORARY_REDIRECT,
            case,
            format!("protected page: {status} {text:.200}"),
        );
        let to = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        failures.check(
            to.starts_with(&authorize),
            case,
            format!("protected page went to {to:.120}"),
        );
        failures.check(
            deletes_cookie(&headers, "wos-session"),
            case,
            "protected page: cookie not deleted",
        );
        failures.check(!leaks_grace(&w, &text), case, "protected page shows Grace");

        // An API call: 401 with the sign-in URL, nothing else.
        let api = Request::get("/api/data")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, format!("wos-session={cookie}"))
            .body(Body::empty())
            .unwrap();
        let (status, headers, text) = body_of(w.h.send(api).await).await;
        failures.check(
            status == StatusCode::UNAUTHORIZED,
            case,
            format!("API: {status} {text:.200}"),
        );
        failures.check(
            text.contains("SignInRequired"),
            case,
            format!("API body: {text:.200}"),
        );
        failures.check(!leaks_grace(&w, &text), case, "API answer shows Grace");
        failures.check(
            deletes_cookie(&headers, "wos-session"),
            case,
            "API: cookie not deleted",
        );

        let (refreshes, expected) = (
            w.refresh_exchanges(),
            match attack.verdict {
                Verdict::DoesNotVerify => 3,
                Verdict::AnotherUser => 0,
            },
        );
        failures.check(
            refreshes == expected,
            case,
            format!("{refreshes} refresh exchanges for 3 requests, expected {expected}"),
        );
        let fetches = w.jwks_fetches();
        failures.check(
            fetches <= u64::from(attack.may_fetch_jwks),
            case,
            format!("{fetches} JWKS fetches"),
        );
    }
    failures.assert_none(attacks.len());
}

/// #11 R2 with the attacker's own working refresh token in the forged cookie: the layer
/// refreshes, and WorkOS's answer decides who is signed in — Ada, whose refresh token it
/// is, with her own claims; never Grace, whose forged token the cookie carried. A genuine
/// token of another user is signed out without a refresh.
#[tokio::test]
async fn a_working_refresh_token_never_signs_in_as_the_forged_subject() {
    let w = World::new().await;
    controls_are_accepted(&w).await;
    let attacks = attacks(&w.cast);
    let mut failures = Failures::default();
    for attack in &attacks {
        let case = attack.name.as_str();
        // A fresh session of Ada's for each case: refresh tokens are single use.
        let own = unseal(&w.h.sign_in().await);
        let cookie = seal_session(
            &attack.token,
            own["refreshToken"].as_str().unwrap(),
            &attack.user,
        );
        w.h.emulator.reset_counters();
        let (response, body) = w.h.whoami("/dashboard", Some(&cookie)).await;
        failures.check(
            body["user"] != w.cast.grace_id() && body["email"] != "grace@example.com",
            case,
            format!("signed in as the forged subject: {body}"),
        );
        match attack.verdict {
            Verdict::DoesNotVerify => {
                failures.check(
                    response.status() == StatusCode::OK,
                    case,
                    format!("{}", response.status()),
                );
                failures.check(
                    body["user"] == w.cast.ada_id(),
                    case,
                    format!("not the refresh token's owner: {body}"),
                );
                let written = session_set_cookie(&response)
                    .map(|c| crate::support::cookie_value(&c).to_owned())
                    .unwrap_or_default();
                failures.check(!written.is_empty(), case, "no refreshed cookie");
                if !written.is_empty() {
                    let session = unseal(&written);
                    failures.check(
                        session["user"]["id"] == w.cast.ada_id(),
                        case,
                        "the new cookie is not Ada's",
                    );
                    let claims = crate::support::token_claims(&written);
                    failures.check(
                        claims["sub"] == w.cast.ada_id(),
                        case,
                        "the new token is not Ada's",
                    );
                    failures.check(
                        body["session_id"] == claims["sid"]
                            && claims["sid"] != "session_01TOKENATTACKS",
                        case,
                        format!("claims not from WorkOS's new token: {body}"),
                    );
                }
                failures.check(
                    w.refresh_exchanges() == 1,
                    case,
                    format!("{} refreshes", w.refresh_exchanges()),
                );
            }
            Verdict::AnotherUser => {
                failures.check(
                    response.status() == StatusCode::TEMPORARY_REDIRECT,
                    case,
                    format!("{}", response.status()),
                );
                failures.check(
                    deletes_cookie(response.headers(), "wos-session"),
                    case,
                    "cookie not deleted",
                );
                failures.check(
                    w.refresh_exchanges() == 0,
                    case,
                    format!("{} refreshes", w.refresh_exchanges()),
                );
            }
        }
    }
    failures.assert_none(attacks.len());
}

/// Garbage that names a `kid` the key set lacks cannot make the app hammer WorkOS: with a
/// 500 ms refetch cooldown, two bursts of 20 forged cookies (each a new unknown `kid`), a
/// cooldown apart, refetch the JWKS once each — the second burst's refetch shows a rotated
/// key would still be picked up — and every request is signed out.
#[tokio::test]
async fn a_flood_of_unknown_kids_refetches_the_jwks_once_per_cooldown() {
    const COOLDOWN: Duration = Duration::from_millis(500);
    let w = World::with(|b| b.jwks_refetch_cooldown(COOLDOWN)).await;
    let claims = w.cast.claims_for(w.cast.grace_id());
    let mut fetches = Vec::new();
    for burst in 0..2 {
        if burst > 0 {
            tokio::time::sleep(COOLDOWN + Duration::from_millis(100)).await;
        }
        w.h.emulator.reset_counters();
        let started = Instant::now();
        for i in 0..20 {
            let token = sign(key(ATTACKER), &format!("key_01FLOOD{burst}x{i}"), &claims);
            let cookie = seal_session(&token, MADE_UP_REFRESH_TOKEN, &w.cast.grace);
            let (response, body) = w.h.whoami("/", Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert!(body["user"].is_null(), "{body}");
        }
        let fetched = w.jwks_fetches();
        // One refetch per cooldown the burst spanned (a slow machine may span more).
        let bound = 1 + started.elapsed().as_millis() / COOLDOWN.as_millis();
        assert!(
            u128::from(fetched) <= bound,
            "burst {burst}: {fetched} JWKS fetches for 20 unknown kids in {:?}",
            started.elapsed()
        );
        fetches.push(fetched);
    }
    assert!(
        fetches[1] >= 1,
        "after the cooldown an unknown kid refetches: {fetches:?}"
    );
}

/// The key forms used as HMAC secrets above are the real ones: the PKCS#1 DER built from a
/// JWK is byte for byte the key aws-lc-rs exports, and the PEMs have the armour `openssl`
/// writes.
#[test]
fn the_public_key_forms_used_as_hmac_secrets_are_right() {
    let pair = key(TRUSTED);
    let published = jwk(pair, "k");
    assert_eq!(pkcs1_der(&published), pair.public_key().as_ref());
    let spki = spki_der(&published);
    assert!(spki.ends_with(pair.public_key().as_ref()));
    assert_eq!(spki.len(), 294, "SubjectPublicKeyInfo of an RSA-2048 key");
    let armoured = pem("PUBLIC KEY", &spki);
    assert!(armoured
        .starts_with("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"));
    assert!(armoured.ends_with("\n-----END PUBLIC KEY-----\n"));
    assert!(armoured.lines().all(|l| l.len() <= 64));
}
