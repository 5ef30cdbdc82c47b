//! [`RedisRefreshStore`] (feature `redis`): the shipped [`RefreshStore`], whose docs
//! describe the keys, the protocol and what happens when Redis fails.

use std::fmt;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::RedisError;
use tokio::sync::OnceCell;

use super::store::{LockAttempt, RefreshStore, RefreshStoreFault, StoreKey};

/// The environment variable [`RedisRefreshStore::from_env`] reads: a Redis URL,
/// `redis://[user:password@]host[:port][/db]`, `rediss://…` for TLS, or
/// `redis+unix:///path[?db=n&user=u&pass=p]` for a socket.
pub(crate) const REDIS_URL_VAR: &str = "WORKOS_REDIS_URL";

/// The default key prefix.
pub(crate) const DEFAULT_PREFIX: &str = "authkit:refresh:";

/// The longest a single Redis command may take before the replica falls back (default).
pub(crate) const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(250);

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
/// | `lock:<name of the refresh token>` | a random owner id | 5 s, renewed every 1.5 s while the exchange runs |
/// | `done:<name of the refresh token>` | the new session's cookie, **encrypted for whoever holds the old refresh token** (AES-256-GCM, key derived from that token) | the refresh grace (30 s) |
/// | `ended:<name of the session id>` | `1` (signed out: remembered refreshes of this session no longer answer) | the refresh grace |
/// | `used:<name of the sign-in state's nonce>` | `1` (a callback used this sign-in state: it is single-use) | 660 s (the state's lifetime + skew) |
///
/// A *name* is an HMAC-SHA256 digest (hex) under a key derived from the cookie password
/// with the smallest id: it reveals nothing of the token, id or nonce, and two apps on one
/// Redis cannot be linked by their names. Nothing stored is a usable credential on its
/// own: a `done:` value is not a cookie, and opening it takes the refresh token it
/// replaced; a session found there is verified as a cookie is (its access token against
/// the JWKS) and adopted only by a request of the same user and WorkOS session. What Redis
/// is trusted for is coordination: whoever can write to it can make replicas wait (up to
/// 35 s) or fall back to refreshing on their own, and can mark a sign-in state used (that
/// sign-in then fails and is started again), but cannot sign anyone in; whoever can only
/// read it (`MONITOR`, a replica, a backup, the link) learns which keys are busy, nothing
/// more. Use `rediss://` when Redis is reached over a network you do not control: the
/// Redis password travels in the `AUTH` command. The password is never shown: the URL is
/// logged, printed and reported with `***` in its place (user-info or `pass=`). A replica
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
    /// A store on the Redis at `url`: `redis://[user:password@]host[:port][/db]`,
    /// `rediss://…` for TLS (rustls, verifying the server against the system's root
    /// certificates), or `redis+unix:///path[?db=n&user=u&pass=p]` for a socket. Nothing
    /// connects yet: the connection opens on the first refresh, so a Redis that is down at
    /// start-up only means the in-process fallback until it is up. The password (in the
    /// user-info part or a `pass=` parameter) is never shown: [`url`](Self::url), `Debug`
    /// and errors show `***` instead.
    ///
    /// # Errors
    /// [`RefreshStoreError::InvalidUrl`] when the URL does not parse.
    pub fn open(url: &str) -> Result<Self, RefreshStoreError> {
        Self::open_named(url, "the given URL")
    }

    /// A store on the Redis named by `WORKOS_REDIS_URL` (a Redis URL, as
    /// [`open`](Self::open) takes it), or `None` when it is unset or empty.
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
        if url.starts_with("rediss://") || url.starts_with("valkeys://") {
            // The redis client builds its TLS configuration with rustls's process-wide
            // crypto provider; pick aws-lc-rs (the one the WorkOS client uses) when the app
            // chose none, rather than letting rustls panic on first connect when more than
            // one provider is compiled in. A provider the app installed stays.
            if rustls::crypto::CryptoProvider::get_default().is_none() {
                let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            }
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

    /// The URL, with any password (user-info or `pass=`) replaced by `***` (for logs).
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    async fn connection(&self) -> Result<ConnectionManager, RefreshStoreFault> {
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
                    .map_err(RefreshStoreFault::backend)
            })
            .await?;
        Ok(manager.clone())
    }

    /// Sends a command with `send` under the command timeout. One that failed because
    /// the connection had dropped (Redis restarted) is sent once more on the connection
    /// the manager reopens, so a restart costs no fallback.
    async fn with_retry<T, F, Fut>(&self, send: F) -> Result<T, RefreshStoreFault>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = Result<T, RedisError>>,
    {
        let attempt = async {
            match send(self.connection().await?).await {
                Err(e) if e.is_io_error() || e.is_connection_dropped() => {
                    send(self.connection().await?)
                        .await
                        .map_err(RefreshStoreFault::backend)
                }
                other => other.map_err(RefreshStoreFault::backend),
            }
        };
        tokio::time::timeout(self.command_timeout, attempt)
            .await
            .unwrap_or(Err(RefreshStoreFault::Timeout))
    }

    /// Runs `cmd` (see [`Self::with_retry`]).
    async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> Result<T, RefreshStoreFault> {
        self.with_retry(|mut c| async move { cmd.query_async::<T>(&mut c).await })
            .await
    }

    /// Runs a pipeline in one round trip (see [`Self::with_retry`]).
    async fn query_pipe<T: redis::FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
    ) -> Result<T, RefreshStoreFault> {
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
}

#[async_trait::async_trait]
impl RefreshStore for RedisRefreshStore {
    fn describe(&self) -> &str {
        &self.shown_url
    }

    async fn result(&self, token: &StoreKey) -> Result<Option<String>, RefreshStoreFault> {
        self.query(redis::cmd("GET").arg(self.key("done", token)))
            .await
    }

    async fn publish(
        &self,
        token: &StoreKey,
        value: &str,
        ttl: Duration,
    ) -> Result<(), RefreshStoreFault> {
        self.query(
            redis::cmd("SET")
                .arg(self.key("done", token))
                .arg(value)
                .arg("PX")
                .arg(millis(ttl)),
        )
        .await
    }

    /// `SET lock:… NX PX` and `EXISTS done:…` in one pipeline.
    async fn try_lock(
        &self,
        token: &StoreKey,
        owner: &str,
        ttl: Duration,
    ) -> Result<LockAttempt, RefreshStoreFault> {
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.key("lock", token))
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .exists(self.key("done", token));
        self.query_pipe::<(Option<String>, bool)>(&pipe)
            .await
            .map(|(locked, published)| LockAttempt::new(locked.is_some(), published))
    }

    async fn renew(
        &self,
        token: &StoreKey,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, RefreshStoreFault> {
        self.query::<i64>(
            redis::cmd("EVAL")
                .arg(RENEW_SCRIPT)
                .arg(1)
                .arg(self.key("lock", token))
                .arg(owner)
                .arg(millis(ttl)),
        )
        .await
        .map(|n| n == 1)
    }

    async fn unlock(&self, token: &StoreKey, owner: &str) -> Result<(), RefreshStoreFault> {
        self.query::<i64>(
            redis::cmd("EVAL")
                .arg(UNLOCK_SCRIPT)
                .arg(1)
                .arg(self.key("lock", token))
                .arg(owner),
        )
        .await
        .map(|_| ())
    }

    async fn is_locked(&self, token: &StoreKey) -> Result<bool, RefreshStoreFault> {
        self.query(redis::cmd("EXISTS").arg(self.key("lock", token)))
            .await
    }

    async fn mark_ended(&self, session: &StoreKey, ttl: Duration) -> Result<(), RefreshStoreFault> {
        self.query(
            redis::cmd("SET")
                .arg(self.key("ended", session))
                .arg(1)
                .arg("PX")
                .arg(millis(ttl)),
        )
        .await
    }

    async fn is_ended(&self, session: &StoreKey) -> Result<bool, RefreshStoreFault> {
        self.query(redis::cmd("EXISTS").arg(self.key("ended", session)))
            .await
    }

    async fn forget(&self, tokens: &[StoreKey]) -> Result<(), RefreshStoreFault> {
        if tokens.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("DEL");
        for token in tokens {
            cmd.arg(self.key("done", token));
        }
        self.query(&cmd).await
    }

    /// `SET used:… NX PX`.
    async fn first_use(&self, nonce: &StoreKey, ttl: Duration) -> Result<bool, RefreshStoreFault> {
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

    /// `XADD revocations MAXLEN ~ 10000`: a stream, bounded (about the newest ten thousand
    /// entries; one event is a few hundred bytes).
    async fn log_append(&self, entry: &str) -> Result<(), RefreshStoreFault> {
        let key = format!("{}revocations", self.prefix);
        self.query::<String>(
            redis::cmd("XADD")
                .arg(&key)
                .arg("MAXLEN")
                .arg("~")
                .arg(10_000)
                .arg("*")
                .arg("e")
                .arg(entry),
        )
        .await
        .map(drop)
    }

    /// `XRANGE revocations (<cursor> + COUNT 1000`.
    async fn log_read(
        &self,
        cursor: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>), RefreshStoreFault> {
        let key = format!("{}revocations", self.prefix);
        let start = cursor.map_or_else(|| "-".to_owned(), |c| format!("({c}"));
        let rows: Vec<(String, Vec<(String, String)>)> = self
            .query(
                redis::cmd("XRANGE")
                    .arg(&key)
                    .arg(start)
                    .arg("+")
                    .arg("COUNT")
                    .arg(1000),
            )
            .await?;
        let last = rows.last().map(|(id, _)| id.clone());
        let entries = rows
            .into_iter()
            .flat_map(|(_, fields)| fields.into_iter().map(|(_, v)| v))
            .collect();
        Ok((entries, last.or_else(|| cursor.map(str::to_owned))))
    }

    async fn get_value(&self, key: &StoreKey) -> Result<Option<String>, RefreshStoreFault> {
        self.query(redis::cmd("GET").arg(self.key("value", key)))
            .await
    }

    async fn set_value(&self, key: &StoreKey, value: &str) -> Result<(), RefreshStoreFault> {
        self.query(redis::cmd("SET").arg(self.key("value", key)).arg(value))
            .await
    }

    /// `GET done:…` and `EXISTS ended:…` in one pipeline.
    async fn successor_and_ended(
        &self,
        next: &StoreKey,
        session: &StoreKey,
    ) -> Result<(Option<String>, bool), RefreshStoreFault> {
        let mut pipe = redis::pipe();
        pipe.get(self.key("done", next))
            .exists(self.key("ended", session));
        self.query_pipe(&pipe).await
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// The URL with any password replaced by `***`: the one in the user-info part
/// (`redis://:pw@host`) and the query parameters a socket URL carries it in
/// (`redis+unix:///path?pass=pw`, as the redis client reads it; `password` too).
fn redact_url(url: &str) -> String {
    const SECRET_PARAMS: [&str; 2] = ["pass", "password"];
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            if parsed
                .query_pairs()
                .any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref()))
            {
                let pairs: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                            "***".to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        // Unparseable: nothing of it is shown if it may hold a password.
        Err(_) if url.contains('@') || url.contains("pass") => {
            "<unparseable URL with credentials>".to_owned()
        }
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

    /// A socket URL carries its password in the query (`redis+unix:///path?pass=…`, as the
    /// redis client reads it): redacted too, in the URL shown, `Debug` and the start-up
    /// error (#23 item 8).
    #[test]
    fn a_password_in_the_query_is_redacted() {
        for url in [
            "redis+unix:///run/redis.sock?db=0&pass=hunter2",
            "redis+unix:///run/redis.sock?pass=hunter2&db=0",
            "unix:///run/redis.sock?user=app&password=hunter2",
            "redis://127.0.0.1:6379/0?password=hunter2",
        ] {
            let shown = redact_url(url);
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
        let store =
            RedisRefreshStore::open("redis+unix:///run/redis.sock?db=0&pass=hunter2").unwrap();
        assert!(!format!("{store:?}").contains("hunter2"));
        assert!(!store.url().contains("hunter2"));
        assert!(!store.describe().contains("hunter2"));
        let e =
            RedisRefreshStore::open("redis+unix:///run/redis.sock?pass=hunter2&db=x").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    /// `rediss://` (TLS) is accepted: the client is built with rustls, already in the tree
    /// through reqwest (#23 item 8).
    #[test]
    fn a_tls_url_is_accepted() {
        let store = RedisRefreshStore::open("rediss://:hunter2@redis.example.com:6380/0").unwrap();
        assert_eq!(store.url(), "rediss://:***@redis.example.com:6380/0");
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
