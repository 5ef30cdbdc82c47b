//! The test-control endpoints under `/__emulator/`: counters, faults, clock, token
//! lifetime, key rotation and sessions. They mirror the Rust API of
//! [`Emulator`](super::Emulator) for tests written in other languages.
//!
//! The table of endpoints is in the [module docs](super).
//!
//! These endpoints are not authenticated: the emulator binds to loopback by default and
//! every account in it is test data.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::clock::iso8601;
use super::faults::{Endpoint, Fault};
use super::keys::SigningKey;
use super::state::AppState;
use super::wire::ApiError;

fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(ApiError::bad_body)
}

/// `GET /__emulator/counters`.
pub(crate) async fn counters(State(app): State<AppState>) -> Response {
    Json(app.lock().counters.to_json()).into_response()
}

/// `POST /__emulator/counters/reset`.
pub(crate) async fn reset_counters(State(app): State<AppState>) -> Response {
    app.lock().counters = Default::default();
    Json(json!({})).into_response()
}

/// `GET /__emulator/faults`.
pub(crate) async fn list_faults(State(app): State<AppState>) -> Response {
    Json(json!({ "faults": app.lock().faults.to_json() })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    endpoint: String,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    body: Option<serde_json::Value>,
    #[serde(default)]
    delay_ms: Option<u64>,
    #[serde(default)]
    drop: bool,
    #[serde(default)]
    times: Option<u32>,
}

/// `POST /__emulator/faults`.
pub(crate) async fn add_fault(State(app): State<AppState>, bytes: Bytes) -> Response {
    match add_fault_inner(&app, &bytes) {
        Ok(()) => (StatusCode::CREATED, Json(json!({}))).into_response(),
        Err(e) => e.into_response(),
    }
}

fn add_fault_inner(app: &AppState, bytes: &[u8]) -> Result<(), ApiError> {
    let req: FaultRequest = body(bytes)?;
    let invalid = |m: String| ApiError::message(StatusCode::BAD_REQUEST, "invalid_fault", m);
    let endpoint = Endpoint::from_name(&req.endpoint).ok_or_else(|| {
        let names: Vec<_> = Endpoint::ALL.iter().map(|e| e.as_str()).collect();
        invalid(format!(
            "Unknown endpoint `{}`; use one of {}.",
            req.endpoint,
            names.join(", ")
        ))
    })?;
    let mut fault = match (req.status, req.delay_ms, req.drop) {
        (Some(status), None, false) => {
            if !(100..=999).contains(&status) {
                return Err(invalid(format!("status {status} is not an HTTP status.")));
            }
            let mut fault = Fault::status(status);
            if let Some(seconds) = req.retry_after {
                fault = fault.retry_after(seconds);
            }
            if let Some(json) = req.body {
                fault = fault.body(json);
            }
            fault
        }
        (None, Some(ms), false) => Fault::delay(Duration::from_millis(ms)),
        (None, None, true) => Fault::drop_connection(),
        _ => {
            return Err(invalid(
                "Give exactly one of `status`, `delay_ms` or `drop: true`.".to_owned(),
            ))
        }
    };
    if let Some(times) = req.times {
        fault = fault.times(times);
    }
    app.lock().faults.push(endpoint, fault);
    Ok(())
}

/// `DELETE /__emulator/faults`.
pub(crate) async fn clear_faults(State(app): State<AppState>) -> Response {
    app.lock().faults.clear();
    Json(json!({})).into_response()
}

fn clock_json(app: &AppState) -> serde_json::Value {
    let store = app.lock();
    json!({
        "now": iso8601(store.clock.now_ms()),
        "offset_seconds": store.clock.offset_ms() / 1000,
    })
}

/// `GET /__emulator/clock`.
pub(crate) async fn clock(State(app): State<AppState>) -> Response {
    Json(clock_json(&app)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    advance_seconds: i64,
}

/// `POST /__emulator/clock`.
pub(crate) async fn move_clock(State(app): State<AppState>, bytes: Bytes) -> Response {
    match body::<ClockRequest>(&bytes) {
        Ok(req) => {
            app.lock()
                .clock
                .shift_ms(req.advance_seconds.saturating_mul(1000));
            Json(clock_json(&app)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TtlRequest {
    seconds: u64,
}

/// `POST /__emulator/token_ttl`.
pub(crate) async fn token_ttl(State(app): State<AppState>, bytes: Bytes) -> Response {
    match body::<TtlRequest>(&bytes) {
        Ok(req) => {
            app.lock().settings.token_ttl = Duration::from_secs(req.seconds);
            Json(json!({ "seconds": req.seconds })).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /__emulator/keys/rotate`.
pub(crate) async fn rotate_key(State(app): State<AppState>) -> Response {
    match tokio::task::spawn_blocking(SigningKey::generate).await {
        Ok(Ok(key)) => {
            let kid = app.lock().rotate_key(key);
            Json(json!({ "kid": kid })).into_response()
        }
        _ => ApiError::message(
            StatusCode::SERVICE_UNAVAILABLE,
            "key_generation_failed",
            "Could not generate a new signing key; try again.",
        )
        .into_response(),
    }
}

/// `POST /__emulator/keys/retire`.
pub(crate) async fn retire_keys(State(app): State<AppState>) -> Response {
    let mut store = app.lock();
    store.retired_keys.clear();
    Json(json!({ "kid": store.signing_key.kid() })).into_response()
}

/// `GET /__emulator/sessions`: how many sessions are active, and each of them (id, user,
/// organization), oldest first — so a test in any language can end one through the
/// Sessions API (`POST /user_management/sessions/revoke`).
pub(crate) async fn sessions(State(app): State<AppState>) -> Response {
    let store = app.lock();
    let now = store.clock.now_ms();
    let mut active: Vec<_> = store
        .sessions
        .values()
        .filter(|s| s.is_active(now))
        .collect();
    active.sort_by_key(|s| (s.auth_time, s.id.clone()));
    let list: Vec<_> = active
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "user_id": s.user_id,
                "user_email": store.user(&s.user_id).map(|u| u.email.clone()),
                "organization_id": s.org_id,
            })
        })
        .collect();
    Json(json!({ "active": store.active_sessions(), "sessions": list })).into_response()
}
