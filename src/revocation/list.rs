//! [`RevocationList`]: what WorkOS said about sessions, consulted by the layer on every
//! request — which sessions ended, and which must refresh now because their roles or
//! permissions changed.
//!
//! Entries are matched against the request's verified access-token claims: a session id
//! (`sid`), a user (`sub`), a membership (`sub` in `org_id`), an organization (`org_id`)
//! or every session. Except for a revoked session id, an entry applies to tokens issued
//! (`iat`) at or before the event: a token WorkOS issued afterwards already reflects the
//! change, so an event seen late, twice or replayed from a cursor never touches a newer
//! session. Entries are kept for the longest access-token lifetime ([`RevocationList::keep`]):
//! after that every token an entry could apply to has expired, and its refresh asks WorkOS,
//! which knows.

use crate::jwt::AccessTokenClaims;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// The most entries kept per kind (the oldest go first): a flood of events cannot grow the
/// process without bound.
const MAX_ENTRIES: usize = 100_000;

/// One thing WorkOS said, as the list keeps it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Change {
    /// The WorkOS session ended (`session.revoked`, or signed out everywhere).
    SessionEnded { sid: String },
    /// The user is gone (`user.deleted`): every session of theirs issued by `at` ends.
    UserDeleted { user_id: String, at: u64 },
    /// The user left the organization (`organization_membership.deleted`): their sessions
    /// in it issued by `at` end.
    MembershipDeleted {
        user_id: String,
        organization_id: String,
        at: u64,
    },
    /// The user changed (`user.updated`): their sessions issued by `at` refresh.
    UserChanged { user_id: String, at: u64 },
    /// The user's role in the organization changed (`organization_membership.updated`):
    /// their sessions in it issued by `at` refresh.
    MembershipChanged {
        user_id: String,
        organization_id: String,
        at: u64,
    },
    /// An organization's roles changed (`organization_role.*`): every session in it issued
    /// by `at` refreshes.
    OrganizationChanged { organization_id: String, at: u64 },
    /// This process refreshed session `sid` for the changes up to `at`: its new token may
    /// carry `iat == at` (tokens are stamped in whole seconds), and must not refresh again.
    SessionRefreshed { sid: String, at: u64 },
    /// The environment's roles or permissions changed (`role.*`, `permission.*`): every
    /// session issued by `at` refreshes.
    EverythingChanged { at: u64 },
}

/// What the list says about one request's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing applies.
    Valid,
    /// WorkOS ended it: signed out, cookie deleted.
    Ended,
    /// Its roles or permissions changed by `at`: refresh now (once; then record
    /// [`Change::SessionRefreshed`]).
    Refresh {
        /// The latest change that applies (Unix seconds).
        at: u64,
    },
}

#[derive(Default)]
struct Entries {
    ended_sessions: HashMap<String, Instant>,
    deleted_users: HashMap<String, (u64, Instant)>,
    /// By organization, then user (looked up with the claims' own `&str`s: no allocation
    /// per request).
    deleted_memberships: HashMap<String, HashMap<String, (u64, Instant)>>,
    changed_users: HashMap<String, (u64, Instant)>,
    changed_memberships: HashMap<String, HashMap<String, (u64, Instant)>>,
    changed_organizations: HashMap<String, (u64, Instant)>,
    everything: Option<(u64, Instant)>,
    /// Sessions refreshed for the changes up to a time.
    refreshed_sessions: HashMap<String, (u64, Instant)>,
}

/// The process's list (shared across replicas by [`super::sharing`] when a store is set).
pub(crate) struct RevocationList {
    entries: RwLock<Entries>,
    /// Set once anything was recorded: until then a request costs one atomic load.
    active: AtomicBool,
    keep: Duration,
}

impl std::fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationList")
            .field("keep", &self.keep)
            .finish_non_exhaustive()
    }
}

/// Keeps `map` under [`MAX_ENTRIES`] by dropping expired entries, then the soonest to
/// expire.
fn bound<K: Clone + std::hash::Hash + Eq, V>(
    map: &mut HashMap<K, V>,
    until: impl Fn(&V) -> Instant,
) {
    if map.len() < MAX_ENTRIES {
        return;
    }
    let now = Instant::now();
    map.retain(|_, v| until(v) > now);
    if map.len() >= MAX_ENTRIES {
        let mut by_age: Vec<(Instant, K)> =
            map.iter().map(|(k, v)| (until(v), k.clone())).collect();
        by_age.sort_by_key(|(at, _)| *at);
        for (_, k) in by_age.into_iter().take(MAX_ENTRIES / 10) {
            map.remove(&k);
        }
    }
}

/// The later of two marks for one key (an older event must not undo a newer one).
fn later(slot: &mut (u64, Instant), at: u64, until: Instant) {
    if at >= slot.0 {
        *slot = (at, until);
    } else {
        slot.1 = slot.1.max(until);
    }
}

impl RevocationList {
    /// An empty list whose entries live `keep` (the longest access-token lifetime).
    pub(crate) fn new(keep: Duration) -> Self {
        Self {
            entries: RwLock::default(),
            active: AtomicBool::new(false),
            keep,
        }
    }

    /// Records `change`; `true` if it was new (not already known).
    pub(crate) fn record(&self, change: &Change) -> bool {
        let until = Instant::now() + self.keep;
        let mut e = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let new = match change {
            Change::SessionEnded { sid } => {
                bound(&mut e.ended_sessions, |v| *v);
                e.ended_sessions.insert(sid.clone(), until).is_none()
            }
            Change::UserDeleted { user_id, at } => {
                bound(&mut e.deleted_users, |v| v.1);
                mark(&mut e.deleted_users, user_id.clone(), *at, until)
            }
            Change::MembershipDeleted {
                user_id,
                organization_id,
                at,
            } => {
                let members = e
                    .deleted_memberships
                    .entry(organization_id.clone())
                    .or_default();
                bound(members, |v| v.1);
                mark(members, user_id.clone(), *at, until)
            }
            Change::UserChanged { user_id, at } => {
                bound(&mut e.changed_users, |v| v.1);
                mark(&mut e.changed_users, user_id.clone(), *at, until)
            }
            Change::MembershipChanged {
                user_id,
                organization_id,
                at,
            } => {
                let members = e
                    .changed_memberships
                    .entry(organization_id.clone())
                    .or_default();
                bound(members, |v| v.1);
                mark(members, user_id.clone(), *at, until)
            }
            Change::OrganizationChanged {
                organization_id,
                at,
            } => {
                bound(&mut e.changed_organizations, |v| v.1);
                mark(
                    &mut e.changed_organizations,
                    organization_id.clone(),
                    *at,
                    until,
                )
            }
            Change::SessionRefreshed { sid, at } => {
                bound(&mut e.refreshed_sessions, |v| v.1);
                mark(&mut e.refreshed_sessions, sid.clone(), *at, until)
            }
            Change::EverythingChanged { at } => match &mut e.everything {
                Some(slot) if slot.0 >= *at => false,
                slot => {
                    *slot = Some((*at, until));
                    true
                }
            },
        };
        self.active.store(true, Ordering::Release);
        new
    }

    /// What applies to a session whose verified access token says `claims`.
    pub(crate) fn verdict(&self, claims: &AccessTokenClaims) -> Verdict {
        if !self.active.load(Ordering::Acquire) {
            return Verdict::Valid;
        }
        let e = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let live = |until: Instant| until > now;
        let covers = |entry: Option<&(u64, Instant)>| {
            entry.is_some_and(|(at, until)| live(*until) && claims.iat <= *at)
        };
        if e.ended_sessions.get(&claims.sid).is_some_and(|u| live(*u))
            || covers(e.deleted_users.get(&claims.sub))
        {
            return Verdict::Ended;
        }
        fn member<'m>(
            map: &'m HashMap<String, HashMap<String, (u64, Instant)>>,
            claims: &AccessTokenClaims,
        ) -> Option<&'m (u64, Instant)> {
            map.get(claims.org_id.as_deref()?)?.get(&claims.sub)
        }
        if covers(member(&e.deleted_memberships, claims)) {
            return Verdict::Ended;
        }
        // The latest change that applies to this token, if any.
        let applies = |entry: Option<&(u64, Instant)>| {
            entry
                .filter(|(at, until)| live(*until) && claims.iat <= *at)
                .map(|(at, _)| *at)
        };
        let latest = [
            applies(e.changed_users.get(&claims.sub)),
            applies(member(&e.changed_memberships, claims)),
            applies(
                claims
                    .org_id
                    .as_deref()
                    .and_then(|org| e.changed_organizations.get(org)),
            ),
            applies(e.everything.as_ref()),
        ]
        .into_iter()
        .flatten()
        .max();
        match latest {
            Some(at)
                if !e
                    .refreshed_sessions
                    .get(&claims.sid)
                    .is_some_and(|(done, until)| live(*until) && *done >= at) =>
            {
                Verdict::Refresh { at }
            }
            _ => Verdict::Valid,
        }
    }
}

/// Records a mark `at` for `key`; `true` if it is newer than what was there.
fn mark<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, (u64, Instant)>,
    key: K,
    at: u64,
    until: Instant,
) -> bool {
    match map.get_mut(&key) {
        Some(slot) => {
            let newer = at > slot.0;
            later(slot, at, until);
            newer
        }
        None => {
            map.insert(key, (at, until));
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sid: &str, sub: &str, org: Option<&str>, iat: u64) -> AccessTokenClaims {
        serde_json::from_value(serde_json::json!({
            "iss": "https://api.workos.com", "sub": sub, "sid": sid, "jti": "j",
            "org_id": org, "exp": iat + 300, "iat": iat,
        }))
        .unwrap()
    }

    fn list() -> RevocationList {
        RevocationList::new(Duration::from_secs(3600))
    }

    #[test]
    fn an_empty_list_lets_everything_through() {
        assert_eq!(
            list().verdict(&claims("s", "u", Some("o"), 10)),
            Verdict::Valid
        );
    }

    #[test]
    fn an_ended_session_ends_whatever_its_token() {
        let l = list();
        assert!(l.record(&Change::SessionEnded { sid: "s1".into() }));
        assert!(
            !l.record(&Change::SessionEnded { sid: "s1".into() }),
            "known"
        );
        assert_eq!(l.verdict(&claims("s1", "u", None, 10)), Verdict::Ended);
        assert_eq!(l.verdict(&claims("s1", "u", None, 10_000)), Verdict::Ended);
        assert_eq!(l.verdict(&claims("s2", "u", None, 10)), Verdict::Valid);
    }

    #[test]
    fn a_deleted_user_or_membership_ends_only_tokens_issued_by_then() {
        let l = list();
        l.record(&Change::UserDeleted {
            user_id: "u1".into(),
            at: 100,
        });
        assert_eq!(l.verdict(&claims("s", "u1", None, 100)), Verdict::Ended);
        assert_eq!(l.verdict(&claims("s", "u1", None, 101)), Verdict::Valid);
        l.record(&Change::MembershipDeleted {
            user_id: "u2".into(),
            organization_id: "acme".into(),
            at: 100,
        });
        assert_eq!(
            l.verdict(&claims("s", "u2", Some("acme"), 50)),
            Verdict::Ended
        );
        assert_eq!(
            l.verdict(&claims("s", "u2", Some("globex"), 50)),
            Verdict::Valid,
            "the user's sessions in other organizations go on"
        );
        assert_eq!(
            l.verdict(&claims("s", "u2", Some("acme"), 150)),
            Verdict::Valid,
            "a session started after the event (re-invited) is not touched"
        );
    }

    #[test]
    fn changes_make_older_tokens_refresh_once() {
        let l = list();
        l.record(&Change::MembershipChanged {
            user_id: "u".into(),
            organization_id: "acme".into(),
            at: 100,
        });
        assert_eq!(
            l.verdict(&claims("s", "u", Some("acme"), 90)),
            Verdict::Refresh { at: 100 }
        );
        assert_eq!(
            l.verdict(&claims("s", "u", Some("acme"), 101)),
            Verdict::Valid,
            "the refreshed token is newer: once"
        );
        l.record(&Change::OrganizationChanged {
            organization_id: "globex".into(),
            at: 100,
        });
        assert_eq!(
            l.verdict(&claims("s", "v", Some("globex"), 90)),
            Verdict::Refresh { at: 100 }
        );
        l.record(&Change::UserChanged {
            user_id: "w".into(),
            at: 100,
        });
        assert_eq!(
            l.verdict(&claims("s", "w", None, 90)),
            Verdict::Refresh { at: 100 }
        );
        l.record(&Change::EverythingChanged { at: 200 });
        assert_eq!(
            l.verdict(&claims("s", "x", None, 150)),
            Verdict::Refresh { at: 200 }
        );
        assert_eq!(l.verdict(&claims("s", "x", None, 250)), Verdict::Valid);
    }

    /// Tokens are stamped in whole seconds: a session refreshed in the second of the change
    /// gets a token with `iat == at`, which must not refresh again.
    #[test]
    fn a_session_refreshed_for_a_change_is_not_refreshed_again() {
        let l = list();
        l.record(&Change::UserChanged {
            user_id: "u".into(),
            at: 100,
        });
        assert_eq!(
            l.verdict(&claims("s", "u", None, 100)),
            Verdict::Refresh { at: 100 }
        );
        l.record(&Change::SessionRefreshed {
            sid: "s".into(),
            at: 100,
        });
        assert_eq!(l.verdict(&claims("s", "u", None, 100)), Verdict::Valid);
        assert_eq!(
            l.verdict(&claims("other", "u", None, 100)),
            Verdict::Refresh { at: 100 },
            "only that session"
        );
        l.record(&Change::UserChanged {
            user_id: "u".into(),
            at: 130,
        });
        assert_eq!(
            l.verdict(&claims("s", "u", None, 120)),
            Verdict::Refresh { at: 130 },
            "a later change refreshes it again"
        );
    }

    #[test]
    fn an_older_event_never_undoes_a_newer_one() {
        let l = list();
        l.record(&Change::UserChanged {
            user_id: "u".into(),
            at: 200,
        });
        assert!(!l.record(&Change::UserChanged {
            user_id: "u".into(),
            at: 100,
        }));
        assert_eq!(
            l.verdict(&claims("s", "u", None, 150)),
            Verdict::Refresh { at: 200 }
        );
    }

    #[test]
    fn entries_expire_after_the_longest_token_lifetime() {
        let l = RevocationList::new(Duration::from_millis(20));
        l.record(&Change::SessionEnded { sid: "s".into() });
        assert_eq!(l.verdict(&claims("s", "u", None, 1)), Verdict::Ended);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(l.verdict(&claims("s", "u", None, 1)), Verdict::Valid);
    }

    #[test]
    fn the_list_is_bounded() {
        let l = list();
        for i in 0..(MAX_ENTRIES + 10) {
            l.record(&Change::SessionEnded {
                sid: format!("s{i}"),
            });
        }
        let e = l.entries.read().unwrap();
        assert!(e.ended_sessions.len() <= MAX_ENTRIES);
        assert!(e
            .ended_sessions
            .contains_key(&format!("s{}", MAX_ENTRIES + 9)));
    }
}
