//! Access-token verification against a JWKS: real RSA-2048 keys made with aws-lc-rs, tokens
//! built and signed here, a JWKS source whose calls are counted, and a clock the tests move.
#![cfg(feature = "ssr")]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support::token::{b64, claims, jwk, jwks, key, sign, sign_with_header};
use authkit_leptos::jwt::{decode_unverified, AccessTokenClaims, Clock, JwtError, TokenVerifier};
use aws_lc_rs::hmac;
use aws_lc_rs::signature::KeyPair as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------
// Test keys and tokens (support::token), clock and JWKS source
// ---------------------------------------------------------------------------------------

/// A clock the test moves by hand; both its monotonic and wall time advance together.
struct ManualClock {
    start: Instant,
    start_wall: SystemTime,
    offset: Mutex<Duration>,
}

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            start_wall: SystemTime::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }
    fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }
    fn offset(&self) -> Duration {
        *self.offset.lock().unwrap()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.offset()
    }
    fn system_now(&self) -> SystemTime {
        self.start_wall + self.offset()
    }
}

/// A JWKS endpoint stand-in: serves `document`, counts calls, can fail or be slow.
#[derive(Default)]
struct Source {
    document: Mutex<Value>,
    calls: AtomicUsize,
    fail: AtomicBool,
    delay: Mutex<Duration>,
}

impl Source {
    fn serving(document: Value) -> Arc<Self> {
        let source = Arc::new(Self::default());
        source.publish(document);
        source
    }
    fn publish(&self, document: Value) {
        *self.document.lock().unwrap() = document;
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    fn set_failing(&self, fail: bool) {
        self.fail.store(fail, Ordering::SeqCst);
    }
}

/// A verifier over `source` with a manual clock.
fn verifier(source: &Arc<Source>, clock: &Arc<ManualClock>) -> TokenVerifier {
    let source = Arc::clone(source);
    TokenVerifier::builder(move || {
        let source = Arc::clone(&source);
        async move {
            source.calls.fetch_add(1, Ordering::SeqCst);
            let delay = *source.delay.lock().unwrap();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if source.fail.load(Ordering::SeqCst) {
                return Err("503 Service Unavailable from the JWKS endpoint".into());
            }
            let document: Value = source.document.lock().unwrap().clone();
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(document)
        }
    })
    .clock(Arc::clone(clock) as Arc<dyn Clock>)
    .build()
}

/// The wall-clock second the manual clock starts at.
fn wall(clock: &ManualClock) -> u64 {
    clock
        .start_wall
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---------------------------------------------------------------------------------------
// Valid tokens
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn valid_token_gives_every_claim() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let now = wall(&clock);
    let token = sign(key(0), "k0", &claims(now));

    let c = verifier(&source, &clock).verify(&token).await.unwrap();

    assert_eq!(c.iss, "https://api.workos.com/user_management/client_123");
    assert_eq!(c.sub, "user_01");
    assert_eq!(c.sid, "session_01");
    assert_eq!(c.jti, "jti_01");
    assert_eq!(c.org_id.as_deref(), Some("org_01"));
    assert_eq!(c.role.as_deref(), Some("admin"));
    assert_eq!(c.roles, ["admin", "member"]);
    assert_eq!(c.permissions, ["posts:read", "posts:write"]);
    assert_eq!(c.entitlements, ["audit-logs"]);
    assert_eq!(c.feature_flags, ["new-feature"]);
    assert_eq!(
        (c.exp, c.iat, c.auth_time),
        (now + 300, now, Some(now - 10))
    );
    assert_eq!(
        c.act.as_ref().map(|a| a.sub.as_str()),
        Some("admin@example.com")
    );
    assert_eq!(c.lifetime_secs(), 300);
    assert_eq!(c.expires_at(), UNIX_EPOCH + Duration::from_secs(now + 300));
    assert_eq!(c.extra.get("department"), Some(&json!("R&D")));

    #[derive(serde::Deserialize)]
    struct Custom {
        department: String,
    }
    assert_eq!(c.custom::<Custom>().unwrap().department, "R&D");
    #[derive(serde::Deserialize)]
    struct Mine {
        sub: String,
        department: String,
        feature_flags: Vec<String>,
    }
    let mine: Mine = c.claims().unwrap();
    assert_eq!(
        (mine.sub.as_str(), mine.department.as_str()),
        ("user_01", "R&D")
    );
    assert_eq!(mine.feature_flags, ["new-feature"]);
    assert_eq!(source.calls(), 1);
}

#[tokio::test]
async fn minimal_token_has_empty_optional_claims() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let now = wall(&clock);
    let minimal = json!({"iss": "i", "sub": "user_01", "sid": "session_01", "jti": "j",
                         "exp": now + 60, "iat": now});
    let c: Arc<AccessTokenClaims> = verifier(&source, &clock)
        .verify(&sign(key(0), "k0", &minimal))
        .await
        .unwrap();
    assert_eq!(
        (
            c.org_id.as_deref(),
            c.role.as_deref(),
            c.auth_time,
            c.act.as_ref()
        ),
        (None, None, None, None)
    );
    assert!(c.roles.is_empty() && c.permissions.is_empty());
    assert!(c.entitlements.is_empty() && c.feature_flags.is_empty() && c.extra.is_empty());
}

#[tokio::test]
async fn issuer_is_checked_only_when_configured() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let token = sign(key(0), "k0", &claims(wall(&clock)));
    let build = |issuer: &str| {
        let source = Arc::clone(&source);
        TokenVerifier::builder(move || {
            let doc = source.document.lock().unwrap().clone();
            async move { Ok::<_, std::io::Error>(doc) }
        })
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .issuer(issuer)
        .build()
    };

    let right = build("https://api.workos.com/user_management/client_123");
    assert!(right.verify(&token).await.is_ok());
    let wrong = build("https://evil.example");
    let err = wrong.verify(&token).await.unwrap_err();
    assert!(
        matches!(&err, JwtError::IssuerMismatch { expected, .. } if expected == "https://evil.example"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn expired_token_is_expired_with_its_claims() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let token = sign(key(0), "k0", &claims(wall(&clock)));
    let verifier = verifier(&source, &clock);
    assert!(verifier.verify(&token).await.is_ok());

    // One second before exp it is valid; at exp (no leeway) it is expired.
    clock.advance(Duration::from_secs(299));
    assert!(verifier.verify(&token).await.is_ok());
    clock.advance(Duration::from_secs(1));
    let err = verifier.verify(&token).await.unwrap_err();
    let JwtError::Expired { claims } = &err else {
        panic!("expected Expired, got {err:?}");
    };
    assert_eq!(claims.org_id.as_deref(), Some("org_01"));
    assert_eq!(
        err.expired_claims().map(|c| c.sid.as_str()),
        Some("session_01")
    );
    assert!(!err.is_transient());

    let verified = verifier.verify_allow_expired(&token).await.unwrap();
    assert!(verified.expired);
    assert_eq!(verified.claims.sub, "user_01");
}

#[tokio::test]
async fn forged_expired_token_is_a_bad_signature_not_expired() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let mut c = claims(wall(&clock));
    c["exp"] = json!(wall(&clock) - 1);
    let forged = sign(key(1), "k0", &c);
    let err = verifier(&source, &clock).verify(&forged).await.unwrap_err();
    assert!(matches!(err, JwtError::InvalidSignature), "{err:?}");
}

#[tokio::test]
async fn not_before_in_the_future_is_rejected() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let now = wall(&clock);
    let mut c = claims(now);
    c["nbf"] = json!(now + 60);
    let token = sign(key(0), "k0", &c);
    let verifier = verifier(&source, &clock);
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(
        matches!(err, JwtError::NotYetValid { nbf } if nbf == now + 60),
        "{err:?}"
    );
    clock.advance(Duration::from_secs(60));
    assert_eq!(verifier.verify(&token).await.unwrap().nbf, Some(now + 60));
}

// ---------------------------------------------------------------------------------------
// Algorithms and keys
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn alg_none_is_rejected_before_any_key_lookup() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let c = b64(serde_json::to_vec(&claims(wall(&clock))).unwrap());
    let verifier = verifier(&source, &clock);
    for alg in ["none", "None", "NONE"] {
        let header = b64(format!(r#"{{"alg":"{alg}","kid":"k0"}}"#));
        for token in [format!("{header}.{c}."), format!("{header}.{c}.c2ln")] {
            let err = verifier.verify(&token).await.unwrap_err();
            assert!(
                matches!(&err, JwtError::UnsupportedAlgorithm { alg: a } if a == alg),
                "{err:?}"
            );
        }
    }
    assert_eq!(
        source.calls(),
        0,
        "no JWKS fetch for a token that names a bad alg"
    );
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_rejected() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let public = key(0).public_key();
    let n = public.modulus().big_endian_without_leading_zero().to_vec();
    let jwk_json = serde_json::to_vec(&jwk(key(0), "k0")).unwrap();
    // Every "secret" an attacker could derive from the published key.
    for secret in [public.as_ref().to_vec(), n, jwk_json] {
        for alg in ["HS256", "HS384", "HS512"] {
            let input = format!(
                "{}.{}",
                b64(format!(r#"{{"alg":"{alg}","kid":"k0"}}"#)),
                b64(serde_json::to_vec(&claims(wall(&clock))).unwrap())
            );
            let algorithm = match alg {
                "HS256" => hmac::HMAC_SHA256,
                "HS384" => hmac::HMAC_SHA384,
                _ => hmac::HMAC_SHA512,
            };
            let tag = hmac::sign(&hmac::Key::new(algorithm, &secret), input.as_bytes());
            let token = format!("{input}.{}", b64(tag.as_ref()));
            let err = verifier.verify(&token).await.unwrap_err();
            assert!(
                matches!(err, JwtError::UnsupportedAlgorithm { .. }),
                "{err:?}"
            );
        }
    }
    assert_eq!(source.calls(), 0);
}

#[tokio::test]
async fn every_algorithm_but_rs256_is_rejected() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let c = claims(wall(&clock));
    for alg in [
        "RS384", "RS512", "PS256", "ES256", "EdDSA", "rs256", "RS256 ", "",
    ] {
        // Really signed with the right RSA key: only the header's alg is wrong.
        let token = sign_with_header(key(0), &json!({"alg": alg, "kid": "k0"}), &c);
        let err = verifier.verify(&token).await.unwrap_err();
        assert!(
            matches!(err, JwtError::UnsupportedAlgorithm { .. }),
            "{alg}: {err:?}"
        );
    }
    let no_alg = sign_with_header(key(0), &json!({"kid": "k0"}), &c);
    assert!(matches!(
        verifier.verify(&no_alg).await,
        Err(JwtError::Malformed(_))
    ));
    assert_eq!(source.calls(), 0);
}

#[tokio::test]
async fn missing_kid_is_rejected() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let token = sign_with_header(key(0), &json!({"alg": "RS256"}), &claims(wall(&clock)));
    let err = verifier(&source, &clock).verify(&token).await.unwrap_err();
    assert!(matches!(err, JwtError::MissingKid), "{err:?}");
    assert_eq!(source.calls(), 0);
}

#[tokio::test]
async fn critical_header_extensions_are_rejected() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let header = json!({"alg": "RS256", "kid": "k0", "crit": ["b64"], "b64": false});
    let token = sign_with_header(key(0), &header, &claims(wall(&clock)));
    let err = verifier(&source, &clock).verify(&token).await.unwrap_err();
    assert!(matches!(err, JwtError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn two_keys_with_the_same_kid_are_rejected() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0"), jwk(key(1), "k0")]));
    let clock = ManualClock::new();
    let token = sign(key(0), "k0", &claims(wall(&clock)));
    let err = verifier(&source, &clock).verify(&token).await.unwrap_err();
    assert!(
        matches!(&err, JwtError::AmbiguousKid { kid } if kid == "k0"),
        "{err:?}"
    );
}

#[tokio::test]
async fn non_rs256_keys_are_ignored_and_bad_keys_reported() {
    let mut small = jwk(key(0), "small");
    small["n"] = json!(b64([0xc3; 128])); // 1024 bits
    let mut hs = jwk(key(1), "k0");
    hs["alg"] = json!("RS512");
    let source = Source::serving(jwks(&[
        json!({"kty": "oct", "kid": "k0", "k": "c2VjcmV0"}),
        hs,
        jwk(key(0), "k0"),
        small,
    ]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let c = claims(wall(&clock));
    assert!(verifier.verify(&sign(key(0), "k0", &c)).await.is_ok());
    let err = verifier
        .verify(&sign(key(0), "small", &c))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, JwtError::BadJwk { kid, reason } if kid == "small" && reason.contains("2048")),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Tampering and garbage
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn tampered_payload_or_signature_is_rejected() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0"), jwk(key(1), "k1")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let c = claims(wall(&clock));
    let token = sign(key(0), "k0", &c);
    let (input, sig) = token.rsplit_once('.').unwrap();
    let (header, _) = input.split_once('.').unwrap();

    // A different payload under the original signature.
    let mut elevated = c.clone();
    elevated["role"] = json!("owner");
    elevated["sub"] = json!("user_02");
    let payload = b64(serde_json::to_vec(&elevated).unwrap());
    let swapped = format!("{header}.{payload}.{sig}");
    assert!(matches!(
        verifier.verify(&swapped).await,
        Err(JwtError::InvalidSignature)
    ));

    // One flipped bit in the signature.
    let mut raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    raw[17] ^= 0x01;
    let flipped = format!("{input}.{}", b64(&raw));
    assert!(matches!(
        verifier.verify(&flipped).await,
        Err(JwtError::InvalidSignature)
    ));

    // A truncated signature.
    let short = format!("{input}.{}", b64(&raw[..255]));
    assert!(matches!(
        verifier.verify(&short).await,
        Err(JwtError::InvalidSignature)
    ));

    // A valid signature by another published key, under this key's kid.
    let other = sign(key(1), "k0", &c);
    assert!(matches!(
        verifier.verify(&other).await,
        Err(JwtError::InvalidSignature)
    ));

    // The original still verifies.
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn authentic_token_without_workos_claims_is_malformed() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let mut c = claims(wall(&clock));
    c.as_object_mut().unwrap().remove("sid");
    let err = verifier(&source, &clock)
        .verify(&sign(key(0), "k0", &c))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, JwtError::Malformed(m) if m.contains("sid")),
        "{err:?}"
    );
}

#[tokio::test]
async fn garbage_tokens_are_malformed_errors_and_fetch_nothing() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let good = sign(key(0), "k0", &claims(wall(&clock)));
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let cases = [
        String::new(),
        "x".into(),
        "..".into(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}="),
        format!("{h}.{p}=.{s}"),
        format!("{h}.{p}.!{s}"),
        format!("{h}.{p}!.{s}"),
        format!(" {good}"),
        format!("{}.{p}.{s}", b64("[]")),
        format!(
            "{}.{p}.{s}",
            b64(r#"{"alg":"RS256","alg":"none","kid":"k0"}"#)
        ),
        format!("{}.{p}.{s}", b64(r#"{"alg":"RS256","kid":7}"#)),
        "é.é.é".into(),
        "a".repeat(70_000),
    ];
    for case in &cases {
        let err = verifier.verify(case).await.unwrap_err();
        assert!(
            matches!(err, JwtError::Malformed(_)),
            "{case:.40?}: {err:?}"
        );
    }
    assert_eq!(source.calls(), 0);
}

#[test]
fn decode_unverified_shows_an_unverified_token() {
    let token = sign(key(0), "k0", &claims(1_700_000_000));
    let (header, body) = decode_unverified(&token).unwrap();
    assert_eq!(header, json!({"alg": "RS256", "typ": "JWT", "kid": "k0"}));
    assert_eq!(body["sub"], "user_01");
    assert_eq!(body["exp"], 1_700_000_300);
    let err = decode_unverified("a.b").unwrap_err();
    assert!(err.to_string().contains("3 parts"), "{err}");
}

// ---------------------------------------------------------------------------------------
// The cache
// ---------------------------------------------------------------------------------------

/// Waits (up to 2 s) until the source has been called `n` times: stale keys are refetched
/// on a background task while the request is served with them.
async fn calls_reach(source: &Source, n: usize) {
    for _ in 0..400 {
        if source.calls() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Let the fetch's result land in the cache.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(source.calls(), n);
}

#[tokio::test]
async fn cache_is_used_for_ten_minutes_then_refetched() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    // Long-lived token so only the cache's clock matters.
    let mut c = claims(wall(&clock));
    c["exp"] = json!(wall(&clock) + 86_400);
    let token = sign(key(0), "k0", &c);

    for _ in 0..5 {
        verifier.verify(&token).await.unwrap();
    }
    assert_eq!(source.calls(), 1);
    clock.advance(Duration::from_secs(599));
    verifier.verify(&token).await.unwrap();
    assert_eq!(source.calls(), 1, "still fresh at 9:59");
    clock.advance(Duration::from_secs(1));
    verifier.verify(&token).await.unwrap();
    calls_reach(&source, 2).await; // refetched at 10:00, in the background
    verifier.verify(&token).await.unwrap();
    assert_eq!(source.calls(), 2);
    assert_eq!(verifier.jwks().fetch_count(), 2);
}

#[tokio::test]
async fn ttl_is_configurable_and_the_cache_can_be_warmed() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let src = Arc::clone(&source);
    let verifier = TokenVerifier::builder(move || {
        src.calls.fetch_add(1, Ordering::SeqCst);
        let doc = src.document.lock().unwrap().clone();
        async move { Ok::<_, std::io::Error>(doc) }
    })
    .clock(Arc::clone(&clock) as Arc<dyn Clock>)
    .cache_ttl(Duration::from_secs(60))
    .build();
    verifier.jwks().refresh().await.unwrap();
    assert_eq!(source.calls(), 1);
    let token = sign(key(0), "k0", &claims(wall(&clock)));
    verifier.verify(&token).await.unwrap();
    assert_eq!(source.calls(), 1, "warmed cache is used");
    clock.advance(Duration::from_secs(60));
    verifier.verify(&token).await.unwrap();
    calls_reach(&source, 2).await;
}

#[tokio::test]
async fn unknown_kid_refetches_once_and_accepts_the_rotated_key() {
    let source = Source::serving(jwks(&[jwk(key(0), "old")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let c = claims(wall(&clock));
    verifier.verify(&sign(key(0), "old", &c)).await.unwrap();
    assert_eq!(source.calls(), 1);

    // WorkOS rotates: old and new keys are both published.
    clock.advance(Duration::from_secs(31));
    source.publish(jwks(&[jwk(key(0), "old"), jwk(key(1), "new")]));
    let c = claims(wall(&clock) + 31);
    let fresh = sign(key(1), "new", &c);
    assert_eq!(verifier.verify(&fresh).await.unwrap().sub, "user_01");
    assert_eq!(source.calls(), 2, "exactly one refetch for the unknown kid");

    // Both keys now verify from the cache.
    verifier.verify(&fresh).await.unwrap();
    verifier.verify(&sign(key(0), "old", &c)).await.unwrap();
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_30_seconds() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let mut c = claims(wall(&clock));
    c["exp"] = json!(wall(&clock) + 3_600);
    verifier.verify(&sign(key(0), "k0", &c)).await.unwrap();
    assert_eq!(source.calls(), 1);
    let ghost = sign(key(2), "ghost", &c);

    // Within 30 s of the first fetch: no refetch at all.
    clock.advance(Duration::from_secs(10));
    let err = verifier.verify(&ghost).await.unwrap_err();
    assert!(
        matches!(&err, JwtError::UnknownKid { kid } if kid == "ghost"),
        "{err:?}"
    );
    assert_eq!(source.calls(), 1);

    // After the cooldown: one refetch, then none for the next 30 s.
    clock.advance(Duration::from_secs(25));
    assert!(matches!(
        verifier.verify(&ghost).await,
        Err(JwtError::UnknownKid { .. })
    ));
    assert_eq!(source.calls(), 2);
    clock.advance(Duration::from_secs(29));
    for _ in 0..10 {
        assert!(matches!(
            verifier.verify(&ghost).await,
            Err(JwtError::UnknownKid { .. })
        ));
    }
    assert_eq!(
        source.calls(),
        2,
        "two unknown-kid tokens within 30 s: one refetch"
    );
    clock.advance(Duration::from_secs(1));
    assert!(matches!(
        verifier.verify(&ghost).await,
        Err(JwtError::UnknownKid { .. })
    ));
    assert_eq!(source.calls(), 3);
    // Known keys kept working throughout.
    verifier.verify(&sign(key(0), "k0", &c)).await.unwrap();
    assert_eq!(source.calls(), 3);
}

#[tokio::test]
async fn failed_refetch_keeps_serving_the_last_good_keys() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let mut c = claims(wall(&clock));
    c["exp"] = json!(wall(&clock) + 3_600);
    let token = sign(key(0), "k0", &c);
    verifier.verify(&token).await.unwrap();

    source.set_failing(true);
    clock.advance(Duration::from_secs(600));
    verifier.verify(&token).await.unwrap();
    // The stale set was refetched (and that failed) while the request was served.
    calls_reach(&source, 2).await;
    verifier.verify(&token).await.unwrap();
    assert_eq!(source.calls(), 2, "no retry storm while cooling down");
    clock.advance(Duration::from_secs(30));
    verifier.verify(&token).await.unwrap();
    calls_reach(&source, 3).await;

    // A rotated key that cannot be loaded is an outage (transient), not a bad token.
    clock.advance(Duration::from_secs(30));
    let err = verifier.verify(&sign(key(1), "new", &c)).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(err.to_string().contains("503"), "{err}");

    // Recovery.
    source.set_failing(false);
    source.publish(jwks(&[jwk(key(0), "k0"), jwk(key(1), "new")]));
    clock.advance(Duration::from_secs(30));
    verifier.verify(&sign(key(1), "new", &c)).await.unwrap();
}

#[tokio::test]
async fn cold_cache_fetch_failure_is_transient() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    source.set_failing(true);
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let token = sign(key(0), "k0", &claims(wall(&clock)));
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(
        matches!(err, JwtError::JwksFetch(_)) && err.is_transient(),
        "{err:?}"
    );
    assert!(verifier.jwks().refresh().await.is_err());

    // Right after a failed fetch a cold cache fails fast: no request waits for another
    // timeout while WorkOS is down.
    let fetches = verifier.jwks().fetch_count();
    source.set_failing(false);
    assert!(matches!(
        verifier.verify(&token).await,
        Err(JwtError::JwksFetch(_))
    ));
    assert_eq!(
        verifier.jwks().fetch_count(),
        fetches,
        "no fetch within the backoff"
    );

    // A document that is not a JWKS is a fetch failure too.
    source.publish(json!({"error": "not found"}));
    clock.advance(Duration::from_secs(6));
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(err.to_string().contains("keys"), "{err}");

    source.publish(jwks(&[jwk(key(0), "k0")]));
    clock.advance(Duration::from_secs(6));
    let token = sign(key(0), "k0", &claims(wall(&clock)));
    verifier.verify(&token).await.unwrap();
}

// ---------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_verifications_on_a_cold_cache_share_one_fetch() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    *source.delay.lock().unwrap() = Duration::from_millis(100);
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let token = Arc::new(sign(key(0), "k0", &claims(wall(&clock))));

    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let verifier = verifier.clone();
            let token = Arc::clone(&token);
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().sub, "user_01");
    }
    assert_eq!(source.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_unknown_kids_share_one_refetch() {
    let source = Source::serving(jwks(&[jwk(key(0), "old")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let c = claims(wall(&clock));
    verifier.verify(&sign(key(0), "old", &c)).await.unwrap();

    clock.advance(Duration::from_secs(31));
    *source.delay.lock().unwrap() = Duration::from_millis(100);
    source.publish(jwks(&[jwk(key(0), "old"), jwk(key(1), "new")]));
    let token = Arc::new(sign(key(1), "new", &claims(wall(&clock) + 31)));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let verifier = verifier.clone();
            let token = Arc::clone(&token);
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(source.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_failing_fetch_is_shared_too() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    source.set_failing(true);
    *source.delay.lock().unwrap() = Duration::from_millis(100);
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let token = Arc::new(sign(key(0), "k0", &claims(wall(&clock))));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let verifier = verifier.clone();
            let token = Arc::clone(&token);
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().unwrap_err().is_transient());
    }
    assert_eq!(
        source.calls(),
        1,
        "waiters share the failed fetch instead of retrying it"
    );
}

#[tokio::test]
async fn a_cancelled_fetch_is_taken_over_by_the_next_caller() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    *source.delay.lock().unwrap() = Duration::from_millis(200);
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let token = sign(key(0), "k0", &claims(wall(&clock)));

    // The first caller gives up mid-fetch (e.g. the client went away).
    let abandoned = tokio::time::timeout(Duration::from_millis(20), verifier.verify(&token)).await;
    assert!(abandoned.is_err());
    *source.delay.lock().unwrap() = Duration::ZERO;
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn errors_do_not_echo_long_input_or_the_token() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let token = sign(key(0), &"k".repeat(10_000), &claims(wall(&clock)));
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(err, JwtError::UnknownKid { .. }), "{err:?}");
    let (shown, debug) = (err.to_string(), format!("{err:?}"));
    assert!(shown.len() < 300 && debug.len() < 300, "{shown}");
    let signature = token.rsplit_once('.').unwrap().1;
    assert!(!shown.contains(signature) && !debug.contains(signature));
}

#[tokio::test]
async fn a_slow_jwks_refetch_never_holds_up_a_request() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let verifier = verifier(&source, &clock);
    let mut c = claims(wall(&clock));
    c["exp"] = json!(wall(&clock) + 86_400);
    let token = sign(key(0), "k0", &c);
    verifier.verify(&token).await.unwrap();
    // WorkOS now takes an hour to answer; the cached keys are stale.
    *source.delay.lock().unwrap() = Duration::from_secs(3_600);
    clock.advance(Duration::from_secs(600));
    let served = tokio::time::timeout(Duration::from_secs(5), verifier.verify(&token)).await;
    assert!(
        matches!(served, Ok(Ok(_))),
        "served from the stale keys: {served:?}"
    );
    calls_reach(&source, 2).await; // the refetch is under way in the background
}

// ---------------------------------------------------------------------------------------
// Verified-token cache
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_remembered_token_is_still_checked_against_the_clock() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let now = wall(&clock);
    let mut c = claims(now);
    c["nbf"] = json!(now);
    let token = sign(key(0), "k0", &c);
    let verifier = verifier(&source, &clock);
    for _ in 0..3 {
        assert!(
            verifier.verify(&token).await.is_ok(),
            "repeat verifications"
        );
    }
    clock.advance(Duration::from_secs(300));
    assert!(
        matches!(verifier.verify(&token).await, Err(JwtError::Expired { .. })),
        "the cache never skips the expiry check"
    );
}

#[tokio::test]
async fn a_retired_key_ends_the_remembered_verifications_it_made() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let token = sign(key(0), "k0", &claims(wall(&clock)));
    let verifier = verifier(&source, &clock);
    assert!(verifier.verify(&token).await.is_ok());
    // WorkOS retires k0; the next fetch (after the 10-minute cache TTL) no longer has it.
    source.publish(jwks(&[jwk(key(1), "k1")]));
    clock.advance(Duration::from_secs(601));
    let mut fresh = claims(wall(&clock));
    fresh["exp"] = json!(wall(&clock) + 300);
    let token_k0 = sign(key(0), "k0", &fresh);
    assert!(verifier.verify(&token_k0).await.is_err(), "k0 is gone");
    assert!(
        verifier.verify(&token).await.is_err(),
        "a token verified with the retired key is not answered from memory"
    );
}

#[tokio::test]
async fn a_tampered_copy_of_a_remembered_token_is_not_answered_from_memory() {
    let source = Source::serving(jwks(&[jwk(key(0), "k0")]));
    let clock = ManualClock::new();
    let token = sign(key(0), "k0", &claims(wall(&clock)));
    let verifier = verifier(&source, &clock);
    assert!(verifier.verify(&token).await.is_ok());
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut sig = sig.to_owned();
    let last = sig.pop().unwrap();
    sig.push(if last == 'A' { 'B' } else { 'A' });
    assert!(matches!(
        verifier.verify(&format!("{head}.{sig}")).await,
        Err(JwtError::InvalidSignature | JwtError::Malformed(_))
    ));
}
