//! The refresh protocol between replicas, against the in-memory store and a scripted
//! WorkOS: single use of refresh tokens is enforced (a second exchange of a token answers
//! `invalid_grant`), every exchange is counted, and each replica is a [`Refresher`] of its
//! own (its own gate) on one shared [`MemoryStore`]. The fault orders here are the ones the
//! Redis tests (tests/it/refresh/shared.rs, a real redis-server) cannot time.

use super::publication::StoreNames;
use super::shared::{Exchanger, SIGNED_OUT_ELSEWHERE};
use super::store::memory::{Command, MemoryStore};
use super::store::{RefreshStore, StoreKey};
use super::{RefreshError, RefreshOutcome, Refresher, SessionUpdate};
use crate::jwt::AccessTokenClaims;
use crate::session::Session;
use crate::workos::WorkOsError;
use http::StatusCode;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const GRACE: Duration = Duration::from_secs(30);

fn passwords() -> crate::config::PasswordMap {
    crate::config::PasswordMap::single(crate::config::Secret::new(
        "a-cookie-password-of-32-characters!!",
    ))
}

/// The WorkOS all replicas talk to: refresh tokens are single use.
#[derive(Default)]
struct WorkOs {
    spent: Mutex<HashSet<String>>,
    exchanges: AtomicUsize,
    /// How long an exchange takes after WorkOS spent the token (its answer's latency).
    latency: Mutex<Duration>,
}

/// One replica's view of WorkOS and the seals.
#[derive(Clone)]
struct Replica {
    workos: Arc<WorkOs>,
}

fn session(refresh_token: &str) -> Session {
    Session {
        access_token: format!("at-{refresh_token}"),
        refresh_token: refresh_token.to_owned(),
        user: serde_json::from_value(serde_json::json!({
            "object": "user", "id": "user_1", "email": "ada@example.com",
            "email_verified": true, "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap(),
        impersonator: None,
        authentication_method: None,
    }
}

fn claims(session: &Session) -> Arc<AccessTokenClaims> {
    Arc::new(
        serde_json::from_value(serde_json::json!({
            "iss": "https://api.workos.com", "sub": session.user.id, "sid": "session_1",
            "jti": session.access_token, "exp": 4_000_000_000u64, "iat": 1u64,
        }))
        .unwrap(),
    )
}

fn update(session: Session) -> Arc<SessionUpdate> {
    let claims = claims(&session);
    let sealed = serde_json::to_string(&session).unwrap();
    Arc::new(SessionUpdate {
        session: Arc::new(session),
        claims,
        sealed,
    })
}

fn invalid_grant() -> RefreshError {
    RefreshError::WorkOs(Arc::new(WorkOsError::from_http_status(
        "/user_management/authenticate",
        StatusCode::BAD_REQUEST,
        Some(serde_json::json!({ "error": "invalid_grant" })),
    )))
}

#[async_trait::async_trait]
impl Exchanger for Replica {
    async fn exchange(self, old: Session, _org: Option<String>) -> RefreshOutcome {
        self.workos.exchanges.fetch_add(1, Ordering::SeqCst);
        let fresh = self
            .workos
            .spent
            .lock()
            .unwrap()
            .insert(old.refresh_token.clone());
        let latency = *self.workos.latency.lock().unwrap();
        tokio::time::sleep(latency).await;
        if !fresh {
            return Err(invalid_grant());
        }
        Ok(update(session(&format!("{}+", old.refresh_token))))
    }

    fn publication(&self, _from: &str, _name: &StoreKey, update: &SessionUpdate) -> Option<String> {
        Some(update.sealed.clone())
    }

    fn open(&self, _from: &str, _name: &StoreKey, published: &str) -> Option<(Session, String)> {
        let session = serde_json::from_str(published).ok()?;
        Some((session, published.to_owned()))
    }

    async fn adopted_claims(
        &self,
        _requester: &Session,
        found: &Session,
    ) -> Option<Arc<AccessTokenClaims>> {
        Some(claims(found))
    }
}

struct Cluster {
    workos: Arc<WorkOs>,
    store: Arc<MemoryStore>,
}

impl Cluster {
    fn new() -> Self {
        Self {
            workos: Arc::default(),
            store: Arc::default(),
        }
    }

    fn replica(&self) -> (Refresher, Replica) {
        (
            Refresher::new(
                GRACE,
                Some(Arc::clone(&self.store) as Arc<dyn RefreshStore>),
                &passwords(),
            ),
            Replica {
                workos: Arc::clone(&self.workos),
            },
        )
    }

    fn exchanges(&self) -> usize {
        self.workos.exchanges.load(Ordering::SeqCst)
    }

    fn set_latency(&self, latency: Duration) {
        *self.workos.latency.lock().unwrap() = latency;
    }
}

async fn refresh(replica: &(Refresher, Replica), token: &str) -> RefreshOutcome {
    replica
        .0
        .refresh(&replica.1, &session(token), None, false)
        .await
}

fn new_token(outcome: &RefreshOutcome) -> &str {
    &outcome
        .as_ref()
        .expect("a new session")
        .session
        .refresh_token
}

#[tokio::test]
async fn two_replicas_at_once_share_one_exchange() {
    let cluster = Cluster::new();
    cluster.set_latency(Duration::from_millis(50));
    let (a, b) = (cluster.replica(), cluster.replica());
    let (x, y) = tokio::join!(refresh(&a, "r0"), refresh(&b, "r0"));
    assert_eq!(cluster.exchanges(), 1);
    assert_eq!(new_token(&x), "r0+");
    assert_eq!(new_token(&y), "r0+");
}

#[tokio::test]
async fn a_late_replica_adopts_the_published_result() {
    let cluster = Cluster::new();
    let (a, b) = (cluster.replica(), cluster.replica());
    assert_eq!(new_token(&refresh(&a, "r0").await), "r0+");
    assert_eq!(new_token(&refresh(&b, "r0").await), "r0+");
    assert_eq!(cluster.exchanges(), 1);
}

#[tokio::test]
async fn a_result_that_arrives_while_a_replica_polls_is_adopted() {
    let cluster = Cluster::new();
    cluster.set_latency(Duration::from_millis(120));
    let (a, b) = (cluster.replica(), cluster.replica());
    let holder = refresh(&a, "r0");
    let waiter = async {
        // A holds the lock by now; B looks, finds it locked, and polls.
        tokio::time::sleep(Duration::from_millis(20)).await;
        refresh(&b, "r0").await
    };
    let (x, y) = tokio::join!(holder, waiter);
    assert_eq!(new_token(&x), "r0+");
    assert_eq!(new_token(&y), "r0+");
    assert_eq!(
        cluster.exchanges(),
        1,
        "the waiter adopted, it did not exchange"
    );
    assert!(
        cluster.store.calls(Command::IsLocked) > 0,
        "the waiter polled"
    );
}

/// The lock holder cannot publish (the store is slow for writes only): the replica that
/// waited on it takes the lock, spends the token again and is refused — which does not
/// prove the session ended, so its cookie is kept (#23 item 5).
#[tokio::test]
async fn a_publish_that_fails_never_signs_the_waiter_out() {
    let cluster = Cluster::new();
    cluster.set_latency(Duration::from_millis(80));
    cluster.store.fail(Command::Publish);
    let (a, b) = (cluster.replica(), cluster.replica());
    let holder = refresh(&a, "r0");
    let waiter = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        refresh(&b, "r0").await
    };
    let (x, y) = tokio::join!(holder, waiter);
    assert_eq!(new_token(&x), "r0+", "the holder's own request is served");
    let e = y.expect_err("the token was spent by the holder");
    assert!(matches!(e, RefreshError::Unconfirmed(_)), "{e:?}");
    assert!(!e.ends_session(), "the waiter keeps the cookie");
    assert_eq!(cluster.exchanges(), 2);
}

/// The lock expires under its holder (the store lost it, or renewals failed for longer
/// than its lifetime) while WorkOS is slow: the waiter takes the lock and spends the token
/// again. If the holder's result is published by then, the waiter adopts it; if not, the
/// refusal is unconfirmed and the cookie kept.
#[tokio::test]
async fn a_lock_that_expires_under_its_holder() {
    // The holder publishes before the waiter's refusal comes back: adopted.
    let cluster = Cluster::new();
    cluster.set_latency(Duration::from_millis(60));
    let (a, b) = (cluster.replica(), cluster.replica());
    let key = StoreNames::new(&passwords()).token("r0");
    let holder = refresh(&a, "r0");
    let waiter = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let store = Arc::clone(&cluster.store);
        let expire = async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            store.expire_lock(&key);
        };
        let (outcome, ()) = tokio::join!(refresh(&b, "r0"), expire);
        outcome
    };
    let (x, y) = tokio::join!(holder, waiter);
    assert_eq!(new_token(&x), "r0+");
    assert_eq!(
        new_token(&y),
        "r0+",
        "the refused waiter adopted the holder's result"
    );
    assert_eq!(cluster.exchanges(), 2);

    // The holder is still at WorkOS when the waiter's refusal comes back: unconfirmed.
    let cluster = Cluster::new();
    cluster.set_latency(Duration::from_millis(200));
    let (a, b) = (cluster.replica(), cluster.replica());
    let holder = refresh(&a, "r0");
    let waiter = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        // The waiter's own exchange answers faster than the holder's.
        cluster.set_latency(Duration::from_millis(1));
        let store = Arc::clone(&cluster.store);
        let expire = async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            store.expire_lock(&key);
        };
        let (outcome, ()) = tokio::join!(refresh(&b, "r0"), expire);
        outcome
    };
    let (x, y) = tokio::join!(holder, waiter);
    assert_eq!(new_token(&x), "r0+");
    let e = y.expect_err("refused");
    assert!(
        matches!(e, RefreshError::Unconfirmed(_)) && !e.ends_session(),
        "{e:?}"
    );
}

/// The store does not answer at all: each replica exchanges on its own, and the one
/// WorkOS refuses keeps its cookie (another replica may have spent the token).
#[tokio::test]
async fn a_store_that_does_not_answer_never_signs_anyone_out() {
    let cluster = Cluster::new();
    cluster.store.fail(Command::Result);
    let (a, b) = (cluster.replica(), cluster.replica());
    assert_eq!(new_token(&refresh(&a, "r0").await), "r0+");
    let e = refresh(&b, "r0").await.expect_err("spent");
    assert!(
        matches!(e, RefreshError::Unconfirmed(_)) && !e.ends_session(),
        "{e:?}"
    );
    assert_eq!(cluster.exchanges(), 2);

    // Once the store answers again, sharing resumes.
    cluster.store.heal(Command::Result);
    let (c, d) = (cluster.replica(), cluster.replica());
    assert_eq!(new_token(&refresh(&c, "r0+").await), "r0++");
    assert_eq!(new_token(&refresh(&d, "r0+").await), "r0++");
    assert_eq!(cluster.exchanges(), 3);
}

/// Without any store fault, a token WorkOS refuses on the first look ends the session.
#[tokio::test]
async fn a_refusal_nobody_waited_for_ends_the_session() {
    let cluster = Cluster::new();
    cluster
        .workos
        .spent
        .lock()
        .unwrap()
        .insert("revoked".into());
    let e = refresh(&cluster.replica(), "revoked").await.unwrap_err();
    assert!(e.ends_session(), "{e:?}");
}

#[tokio::test]
async fn a_session_signed_out_on_another_replica_is_not_adopted() {
    let cluster = Cluster::new();
    let (a, b) = (cluster.replica(), cluster.replica());
    refresh(&a, "r0").await.unwrap();
    a.0.forget_session("session_1");
    // The marker is written on its own task.
    for _ in 0..50 {
        if cluster.store.calls(Command::MarkEnded) > 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    let e = refresh(&b, "r0").await.unwrap_err();
    assert!(
        matches!(e, RefreshError::Invalid(reason) if reason == SIGNED_OUT_ELSEWHERE),
        "{e:?}"
    );
    assert_eq!(cluster.exchanges(), 1);
}

/// R0 → S1 on one replica, then S1's R1 → S2 on another (an organization switch, say): a
/// third replica still holding R0 gets S2, never S1, whose refresh token is spent.
#[tokio::test]
async fn chains_of_refreshes_are_followed_to_the_newest() {
    let cluster = Cluster::new();
    let (a, b, c) = (cluster.replica(), cluster.replica(), cluster.replica());
    assert_eq!(new_token(&refresh(&a, "r0").await), "r0+");
    assert_eq!(new_token(&refresh(&b, "r0+").await), "r0++");
    assert_eq!(new_token(&refresh(&c, "r0").await), "r0++");
    assert_eq!(cluster.exchanges(), 2);
}

/// What a replica finds published but cannot open (another app's keys) is not adopted:
/// it exchanges itself.
#[tokio::test]
async fn a_publication_this_app_cannot_open_is_ignored() {
    let cluster = Cluster::new();
    let key = StoreNames::new(&passwords()).token("r0");
    cluster
        .store
        .publish(&key, "not a session", GRACE)
        .await
        .unwrap();
    let outcome = refresh(&cluster.replica(), "r0").await;
    assert_eq!(new_token(&outcome), "r0+");
    assert_eq!(cluster.exchanges(), 1);
}

/// Within one process the gate shares the exchange even without a store.
#[tokio::test]
async fn without_a_store_the_gate_alone_shares_the_exchange() {
    let workos = Arc::new(WorkOs::default());
    *workos.latency.lock().unwrap() = Duration::from_millis(30);
    let replica = Replica { workos };
    let refresher = Refresher::new(GRACE, None, &passwords());
    let old = session("r0");
    let run = || refresher.refresh(&replica, &old, None, false);
    let (x, y, z) = tokio::join!(run(), run(), run());
    for outcome in [&x, &y, &z] {
        assert_eq!(new_token(outcome), "r0+");
    }
    assert_eq!(replica.workos.exchanges.load(Ordering::SeqCst), 1);
    assert!(refresher.shared().is_none());
}
