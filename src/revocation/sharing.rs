//! Revocations across replicas, through the [`RefreshStore`]'s revocation log: a replica
//! that learns of a change appends it; every replica reads what the others appended twice a
//! second and records it in its own list.
//!
//! When the store fails, each replica keeps its own list and logs a warning (once per
//! outage): a change that arrives meanwhile applies on the replica that received it, and
//! on the others only once their tokens expire and WorkOS refuses the refresh — unless it
//! is appended again (the Events API poller re-reads from its cursor). Reading resumes at
//! the cursor when the store is back, so nothing appended is skipped.

use super::list::{Change, RevocationList};
use crate::refresh::publication::StoreNames;
use crate::refresh::RefreshStore;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often each replica reads the log.
pub(crate) const READ_EVERY: Duration = Duration::from_millis(500);

/// A shared store, as the revocation wing uses it.
pub(crate) struct Shared {
    store: Arc<dyn RefreshStore>,
    names: StoreNames,
    /// Whether the last append failed (so the warning is logged once per outage).
    append_failing: Arc<AtomicBool>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("store", &self.store.describe())
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn new(store: Arc<dyn RefreshStore>, names: StoreNames) -> Self {
        Self {
            store,
            names,
            append_failing: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The store.
    pub(crate) fn store(&self) -> &dyn RefreshStore {
        &*self.store
    }

    /// How the store's keys are named.
    pub(crate) fn names(&self) -> &StoreNames {
        &self.names
    }

    /// Appends `change` for the other replicas.
    pub(crate) async fn publish(&self, change: &Change) {
        let Ok(entry) = serde_json::to_string(change) else {
            return;
        };
        match self.store.log_append(&entry).await {
            Ok(()) => {
                if self.append_failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("the shared revocation log takes entries again");
                }
            }
            Err(e) => {
                if !self.append_failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %e,
                        "the shared revocation log is unavailable; what WorkOS says applies on this replica only until it is back"
                    );
                }
            }
        }
    }

    /// Starts the task that reads the log into `list` every [`READ_EVERY`], from the start
    /// of what the log keeps (a replica that starts late still learns the recent
    /// changes). It ends with the handle (`list` dropped), and does nothing outside a
    /// tokio runtime.
    pub(crate) fn spawn_reader(&self, list: Weak<RevocationList>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = Arc::clone(&self.store);
        runtime.spawn(async move {
            let mut cursor: Option<String> = None;
            let mut failing = false;
            loop {
                let Some(list) = list.upgrade() else {
                    return;
                };
                match store.log_read(cursor.as_deref()).await {
                    Ok((entries, next)) => {
                        if failing {
                            tracing::info!("reading the shared revocation log again");
                            failing = false;
                        }
                        for entry in entries {
                            match serde_json::from_str::<Change>(&entry) {
                                Ok(change) => {
                                    list.record(&change);
                                }
                                Err(e) => tracing::debug!(error = %e, "skipping an unreadable revocation log entry"),
                            }
                        }
                        if next.is_some() {
                            cursor = next;
                        }
                    }
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "cannot read the shared revocation log; this replica knows only what it receives itself until it is back");
                            failing = true;
                        }
                    }
                }
                drop(list);
                tokio::time::sleep(READ_EVERY).await;
            }
        });
    }
}
