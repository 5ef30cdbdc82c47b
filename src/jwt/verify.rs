//! Access-token verification: [`TokenVerifier`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::claims::{system_to_unix, AccessTokenClaims};
use super::compact::{b64, json_part, split};
use super::error::{echo, JwtError};
use super::jwks::{
    Clock, JwksCache, JwksSource, RsaKey, SystemClock, DEFAULT_CACHE_TTL, DEFAULT_REFETCH_COOLDOWN,
};
use crate::cache::ExactCache;

/// How many verified tokens are remembered by default (about 1 KiB each for a usual
/// session; see [`TokenVerifierBuilder::verified_token_cache`]).
pub(crate) const DEFAULT_VERIFIED_TOKEN_CACHE: usize = 4096;

/// A token that passed the full verification: its key (by identity; it knows its `kid`)
/// and claims, shared with every caller the entry serves.
#[derive(Clone)]
struct CachedToken {
    key: Arc<RsaKey>,
    claims: Arc<AccessTokenClaims>,
}

/// Longest token accepted, in bytes. WorkOS tokens are a few KiB at most; the limit bounds
/// the work an attacker can ask for.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// The only algorithm WorkOS signs access tokens with.
const RS256: &str = "RS256";

/// The header fields verification reads. Duplicate fields are a parse error.
#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

/// A compact JWS taken apart before any key is looked up: the header says `RS256`, names a
/// `kid` and lists no `crit` extensions; the signature and payload are decoded (not yet
/// trusted).
pub(super) struct ParsedToken<'a> {
    pub(super) kid: String,
    /// `header.payload`: the bytes the signature covers.
    pub(super) signing_input: &'a str,
    pub(super) signature: Vec<u8>,
    pub(super) payload: Vec<u8>,
}

/// Checks a token's shape and header (everything verification can check without a key).
/// Errors are [`JwtError::Malformed`], [`JwtError::UnsupportedAlgorithm`] or
/// [`JwtError::MissingKid`]; never a panic, whatever the bytes (fuzzed: `fuzz/`).
pub(super) fn parse(token: &str) -> Result<ParsedToken<'_>, JwtError> {
    let parts = split(token)?;
    let header: Header = json_part(parts.header, "header")?;
    if header.alg != RS256 {
        return Err(JwtError::UnsupportedAlgorithm {
            alg: echo(&header.alg),
        });
    }
    if header.crit.is_some() {
        return Err(JwtError::malformed(
            "the header lists critical extensions (\"crit\"), which are not supported",
        ));
    }
    let kid = header.kid.ok_or(JwtError::MissingKid)?;
    Ok(ParsedToken {
        kid,
        signing_input: parts.signing_input,
        signature: b64(parts.signature, "signature")?,
        payload: b64(parts.payload, "payload")?,
    })
}

/// The claims of a token whose signature checked out.
pub(super) fn parse_claims(payload: &[u8]) -> Result<AccessTokenClaims, JwtError> {
    serde_json::from_slice(payload)
        .map_err(|e| JwtError::malformed(format!("the claims are not a WorkOS access token: {e}")))
}

/// An authentic token's claims and whether it has expired.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// The verified claims, shared with the verifier's cache of verified tokens (cloning
    /// the `Arc` copies nothing).
    pub claims: Arc<AccessTokenClaims>,
    /// `exp <= now`: the signature is valid but the session needs a refresh.
    pub expired: bool,
}

/// Verifies WorkOS access tokens against the cached WorkOS JWKS. Cheap to clone; share one
/// per process so the key cache is shared too.
///
/// Rules (those of authkit-nextjs's `jwtVerify`, with the algorithm pinned):
/// - only `RS256`; any other `alg` — `none`, `HS256`, `ES256`, … — is rejected before a key
///   is looked up, so a public key can never be used as an HMAC secret;
/// - the header must carry a `kid` that names exactly one RS256 key of the set;
/// - `exp` must be in the future (`exp > now`, no leeway) and `nbf`, when present, not;
/// - `iss` must be one of the issuers given to [`TokenVerifierBuilder::issuer`] (or
///   [`issuers`](TokenVerifierBuilder::issuers)) when any is; `aud` is not checked.
///
/// ```no_run
/// use authkit_leptos::jwt::{JwtError, TokenVerifier};
///
/// # async fn run(token: &str) -> Result<(), JwtError> {
/// let verifier = TokenVerifier::new(|| async {
///     reqwest::get("https://api.workos.com/sso/jwks/client_123")
///         .await?
///         .json::<serde_json::Value>()
///         .await
/// });
/// match verifier.verify(token).await {
///     Ok(claims) => println!("signed in as {}", claims.sub),
///     Err(JwtError::Expired { claims }) => println!("refresh the session of {}", claims.sub),
///     Err(e) if e.is_transient() => println!("WorkOS unreachable, keep the session: {e}"),
///     Err(e) => println!("signed out: {e}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenVerifier {
    jwks: JwksCache,
    clock: Arc<dyn Clock>,
    /// The accepted `iss` values; empty: not checked.
    issuers: Arc<[String]>,
    verified: Arc<ExactCache<CachedToken>>,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("jwks", &self.jwks)
            .field("issuers", &self.issuers)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier with the default cache policy (10-minute TTL, 30 s unknown-`kid` cooldown),
    /// the system clock and no issuer check.
    pub fn new(source: impl JwksSource) -> Self {
        Self::builder(source).build()
    }

    /// Starts configuring a verifier.
    pub fn builder(source: impl JwksSource) -> TokenVerifierBuilder {
        TokenVerifierBuilder {
            source: Box::new(source),
            ttl: DEFAULT_CACHE_TTL,
            cooldown: DEFAULT_REFETCH_COOLDOWN,
            issuers: Vec::new(),
            clock: Arc::new(SystemClock),
            verified_cache: DEFAULT_VERIFIED_TOKEN_CACHE,
        }
    }

    /// The key cache, e.g. to warm it at start-up with [`JwksCache::refresh`].
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// Verifies `token` and returns its claims. An authentic but expired token is
    /// [`JwtError::Expired`], which carries the claims.
    ///
    /// The claims are shared (`Arc`) with the cache of verified tokens: a token seen
    /// again costs a lookup and a reference count, not a copy of its claims.
    pub async fn verify(&self, token: &str) -> Result<Arc<AccessTokenClaims>, JwtError> {
        unexpired(self.verify_allow_expired(token).await?)
    }

    /// Like [`verify`](Self::verify), but an authentic expired token is `Ok` with
    /// [`VerifiedToken::expired`] set.
    pub async fn verify_allow_expired(&self, token: &str) -> Result<VerifiedToken, JwtError> {
        self.verify_inner(token, false).await
    }

    /// [`verify`](Self::verify) for a token WorkOS just issued to this server (a code
    /// exchange or a refresh): an unknown `kid` refetches the keys even inside the
    /// cooldown, bounded (see [`JwksCache`]).
    pub(crate) async fn verify_workos_token(
        &self,
        token: &str,
    ) -> Result<Arc<AccessTokenClaims>, JwtError> {
        unexpired(self.verify_inner(token, true).await?)
    }

    async fn verify_inner(
        &self,
        token: &str,
        from_workos: bool,
    ) -> Result<VerifiedToken, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::malformed(format!(
                "the token is longer than {MAX_TOKEN_LEN} bytes"
            )));
        }
        // A token seen before: its signature, header and issuer were checked then, and
        // they cannot have changed (same bytes). Its key must still be the one the key
        // set holds for its `kid` (a retired or replaced key ends the shortcut), and the
        // times are checked again now.
        if let Some(hit) = self.verified.get(token) {
            let current = if from_workos {
                self.jwks.key_for_workos_token(hit.key.kid()).await
            } else {
                self.jwks.key(hit.key.kid()).await
            };
            match current {
                Ok(key) if Arc::ptr_eq(&key, &hit.key) => return self.times(hit.claims),
                _ => self.verified.remove(token),
            }
        }
        let parsed = parse(token)?;
        let key = if from_workos {
            self.jwks.key_for_workos_token(&parsed.kid).await?
        } else {
            self.jwks.key(&parsed.kid).await?
        };
        if !key.verify(parsed.signing_input.as_bytes(), &parsed.signature) {
            return Err(JwtError::InvalidSignature);
        }
        let claims = parse_claims(&parsed.payload)?;
        if !self.issuers.is_empty() && !self.issuers.contains(&claims.iss) {
            return Err(JwtError::IssuerMismatch {
                expected: self.issuers.join(", "),
                found: echo(&claims.iss),
            });
        }
        let verified = self.times(Arc::new(claims))?;
        if !verified.expired {
            self.verified.insert(
                token,
                CachedToken {
                    key,
                    claims: Arc::clone(&verified.claims),
                },
            );
        }
        Ok(verified)
    }

    /// The time checks, done on every verification (cached or not): `nbf`, when
    /// present, not in the future; `exp <= now` marks the token expired.
    fn times(&self, claims: Arc<AccessTokenClaims>) -> Result<VerifiedToken, JwtError> {
        let now = system_to_unix(self.clock.system_now());
        if let Some(nbf) = claims.nbf {
            if nbf > now {
                return Err(JwtError::NotYetValid { nbf });
            }
        }
        let expired = claims.exp <= now;
        Ok(VerifiedToken { claims, expired })
    }
}

/// The claims of an unexpired token; an expired one is [`JwtError::Expired`].
fn unexpired(verified: VerifiedToken) -> Result<Arc<AccessTokenClaims>, JwtError> {
    if verified.expired {
        Err(JwtError::Expired {
            claims: Box::new(Arc::unwrap_or_clone(verified.claims)),
        })
    } else {
        Ok(verified.claims)
    }
}

/// Configures a [`TokenVerifier`]; start with [`TokenVerifier::builder`].
#[must_use]
pub struct TokenVerifierBuilder {
    source: Box<dyn JwksSource>,
    ttl: Duration,
    cooldown: Duration,
    issuers: Vec<String>,
    clock: Arc<dyn Clock>,
    verified_cache: usize,
}

impl fmt::Debug for TokenVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifierBuilder")
            .field("ttl", &self.ttl)
            .field("cooldown", &self.cooldown)
            .field("issuers", &self.issuers)
            .finish_non_exhaustive()
    }
}

impl TokenVerifierBuilder {
    /// How long a fetched key set is used (default 10 minutes).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The shortest time between refetches caused by an unknown `kid` (default 30 s).
    pub fn refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Accepts tokens whose `iss` claim is `issuer` (called again: one of them). Without
    /// any, `iss` is not checked (as in authkit-nextjs unless `WORKOS_ISSUER` is set);
    /// [`AuthKit`](crate::AuthKit) sets the configured ones
    /// ([`AuthKitConfig::issuers`](crate::AuthKitConfig::issuers)).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Accepts tokens whose `iss` claim is any of `issuers` (added to those given before).
    pub fn issuers<I, S>(mut self, issuers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.issuers.extend(issuers.into_iter().map(Into::into));
        self
    }

    /// How many verified tokens to remember (default 4096; `0` turns the cache off).
    /// A token presented again (the same cookie on the next request) then costs a
    /// lookup (by the end of its signature, confirmed by comparing the whole token)
    /// instead of an RSA verification; its `exp`/`nbf` are still checked against the
    /// clock every time, and an entry is used only while the key set still holds the key
    /// that verified it. Only tokens that verified are stored, with their text (so
    /// made-up tokens cannot fill it; a few KiB per entry); when full, about half of the
    /// entries are dropped.
    pub fn verified_token_cache(mut self, capacity: usize) -> Self {
        self.verified_cache = capacity;
        self
    }

    /// Replaces the clock (for tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the verifier. Nothing is fetched until the first verification (or
    /// [`JwksCache::refresh`]).
    pub fn build(self) -> TokenVerifier {
        TokenVerifier {
            jwks: JwksCache::new(
                self.source,
                Arc::clone(&self.clock),
                self.ttl,
                self.cooldown,
            ),
            clock: self.clock,
            issuers: self.issuers.into(),
            verified: Arc::new(ExactCache::new(self.verified_cache)),
        }
    }
}
