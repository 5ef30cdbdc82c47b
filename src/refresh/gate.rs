//! [`RefreshGate`]: the single-flight gate of one process (the [module docs](super) say
//! why). The gate keys every refresh by a digest of the refresh token alone: the token is
//! single use whatever organization the exchange asks for, so two exchanges of one token
//! (say a proactive refresh and an organization switch) must never run. The first caller
//! starts the exchange on its own task (so a client that disconnects cannot cancel it
//! half-way); every concurrent caller with the same key waits for that one result. A
//! successful result is remembered for the grace period; only a digest of the token is
//! kept as the key, and finished results are dropped once their grace period is over.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a finished refresh answers late requests holding the old token.
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// The most finished results kept (oldest dropped first).
const MAX_REMEMBERED: usize = 10_000;

/// From this many entries on, each new result first drops those past their grace period.
const PRUNE_AT: usize = 256;

type Key = [u8; 32];

enum Slot<T> {
    InFlight(watch::Receiver<Option<T>>),
    Done(Instant, T),
}

/// Shares one refresh per (refresh token, organization) among concurrent callers.
pub(crate) struct RefreshGate<T> {
    slots: Arc<Mutex<HashMap<Key, Slot<T>>>>,
    grace: Duration,
}

impl<T> std::fmt::Debug for RefreshGate<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshGate")
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Send + Sync + 'static> RefreshGate<T> {
    /// A gate that remembers successful results for `grace`.
    pub(crate) fn new(grace: Duration) -> Self {
        Self {
            slots: Arc::new(Mutex::new(HashMap::new())),
            grace,
        }
    }

    /// The key for a refresh token (a SHA-256 digest; the token itself is not kept).
    pub(crate) fn key(refresh_token: &str) -> Key {
        crate::cache::digest(refresh_token.as_bytes())
    }

    /// Forgets a remembered result (after a sign-out, so the old cookie stops working
    /// at once).
    pub(crate) fn forget(&self, key: &Key) {
        let mut map = lock(&self.slots);
        if matches!(map.get(key), Some(Slot::Done(..))) {
            map.remove(key);
        }
    }

    /// Forgets every remembered result `matches` selects (after a sign-out: every refresh
    /// of that session, however long the chain of rotated tokens behind it).
    pub(crate) fn forget_where(&self, matches: impl Fn(&T) -> bool) {
        lock(&self.slots).retain(|_, slot| match slot {
            Slot::Done(_, value) => !matches(value),
            Slot::InFlight(_) => true,
        });
    }

    /// Replaces every remembered result `matches` selects with `value`, keeping when each
    /// was remembered (chains of refreshes point late callers at the newest result).
    pub(crate) fn replace_where(&self, matches: impl Fn(&T) -> bool, value: &T) {
        for slot in lock(&self.slots).values_mut() {
            if let Slot::Done(_, remembered) = slot {
                if matches(remembered) {
                    *remembered = value.clone();
                }
            }
        }
    }

    /// Runs `refresh` unless an exchange for `key` is already running (then waits for its
    /// result) or finished within the grace period (then returns that result).
    /// `remember` says whether a result may answer late callers (e.g. successes only).
    /// Returns `None` if the refresh task died without a result (a panic).
    pub(crate) async fn run<F, Fut>(
        &self,
        key: Key,
        refresh: F,
        remember: fn(&T) -> bool,
    ) -> Option<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T> + Send + 'static,
    {
        let mut rx = {
            let mut slots = lock(&self.slots);
            match slots.get(&key) {
                Some(Slot::Done(at, value)) if at.elapsed() < self.grace => {
                    return Some(value.clone())
                }
                Some(Slot::InFlight(rx)) => rx.clone(),
                _ => {
                    let (tx, rx) = watch::channel(None);
                    slots.insert(key, Slot::InFlight(rx.clone()));
                    let fut = refresh();
                    let slots = Arc::clone(&self.slots);
                    let grace = self.grace;
                    tokio::spawn(async move {
                        // If this task panics, `tx` drops and the waiters see no value.
                        let guard = RemoveOnDrop { slots: &slots, key };
                        let value = fut.await;
                        std::mem::forget(guard);
                        let mut map = lock(&slots);
                        if remember(&value) {
                            if map.len() >= PRUNE_AT {
                                map.retain(|_, slot| match slot {
                                    Slot::InFlight(_) => true,
                                    Slot::Done(at, _) => at.elapsed() < grace,
                                });
                            }
                            if map.len() >= MAX_REMEMBERED {
                                prune(&mut map);
                            }
                            map.insert(key, Slot::Done(Instant::now(), value.clone()));
                        } else {
                            map.remove(&key);
                        }
                        drop(map);
                        let _ = tx.send(Some(value));
                    });
                    rx
                }
            }
        };
        loop {
            if let Some(v) = rx.borrow_and_update().clone() {
                return Some(v);
            }
            if rx.changed().await.is_err() {
                return rx.borrow().clone();
            }
        }
    }

    /// Forgets every remembered result older than the grace period.
    #[cfg(test)]
    pub(crate) fn prune_expired(&self) {
        let mut map = lock(&self.slots);
        let grace = self.grace;
        map.retain(|_, slot| match slot {
            Slot::InFlight(_) => true,
            Slot::Done(at, _) => at.elapsed() < grace,
        });
    }

    /// How many refreshes are running or remembered (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.slots).len()
    }

    /// Whether nothing is running or remembered.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops finished entries, oldest half first, to bound memory.
fn prune<T>(map: &mut HashMap<Key, Slot<T>>) {
    let mut done: Vec<(Instant, Key)> = map
        .iter()
        .filter_map(|(k, s)| match s {
            Slot::Done(at, _) => Some((*at, *k)),
            Slot::InFlight(_) => None,
        })
        .collect();
    done.sort_unstable_by_key(|(at, _)| *at);
    for (_, k) in done.iter().take(done.len() / 2 + 1) {
        map.remove(k);
    }
}

/// Removes the in-flight entry if the refresh task unwinds, so later callers retry.
struct RemoveOnDrop<'a, T> {
    slots: &'a Mutex<HashMap<Key, Slot<T>>>,
    key: Key,
}

impl<T> Drop for RemoveOnDrop<'_, T> {
    fn drop(&mut self) {
        lock(self.slots).remove(&self.key);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn always(_: &Result<u32, String>) -> bool {
        true
    }
    fn only_ok(v: &Result<u32, String>) -> bool {
        v.is_ok()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_refresh() {
        let gate = Arc::new(RefreshGate::<Result<u32, String>>::new(DEFAULT_GRACE));
        let calls = Arc::new(AtomicUsize::new(0));
        let key = RefreshGate::<Result<u32, String>>::key("rt_1");
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let gate = Arc::clone(&gate);
            let calls = Arc::clone(&calls);
            tasks.push(tokio::spawn(async move {
                gate.run(
                    key,
                    move || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(7)
                    },
                    always,
                )
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Some(Ok(7)));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn late_callers_within_grace_get_the_same_result() {
        let gate = RefreshGate::<Result<u32, String>>::new(Duration::from_secs(60));
        let key = RefreshGate::<Result<u32, String>>::key("rt_1");
        assert_eq!(
            gate.run(key, || async { Ok(1) }, only_ok).await,
            Some(Ok(1))
        );
        // A second exchange would fail upstream; the remembered result answers instead.
        assert_eq!(
            gate.run(key, || async { Err("invalid_grant".into()) }, only_ok)
                .await,
            Some(Ok(1))
        );
    }

    #[tokio::test]
    async fn failures_are_not_remembered_when_told_so() {
        let gate = RefreshGate::<Result<u32, String>>::new(Duration::from_secs(60));
        let key = RefreshGate::<Result<u32, String>>::key("rt_1");
        assert!(gate
            .run(key, || async { Err("503".into()) }, only_ok)
            .await
            .unwrap()
            .is_err());
        assert_eq!(
            gate.run(key, || async { Ok(2) }, only_ok).await,
            Some(Ok(2))
        );
    }

    #[tokio::test]
    async fn grace_expires() {
        let gate = RefreshGate::<Result<u32, String>>::new(Duration::from_millis(10));
        let key = RefreshGate::<Result<u32, String>>::key("rt_1");
        gate.run(key, || async { Ok(1) }, always).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(gate.run(key, || async { Ok(2) }, always).await, Some(Ok(2)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        gate.prune_expired();
        assert!(gate.is_empty());
    }

    #[tokio::test]
    async fn the_key_is_a_digest_of_the_token_only() {
        let a = RefreshGate::<u8>::key("rt_a");
        assert_eq!(a, RefreshGate::<u8>::key("rt_a"));
        assert_ne!(a, RefreshGate::<u8>::key("rt_b"));
        assert!(!a.windows(4).any(|w| w == b"rt_a"));
    }

    #[tokio::test]
    async fn forget_where_drops_every_matching_result() {
        let gate = RefreshGate::<Result<u32, String>>::new(Duration::from_secs(30));
        for (token, value) in [("a", 1), ("b", 2), ("c", 1)] {
            let got = gate
                .run(
                    RefreshGate::<Result<u32, String>>::key(token),
                    move || async move { Ok(value) },
                    always,
                )
                .await;
            assert_eq!(got, Some(Ok(value)));
        }
        gate.forget_where(|v| v == &Ok(1));
        assert_eq!(gate.len(), 1);
        // "a" runs again instead of answering from memory.
        let again = gate
            .run(
                RefreshGate::<Result<u32, String>>::key("a"),
                || async { Ok(9) },
                always,
            )
            .await;
        assert_eq!(again, Some(Ok(9)));
    }

    #[tokio::test]
    async fn forget_drops_a_remembered_result() {
        let gate = RefreshGate::<Result<u32, String>>::new(Duration::from_secs(60));
        let key = RefreshGate::<Result<u32, String>>::key("rt");
        gate.run(key, || async { Ok(1) }, always).await;
        gate.forget(&key);
        assert_eq!(gate.run(key, || async { Ok(2) }, always).await, Some(Ok(2)));
    }

    #[tokio::test]
    async fn a_dropped_caller_does_not_cancel_the_refresh() {
        let gate = Arc::new(RefreshGate::<Result<u32, String>>::new(DEFAULT_GRACE));
        let calls = Arc::new(AtomicUsize::new(0));
        let key = RefreshGate::<Result<u32, String>>::key("rt");
        let c = Arc::clone(&calls);
        let first = {
            let gate = Arc::clone(&gate);
            tokio::spawn(async move {
                gate.run(
                    key,
                    move || async move {
                        c.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(5)
                    },
                    always,
                )
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        first.abort();
        let c = Arc::clone(&calls);
        let second = gate
            .run(
                key,
                move || async move {
                    c.fetch_add(1, Ordering::SeqCst);
                    Ok(6)
                },
                always,
            )
            .await;
        assert_eq!(second, Some(Ok(5)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    async fn boom() -> Result<u32, String> {
        panic!("refresh task failed (expected by this test)")
    }

    #[tokio::test]
    async fn a_panicking_refresh_yields_none_and_is_retried() {
        let gate = RefreshGate::<Result<u32, String>>::new(DEFAULT_GRACE);
        let key = RefreshGate::<Result<u32, String>>::key("rt");
        let out = gate.run(key, boom, always).await;
        assert_eq!(out, None);
        assert_eq!(gate.run(key, || async { Ok(3) }, always).await, Some(Ok(3)));
    }
}
