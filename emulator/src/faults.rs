//! Call counters and fault injection, per endpoint.
//!
//! Counters say how many requests each endpoint received — tests and benchmarks use them to
//! prove that refreshes are single-flight and the JWKS is cached. Faults make the next N
//! calls to an endpoint answer with a chosen status (and `Retry-After`), wait before being
//! handled, or lose their connection before any byte of a response is written — the three
//! ways a real WorkOS outage looks to a client.
//!
//! Both are reachable from Rust ([`Emulator::inject_fault`](super::Emulator::inject_fault),
//! [`Emulator::counters`](super::Emulator::counters)) and over HTTP under `/__emulator/`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::time::Duration;

use http::StatusCode;
use serde::Serialize;

/// An emulated WorkOS endpoint, for counters and fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Endpoint {
    /// `GET /user_management/authorize`
    Authorize,
    /// `POST /user_management/authenticate`
    Authenticate,
    /// `GET /sso/jwks/{client_id}`
    Jwks,
    /// `GET /user_management/sessions/logout`
    Logout,
    /// `POST /user_management/sessions/revoke`
    RevokeSession,
    /// `GET /user_management/users/{id}`
    GetUser,
    /// `GET /organizations/{id}`
    GetOrganization,
    /// `GET /user_management/organization_memberships`
    ListOrganizationMemberships,
    /// `POST /api_keys/validations`
    ValidateApiKey,
    /// `GET /health`
    Health,
    /// `GET /events` (the Events API)
    ListEvents,
    /// `GET /user_management/users/{id}/sessions`
    ListSessions,
}

impl Endpoint {
    /// Every endpoint, in a stable order.
    pub const ALL: [Endpoint; 12] = [
        Endpoint::Authorize,
        Endpoint::Authenticate,
        Endpoint::Jwks,
        Endpoint::Logout,
        Endpoint::RevokeSession,
        Endpoint::GetUser,
        Endpoint::GetOrganization,
        Endpoint::ListOrganizationMemberships,
        Endpoint::ValidateApiKey,
        Endpoint::Health,
        Endpoint::ListEvents,
        Endpoint::ListSessions,
    ];

    /// The name used in `GET /__emulator/counters` and in fault requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorize => "authorize",
            Self::Authenticate => "authenticate",
            Self::Jwks => "jwks",
            Self::Logout => "logout",
            Self::RevokeSession => "revoke_session",
            Self::GetUser => "get_user",
            Self::GetOrganization => "get_organization",
            Self::ListOrganizationMemberships => "list_organization_memberships",
            Self::ValidateApiKey => "validate_api_key",
            Self::Health => "health",
            Self::ListEvents => "list_events",
            Self::ListSessions => "list_sessions",
        }
    }

    /// The endpoint with this name (see [`as_str`](Self::as_str)).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The route pattern this endpoint is served at.
    pub(crate) fn route(self) -> &'static str {
        match self {
            Self::Authorize => "/user_management/authorize",
            Self::Authenticate => "/user_management/authenticate",
            Self::Jwks => "/sso/jwks/{client_id}",
            Self::Logout => "/user_management/sessions/logout",
            Self::RevokeSession => "/user_management/sessions/revoke",
            Self::GetUser => "/user_management/users/{id}",
            Self::GetOrganization => "/organizations/{id}",
            Self::ListOrganizationMemberships => "/user_management/organization_memberships",
            Self::ValidateApiKey => "/api_keys/validations",
            Self::Health => "/health",
            Self::ListEvents => "/events",
            Self::ListSessions => "/user_management/users/{id}/sessions",
        }
    }

    /// The endpoint served at a matched route pattern.
    pub(crate) fn from_route(route: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.route() == route)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `grant_type`s of `POST /user_management/authenticate`, counted separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum GrantType {
    /// `authorization_code`
    AuthorizationCode,
    /// `refresh_token`
    RefreshToken,
    /// `urn:workos:oauth:grant-type:organization-selection`
    OrganizationSelection,
}

impl GrantType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::OrganizationSelection => "urn:workos:oauth:grant-type:organization-selection",
        }
    }
}

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with this status without handling the request.
    Status {
        /// The status.
        status: StatusCode,
        /// `Retry-After` in seconds.
        retry_after: Option<u64>,
        /// The JSON body; a WorkOS-style `{"code", "message"}` when absent.
        body: Option<serde_json::Value>,
    },
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Close the connection without writing a response.
    DropConnection,
}

/// A fault for the next [`times`](Self::times) calls (default 1) to an endpoint.
///
/// ```
/// use workos_emulator::Fault;
/// use std::time::Duration;
///
/// let unavailable = Fault::status(503).retry_after(2).times(3);
/// let slow = Fault::delay(Duration::from_millis(500));
/// let cut = Fault::drop_connection();
/// # let _ = (unavailable, slow, cut);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    kind: FaultKind,
    times: u32,
}

impl Fault {
    /// Answer with `status` (an invalid status code becomes 500).
    pub fn status(status: u16) -> Self {
        Self::with_kind(FaultKind::Status {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            retry_after: None,
            body: None,
        })
    }

    /// Wait `delay` before handling the request.
    pub fn delay(delay: Duration) -> Self {
        Self::with_kind(FaultKind::Delay(delay))
    }

    /// Drop the connection without a response.
    pub fn drop_connection() -> Self {
        Self::with_kind(FaultKind::DropConnection)
    }

    fn with_kind(kind: FaultKind) -> Self {
        Self { kind, times: 1 }
    }

    /// Adds `Retry-After: seconds` to a status fault (ignored for other faults).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        if let FaultKind::Status { retry_after, .. } = &mut self.kind {
            *retry_after = Some(seconds);
        }
        self
    }

    /// Sets the JSON body of a status fault (ignored for other faults).
    pub fn body(mut self, json: serde_json::Value) -> Self {
        if let FaultKind::Status { body, .. } = &mut self.kind {
            *body = Some(json);
        }
        self
    }

    /// Applies to the next `n` calls (at least 1).
    pub fn times(mut self, n: u32) -> Self {
        self.times = n.max(1);
        self
    }

    /// What the fault does.
    pub fn kind(&self) -> &FaultKind {
        &self.kind
    }

    /// How many more calls it applies to.
    pub fn remaining(&self) -> u32 {
        self.times
    }
}

/// A snapshot of the call counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    endpoints: BTreeMap<Endpoint, u64>,
    grants: BTreeMap<GrantType, u64>,
}

impl Counters {
    /// Requests `endpoint` received, including those answered by a fault.
    pub fn get(&self, endpoint: Endpoint) -> u64 {
        self.endpoints.get(&endpoint).copied().unwrap_or(0)
    }

    /// `authenticate` requests with this `grant_type` that reached the handler.
    pub fn grant(&self, grant: GrantType) -> u64 {
        self.grants.get(&grant).copied().unwrap_or(0)
    }

    /// Requests received by all endpoints together.
    pub fn total(&self) -> u64 {
        self.endpoints.values().sum()
    }

    /// The JSON form served at `GET /__emulator/counters`: every endpoint by name, plus
    /// `authenticate.authorization_code` and `authenticate.refresh_token`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for endpoint in Endpoint::ALL {
            map.insert(endpoint.as_str().to_owned(), self.get(endpoint).into());
        }
        for grant in [
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::OrganizationSelection,
        ] {
            map.insert(
                format!("authenticate.{}", grant.as_str()),
                self.grant(grant).into(),
            );
        }
        serde_json::Value::Object(map)
    }

    pub(crate) fn hit(&mut self, endpoint: Endpoint) {
        *self.endpoints.entry(endpoint).or_insert(0) += 1;
    }

    pub(crate) fn hit_grant(&mut self, grant: GrantType) {
        *self.grants.entry(grant).or_insert(0) += 1;
    }
}

/// Pending faults per endpoint, applied first in, first out.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    queues: HashMap<Endpoint, VecDeque<Fault>>,
}

impl Faults {
    pub(crate) fn push(&mut self, endpoint: Endpoint, fault: Fault) {
        self.queues.entry(endpoint).or_default().push_back(fault);
    }

    /// Takes one use of the next fault for `endpoint`, if any.
    pub(crate) fn take(&mut self, endpoint: Endpoint) -> Option<FaultKind> {
        let queue = self.queues.get_mut(&endpoint)?;
        let front = queue.front_mut()?;
        let kind = front.kind.clone();
        front.times = front.times.saturating_sub(1);
        if front.times == 0 {
            queue.pop_front();
        }
        Some(kind)
    }

    pub(crate) fn clear(&mut self) {
        self.queues.clear();
    }

    /// Pending faults, for `GET /__emulator/faults`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut out = Vec::new();
        for endpoint in Endpoint::ALL {
            for fault in self.queues.get(&endpoint).into_iter().flatten() {
                out.push(FaultView::new(endpoint, fault));
            }
        }
        serde_json::to_value(out).unwrap_or_default()
    }
}

#[derive(Serialize)]
struct FaultView {
    endpoint: &'static str,
    times: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u128>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    drop: bool,
}

impl FaultView {
    fn new(endpoint: Endpoint, fault: &Fault) -> Self {
        let mut view = Self {
            endpoint: endpoint.as_str(),
            times: fault.times,
            status: None,
            retry_after: None,
            delay_ms: None,
            drop: false,
        };
        match &fault.kind {
            FaultKind::Status {
                status,
                retry_after,
                ..
            } => {
                view.status = Some(status.as_u16());
                view.retry_after = *retry_after;
            }
            FaultKind::Delay(d) => view.delay_ms = Some(d.as_millis()),
            FaultKind::DropConnection => view.drop = true,
        }
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_in_order_and_run_out() {
        let mut faults = Faults::default();
        faults.push(Endpoint::Jwks, Fault::status(503).times(2));
        faults.push(Endpoint::Jwks, Fault::drop_connection());
        assert!(faults.take(Endpoint::Authenticate).is_none());
        for _ in 0..2 {
            assert!(matches!(
                faults.take(Endpoint::Jwks),
                Some(FaultKind::Status { status, .. }) if status == StatusCode::SERVICE_UNAVAILABLE
            ));
        }
        assert_eq!(faults.take(Endpoint::Jwks), Some(FaultKind::DropConnection));
        assert!(faults.take(Endpoint::Jwks).is_none());
    }

    #[test]
    fn names_round_trip_and_routes_are_unique() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::from_name(e.as_str()), Some(e));
            assert_eq!(Endpoint::from_route(e.route()), Some(e));
        }
        assert_eq!(Endpoint::from_name("nope"), None);
        assert_eq!(Fault::status(42).kind(), Fault::status(500).kind());
    }

    #[test]
    fn counters_serialize_every_endpoint() {
        let mut c = Counters::default();
        c.hit(Endpoint::Jwks);
        c.hit(Endpoint::Jwks);
        c.hit_grant(GrantType::RefreshToken);
        let json = c.to_json();
        assert_eq!(json["jwks"], 2);
        assert_eq!(json["authorize"], 0);
        assert_eq!(json["authenticate.refresh_token"], 1);
        assert_eq!(c.total(), 2);
    }
}
