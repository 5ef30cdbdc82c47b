//! A bounded map keyed by SHA-256 digests, for results that are a pure function of
//! their input (a verified token's claims, an unsealed cookie's session): repeat requests
//! with the same cookie skip the RSA verification and the unseal.
//!
//! Only what has already passed the full check is inserted, so an attacker cannot fill
//! it with made-up input; it is bounded anyway (when full, about half of the entries are
//! dropped, in hash order) and keeps digests as keys, never the tokens or cookies.

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

/// A bounded `digest → V` map behind a mutex (held only for a lookup or an insert).
pub(crate) struct DigestCache<V> {
    entries: Mutex<HashMap<Digest, V>>,
    capacity: usize,
}

impl<V: Clone> DigestCache<V> {
    /// A cache of at most `capacity` entries (`0` disables it).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The value stored for `key`.
    pub(crate) fn get(&self, key: &Digest) -> Option<V> {
        self.lock().get(key).cloned()
    }

    /// Stores `value` for `key`, first dropping about half of the entries when full.
    pub(crate) fn insert(&self, key: Digest, value: V) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let mut keep = false;
            entries.retain(|_, _| {
                keep = !keep;
                keep
            });
        }
        entries.insert(key, value);
    }

    /// Drops `key`.
    pub(crate) fn remove(&self, key: &Digest) {
        self.lock().remove(key);
    }

    /// How many entries are stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Digest, V>> {
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
            let mut keep = false;
            entries.retain(|_, _| {
                keep = !keep;
                keep
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
        let cache = DigestCache::new(100);
        for i in 0u32..10_000 {
            cache.insert(digest(&i.to_le_bytes()), i);
            assert!(cache.len() <= 100);
        }
        let last = digest(&9_999u32.to_le_bytes());
        assert_eq!(cache.get(&last), Some(9_999), "the newest entry is kept");
    }

    #[test]
    fn a_zero_capacity_cache_stores_nothing() {
        let cache = DigestCache::new(0);
        cache.insert(digest(b"a"), 1);
        assert_eq!(cache.get(&digest(b"a")), None);
    }

    #[test]
    fn remove_drops_one_entry() {
        let cache = DigestCache::new(10);
        cache.insert(digest(b"a"), 1);
        cache.insert(digest(b"b"), 2);
        cache.remove(&digest(b"a"));
        assert_eq!(cache.get(&digest(b"a")), None);
        assert_eq!(cache.get(&digest(b"b")), Some(2));
        assert_eq!(cache.len(), 1);
    }
}
