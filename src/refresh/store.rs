//! [`RefreshStore`]: the storage primitives replicas share refresh coordination through,
//! as tower-sessions's `SessionStore` is for sessions. The protocol over them is
//! [`super::shared`]; [`RedisRefreshStore`](crate::RedisRefreshStore) (feature `redis`) is
//! the shipped implementation.

use std::fmt;
use std::time::Duration;

/// A SHA-256 digest: every key of a [`RefreshStore`] is one (of a refresh token, a session
/// id or a sign-in nonce), never the secret itself.
pub type StoreKey = [u8; 32];

/// Why a [`RefreshStore`] command did not answer. The caller falls back to this process's
/// own gate and logs it; it never reaches a user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshStoreFault {
    /// No answer within the store's command timeout.
    #[error("no answer within the command timeout")]
    Timeout,
    /// The backend failed (connection refused, an error reply, …).
    #[error("{0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl RefreshStoreFault {
    /// A backend failure from any error type.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(error))
    }
}

/// What [`RefreshStore::try_lock`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockAttempt {
    /// The lock is ours now.
    pub locked: bool,
    /// A result was published for the token (read in the same round trip, so a holder
    /// that published and unlocked between the caller's look-up and its lock is seen).
    pub published: bool,
}

impl LockAttempt {
    /// A lock attempt's outcome (for implementations outside this crate).
    pub fn new(locked: bool, published: bool) -> Self {
        Self { locked, published }
    }
}

/// Storage that replicas of one app share so that a refresh token is exchanged once across
/// all of them (WorkOS refresh tokens are single use). Give one to
/// [`AuthKitBuilder::refresh_store`](crate::AuthKitBuilder::refresh_store);
/// [`RedisRefreshStore`](crate::RedisRefreshStore) (feature `redis`) is the shipped one,
/// whose docs describe the protocol the crate runs over these primitives and what happens
/// when the store fails.
///
/// Keys are [`StoreKey`] digests and values are opaque strings the protocol writes; an
/// implementation stores them as given and expires them after the `ttl` it is handed.
/// Every command should answer within a short timeout (the Redis store's default is
/// 250 ms) and return [`RefreshStoreFault`] otherwise: a slow store costs every refresh
/// that long before the replica falls back to refreshing on its own.
#[async_trait::async_trait]
pub trait RefreshStore: fmt::Debug + Send + Sync + 'static {
    /// How the store appears in logs (no password).
    fn describe(&self) -> &str;

    /// The value published for refresh-token digest `token`, if any (and not expired).
    async fn result(&self, token: &StoreKey) -> Result<Option<String>, RefreshStoreFault>;

    /// Publishes `value` for `token`, replacing any earlier one, for `ttl`.
    async fn publish(
        &self,
        token: &StoreKey,
        value: &str,
        ttl: Duration,
    ) -> Result<(), RefreshStoreFault>;

    /// Takes the lock of `token` for `owner`, for `ttl`, unless anyone holds it (`SET NX`),
    /// and says — atomically with it — whether a result is published for `token`.
    async fn try_lock(
        &self,
        token: &StoreKey,
        owner: &str,
        ttl: Duration,
    ) -> Result<LockAttempt, RefreshStoreFault>;

    /// Extends `owner`'s lock of `token` to `ttl` from now; `false` if the lock is no
    /// longer `owner`'s (it expired, and maybe another owner took it).
    async fn renew(
        &self,
        token: &StoreKey,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, RefreshStoreFault>;

    /// Releases `owner`'s lock of `token`; nothing if it is no longer `owner`'s.
    async fn unlock(&self, token: &StoreKey, owner: &str) -> Result<(), RefreshStoreFault>;

    /// Whether anyone holds the lock of `token`.
    async fn is_locked(&self, token: &StoreKey) -> Result<bool, RefreshStoreFault>;

    /// Records, for `ttl`, that the session with id digest `session` was signed out.
    async fn mark_ended(&self, session: &StoreKey, ttl: Duration) -> Result<(), RefreshStoreFault>;

    /// Whether [`mark_ended`](Self::mark_ended) recorded `session` (and it has not expired).
    async fn is_ended(&self, session: &StoreKey) -> Result<bool, RefreshStoreFault>;

    /// Deletes the published results of `tokens`.
    async fn forget(&self, tokens: &[StoreKey]) -> Result<(), RefreshStoreFault>;

    /// `true` the first time anyone asks about `nonce` within `ttl`, `false` after (`SET
    /// NX`): a sign-in state is single-use across replicas.
    async fn first_use(&self, nonce: &StoreKey, ttl: Duration) -> Result<bool, RefreshStoreFault>;

    /// Appends `entry` to the shared revocation log (what WorkOS said about sessions, so
    /// that an event one replica received applies on all). The log is bounded: the
    /// oldest entries may go first.
    async fn log_append(&self, entry: &str) -> Result<(), RefreshStoreFault>;

    /// The log's entries after `cursor` (`None`: every entry still kept), oldest first,
    /// at most about a thousand, and the cursor to ask with next time (unchanged when
    /// there was nothing new).
    async fn log_read(
        &self,
        cursor: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>), RefreshStoreFault>;

    /// A small value stored under `key` for good (the Events API poller's cursor).
    async fn get_value(&self, key: &StoreKey) -> Result<Option<String>, RefreshStoreFault>;

    /// Replaces the value under `key`.
    async fn set_value(&self, key: &StoreKey, value: &str) -> Result<(), RefreshStoreFault>;

    /// [`result`](Self::result) of `next` and [`is_ended`](Self::is_ended) of `session`;
    /// an implementation that can answer both in one round trip should.
    async fn successor_and_ended(
        &self,
        next: &StoreKey,
        session: &StoreKey,
    ) -> Result<(Option<String>, bool), RefreshStoreFault> {
        Ok((self.result(next).await?, self.is_ended(session).await?))
    }
}

#[cfg(test)]
pub(crate) mod memory {
    //! An in-memory [`RefreshStore`] for the protocol's unit tests, with the faults the
    //! Redis tests cannot time: a command that fails, a lock that expires under its
    //! holder, a result published while a replica polls.

    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::Instant;

    /// Which command a fault applies to.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub(crate) enum Command {
        Result,
        Publish,
        TryLock,
        Renew,
        Unlock,
        IsLocked,
        MarkEnded,
        IsEnded,
        Forget,
        FirstUse,
        LogAppend,
        LogRead,
        Value,
    }

    #[derive(Default)]
    struct State {
        values: HashMap<String, (String, Instant)>,
        log: Vec<String>,
        /// Commands that fail with a backend fault.
        failing: Vec<Command>,
        /// Calls per command.
        calls: HashMap<Command, usize>,
    }

    /// Several replicas share one `MemoryStore` by cloning the `Arc` around it.
    #[derive(Default)]
    pub(crate) struct MemoryStore {
        state: Mutex<State>,
    }

    impl fmt::Debug for MemoryStore {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("MemoryStore")
        }
    }

    fn name(kind: &str, key: &StoreKey) -> String {
        format!("{kind}:{}", crate::encoding::hex(key))
    }

    impl MemoryStore {
        fn with<T>(
            &self,
            command: Command,
            f: impl FnOnce(&mut HashMap<String, (String, Instant)>) -> T,
        ) -> Result<T, RefreshStoreFault> {
            let mut state = self.state.lock().unwrap();
            *state.calls.entry(command).or_default() += 1;
            if state.failing.contains(&command) {
                return Err(RefreshStoreFault::Backend("injected fault".into()));
            }
            let now = Instant::now();
            state.values.retain(|_, (_, until)| *until > now);
            Ok(f(&mut state.values))
        }

        /// Counts a call of `command`, failing it if told to.
        fn fault(&self, command: Command) -> Result<(), RefreshStoreFault> {
            let mut state = self.state.lock().unwrap();
            *state.calls.entry(command).or_default() += 1;
            if state.failing.contains(&command) {
                return Err(RefreshStoreFault::Backend("injected fault".into()));
            }
            Ok(())
        }

        /// Every call of `command` fails from now on.
        pub(crate) fn fail(&self, command: Command) {
            self.state.lock().unwrap().failing.push(command);
        }

        /// `command` answers again.
        pub(crate) fn heal(&self, command: Command) {
            self.state.lock().unwrap().failing.retain(|c| *c != command);
        }

        /// How often `command` was called.
        pub(crate) fn calls(&self, command: Command) -> usize {
            self.state
                .lock()
                .unwrap()
                .calls
                .get(&command)
                .copied()
                .unwrap_or(0)
        }

        /// Drops the lock of `token` as if its time ran out.
        pub(crate) fn expire_lock(&self, token: &StoreKey) {
            self.state
                .lock()
                .unwrap()
                .values
                .remove(&name("lock", token));
        }
    }

    #[async_trait::async_trait]
    impl RefreshStore for MemoryStore {
        fn describe(&self) -> &str {
            "memory"
        }

        async fn result(&self, token: &StoreKey) -> Result<Option<String>, RefreshStoreFault> {
            self.with(Command::Result, |v| {
                v.get(&name("done", token)).map(|(s, _)| s.clone())
            })
        }

        async fn publish(
            &self,
            token: &StoreKey,
            value: &str,
            ttl: Duration,
        ) -> Result<(), RefreshStoreFault> {
            self.with(Command::Publish, |v| {
                v.insert(
                    name("done", token),
                    (value.to_owned(), Instant::now() + ttl),
                );
            })
        }

        async fn try_lock(
            &self,
            token: &StoreKey,
            owner: &str,
            ttl: Duration,
        ) -> Result<LockAttempt, RefreshStoreFault> {
            self.with(Command::TryLock, |v| {
                let lock = name("lock", token);
                let locked = !v.contains_key(&lock);
                if locked {
                    v.insert(lock, (owner.to_owned(), Instant::now() + ttl));
                }
                LockAttempt::new(locked, v.contains_key(&name("done", token)))
            })
        }

        async fn renew(
            &self,
            token: &StoreKey,
            owner: &str,
            ttl: Duration,
        ) -> Result<bool, RefreshStoreFault> {
            self.with(Command::Renew, |v| match v.get_mut(&name("lock", token)) {
                Some((held, until)) if held == owner => {
                    *until = Instant::now() + ttl;
                    true
                }
                _ => false,
            })
        }

        async fn unlock(&self, token: &StoreKey, owner: &str) -> Result<(), RefreshStoreFault> {
            self.with(Command::Unlock, |v| {
                let lock = name("lock", token);
                if v.get(&lock).is_some_and(|(held, _)| held == owner) {
                    v.remove(&lock);
                }
            })
        }

        async fn is_locked(&self, token: &StoreKey) -> Result<bool, RefreshStoreFault> {
            self.with(Command::IsLocked, |v| v.contains_key(&name("lock", token)))
        }

        async fn mark_ended(
            &self,
            session: &StoreKey,
            ttl: Duration,
        ) -> Result<(), RefreshStoreFault> {
            self.with(Command::MarkEnded, |v| {
                v.insert(name("ended", session), ("1".into(), Instant::now() + ttl));
            })
        }

        async fn is_ended(&self, session: &StoreKey) -> Result<bool, RefreshStoreFault> {
            self.with(Command::IsEnded, |v| {
                v.contains_key(&name("ended", session))
            })
        }

        async fn forget(&self, tokens: &[StoreKey]) -> Result<(), RefreshStoreFault> {
            self.with(Command::Forget, |v| {
                for token in tokens {
                    v.remove(&name("done", token));
                }
            })
        }

        async fn log_append(&self, entry: &str) -> Result<(), RefreshStoreFault> {
            self.fault(Command::LogAppend)?;
            self.state.lock().unwrap().log.push(entry.to_owned());
            Ok(())
        }

        async fn log_read(
            &self,
            cursor: Option<&str>,
        ) -> Result<(Vec<String>, Option<String>), RefreshStoreFault> {
            self.fault(Command::LogRead)?;
            let state = self.state.lock().unwrap();
            let from = cursor.and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
            let entries = state.log.get(from..).unwrap_or_default().to_vec();
            Ok((entries, Some(state.log.len().to_string())))
        }

        async fn get_value(&self, key: &StoreKey) -> Result<Option<String>, RefreshStoreFault> {
            self.with(Command::Value, |v| {
                v.get(&name("value", key)).map(|(s, _)| s.clone())
            })
        }

        async fn set_value(&self, key: &StoreKey, value: &str) -> Result<(), RefreshStoreFault> {
            self.with(Command::Value, |v| {
                v.insert(
                    name("value", key),
                    (
                        value.to_owned(),
                        Instant::now() + Duration::from_secs(1 << 30),
                    ),
                );
            })
        }

        async fn first_use(
            &self,
            nonce: &StoreKey,
            ttl: Duration,
        ) -> Result<bool, RefreshStoreFault> {
            self.with(Command::FirstUse, |v| {
                let key = name("used", nonce);
                let first = !v.contains_key(&key);
                if first {
                    v.insert(key, ("1".into(), Instant::now() + ttl));
                }
                first
            })
        }
    }
}
