//! The #11 R2 token attacks, shared by the two suites that run them end to end:
//! `tokens::attacks` (each attack in a session cookie, through the AuthKit layer)
//! and the demo's `app/tests/it/bearer_attacks.rs` (each attack as an `Authorization: Bearer` token, at
//! the demo's `/demo-api/data`). Both use it from this crate, next to [`token`](crate::token),
//! whose keys and signing helpers it uses.
//!
//! - [`start_front`]: a loopback **front** standing where WorkOS is. It forwards every call
//!   to the emulator and adds keys of the test's (the [`TRUSTED`] one under [`WORKOS_KID`])
//!   to the JWKS the emulator serves, so a token the test signs with that key is as genuine
//!   as one the emulator issues. Point the app under test at the front.
//! - [`Cast`]: who the attacks are about (Ada, the attacker, with her genuine session;
//!   Grace, whom the attacker would like to be, with her genuine session at another client)
//!   and genuine tokens for Grace, which each attack starts from.
//! - [`attacks`]: the table, each attack changing one thing about a genuine token.
//! - [`Failures`]: collects failed checks so one run reports every failing case.
#![allow(dead_code, unreachable_pub)]

use crate::token::{b64, jwk, key, pem, pkcs1_der, sign, sign_hmac, sign_with_header, spki_der};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use workos_emulator::{Emulator, Seed};

/// The `kid` of the key the front publishes next to the emulator's: the test's stand-in
/// for a WorkOS signing key.
pub const WORKOS_KID: &str = "key_01TOKENATTACKSWORKOS";
/// Index (in `support::token::key`) of that trusted key.
pub const TRUSTED: usize = 0;
/// Index of the attacker's own key, published nowhere.
pub const ATTACKER: usize = 1;
/// The refresh token of a forged cookie when the attacker has none that works.
pub const MADE_UP_REFRESH_TOKEN: &str = "refresh_token_made_up_by_the_attacker";
/// The client id of the other client Grace has a genuine session at.
pub const OTHER_CLIENT_ID: &str = "client_01ANOTHERAPP";

/// The system clock in unix seconds (for `iat`/`exp` of the tokens the attacks sign).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A client that follows no redirect.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

// =======================================================================================
// The front: WorkOS as the emulator serves it, plus keys the test can sign with
// =======================================================================================

/// The front, serving on a loopback port until dropped.
pub struct Front {
    /// The front's base URL (`http://127.0.0.1:PORT`): point the app's WorkOS API here.
    pub base_url: String,
    /// The front's loopback port.
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct FrontState {
    upstream: String,
    extra_keys: Vec<Value>,
    client: reqwest::Client,
}

/// Forwards one request to the emulator as it is; on the JWKS, adds the extra keys.
async fn forward(State(front): State<Arc<FrontState>>, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let mut upstream = front
        .client
        .request(parts.method.clone(), format!("{}{path}", front.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            upstream = upstream.header(name, value);
        }
    }
    let answer = match upstream.send().await {
        Ok(answer) => answer,
        Err(e) => {
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::from(format!("front: {e}")))
                .unwrap()
        }
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    if parts.uri.path().starts_with("/sso/jwks/") && status.is_success() {
        let mut document: Value = serde_json::from_slice(&bytes).unwrap();
        let keys = document["keys"].as_array_mut().expect("a JWKS");
        keys.extend(front.extra_keys.iter().cloned());
        bytes = serde_json::to_vec(&document).unwrap();
    }
    let mut response = Response::builder().status(status);
    for (name, value) in &headers {
        if name != header::CONTENT_LENGTH
            && name != header::TRANSFER_ENCODING
            && name != header::CONNECTION
        {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(bytes)).unwrap()
}

/// Starts a front for the emulator at `upstream` that adds `extra_keys` to its JWKS.
pub async fn start_front(upstream: &str, extra_keys: Vec<Value>) -> Front {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = Arc::new(FrontState {
        upstream: upstream.to_owned(),
        extra_keys,
        client: http_client(),
    });
    let app = Router::new().fallback(forward).with_state(state);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Front {
        base_url: format!("http://127.0.0.1:{port}"),
        port,
        task,
    }
}

/// The front every attack suite uses: the emulator's JWKS plus the [`TRUSTED`] key under
/// [`WORKOS_KID`].
pub async fn start_trusting_front(emulator: &Emulator) -> Front {
    start_front(emulator.base_url(), vec![jwk(key(TRUSTED), WORKOS_KID)]).await
}

/// The seed of the other client Grace signs in at: the demo seed (same users) under
/// [`OTHER_CLIENT_ID`]; the emulator started with it has its own keys.
pub fn other_client_seed() -> Seed {
    let mut seed = Seed::demo().unwrap();
    seed.client_id = Some(OTHER_CLIENT_ID.into());
    seed
}

// =======================================================================================
// The cast: who the attacks are about, and genuine tokens to start from
// =======================================================================================

/// Who the attacks are about: Ada (the attacker, with her genuine session) and Grace (whom
/// the attacker would like to be), with genuine tokens for Grace that each attack starts from.
pub struct Cast {
    /// The emulator's signing key as its JWKS publishes it.
    pub workos_jwk: Value,
    /// `iss` of the emulator's tokens.
    pub issuer: String,
    /// Ada's genuine session (the attacker's own account), unsealed.
    pub ada: Value,
    /// Grace, the user the attacker would like to be.
    pub grace: Value,
    /// Grace's genuine session at another client (another emulator, client id and keys),
    /// unsealed.
    pub other_client: Value,
    jti: AtomicU64,
}

impl Cast {
    /// The cast of `emulator` (the one the app trusts, behind the front), from Ada's
    /// session there and Grace's at the other client (an emulator seeded with
    /// [`other_client_seed`]).
    pub async fn new(emulator: &Emulator, ada: Value, other_client: Value) -> Self {
        let issuer = format!(
            "{}/user_management/{}",
            emulator.base_url(),
            emulator.client_id()
        );
        let jwks = http_client()
            .get(emulator.jwks_url())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let workos_jwks: Value = serde_json::from_slice(&jwks).unwrap();
        let workos_jwk = workos_jwks["keys"][0].clone();
        assert_eq!(workos_jwk["kid"], emulator.signing_key_id());
        assert_eq!(ada["user"]["email"], "ada@example.com");
        assert_ne!(emulator.client_id(), OTHER_CLIENT_ID);
        let grace = other_client["user"].clone();
        assert_eq!(grace["email"], "grace@example.com");
        assert_ne!(grace["id"], ada["user"]["id"]);
        Self {
            workos_jwk,
            issuer,
            ada,
            grace,
            other_client,
            jti: AtomicU64::new(0),
        }
    }

    /// Ada's WorkOS user id.
    pub fn ada_id(&self) -> &str {
        self.ada["user"]["id"].as_str().unwrap()
    }

    /// Grace's WorkOS user id.
    pub fn grace_id(&self) -> &str {
        self.grace["id"].as_str().unwrap()
    }

    /// Claims as WorkOS writes them for `sub`, valid for five minutes.
    pub fn claims_for(&self, sub: &str) -> Value {
        let now = now();
        json!({
            "iss": self.issuer,
            "sub": sub,
            "sid": "session_01TOKENATTACKS",
            "jti": format!("jti_{}", self.jti.fetch_add(1, Ordering::Relaxed)),
            "role": "member",
            "exp": now + 300,
            "iat": now,
        })
    }

    /// A genuine token for Grace, signed by the trusted key (the control every attack
    /// starts from). Its signature is re-drawn until it holds a `-` or `_`, so that the
    /// standard-alphabet variant differs from it.
    pub fn grace_token(&self) -> String {
        loop {
            let token = sign(key(TRUSTED), WORKOS_KID, &self.claims_for(self.grace_id()));
            if token.rsplit('.').next().unwrap().contains(['-', '_']) {
                return token;
            }
        }
    }

    /// The key id the front publishes for the test's trusted key ([`WORKOS_KID`]).
    pub fn workos_kid(&self) -> &str {
        self.workos_jwk["kid"].as_str().unwrap()
    }
}

// =======================================================================================
// The attacks
// =======================================================================================

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
/// What the layer must do with an attack's token.
pub enum Verdict {
    /// The token does not verify: the layer tries the cookie's refresh token.
    DoesNotVerify,
    /// A genuine token of another user than the sealed one: signed out, no refresh.
    AnotherUser,
}

/// One attack: a genuine token with one thing changed.
pub struct Attack {
    /// What was changed (the case's name in failure reports).
    pub name: String,
    /// The attacked access token.
    pub token: String,
    /// The user sealed next to the token (in a cookie).
    pub user: Value,
    /// What the cookie suite expects.
    pub verdict: Verdict,
    /// The cookie's refresh token when the attacker has no working one (default: made up).
    pub refresh_token: Option<String>,
    /// Whether an unknown `kid` may make the verifier refetch the JWKS (once per cooldown).
    pub may_fetch_jwks: bool,
    /// Whether the attack has a Bearer form (every one but `sub ≠ sealed user`: a header
    /// carries no sealed user).
    pub bearer: bool,
}

impl Attack {
    fn new(name: impl Into<String>, token: String, cast: &Cast) -> Self {
        Self {
            name: name.into(),
            token,
            user: cast.grace.clone(),
            verdict: Verdict::DoesNotVerify,
            refresh_token: None,
            may_fetch_jwks: false,
            bearer: true,
        }
    }

    fn may_fetch_jwks(mut self) -> Self {
        self.may_fetch_jwks = true;
        self
    }
}

/// Token parts as strings.
fn parts(token: &str) -> (String, String, String) {
    let mut it = token.split('.');
    let (h, p, s) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    (h.to_owned(), p.to_owned(), s.to_owned())
}

/// `part` with its character at `index` replaced by another base64url character.
fn change_char(part: &str, index: usize) -> String {
    let mut bytes = part.as_bytes().to_vec();
    bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// A base64url part re-encoded in the standard alphabet with padding.
fn standard_padded(part: &str) -> String {
    STANDARD.encode(URL_SAFE_NO_PAD.decode(part).unwrap())
}

/// A genuine token for Grace, padded with a `pad` claim to just over `bytes` long.
fn token_longer_than(bytes: usize, cast: &Cast) -> String {
    let mut claims = cast.claims_for(cast.grace_id());
    claims["pad"] = json!("");
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": WORKOS_KID});
    let header_len = b64(serde_json::to_vec(&header).unwrap()).len();
    let base = serde_json::to_vec(&claims).unwrap().len();
    // header.payload.signature, the RSA-2048 signature being 342 characters; the payload
    // is the claims in base64url (4 characters per 3 bytes, rounded up), `pad` adding one
    // byte per character.
    let payload_len = bytes + 1 - (header_len + 1 + 1 + 342);
    let json_len = (payload_len * 3).div_ceil(4);
    claims["pad"] = json!("x".repeat(json_len - base));
    let token = sign(key(TRUSTED), WORKOS_KID, &claims);
    assert!(
        token.len() > bytes && token.len() <= bytes + 4,
        "{} for {bytes}",
        token.len()
    );
    token
}

/// Every attack of the issue, each changing one thing about a genuine token.
pub fn attacks(cast: &Cast) -> Vec<Attack> {
    let grace_claims = cast.claims_for(cast.grace_id());
    let good = cast.grace_token();
    let (h, p, s) = parts(&good);
    let mut list = Vec::new();
    let mut add = |attack: Attack| list.push(attack);

    // --- alg: none
    for alg in ["none", "None", "NONE"] {
        let header = b64(format!(
            r#"{{"alg":"{alg}","typ":"JWT","kid":"{WORKOS_KID}"}}"#
        ));
        add(Attack::new(
            format!("alg: {alg}, empty signature"),
            format!("{header}.{p}."),
            cast,
        ));
        add(Attack::new(
            format!("alg: {alg}, the genuine signature kept"),
            format!("{header}.{p}.{s}"),
            cast,
        ));
    }

    // --- HS256 with the WorkOS public key as the HMAC secret
    let public = &cast.workos_jwk;
    let secrets: [(&str, Vec<u8>); 6] = [
        (
            "its PEM (SubjectPublicKeyInfo)",
            pem("PUBLIC KEY", &spki_der(public)).into_bytes(),
        ),
        (
            "its PEM (PKCS#1)",
            pem("RSA PUBLIC KEY", &pkcs1_der(public)).into_bytes(),
        ),
        ("its DER (SubjectPublicKeyInfo)", spki_der(public)),
        ("its DER (PKCS#1)", pkcs1_der(public)),
        (
            "its modulus",
            URL_SAFE_NO_PAD
                .decode(public["n"].as_str().unwrap())
                .unwrap(),
        ),
        ("its JWK as published", serde_json::to_vec(public).unwrap()),
    ];
    for (what, secret) in &secrets {
        for alg in ["HS256", "HS512"] {
            let header = json!({"alg": alg, "typ": "JWT", "kid": cast.workos_kid()});
            add(Attack::new(
                format!("{alg} with the WorkOS public key as the secret: {what}"),
                sign_hmac(alg, secret, &header, &grace_claims),
                cast,
            ));
        }
    }

    // --- valid RS256 tokens from a key the JWKS does not hold
    add(Attack::new(
        "RS256 by a key not in the JWKS, under the kid of the WorkOS signing key",
        sign(key(ATTACKER), cast.workos_kid(), &grace_claims),
        cast,
    ));
    add(Attack::new(
        "RS256 by a key not in the JWKS, under the kid of another published key",
        sign(key(ATTACKER), WORKOS_KID, &grace_claims),
        cast,
    ));
    add(Attack::new(
        "RS256 by a key not in the JWKS, under its own kid",
        sign(key(ATTACKER), "key_01ATTACKER", &grace_claims),
        cast,
    )
    .may_fetch_jwks());

    // --- unknown or missing kid
    add(Attack::new(
        "unknown kid (signed by a published key, naming a kid the JWKS lacks)",
        sign(key(TRUSTED), "key_01UNKNOWN", &grace_claims),
        cast,
    )
    .may_fetch_jwks());
    add(Attack::new(
        "no kid",
        sign_with_header(
            key(TRUSTED),
            &json!({"alg": "RS256", "typ": "JWT"}),
            &grace_claims,
        ),
        cast,
    ));

    // --- tampered header, payload, signature
    let header_json = String::from_utf8(URL_SAFE_NO_PAD.decode(&h).unwrap()).unwrap();
    add(Attack::new(
        "tampered header: one byte of the decoded header changed (typ JWT → JWS)",
        format!("{}.{p}.{s}", b64(header_json.replace("JWT", "JWS"))),
        cast,
    ));
    add(Attack::new(
        "tampered header: one base64url character changed",
        format!("{}.{p}.{s}", change_char(&h, 5)),
        cast,
    ));
    let mut elevated = grace_claims.clone();
    elevated["role"] = json!("admin");
    elevated["permissions"] = json!(["*"]);
    add(Attack::new(
        "tampered payload: elevated claims under the genuine signature",
        format!("{h}.{}.{s}", b64(serde_json::to_vec(&elevated).unwrap())),
        cast,
    ));
    let mut payload = URL_SAFE_NO_PAD.decode(&p).unwrap();
    let middle = payload.len() / 2;
    payload[middle] ^= 0x01;
    add(Attack::new(
        "tampered payload: one bit of the decoded payload flipped",
        format!("{h}.{}.{s}", b64(&payload)),
        cast,
    ));
    add(Attack::new(
        "tampered payload: one base64url character changed",
        format!("{h}.{}.{s}", change_char(&p, p.len() / 2)),
        cast,
    ));
    let mut signature = URL_SAFE_NO_PAD.decode(&s).unwrap();
    signature[17] ^= 0x01;
    add(Attack::new(
        "tampered signature: one bit flipped",
        format!("{h}.{p}.{}", b64(&signature)),
        cast,
    ));
    add(Attack::new(
        "tampered signature: last base64url character changed",
        format!("{h}.{p}.{}", change_char(&s, s.len() - 1)),
        cast,
    ));
    add(Attack::new(
        "tampered signature: one byte short",
        format!(
            "{h}.{p}.{}",
            b64(&URL_SAFE_NO_PAD.decode(&s).unwrap()[..255])
        ),
        cast,
    ));
    add(Attack::new("signature removed", format!("{h}.{p}."), cast));
    add(Attack::new("two parts only", format!("{h}.{p}"), cast));
    add(Attack::new(
        "a fourth part",
        format!("{h}.{p}.{s}.{s}"),
        cast,
    ));

    // --- the genuine token re-encoded: same bytes, another base64 spelling
    for (which, index) in [("header", 0), ("payload", 1), ("signature", 2)] {
        let mut padded = [h.clone(), p.clone(), s.clone()];
        if padded[index].len() % 4 != 0 {
            padded[index] = format!(
                "{}{}",
                padded[index],
                "=".repeat(4 - padded[index].len() % 4)
            );
            add(Attack::new(
                format!("re-encoded with padding: {which}"),
                padded.join("."),
                cast,
            ));
        }
        let mut alphabet = [h.clone(), p.clone(), s.clone()];
        alphabet[index] = alphabet[index].replace('-', "+").replace('_', "/");
        if alphabet[index].contains(['+', '/']) {
            add(Attack::new(
                format!("re-encoded in the standard alphabet (+ /): {which}"),
                alphabet.join("."),
                cast,
            ));
        }
    }
    add(Attack::new(
        "re-encoded: every part in standard base64 with padding",
        format!(
            "{}.{}.{}",
            standard_padded(&h),
            standard_padded(&p),
            standard_padded(&s)
        ),
        cast,
    ));

    // --- time
    let mut expired = grace_claims.clone();
    expired["iat"] = json!(now() - 400);
    expired["exp"] = json!(now() - 100);
    add(Attack::new(
        "expired (genuine, exp 100 s ago)",
        sign(key(TRUSTED), WORKOS_KID, &expired),
        cast,
    ));
    let mut expired_now = grace_claims.clone();
    expired_now["exp"] = json!(now());
    add(Attack::new(
        "expired (genuine, exp = now: no leeway)",
        sign(key(TRUSTED), WORKOS_KID, &expired_now),
        cast,
    ));
    let mut early = grace_claims.clone();
    early["nbf"] = json!(now() + 3600);
    add(Attack::new(
        "nbf an hour in the future (genuine)",
        sign(key(TRUSTED), WORKOS_KID, &early),
        cast,
    ));

    // --- sub ≠ the sealed user id (cookie only: a Bearer header carries no sealed user)
    add(Attack {
        verdict: Verdict::AnotherUser,
        bearer: false,
        ..Attack::new(
            "sub ≠ sealed user: Ada's genuine WorkOS token sealed as Grace",
            cast.ada["accessToken"].as_str().unwrap().to_owned(),
            cast,
        )
    });
    add(Attack {
        verdict: Verdict::AnotherUser,
        bearer: false,
        user: cast.ada["user"].clone(),
        ..Attack::new(
            "sub ≠ sealed user: a genuine token for Grace sealed as Ada",
            good.clone(),
            cast,
        )
    });

    // --- crit
    for crit in [json!(["exp"]), json!(["b64"]), json!([])] {
        let mut header = json!({"alg": "RS256", "typ": "JWT", "kid": WORKOS_KID, "crit": crit});
        if crit == json!(["b64"]) {
            header["b64"] = json!(false);
        }
        add(Attack::new(
            format!("crit header {crit} (genuine)"),
            sign_with_header(key(TRUSTED), &header, &grace_claims),
            cast,
        ));
    }

    // --- size
    add(Attack::new(
        "oversized: just over 64 KiB (genuine)",
        token_longer_than(64 * 1024, cast),
        cast,
    ));
    add(Attack::new(
        "oversized: 1 MiB (genuine)",
        token_longer_than(1024 * 1024, cast),
        cast,
    ));

    // --- another client id
    add(Attack {
        user: cast.other_client["user"].clone(),
        refresh_token: Some(cast.other_client["refreshToken"].as_str().unwrap().to_owned()),
        ..Attack::new(
            "another client id: Grace's genuine session at another client (its keys, its refresh token)",
            cast.other_client["accessToken"].as_str().unwrap().to_owned(),
            cast,
        )
        .may_fetch_jwks()
    });

    list
}

/// Collects failed checks so one run reports every case that failed, not only the first.
#[derive(Default)]
pub struct Failures(Vec<String>);

impl Failures {
    /// Records a failed check: `case` (the attack) and `what` went wrong, unless `ok`.
    pub fn check(&mut self, ok: bool, case: &str, what: impl std::fmt::Display) {
        if !ok {
            self.0.push(format!("[{case}] {what}"));
        }
    }

    /// Panics with every recorded failure, if any, out of `cases` checked.
    pub fn assert_none(self, cases: usize) {
        assert!(
            self.0.is_empty(),
            "{} failed check(s) over {cases} attacks:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}
