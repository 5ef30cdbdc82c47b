//! Sessions end when WorkOS says so: revocations and role changes take effect at the next
//! request, on every replica, instead of when the access token expires.
//!
//! Without this wing the layer checks the access token's signature and clock only, so a
//! session revoked in the WorkOS dashboard (or by the Sessions API, a deleted user, a
//! membership removed) keeps working until its token expires — up to the token lifetime,
//! 5 minutes by default — and a role or permission change shows only at the next refresh.
//!
//! - **Events in** ([`webhook`], [`poller`]): WorkOS events arrive as signed webhooks (the
//!   route [`AuthKit::routes`](crate::AuthKit::routes) mounts when
//!   `WORKOS_WEBHOOK_SECRET` is set) or from the Events API, polled by
//!   [`AuthKit::spawn_event_poller`](crate::AuthKit::spawn_event_poller) for apps that
//!   cannot receive webhooks. Either feeds [`Revocations::apply`]; [`events`] says what
//!   each event type changes.
//! - **The list** ([`list`]): which sessions ended and which must refresh, checked on every
//!   request against the verified token's `sid`, `sub`, `org_id` and `iat` — one atomic
//!   load while nothing was ever recorded, a few hash lookups after.
//! - **Across replicas** ([`sharing`]): with a [`RefreshStore`](crate::RefreshStore), what
//!   one replica learns is appended to the store's revocation log, and every replica reads
//!   the log twice a second. Without a store each process keeps its own list: every
//!   replica must then receive the events itself (each polls the Events API, or the
//!   balancer sends each webhook to one replica only — then only that one knows until the
//!   token expires).

pub(crate) mod events;
pub(crate) mod list;
pub(crate) mod poller;
pub(crate) mod sharing;
pub(crate) mod webhook;

use crate::jwt::AccessTokenClaims;
use crate::refresh::RefreshStore;
use crate::workos::Event;
use list::{Change, RevocationList, Verdict};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use events::SESSION_EVENTS;

/// How long a revocation is kept by default: the longest access-token lifetime it may have
/// to outlive (WorkOS's default lifetime is 5 minutes; the dashboard allows longer).
pub(crate) const DEFAULT_KEEP: Duration = Duration::from_secs(60 * 60);

/// What the handle owns for revocations.
#[derive(Debug)]
pub(crate) struct Revocations {
    list: Arc<RevocationList>,
    webhook: Option<webhook::Verifier>,
    shared: Option<sharing::Shared>,
    /// Set once the task reading the shared log runs (started by the first request).
    sync: OnceLock<()>,
}

impl Revocations {
    /// Revocations kept for `keep`, verified with `webhook_secret`, shared through `store`
    /// (names keyed as the refresh store's, see `refresh::publication`).
    pub(crate) fn new(
        keep: Duration,
        webhook_secret: Option<&str>,
        store: Option<(
            Arc<dyn RefreshStore>,
            crate::refresh::publication::StoreNames,
        )>,
    ) -> Self {
        Self {
            list: Arc::new(RevocationList::new(keep)),
            webhook: webhook_secret.map(webhook::Verifier::new),
            shared: store.map(|(store, names)| sharing::Shared::new(store, names)),
            sync: OnceLock::new(),
        }
    }

    /// The webhook verifier, when a webhook secret is configured.
    pub(crate) fn webhook(&self) -> Option<&webhook::Verifier> {
        self.webhook.as_ref()
    }

    /// The shared store, when the replicas have one.
    pub(crate) fn shared(&self) -> Option<&sharing::Shared> {
        self.shared.as_ref()
    }

    /// What applies to a session whose verified access token says `claims`. Starts the
    /// task that reads the other replicas' revocations on first use (it needs the runtime
    /// the requests run on).
    pub(crate) fn verdict(&self, claims: &AccessTokenClaims) -> Verdict {
        if let Some(shared) = &self.shared {
            self.sync
                .get_or_init(|| shared.spawn_reader(Arc::downgrade(&self.list)));
        }
        self.list.verdict(claims)
    }

    /// Applies a WorkOS event (already verified, or from the Events API): records what it
    /// changes here and, with a store, for the other replicas. Returns how many changes it
    /// made.
    pub(crate) async fn apply(&self, event: &Event) -> usize {
        let changes = events::changes(event);
        self.record(&changes).await
    }

    /// Records that these WorkOS sessions ended (signed out everywhere, revoked through
    /// the Sessions API by this app).
    pub(crate) async fn end_sessions(&self, sids: impl IntoIterator<Item = String>) -> usize {
        let changes: Vec<Change> = sids
            .into_iter()
            .map(|sid| Change::SessionEnded { sid })
            .collect();
        self.record(&changes).await
    }

    /// Records that this process refreshed session `sid` for the changes up to `at` (its
    /// new token may be stamped in the same second as the change).
    pub(crate) fn refreshed(&self, sid: String, at: u64) {
        self.list.record(&Change::SessionRefreshed { sid, at });
    }

    async fn record(&self, changes: &[Change]) -> usize {
        for change in changes {
            self.list.record(change);
            if let Some(shared) = &self.shared {
                shared.publish(change).await;
            }
        }
        changes.len()
    }
}
