//! Bounded memories of checked input.
//!
//! [`ExactCache`] holds results that are a pure function of their input (a verified
//! token's claims, an unsealed cookie's session): repeat requests with the same cookie
//! skip the RSA verification and the unseal. Only what has already passed the full check
//! is inserted, so an attacker cannot fill it with made-up input; it is bounded anyway
//! (when full, about half of the entries are dropped, in hash order), and a hit needs the
//! exact bytes that passed.
//!
//! [`SeenOnce`] remembers SHA-256 digests of single-use values (sign-in states) for a
//! while.

use aws_lc_rs::digest;
use std::collections::HashMap;
use std::sync::Mutex;

/// A SHA-256 digest, the key of a cache entry.
pub(crate) type Digest = [u8; 32];

/// The SHA-256 digest of `bytes`.
pub(crate) fn digest(bytes: &[u8]) -> Digest {
    let mut key = [0u8; 32];
    key.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    key
}

/// How many bytes at the end of a text look an entry up: its MAC or signature
/// (an iron seal ends with its 43-character HMAC and `~2`, a JWT with its 342-character
/// RS256 signature), which the full check covers.
const TAIL_LEN: usize = 64;

/// A bounded map from a checked text (a sealed cookie value, a signed token) to what
/// checking it gave, behind a mutex (held only for a lookup or an insert).
///
/// Hand-written on purpose, after measuring `quick_cache` 0.7 (std hasher and locks, an
/// `Arc` per entry so a hit clones no text) in its place: `benches/per_request.rs`, the two
/// release builds run alternately three times on the 2-core machine under load (#24):
///
/// | bench | this cache | quick_cache |
/// | --- | --- | --- |
/// | `unseal+verify/repeat` | 0.998 / 1.010 / 1.066 µs | 0.898 / 1.069 / 1.051 µs |
/// | `router/with_layer/repeat` | 7.80 / 10.46 / 10.35 µs | 5.88 / 10.64 / 10.65 µs |
/// | `paired/repeat_over_floor` (median) | 0.014 / 0.015 / 0.015 | 0.015 / 0.015 / 0.015 |
///
/// The library is no cheaper on the repeat path, and 1–4 % dearer in the two steadier
/// rounds; its better eviction does not matter here (only checked input is inserted, and a
/// miss costs one check), so the crate keeps this one. (`moka`, which brings more — its
/// own housekeeping, crossbeam — for a lookup that is no simpler, was not tried.)
/// [`SeenOnce`] stays too: it needs a
/// check-and-record with per-entry expiry under one lock, which `quick_cache` does not
/// offer, and it is on the sign-in path only.
///
/// An entry is found by the text's last [`TAIL_LEN`] bytes (hashed with std's randomly
/// keyed SipHash, so chosen input cannot crowd one bucket) and then confirmed by
/// comparing the **whole** text with the one that passed: a hit needs exactly those
/// bytes, and a lookup costs no digest of the text (a SHA-256 of a 2 KiB cookie costs
/// more than the rest of a repeat request). Entries keep their text, so the cache holds
/// at most `capacity` × (text + value) bytes.
pub(crate) struct ExactCache<V> {
    entries: Mutex<Entries<V>>,
    capacity: usize,
}

/// Tail of the text → (the whole text, its value).
type Entries<V> = HashMap<Box<[u8]>, (Box<str>, V)>;

fn tail(text: &str) -> &[u8] {
    let bytes = text.as_bytes();
    &bytes[bytes.len().saturating_sub(TAIL_LEN)..]
}

impl<V: Clone> ExactCache<V> {
    /// An empty cache holding at most `capacity` entries (`0`: it stores nothing).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// What `text` gave when it was checked, if it is remembered byte for byte.
    pub(crate) fn get(&self, text: &str) -> Option<V> {
        if self.capacity == 0 {
            return None;
        }
        match self.lock().get(tail(text)) {
            Some((whole, value)) if **whole == *text => Some(value.clone()),
            _ => None,
        }
    }

    /// Remembers `value` for `text`, which must have passed the full check. When full,
    /// about half of the entries are dropped (in hash order) first.
    pub(crate) fn insert(&self, text: &str, value: V) {
        if self.capacity == 0 {
            return;
        }
        let key = tail(text);
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            // Every other entry, starting with the first: at least one goes.
            let mut drop = false;
            entries.retain(|_, _| {
                drop = !drop;
                !drop
            });
        }
        entries.insert(key.into(), (text.into(), value));
    }

    /// Forgets `text`.
    pub(crate) fn remove(&self, text: &str) {
        let mut entries = self.lock();
        if entries
            .get(tail(text))
            .is_some_and(|(whole, _)| **whole == *text)
        {
            entries.remove(tail(text));
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<V>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Digests seen in the last `ttl`, bounded: [`first_use`](Self::first_use) answers `true`
/// once per digest while it is remembered. Used to make a sign-in `state` single-use
/// (RFC 9700 §4.7.1). When full, expired entries go first, then about half of the rest.
pub(crate) struct SeenOnce {
    entries: Mutex<HashMap<Digest, std::time::Instant>>,
    capacity: usize,
    ttl: std::time::Duration,
}

impl SeenOnce {
    /// Remembers up to `capacity` digests for `ttl` each.
    pub(crate) fn new(capacity: usize, ttl: std::time::Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
            ttl,
        }
    }

    /// `true` the first time `key` is seen within `ttl` (and records it), else `false`.
    pub(crate) fn first_use(&self, key: Digest) -> bool {
        let now = std::time::Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.get(&key).is_some_and(|until| *until > now) {
            return false;
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, until| *until > now);
        }
        if entries.len() >= self.capacity {
            // Every other entry, starting with the first: at least one goes.
            let mut drop = false;
            entries.retain(|_, _| {
                drop = !drop;
                !drop
            });
        }
        entries.insert(key, now + self.ttl);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_new_once_while_remembered() {
        let seen = SeenOnce::new(4, std::time::Duration::from_secs(60));
        assert!(seen.first_use(digest(b"a")));
        assert!(!seen.first_use(digest(b"a")));
        for i in 0..100u8 {
            seen.first_use(digest(&[i]));
        }
        assert!(seen.entries.lock().unwrap().len() <= 4);
        let brief = SeenOnce::new(4, std::time::Duration::ZERO);
        assert!(brief.first_use(digest(b"a")));
        assert!(
            brief.first_use(digest(b"a")),
            "forgotten once its time is up"
        );
    }

    #[test]
    fn it_never_grows_past_its_capacity() {
        let cache = ExactCache::new(100);
        for i in 0u32..10_000 {
            cache.insert(&format!("Fe26.2*{i:0>80}"), i);
            assert!(cache.len() <= 100);
        }
        assert_eq!(
            cache.get(&format!("Fe26.2*{:0>80}", 9_999)),
            Some(9_999),
            "the newest entry is kept"
        );
    }

    #[test]
    fn a_one_entry_cache_holds_the_newest() {
        let cache = ExactCache::new(1);
        cache.insert("a", 1);
        cache.insert("b", 2);
        assert_eq!(
            (cache.len(), cache.get("a"), cache.get("b")),
            (1, None, Some(2))
        );
    }

    #[test]
    fn a_zero_capacity_cache_stores_nothing() {
        let cache = ExactCache::new(0);
        cache.insert("a", 1);
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn remove_drops_one_entry() {
        let cache = ExactCache::new(10);
        cache.insert("a", 1);
        cache.insert("b", 2);
        cache.remove("a");
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.get("b"), Some(2));
        assert_eq!(cache.len(), 1);
    }

    /// The lookup uses the last bytes only; the whole text must still be the one that
    /// passed: a forged prefix in front of a remembered MAC or signature is a miss.
    #[test]
    fn a_hit_needs_every_byte_of_the_text() {
        let cache = ExactCache::new(10);
        let mac = "x".repeat(TAIL_LEN);
        let checked = format!("Fe26.2*1*salt*iv*victim-session*{mac}");
        cache.insert(&checked, "victim");
        assert_eq!(cache.get(&checked), Some("victim"));
        for forged in [
            format!("Fe26.2*1*salt*iv*attacker-session*{mac}"),
            format!("{checked}x"),
            checked[1..].to_owned(),
            mac.clone(),
        ] {
            assert_eq!(cache.get(&forged), None, "{forged}");
            cache.remove(&forged);
        }
        assert_eq!(
            cache.get(&checked),
            Some("victim"),
            "removing a forgery keeps it"
        );
        // Short texts (shorter than the tail) work too.
        cache.insert("ab", "short");
        assert_eq!(cache.get("ab"), Some("short"));
        assert_eq!(cache.get("b"), None);
    }
}
