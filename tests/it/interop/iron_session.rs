//! The iron seal against the real thing: iron-session 8.0.4, the library authkit-nextjs
//! seals its `wos-session` cookie with, run by Node from `tests/interop`.
//!
//! Every test checks both directions (Node seals, Rust unseals; Rust seals, Node unseals).
//! Each test runs one Node process with a batch of operations (`tests/interop/iron.mjs`).
//! The npm packages are installed by `scripts/setup.sh`; without them these tests fail.
#![cfg(feature = "ssr")]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authkit_leptos::seal::{self, SealError};
use authkit_leptos::testing::{SessionCookies, PKCE_STATE_TTL};
use authkit_leptos::{PasswordMap, Session};
use serde_json::{json, Value};

const PW1: &str = "complex_password_at_least_32_characters_long";
const PW2: &str = "another-Rotated-password-0123456789-abcdef";

fn interop_dir() -> PathBuf {
    crate::support::checkout::manifest_dir()
        .join("tests")
        .join("interop")
}

/// The result of one Node operation.
#[derive(Debug)]
enum NodeResult {
    Ok { value: Value, json: String },
    Err(String),
}

impl NodeResult {
    fn seal(&self) -> &str {
        match self {
            Self::Ok {
                value: Value::String(s),
                ..
            } => s,
            other => panic!("expected a seal from Node, got {other:?}"),
        }
    }
    fn value(&self) -> &Value {
        match self {
            Self::Ok { value, .. } => value,
            Self::Err(e) => panic!("Node failed: {e}"),
        }
    }
    /// `JSON.stringify` of the value, as Node wrote it (key order preserved).
    fn json(&self) -> &str {
        match self {
            Self::Ok { json, .. } => json,
            Self::Err(e) => panic!("Node failed: {e}"),
        }
    }
}

/// Runs `ops` through `node tests/interop/iron.mjs` in one process.
fn node(ops: &[Value]) -> Vec<NodeResult> {
    let dir = interop_dir();
    assert!(
        dir.join("node_modules").join("iron-session").is_dir(),
        "{} is missing: run `scripts/setup.sh` (it installs the npm packages these interop tests check against)",
        dir.join("node_modules/iron-session").display()
    );
    let mut child = Command::new("node")
        .arg("iron.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run `node` ({e}): install Node.js 20+ (see `scripts/setup.sh`)")
        });
    let input = serde_json::to_vec(ops).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "iron.mjs failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), ops.len());
    results
        .into_iter()
        .map(|r| match r["ok"].as_bool() {
            Some(true) => NodeResult::Ok {
                value: r["value"].clone(),
                json: r["json"].as_str().unwrap_or_default().to_owned(),
            },
            _ => NodeResult::Err(r["error"].as_str().unwrap_or_default().to_owned()),
        })
        .collect()
}

fn node_seal(data: &impl serde::Serialize, password: Value, ttl_secs: u64) -> Value {
    json!({"op": "seal", "data": data, "password": password, "ttl": ttl_secs})
}

fn node_unseal(sealed: &str, password: Value) -> Value {
    json!({"op": "unseal", "seal": sealed, "password": password})
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn single() -> PasswordMap {
    PasswordMap::single(PW1)
}

fn rotated() -> PasswordMap {
    PasswordMap::from_entries([("1", PW1), ("2", PW2)]).unwrap()
}

fn rotated_json() -> Value {
    json!({"1": PW1, "2": PW2})
}

/// A session as authkit-nextjs 4 stores it after sign-in.
fn realistic_session() -> Session {
    let mut metadata = BTreeMap::new();
    metadata.insert("plan".to_owned(), "pro".to_owned());
    Session {
        access_token: "eyJhbGciOiJSUzI1NiIsImtpZCI6InNzb19vaWRjX2tleV9wYWlyXzAxIn0.eyJpc3MiOiJodHRwczovL2FwaS53b3Jrb3MuY29tIiwic3ViIjoidXNlcl8wMUhYWVoiLCJzaWQiOiJzZXNzaW9uXzAxSFhZWiIsImV4cCI6MTc1MDAwMDMwMH0.c2lnbmF0dXJl".into(),
        refresh_token: "Xp9yQ2mZk4LrT8vB1nW6".into(),
        // Built from JSON, as WorkOS sends it (`User` and `Impersonator` are
        // `#[non_exhaustive]`: WorkOS may add fields without a breaking release).
        user: serde_json::from_value(serde_json::json!({
            "object": "user",
            "id": "user_01HXYZABCDEF0123456789",
            "email": "ada.lovelace@example.com",
            "email_verified": true,
            "first_name": "Ada",
            "profile_picture_url": "https://workoscdn.com/images/v1/abc",
            "last_name": "Lovelace",
            "last_sign_in_at": "2025-06-15T10:00:00.000Z",
            "locale": "en-GB",
            "created_at": "2024-01-01T00:00:00.000Z",
            "updated_at": "2025-06-15T10:00:00.000Z",
            "external_id": "ext-42",
            "metadata": metadata,
            "name": "Ada Lovelace",
        }))
        .expect("a WorkOS user"),
        impersonator: Some(
            serde_json::from_value(serde_json::json!({
                "email": "admin@example.com",
                "reason": "Investigating a support ticket",
            }))
            .expect("an impersonator"),
        ),
        authentication_method: Some("Password".into()),
    }
}

#[test]
fn realistic_session_round_trips_both_ways() {
    let session = realistic_session();
    let rust_json = serde_json::to_string(&session).unwrap();
    let rust_sealed = session.seal(&single()).unwrap();
    // What authkit-nextjs's `encryptSession` does: sealData(session, {password, ttl: 0}).
    // The user as workos-node gives it, with `null`s, plus fields other SDKs add.
    let mut nextjs_session = serde_json::to_value(&session).unwrap();
    nextjs_session["user"]["locale"] = Value::Null;
    nextjs_session["organizationId"] = json!("org_01");
    let minimal = json!({
        "accessToken": "at", "refreshToken": "rt",
        "user": {"object": "user", "id": "user_1", "email": "a@b.co", "emailVerified": false,
                 "firstName": null, "lastName": null, "profilePictureUrl": null, "lastSignInAt": null,
                 "externalId": null, "metadata": {}, "createdAt": "2025-01-01T00:00:00.000Z",
                 "updatedAt": "2025-01-01T00:00:00.000Z"}
    });
    let r = node(&[
        node_unseal(&rust_sealed, json!(PW1)),
        node_seal(&session, json!(PW1), 0),
        node_seal(&nextjs_session, json!(PW1), 0),
        node_seal(&minimal, json!(PW1), 0),
    ]);

    // Rust → Node: the same JSON text, key for key and in the same order.
    assert_eq!(r[0].json(), rust_json);

    // Node → Rust.
    let node_sealed = r[1].seal();
    assert!(node_sealed.starts_with("Fe26.2*1*") && node_sealed.ends_with("~2"));
    assert_eq!(Session::unseal(node_sealed, &single()).unwrap(), session);
    assert_eq!(
        seal::unseal_json(node_sealed, &single()).unwrap(),
        serde_json::to_value(&session).unwrap()
    );
    // Read from a `Cookie` header among other cookies, as the layer reads it.
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::COOKIE,
        format!("theme=dark; wos-session={node_sealed}; _ga=GA1.1")
            .parse()
            .unwrap(),
    );
    let read: Vec<Session> = SessionCookies::from_headers(&headers, "wos-session")
        .candidates()
        .map(|value| Session::unseal(value, &single()).unwrap())
        .collect();
    assert_eq!(read, std::slice::from_ref(&session));

    let from_nextjs = Session::unseal(r[2].seal(), &single()).unwrap();
    assert_eq!(from_nextjs.user.locale, None);
    assert_eq!(from_nextjs.access_token, session.access_token);
    // Re-sealing keeps only the whitelisted fields.
    assert!(!serde_json::to_string(&from_nextjs)
        .unwrap()
        .contains("organizationId"));

    let minimal_session = Session::unseal(r[3].seal(), &single()).unwrap();
    assert_eq!(minimal_session.user.email, "a@b.co");
    assert_eq!(minimal_session.impersonator, None);
    assert_eq!(
        serde_json::to_value(&minimal_session).unwrap()["user"]["firstName"],
        Value::Null
    );
}

#[test]
fn password_rotation_works_across_implementations() {
    let rust_new = seal::seal_json(&json!({"v": "rust-new"}), &rotated(), None).unwrap();
    assert!(
        rust_new.starts_with("Fe26.2*2*"),
        "sealed with the largest id"
    );
    let rust_old = seal::seal_json(&json!({"v": "rust-old"}), &single(), None).unwrap();
    let r = node(&[
        node_seal(&json!({"v": "node-new"}), rotated_json(), 0),
        node_seal(&json!({"v": "node-old"}), json!(PW1), 0),
        node_unseal(&rust_new, rotated_json()),
        node_unseal(&rust_old, rotated_json()),
        // Node without password 2 cannot read the new seal (iron-session returns {}).
        node_unseal(&rust_new, json!({"1": PW1})),
    ]);
    let node_new = r[0].seal();
    assert!(node_new.starts_with("Fe26.2*2*"));
    assert_eq!(
        seal::unseal_json(node_new, &rotated()).unwrap(),
        json!({"v": "node-new"})
    );
    assert_eq!(
        seal::unseal_json(r[1].seal(), &rotated()).unwrap(),
        json!({"v": "node-old"})
    );
    assert!(matches!(
        seal::unseal_json(node_new, &single()),
        Err(SealError::UnknownPasswordId { id }) if id == "2"
    ));
    assert_eq!(r[2].value(), &json!({"v": "rust-new"}));
    assert_eq!(r[3].value(), &json!({"v": "rust-old"}));
    assert_eq!(r[4].value(), &json!({}));
}

#[test]
fn unicode_survives_both_ways() {
    let data = json!({
        "firstName": "Zoë", "lastName": "Ångström-Øster", "name": "山田 太郎",
        "emoji": "👩🏽‍💻🎉🇯🇵", "rtl": "مرحبا", "escapes": "quote\" backslash\\ tab\t nl\n \u{1} \u{2028}",
        "한국어": "키", "nested": {"ключ": ["значение", "ü", "ß"]}
    });
    let rust_sealed = seal::seal_json(&data, &single(), None).unwrap();
    let r = node(&[
        node_unseal(&rust_sealed, json!(PW1)),
        node_seal(&data, json!(PW1), 0),
    ]);
    assert_eq!(r[0].value(), &data);
    // JSON.stringify and serde_json write the same text for these strings.
    assert_eq!(r[0].json(), data.to_string());
    assert_eq!(seal::unseal_json(r[1].seal(), &single()).unwrap(), data);
}

#[test]
fn ttl_expiry_is_honoured_both_ways() {
    let data = json!({"nonce": "n-1", "codeVerifier": "v".repeat(43)});
    let now = now_ms();
    // A Rust seal that expired ten minutes ago (1 s ttl, sealed 10 min in the past).
    let expired = seal::seal_at(
        &data,
        &single(),
        Some(Duration::from_secs(1)),
        now - 600_000,
    )
    .unwrap();
    let fresh = seal::seal_json(&data, &single(), Some(PKCE_STATE_TTL)).unwrap();
    let r = node(&[
        node_seal(&data, json!(PW1), 600),
        node_unseal(&expired, json!(PW1)),
        node_unseal(&fresh, json!(PW1)),
    ]);

    // Node seal with ttl 600 s: readable now, carries exp ≈ now + 600 s, expired later.
    let node_sealed = r[0].seal();
    let exp: u64 = node_sealed.split('*').nth(5).unwrap().parse().unwrap();
    assert!(
        (now + 590_000..now + 620_000).contains(&exp),
        "exp {exp} vs now {now}"
    );
    assert_eq!(seal::unseal_json(node_sealed, &single()).unwrap(), data);
    assert!(seal::unseal_json_at(node_sealed, &single(), exp + 59_000).is_ok());
    assert!(matches!(
        seal::unseal_json_at(node_sealed, &single(), exp + 60_000),
        Err(SealError::Expired { expired_at_ms }) if expired_at_ms == exp
    ));

    // The expired Rust seal: Node returns {} (its "Expired seal" is swallowed), Rust refuses.
    assert_eq!(r[1].value(), &json!({}));
    assert!(matches!(
        seal::unseal_json(&expired, &single()),
        Err(SealError::Expired { .. })
    ));

    // A fresh Rust seal with the PKCE ttl reads in Node.
    assert_eq!(r[2].value(), &data);
}

#[test]
fn large_session_with_many_permissions() {
    // An access token carrying many permissions, as a big RBAC setup produces.
    let permissions: Vec<String> = (0..40)
        .map(|i| format!("widgets:resource-{i:02}:manage"))
        .collect();
    let claims = json!({"sub": "user_01HXYZ", "sid": "session_01HXYZ", "org_id": "org_01", "role": "admin",
                        "permissions": permissions, "exp": 1_750_000_300u64});
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut session = realistic_session();
    session.access_token = format!(
        "{}.{}.{}",
        b64.encode(r#"{"alg":"RS256","kid":"sso_oidc_key_pair_01"}"#),
        b64.encode(claims.to_string()),
        b64.encode([7u8; 256])
    );
    let rust_sealed = session.seal(&single()).unwrap();
    assert!(
        (3_000..4_096).contains(&rust_sealed.len()),
        "want a ~3.5 KB cookie that still fits a browser, got {} bytes",
        rust_sealed.len()
    );
    let r = node(&[
        node_unseal(&rust_sealed, json!(PW1)),
        node_seal(&session, json!(PW1), 0),
    ]);
    assert_eq!(r[0].json(), serde_json::to_string(&session).unwrap());
    let node_sealed = r[1].seal();
    assert_eq!(
        node_sealed.len(),
        rust_sealed.len(),
        "same JSON, same seal length"
    );
    assert_eq!(Session::unseal(node_sealed, &single()).unwrap(), session);
}

#[test]
fn wrong_password_fails_on_both_sides() {
    let data = json!({"secret": "value"});
    let rust_sealed = seal::seal_json(&data, &single(), None).unwrap();
    let r = node(&[
        node_seal(&data, json!(PW1), 0),
        node_unseal(&rust_sealed, json!(PW2)),
        node_unseal(&rust_sealed, json!(PW1)),
    ]);
    let other = PasswordMap::single(PW2);
    assert!(matches!(
        seal::unseal_json(r[0].seal(), &other),
        Err(SealError::BadMac)
    ));
    // iron-session swallows "Bad hmac value" and returns {}.
    assert_eq!(r[1].value(), &json!({}));
    assert_eq!(r[2].value(), &data);
}

#[test]
fn legacy_v1_seals_return_their_persistent_field() {
    let data = json!({"user": {"id": "user_1"}, "n": 3});
    let r = node(&[json!({"op": "seal_legacy", "data": data, "password": PW1})]);
    let legacy = r[0].seal();
    assert!(!legacy.contains('~'), "a v1 seal has no version suffix");
    assert_eq!(seal::unseal_json(legacy, &single()).unwrap(), data);
    // And Node reads it the same way.
    let r = node(&[node_unseal(legacy, json!(PW1))]);
    assert_eq!(r[0].value(), &data);
}

/// iron-session's edges, matched: a version suffix with more after `~2` (`~2x`, `~2~y`) is
/// version 2 and `~3` is the legacy format; the password's minimum length is counted in
/// UTF-16 code units; a non-numeric password id cannot seal there (and is refused by this
/// crate's configuration).
#[test]
fn iron_session_edges_match() {
    let data = json!({"user": {"id": "user_1"}, "persistent": {"p": 1}});
    let emoji = "\u{1F600}".repeat(16); // 16 characters, 32 UTF-16 code units
    let r = node(&[
        node_seal(&data, json!(PW1), 0),
        node_seal(&data, json!(emoji), 0),
        node_seal(&data, json!({"1": PW1, "abc": PW2}), 0),
    ]);
    let sealed = r[0].seal().to_owned();
    let body = sealed.strip_suffix("~2").unwrap().to_owned();
    let variants = [
        format!("{body}~2x"),
        format!("{body}~2~y"),
        format!("{body}~3"),
        body.clone(),
    ];
    let node_reads = node(
        &variants
            .iter()
            .map(|v| node_unseal(v, json!(PW1)))
            .collect::<Vec<_>>(),
    );
    for (variant, theirs) in variants.iter().zip(&node_reads) {
        let ours = seal::unseal_json(variant, &single()).unwrap();
        assert_eq!(&ours, theirs.value(), "{variant}");
    }
    assert_eq!(node_reads[0].value(), &data);
    assert_eq!(node_reads[2].value(), &json!({"p": 1}));

    // A 32-code-unit emoji password: iron-session seals with it, this crate reads it and
    // accepts it in its configuration.
    let emoji_map = PasswordMap::single(emoji.as_str());
    assert_eq!(seal::unseal_json(r[1].seal(), &emoji_map).unwrap(), data);
    let ours = seal::seal_json(&data, &emoji_map, None).unwrap();
    assert_eq!(node(&[node_unseal(&ours, json!(emoji))])[0].value(), &data);
    assert!(authkit_leptos::AuthKitConfig::builder()
        .client_id("c")
        .api_key("k")
        .redirect_uri("http://localhost/callback")
        .cookie_password(emoji.clone())
        .build()
        .is_ok());

    // A non-numeric id: iron-session cannot seal, and the configuration says so.
    assert!(
        matches!(r[2], NodeResult::Err(_)),
        "iron-session sealed with id `abc`"
    );
    let e = authkit_leptos::AuthKitConfig::builder()
        .client_id("c")
        .api_key("k")
        .redirect_uri("http://localhost/callback")
        .cookie_passwords(PasswordMap::from_entries([("1", PW1), ("abc", PW2)]).unwrap())
        .build()
        .unwrap_err();
    assert!(
        e.to_string().contains("password ids must be numbers"),
        "{e}"
    );
}
