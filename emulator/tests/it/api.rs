//! The emulator's resource endpoints (users, organizations, memberships, API-key
//! validation, health), its test controls (counters, faults, clock, token lifetime, keys —
//! from Rust and over `/__emulator/`), seed files, and robustness against garbage input.

use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::{json, Value};
use workos_emulator::{Emulator, EmulatorError, Endpoint, Fault, GrantType, Seed, SeedError};

async fn get_json(emu: &Emulator, path: &str, key: Option<&str>) -> (u16, Value) {
    let mut request = client().get(format!("{}{path}", emu.base_url()));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("application/json"),
        "{path}"
    );
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn users_and_organizations_in_workos_shapes_behind_the_api_key() {
    let emu = demo().await;
    let auth = sign_in(&emu, &[]).await;
    let user_id = auth["user"]["id"].as_str().unwrap();

    let (status, _) = get_json(&emu, &format!("/user_management/users/{user_id}"), None).await;
    assert_eq!(status, 401);
    let (status, _) = get_json(
        &emu,
        &format!("/user_management/users/{user_id}"),
        Some("sk_no"),
    )
    .await;
    assert_eq!(status, 401);
    let (status, user) = get_json(
        &emu,
        &format!("/user_management/users/{user_id}"),
        Some(emu.api_key()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(user, auth["user"]);

    let (status, missing) = get_json(
        &emu,
        "/user_management/users/user_nope",
        Some(emu.api_key()),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(missing["code"], "entity_not_found");
    assert!(missing["message"].is_string());

    let org_id = auth["organization_id"].as_str().unwrap();
    let (status, org) = get_json(
        &emu,
        &format!("/organizations/{org_id}"),
        Some(emu.api_key()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(org["object"], "organization");
    assert_eq!(org["id"], org_id);
    assert_eq!(org["name"], "Acme");
    assert_eq!(org["allow_profiles_outside_organization"], false);
    assert_eq!(org["domains"][0]["domain"], "acme.example");
    assert_eq!(org["domains"][0]["organization_id"], org_id);
    assert_eq!(org["external_id"], Value::Null);
    assert_eq!(org["metadata"], json!({}));
    let (status, _) = get_json(&emu, "/organizations/org_nope", Some(emu.api_key())).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn memberships_list_filters_and_pages() {
    let emu = demo().await;
    let ada = sign_in(&emu, &[]).await;
    let ada_id = ada["user"]["id"].as_str().unwrap();
    let key = Some(emu.api_key());

    let (status, list) = get_json(
        &emu,
        &format!("/user_management/organization_memberships?user_id={ada_id}"),
        key,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["object"], "list");
    let data = list["data"].as_array().unwrap();
    let names: Vec<&str> = data
        .iter()
        .map(|m| m["organization_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme", "Globex", "Umbrella"]);
    let globex = &data[1];
    assert_eq!(globex["object"], "organization_membership");
    assert_eq!(globex["user_id"], ada_id);
    assert_eq!(globex["status"], "active");
    assert_eq!(globex["role"], json!({"slug": "member"}));
    assert_eq!(
        globex["roles"],
        json!([{"slug": "member"}, {"slug": "billing"}])
    );
    assert_eq!(
        list["list_metadata"],
        json!({"before": null, "after": null})
    );

    let acme = data[0]["organization_id"].as_str().unwrap();
    let (_, by_org) = get_json(
        &emu,
        &format!("/user_management/organization_memberships?organization_id={acme}"),
        key,
    )
    .await;
    // Acme's members in the demo seed: Ada, Grace, Alan and Emmy.
    assert_eq!(by_org["data"].as_array().unwrap().len(), 4);

    let (_, page1) = get_json(
        &emu,
        &format!("/user_management/organization_memberships?user_id={ada_id}&limit=2"),
        key,
    )
    .await;
    assert_eq!(page1["data"].as_array().unwrap().len(), 2);
    let after = page1["list_metadata"]["after"].as_str().unwrap();
    let (_, page2) = get_json(
        &emu,
        &format!(
            "/user_management/organization_memberships?user_id={ada_id}&limit=2&after={after}"
        ),
        key,
    )
    .await;
    assert_eq!(page2["data"][0]["organization_name"], "Umbrella");
    assert_eq!(page2["list_metadata"]["after"], Value::Null);
    assert_eq!(page2["list_metadata"]["before"], page2["data"][0]["id"]);
    let before = page2["list_metadata"]["before"].as_str().unwrap();
    let (_, back) = get_json(
        &emu,
        &format!(
            "/user_management/organization_memberships?user_id={ada_id}&limit=2&before={before}"
        ),
        key,
    )
    .await;
    assert_eq!(back["data"], page1["data"]);
    let (_, desc) = get_json(
        &emu,
        &format!("/user_management/organization_memberships?user_id={ada_id}&order=desc&limit=1"),
        key,
    )
    .await;
    assert_eq!(desc["data"][0]["organization_name"], "Umbrella");

    let (status, err) = get_json(&emu, "/user_management/organization_memberships", key).await;
    assert_eq!(status, 422);
    assert!(err["errors"].is_array());
    let (status, _) = get_json(
        &emu,
        &format!("/user_management/organization_memberships?user_id={ada_id}&limit=0"),
        key,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = get_json(
        &emu,
        &format!("/user_management/organization_memberships?user_id={ada_id}"),
        None,
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn api_key_validation_and_health() {
    let emu = demo().await;
    let validate = |key: &str, body: Value| {
        client()
            .post(format!("{}/api_keys/validations", emu.base_url()))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    let r = validate(emu.api_key(), json!({"value": "sk_org_acme_demo_key"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let key = &body["api_key"];
    assert_eq!(key["object"], "api_key");
    assert_eq!(key["name"], "Acme CI");
    assert_eq!(key["owner"]["type"], "organization");
    assert_eq!(key["permissions"], json!(["posts:read"]));
    assert!(
        !body.to_string().contains("sk_org_acme_demo_key"),
        "the value is never echoed"
    );

    let r = validate(emu.api_key(), json!({"value": "sk_unknown"}))
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"api_key": null}));
    assert_eq!(
        validate("sk_bad", json!({"value": "x"}))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        validate(emu.api_key(), json!({})).await.unwrap().status(),
        422
    );

    let (status, health) = get_json(&emu, "/health", None).await;
    assert_eq!((status, health), (200, json!({"status": "ok"})));
}

#[tokio::test]
async fn counters_count_calls_per_endpoint_from_rust_and_http() {
    let emu = demo().await;
    sign_in(&emu, &[]).await;
    for _ in 0..3 {
        client().get(emu.jwks_url()).send().await.unwrap();
    }
    let counters = emu.counters();
    assert_eq!(counters.get(Endpoint::Authorize), 1);
    assert_eq!(counters.get(Endpoint::Authenticate), 1);
    assert_eq!(counters.grant(GrantType::AuthorizationCode), 1);
    assert_eq!(counters.grant(GrantType::RefreshToken), 0);
    assert_eq!(counters.get(Endpoint::Jwks), 3);
    assert_eq!(counters.get(Endpoint::Health), 0);

    let (_, json) = get_json(&emu, "/__emulator/counters", None).await;
    assert_eq!(json["jwks"], 3);
    assert_eq!(json["authorize"], 1);
    assert_eq!(json["authenticate.authorization_code"], 1);
    // The control endpoints are not counted.
    assert_eq!(emu.counters().total(), 5);

    client()
        .post(format!("{}/__emulator/counters/reset", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(emu.counters().total(), 0);
    emu.reset_counters();
}

#[tokio::test]
async fn status_faults_answer_n_calls_then_stop() {
    let emu = demo().await;
    emu.inject_fault(Endpoint::Jwks, Fault::status(503).retry_after(7).times(2));
    for _ in 0..2 {
        let r = client().get(emu.jwks_url()).send().await.unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "7");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("application/json"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "emulated_fault");
    }
    assert_eq!(
        client().get(emu.jwks_url()).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        emu.counters().get(Endpoint::Jwks),
        3,
        "faulted calls count too"
    );

    // Over HTTP, with a custom body.
    let r = client()
        .post(format!("{}/__emulator/faults", emu.base_url()))
        .json(
            &json!({"endpoint": "authenticate", "status": 429, "retry_after": 1,
                      "body": {"message": "slow down"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (_, pending) = get_json(&emu, "/__emulator/faults", None).await;
    assert_eq!(pending["faults"][0]["endpoint"], "authenticate");
    assert_eq!(pending["faults"][0]["status"], 429);
    let r = refresh(&emu, "whatever", None).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "slow down"})
    );
    assert_eq!(refresh(&emu, "whatever", None).await.status(), 400);

    emu.inject_fault(Endpoint::Health, Fault::status(500).times(10));
    client()
        .delete(format!("{}/__emulator/faults", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(get_json(&emu, "/health", None).await.0, 200);

    for bad in [
        json!({"endpoint": "nowhere", "status": 500}),
        json!({"endpoint": "jwks"}),
        json!({"endpoint": "jwks", "status": 500, "drop": true}),
        json!({"endpoint": "jwks", "status": 42}),
        json!({"endpoint": "jwks", "status": 500, "surprise": 1}),
    ] {
        let r = client()
            .post(format!("{}/__emulator/faults", emu.base_url()))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn delay_faults_hold_the_call_then_answer_normally() {
    let emu = demo().await;
    emu.inject_fault(Endpoint::Health, Fault::delay(Duration::from_millis(300)));
    let started = Instant::now();
    let r = client()
        .get(format!("{}/health", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    client()
        .get(format!("{}/health", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn drop_faults_close_the_connection_without_a_response() {
    let emu = demo().await;
    let auth = sign_in(&emu, &[]).await;
    let token = auth["refresh_token"].as_str().unwrap();
    emu.inject_fault(Endpoint::Authenticate, Fault::drop_connection());
    let err = client()
        .post(format!("{}/user_management/authenticate", emu.base_url()))
        .json(
            &json!({"grant_type": "refresh_token", "client_id": emu.client_id(),
                      "client_secret": emu.api_key(), "refresh_token": token}),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "no response at all: {err}");
    // The request never reached the handler: the token is still good.
    assert_eq!(refresh(&emu, token, None).await.status(), 200);
    assert_eq!(emu.counters().get(Endpoint::Authenticate), 3);
    assert_eq!(emu.counters().grant(GrantType::RefreshToken), 1);

    // Over HTTP.
    client()
        .post(format!("{}/__emulator/faults", emu.base_url()))
        .json(&json!({"endpoint": "jwks", "drop": true}))
        .send()
        .await
        .unwrap();
    assert!(client().get(emu.jwks_url()).send().await.is_err());
    assert!(client().get(emu.jwks_url()).send().await.is_ok());
}

#[tokio::test]
async fn clock_token_ttl_and_keys_are_controllable_over_http() {
    let emu = demo().await;
    let base = emu.base_url().to_owned();
    let (_, clock) = get_json(&emu, "/__emulator/clock", None).await;
    assert_eq!(clock["offset_seconds"], 0);
    let r: Value = client()
        .post(format!("{base}/__emulator/clock"))
        .json(&json!({"advance_seconds": -120}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["offset_seconds"], -120);

    client()
        .post(format!("{base}/__emulator/token_ttl"))
        .json(&json!({"seconds": 30}))
        .send()
        .await
        .unwrap();
    let auth = sign_in(&emu, &[]).await;
    let c = claims(auth["access_token"].as_str().unwrap());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 30);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - 120 - c["iat"].as_i64().unwrap()).abs() <= 2);

    let rotated: Value = client()
        .post(format!("{base}/__emulator/keys/rotate"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rotated["kid"], emu.signing_key_id().as_str());
    let (_, jwks) = get_json(&emu, &format!("/sso/jwks/{}", emu.client_id()), None).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    client()
        .post(format!("{base}/__emulator/keys/retire"))
        .send()
        .await
        .unwrap();
    let (_, jwks) = get_json(&emu, &format!("/sso/jwks/{}", emu.client_id()), None).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);

    let (_, sessions) = get_json(&emu, "/__emulator/sessions", None).await;
    assert_eq!(sessions["active"], 1);

    for (path, body) in [
        ("/__emulator/clock", "{}"),
        ("/__emulator/token_ttl", "{\"seconds\":-1}"),
    ] {
        let r = client()
            .post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path}");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let emu = demo().await;
    let (status, body) = get_json(&emu, "/no/such/thing", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    let r = client()
        .delete(format!("{}/user_management/authenticate", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("application/json"));
}

#[tokio::test]
async fn garbage_never_gets_a_500() {
    let emu = demo().await;
    let base = emu.base_url();
    let garbage_bodies: [&[u8]; 6] = [b"", b"{", b"null", b"\xff\xfe", b"{\"value\":[]}", b"a=%zz"];
    let paths = [
        "/user_management/authenticate",
        "/user_management/sessions/revoke",
        "/api_keys/validations",
        "/__emulator/faults",
        "/__emulator/clock",
        "/__emulator/token_ttl",
        "/__emulator/sign-in/nope",
    ];
    for path in paths {
        for body in garbage_bodies {
            for content_type in [
                "application/json",
                "application/x-www-form-urlencoded",
                "text/plain",
            ] {
                let r = client()
                    .post(format!("{base}{path}"))
                    .bearer_auth(emu.api_key())
                    .header("content-type", content_type)
                    .body(body.to_vec())
                    .send()
                    .await
                    .unwrap();
                assert!(
                    r.status().as_u16() < 500,
                    "{path} {body:?} {content_type}: {}",
                    r.status()
                );
            }
        }
    }
    for query in [
        "%",
        "client_id=%ff",
        "state=%E2%82",
        "a&&&=&=",
        "client_id&redirect_uri",
    ] {
        for path in [
            "/user_management/authorize",
            "/user_management/sessions/logout",
            "/user_management/organization_memberships",
        ] {
            let r = client()
                .get(format!("{base}{path}?{query}"))
                .bearer_auth(emu.api_key())
                .send()
                .await
                .unwrap();
            assert!(r.status().as_u16() < 500, "{path}?{query}: {}", r.status());
        }
    }
    for path in [
        "/user_management/users/%ff",
        "/organizations/..%2F..",
        "/sso/jwks/%00",
    ] {
        let r = client()
            .get(format!("{base}{path}"))
            .bearer_auth(emu.api_key())
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
}

#[tokio::test]
async fn seed_files_load_in_our_shape_and_workos_emulates() {
    let dir = std::env::temp_dir().join(format!("authkit-emulator-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = dir.join("workos-emulate.config.yaml");
    std::fs::write(
        &yaml,
        "users:\n  - email: alice@acme.com\n    first_name: Alice\n    password: test123\n    id: user_alice\n\
organizations:\n  - name: Acme Corp\n    id: org_acme\n    memberships:\n      - email: alice@acme.com\n        role: admin\n\
roles:\n  - slug: admin\n    name: Admin\n    permissions: [posts:read]\n\
permissions:\n  - slug: posts:read\n    name: Read\n\
webhookEndpoints:\n  - endpoint_url: http://localhost:5005/webhooks\n",
    )
    .unwrap();
    let emu = Emulator::builder()
        .seed_file(yaml)
        .auto_approve()
        .start()
        .await
        .unwrap();
    let auth = sign_in(&emu, &[]).await;
    assert_eq!(auth["user"]["id"], "user_alice");
    assert_eq!(auth["organization_id"], "org_acme");
    assert_eq!(
        claims(auth["access_token"].as_str().unwrap())["permissions"],
        json!(["posts:read"])
    );
    drop(emu);

    let json_seed = dir.join("seed.json");
    std::fs::write(
        &json_seed,
        r#"{"client_id":"client_pinned","api_key":"sk_pinned","users":[{"email":"j@x.io"}]}"#,
    )
    .unwrap();
    let emu = Emulator::builder()
        .seed_file(json_seed.as_path())
        .start()
        .await
        .unwrap();
    assert_eq!(
        (emu.client_id(), emu.api_key()),
        ("client_pinned", "sk_pinned")
    );
    drop(emu);
    // The builder wins over the seed.
    let emu = Emulator::builder()
        .seed_file(json_seed.as_path())
        .client_id("client_builder")
        .start()
        .await
        .unwrap();
    assert_eq!(emu.client_id(), "client_builder");
    drop(emu);

    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "organizations:\n  - name: A\n    memberships:\n      - email: ghost@x.io\n",
    )
    .unwrap();
    match Emulator::builder().seed_file(bad).start().await {
        Err(EmulatorError::Seed(SeedError::Invalid { field, .. })) => {
            assert_eq!(field, "organizations[0].memberships[0].user")
        }
        other => panic!("{other:?}"),
    }
    match Emulator::builder()
        .seed_file(dir.join("missing.yaml"))
        .start()
        .await
    {
        Err(EmulatorError::Seed(SeedError::Read { .. })) => {}
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).ok();

    // The shipped demo seed file is the one `Seed::demo()` embeds.
    let from_disk =
        Seed::from_file(crate::checkout::manifest_dir().join("seeds/demo.yaml")).unwrap();
    assert_eq!(from_disk.users.len(), Seed::demo().unwrap().users.len());
}

#[tokio::test]
async fn extreme_clock_and_ttl_values_do_not_break_the_server() {
    let emu = demo().await;
    let base = emu.base_url().to_owned();
    for (advance, ttl) in [(i64::MAX, u64::MAX), (i64::MIN, 0), (i64::MAX, 0)] {
        for (path, body) in [
            ("/__emulator/clock", json!({ "advance_seconds": advance })),
            ("/__emulator/token_ttl", json!({ "seconds": ttl })),
        ] {
            let r = client()
                .post(format!("{base}{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path} {body}");
        }
        let (verifier, challenge) = pkce();
        let r = authorize(&emu, &challenge, &[]).await;
        assert_eq!(r.status(), 302);
        let code = location_query(&r)["code"].clone();
        let r = exchange(&emu, &code, &verifier).await;
        assert!(r.status() == 200 || r.status() == 400, "{}", r.status());
        let (status, _) = get_json(&emu, "/__emulator/clock", None).await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn logout_return_to_must_be_on_an_allowed_origin() {
    let emulator = workos_emulator::Emulator::builder()
        .redirect_uri("http://localhost:3000/callback")
        .start()
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let logout = |return_to: &str| {
        let mut url = url::Url::parse(&format!(
            "{}/user_management/sessions/logout",
            emulator.base_url()
        ))
        .unwrap();
        url.query_pairs_mut()
            .append_pair("session_id", "session_x")
            .append_pair("return_to", return_to);
        client.get(url).send()
    };
    let ok = logout("http://localhost:3000/goodbye").await.unwrap();
    assert_eq!(ok.status().as_u16(), 302);
    assert_eq!(ok.headers()["location"], "http://localhost:3000/goodbye");
    let evil = logout("https://evil.example/").await.unwrap();
    assert_eq!(evil.status().as_u16(), 400);
    assert!(evil.headers().get("location").is_none());
}

/// The `/__emulator/` controls answer only requests addressed to an IP address or
/// `localhost`: a page on a DNS name that resolves to this machine (DNS rebinding) cannot
/// inject faults or move the clock. The sign-in pages and the WorkOS API are unaffected.
#[tokio::test]
async fn the_controls_refuse_requests_addressed_to_a_dns_name() {
    let emu = demo().await;
    let base = emu.base_url().to_owned();
    let port = base.rsplit(':').next().unwrap().to_owned();
    for host in [
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
    ] {
        for (method, path) in [
            ("GET", "/__emulator/counters"),
            ("POST", "/__emulator/clock"),
            ("POST", "/__emulator/keys/rotate"),
            ("DELETE", "/__emulator/faults"),
        ] {
            let response = client()
                .request(method.parse().unwrap(), format!("{base}{path}"))
                .header("host", &host)
                .json(&json!({"advance_seconds": 3600}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 403, "{method} {path} as {host}");
        }
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let response = client()
            .get(format!("{base}/__emulator/counters"))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{host}");
    }
    // The WorkOS API does not care (apps reach it under any name).
    let response = client()
        .get(format!("{base}/health"))
        .header("host", format!("workos.internal:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (_, clock) = get_json(&emu, "/__emulator/clock", None).await;
    assert_eq!(
        clock["offset_seconds"], 0,
        "the forged clock move did nothing"
    );
}
