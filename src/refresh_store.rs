//! Refresh coordination shared between replicas, through Redis (feature `redis`):
//! [`RedisRefreshStore`], whose docs describe the keys, the protocol and what happens
//! when Redis fails.

use std::fmt;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::RedisError;
use tokio::sync::OnceCell;

/// The environment variable [`RedisRefreshStore::from_env`] reads: a Redis URL,
/// `redis://[user:password@]host[:port][/db]` (or `rediss://` with TLS support compiled
/// into the client, `redis+unix:///path` for a socket).
pub(crate) const REDIS_URL_VAR: &str = "WORKOS_REDIS_URL";

/// The default key prefix.
pub(crate) const DEFAULT_PREFIX: &str = "authkit:refresh:";

/// The longest a single Redis command may take before the replica falls back (default).
pub(crate) const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(250);

/// How long a refresh lock lives without renewal: a crashed replica blocks the others'
/// refresh of one token for at most this long.
pub(crate) const LOCK_TTL: Duration = Duration::from_secs(5);

/// How often the lock holder renews its lock while its exchange runs.
const LOCK_RENEW_EVERY: Duration = Duration::from_millis(1500);

/// The longest pause between two looks of a waiting replica for the lock holder's result.
pub(crate) const POLL_EVERY: Duration = Duration::from_millis(20);

/// The longest a replica waits for another one's exchange before doing its own.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(35);

/// Deletes the key only if it still holds our owner id (a lock that expired and was
/// taken by another replica is not ours to delete).
const UNLOCK_SCRIPT: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// Extends the key's lifetime only if it still holds our owner id.
const RENEW_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";

/// A bad store configuration, reported at start-up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshStoreError {
    /// The URL does not parse or names a scheme the client does not support.
    #[error("{var}: the Redis URL `{url}` is not usable: {reason}")]
    InvalidUrl {
        /// Where the URL came from (the variable name, or `the given URL`).
        var: &'static str,
        /// The URL with any password replaced by `***`.
        url: String,
        /// Why it was refused.
        reason: String,
    },
}

/// Why one store command failed (logged; never shown to users).
#[derive(Debug)]
pub(crate) enum StoreFault {
    Timeout,
    Redis(RedisError),
}

impl fmt::Display for StoreFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("no answer within the command timeout"),
            Self::Redis(e) => write!(f, "{e}"),
        }
    }
}

/// A Redis database that replicas of one app share for refresh coordination (feature
/// `redis`). Cheap to clone: clones share one auto-reconnecting connection, opened on
/// first use.
///
/// WorkOS refresh tokens are single use. The in-process refresh gate (see
/// [Refreshing](crate#refreshing)) makes the requests of one process share one exchange
/// and answers late requests (still carrying the old cookie) with the new session for
/// 30 s. Behind a load balancer without affinity the requests of one page land on several
/// replicas; without a shared record, the replica that loses the race gets `invalid_grant`
/// and signs the user out. No AuthKit SDK handles this; with a `RedisRefreshStore` given
/// to [`AuthKitBuilder::refresh_store`](crate::AuthKitBuilder::refresh_store), replicas
/// share what the gate knows:
///
/// | key (under the prefix, default `authkit:refresh:`) | value | lifetime |
/// |---|---|---|
/// | `lock:<sha256(refresh token), hex>` | a random owner id | 5 s, renewed every 1.5 s while the exchange runs |
/// | `done:<sha256(refresh token), hex>` | the new session, **sealed** with the cookie password (iron, as the cookie) | the refresh grace (30 s) |
/// | `ended:<sha256(session id), hex>` | `1` (signed out: remembered refreshes of this session no longer answer) | the refresh grace |
/// | `used:<sha256(sign-in state nonce), hex>` | `1` (a callback used this sign-in state: it is single-use) | 660 s (the state's lifetime + skew) |
///
/// Keys are digests, never tokens; values hold tokens only inside the seal. A replica
/// that needs to refresh token T first looks for `done:T` (following the chain when the
/// session it finds was itself refreshed again, e.g. by an organization switch, so
/// nobody is handed a spent refresh token); else it takes `lock:T` (`SET NX PX`) and
/// exchanges; else it polls `done:T` (after 2, 4, 8, 16, then every 20 ms) until the
/// lock holder publishes, the lock disappears (then it tries to take it), or 35 s pass
/// (the longest an exchange can take: two 10 s WorkOS calls around one 429 back-off).
///
/// **When Redis fails** (down, refusing, or slower than the 250 ms per-command timeout),
/// the replica falls back to the in-process gate and logs a warning. Nobody is signed out
/// because of it: while the store is unavailable, an `invalid_grant` may only mean that
/// another replica spent the token first, so it is answered as
/// [`RefreshError::Unconfirmed`](crate::RefreshError::Unconfirmed): signed out for that
/// one request, the cookie kept (the other replica's response carries the new one).
/// Sharing resumes by itself once Redis answers again (the client reconnects).
///
/// ```no_run
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use authkit_leptos::{AuthKit, AuthKitConfig, RedisRefreshStore};
/// let mut builder = AuthKit::builder(AuthKitConfig::from_env()?);
/// // WORKOS_REDIS_URL=redis://127.0.0.1:6379; unset: the in-process gate alone.
/// if let Some(store) = RedisRefreshStore::from_env()? {
///     builder = builder.refresh_store(store);
/// }
/// let authkit = builder.build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisRefreshStore {
    client: redis::Client,
    connection: std::sync::Arc<OnceCell<ConnectionManager>>,
    prefix: String,
    command_timeout: Duration,
    shown_url: String,
}

impl fmt::Debug for RedisRefreshStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRefreshStore")
            .field("url", &self.shown_url)
            .field("prefix", &self.prefix)
            .field("command_timeout", &self.command_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisRefreshStore {
    /// A store on the Redis at `url` (`redis://host:port[/db]`). Nothing connects yet:
    /// the connection opens on the first refresh, so a Redis that is down at start-up
    /// only means the in-process fallback until it is up.
    ///
    /// # Errors
    /// [`RefreshStoreError::InvalidUrl`] when the URL does not parse.
    pub fn open(url: &str) -> Result<Self, RefreshStoreError> {
        Self::open_named(url, "the given URL")
    }

    /// A store on the Redis named by `WORKOS_REDIS_URL` (a Redis URL,
    /// `redis://[user:password@]host[:port][/db]`, or `redis+unix:///path` for a socket),
    /// or `None` when it is unset or empty.
    ///
    /// # Errors
    /// [`RefreshStoreError::InvalidUrl`] when it is set to something that is not a
    /// Redis URL (a start-up error, naming the variable).
    pub fn from_env() -> Result<Option<Self>, RefreshStoreError> {
        match std::env::var(REDIS_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => {
                Self::open_named(url.trim(), REDIS_URL_VAR).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn open_named(url: &str, var: &'static str) -> Result<Self, RefreshStoreError> {
        let shown_url = redact_url(url);
        let invalid = |reason: String| RefreshStoreError::InvalidUrl {
            var,
            url: shown_url.clone(),
            reason,
        };
        // The client accepts a bare host name as a URL; require a scheme so a typo such
        // as `localhost:6379` is named at start-up instead of connecting somewhere odd.
        if !url.contains("://") {
            return Err(invalid(
                "expected redis://host:port (or rediss://, redis+unix://)".to_owned(),
            ));
        }
        let client = redis::Client::open(url).map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            client,
            connection: std::sync::Arc::new(OnceCell::new()),
            prefix: DEFAULT_PREFIX.to_owned(),
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            shown_url,
        })
    }

    /// Prefixes every key with `prefix` (default `authkit:refresh:`), e.g. to keep
    /// several apps apart on one Redis. Apps that share cookies must share the prefix.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest one Redis command may take before this replica falls back to its
    /// in-process gate for that refresh (default 250 ms).
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// The URL, with any password replaced by `***` (for logs).
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreFault> {
        let cell = &self.connection;
        let manager = cell
            .get_or_try_init(|| async {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.command_timeout))
                    .set_response_timeout(Some(self.command_timeout))
                    .set_number_of_retries(1)
                    .set_min_delay(Duration::from_millis(50))
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
                    .map_err(StoreFault::Redis)
            })
            .await?;
        Ok(manager.clone())
    }

    /// Sends a command with `send` under the command timeout. One that failed because
    /// the connection had dropped (Redis restarted) is sent once more on the connection
    /// the manager reopens, so a restart costs no fallback.
    async fn with_retry<T, F, Fut>(&self, send: F) -> Result<T, StoreFault>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = Result<T, RedisError>>,
    {
        let attempt = async {
            match send(self.connection().await?).await {
                Err(e) if e.is_io_error() || e.is_connection_dropped() => {
                    send(self.connection().await?)
                        .await
                        .map_err(StoreFault::Redis)
                }
                other => other.map_err(StoreFault::Redis),
            }
        };
        tokio::time::timeout(self.command_timeout, attempt)
            .await
            .unwrap_or(Err(StoreFault::Timeout))
    }

    /// Runs `cmd` (see [`Self::with_retry`]).
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreFault> {
        self.with_retry(|mut c| async move { cmd.query_async::<T>(&mut c).await })
            .await
    }

    /// Runs a pipeline in one round trip (see [`Self::with_retry`]).
    async fn query_pipe<T: redis::FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
    ) -> Result<T, StoreFault> {
        self.with_retry(|mut c| async move { pipe.query_async::<T>(&mut c).await })
            .await
    }

    fn key(&self, kind: &str, digest: &[u8; 32]) -> String {
        let mut key = String::with_capacity(self.prefix.len() + kind.len() + 65);
        key.push_str(&self.prefix);
        key.push_str(kind);
        key.push(':');
        key.push_str(&crate::encoding::hex(digest));
        key
    }

    /// The sealed session token `digest` was refreshed into, if one was published.
    pub(crate) async fn result(&self, digest: &[u8; 32]) -> Result<Option<String>, StoreFault> {
        self.query(redis::cmd("GET").arg(self.key("done", digest)))
            .await
    }

    /// Publishes the sealed session token `digest` was refreshed into, for `grace`.
    pub(crate) async fn publish(
        &self,
        digest: &[u8; 32],
        sealed: &str,
        grace: Duration,
    ) -> Result<(), StoreFault> {
        self.query(
            redis::cmd("SET")
                .arg(self.key("done", digest))
                .arg(sealed)
                .arg("PX")
                .arg(millis(grace)),
        )
        .await
    }

    /// Takes the refresh lock of `digest` for `owner` (`false` if another replica has it)
    /// and, in the same round trip, reads whether a result was published meanwhile: a
    /// holder that published and unlocked between our look-up and our lock is seen here
    /// (it publishes before it unlocks), so we never exchange a token it already spent.
    pub(crate) async fn try_lock(
        &self,
        digest: &[u8; 32],
        owner: &str,
    ) -> Result<(bool, bool), StoreFault> {
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.key("lock", digest))
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(millis(LOCK_TTL))
            .exists(self.key("done", digest));
        self.query_pipe::<(Option<String>, bool)>(&pipe)
            .await
            .map(|(locked, published)| (locked.is_some(), published))
    }

    /// Extends our lock of `digest` by the lock TTL; `false` if it is no longer ours.
    pub(crate) async fn renew(&self, digest: &[u8; 32], owner: &str) -> Result<bool, StoreFault> {
        self.query::<i64>(
            redis::cmd("EVAL")
                .arg(RENEW_SCRIPT)
                .arg(1)
                .arg(self.key("lock", digest))
                .arg(owner)
                .arg(millis(LOCK_TTL)),
        )
        .await
        .map(|n| n == 1)
    }

    /// Releases our lock of `digest` (a no-op if it expired and is someone else's now);
    /// a failure is only logged, as the lock expires by itself.
    pub(crate) async fn unlock(&self, digest: &[u8; 32], owner: &str) {
        let released = self
            .query::<i64>(
                redis::cmd("EVAL")
                    .arg(UNLOCK_SCRIPT)
                    .arg(1)
                    .arg(self.key("lock", digest))
                    .arg(owner),
            )
            .await;
        if let Err(e) = released {
            tracing::debug!(error = %e, "could not release the shared refresh lock (it expires by itself)");
        }
    }

    /// Whether a lock on `digest` exists (someone is exchanging that token).
    pub(crate) async fn is_locked(&self, digest: &[u8; 32]) -> Result<bool, StoreFault> {
        self.query(redis::cmd("EXISTS").arg(self.key("lock", digest)))
            .await
    }

    /// `true` the first time any replica asks about the sign-in state with nonce digest
    /// `nonce` within `ttl` (`SET used:… NX PX`), `false` after: a state is single-use.
    pub(crate) async fn first_use_of_state(
        &self,
        nonce: &[u8; 32],
        ttl: Duration,
    ) -> Result<bool, StoreFault> {
        let set: Option<String> = self
            .query(
                redis::cmd("SET")
                    .arg(self.key("used", nonce))
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(ttl)),
            )
            .await?;
        Ok(set.is_some())
    }

    /// Records that the session with id digest `sid` was signed out (for `grace`).
    pub(crate) async fn sign_out(&self, sid: &[u8; 32], grace: Duration) -> Result<(), StoreFault> {
        self.query(
            redis::cmd("SET")
                .arg(self.key("ended", sid))
                .arg(1)
                .arg("PX")
                .arg(millis(grace)),
        )
        .await
    }

    /// Forgets the published results of the given refresh-token digests.
    pub(crate) async fn forget(&self, forget: &[[u8; 32]]) -> Result<(), StoreFault> {
        if forget.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("DEL");
        for digest in forget {
            cmd.arg(self.key("done", digest));
        }
        self.query(&cmd).await
    }

    /// Whether the session with id digest `sid` was signed out within the grace period.
    pub(crate) async fn session_ended(&self, sid: &[u8; 32]) -> Result<bool, StoreFault> {
        self.query(redis::cmd("EXISTS").arg(self.key("ended", sid)))
            .await
    }

    /// In one round trip: whether token `next` was refreshed (its published result) and
    /// whether the session with id digest `sid` was signed out.
    pub(crate) async fn successor_and_ended(
        &self,
        next: &[u8; 32],
        sid: &[u8; 32],
    ) -> Result<(Option<String>, bool), StoreFault> {
        let mut pipe = redis::pipe();
        pipe.get(self.key("done", next))
            .exists(self.key("ended", sid));
        self.query_pipe(&pipe).await
    }

    /// Holds our lock of `digest` while `work` runs, renewing it; returns `work`'s output.
    pub(crate) async fn while_locked<T>(
        &self,
        digest: &[u8; 32],
        owner: &str,
        work: impl std::future::Future<Output = T>,
    ) -> T {
        let renew = async {
            loop {
                tokio::time::sleep(LOCK_RENEW_EVERY).await;
                match self.renew(digest, owner).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("the shared refresh lock expired during the exchange");
                        std::future::pending::<()>().await;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "renewing the shared refresh lock failed")
                    }
                }
            }
        };
        tokio::pin!(work);
        tokio::select! {
            out = &mut work => out,
            () = renew => unreachable!("the renewal loop never ends"),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// The URL with any password replaced by `***`.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        // Unparseable: show the scheme and host part only if there is no `@`.
        Err(_) if url.contains('@') => "<unparseable URL with credentials>".to_owned(),
        Err(_) => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_url_is_a_start_up_error_naming_its_source() {
        let e = RedisRefreshStore::open("localhost:6379").unwrap_err();
        assert!(e.to_string().contains("redis://host:port"), "{e}");
        let e = RedisRefreshStore::open("http://127.0.0.1:6379").unwrap_err();
        assert!(e.to_string().starts_with("the given URL:"), "{e}");
    }

    #[test]
    fn passwords_never_reach_messages() {
        let e = RedisRefreshStore::open("http://user:hunter2@127.0.0.1/").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let store = RedisRefreshStore::open("redis://:hunter2@127.0.0.1:6379/0").unwrap();
        assert!(!format!("{store:?}").contains("hunter2"));
        assert_eq!(store.url(), "redis://:***@127.0.0.1:6379/0");
    }

    #[test]
    fn keys_are_digests_under_the_prefix() {
        let store = RedisRefreshStore::open("redis://127.0.0.1:1")
            .unwrap()
            .key_prefix("app1:");
        let key = store.key("done", &[0xab; 32]);
        assert_eq!(key, format!("app1:done:{}", "ab".repeat(32)));
    }
}
