//! Helpers shared by the emulator's suites: an HTTP client that does not follow
//! redirects, PKCE pairs, and the authorize → code → tokens round trip over loopback.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use workos_emulator::{Emulator, Seed};

pub const REDIRECT_URI: &str = "http://localhost:3000/callback";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The demo seed, auto-approving its first user (Ada).
pub async fn demo() -> Emulator {
    Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve()
        .start()
        .await
        .unwrap()
}

/// A fresh (verifier, S256 challenge) pair.
pub fn pkce() -> (String, String) {
    let mut random = [0u8; 32];
    aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut random)
        .unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(random);
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    (verifier, challenge)
}

/// `{base}{path}?{pairs}` with proper encoding.
pub fn url(base: &str, path: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{base}{path}")).unwrap();
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    url.to_string()
}

/// The query of a `Location` header, decoded.
pub fn location_query(response: &reqwest::Response) -> HashMap<String, String> {
    let location = response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap();
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// GET authorize with the standard parameters plus `extra`.
pub async fn authorize(
    emu: &Emulator,
    challenge: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut pairs = vec![
        ("client_id", emu.client_id()),
        ("redirect_uri", REDIRECT_URI),
        ("response_type", "code"),
        ("provider", "authkit"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    client()
        .get(url(emu.base_url(), "/user_management/authorize", &pairs))
        .send()
        .await
        .unwrap()
}

/// POST authenticate with a JSON body.
pub async fn authenticate(emu: &Emulator, body: Value) -> reqwest::Response {
    client()
        .post(format!("{}/user_management/authenticate", emu.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn exchange(emu: &Emulator, code: &str, verifier: &str) -> reqwest::Response {
    authenticate(
        emu,
        serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": emu.client_id(),
            "client_secret": emu.api_key(),
            "code": code,
            "code_verifier": verifier,
        }),
    )
    .await
}

pub async fn refresh(emu: &Emulator, token: &str, org: Option<&str>) -> reqwest::Response {
    let mut body = serde_json::json!({
        "grant_type": "refresh_token",
        "client_id": emu.client_id(),
        "client_secret": emu.api_key(),
        "refresh_token": token,
    });
    if let Some(org) = org {
        body["organization_id"] = org.into();
    }
    authenticate(emu, body).await
}

/// Auto-approved sign-in (optionally for `login_hint`) through to the authenticate response.
pub async fn sign_in(emu: &Emulator, extra: &[(&str, &str)]) -> Value {
    let (verifier, challenge) = pkce();
    let response = authorize(emu, &challenge, extra).await;
    assert_eq!(response.status(), 302, "{:?}", response.headers());
    let query = location_query(&response);
    let code = query.get("code").expect("a code in the redirect");
    let response = exchange(emu, code, &verifier).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The claims of a JWT, without verifying it.
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The header of a JWT.
pub fn header(jwt: &str) -> Value {
    let header = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// Verifies `jwt` against the emulator's JWKS with `jsonwebtoken`, returning its claims.
pub async fn verify(emu: &Emulator, jwt: &str) -> Result<Value, String> {
    let jwks: Value = client()
        .get(emu.jwks_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = header(jwt)["kid"].as_str().unwrap().to_owned();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or("no key with the token's kid")?;
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    validation.leeway = 0;
    jsonwebtoken::decode::<Value>(jwt, &decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

/// The id of the seeded organization with this name, read from a membership listing.
pub async fn org_id_by_name(emu: &Emulator, user_id: &str, name: &str) -> String {
    let list: Value = client()
        .get(url(
            emu.base_url(),
            "/user_management/organization_memberships",
            &[
                ("user_id", user_id),
                ("statuses", "active,inactive,pending"),
            ],
        ))
        .bearer_auth(emu.api_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["organization_name"] == name)
        .map(|m| m["organization_id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{user_id} is not in {name}: {list}"))
}
