//! The emulator's OAuth surface over real loopback HTTP: start/stop, JWKS and tokens,
//! `authorize` validation and auto-approve, code exchange with PKCE, single-use rotating
//! refresh tokens, organization switching, logout and revocation.

use std::time::Duration;

use crate::support::*;
use serde_json::{json, Value};
use workos_emulator::{Emulator, GrantType, Seed, SeedOrganization, SeedUser, SwitchError};

#[tokio::test]
async fn starts_on_loopback_and_stops_on_shutdown_and_drop() {
    let emu = Emulator::builder().start().await.unwrap();
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(emu.client_id(), "client_emulator");
    assert!(!format!("{emu:?}").contains(emu.api_key()));
    let health = client()
        .get(format!("{}/health", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("application/json"));
    let addr = emu.local_addr();
    emu.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.local_addr();
    drop(emu);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn tokens_are_rs256_jwts_that_verify_against_the_jwks() {
    let emu = demo().await;
    let jwks: Value = client()
        .get(emu.jwks_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    assert!(
        key.get("d").is_none(),
        "private parts must not be published"
    );

    let auth = sign_in(&emu, &[]).await;
    let token = auth["access_token"].as_str().unwrap();
    let header = header(token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], key["kid"]);

    let claims = verify(&emu, token).await.unwrap();
    assert_eq!(
        claims["iss"],
        format!("{}/user_management/{}", emu.base_url(), emu.client_id())
    );
    assert_eq!(claims["sub"], auth["user"]["id"]);
    assert!(claims["sid"].as_str().unwrap().starts_with("session_"));
    assert!(claims["jti"].is_string());
    // Ada lands in her first organization, Acme, as admin.
    assert_eq!(claims["org_id"], auth["organization_id"]);
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["roles"], json!(["admin"]));
    assert_eq!(
        claims["permissions"],
        json!([
            "posts:read",
            "posts:write",
            "members:manage",
            "billing:manage"
        ])
    );
    assert_eq!(
        claims["entitlements"],
        json!(["audit-logs", "sso", "early-access"])
    );
    assert_eq!(claims["feature_flags"], json!(["new-feature", "dark-mode"]));
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 300);
    assert!(claims["auth_time"].as_i64().unwrap() <= iat);

    // Unknown client: 404, not an empty key set.
    let other = client()
        .get(format!("{}/sso/jwks/client_other", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

#[tokio::test]
async fn key_rotation_publishes_old_and_new_keys() {
    let emu = demo().await;
    let before = sign_in(&emu, &[]).await;
    let old_kid = emu.signing_key_id();
    let new_kid = emu.rotate_signing_key().await.unwrap();
    assert_ne!(old_kid, new_kid);

    let jwks: Value = client()
        .get(emu.jwks_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [old_kid.as_str(), new_kid.as_str()]);

    let after = sign_in(&emu, &[]).await;
    assert_eq!(
        header(after["access_token"].as_str().unwrap())["kid"],
        new_kid.as_str()
    );
    verify(&emu, before["access_token"].as_str().unwrap())
        .await
        .unwrap();
    verify(&emu, after["access_token"].as_str().unwrap())
        .await
        .unwrap();

    emu.retire_old_signing_keys();
    assert!(verify(&emu, before["access_token"].as_str().unwrap())
        .await
        .is_err());
    verify(&emu, after["access_token"].as_str().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn authorize_rejects_unknown_clients_and_redirect_uris_in_place() {
    let emu = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .redirect_uri(REDIRECT_URI)
        .auto_approve()
        .start()
        .await
        .unwrap();
    let get = |pairs: Vec<(&'static str, String)>, html: bool| {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut request = client().get(url(emu.base_url(), "/user_management/authorize", &pairs));
        if html {
            request = request.header("accept", "text/html,application/xhtml+xml");
        }
        request.send()
    };
    let base = |client_id: &str, redirect: &str| {
        vec![
            ("client_id", client_id.to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("response_type", "code".to_owned()),
        ]
    };

    let r = get(base("client_nope", REDIRECT_URI), false).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let r = get(base("client_nope", REDIRECT_URI), true).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    for redirect in [
        "http://evil.example/callback",
        "not a url",
        "http://localhost:3000/callback#x",
    ] {
        let r = get(base(emu.client_id(), redirect), false).await.unwrap();
        assert_eq!(r.status(), 400, "{redirect}");
        assert!(r.headers().get("location").is_none());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
    }

    let mut missing = base(emu.client_id(), REDIRECT_URI);
    missing.remove(1);
    assert_eq!(get(missing, false).await.unwrap().status(), 400);

    let mut doubled = base(emu.client_id(), REDIRECT_URI);
    doubled.push(("client_id", "client_other".to_owned()));
    assert_eq!(get(doubled, false).await.unwrap().status(), 400);
}

#[tokio::test]
async fn authorize_sends_other_errors_back_to_the_app_with_state() {
    let emu = demo().await;
    let (_, challenge) = pkce();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            vec![
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            vec![("code_challenge", challenge.as_str())],
            "invalid_request",
        ),
        (
            vec![
                ("code_challenge", "too-short"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (vec![("code_challenge_method", "S256")], "invalid_request"),
        (vec![("organization_id", "org_missing")], "invalid_request"),
        (vec![("screen_hint", "sideways")], "invalid_request"),
        (vec![("login_hint", "nobody@example.com")], "access_denied"),
    ];
    for (extra, expected) in cases {
        let mut pairs = vec![
            ("client_id", emu.client_id()),
            ("redirect_uri", REDIRECT_URI),
            ("state", "s t*a~te"),
        ];
        if !extra.iter().any(|(k, _)| *k == "response_type") {
            pairs.push(("response_type", "code"));
        }
        pairs.extend(extra.iter().copied());
        let r = client()
            .get(url(emu.base_url(), "/user_management/authorize", &pairs))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302, "{extra:?}");
        let q = location_query(&r);
        assert_eq!(q["error"], expected, "{extra:?}");
        assert!(!q["error_description"].is_empty());
        assert_eq!(q["state"], "s t*a~te");
        assert!(!q.contains_key("code"));
    }
}

#[tokio::test]
async fn auto_approve_echoes_state_byte_for_byte() {
    let emu = demo().await;
    let (_, challenge) = pkce();
    // An authkit-nextjs sealed state has `*` and `~`; add everything else awkward.
    let state = "Fe26.2*1*aBc-_~*Zx9 +/?=&%é€\"'<>";
    let redirect = "http://localhost:3000/callback?next=%2Fdashboard";
    let r = client()
        .get(url(
            emu.base_url(),
            "/user_management/authorize",
            &[
                ("client_id", emu.client_id()),
                ("redirect_uri", redirect),
                ("response_type", "code"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("state", state),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("http://localhost:3000/callback?next=%2Fdashboard&code="));
    let q = location_query(&r);
    assert_eq!(q["state"].as_bytes(), state.as_bytes());
    assert_eq!(q["next"], "/dashboard");

    // No state sent: none echoed.
    let r = authorize(&emu, &challenge, &[]).await;
    assert!(!location_query(&r).contains_key("state"));
}

#[tokio::test]
async fn login_hint_and_auto_approve_email_choose_the_user() {
    let emu = demo().await;
    let ada = sign_in(&emu, &[]).await;
    assert_eq!(ada["user"]["email"], "ada@example.com");
    let grace = sign_in(&emu, &[("login_hint", "GRACE@example.com")]).await;
    assert_eq!(grace["user"]["email"], "grace@example.com");
    assert_eq!(grace["authentication_method"], "GoogleOAuth");

    let emu = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve_as("alan@example.com")
        .start()
        .await
        .unwrap();
    let alan = sign_in(&emu, &[]).await;
    assert_eq!(alan["user"]["email"], "alan@example.com");
    assert_eq!(alan["user"]["email_verified"], false);

    let err = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve_as("ghost@example.com")
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ghost@example.com"), "{err}");
}

#[tokio::test]
async fn authenticate_response_has_every_user_field_in_snake_case() {
    let emu = demo().await;
    let auth = sign_in(&emu, &[]).await;
    let user = auth["user"].as_object().unwrap();
    let mut keys: Vec<&str> = user.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "email",
            "email_verified",
            "external_id",
            "first_name",
            "id",
            "last_name",
            "last_sign_in_at",
            "locale",
            "metadata",
            "name",
            "object",
            "profile_picture_url",
            "updated_at",
        ]
    );
    assert_eq!(user["object"], "user");
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["profile_picture_url"], Value::Null);
    assert_eq!(user["locale"], Value::Null);
    assert_eq!(user["metadata"], json!({"team": "research"}));
    let iso = regex_like_iso(user["created_at"].as_str().unwrap());
    assert!(iso, "{}", user["created_at"]);
    assert!(regex_like_iso(user["last_sign_in_at"].as_str().unwrap()));
    assert_eq!(auth["authentication_method"], "Password");
    assert!(auth.get("impersonator").is_none());
    assert!(auth["refresh_token"].as_str().unwrap().len() >= 32);
}

fn regex_like_iso(s: &str) -> bool {
    // 2025-01-01T00:00:00.000Z
    s.len() == 24
        && s.as_bytes()[4] == b'-'
        && s.as_bytes()[10] == b'T'
        && s.as_bytes()[19] == b'.'
        && s.ends_with('Z')
}

#[tokio::test]
async fn codes_are_single_use_and_bound_to_the_pkce_verifier() {
    let emu = demo().await;
    let (verifier, challenge) = pkce();
    let code = location_query(&authorize(&emu, &challenge, &[]).await)["code"].clone();

    let (wrong, _) = pkce();
    let r = exchange(&emu, &code, &wrong).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    // A failed attempt used the code up.
    let r = exchange(&emu, &code, &verifier).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");

    let code = location_query(&authorize(&emu, &challenge, &[]).await)["code"].clone();
    let r = authenticate(
        &emu,
        json!({"grant_type": "authorization_code", "client_id": emu.client_id(),
               "client_secret": emu.api_key(), "code": code}),
    )
    .await;
    assert_eq!(r.status(), 400, "a PKCE code needs its verifier");

    let code = location_query(&authorize(&emu, &challenge, &[]).await)["code"].clone();
    assert_eq!(exchange(&emu, &code, &verifier).await.status(), 200);
    let replay = exchange(&emu, &code, &verifier).await;
    assert_eq!(replay.status(), 400);
    let body: Value = replay.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].is_string());
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let emu = demo().await;
    let (verifier, challenge) = pkce();
    let code = location_query(&authorize(&emu, &challenge, &[]).await)["code"].clone();
    emu.advance_clock(Duration::from_secs(601));
    let r = exchange(&emu, &code, &verifier).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

#[tokio::test]
async fn the_api_key_is_checked_as_client_secret_or_bearer() {
    let emu = demo().await;
    let (verifier, challenge) = pkce();
    let code = location_query(&authorize(&emu, &challenge, &[]).await)["code"].clone();
    let body = |secret: Option<&str>| {
        let mut b = json!({"grant_type": "authorization_code", "client_id": emu.client_id(),
                           "code": code, "code_verifier": verifier});
        if let Some(secret) = secret {
            b["client_secret"] = secret.into();
        }
        b
    };

    let r = authenticate(&emu, body(Some("sk_wrong"))).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    let r = client()
        .post(format!("{}/user_management/authenticate", emu.base_url()))
        .bearer_auth("sk_wrong")
        .json(&body(None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Client authentication failed before the code was looked at: it still works.
    let r = client()
        .post(format!("{}/user_management/authenticate", emu.base_url()))
        .bearer_auth(emu.api_key())
        .json(&body(None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A public client (no key) may redeem a PKCE code.
    let code = location_query(&authorize(&emu, &challenge, &[]).await)["code"].clone();
    let r = authenticate(
        &emu,
        json!({"grant_type": "authorization_code", "client_id": emu.client_id(),
               "code": code, "code_verifier": verifier}),
    )
    .await;
    assert_eq!(r.status(), 200);

    // Without PKCE the API key is required.
    let r = client()
        .get(url(
            emu.base_url(),
            "/user_management/authorize",
            &[
                ("client_id", emu.client_id()),
                ("redirect_uri", REDIRECT_URI),
                ("response_type", "code"),
            ],
        ))
        .send()
        .await
        .unwrap();
    let code = location_query(&r)["code"].clone();
    let r = authenticate(
        &emu,
        json!({"grant_type": "authorization_code", "client_id": emu.client_id(), "code": code}),
    )
    .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn bad_requests_get_workos_error_shapes_never_500() {
    let emu = demo().await;
    let post_raw = |body: &'static str, content_type: &'static str| {
        client()
            .post(format!("{}/user_management/authenticate", emu.base_url()))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases = [
        ("{not json", "application/json", 400, "invalid_request"),
        ("[1,2]", "application/json", 400, "invalid_request"),
        ("", "application/json", 400, "invalid_request"),
        ("{}", "application/json", 400, "invalid_request"),
        (
            "{\"grant_type\":\"password\",\"client_id\":\"x\"}",
            "application/json",
            400,
            "unsupported_grant_type",
        ),
        (
            "{\"grant_type\":\"refresh_token\"}",
            "application/json",
            400,
            "invalid_request",
        ),
        (
            "{\"grant_type\":\"refresh_token\",\"client_id\":\"client_x\",\"refresh_token\":\"r\"}",
            "application/json",
            400,
            "invalid_client",
        ),
        (
            "{\"grant_type\":\"authorization_code\",\"client_id\":\"client_emulator_demo\"}",
            "application/json",
            400,
            "invalid_request",
        ),
        (
            "{\"grant_type\":7}",
            "application/json",
            400,
            "invalid_request",
        ),
        (
            "grant_type=refresh_token&client_id=client_emulator_demo&refresh_token=nope",
            "application/x-www-form-urlencoded",
            400,
            "invalid_grant",
        ),
        (
            "grant_type=%ff",
            "application/x-www-form-urlencoded",
            400,
            "invalid_request",
        ),
    ];
    for (body, content_type, status, error) in cases {
        let r = post_raw(body, content_type).await.unwrap();
        assert_eq!(r.status(), status, "{body}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("application/json"));
        let json: Value = r.json().await.unwrap();
        assert_eq!(json["error"], error, "{body}: {json}");
        assert!(json["error_description"].is_string());
    }
}

#[tokio::test]
async fn refresh_tokens_are_single_use_and_rotated() {
    let emu = demo().await;
    let auth = sign_in(&emu, &[]).await;
    let first = auth["refresh_token"].as_str().unwrap();
    let sid = claims(auth["access_token"].as_str().unwrap())["sid"].clone();

    let r = refresh(&emu, first, None).await;
    assert_eq!(r.status(), 200);
    let next: Value = r.json().await.unwrap();
    let second = next["refresh_token"].as_str().unwrap();
    assert_ne!(first, second);
    assert_eq!(next["user"]["id"], auth["user"]["id"]);
    assert_eq!(next["organization_id"], auth["organization_id"]);
    let claims2 = claims(next["access_token"].as_str().unwrap());
    assert_eq!(claims2["sid"], sid, "a refresh keeps the session");

    let replay = refresh(&emu, first, None).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(
        replay.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(refresh(&emu, second, None).await.status(), 200);
    assert_eq!(refresh(&emu, "never-issued", None).await.status(), 400);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_have_exactly_one_winner() {
    let emu = demo().await;
    let auth = sign_in(&emu, &[]).await;
    let token = auth["refresh_token"].as_str().unwrap().to_owned();
    emu.reset_counters();
    let attempts = (0..20).map(|_| refresh(&emu, &token, None));
    let statuses: Vec<u16> = futures_join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 19);
    assert_eq!(emu.counters().grant(GrantType::RefreshToken), 20);
}

/// Polls every request concurrently on this task and collects the statuses.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<u16>
where
    F: std::future::Future<Output = reqwest::Response>,
{
    let mut pending: Vec<_> = futures.map(Box::pin).map(Some).collect();
    let mut statuses = Vec::new();
    std::future::poll_fn(|cx| {
        for slot in pending.iter_mut() {
            if let Some(future) = slot {
                if let std::task::Poll::Ready(response) = future.as_mut().poll(cx) {
                    statuses.push(response.status().as_u16());
                    *slot = None;
                }
            }
        }
        if pending.iter().all(Option::is_none) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    statuses
}

#[tokio::test]
async fn organization_id_switches_organizations_for_members_only() {
    let emu = demo().await;
    let auth = sign_in(&emu, &[]).await;
    let user_id = auth["user"]["id"].as_str().unwrap();
    let globex = org_id_by_name(&emu, user_id, "Globex").await;
    let acme = org_id_by_name(&emu, user_id, "Acme").await;
    let umbrella = org_id_by_name(&emu, user_id, "Umbrella").await;

    let r = refresh(&emu, auth["refresh_token"].as_str().unwrap(), Some(&globex)).await;
    assert_eq!(r.status(), 200);
    let in_globex: Value = r.json().await.unwrap();
    assert_eq!(in_globex["organization_id"], globex.as_str());
    let c = claims(in_globex["access_token"].as_str().unwrap());
    assert_eq!(c["org_id"], globex.as_str());
    assert_eq!(c["role"], "member");
    assert_eq!(c["roles"], json!(["member", "billing"]));
    assert_eq!(
        c["permissions"],
        json!(["posts:read", "posts:write", "billing:manage"])
    );
    assert_eq!(
        c["feature_flags"],
        json!(["dark-mode"]),
        "new-feature is off in Globex"
    );

    // The seeded switch error, and the token is not used up by it.
    let token = in_globex["refresh_token"].as_str().unwrap();
    let r = refresh(&emu, token, Some(&umbrella)).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "sso_required");
    assert_eq!(body["code"], "sso_required");
    assert_eq!(body["organization_id"], umbrella.as_str());

    // Not a member: WorkOS-shaped error, token still good.
    let r = refresh(&emu, token, Some("org_somewhere_else")).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");

    let r = refresh(&emu, token, Some(&acme)).await;
    assert_eq!(r.status(), 200);
    let c = claims(
        r.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(c["org_id"], acme.as_str());
    assert!(c["feature_flags"]
        .as_array()
        .unwrap()
        .contains(&json!("new-feature")));

    // Alan is only in Acme.
    let alan = sign_in(&emu, &[("login_hint", "alan@example.com")]).await;
    let r = refresh(&emu, alan["refresh_token"].as_str().unwrap(), Some(&globex)).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn mfa_enrollment_is_reproducible_from_a_rust_seed() {
    let seed = Seed::new()
        .user(SeedUser::new("u@example.com"))
        .organization(
            SeedOrganization::new("Open")
                .id("org_open")
                .member("u@example.com", "member"),
        )
        .organization(
            SeedOrganization::new("Strict")
                .id("org_strict")
                .switch_error(SwitchError::MfaEnrollment)
                .member("u@example.com", "member"),
        );
    let emu = Emulator::builder()
        .seed(seed)
        .auto_approve()
        .start()
        .await
        .unwrap();
    let auth = sign_in(&emu, &[("organization_id", "org_open")]).await;
    assert_eq!(auth["organization_id"], "org_open");
    let r = refresh(
        &emu,
        auth["refresh_token"].as_str().unwrap(),
        Some("org_strict"),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "mfa_enrollment");
    // Signing in straight into it is allowed (the emulated sign-in satisfied it).
    let direct = sign_in(&emu, &[("organization_id", "org_strict")]).await;
    assert_eq!(direct["organization_id"], "org_strict");
    // authkit-nextjs always sends the current org_id on refresh: that is not a switch.
    let r = refresh(
        &emu,
        direct["refresh_token"].as_str().unwrap(),
        Some("org_strict"),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn logout_ends_the_session_and_redirects() {
    let emu = demo().await;
    let auth = sign_in(&emu, &[]).await;
    let sid = claims(auth["access_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(emu.active_sessions(), 1);
    let r = client()
        .get(url(
            emu.base_url(),
            "/user_management/sessions/logout",
            &[
                ("session_id", &sid),
                ("return_to", "http://localhost:3000/?bye=1"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "http://localhost:3000/?bye=1");
    assert_eq!(emu.active_sessions(), 0);
    let r = refresh(&emu, auth["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");

    // No return_to: a page. Bad return_to or no session_id: 400.
    let r = client()
        .get(url(
            emu.base_url(),
            "/user_management/sessions/logout",
            &[("session_id", &sid)],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for pairs in [
        vec![
            ("session_id", sid.as_str()),
            ("return_to", "javascript:alert(1)"),
        ],
        vec![],
    ] {
        let r = client()
            .get(url(
                emu.base_url(),
                "/user_management/sessions/logout",
                &pairs,
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
    }
}

#[tokio::test]
async fn revoke_ends_the_session() {
    let emu = demo().await;
    let auth = sign_in(&emu, &[]).await;
    let sid = claims(auth["access_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = |key: &str, body: Value| {
        client()
            .post(format!(
                "{}/user_management/sessions/revoke",
                emu.base_url()
            ))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    assert_eq!(
        revoke("sk_wrong", json!({"session_id": sid}))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        revoke(emu.api_key(), json!({"session_id": "session_x"}))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        revoke(emu.api_key(), json!({})).await.unwrap().status(),
        422
    );
    let r = revoke(emu.api_key(), json!({"session_id": sid}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("application/json"));
    assert_eq!(
        refresh(&emu, auth["refresh_token"].as_str().unwrap(), None)
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn a_seeded_impersonator_is_reported_and_in_the_act_claim() {
    let seed = Seed::new().user(
        SeedUser::new("target@example.com")
            .impersonated_by("admin@example.com", Some("Support ticket 42".to_owned())),
    );
    let emu = Emulator::builder()
        .seed(seed)
        .auto_approve()
        .start()
        .await
        .unwrap();
    let auth = sign_in(&emu, &[]).await;
    assert_eq!(
        auth["impersonator"],
        json!({"email": "admin@example.com", "reason": "Support ticket 42"})
    );
    let c = claims(auth["access_token"].as_str().unwrap());
    assert_eq!(c["act"], json!({"sub": "admin@example.com"}));
    assert!(c.get("org_id").is_none(), "no membership, no organization");
    assert!(c.get("role").is_none());
    let again = refresh(&emu, auth["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(
        again.json::<Value>().await.unwrap()["impersonator"]["email"],
        "admin@example.com"
    );
}

#[tokio::test]
async fn token_lifetime_and_clock_make_expiry_testable_without_waiting() {
    let emu = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve()
        .token_ttl(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let auth = sign_in(&emu, &[]).await;
    let c = claims(auth["access_token"].as_str().unwrap());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 2);

    // Moving the clock back issues tokens a real-time client already sees as expired.
    emu.rewind_clock(Duration::from_secs(3600));
    let r = refresh(&emu, auth["refresh_token"].as_str().unwrap(), None).await;
    let token = r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let err = verify(&emu, &token).await.unwrap_err();
    assert!(err.contains("Expired"), "{err}");

    emu.set_token_ttl(Duration::from_secs(7200));
    let auth = sign_in(&emu, &[]).await;
    verify(&emu, auth["access_token"].as_str().unwrap())
        .await
        .unwrap();
}

/// With no redirect URI registered the emulator is no open redirect: `authorize` and
/// `logout` send browsers back only to this machine (localhost), never to a site a crafted
/// link names.
#[tokio::test]
async fn unregistered_redirects_stay_on_this_machine() {
    let emu = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .start()
        .await
        .unwrap();
    let base = emu.base_url().to_owned();
    let client_id = emu.client_id().to_owned();
    let authorize = |redirect: &str| {
        format!(
            "{base}/user_management/authorize?client_id={client_id}&redirect_uri={}&response_type=code&provider=authkit&code_challenge={}&code_challenge_method=S256&state=s",
            url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
    };
    for evil in [
        "https://evil.example/callback",
        "http://192.168.1.10/cb",
        "http://localhost.evil.example/cb",
    ] {
        let response = client().get(authorize(evil)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{evil}");
        assert!(response.headers().get("location").is_none(), "{evil}");
        let logout = client()
            .get(format!(
                "{base}/user_management/sessions/logout?session_id=session_x&return_to={}",
                url::form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(logout.status().as_u16(), 400, "{evil}");
        assert!(logout.headers().get("location").is_none(), "{evil}");
    }
    for local in [
        "http://localhost:3000/callback",
        "http://127.0.0.1:3000/callback",
        "http://app.localhost/cb",
    ] {
        let response = client().get(authorize(local)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{local}: the sign-in page");
    }
    // Registering a URI makes it (and only it) acceptable.
    emu.register_redirect_uri("https://app.example.com/callback");
    let response = client()
        .get(authorize("https://app.example.com/callback"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    emu.shutdown().await;
}
