//! The emulator's state and the rules of WorkOS sessions, independent of HTTP.
//!
//! One [`Store`] lives behind one mutex. It holds the seeded directory (users,
//! organizations, memberships, roles, API keys), the authorization codes, sessions and
//! refresh tokens issued so far, the pending hosted sign-in requests, the signing keys,
//! the counters, faults and clock. Its methods enforce the rules a client can observe:
//!
//! - a code is single use, lives ten minutes, and is bound to the client, the redirect URI
//!   and — when one was given — the PKCE challenge;
//! - a refresh token is **single use**: redeeming it returns a new one and the old one is
//!   refused from then on (`invalid_grant`), which is what makes refresh races visible;
//! - ending a session (logout or revoke) makes every refresh token of it unusable;
//! - `organization_id` on a refresh switches the session's organization only for an active
//!   member, and an organization's seeded `switch_error` is raised before anything is used up.
//!
//! Signing happens outside the lock: methods return an [`Issue`] with the claims and the
//! key, and the caller signs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;

use crate::clock::Clock;
use crate::events::EventLog;
use crate::faults::{Counters, Faults};
use crate::ids::{self, RandomError};
use crate::keys::SigningKey;
use crate::pkce;
use crate::seed::{Impersonator, MembershipStatus, MfaStep, Resolved, Seed, SwitchError};

/// How long an authorization code can be redeemed.
pub(crate) const CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// How long a hosted sign-in request stays open.
pub(crate) const PENDING_TTL_MS: i64 = 30 * 60 * 1000;
/// Used refresh tokens are remembered this long (to answer replays with `invalid_grant`).
const USED_TOKEN_MEMORY_MS: i64 = 60 * 60 * 1000;
/// Expired and used-up records are swept after this many issued tokens or codes.
const PRUNE_EVERY: u32 = 1024;
/// How long a session lasts from sign-in (its `expires_at`): a refresh after that is
/// refused, as WorkOS does once a session's maximum length has passed.
pub(crate) const SESSION_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// A user record.
#[derive(Debug, Clone)]
pub(crate) struct UserRec {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) password: Option<SecretString>,
    pub(crate) email_verified: bool,
    pub(crate) profile_picture_url: Option<String>,
    pub(crate) locale: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) entitlements: Vec<String>,
    pub(crate) feature_flags: Vec<String>,
    pub(crate) can_impersonate: bool,
    pub(crate) authentication_method: Option<String>,
    pub(crate) impersonator: Option<Impersonator>,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    pub(crate) last_sign_in_ms: Option<i64>,
    /// The code exchange answers `organization_selection_required` for several memberships.
    pub(crate) organization_selection_required: bool,
    /// The code exchange answers `email_verification_required`.
    pub(crate) email_verification_required: bool,
    /// The code exchange answers `mfa_enrollment` / `mfa_challenge`.
    pub(crate) mfa: Option<MfaStep>,
}

impl UserRec {
    /// "First Last", or whichever is set.
    pub(crate) fn full_name(&self) -> Option<String> {
        match (&self.first_name, &self.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        }
    }
}

/// An organization domain record.
#[derive(Debug, Clone)]
pub(crate) struct DomainRec {
    pub(crate) id: String,
    pub(crate) domain: String,
    pub(crate) state: String,
}

/// An organization record.
#[derive(Debug, Clone)]
pub(crate) struct OrgRec {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) external_id: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) domains: Vec<DomainRec>,
    pub(crate) entitlements: Vec<String>,
    pub(crate) feature_flags: Vec<String>,
    pub(crate) switch_error: Option<SwitchError>,
    pub(crate) created_ms: i64,
}

/// A membership record; `roles[0]` is the primary role.
#[derive(Debug, Clone)]
pub(crate) struct MemberRec {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) org_id: String,
    pub(crate) roles: Vec<String>,
    pub(crate) status: MembershipStatus,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
}

impl MemberRec {
    pub(crate) fn primary_role(&self) -> &str {
        self.roles.first().map_or("member", String::as_str)
    }
}

/// An organization API key record.
#[derive(Debug, Clone)]
pub(crate) struct ApiKeyRec {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) value: Option<SecretString>,
    pub(crate) org_id: Option<String>,
    pub(crate) permissions: Vec<String>,
    pub(crate) created_ms: i64,
}

/// Who gets auto-approved at `authorize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AutoApprove {
    /// Show the hosted sign-in page.
    Off,
    /// The first seeded user (or the `login_hint` user).
    FirstUser,
    /// This user id (or the `login_hint` user).
    User(String),
}

/// Settings fixed at start (the token lifetime and auto-approve can change at run time).
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) client_id: String,
    pub(crate) api_key: SecretString,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) token_ttl: Duration,
    pub(crate) auto_approve: AutoApprove,
    pub(crate) base_url: String,
}

/// What an authorization code stands for.
#[derive(Debug, Clone)]
pub(crate) struct Authorization {
    pub(crate) user_id: String,
    pub(crate) org_id: Option<String>,
    pub(crate) impersonator: Option<Impersonator>,
    pub(crate) method: String,
    pub(crate) code_challenge: Option<String>,
    /// The organizations the user must choose among at the code exchange
    /// (`organization_selection_required`); `None` when the sign-in landed somewhere.
    pub(crate) organization_choices: Option<Vec<String>>,
}

#[derive(Debug)]
struct CodeRec {
    auth: Authorization,
    client_id: String,
    expires_ms: i64,
}

/// A session (what `sid` names).
#[derive(Debug, Clone)]
pub(crate) struct SessionRec {
    pub(crate) id: String,
    /// Creation order: what the Sessions API lists by (the clock can move back).
    pub(crate) seq: u64,
    pub(crate) user_id: String,
    pub(crate) org_id: Option<String>,
    pub(crate) impersonator: Option<Impersonator>,
    pub(crate) method: String,
    pub(crate) auth_time: i64,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    pub(crate) expires_ms: i64,
    /// When it was revoked (logout, the Sessions API, a test control), if it was.
    pub(crate) ended_ms: Option<i64>,
    /// What the app passed to `authenticate` about the browser, if anything.
    pub(crate) client: ClientInfo,
}

impl SessionRec {
    /// WorkOS's `status`: `revoked` once ended, `expired` past `expires_at`, else `active`.
    pub(crate) fn status(&self, now_ms: i64) -> &'static str {
        if self.ended_ms.is_some() {
            "revoked"
        } else if self.expires_ms <= now_ms {
            "expired"
        } else {
            "active"
        }
    }

    /// Whether its refresh tokens still work.
    pub(crate) fn is_active(&self, now_ms: i64) -> bool {
        self.status(now_ms) == "active"
    }
}

/// The browser behind a sign-in, as the app reports it in `authenticate`'s `ip_address`
/// and `user_agent` (WorkOS records them on the session).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientInfo {
    pub(crate) ip_address: Option<String>,
    pub(crate) user_agent: Option<String>,
}

/// A sign-in waiting for one more step, named by its `pending_authentication_token`.
#[derive(Debug, Clone)]
struct PendingAuthRec {
    auth: Authorization,
    client_id: String,
    expires_ms: i64,
}

/// How long a `pending_authentication_token` can be redeemed.
const PENDING_AUTH_TTL_MS: i64 = 10 * 60 * 1000;

/// A step the code exchange requires first, with what its error body carries.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// `email_verification_required`, `mfa_enrollment`, `mfa_challenge` or
    /// `organization_selection_required`.
    pub(crate) code: &'static str,
    pub(crate) token: String,
    pub(crate) user: UserRec,
    /// `(id, name)` of the organizations to choose among.
    pub(crate) organizations: Vec<(String, String)>,
}

#[derive(Debug)]
struct RefreshRec {
    session_id: String,
    used_ms: Option<i64>,
}

/// The parameters of an `authorize` request, validated.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizeParams {
    pub(crate) redirect_uri: String,
    pub(crate) state: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) screen_hint: Option<String>,
    pub(crate) login_hint: Option<String>,
    pub(crate) organization_id: Option<String>,
}

/// A hosted sign-in in progress.
#[derive(Debug, Clone)]
pub(crate) struct PendingRec {
    pub(crate) params: AuthorizeParams,
    pub(crate) created_ms: i64,
    /// Set once the user is known and an organization must still be chosen.
    pub(crate) chosen: Option<Chosen>,
}

/// The user (and how they signed in) of a pending sign-in awaiting an organization choice.
#[derive(Debug, Clone)]
pub(crate) struct Chosen {
    pub(crate) user_id: String,
    pub(crate) impersonator: Option<Impersonator>,
    pub(crate) method: String,
}

/// Why a grant was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum GrantError {
    /// `400 invalid_grant`.
    #[error("{0}")]
    InvalidGrant(String),
    /// `401 invalid_client`.
    #[error("{0}")]
    InvalidClient(String),
    /// The requested organization does not exist or the user is not an active member.
    #[error("{0}")]
    NotMember(String),
    /// The organization's seeded switch error.
    #[error("{error}")]
    Switch {
        /// Which error.
        error: SwitchError,
        /// The organization.
        org_id: String,
        /// The user's email.
        email: String,
    },
    /// The sign-in needs one more step (email verification, MFA, organization selection).
    #[error("{}", .0.code)]
    Step(Box<Step>),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// The `act` claim of an impersonated session.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Act {
    sub: String,
}

/// Access-token claims.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Claims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) sid: String,
    pub(crate) jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) org_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) permissions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) entitlements: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) feature_flags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) act: Option<Act>,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) auth_time: i64,
}

/// Everything needed to answer a successful `authenticate`, once the claims are signed.
/// Not `Debug`: it carries a refresh token.
pub(crate) struct Issue {
    pub(crate) key: Arc<SigningKey>,
    pub(crate) claims: Claims,
    pub(crate) user: UserRec,
    pub(crate) refresh_token: String,
    pub(crate) method: String,
    pub(crate) impersonator: Option<Impersonator>,
}

/// The whole mutable state. Its `Debug` shows counts only: codes and refresh tokens are
/// secrets.
pub(crate) struct Store {
    pub(crate) settings: Settings,
    pub(crate) clock: Clock,
    pub(crate) users: Vec<UserRec>,
    pub(crate) orgs: Vec<OrgRec>,
    pub(crate) memberships: Vec<MemberRec>,
    pub(crate) roles: BTreeMap<String, Vec<String>>,
    pub(crate) api_keys: Vec<ApiKeyRec>,
    codes: HashMap<String, CodeRec>,
    pub(crate) sessions: HashMap<String, SessionRec>,
    refresh_tokens: HashMap<String, RefreshRec>,
    /// Sign-ins waiting for a step, by `pending_authentication_token`.
    pending_auth: HashMap<String, PendingAuthRec>,
    /// Memberships are listed without `organization_name`.
    pub(crate) omit_membership_names: bool,
    pub(crate) pending: HashMap<String, PendingRec>,
    /// The key that signs new tokens.
    pub(crate) signing_key: Arc<SigningKey>,
    /// Keys rotated out but still published, oldest first.
    pub(crate) retired_keys: Vec<Arc<SigningKey>>,
    pub(crate) counters: Counters,
    pub(crate) faults: Faults,
    /// Every WorkOS event so far (`GET /events`, webhooks).
    pub(crate) events: EventLog,
    sessions_opened: u64,
    issued_since_prune: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("settings", &self.settings)
            .field("users", &self.users.len())
            .field("organizations", &self.orgs.len())
            .field("codes", &self.codes.len())
            .field("sessions", &self.sessions.len())
            .field("refresh_tokens", &self.refresh_tokens.len())
            .field("signing_key", &self.signing_key)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Builds the state from a validated seed.
    pub(crate) fn new(
        settings: Settings,
        seed: &Seed,
        resolved: &Resolved,
        key: SigningKey,
    ) -> Self {
        let clock = Clock::default();
        let now = clock.now_ms();
        let users: Vec<UserRec> = seed
            .users
            .iter()
            .zip(&resolved.user_ids)
            .map(|(u, id)| UserRec {
                id: id.clone(),
                email: u.email.trim().to_owned(),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                password: u.password.clone(),
                email_verified: u.email_verified,
                profile_picture_url: u.profile_picture_url.clone(),
                locale: u.locale.clone(),
                external_id: u.external_id.clone(),
                metadata: u.metadata.clone(),
                entitlements: u.entitlements.clone(),
                feature_flags: u.feature_flags.clone(),
                can_impersonate: u.can_impersonate,
                authentication_method: u.authentication_method.clone(),
                impersonator: u.impersonator.clone(),
                created_ms: now,
                updated_ms: now,
                last_sign_in_ms: None,
                organization_selection_required: u.organization_selection.is_some(),
                email_verification_required: u.email_verification.is_some(),
                mfa: u.mfa,
            })
            .collect();
        let orgs: Vec<OrgRec> = seed
            .organizations
            .iter()
            .zip(&resolved.org_ids)
            .map(|(o, id)| OrgRec {
                id: id.clone(),
                name: o.name.trim().to_owned(),
                external_id: o.external_id.clone(),
                metadata: o.metadata.clone(),
                domains: o
                    .domains
                    .iter()
                    .map(|d| DomainRec {
                        id: ids::stable_id("org_domain", &format!("{id}/{}", d.domain)),
                        domain: d.domain.clone(),
                        state: d.state.clone(),
                    })
                    .collect(),
                entitlements: o.entitlements.clone(),
                feature_flags: o.feature_flags.clone(),
                switch_error: o.switch_error,
                created_ms: now,
            })
            .collect();
        let memberships = resolved
            .memberships
            .iter()
            .filter_map(|m| {
                let user_id = resolved.user_ids.get(m.user)?.clone();
                let org_id = resolved.org_ids.get(m.org)?.clone();
                Some(MemberRec {
                    id: ids::stable_id("om", &format!("{user_id}/{org_id}")),
                    user_id,
                    org_id,
                    roles: m.roles.clone(),
                    status: m.status,
                    created_ms: now,
                    updated_ms: now,
                })
            })
            .collect();
        let roles = seed
            .roles
            .iter()
            .map(|r| (r.slug.trim().to_owned(), r.permissions.clone()))
            .collect();
        let api_keys = seed
            .api_keys
            .iter()
            .zip(&resolved.api_key_orgs)
            .map(|(k, org)| ApiKeyRec {
                id: ids::stable_id("api_key", &k.name),
                name: k.name.clone(),
                value: k.value.clone(),
                org_id: org.and_then(|i| resolved.org_ids.get(i).cloned()),
                permissions: k.permissions.clone(),
                created_ms: now,
            })
            .collect();
        Self {
            settings,
            clock,
            users,
            orgs,
            memberships,
            roles,
            api_keys,
            codes: HashMap::new(),
            sessions: HashMap::new(),
            refresh_tokens: HashMap::new(),
            pending_auth: HashMap::new(),
            omit_membership_names: seed.omit_membership_organization_names,
            pending: HashMap::new(),
            signing_key: Arc::new(key),
            retired_keys: Vec::new(),
            counters: Counters::default(),
            faults: Faults::default(),
            events: EventLog::default(),
            sessions_opened: 0,
            issued_since_prune: 0,
        }
    }

    pub(crate) fn user(&self, id: &str) -> Option<&UserRec> {
        self.users.iter().find(|u| u.id == id)
    }

    pub(crate) fn user_by_email(&self, email: &str) -> Option<&UserRec> {
        let email = email.trim();
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub(crate) fn org(&self, id: &str) -> Option<&OrgRec> {
        self.orgs.iter().find(|o| o.id == id)
    }

    /// The user's active memberships, in seed order.
    pub(crate) fn active_memberships(&self, user_id: &str) -> Vec<&MemberRec> {
        self.memberships
            .iter()
            .filter(|m| m.user_id == user_id && m.status == MembershipStatus::Active)
            .collect()
    }

    pub(crate) fn active_membership(&self, user_id: &str, org_id: &str) -> Option<&MemberRec> {
        self.memberships.iter().find(|m| {
            m.user_id == user_id && m.org_id == org_id && m.status == MembershipStatus::Active
        })
    }

    /// The user auto-approve signs in: the `login_hint` user, else the configured one.
    /// `None` when auto-approve is off; `Some(Err(hint))` for an unknown hint.
    pub(crate) fn auto_approve_user(
        &self,
        login_hint: Option<&str>,
    ) -> Option<Result<&UserRec, String>> {
        let fallback = match &self.settings.auto_approve {
            AutoApprove::Off => return None,
            AutoApprove::FirstUser => self.users.first(),
            AutoApprove::User(id) => self.user(id),
        };
        Some(match login_hint.filter(|h| !h.trim().is_empty()) {
            Some(hint) => self.user_by_email(hint).ok_or_else(|| hint.to_owned()),
            None => fallback.ok_or_else(String::new),
        })
    }

    /// The organization a sign-in lands in: the requested one (which the user must be an
    /// active member of), else the only one, else `Ok(None)` for no membership; `Err` lists
    /// the choices when there are several, or names the refused organization.
    pub(crate) fn landing_org(
        &self,
        user_id: &str,
        requested: Option<&str>,
    ) -> Result<Option<String>, Landing> {
        if let Some(org_id) = requested {
            return match self.active_membership(user_id, org_id) {
                Some(m) => Ok(Some(m.org_id.clone())),
                None => Err(Landing::NotMember(org_id.to_owned())),
            };
        }
        let memberships = self.active_memberships(user_id);
        match memberships.as_slice() {
            [] => Ok(None),
            [only] => Ok(Some(only.org_id.clone())),
            many => Err(Landing::Choose(
                many.iter().map(|m| m.org_id.clone()).collect(),
            )),
        }
    }

    /// Stores a new code for `auth`.
    pub(crate) fn issue_code(&mut self, auth: Authorization) -> Result<String, RandomError> {
        self.maybe_prune();
        let code = ids::token(32)?;
        let expires_ms = self.clock.now_ms().saturating_add(CODE_TTL_MS);
        self.codes.insert(
            code.clone(),
            CodeRec {
                auth,
                client_id: self.settings.client_id.clone(),
                expires_ms,
            },
        );
        Ok(code)
    }

    /// Redeems a code (used up by any attempt) and opens a session (`session.created`).
    /// `confidential` says the client authenticated with the API key; `client` is what the
    /// app said about the browser.
    pub(crate) fn redeem_code(
        &mut self,
        code: &str,
        client_id: &str,
        verifier: Option<&str>,
        confidential: bool,
        client: ClientInfo,
    ) -> Result<Issue, GrantError> {
        let invalid =
            || GrantError::InvalidGrant("The code is invalid, expired or already used.".to_owned());
        let rec = self.codes.remove(code).ok_or_else(invalid)?;
        if rec.expires_ms <= self.clock.now_ms() || rec.client_id != client_id {
            return Err(invalid());
        }
        match (&rec.auth.code_challenge, verifier) {
            (Some(_), None) => {
                return Err(GrantError::InvalidGrant(
                    "The code was issued with a PKCE code_challenge; send its code_verifier."
                        .to_owned(),
                ))
            }
            (Some(challenge), Some(verifier)) => {
                if !pkce::verifier_matches(verifier, challenge) {
                    return Err(GrantError::InvalidGrant(
                        "The code_verifier does not match the code_challenge.".to_owned(),
                    ));
                }
            }
            (None, _) if !confidential => {
                return Err(GrantError::InvalidClient(
                    "Send the API key as client_secret (or use PKCE) to redeem this code."
                        .to_owned(),
                ))
            }
            (None, _) => {}
        }
        let auth = rec.auth;
        let Some(user) = self.user(&auth.user_id).cloned() else {
            return Err(invalid());
        };
        // The steps WorkOS asks for before a session, in its order.
        let step = if user.email_verification_required {
            Some("email_verification_required")
        } else if let Some(mfa) = user.mfa {
            Some(match mfa {
                MfaStep::Enrollment => "mfa_enrollment",
                MfaStep::Challenge => "mfa_challenge",
            })
        } else if auth.organization_choices.is_some() {
            Some("organization_selection_required")
        } else {
            None
        };
        if let Some(code) = step {
            return Err(self.pend(code, user, auth, client_id)?);
        }
        self.open_session(auth, client)
    }

    /// Keeps `auth` under a new `pending_authentication_token` and builds the step's error.
    fn pend(
        &mut self,
        code: &'static str,
        user: UserRec,
        auth: Authorization,
        client_id: &str,
    ) -> Result<GrantError, GrantError> {
        let token = ids::token(24)?;
        let organizations = auth
            .organization_choices
            .iter()
            .flatten()
            .filter_map(|id| self.org(id).map(|o| (o.id.clone(), o.name.clone())))
            .collect();
        self.pending_auth.insert(
            token.clone(),
            PendingAuthRec {
                auth,
                client_id: client_id.to_owned(),
                expires_ms: self.clock.now_ms().saturating_add(PENDING_AUTH_TTL_MS),
            },
        );
        Ok(GrantError::Step(Box::new(Step {
            code,
            token,
            user,
            organizations,
        })))
    }

    /// The organization-selection grant: completes a sign-in that answered
    /// `organization_selection_required`, in one of the organizations it offered. The
    /// token is used up by a success; a choice outside the offer is refused without
    /// using it up.
    pub(crate) fn select_organization(
        &mut self,
        token: &str,
        client_id: &str,
        org_id: &str,
        client: ClientInfo,
    ) -> Result<Issue, GrantError> {
        let invalid = || {
            GrantError::InvalidGrant(
                "The pending authentication token is invalid, expired or already used.".to_owned(),
            )
        };
        let now = self.clock.now_ms();
        let rec = self
            .pending_auth
            .get(token)
            .filter(|p| p.expires_ms > now && p.client_id == client_id)
            .cloned()
            .ok_or_else(invalid)?;
        let offered = rec.auth.organization_choices.as_deref().unwrap_or_default();
        if !offered.iter().any(|o| o == org_id) {
            return Err(GrantError::NotMember(format!(
                "Organization `{org_id}` is not one this sign-in can choose."
            )));
        }
        self.require_membership(&rec.auth.user_id, org_id)?;
        self.pending_auth.remove(token);
        let mut auth = rec.auth;
        auth.org_id = Some(org_id.to_owned());
        auth.organization_choices = None;
        self.open_session(auth, client)
    }

    /// Opens a session for a completed sign-in (`session.created`) and issues its tokens.
    fn open_session(
        &mut self,
        auth: Authorization,
        client: ClientInfo,
    ) -> Result<Issue, GrantError> {
        // The membership may have been removed since the sign-in page.
        if let Some(org_id) = &auth.org_id {
            self.require_membership(&auth.user_id, org_id)?;
        }
        let now = self.clock.now_ms();
        self.sessions_opened += 1;
        let session = SessionRec {
            id: ids::new_id("session", now)?,
            seq: self.sessions_opened,
            user_id: auth.user_id.clone(),
            org_id: auth.org_id,
            impersonator: auth.impersonator,
            method: auth.method,
            auth_time: self.clock.now_secs(),
            created_ms: now,
            updated_ms: now,
            expires_ms: now.saturating_add(SESSION_TTL_MS),
            ended_ms: None,
            client,
        };
        if let Some(user) = self.users.iter_mut().find(|u| u.id == auth.user_id) {
            user.last_sign_in_ms = Some(now);
        }
        let id = session.id.clone();
        let data = super::sessions::session_json(&session, now);
        self.sessions.insert(id.clone(), session);
        self.events.record("session.created", data, now);
        self.issue_for_session(&id)
    }

    /// `Ok` when the user is an active member of the organization; the error a refresh
    /// into it answers otherwise (the membership was removed or deactivated).
    fn require_membership(&self, user_id: &str, org_id: &str) -> Result<(), GrantError> {
        match self.active_membership(user_id, org_id) {
            Some(_) => Ok(()),
            None => Err(GrantError::InvalidGrant(format!(
                "The user is no longer a member of organization `{org_id}`."
            ))),
        }
    }

    /// Redeems a refresh token (single use) and rotates it; switches organization when
    /// `org_id` names another organization the user is an active member of.
    pub(crate) fn refresh(
        &mut self,
        token: &str,
        org_id: Option<&str>,
    ) -> Result<Issue, GrantError> {
        let rec = self
            .refresh_tokens
            .get(token)
            .ok_or_else(|| GrantError::InvalidGrant("The refresh token is invalid.".to_owned()))?;
        if rec.used_ms.is_some() {
            return Err(GrantError::InvalidGrant(
                "The refresh token has already been used.".to_owned(),
            ));
        }
        let session_id = rec.session_id.clone();
        let now = self.clock.now_ms();
        let session = self
            .sessions
            .get(&session_id)
            .filter(|s| s.is_active(now))
            .ok_or_else(|| {
                GrantError::InvalidGrant("The session has ended or expired.".to_owned())
            })?;
        let user = self.user(&session.user_id).ok_or_else(|| {
            GrantError::InvalidGrant("The session's user no longer exists.".to_owned())
        })?;
        let switch_to = match org_id {
            Some(requested) if session.org_id.as_deref() != Some(requested) => {
                let org = self.org(requested).ok_or_else(|| {
                    GrantError::NotMember(format!("Organization `{requested}` does not exist."))
                })?;
                if self.active_membership(&user.id, requested).is_none() {
                    return Err(GrantError::NotMember(format!(
                        "The user is not a member of organization `{requested}`."
                    )));
                }
                if let Some(error) = org.switch_error {
                    return Err(GrantError::Switch {
                        error,
                        org_id: org.id.clone(),
                        email: user.email.clone(),
                    });
                }
                Some(requested.to_owned())
            }
            _ => None,
        };
        // Staying in an organization needs the membership still (checked before the
        // token is used up, like the switch errors above).
        if switch_to.is_none() {
            if let Some(org_id) = &session.org_id {
                self.require_membership(&user.id, org_id)?;
            }
        }
        if let Some(rec) = self.refresh_tokens.get_mut(token) {
            rec.used_ms = Some(now);
        }
        if let Some(org) = switch_to {
            if let Some(session) = self.sessions.get_mut(&session_id) {
                session.org_id = Some(org);
            }
        }
        self.issue_for_session(&session_id)
    }

    /// Ends a session (`session.revoked`); its refresh tokens stop working. `false` if
    /// there was none, or it had already ended.
    pub(crate) fn end_session(&mut self, session_id: &str) -> bool {
        let now = self.clock.now_ms();
        let data = match self.sessions.get_mut(session_id) {
            Some(session) if session.ended_ms.is_none() => {
                session.ended_ms = Some(now);
                session.updated_ms = now;
                super::sessions::session_json(session, now)
            }
            _ => return false,
        };
        self.events.record("session.revoked", data, now);
        true
    }

    /// Sessions that have neither ended nor expired.
    pub(crate) fn active_sessions(&self) -> usize {
        let now = self.clock.now_ms();
        self.sessions.values().filter(|s| s.is_active(now)).count()
    }

    /// Mints a refresh token and builds the access-token claims for a session.
    fn issue_for_session(&mut self, session_id: &str) -> Result<Issue, GrantError> {
        let gone = || GrantError::InvalidGrant("The session has ended.".to_owned());
        let session = self.sessions.get(session_id).ok_or_else(gone)?.clone();
        let user = self.user(&session.user_id).ok_or_else(gone)?.clone();
        let now = self.clock.now_secs();
        let ttl = i64::try_from(self.settings.token_ttl.as_secs()).unwrap_or(i64::MAX);

        let mut entitlements = Vec::new();
        let mut flags = Vec::new();
        let (mut role, mut roles, mut permissions) = (None, None, None);
        if let Some(org_id) = &session.org_id {
            if let Some(org) = self.org(org_id) {
                push_unique(&mut entitlements, &org.entitlements);
                push_unique(&mut flags, &org.feature_flags);
            }
            let member_roles = self
                .active_membership(&user.id, org_id)
                .map(|m| m.roles.clone())
                .ok_or_else(|| {
                    GrantError::InvalidGrant(format!(
                        "The user is no longer a member of organization `{org_id}`."
                    ))
                })?;
            let mut perms = Vec::new();
            for slug in &member_roles {
                if let Some(granted) = self.roles.get(slug) {
                    push_unique(&mut perms, granted);
                }
            }
            role = member_roles.first().cloned();
            roles = Some(member_roles);
            permissions = Some(perms);
        }
        push_unique(&mut entitlements, &user.entitlements);
        push_unique(&mut flags, &user.feature_flags);
        let with_org = session.org_id.is_some();
        let claims = Claims {
            iss: format!(
                "{}/user_management/{}",
                self.settings.base_url, self.settings.client_id
            ),
            sub: user.id.clone(),
            sid: session.id.clone(),
            jti: ids::new_id("jti", self.clock.now_ms())?,
            org_id: session.org_id.clone(),
            role,
            roles,
            permissions,
            entitlements: (with_org || !entitlements.is_empty()).then_some(entitlements),
            feature_flags: (with_org || !flags.is_empty()).then_some(flags),
            act: session.impersonator.as_ref().map(|i| Act {
                sub: i.email.clone(),
            }),
            iat: now,
            exp: now.saturating_add(ttl),
            auth_time: session.auth_time,
        };
        let refresh_token = ids::token(32)?;
        self.maybe_prune();
        self.refresh_tokens.insert(
            refresh_token.clone(),
            RefreshRec {
                session_id: session.id.clone(),
                used_ms: None,
            },
        );
        Ok(Issue {
            key: Arc::clone(&self.signing_key),
            claims,
            user,
            refresh_token,
            method: session.method,
            impersonator: session.impersonator,
        })
    }

    /// Every published key: the retired ones, then the signing one.
    pub(crate) fn published_keys(&self) -> impl Iterator<Item = &Arc<SigningKey>> {
        self.retired_keys
            .iter()
            .chain(std::iter::once(&self.signing_key))
    }

    /// Makes `key` the signing key; the previous one stays published.
    pub(crate) fn rotate_key(&mut self, key: SigningKey) -> String {
        let kid = key.kid().to_owned();
        let old = std::mem::replace(&mut self.signing_key, Arc::new(key));
        self.retired_keys.push(old);
        kid
    }

    /// Sweeps every [`PRUNE_EVERY`] calls, so the sweep's cost is amortized.
    fn maybe_prune(&mut self) {
        self.issued_since_prune += 1;
        if self.issued_since_prune >= PRUNE_EVERY {
            self.issued_since_prune = 0;
            self.prune();
        }
    }

    /// Drops expired codes and pending sign-ins, and long-used refresh tokens.
    fn prune(&mut self) {
        let now = self.clock.now_ms();
        self.codes.retain(|_, c| c.expires_ms > now);
        self.pending_auth.retain(|_, p| p.expires_ms > now);
        self.pending
            .retain(|_, p| p.created_ms.saturating_add(PENDING_TTL_MS) > now);
        self.refresh_tokens.retain(|_, r| {
            r.used_ms
                .is_none_or(|used| used.saturating_add(USED_TOKEN_MEMORY_MS) > now)
        });
    }

    /// Opens a hosted sign-in request and returns its id.
    pub(crate) fn open_pending(&mut self, params: AuthorizeParams) -> Result<String, RandomError> {
        self.prune();
        let id = ids::token(24)?;
        self.pending.insert(
            id.clone(),
            PendingRec {
                params,
                created_ms: self.clock.now_ms(),
                chosen: None,
            },
        );
        Ok(id)
    }

    /// A pending sign-in that has not expired.
    pub(crate) fn pending(&self, id: &str) -> Option<&PendingRec> {
        let now = self.clock.now_ms();
        self.pending
            .get(id)
            .filter(|p| p.created_ms.saturating_add(PENDING_TTL_MS) > now)
    }

    /// Adds a user who signed up on the hosted page.
    pub(crate) fn sign_up(
        &mut self,
        email: &str,
        password: &str,
        first_name: Option<String>,
        last_name: Option<String>,
    ) -> Result<String, RandomError> {
        let now = self.clock.now_ms();
        let id = ids::new_id("user", now)?;
        self.users.push(UserRec {
            id: id.clone(),
            email: email.trim().to_owned(),
            first_name,
            last_name,
            password: Some(SecretString::from(password)),
            email_verified: false,
            profile_picture_url: None,
            locale: None,
            external_id: None,
            metadata: BTreeMap::new(),
            entitlements: Vec::new(),
            feature_flags: Vec::new(),
            can_impersonate: false,
            authentication_method: None,
            impersonator: None,
            created_ms: now,
            updated_ms: now,
            last_sign_in_ms: None,
            organization_selection_required: false,
            email_verification_required: false,
            mfa: None,
        });
        if let Some(user) = self.user(&id) {
            let data = crate::wire::user_json(user);
            self.events.record("user.created", data, now);
        }
        Ok(id)
    }
}

/// Why a sign-in cannot land in an organization by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Landing {
    /// Several memberships: the user must choose among these organization ids.
    Choose(Vec<String>),
    /// The requested organization is not one the user is an active member of.
    NotMember(String),
}

fn push_unique(into: &mut Vec<String>, from: &[String]) {
    for item in from {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{SeedOrganization, SeedRole, SeedUser};

    fn store() -> Store {
        let seed = Seed::new()
            .user(SeedUser::new("ada@example.com").feature_flag("ada-beta"))
            .user(SeedUser::new("solo@example.com"))
            .organization(
                SeedOrganization::new("Acme")
                    .id("org_acme")
                    .feature_flag("new-feature")
                    .member("ada@example.com", "admin"),
            )
            .organization(
                SeedOrganization::new("Sso")
                    .id("org_sso")
                    .switch_error(SwitchError::SsoRequired)
                    .member("ada@example.com", "viewer"),
            )
            .role(SeedRole::new("admin").permission("a").permission("b"))
            .role(SeedRole::new("viewer").permission("a"));
        let resolved = seed.resolve().unwrap();
        let settings = Settings {
            client_id: "client_1".to_owned(),
            api_key: SecretString::from("sk_1"),
            redirect_uris: Vec::new(),
            token_ttl: Duration::from_secs(300),
            auto_approve: AutoApprove::Off,
            base_url: "http://127.0.0.1:1".to_owned(),
        };
        Store::new(settings, &seed, &resolved, SigningKey::generate().unwrap())
    }

    fn code_for(
        store: &mut Store,
        email: &str,
        org: Option<&str>,
        challenge: Option<&str>,
    ) -> String {
        let user_id = store.user_by_email(email).unwrap().id.clone();
        store
            .issue_code(Authorization {
                user_id,
                org_id: org.map(str::to_owned),
                impersonator: None,
                method: "Password".to_owned(),
                code_challenge: challenge.map(str::to_owned),
                organization_choices: None,
            })
            .unwrap()
    }

    #[test]
    fn codes_are_single_use_bound_to_client_and_verifier() {
        let mut s = store();
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let code = code_for(&mut s, "ada@example.com", None, Some(challenge));
        assert!(matches!(
            s.redeem_code(
                &code,
                "client_other",
                Some(verifier),
                true,
                ClientInfo::default()
            ),
            Err(GrantError::InvalidGrant(_))
        ));
        let code = code_for(&mut s, "ada@example.com", None, Some(challenge));
        assert!(s
            .redeem_code(
                &code,
                "client_1",
                Some(verifier),
                false,
                ClientInfo::default()
            )
            .is_ok());
        assert!(s
            .redeem_code(
                &code,
                "client_1",
                Some(verifier),
                false,
                ClientInfo::default()
            )
            .is_err());
        let plain = code_for(&mut s, "ada@example.com", None, None);
        assert!(matches!(
            s.redeem_code(&plain, "client_1", None, false, ClientInfo::default()),
            Err(GrantError::InvalidClient(_))
        ));
    }

    #[test]
    fn refresh_rotates_and_switch_errors_use_nothing_up() {
        let mut s = store();
        let code = code_for(&mut s, "ada@example.com", Some("org_acme"), None);
        let first = s
            .redeem_code(&code, "client_1", None, true, ClientInfo::default())
            .unwrap();
        assert_eq!(
            first.claims.permissions,
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(
            first.claims.feature_flags,
            Some(vec!["new-feature".to_owned(), "ada-beta".to_owned()])
        );

        assert!(matches!(
            s.refresh(&first.refresh_token, Some("org_sso")),
            Err(GrantError::Switch {
                error: SwitchError::SsoRequired,
                ..
            })
        ));
        assert!(matches!(
            s.refresh(&first.refresh_token, Some("org_nope")),
            Err(GrantError::NotMember(_))
        ));
        let second = s.refresh(&first.refresh_token, Some("org_acme")).unwrap();
        assert_eq!(second.claims.sid, first.claims.sid);
        assert!(matches!(
            s.refresh(&first.refresh_token, None),
            Err(GrantError::InvalidGrant(_))
        ));
        assert!(s.end_session(&second.claims.sid));
        assert!(!s.end_session(&second.claims.sid));
        assert!(s.refresh(&second.refresh_token, None).is_err());
        assert_eq!(s.active_sessions(), 0);
    }

    #[test]
    fn landing_organization_follows_memberships() {
        let s = store();
        let ada = s.user_by_email("ada@example.com").unwrap().id.clone();
        let solo = s.user_by_email("solo@example.com").unwrap().id.clone();
        assert_eq!(s.landing_org(&solo, None), Ok(None));
        assert_eq!(
            s.landing_org(&ada, None),
            Err(Landing::Choose(vec![
                "org_acme".to_owned(),
                "org_sso".to_owned()
            ]))
        );
        assert_eq!(
            s.landing_org(&ada, Some("org_sso")),
            Ok(Some("org_sso".to_owned()))
        );
        assert_eq!(
            s.landing_org(&solo, Some("org_acme")),
            Err(Landing::NotMember("org_acme".to_owned()))
        );
        let debug = format!("{s:?}");
        assert!(!debug.contains("sk_1"), "{debug}");
    }
}
