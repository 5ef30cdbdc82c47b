//! [`Refresher`]: what the `AuthKit` handle owns for refreshing — the in-process gate and,
//! when replicas share one, the [`RefreshStore`] — and the one entry point every refresh
//! goes through ([`Refresher::refresh`]).

use super::gate::RefreshGate;
use super::outcome::{RefreshError, RefreshOutcome};
use super::publication::StoreNames;
use super::shared::{self, token_key, Exchanger};
use super::store::RefreshStore;
use crate::config::PasswordMap;
use crate::session::Session;
use std::sync::Arc;
use std::time::Duration;

/// The gate (and store) a handle refreshes through.
#[derive(Debug)]
pub(crate) struct Refresher {
    gate: RefreshGate<RefreshOutcome>,
    store: Option<Arc<dyn RefreshStore>>,
    /// How the store's keys are named (keyed digests).
    names: StoreNames,
    /// How long a finished refresh keeps answering late requests (here and in the store).
    grace: Duration,
}

impl Refresher {
    /// A refresher that remembers results for `grace`, sharing them through `store` when
    /// given, under names keyed by the app's cookie `passwords`.
    pub(crate) fn new(
        grace: Duration,
        store: Option<Arc<dyn RefreshStore>>,
        passwords: &PasswordMap,
    ) -> Self {
        Self {
            gate: RefreshGate::new(grace),
            store,
            names: StoreNames::new(passwords),
            grace,
        }
    }

    /// The shared store (and its names), if the replicas have one.
    pub(crate) fn shared(&self) -> Option<shared::Store<'_>> {
        self.store.as_deref().map(|store| shared::Store {
            store,
            names: &self.names,
        })
    }

    /// Exchanges `session`'s refresh token, sharing one exchange among concurrent callers
    /// holding the same token (the gate; with a store, across replicas). When the shared
    /// exchange went to another organization than an explicitly `requested` one (a
    /// proactive refresh racing an organization switch), the new token is exchanged once
    /// more into it. An organization only carried over from the old token is not
    /// requested: a session that was switched meanwhile stays switched.
    pub(crate) async fn refresh<E: Exchanger>(
        &self,
        exchanger: &E,
        session: &Session,
        organization_id: Option<&str>,
        requested: bool,
    ) -> RefreshOutcome {
        let outcome = self.refresh_once(exchanger, session, organization_id).await;
        match outcome {
            Ok(update)
                if requested
                    && organization_id.is_some()
                    && update.claims.org_id.as_deref() != organization_id =>
            {
                self.refresh_once(exchanger, &update.session, organization_id)
                    .await
            }
            other => other,
        }
    }

    async fn refresh_once<E: Exchanger>(
        &self,
        exchanger: &E,
        session: &Session,
        organization_id: Option<&str>,
    ) -> RefreshOutcome {
        let key = token_key(&session.refresh_token);
        let spent = session.refresh_token.clone();
        let store = self.store.clone();
        let names = self.names.clone();
        let grace = self.grace;
        let run = {
            let exchanger = exchanger.clone();
            let session = session.clone();
            let org = organization_id.map(str::to_owned);
            move || async move {
                match store {
                    Some(store) => {
                        let shared = shared::Store {
                            store: &*store,
                            names: &names,
                        };
                        shared::exchange(shared, grace, exchanger, session, org).await
                    }
                    None => exchanger.exchange(session, org).await,
                }
            }
        };
        let outcome = self
            .gate
            .run(
                key,
                run,
                // An unconfirmed refusal is remembered too: asking WorkOS again with the
                // same spent token would get the same answer (and count against limits).
                |r| matches!(r, Ok(_) | Err(RefreshError::Unconfirmed(_))),
            )
            .await
            .unwrap_or(Err(RefreshError::Interrupted));
        // This process's memory may be behind the other replicas': the session may have
        // been refreshed again or signed out elsewhere.
        let outcome = match (outcome, self.shared()) {
            (Ok(update), Some(shared)) => shared::newest(shared, exchanger, session, update).await,
            (outcome, _) => outcome,
        };
        // A chain (R0 → S1 remembered, then S1's token R1 → S2, e.g. an organization
        // switch): late holders of R0 must get S2, never S1, whose refresh token is spent.
        if outcome.is_ok() {
            self.gate.replace_where(
                |remembered| matches!(remembered, Ok(u) if u.session.refresh_token == spent),
                &outcome,
            );
        }
        outcome
    }

    /// Forgets every remembered refresh into WorkOS session `sid` (a sign-out): no
    /// earlier cookie of that session can be traded for a newer one afterwards.
    pub(crate) fn forget_session(&self, sid: &str) {
        self.gate
            .forget_where(|outcome| matches!(outcome, Ok(update) if update.claims.sid == sid));
        if let Some(store) = self.store.clone() {
            let sid = self.names.session(sid);
            let grace = self.grace;
            // On its own task: signing out answers at once; the marker lands within one
            // command timeout.
            tokio::spawn(async move {
                if let Err(e) = store.mark_ended(&sid, grace).await {
                    tracing::warn!(error = %e, "could not record the sign-out in the shared refresh store");
                }
            });
        }
    }

    /// Forgets a remembered refresh of this session's token (after signing out).
    pub(crate) fn forget_refresh(&self, refresh_token: &str) {
        self.gate.forget(&token_key(refresh_token));
        if let Some(store) = self.store.clone() {
            let key = self.names.token(refresh_token);
            tokio::spawn(async move {
                if let Err(e) = store.forget(&[key]).await {
                    tracing::warn!(error = %e, "could not forget a refresh in the shared refresh store");
                }
            });
        }
    }
}
