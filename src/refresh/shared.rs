//! The protocol replicas run over a [`RefreshStore`] so that a refresh token is exchanged
//! once across all of them: adopt a published result, or take the token's lock and
//! exchange, or wait for the lock holder; on a store fault, exchange here and treat an
//! `invalid_grant` as unconfirmed. The keys, values and lifetimes are described on
//! [`RedisRefreshStore`](crate::RedisRefreshStore).
//!
//! It knows nothing of WorkOS or of seals: the handle provides those through [`Exchanger`],
//! so the fault orders (a publish that fails, a lock that expires under its holder, a
//! result that arrives while a replica polls) are unit-tested here against an in-memory
//! store and a scripted exchanger.

use super::gate::RefreshGate;
use super::outcome::{RefreshError, RefreshOutcome, SessionUpdate};
use super::publication::StoreNames;
use super::store::{RefreshStore, RefreshStoreFault, StoreKey};
use crate::jwt::AccessTokenClaims;
use crate::session::Session;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a refresh lock lives without renewal: a crashed replica blocks the others'
/// refresh of one token for at most this long.
pub(crate) const LOCK_TTL: Duration = Duration::from_secs(5);

/// How often the lock holder renews its lock while its exchange runs.
const LOCK_RENEW_EVERY: Duration = Duration::from_millis(1500);

/// The longest pause between two looks of a waiting replica for the lock holder's result.
pub(crate) const POLL_EVERY: Duration = Duration::from_millis(20);

/// The longest a replica waits for another one's exchange before doing its own: two 10 s
/// WorkOS calls around one 429 back-off, and some.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(35);

/// Refreshes of refreshes within one grace period: more means a loop or abuse.
const MAX_CHAIN: usize = 8;

/// The reason a refresh fails when its session was signed out on another replica.
pub(crate) const SIGNED_OUT_ELSEWHERE: &str = "the session was signed out";

/// What the protocol needs from the handle.
#[async_trait::async_trait]
pub(crate) trait Exchanger: Clone + Send + Sync + 'static {
    /// Spends `old`'s refresh token at WorkOS (into organization `org`): the new session,
    /// sealed.
    async fn exchange(self, old: Session, org: Option<String>) -> RefreshOutcome;

    /// What to publish under store key `name` for the refresh of refresh token `from`
    /// into `update`; `None`: publish nothing.
    fn publication(&self, from: &str, name: &StoreKey, update: &SessionUpdate) -> Option<String>;

    /// The session inside a value published under `name` for the refresh of refresh token
    /// `from`, with its cookie value (sealed); `None` when this app cannot open it.
    fn open(&self, from: &str, name: &StoreKey, published: &str) -> Option<(Session, String)>;

    /// The claims of `found`, a session adopted from the store for `requester`; `None`
    /// when it must not be adopted.
    async fn adopted_claims(
        &self,
        requester: &Session,
        found: &Session,
    ) -> Option<Arc<AccessTokenClaims>>;
}

/// The key of a refresh token in this process's gate (the shared store names it with
/// [`StoreNames::token`]).
pub(crate) fn token_key(refresh_token: &str) -> StoreKey {
    RefreshGate::<RefreshOutcome>::key(refresh_token)
}

/// A shared store and how this app names its keys.
#[derive(Clone, Copy)]
pub(crate) struct Store<'a> {
    pub(crate) store: &'a dyn RefreshStore,
    pub(crate) names: &'a StoreNames,
}

/// What the store knows about a refresh token.
enum Found {
    /// Nothing (no replica refreshed it within the grace period).
    Nothing,
    /// The newest session it was refreshed into.
    Update(Arc<SessionUpdate>),
    /// It was refreshed, but its session was signed out since.
    Ended,
}

/// The refresh of `old` (into `org`), coordinated with the other replicas through
/// `store`: adopt a published result, or take the lock and exchange (publishing the result
/// for `grace`), or wait for the lock holder; on a store fault, exchange here and treat an
/// `invalid_grant` as unconfirmed (another replica may have spent the token).
pub(crate) async fn exchange<E: Exchanger>(
    shared: Store<'_>,
    grace: Duration,
    exchanger: E,
    old: Session,
    org: Option<String>,
) -> RefreshOutcome {
    let store = shared.store;
    let key = shared.names.token(&old.refresh_token);
    let Some(owner) = random_owner() else {
        return exchanger.exchange(old, org).await;
    };
    let started = Instant::now();
    let mut looked_again = false;
    // Whether this refresh waited on another replica's lock: if it then takes the lock and
    // WorkOS refuses the token, the holder it waited on may have spent it and failed to
    // publish (a store slow for writes only), so the refusal is not proof the session
    // ended.
    let mut waited = false;
    let fault = loop {
        match adopt(shared, &exchanger, &old, &old.refresh_token).await {
            Ok(Found::Update(update)) => return Ok(update),
            Ok(Found::Ended) => return Err(RefreshError::Invalid(SIGNED_OUT_ELSEWHERE)),
            Ok(Found::Nothing) => {}
            Err(e) => break format!("reading: {e}"),
        }
        match store.try_lock(&key, &owner, LOCK_TTL).await {
            Ok(attempt) if attempt.locked && attempt.published && !looked_again => {
                // Another replica published and unlocked since our look-up: adopt (once;
                // a result this app cannot open falls through to exchanging).
                looked_again = true;
                unlock(store, &key, &owner).await;
                continue;
            }
            Ok(attempt) if attempt.locked => {
                let outcome = while_locked(
                    store,
                    &key,
                    &owner,
                    exchanger.clone().exchange(old.clone(), org),
                )
                .await;
                let outcome = match outcome {
                    Ok(update) => {
                        match exchanger.publication(&old.refresh_token, &key, &update) {
                            Some(value) => {
                                if let Err(e) = store.publish(&key, &value, grace).await {
                                    tracing::warn!(error = %e, "could not publish the refreshed session to the shared refresh store");
                                }
                            }
                            None => tracing::warn!(
                                "could not seal the refreshed session for the shared refresh store"
                            ),
                        }
                        Ok(update)
                    }
                    // Our lock may have expired under a very slow exchange and another
                    // replica spent the token: its published result still answers.
                    Err(e) if is_invalid_grant(&e) => {
                        match adopt(shared, &exchanger, &old, &old.refresh_token).await {
                            Ok(Found::Update(update)) => Ok(update),
                            _ if waited => Err(unconfirmed(e)),
                            _ => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                };
                unlock(store, &key, &owner).await;
                return outcome;
            }
            Ok(_) => {}
            Err(e) => break format!("locking: {e}"),
        }
        // Another replica holds the lock: wait for its result, or for the lock to go,
        // looking again after 2, 4, 8, 16, then every 20 ms (an exchange with WorkOS
        // takes tens to hundreds of ms; one on a local emulator about one).
        waited = true;
        let mut pause = Duration::from_millis(2);
        loop {
            if started.elapsed() >= MAX_WAIT {
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_EVERY);
            match store.result(&key).await {
                Ok(Some(_)) => break,
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "polling the shared refresh store failed");
                    break;
                }
            }
            match store.is_locked(&key).await {
                Ok(true) => {}
                Ok(false) | Err(_) => break,
            }
        }
        if started.elapsed() >= MAX_WAIT {
            break "waiting: the replica holding the lock did not finish in time".to_owned();
        }
    };
    tracing::warn!(
        store = store.describe(),
        fault = %fault,
        "the shared refresh store is unavailable; refreshing with this process's gate only"
    );
    match exchanger.exchange(old, org).await {
        Err(e) if is_invalid_grant(&e) => Err(unconfirmed(e)),
        other => other,
    }
}

/// An `invalid_grant` another replica may have caused: the cookie is kept.
fn unconfirmed(e: RefreshError) -> RefreshError {
    match e {
        RefreshError::WorkOs(w) => RefreshError::Unconfirmed(w),
        other => other,
    }
}

/// `update` (a refresh of `requester`), or the newer session another replica refreshed it
/// into since; an error if its session was signed out on any replica. Store faults keep
/// `update`.
pub(crate) async fn newest<E: Exchanger>(
    shared: Store<'_>,
    exchanger: &E,
    requester: &Session,
    update: Arc<SessionUpdate>,
) -> RefreshOutcome {
    let next = shared.names.token(&update.session.refresh_token);
    let sid = shared.names.session(&update.claims.sid);
    match shared.store.successor_and_ended(&next, &sid).await {
        Ok((_, true)) => Err(RefreshError::Invalid(SIGNED_OUT_ELSEWHERE)),
        Ok((Some(_), false)) => {
            match adopt(shared, exchanger, requester, &update.session.refresh_token).await {
                Ok(Found::Update(newer)) => Ok(newer),
                Ok(Found::Ended) => Err(RefreshError::Invalid(SIGNED_OUT_ELSEWHERE)),
                Ok(Found::Nothing) | Err(_) => Ok(update),
            }
        }
        Ok((None, false)) => Ok(update),
        Err(e) => {
            tracing::debug!(error = %e, "the shared refresh store did not answer; using this process's result");
            Ok(update)
        }
    }
}

/// The newest published session refresh token `from` was refreshed into (following the
/// chain of later refreshes), for `requester`, unless its session was signed out.
async fn adopt<E: Exchanger>(
    shared: Store<'_>,
    exchanger: &E,
    requester: &Session,
    from: &str,
) -> Result<Found, RefreshStoreFault> {
    let mut from = from.to_owned();
    let mut newest: Option<(String, Session)> = None;
    for _ in 0..MAX_CHAIN {
        let name = shared.names.token(&from);
        let Some(published) = shared.store.result(&name).await? else {
            break;
        };
        match exchanger.open(&from, &name, &published) {
            Some((session, sealed)) => {
                from = session.refresh_token.clone();
                newest = Some((sealed, session));
            }
            None => {
                tracing::warn!(
                    "a shared refresh result does not open with this app's keys; ignoring it"
                );
                break;
            }
        }
    }
    let Some((sealed, session)) = newest else {
        return Ok(Found::Nothing);
    };
    let Some(claims) = exchanger.adopted_claims(requester, &session).await else {
        return Ok(Found::Nothing);
    };
    if shared
        .store
        .is_ended(&shared.names.session(&claims.sid))
        .await?
    {
        return Ok(Found::Ended);
    }
    Ok(Found::Update(Arc::new(SessionUpdate {
        session: Arc::new(session),
        claims,
        sealed,
    })))
}

/// Holds `owner`'s lock of `key` while `work` runs, renewing it; returns `work`'s output.
/// A lock lost under its holder (it expired: the store was unreachable for longer than
/// its lifetime) is only logged: the exchange may already be at WorkOS, and cancelling it
/// would lose the rotated token.
async fn while_locked<T>(
    store: &dyn RefreshStore,
    key: &StoreKey,
    owner: &str,
    work: impl Future<Output = T>,
) -> T {
    let renew = async {
        loop {
            tokio::time::sleep(LOCK_RENEW_EVERY).await;
            match store.renew(key, owner, LOCK_TTL).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!("the shared refresh lock expired during the exchange");
                    std::future::pending::<()>().await;
                }
                Err(e) => tracing::debug!(error = %e, "renewing the shared refresh lock failed"),
            }
        }
    };
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => out,
        () = renew => unreachable!("the renewal loop never ends"),
    }
}

/// Releases our lock; a failure is only logged, as the lock expires by itself.
async fn unlock(store: &dyn RefreshStore, key: &StoreKey, owner: &str) {
    if let Err(e) = store.unlock(key, owner).await {
        tracing::debug!(error = %e, "could not release the shared refresh lock (it expires by itself)");
    }
}

/// A random id for a shared refresh lock (`None` if the system RNG fails).
fn random_owner() -> Option<String> {
    crate::encoding::random_hex::<16>()
}

fn is_invalid_grant(e: &RefreshError) -> bool {
    matches!(e, RefreshError::WorkOs(w) if w.error_code() == Some("invalid_grant"))
}
