//! Which WorkOS events change sessions, and how ([`changes`]): the one place that reads
//! an event's type and data, whether it came as a webhook or from the Events API.

use super::list::Change;
use crate::workos::Event;

/// The event types that end sessions or change what they allow (what the Events API
/// poller asks for, and what a webhook endpoint in the WorkOS dashboard should send).
pub const SESSION_EVENTS: &[&str] = &[
    "session.revoked",
    "user.deleted",
    "user.updated",
    "organization_membership.deleted",
    "organization_membership.updated",
    "organization_membership.created",
    "organization_role.created",
    "organization_role.updated",
    "organization_role.deleted",
    "role.created",
    "role.updated",
    "role.deleted",
    "permission.created",
    "permission.updated",
    "permission.deleted",
];

/// When an event happened, in Unix seconds (its `created_at`, ISO 8601, as WorkOS writes
/// it: `2026-12-05T10:00:00.123Z`, or with a space for the `T` and no zone).
pub(crate) fn event_time(created_at: &str) -> Option<u64> {
    let at = humantime::parse_rfc3339_weak(created_at.trim()).ok()?;
    at.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

/// What `event` changes about sessions (nothing, for the types that do not matter or a
/// payload without the ids needed). Events without a readable time are taken as of now:
/// every token issued until now is affected, which errs on the safe side.
pub(crate) fn changes(event: &Event) -> Vec<Change> {
    let at = event_time(&event.created_at).unwrap_or_else(crate::jwt::unix_now);
    let field = |name: &str| {
        event
            .data
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let id = || field("id");
    let membership = || Some((field("user_id")?, field("organization_id")?));
    let change = match event.event.as_str() {
        "session.revoked" => id().map(|sid| Change::SessionEnded { sid }),
        "user.deleted" => id().map(|user_id| Change::UserDeleted { user_id, at }),
        "user.updated" => id().map(|user_id| Change::UserChanged { user_id, at }),
        "organization_membership.deleted" => {
            membership().map(|(user_id, organization_id)| Change::MembershipDeleted {
                user_id,
                organization_id,
                at,
            })
        }
        "organization_membership.updated" | "organization_membership.created" => {
            membership().map(|(user_id, organization_id)| Change::MembershipChanged {
                user_id,
                organization_id,
                at,
            })
        }
        "organization_role.created" | "organization_role.updated" | "organization_role.deleted" => {
            field("organization_id").map(|organization_id| Change::OrganizationChanged {
                organization_id,
                at,
            })
        }
        t if t.starts_with("role.") || t.starts_with("permission.") => {
            Some(Change::EverythingChanged { at })
        }
        _ => None,
    };
    change.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, data: serde_json::Value) -> Event {
        serde_json::from_value(serde_json::json!({
            "object": "event", "id": "event_1", "event": kind, "data": data,
            "created_at": "2026-12-05T10:00:00.123Z",
        }))
        .unwrap()
    }

    #[test]
    fn times_are_read_as_workos_writes_them() {
        assert_eq!(event_time("1970-01-01T00:01:40.000Z"), Some(100));
        assert_eq!(event_time("1970-01-01 00:01:40.093"), Some(100));
        assert_eq!(event_time("not a date"), None);
    }

    #[test]
    fn each_event_type_becomes_its_change() {
        let at = event_time("2026-12-05T10:00:00.123Z").unwrap();
        let cases = [
            (
                event(
                    "session.revoked",
                    serde_json::json!({"object": "session", "id": "session_1", "user_id": "u"}),
                ),
                Some(Change::SessionEnded {
                    sid: "session_1".into(),
                }),
            ),
            (
                event(
                    "user.deleted",
                    serde_json::json!({"object": "user", "id": "user_1"}),
                ),
                Some(Change::UserDeleted {
                    user_id: "user_1".into(),
                    at,
                }),
            ),
            (
                event(
                    "organization_membership.deleted",
                    serde_json::json!({"user_id": "u", "organization_id": "o"}),
                ),
                Some(Change::MembershipDeleted {
                    user_id: "u".into(),
                    organization_id: "o".into(),
                    at,
                }),
            ),
            (
                event(
                    "organization_membership.updated",
                    serde_json::json!({"user_id": "u", "organization_id": "o"}),
                ),
                Some(Change::MembershipChanged {
                    user_id: "u".into(),
                    organization_id: "o".into(),
                    at,
                }),
            ),
            (
                event(
                    "organization_role.updated",
                    serde_json::json!({"organization_id": "o", "slug": "admin"}),
                ),
                Some(Change::OrganizationChanged {
                    organization_id: "o".into(),
                    at,
                }),
            ),
            (
                event(
                    "permission.deleted",
                    serde_json::json!({"slug": "posts:write"}),
                ),
                Some(Change::EverythingChanged { at }),
            ),
            (
                event("connection.activated", serde_json::json!({"id": "c"})),
                None,
            ),
            (event("session.revoked", serde_json::json!({})), None),
        ];
        for (event, expected) in cases {
            assert_eq!(
                changes(&event),
                expected.into_iter().collect::<Vec<_>>(),
                "{}",
                event.event
            );
        }
        for kind in SESSION_EVENTS {
            let data = serde_json::json!({"id": "x", "user_id": "u", "organization_id": "o"});
            assert_eq!(changes(&event(kind, data)).len(), 1, "{kind}");
        }
    }
}
