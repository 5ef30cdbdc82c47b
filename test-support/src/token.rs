//! Access tokens made by the tests: RSA-2048 keys generated once per test binary, their
//! public JWKs, compact JWTs with any header signed RS256 (or HMAC, for algorithm
//! confusion), and the DER/PEM forms of an RSA public key an attacker could use as an
//! HMAC secret. Shared by `tokens::verify` (the verifier alone), and through
//! [`attack`](crate::attack) by `tokens::attacks` and the demo's
//! `app/tests/it/bearer_attacks.rs` (the same attacks end to end).
#![allow(dead_code, unreachable_pub)]

use std::sync::OnceLock;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};

/// Three RSA-2048 key pairs, each generated once, on first use (generation is slow).
pub fn key(index: usize) -> &'static KeyPair {
    static KEYS: [OnceLock<KeyPair>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    KEYS[index].get_or_init(|| KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation"))
}

/// Unpadded base64url, as JWTs use it.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The public JWK of `pair`, as WorkOS publishes it.
pub fn jwk(pair: &KeyPair, kid: &str) -> Value {
    let public = pair.public_key();
    json!({
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
        "n": b64(public.modulus().big_endian_without_leading_zero()),
        "e": b64(public.exponent().big_endian_without_leading_zero()),
    })
}

/// A JWKS document.
pub fn jwks(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}

/// A compact JWT with any header, signed RS256 by `pair`.
pub fn sign_with_header(pair: &KeyPair, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(serde_json::to_vec(header).unwrap()),
        b64(serde_json::to_vec(claims).unwrap())
    );
    let mut sig = vec![0; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", b64(sig))
}

/// A JWT signed RS256 by `pair` under the header WorkOS writes (`alg`, `typ`, `kid`).
pub fn sign(pair: &KeyPair, kid: &str, claims: &Value) -> String {
    sign_with_header(
        pair,
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        claims,
    )
}

/// A JWT "signed" with HMAC (`HS256`, `HS384` or `HS512`, as `alg` says) and `secret`:
/// the algorithm-confusion attack when `secret` is a public key.
pub fn sign_hmac(alg: &str, secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(serde_json::to_vec(header).unwrap()),
        b64(serde_json::to_vec(claims).unwrap())
    );
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        other => panic!("not an HMAC alg: {other}"),
    };
    let tag = hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// A WorkOS access token's claims, valid for 5 minutes from `now`.
pub fn claims(now: u64) -> Value {
    json!({
        "iss": "https://api.workos.com/user_management/client_123",
        "sub": "user_01",
        "sid": "session_01",
        "jti": "jti_01",
        "org_id": "org_01",
        "role": "admin",
        "roles": ["admin", "member"],
        "permissions": ["posts:read", "posts:write"],
        "entitlements": ["audit-logs"],
        "feature_flags": ["new-feature"],
        "exp": now + 300,
        "iat": now,
        "auth_time": now - 10,
        "act": {"sub": "admin@example.com"},
        "department": "R&D",
    })
}

// ---------------------------------------------------------------------------------------
// An RSA public key in the forms a confused verifier might take as an HMAC secret
// ---------------------------------------------------------------------------------------

fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap());
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | u8::try_from(bytes.len()).unwrap());
        out.extend(bytes);
    }
}

fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    der_len(contents.len(), &mut out);
    out.extend_from_slice(contents);
    out
}

fn der_uint(big_endian: &[u8]) -> Vec<u8> {
    let mut contents = Vec::with_capacity(big_endian.len() + 1);
    if big_endian.first().is_some_and(|b| b & 0x80 != 0) {
        contents.push(0);
    }
    contents.extend_from_slice(big_endian);
    der(0x02, &contents)
}

/// `RSAPublicKey ::= SEQUENCE { modulus, publicExponent }` (PKCS#1) from a JWK's `n`/`e`.
pub fn pkcs1_der(jwk: &Value) -> Vec<u8> {
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    der(0x30, &[der_uint(&n), der_uint(&e)].concat())
}

/// `SubjectPublicKeyInfo` (what `-----BEGIN PUBLIC KEY-----` holds) from a JWK.
pub fn spki_der(jwk: &Value) -> Vec<u8> {
    // AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
    let algorithm = der(
        0x30,
        &[
            der(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
            ),
            vec![0x05, 0x00],
        ]
        .concat(),
    );
    let bits = [&[0u8][..], &pkcs1_der(jwk)].concat();
    der(0x30, &[algorithm, der(0x03, &bits)].concat())
}

/// PEM armour, 64 characters a line, with the trailing newline `openssl` writes.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}
