//! The components' WorkOS reads — the organizations a user can switch to
//! (`/api/authkit/organizations`) and the name of the session's organization
//! (`/api/authkit/organization-name`) — answered from a short memory and bounded in rate
//! (#23 item 7).
//!
//! Threat model. Any signed-in user can call these endpoints as often as they like, and
//! each answer needs a WorkOS call; WorkOS limits an environment's reads (1,000 per 10 s
//! for AuthKit), so one user in a loop could push the app into `429`s for everyone. Here:
//!
//! - an answer is remembered per key (the user id, the organization id) for
//!   [`LOOKUP_TTL`]; requests that arrive while the first one is at WorkOS wait for its
//!   answer instead of asking again, so one user costs at most one call per key and TTL;
//! - all lookups of the process share a token bucket ([`AuthKitBuilder::lookup_rate`]):
//!   over it, the last answer is served however old it is, else "WorkOS is unavailable,
//!   try again" — never a call.
//!
//! Errors are not remembered (the next request asks again, within the budget). The
//! memory is [`ExactCache`] (bounded; only answers WorkOS gave are stored), behind this
//! module's two methods.
//!
//! [`AuthKitBuilder::lookup_rate`]: crate::AuthKitBuilder::lookup_rate

use crate::cache::ExactCache;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an answer is served from memory.
pub(crate) const LOOKUP_TTL: Duration = Duration::from_secs(30);

/// The default bound: WorkOS calls per second (sustained) for all lookups of a process,
/// with bursts of twice as many — a fraction of WorkOS's AuthKit read limit (100 per
/// second per environment), left for the rest of the app and the other replicas.
pub(crate) const DEFAULT_LOOKUP_RATE: u32 = 20;

/// How many keys each memory holds (users, organizations).
const REMEMBERED_KEYS: usize = 4096;

/// Why a lookup has no answer.
#[derive(Debug)]
pub(crate) enum LookupError<E> {
    /// WorkOS answered with an error (or could not be reached).
    Upstream(E),
    /// Over the rate, with nothing remembered to serve instead.
    Busy,
}

impl<E> LookupError<E> {
    /// The same error with the upstream one mapped (for logging).
    pub(crate) fn map_upstream<F>(self, f: impl FnOnce(E) -> F) -> LookupError<F> {
        match self {
            Self::Upstream(e) => LookupError::Upstream(f(e)),
            Self::Busy => LookupError::Busy,
        }
    }
}

/// At most one "over the rate" warning per this long (a loop of calls must not flood the
/// log either).
const WARN_EVERY: Duration = Duration::from_secs(10);

/// A token bucket: `rate` tokens a second, at most `2 × rate` saved.
struct Budget {
    rate: f64,
    capacity: f64,
    state: Mutex<(f64, Instant)>,
    warned: Mutex<Option<Instant>>,
}

impl Budget {
    fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        Self {
            rate,
            capacity: rate * 2.0,
            state: Mutex::new((rate * 2.0, Instant::now())),
            warned: Mutex::new(None),
        }
    }

    /// Whether to log that the rate was exceeded (once per [`WARN_EVERY`]).
    fn should_warn(&self) -> bool {
        let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
        if warned.is_some_and(|at| at.elapsed() < WARN_EVERY) {
            return false;
        }
        *warned = Some(Instant::now());
        true
    }

    /// Takes a token if one is there.
    fn take(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, at) = &mut *state;
        let now = Instant::now();
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// One kind of lookup: its memory and the requests in flight, by key.
struct Lookup<V> {
    memory: ExactCache<(Instant, V)>,
    /// One lock per key being fetched: the first request holds it while it asks WorkOS;
    /// the others wait on it, then find the answer in memory.
    in_flight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl<V: Clone> Lookup<V> {
    fn new() -> Self {
        Self {
            memory: ExactCache::new(REMEMBERED_KEYS),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, key: &str) -> Option<V> {
        self.memory
            .get(key)
            .filter(|(at, _)| at.elapsed() < LOOKUP_TTL)
            .map(|(_, value)| value)
    }

    async fn get<E, Fut>(
        &self,
        key: &str,
        budget: &Budget,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<V, LookupError<E>>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(value) = self.fresh(key) {
            return Ok(value);
        }
        let lock = Arc::clone(
            self.in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(key.to_owned())
                .or_default(),
        );
        let _turn = lock.lock().await;
        // Whoever held the lock before may have brought the answer.
        if let Some(value) = self.fresh(key) {
            return Ok(value);
        }
        let result = if budget.take() {
            match fetch().await {
                Ok(value) => {
                    self.memory.insert(key, (Instant::now(), value.clone()));
                    Ok(value)
                }
                Err(e) => Err(LookupError::Upstream(e)),
            }
        } else {
            if budget.should_warn() {
                tracing::warn!(
                    "the components' WorkOS lookups are over their rate \
                     (AuthKitBuilder::lookup_rate); serving the last answers, if any \
                     (logged at most every 10 s)"
                );
            }
            self.memory
                .get(key)
                .map(|(_, value)| value)
                .ok_or(LookupError::Busy)
        };
        // Later arrivals start from the memory again; those already waiting hold the lock.
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        result
    }
}

/// The components' WorkOS lookups of one [`AuthKit`](crate::AuthKit): see the module docs.
pub(crate) struct Lookups<M, N> {
    budget: Budget,
    memberships: Lookup<M>,
    names: Lookup<N>,
}

impl<M: Clone, N: Clone> Lookups<M, N> {
    /// Lookups bounded to `per_second` WorkOS calls a second (bursts of twice as many).
    pub(crate) fn new(per_second: u32) -> Self {
        Self {
            budget: Budget::new(per_second),
            memberships: Lookup::new(),
            names: Lookup::new(),
        }
    }

    /// The organizations `user_id` can switch to: remembered, else `fetch`ed.
    pub(crate) async fn memberships<E, Fut>(
        &self,
        user_id: &str,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<M, LookupError<E>>
    where
        Fut: Future<Output = Result<M, E>>,
    {
        self.memberships.get(user_id, &self.budget, fetch).await
    }

    /// The name of organization `organization_id`: remembered, else `fetch`ed.
    pub(crate) async fn organization_name<E, Fut>(
        &self,
        organization_id: &str,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<N, LookupError<E>>
    where
        Fut: Future<Output = Result<N, E>>,
    {
        self.names.get(organization_id, &self.budget, fetch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn counted(calls: &AtomicUsize, value: u32) -> Result<u32, ()> {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(value)
    }

    #[tokio::test]
    async fn a_key_costs_one_call_however_many_ask_at_once() {
        let lookups = Arc::new(Lookups::<u32, u32>::new(1000));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..100 {
            let (lookups, calls) = (Arc::clone(&lookups), Arc::clone(&calls));
            tasks.spawn(async move {
                lookups
                    .memberships("user_1", || counted(&calls, 7))
                    .await
                    .unwrap()
            });
        }
        while let Some(value) = tasks.join_next().await {
            assert_eq!(value.unwrap(), 7);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another key is another call; the same key again is remembered.
        lookups
            .memberships("user_2", || counted(&calls, 8))
            .await
            .unwrap();
        lookups
            .memberships("user_1", || counted(&calls, 9))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn errors_are_not_remembered() {
        let lookups = Lookups::<u32, u32>::new(1000);
        let calls = AtomicUsize::new(0);
        let fail = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<u32, &str>("503")
        };
        assert!(matches!(
            lookups.organization_name("org_1", fail).await,
            Err(LookupError::Upstream("503"))
        ));
        assert!(lookups.organization_name("org_1", fail).await.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    /// Over the rate, many users' lookups cost no call: the last answer is served if there
    /// is one, else `Busy`.
    #[tokio::test]
    async fn over_the_rate_nothing_reaches_workos() {
        let lookups = Lookups::<u32, u32>::new(5);
        let calls = AtomicUsize::new(0);
        let mut busy = 0;
        for i in 0..100 {
            match lookups
                .memberships(&format!("user_{i}"), || counted(&calls, i))
                .await
            {
                Ok(value) => assert_eq!(value, i),
                Err(LookupError::Busy) => busy += 1,
                Err(LookupError::Upstream(())) => unreachable!(),
            }
        }
        let made = calls.load(Ordering::SeqCst);
        assert!(
            (10..=12).contains(&made),
            "{made} calls: the burst and a little refill"
        );
        assert_eq!(busy, 100 - made);
        // A remembered answer is still served when over the rate.
        assert_eq!(
            lookups
                .memberships("user_0", || counted(&calls, 99))
                .await
                .unwrap(),
            0
        );
    }
}
