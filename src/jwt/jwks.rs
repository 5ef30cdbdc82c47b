//! The WorkOS signing keys: where they come from ([`JwksSource`]) and how they are cached
//! ([`JwksCache`]).
//!
//! Policy (the same as `jose`'s `createRemoteJWKSet`, which authkit-nextjs uses):
//! - the key set is fetched on first use and kept for [`DEFAULT_CACHE_TTL`] (10 minutes);
//! - a token whose `kid` is not in the set triggers a refetch, at most once per
//!   [`DEFAULT_REFETCH_COOLDOWN`] (30 s), so random `kid`s cannot make us hammer WorkOS;
//! - concurrent callers that need a fetch share one request (single flight);
//! - when a refetch fails, the last good keys keep being served;
//! - unlike `jose`, keys past their 10 minutes are still served while they are refetched on
//!   a background task (stale while revalidate), so a slow WorkOS never holds up a request;
//! - a cold cache whose fetch just failed answers with that failure for 5 s rather than
//!   making every request wait for another timeout.
//!
//! Keys are parsed once per fetch into ready-to-verify RSA public keys; the hot path is a
//! read lock held for one `Arc` clone.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize as _, Serialize};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::error::{echo, JwksFetchError, JwtError};
use crate::workos::Jwk;

/// How long a fetched key set is used before it is fetched again.
pub(super) const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(600);
/// The shortest time between two fetches triggered by an unknown `kid` (or by a stale set
/// after a failed fetch).
pub(super) const DEFAULT_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);

/// The shortest time between two refetches forced by tokens WorkOS itself just issued
/// with an unknown `kid` (a key rotation).
pub(crate) const FORCED_REFETCH_INTERVAL: Duration = Duration::from_secs(1);
/// Smallest accepted RSA modulus, in bytes (2048 bits).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// A boxed error, as returned by a [`JwksSource`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How long a cold cache whose last fetch failed answers with that failure before it
/// tries again (or the cooldown, if shorter).
const COLD_RETRY_BACKOFF: Duration = Duration::from_secs(5);

/// The future a [`JwksSource`] returns: the JWKS document as JSON (`{"keys": [...]}`).
pub type JwksFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, BoxError>> + Send + 'a>>;

/// Where the key set comes from — in production `GET /sso/jwks/{client_id}` through the
/// WorkOS client.
///
/// Any `Fn() -> impl Future<Output = Result<T, E>>` is a source when `T: Serialize` (for
/// example `serde_json::Value` or the WorkOS client's `JwkSet`) and `E` converts into a
/// [`BoxError`]. The source should bound its own time (the WorkOS client applies its HTTP
/// timeout): verifications waiting for a fetch wait as long as it takes.
///
/// ```
/// use authkit_leptos::jwt::TokenVerifier;
///
/// let verifier = TokenVerifier::new(|| async {
///     // e.g. `client.fetch_jwks().await`
///     Ok::<_, std::io::Error>(serde_json::json!({ "keys": [] }))
/// });
/// # drop(verifier);
/// ```
pub trait JwksSource: Send + Sync + 'static {
    /// Fetches the current key set.
    fn fetch_jwks(&self) -> JwksFuture<'_>;
}

impl<F, Fut, T, E> JwksSource for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Serialize,
    E: Into<BoxError>,
{
    fn fetch_jwks(&self) -> JwksFuture<'_> {
        let fetch = self();
        Box::pin(async move {
            let document = fetch.await.map_err(Into::into)?;
            Ok(serde_json::to_value(document)?)
        })
    }
}

/// The time source of the cache and the verifier. Replace it in tests to move time.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic time, for the cache's TTL and cooldown.
    fn now(&self) -> Instant;
    /// Wall-clock time, for the tokens' `exp` and `nbf`.
    fn system_now(&self) -> SystemTime;
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// An RS256 verification key, parsed once when the key set is fetched, with its `kid`.
pub(super) struct RsaKey {
    kid: Box<str>,
    key: ParsedPublicKey,
}

impl RsaKey {
    /// Checks an RSASSA-PKCS1-v1_5 SHA-256 signature.
    pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }

    /// The `kid` the key set holds this key under.
    pub(super) fn kid(&self) -> &str {
        &self.kid
    }
}

/// What the key set holds for one `kid`.
enum Slot {
    Key(Arc<RsaKey>),
    /// Several usable-looking keys share the `kid`.
    Ambiguous,
    /// The key is an RS256 candidate but cannot be used.
    Unusable(String),
}

/// One fetched key set.
struct KeySet {
    by_kid: HashMap<String, Slot>,
    fetched_at: Instant,
}

impl KeySet {
    /// Reads a JWKS document. Each member of `keys` is read as the crate's typed [`Jwk`];
    /// members that are not a JWK (not an object, a field of the wrong type) and keys that
    /// are not RS256 signature keys with a `kid` are skipped, as `jose` does; a document
    /// without a `keys` array is an error.
    fn parse(document: &Value, fetched_at: Instant) -> Result<Self, String> {
        let keys = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("the JWKS document has no \"keys\" array")?;
        let mut by_kid = HashMap::new();
        for member in keys {
            let Ok(jwk) = Jwk::deserialize(member) else {
                continue;
            };
            let Some(kid) = rs256_candidate(&jwk) else {
                continue;
            };
            let slot = match parse_rsa(kid, &jwk) {
                Ok(key) => Slot::Key(Arc::new(key)),
                Err(reason) => Slot::Unusable(reason),
            };
            by_kid
                .entry(kid.to_owned())
                .and_modify(|existing| *existing = Slot::Ambiguous)
                .or_insert(slot);
        }
        Ok(Self { by_kid, fetched_at })
    }

    fn lookup(&self, kid: &str) -> Option<Result<Arc<RsaKey>, JwtError>> {
        Some(match self.by_kid.get(kid)? {
            Slot::Key(key) => Ok(Arc::clone(key)),
            Slot::Ambiguous => Err(JwtError::AmbiguousKid { kid: echo(kid) }),
            Slot::Unusable(reason) => Err(JwtError::BadJwk {
                kid: echo(kid),
                reason: reason.clone(),
            }),
        })
    }
}

/// The `kid` of a JWK that may verify RS256 tokens: `kty` RSA, and `alg`, `use` and
/// `key_ops` compatible when present.
fn rs256_candidate(jwk: &Jwk) -> Option<&str> {
    let compatible = jwk.kty == "RSA"
        && jwk.alg.as_deref().is_none_or(|alg| alg == "RS256")
        && jwk.use_.as_deref().is_none_or(|usage| usage == "sig")
        && jwk
            .key_ops
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|op| op == "verify"));
    if !compatible {
        return None;
    }
    jwk.kid.as_deref()
}

fn parse_rsa(kid: &str, jwk: &Jwk) -> Result<RsaKey, String> {
    let component = |name: &str, value: Option<&str>| -> Result<Vec<u8>, String> {
        let text = value.ok_or_else(|| format!("missing \"{name}\""))?;
        URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| format!("\"{name}\" is not unpadded base64url"))
    };
    let n = component("n", jwk.n.as_deref())?;
    let e = component("e", jwk.e.as_deref())?;
    let modulus_len = n.iter().skip_while(|b| **b == 0).count();
    if modulus_len < MIN_RSA_MODULUS_BYTES {
        return Err(format!(
            "the RSA modulus has {} bits; at least 2048 are required",
            modulus_len * 8
        ));
    }
    RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .map(|key| RsaKey {
            kid: kid.into(),
            key,
        })
        .map_err(|e| format!("not a valid RSA public key ({e})"))
}

/// What the cache last saw.
#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    /// Completed fetch attempts, successful or not.
    attempts: u64,
    last_attempt_at: Option<Instant>,
    last_error: Option<JwksFetchError>,
}

type FetchOutcome = Result<Arc<KeySet>, JwksFetchError>;

struct Inner {
    source: Box<dyn JwksSource>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    cooldown: Duration,
    state: RwLock<State>,
    /// The fetch in flight, shared by everyone who needs it.
    in_flight: Mutex<Option<Arc<OnceCell<FetchOutcome>>>>,
    fetches: std::sync::atomic::AtomicU64,
    /// A background refresh of stale keys is running.
    revalidating: std::sync::atomic::AtomicBool,
}

/// A cached WorkOS key set with single-flight refetching. Cheap to clone (shared state).
///
/// Built by [`TokenVerifierBuilder`](super::TokenVerifierBuilder); reach it through
/// [`TokenVerifier::jwks`](super::TokenVerifier::jwks).
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.read();
        f.debug_struct("JwksCache")
            .field("ttl", &self.inner.ttl)
            .field("cooldown", &self.inner.cooldown)
            .field("kids", &state.keys.as_ref().map(|k| k.by_kid.len()))
            .field("fetches", &self.fetch_count())
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    pub(super) fn new(
        source: Box<dyn JwksSource>,
        clock: Arc<dyn Clock>,
        ttl: Duration,
        cooldown: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                source,
                clock,
                ttl,
                cooldown,
                state: RwLock::default(),
                in_flight: Mutex::new(None),
                fetches: 0.into(),
                revalidating: false.into(),
            }),
        }
    }

    /// Fetches the key set now unless a fetch is already running (then waits for that one).
    /// Call it at start-up to warm the cache; on failure the previous keys are kept.
    pub async fn refresh(&self) -> Result<(), JwtError> {
        let seen = self.read().attempts;
        self.fetch_shared(seen)
            .await
            .map(drop)
            .map_err(JwtError::JwksFetch)
    }

    /// How many times the source has been asked for the key set.
    pub fn fetch_count(&self) -> u64 {
        self.inner
            .fetches
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The key for `kid`, fetching or refetching the key set as the policy allows.
    pub(super) async fn key(&self, kid: &str) -> Result<Arc<RsaKey>, JwtError> {
        self.key_from(kid, false).await
    }

    /// The key for `kid` of a token that came straight from WorkOS over the authenticated
    /// back channel (a code exchange or a refresh): an unknown `kid` there means WorkOS
    /// rotated its signing key, so the key set is fetched again even inside the cooldown —
    /// at most once a second, shared by concurrent callers. Losing
    /// such tokens would spend a refresh token or an authorization code for nothing.
    /// Tokens from requests (cookies, `Authorization`) stay on the throttled path.
    pub(super) async fn key_for_workos_token(&self, kid: &str) -> Result<Arc<RsaKey>, JwtError> {
        self.key_from(kid, true).await
    }

    async fn key_from(&self, kid: &str, from_workos: bool) -> Result<Arc<RsaKey>, JwtError> {
        let (keys, seen, last_attempt_at) = {
            let state = self.read();
            (state.keys.clone(), state.attempts, state.last_attempt_at)
        };
        let now = self.inner.clock.now();
        let cooled_down = last_attempt_at
            .is_none_or(|at| now.saturating_duration_since(at) >= self.inner.cooldown);

        let (keys, fetched) = match keys {
            // Cold cache: nothing to serve, so fetch — unless a fetch just failed: then
            // fail fast for a few seconds instead of making every request wait for
            // another timeout while WorkOS is unreachable.
            None => {
                let retry_after = self.inner.cooldown.min(COLD_RETRY_BACKOFF);
                let recently_failed = last_attempt_at
                    .is_some_and(|at| now.saturating_duration_since(at) < retry_after);
                if recently_failed {
                    if let Some(error) = self.read().last_error.clone() {
                        return Err(JwtError::JwksFetch(error));
                    }
                }
                (
                    self.fetch_shared(seen).await.map_err(JwtError::JwksFetch)?,
                    true,
                )
            }
            Some(keys) => {
                let stale = now.saturating_duration_since(keys.fetched_at) >= self.inner.ttl;
                if stale && cooled_down {
                    // Stale while revalidate: serve the keys we have and refetch on a task
                    // of its own, so no request waits for WorkOS (up to the HTTP timeout
                    // when it is slow) and a disconnecting client cannot cancel the fetch.
                    // Without a Tokio runtime, refetch inline. On failure the last good
                    // keys stay (logged by the fetch).
                    match tokio::runtime::Handle::try_current() {
                        Ok(runtime) => {
                            self.revalidate_in_background(&runtime, seen);
                            (keys, false)
                        }
                        Err(_) => (self.fetch_shared(seen).await.unwrap_or(keys), true),
                    }
                } else {
                    (keys, false)
                }
            }
        };

        if let Some(found) = keys.lookup(kid) {
            return found;
        }
        let forced = from_workos
            && last_attempt_at
                .is_none_or(|at| now.saturating_duration_since(at) >= FORCED_REFETCH_INTERVAL);
        if !fetched && (cooled_down || forced) {
            tracing::debug!(kid = %echo(kid), forced, "unknown kid; refetching the JWKS");
            let fresh = self.fetch_shared(seen).await.map_err(JwtError::JwksFetch)?;
            if let Some(found) = fresh.lookup(kid) {
                return found;
            }
        }
        // A key rotation we could not load is an outage, not a bad token.
        match self.read().last_error.clone() {
            Some(error) => Err(JwtError::JwksFetch(error)),
            None => Err(JwtError::UnknownKid { kid: echo(kid) }),
        }
    }

    /// Starts one background refetch (none if one is already running).
    fn revalidate_in_background(&self, runtime: &tokio::runtime::Handle, seen: u64) {
        use std::sync::atomic::Ordering;
        if self
            .inner
            .revalidating
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let this = self.clone();
        runtime.spawn(async move {
            let _ = this.fetch_shared(seen).await;
            this.inner.revalidating.store(false, Ordering::Release);
        });
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one fetch shared by every concurrent caller. `seen` is the number of completed
    /// attempts the caller observed when it decided to fetch: if another attempt completed
    /// since, its outcome is returned instead of fetching again.
    async fn fetch_shared(&self, seen: u64) -> FetchOutcome {
        let cell = {
            let mut slot = self
                .inner
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match &*slot {
                Some(cell) => Arc::clone(cell),
                None => {
                    let state = self.read();
                    if state.attempts != seen {
                        return match (&state.keys, &state.last_error) {
                            (Some(keys), _) => Ok(Arc::clone(keys)),
                            (None, Some(error)) => Err(error.clone()),
                            (None, None) => Err(JwksFetchError::new("no JWKS fetched yet")),
                        };
                    }
                    drop(state);
                    let cell = Arc::new(OnceCell::new());
                    *slot = Some(Arc::clone(&cell));
                    cell
                }
            }
        };
        // If the caller running the fetch is cancelled, the next waiter takes it over.
        let outcome = cell.get_or_init(|| self.fetch_and_store()).await.clone();
        let mut slot = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            *slot = None;
        }
        outcome
    }

    async fn fetch_and_store(&self) -> FetchOutcome {
        self.inner
            .fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let fetched = self.inner.source.fetch_jwks().await;
        let now = self.inner.clock.now();
        let outcome = fetched
            .map_err(JwksFetchError::new)
            .and_then(|doc| KeySet::parse(&doc, now).map_err(JwksFetchError::new))
            .map(Arc::new);
        match &outcome {
            Ok(keys) => tracing::debug!(keys = keys.by_kid.len(), "JWKS fetched"),
            Err(error) => tracing::warn!(%error, "JWKS fetch failed; keeping the previous keys"),
        }
        let mut state = self
            .inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        state.attempts += 1;
        state.last_attempt_at = Some(now);
        match &outcome {
            Ok(keys) => {
                state.keys = Some(Arc::clone(keys));
                state.last_error = None;
            }
            Err(error) => state.last_error = Some(error.clone()),
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at() -> Instant {
        Instant::now()
    }

    #[test]
    fn skips_keys_that_cannot_verify_rs256() {
        let doc = json!({"keys": [
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "rs384", "alg": "RS384", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "ops", "key_ops": ["encrypt"], "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
            "not an object",
        ]});
        let set = KeySet::parse(&doc, at()).unwrap();
        assert!(set.by_kid.is_empty());
    }

    #[test]
    fn unusable_and_duplicate_keys_are_recorded_as_such() {
        let doc = json!({"keys": [
            {"kty": "RSA", "kid": "small", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "bad64", "n": "!!", "e": "AQAB"},
            {"kty": "RSA", "kid": "dup", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "dup", "n": "AQAB", "e": "AQAB"},
        ]});
        let set = KeySet::parse(&doc, at()).unwrap();
        let small = set.lookup("small").unwrap().err().unwrap();
        assert!(small.to_string().contains("at least 2048"), "{small}");
        assert!(matches!(
            set.lookup("bad64"),
            Some(Err(JwtError::BadJwk { .. }))
        ));
        assert!(matches!(
            set.lookup("dup"),
            Some(Err(JwtError::AmbiguousKid { .. }))
        ));
        assert!(set.lookup("other").is_none());
    }

    #[test]
    fn a_document_without_keys_is_an_error() {
        for doc in [json!({}), json!({"keys": {}}), json!([]), json!("x")] {
            assert!(KeySet::parse(&doc, at()).is_err(), "{doc}");
        }
    }
}
