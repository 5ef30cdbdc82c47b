//! WorkOS access tokens: RS256 verification against the cached WorkOS JWKS, and their claims.
//!
//! The access token in the session cookie is a JWT that WorkOS signs with RS256 and
//! publishes the public keys for at `GET /sso/jwks/{client_id}`. [`TokenVerifier`] checks it
//! the way authkit-nextjs does (`jose`'s `jwtVerify` with a remote JWKS), with the algorithm
//! pinned; [`AccessTokenClaims`] is what a valid token says about the session.
//!
//! # Threat model
//!
//! The token arrives from the browser inside the sealed cookie, or in an `Authorization`
//! header, so every byte of it is attacker-controlled until the signature is checked:
//! - **Algorithm confusion.** Only `RS256` is accepted, checked before any key is looked up:
//!   `alg: none` and `HS256` signed with the (public) RSA key as the HMAC secret both fail.
//! - **Key choice.** The header's `kid` must name exactly one RS256 key of the JWKS; a
//!   missing `kid`, or two keys with the same `kid`, reject the token.
//! - **Key-fetch amplification.** An unknown `kid` refetches the JWKS at most once per 30 s,
//!   and concurrent fetches are merged into one, so garbage tokens cannot flood WorkOS.
//! - **Outages.** When WorkOS cannot be reached or is slow the last good keys keep being used
//!   (a stale set is refetched in the background, never in a request's path); when no
//!   keys are available the error is [`JwtError::JwksFetch`], which
//!   [`is_transient`](JwtError::is_transient) so the caller keeps the session.
//! - **Expiry.** `exp <= now` fails with no leeway. [`JwtError::Expired`] is only returned
//!   for an authentic token and carries its claims, so the caller may refresh the session;
//!   a forged expired token is [`JwtError::InvalidSignature`].
//! - **Panics.** No input makes these functions panic; errors echo at most 64 characters of
//!   attacker-controlled values and never the token.
//!
//! # Cost
//!
//! With a warm cache a verification is a read lock for one `Arc` clone, a hash-map lookup,
//! three base64url decodes, one RSA-2048 PKCS#1 v1.5 verification with a key that was
//! parsed once per JWKS fetch, and two small JSON parses (header and claims). The RSA check
//! is done with aws-lc-rs's `ParsedPublicKey` rather than `jsonwebtoken::decode`, which
//! rebuilds the RSA key from `n`/`e` on every call and parses the claims twice. It also
//! means verification never goes through jsonwebtoken's process-wide `CryptoProvider`, so
//! the panic jsonwebtoken 11 raises when feature unification enables both (or neither) of
//! its crypto backends cannot happen here.
//!
//! # Example
//!
//! ```no_run
//! use authkit_leptos::jwt::TokenVerifier;
//!
//! # async fn run(token: &str) -> Result<(), authkit_leptos::jwt::JwtError> {
//! let verifier = TokenVerifier::new(|| async {
//!     reqwest::get("https://api.workos.com/sso/jwks/client_123").await?.json::<serde_json::Value>().await
//! });
//! let claims = verifier.verify(token).await?;
//! println!("{} in {:?} with {:?}", claims.sub, claims.org_id, claims.permissions);
//! # Ok(()) }
//! ```

mod claims;
mod compact;
mod error;
mod jwks;
mod verify;

pub(crate) use claims::unix_now;
pub use claims::{AccessTokenClaims, Actor};
pub use compact::decode_unverified;
pub use error::{JwksFetchError, JwtError};
pub use jwks::{BoxError, Clock, JwksCache, JwksFuture, JwksSource};
pub use verify::{TokenVerifier, TokenVerifierBuilder, VerifiedToken, MAX_TOKEN_LEN};

/// Fuzzing entry (`fuzz/`, built with `--cfg fuzzing`): a token's shape, header and
/// claims, parsed exactly as [`TokenVerifier::verify`] does before and after the signature
/// check. Never panics.
#[cfg(any(fuzzing, test))]
pub(crate) fn fuzz_parse(token: &str) {
    if let Ok(parsed) = verify::parse(token) {
        let _ = verify::parse_claims(&parsed.payload);
    }
}
