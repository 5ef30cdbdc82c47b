//! The Events API poller, for apps that cannot receive webhooks: every interval it asks
//! WorkOS for the session events after its cursor (`GET /events`, oldest first) and applies
//! them, as the webhook route does.
//!
//! The cursor (the last event id applied) is kept in the shared store when there is one,
//! so a restarted replica resumes where the poller stopped; with replicas, one of them
//! polls at a time (the store's lock, renewed each round), the others learn the changes
//! from the store's revocation log. Without a store the cursor lives in memory, and a
//! fresh process starts at the events of the last [`keep`](super::list::RevocationList::keep)
//! period (older ones cannot matter any more). Applying an event twice, or an old one, is
//! harmless: a change applies only to tokens issued before the event.

use super::events::SESSION_EVENTS;
use super::Revocations;
use crate::workos::WorkOsClient;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The poller's lock and cursor names in the store.
const LOCK_LABEL: &str = "events-api-poller";
const CURSOR_LABEL: &str = "events-api-cursor";

/// Polls until the returned task is aborted: every `every`, the session events after the
/// cursor, applied through `revocations`.
pub(crate) fn spawn(
    client: WorkOsClient,
    revocations: Arc<Revocations>,
    keep: Duration,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let owner = format!("{:032x}", rand_u128());
        let mut cursor: Option<String> = None;
        let started = SystemTime::now();
        let mut failing = false;
        loop {
            if let Some(shared) = revocations.shared() {
                let lock = shared.names().value(LOCK_LABEL);
                let store = shared.store();
                let ours = match store.renew(&lock, &owner, every * 3).await {
                    Ok(true) => true,
                    _ => store
                        .try_lock(&lock, &owner, every * 3)
                        .await
                        .map(|a| a.locked)
                        .unwrap_or(true), // a store fault: poll here rather than not at all
                };
                if !ours {
                    tokio::time::sleep(every).await;
                    continue;
                }
                if let Ok(Some(stored)) = store.get_value(&shared.names().value(CURSOR_LABEL)).await
                {
                    cursor = Some(stored).filter(|c| !c.is_empty());
                }
            }
            let since = started.checked_sub(keep).unwrap_or(SystemTime::UNIX_EPOCH);
            match poll_once(&client, &revocations, cursor.as_deref(), since).await {
                Ok((next, full)) => {
                    if failing {
                        tracing::info!("the Events API answers again");
                        failing = false;
                    }
                    if next != cursor {
                        if let (Some(next), Some(shared)) = (&next, revocations.shared()) {
                            let key = shared.names().value(CURSOR_LABEL);
                            if let Err(e) = shared.store().set_value(&key, next).await {
                                tracing::warn!(error = %e, "could not store the Events API cursor");
                            }
                        }
                        cursor = next;
                    }
                    if full {
                        continue; // more are waiting: no pause
                    }
                }
                // The cursor is unknown to WorkOS (its event is older than the 30 days
                // WorkOS keeps, or the store holds another environment's): start again from
                // the recent events.
                Err(e) if cursor.is_some() && e.status().map(|s| s.as_u16()) == Some(422) => {
                    tracing::warn!(error = %e, "the Events API refused the poller's cursor; reading the recent events instead");
                    cursor = None;
                    if let Some(shared) = revocations.shared() {
                        let key = shared.names().value(CURSOR_LABEL);
                        let _ = shared.store().set_value(&key, "").await;
                    }
                    continue;
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "polling the WorkOS Events API failed; retrying");
                        failing = true;
                    }
                }
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// One page of events after `cursor` (or since `since`), applied; the new cursor, and
/// whether the page was full.
async fn poll_once(
    client: &WorkOsClient,
    revocations: &Revocations,
    cursor: Option<&str>,
    since: SystemTime,
) -> Result<(Option<String>, bool), crate::workos::WorkOsError> {
    const PAGE: u8 = 100;
    let since = humantime::format_rfc3339_millis(since).to_string();
    let page = client
        .list_events(SESSION_EVENTS, cursor, Some(&since), PAGE)
        .await?;
    for event in &page.data {
        revocations.apply(event).await;
    }
    let next = page
        .data
        .last()
        .map(|e| e.id.clone())
        .or_else(|| cursor.map(str::to_owned));
    Ok((next, page.data.len() == usize::from(PAGE)))
}

fn rand_u128() -> u128 {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 16];
    let _ = SystemRandom::new().fill(&mut bytes);
    u128::from_le_bytes(bytes)
}
