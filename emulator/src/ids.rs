//! Identifiers and secrets: WorkOS-style ids (`user_01…`), opaque codes and tokens.
//!
//! Everything unguessable (codes, refresh tokens, session ids, sign-in request ids) comes
//! from the operating system's CSPRNG through `aws_lc_rs::rand::SystemRandom`. Seeded
//! records without a pinned id get an id derived from their email or name instead, so the
//! same seed yields the same ids on every start.

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The system random source failed; nothing unguessable can be produced.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the system random number generator failed")]
pub(crate) struct RandomError;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn fill(buf: &mut [u8]) -> Result<(), RandomError> {
    SystemRandom::new().fill(buf).map_err(|_| RandomError)
}

/// `bytes` random bytes, base64url without padding.
pub(crate) fn token(bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; bytes];
    fill(&mut buf)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// `bytes` random bytes, lowercase hex.
pub(crate) fn hex_token(bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; bytes];
    fill(&mut buf)?;
    Ok(base16ct::lower::encode_string(&buf))
}

/// A fresh ULID-shaped id with a WorkOS prefix: `user_01J…` (timestamp + 80 random bits).
pub(crate) fn new_id(prefix: &str, now_ms: i64) -> Result<String, RandomError> {
    let mut random = [0u8; 10];
    fill(&mut random)?;
    let time = u128::try_from(now_ms.max(0)).unwrap_or(0) & ((1u128 << 48) - 1);
    let mut value = time << 80;
    for (i, byte) in random.iter().enumerate() {
        value |= u128::from(*byte) << (8 * (9 - i));
    }
    Ok(format!("{prefix}_{}", crockford_128(value)))
}

/// A deterministic id for a seeded record: the same `key` always gives the same id.
pub(crate) fn stable_id(prefix: &str, key: &str) -> String {
    let hash = digest::digest(&digest::SHA256, key.as_bytes());
    let mut value: u128 = 0;
    for byte in hash.as_ref().iter().take(16) {
        value = (value << 8) | u128::from(*byte);
    }
    // Keep the leading "01" of current ULIDs so seeded ids look like real ones.
    value &= (1u128 << 120) - 1;
    value |= 1u128 << 120;
    format!("{prefix}_{}", crockford_128(value))
}

/// 26 Crockford base32 characters for a 128-bit value (the ULID text form).
fn crockford_128(value: u128) -> String {
    (0..26)
        .rev()
        .map(|i| {
            let index = ((value >> (5 * i)) & 31) as usize;
            char::from(CROCKFORD.get(index).copied().unwrap_or(b'0'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_workos_ids() {
        let id = new_id("user", 1_735_689_600_000).unwrap();
        assert!(id.starts_with("user_01"), "{id}");
        assert_eq!(id.len(), "user_".len() + 26);
        assert_ne!(id, new_id("user", 1_735_689_600_000).unwrap());
    }

    #[test]
    fn stable_ids_are_stable_and_distinct() {
        let a = stable_id("org", "Acme");
        assert_eq!(a, stable_id("org", "Acme"));
        assert_ne!(a, stable_id("org", "Globex"));
        assert!(a.starts_with("org_01"), "{a}");
        assert_eq!(a.len(), "org_".len() + 26);
    }

    #[test]
    fn tokens_are_url_safe_and_unique() {
        let t = token(32).unwrap();
        assert_eq!(t.len(), 43);
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(t, token(32).unwrap());
        assert_eq!(hex_token(8).unwrap().len(), 16);
    }
}
