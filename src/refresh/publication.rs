//! What a replica writes into the shared [`RefreshStore`](super::RefreshStore), so that
//! nothing the store holds is a usable credential on its own (#23):
//!
//! - **Names** ([`StoreNames`]) are HMAC-SHA256 digests under a key derived from the app's
//!   cookie password: a key name reveals nothing of the refresh token, session id or
//!   nonce it stands for, and two apps sharing one Redis (other passwords) cannot be
//!   linked by their names.
//! - **A published refresh result** ([`seal_result`]) is the new cookie value encrypted
//!   (AES-256-GCM) under a key derived (HKDF-SHA256) from the *old* refresh token: only a
//!   request that holds the session being refreshed can open it. A value read from Redis
//!   (`MONITOR`, a replica, a backup) is neither a cookie nor openable without that token —
//!   and whoever holds the old refresh token could have spent it at WorkOS anyway.

use super::store::StoreKey;
use crate::config::PasswordMap;
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::fmt;

/// The version prefix of a sealed result (a format change gets a new one).
const RESULT_PREFIX: &str = "v1.";

/// Names keys of the shared store: HMAC-SHA256 with a key derived from the cookie
/// password with the smallest id. The oldest password, not the current one: while a new
/// password is rolled out, old and new replicas both hold the old one and keep naming
/// keys alike. (Removing the oldest password renames the keys: replicas that disagree
/// only coordinate within their process until the rollout is done.)
#[derive(Clone)]
pub(crate) struct StoreNames {
    key: hmac::Key,
}

impl fmt::Debug for StoreNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreNames([redacted])")
    }
}

impl StoreNames {
    /// The names of an app with these cookie passwords.
    pub(crate) fn new(passwords: &PasswordMap) -> Self {
        let oldest = passwords
            .iter()
            .min_by_key(|(id, _)| (id.parse::<u64>().unwrap_or(u64::MAX), id.to_string()))
            .map(|(_, password)| password.expose().to_owned())
            .unwrap_or_default();
        // Domain separation from the password's other uses (iron's PBKDF2, state MACs).
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, oldest.as_bytes()),
            b"authkit-leptos refresh store names v1",
        );
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    fn name(&self, kind: &[u8], value: &[u8]) -> StoreKey {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(kind);
        context.update(&[0]);
        context.update(value);
        let mut out = [0u8; 32];
        out.copy_from_slice(context.sign().as_ref());
        out
    }

    /// The name of a refresh token (its lock and its published result).
    pub(crate) fn token(&self, refresh_token: &str) -> StoreKey {
        self.name(b"token", refresh_token.as_bytes())
    }

    /// The name of a WorkOS session id (its sign-out marker).
    pub(crate) fn session(&self, sid: &str) -> StoreKey {
        self.name(b"session", sid.as_bytes())
    }

    /// The name of a value the crate keeps for good under a fixed `label` (e.g. the Events
    /// API poller's cursor).
    pub(crate) fn value(&self, label: &str) -> StoreKey {
        self.name(b"value", label.as_bytes())
    }

    /// The name of a sign-in state's nonce (single use across replicas).
    pub(crate) fn nonce(&self, nonce: &str) -> StoreKey {
        self.name(b"nonce", nonce.as_bytes())
    }
}

/// The AEAD key of results published for the refresh of `from` (an old refresh token).
fn result_key(from: &str) -> Option<LessSafeKey> {
    struct Len;
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            32
        }
    }
    let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"authkit-leptos refresh result v1");
    let prk = salt.extract(from.as_bytes());
    let okm = prk.expand(&[b"aes-256-gcm"], Len).ok()?;
    let mut bytes = [0u8; 32];
    okm.fill(&mut bytes).ok()?;
    Some(LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &bytes).ok()?,
    ))
}

/// `cookie` (the new session, sealed as the cookie carries it) encrypted for whoever
/// holds refresh token `from`, bound to store key `name`; `None` if the system random
/// source failed (then nothing is published).
pub(crate) fn seal_result(from: &str, name: &StoreKey, cookie: &str) -> Option<String> {
    let key = result_key(from)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).ok()?;
    let mut in_out = cookie.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(name),
        &mut in_out,
    )
    .ok()?;
    let mut out = Vec::with_capacity(NONCE_LEN + in_out.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&in_out);
    Some(format!("{RESULT_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
}

/// The cookie value inside a result published for the refresh of `from` under `name`;
/// `None` for anything else (another token, another name, tampered, not ours).
pub(crate) fn open_result(from: &str, name: &StoreKey, published: &str) -> Option<String> {
    let encoded = published.strip_prefix(RESULT_PREFIX)?;
    let mut bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = bytes.split_at_mut(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let plain = result_key(from)?
        .open_in_place(nonce, Aad::from(name), sealed)
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn names(password: &str) -> StoreNames {
        StoreNames::new(&PasswordMap::single(Secret::new(password)))
    }

    const PASSWORD: &str = "a-cookie-password-of-32-characters!!";

    #[test]
    fn a_result_opens_only_with_the_old_token_and_its_name() {
        let names = names(PASSWORD);
        let name = names.token("rt_old");
        let cookie = "Fe26.2*1*salt*iv*data**mac-salt*mac~2";
        let published = seal_result("rt_old", &name, cookie).unwrap();
        assert!(!published.contains(cookie) && !published.starts_with("Fe26"));
        assert_eq!(
            open_result("rt_old", &name, &published).as_deref(),
            Some(cookie)
        );
        assert_eq!(open_result("rt_other", &name, &published), None);
        assert_eq!(
            open_result("rt_old", &names.token("rt_x"), &published),
            None
        );
        // Every byte flipped is refused.
        for i in RESULT_PREFIX.len()..published.len() {
            let mut tampered = published.clone().into_bytes();
            tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(tampered).unwrap();
            if tampered != published {
                assert_eq!(open_result("rt_old", &name, &tampered), None, "byte {i}");
            }
        }
        for junk in ["", "v1.", "v1.AAAA", cookie, "v2.abc"] {
            assert_eq!(open_result("rt_old", &name, junk), None);
        }
    }

    #[test]
    fn names_are_keyed_by_the_app_and_separated_by_kind() {
        let a = names(PASSWORD);
        let b = names("another-cookie-password-of-32-chars!");
        assert_eq!(a.token("rt"), names(PASSWORD).token("rt"));
        assert_ne!(a.token("rt"), b.token("rt"), "another app, another name");
        assert_ne!(a.token("x"), a.session("x"));
        assert_ne!(a.session("x"), a.nonce("x"));
        assert_ne!(
            a.token("rt"),
            crate::cache::digest(b"rt"),
            "not the plain digest of the token"
        );
    }

    #[test]
    fn names_follow_the_oldest_password_through_a_rotation() {
        let old = StoreNames::new(&PasswordMap::single(Secret::new(PASSWORD)));
        let rotating = StoreNames::new(
            &PasswordMap::from_entries([
                ("2", "the-new-cookie-password-32-chars!!!"),
                ("1", PASSWORD),
            ])
            .unwrap(),
        );
        assert_eq!(old.token("rt"), rotating.token("rt"));
    }
}
