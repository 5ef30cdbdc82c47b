//! WorkOS events: the log every change is recorded in, `GET /events` (the Events API), and
//! the public [`Event`] that tests read.
//!
//! An event is recorded under the store's lock at the moment its change happens, so the
//! log's order is the order of the changes; the same call hands it to the webhook
//! delivery task ([`crate::webhooks`]), which therefore sees events in that order too. The
//! JSON is WorkOS's: `{"object": "event", "id", "event", "data", "created_at"}`, where
//! `data` is the object as the API serves it at that moment (a session, a user, an
//! organization membership).
//!
//! Like WorkOS's Events API, events are kept for 30 days (of the emulator's clock).

use std::collections::VecDeque;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::clock::iso8601;
use super::ids;
use super::paging::{self, Cursor, ListParams, Order};
use super::state::AppState;
use super::urlencoded;
use super::webhooks::{Queue, WebhookStats};
use super::wire::ApiError;

/// How long events stay listed, as in WorkOS's Events API ("events up to 30 days old").
pub(crate) const RETENTION_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// A recorded WorkOS event, as `GET /events` lists it and webhooks deliver it.
///
/// ```no_run
/// # async fn f(emulator: workos_emulator::Emulator) {
/// for event in emulator.events() {
///     println!("{} {} {}", event.created_at, event.event, event.data["id"]);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Event {
    /// Always `"event"`.
    pub object: &'static str,
    /// `event_01…`, unique.
    pub id: String,
    /// The type: `session.created`, `session.revoked`, `user.updated`, `user.deleted`,
    /// `organization_membership.updated`, `organization_membership.deleted`, …
    pub event: String,
    /// The object the event is about, as the API serves it at the time of the event.
    pub data: Value,
    /// When it happened (emulator clock), ISO 8601 with milliseconds and `Z`.
    pub created_at: String,
}

impl Event {
    /// The JSON object (what `GET /events` lists and a webhook's body holds).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// One event in the log.
#[derive(Debug, Clone)]
pub(crate) struct EventRec {
    /// Position in the log: the list order, and what cursors resolve to.
    pub(crate) seq: u64,
    pub(crate) created_ms: i64,
    /// The organization the event belongs to (`data.organization_id`), for the
    /// `organization_id` filter; user events belong to none, as in WorkOS.
    pub(crate) org_id: Option<String>,
    pub(crate) event: Event,
}

/// The log, and where new events are handed for webhook delivery.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    events: VecDeque<EventRec>,
    next_seq: u64,
    webhooks: Option<Queue>,
}

impl EventLog {
    /// Queues every event recorded from now on for webhook delivery.
    pub(crate) fn deliver_to(&mut self, queue: Queue) {
        self.webhooks = Some(queue);
    }

    /// The webhook URL and how deliveries have gone, when webhooks are configured.
    pub(crate) fn webhook_stats(&self) -> Option<(&str, WebhookStats)> {
        self.webhooks.as_ref().map(Queue::stats)
    }

    /// Records an event of type `kind` about `data`, at `now_ms`.
    pub(crate) fn record(&mut self, kind: &str, data: Value, now_ms: i64) -> Event {
        // A long-running emulator forgets what WorkOS would no longer list.
        while self
            .events
            .front()
            .is_some_and(|e| e.created_ms.saturating_add(RETENTION_MS) <= now_ms)
        {
            self.events.pop_front();
        }
        let org_id = data
            .get("organization_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.next_seq += 1;
        // The change has happened: its event is recorded even if the system's random
        // source fails, under an id derived from its position (unique all the same).
        let id = ids::new_id("event", now_ms)
            .unwrap_or_else(|_| ids::stable_id("event", &format!("{now_ms}/{}", self.next_seq)));
        let event = Event {
            object: "event",
            id,
            event: kind.to_owned(),
            data,
            created_at: iso8601(now_ms),
        };
        self.events.push_back(EventRec {
            seq: self.next_seq,
            created_ms: now_ms,
            org_id,
            event: event.clone(),
        });
        if let Some(queue) = &self.webhooks {
            queue.push(event.clone());
        }
        event
    }

    /// Every event still kept, oldest first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &EventRec> {
        self.events.iter()
    }
}

/// The query of `GET /events`, validated.
struct EventQuery {
    types: Vec<String>,
    organization_id: Option<String>,
    range_start: Option<i64>,
    range_end: Option<i64>,
    list: ListParams,
}

fn parse_query(pairs: &[(String, String)]) -> Result<EventQuery, ApiError> {
    // `events=a&events=b` (most clients), `events[]=a` (PHP and Rails style) and
    // `events=a,b` (what `@workos-inc/node` sends: it hands the array to URLSearchParams,
    // which joins it with commas). Event types never contain commas.
    let types: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "events" || k == "events[]")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let one = |key: &str| -> Result<Option<&str>, ApiError> {
        urlencoded::single(pairs, key)
            .map(|v| v.filter(|v| !v.is_empty()))
            .map_err(|()| paging::invalid(key, &format!("{key} may be given once.")))
    };
    let time = |key: &str| -> Result<Option<i64>, ApiError> {
        match one(key)? {
            None => Ok(None),
            Some(text) => parse_iso8601(text).map(Some).ok_or_else(|| {
                paging::invalid(
                    key,
                    &format!("{key} must be an ISO 8601 date-time, like 2026-01-31T12:00:00.000Z."),
                )
            }),
        }
    };
    let range_start = time("range_start")?;
    let range_end = time("range_end")?;
    // When absent, oldest first: what the live Events API answers whatever `order` says
    // (workos/workos-node#1610), and what a poller resuming from a cursor needs.
    let list = ListParams::parse(pairs, Order::Asc)?;
    if range_start.is_some() && list.after.is_some() {
        return Err(paging::invalid(
            "range_start",
            "range_start and after are mutually exclusive.",
        ));
    }
    Ok(EventQuery {
        types,
        organization_id: one("organization_id")?.map(str::to_owned),
        range_start,
        range_end,
        list,
    })
}

/// `GET /events?events&organization_id&range_start&range_end&limit&after&before&order`.
pub(crate) async fn list_events(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let store = app.lock();
    if let Err(e) = super::api::require_api_key(&store, &headers) {
        return e.into_response();
    }
    let Ok(pairs) = urlencoded::parse(query.as_deref().unwrap_or_default()) else {
        return ApiError::message(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The query string is not valid percent-encoded UTF-8.",
        )
        .into_response();
    };
    let query = match parse_query(&pairs) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let now = store.clock.now_ms();
    let kept = |e: &&EventRec| e.created_ms.saturating_add(RETENTION_MS) > now;
    let matching: Vec<&EventRec> = store
        .events
        .all()
        .filter(kept)
        .filter(|e| query.types.is_empty() || query.types.contains(&e.event.event))
        .filter(|e| {
            query
                .organization_id
                .as_deref()
                .is_none_or(|org| e.org_id.as_deref() == Some(org))
        })
        .filter(|e| query.range_start.is_none_or(|t| e.created_ms >= t))
        .filter(|e| query.range_end.is_none_or(|t| e.created_ms < t))
        .collect();
    // A cursor names any event still kept, whatever the filters: a poller keeps the id
    // of the last event it processed, and its next call may ask for other types.
    let resolve = |id: &str| {
        store
            .events
            .all()
            .filter(kept)
            .find(|e| e.event.id == id)
            .map(|e| e.seq)
    };
    let page = match paging::paginate(&matching, |e| e.seq, |e| &e.event.id, resolve, &query.list) {
        Ok(page) => page,
        Err(Cursor(field)) => {
            return paging::invalid(
                field,
                &format!("{field} is not the id of an event of the last 30 days."),
            )
            .into_response()
        }
    };
    let data: Vec<&Event> = page.items.iter().map(|e| &e.event).collect();
    Json(json!({
        "object": "list",
        "data": data,
        "list_metadata": { "before": page.before, "after": page.after },
    }))
    .into_response()
}

/// Milliseconds since the epoch of an ISO 8601 date-time: `2026-01-31T12:00:00Z`, with
/// optional fractional seconds, `Z`, a `±HH:MM` offset or no zone (UTC); a space may stand
/// for the `T`; or a date alone, `2026-01-31`, meaning its midnight UTC.
pub(crate) fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-');
    let year: i64 = digits(parts.next()?, 4)?;
    let month: i64 = digits(parts.next()?, 2)?;
    let day: i64 = digits(parts.next()?, 2)?;
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let Some(rest) = rest else {
        return days.checked_mul(86_400_000);
    };
    let (clock, offset_ms) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (clock, zone) = rest.split_at(i);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (h, m) = zone[1..].split_once(':')?;
        let (h, m): (i64, i64) = (digits(h, 2)?, digits(m, 2)?);
        if h > 23 || m > 59 {
            return None;
        }
        (clock, sign * (h * 60 + m) * 60_000)
    } else {
        // No zone: UTC, as WorkOS itself sometimes writes times.
        (rest, 0)
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let mut hms = hms.split(':');
    let h: i64 = digits(hms.next()?, 2)?;
    let m: i64 = digits(hms.next()?, 2)?;
    let s: i64 = digits(hms.next()?, 2)?;
    if hms.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let millis = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            // Milliseconds: the first three digits, the rest truncated.
            let padded = format!("{f:0<3}");
            padded.get(..3)?.parse::<i64>().ok()?
        }
        Some(_) => return None,
    };
    let ms = days
        .checked_mul(86_400_000)?
        .checked_add(((h * 60 + m) * 60 + s) * 1000 + millis)?;
    ms.checked_sub(offset_ms)
}

/// Exactly `len` ASCII digits.
fn digits(text: &str, len: usize) -> Option<i64> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of the clock's
/// `civil_from_days`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_round_trips_with_the_clock() {
        for ms in [0, 1_735_689_600_000, 951_782_400_123, 4_107_542_399_999, -1] {
            assert_eq!(parse_iso8601(&iso8601(ms)), Some(ms), "{}", iso8601(ms));
        }
        assert_eq!(
            parse_iso8601("2025-01-01T01:00:00+01:00"),
            Some(1_735_689_600_000)
        );
        assert_eq!(
            parse_iso8601("2024-12-31T23:30:00-00:30"),
            Some(1_735_689_600_000)
        );
        assert_eq!(parse_iso8601("2025-01-01"), Some(1_735_689_600_000));
        assert_eq!(
            parse_iso8601("2025-01-01 00:00:00.093"),
            Some(1_735_689_600_093)
        );
        assert_eq!(
            parse_iso8601("2025-01-01 00:00:00.5Z"),
            Some(1_735_689_600_500)
        );
        for bad in [
            "",
            "2025",
            "2025-13-01",
            "2025-02-29",
            "2025-01-01T00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:00:00.Z",
            "2025-01-01T00:00:00+0100",
            "yesterday",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_log_keeps_order_and_forgets_after_30_days() {
        let mut log = EventLog::default();
        let (queue, mut rx) = Queue::for_test();
        log.deliver_to(queue);
        let a = log.record("user.updated", json!({"id": "user_1"}), 1_000);
        let b = log.record(
            "session.created",
            json!({"id": "session_1", "organization_id": "org_1"}),
            2_000,
        );
        assert!(a.id.starts_with("event_"), "{}", a.id);
        assert_eq!(a.id.len(), "event_".len() + 26);
        assert_eq!(a.created_at, "1970-01-01T00:00:01.000Z");
        assert_eq!(rx.try_recv().unwrap(), a);
        assert_eq!(rx.try_recv().unwrap(), b);
        assert_eq!(log.webhook_stats().unwrap().1.pending, 2);
        let recs: Vec<_> = log.all().collect();
        assert_eq!(recs[0].seq + 1, recs[1].seq);
        assert_eq!(recs[0].org_id, None);
        assert_eq!(recs[1].org_id.as_deref(), Some("org_1"));
        let json = b.to_json();
        assert_eq!(json["object"], "event");
        assert_eq!(json["event"], "session.created");
        log.record("user.updated", json!({}), 2_000 + RETENTION_MS);
        assert_eq!(log.all().count(), 1);
    }
}
