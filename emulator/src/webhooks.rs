//! Webhook delivery: every recorded event is `POST`ed to the configured URL, signed as
//! WorkOS signs webhooks.
//!
//! The body is the event object, exactly as `GET /events` lists it. The header is
//! `WorkOS-Signature: t=<unix milliseconds>, v1=<signature>`, where the signature is the
//! lowercase hex HMAC-SHA256, keyed with the webhook secret, of `"<t>.<body>"` — what
//! `webhooks.constructEvent` of `@workos-inc/node` verifies (it also refuses a `t` more
//! than three minutes old, so `t` is the system clock at sending, not the emulator's
//! movable clock).
//!
//! One task delivers the events one at a time, in the order they were recorded, so a
//! receiver sees `session.created` before that session's `session.revoked`. The API never
//! waits for it: recording an event only queues it. A delivery that answers anything but
//! 2xx, or fails to connect, or takes longer than ten seconds, is tried again after 100 ms,
//! 500 ms, 2 s and 5 s (five attempts, each signed afresh); after that it counts as
//! failed and the next event goes out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use super::events::Event;
use crate::Secret;

/// The waits between attempts: five attempts in all, the last about 7.6 s after the first.
pub(crate) const RETRY_DELAYS: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(2),
    Duration::from_secs(5),
];

/// How long one attempt may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How webhook deliveries have gone so far ([`Emulator::webhook_stats`](crate::Emulator::webhook_stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookStats {
    /// Events the endpoint accepted (answered 2xx), after however many attempts.
    pub delivered: u64,
    /// Events given up on after every attempt failed.
    pub failed: u64,
    /// `POST`s made, retries included.
    pub attempts: u64,
    /// Events recorded but not yet delivered or given up on.
    pub pending: u64,
}

#[derive(Debug, Default)]
struct Counts {
    delivered: AtomicU64,
    failed: AtomicU64,
    attempts: AtomicU64,
    pending: AtomicU64,
}

impl Counts {
    fn snapshot(&self) -> WebhookStats {
        WebhookStats {
            delivered: self.delivered.load(Ordering::SeqCst),
            failed: self.failed.load(Ordering::SeqCst),
            attempts: self.attempts.load(Ordering::SeqCst),
            pending: self.pending.load(Ordering::SeqCst),
        }
    }
}

/// Where the event log hands events for delivery.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    tx: UnboundedSender<Event>,
    counts: Arc<Counts>,
    url: String,
}

impl Queue {
    /// Queues `event` (never blocks).
    pub(crate) fn push(&self, event: Event) {
        self.counts.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(event).is_err() {
            // The delivery task has stopped: the emulator is shutting down.
            self.counts.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// The endpoint and the counts so far.
    pub(crate) fn stats(&self) -> (&str, WebhookStats) {
        (&self.url, self.counts.snapshot())
    }
}

#[cfg(test)]
impl Queue {
    /// A queue with no delivery task: the test reads what would be delivered.
    pub(crate) fn for_test() -> (Self, UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queue = Self {
            tx,
            counts: Arc::default(),
            url: "http://127.0.0.1:9/".to_owned(),
        };
        (queue, rx)
    }
}

/// The running delivery task, owned by the [`Emulator`](crate::Emulator).
#[derive(Debug)]
pub(crate) struct Delivery {
    counts: Arc<Counts>,
    task: JoinHandle<()>,
}

impl Delivery {
    pub(crate) fn stats(&self) -> WebhookStats {
        self.counts.snapshot()
    }

    /// Stops delivering (events still queued are dropped).
    pub(crate) fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts delivering to `url` with `secret`: the queue to record into, and the task.
pub(crate) fn start(url: url::Url, secret: Secret) -> Result<(Queue, Delivery), String> {
    let client = reqwest::Client::builder()
        // Straight to the URL: a proxy from the environment must not see (or swallow)
        // deliveries meant for a local app.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(ATTEMPT_TIMEOUT)
        .user_agent(concat!(
            "workos-emulator/",
            env!("CARGO_PKG_VERSION"),
            " (webhooks)"
        ))
        .build()
        .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let counts = Arc::new(Counts::default());
    let queue = Queue {
        tx,
        counts: Arc::clone(&counts),
        url: url.to_string(),
    };
    let task = tokio::spawn(deliver_all(client, url, secret, rx, Arc::clone(&counts)));
    Ok((queue, Delivery { counts, task }))
}

async fn deliver_all(
    client: reqwest::Client,
    url: url::Url,
    secret: Secret,
    mut rx: UnboundedReceiver<Event>,
    counts: Arc<Counts>,
) {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
    while let Some(event) = rx.recv().await {
        let delivered = deliver(&client, &url, &key, &event, &counts).await;
        let outcome = if delivered {
            &counts.delivered
        } else {
            tracing::warn!(
                event = %event.id,
                kind = %event.event,
                "webhook delivery to {url} failed after {} attempts",
                RETRY_DELAYS.len() + 1
            );
            &counts.failed
        };
        outcome.fetch_add(1, Ordering::SeqCst);
        counts.pending.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Tries one event until it is accepted or the retries run out.
async fn deliver(
    client: &reqwest::Client,
    url: &url::Url,
    key: &hmac::Key,
    event: &Event,
    counts: &Counts,
) -> bool {
    let body = match serde_json::to_vec(event) {
        Ok(body) => body,
        Err(_) => return false,
    };
    let waits = std::iter::once(Duration::ZERO).chain(RETRY_DELAYS);
    for wait in waits {
        tokio::time::sleep(wait).await;
        counts.attempts.fetch_add(1, Ordering::SeqCst);
        let header = signature_header(key, unix_ms(), &body);
        let sent = client
            .post(url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("WorkOS-Signature", header)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => return true,
            Ok(response) => tracing::debug!(
                event = %event.id,
                status = response.status().as_u16(),
                "webhook endpoint refused the delivery"
            ),
            Err(error) => tracing::debug!(event = %event.id, %error, "webhook delivery failed"),
        }
    }
    false
}

/// `t=<ms>, v1=<hex HMAC-SHA256 of "<ms>.<body>">`.
pub(crate) fn signature_header(key: &hmac::Key, t_ms: u128, body: &[u8]) -> String {
    let mut signed = Vec::with_capacity(body.len() + 24);
    signed.extend_from_slice(t_ms.to_string().as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    let tag = hmac::sign(key, &signed);
    format!("t={t_ms}, v1={}", crate::util::hex(tag.as_ref()))
}

/// Milliseconds since the epoch on the system clock.
fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // The expected value was computed apart from this code (Python's hmac module).
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
        assert_eq!(
            signature_header(&key, 0, b"what do ya want for nothing?"),
            "t=0, v1=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
        let header = signature_header(&key, 1_700_000_000_123, b"{}");
        assert!(header.starts_with("t=1700000000123, v1="), "{header}");
        assert_eq!(header.len(), "t=1700000000123, v1=".len() + 64);
    }
}
