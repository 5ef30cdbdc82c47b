//! Seed data: who exists in the emulator when it starts. The format is documented on
//! [`Seed`].

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Deserializer, Serialize};

/// An admin signed in as a seeded user ("impersonation"): the `impersonator` object of
/// WorkOS's `authenticate` response, in the same JSON shape.
///
/// authkit-leptos has a type of the same shape for the session it reads; the two are kept
/// apart on purpose. The emulator stands in for WorkOS in the tests of that client (and of
/// `@workos-inc/node`): written once for both, a misspelt field would pass every test on
/// both sides and fail against WorkOS. (Nor may the emulator depend on the client.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impersonator {
    /// The admin's email address.
    pub email: String,
    /// Why they are impersonating, if they said.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The demo seed shipped with the crate (`seeds/demo.yaml`).
const DEMO_SEED: &str = include_str!("../seeds/demo.yaml");

/// Why a seed could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The seed file could not be read.
    #[error("cannot read the seed file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The seed is not valid YAML/JSON or has a field of the wrong type.
    #[error("the seed {origin} is malformed: {message}")]
    Parse {
        /// The file, or "text" for a seed given as a string.
        origin: String,
        /// What the parser said, with the position.
        message: String,
    },
    /// The seed parsed but is inconsistent (duplicate email, unknown organization, …).
    #[error("the seed is invalid at `{field}`: {message}")]
    Invalid {
        /// Where, e.g. `organizations[1].memberships[0].email`.
        field: String,
        /// What to fix.
        message: String,
    },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> SeedError {
    SeedError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// The error a refresh that switches a session into an organization gets, as WorkOS
/// answers when the organization demands more than the session has proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SwitchError {
    /// The organization requires SSO: `{"error":"sso_required", …}`.
    SsoRequired,
    /// The organization requires MFA: `{"error":"mfa_enrollment", …}`.
    MfaEnrollment,
}

impl SwitchError {
    /// The wire code (`sso_required` or `mfa_enrollment`).
    pub fn code(self) -> &'static str {
        match self {
            Self::SsoRequired => "sso_required",
            Self::MfaEnrollment => "mfa_enrollment",
        }
    }
}

/// A membership's status; only `active` memberships can be signed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MembershipStatus {
    /// The user can sign into the organization.
    #[default]
    Active,
    /// Deactivated.
    Inactive,
    /// Invited, not yet accepted.
    Pending,
}

impl MembershipStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Pending => "pending",
        }
    }
}

/// Everything the emulator knows at start.
///
/// A seed is read from a YAML or JSON file ([`Seed::from_file`]) or built in Rust
/// ([`Seed::new`] and the `Seed*` builders). It lists users (with pinnable ids, names,
/// password, metadata), organizations (with entitlements, feature flags and an optional error
/// to raise when a session switches into them), memberships with roles, roles with their
/// permissions, organization API keys, and which users may impersonate others.
///
/// A seed written for WorkOS's own emulator (`users`, `organizations` with nested
/// `memberships`, `roles`, `permissions`, `apiKeys`) loads unchanged where the fields overlap;
/// fields this emulator does not model (`connections`, `webhookEndpoints`, …) are ignored.
///
/// ```yaml
/// client_id: client_demo        # optional pins
/// api_key: sk_test_demo
/// users:
///   - email: ada@example.com
///     first_name: Ada
///     password: analytical-engine
///     can_impersonate: true
///     feature_flags: [beta-for-ada]
/// organizations:
///   - name: Acme
///     feature_flags: [new-feature]          # or {new-feature: true, other: false}
///     entitlements: [audit-logs]
///     switch_error: sso_required            # refreshing into Acme answers sso_required
///     memberships:
///       - email: ada@example.com
///         role: admin
/// roles:
///   - slug: admin
///     permissions: [posts:read, posts:write]
/// ```
///
/// `seeds/demo.yaml` in the repository ([`Seed::demo`]) is a fuller example.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct Seed {
    /// Pins the client id (`WORKOS_CLIENT_ID`); the builder's value wins over it.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Pins the API key (`WORKOS_API_KEY`); the builder's value wins over it.
    #[serde(default, deserialize_with = "de_opt_secret")]
    pub api_key: Option<SecretString>,
    /// The only redirect URIs `authorize` accepts; empty accepts only this machine's
    /// (localhost) URLs. As WorkOS's wildcard redirect URIs, a host that starts with `*.`
    /// (`https://*.preview.example.com/callback`) accepts exactly one label of any value
    /// there (`https://pr-1.preview.example.com/callback`, not
    /// `https://a.b.preview.example.com/callback`).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Access-token lifetime in seconds (default 300).
    #[serde(default)]
    pub token_ttl_seconds: Option<u64>,
    /// Users, in order; the first one is the default for auto-approve.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Organizations, with their nested memberships.
    #[serde(default)]
    pub organizations: Vec<SeedOrganization>,
    /// Memberships listed at the top level (each names its `organization`).
    #[serde(default)]
    pub memberships: Vec<SeedMembership>,
    /// Roles and the permissions they grant.
    #[serde(default)]
    pub roles: Vec<SeedRole>,
    /// Permissions (descriptive only; a role's permission list is what counts).
    #[serde(default)]
    pub permissions: Vec<SeedPermission>,
    /// Organization API keys that `POST /api_keys/validations` recognizes.
    #[serde(default, alias = "apiKeys", deserialize_with = "de_api_keys")]
    pub api_keys: Vec<SeedApiKey>,
    /// List memberships without `organization_name` (`null`), as older WorkOS answers do,
    /// so clients that show names must fetch the organizations.
    #[serde(default)]
    pub omit_membership_organization_names: bool,
}

/// A seeded user.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct SeedUser {
    /// Pinned id; derived from the email when absent (stable across restarts).
    #[serde(default)]
    pub id: Option<String>,
    /// Email address (unique, case-insensitive).
    pub email: String,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Password for the email + password form; without one the user can only be picked.
    #[serde(default, deserialize_with = "de_opt_secret")]
    pub password: Option<SecretString>,
    /// `email_verified` on the wire (default `true`).
    #[serde(default = "yes")]
    pub email_verified: bool,
    /// Avatar URL.
    #[serde(default)]
    pub profile_picture_url: Option<String>,
    /// Preferred locale.
    #[serde(default)]
    pub locale: Option<String>,
    /// Your own id for the user.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Entitlements added to every token of this user, whatever the organization.
    #[serde(default)]
    pub entitlements: Vec<String>,
    /// Feature flags on for this user, whatever the organization.
    #[serde(default, deserialize_with = "de_flags")]
    pub feature_flags: Vec<String>,
    /// May impersonate other users from the sign-in page.
    #[serde(default)]
    pub can_impersonate: bool,
    /// `authentication_method` reported for this user's sign-ins (default `Password`).
    #[serde(default, alias = "oauth_provider")]
    pub authentication_method: Option<String>,
    /// Every sign-in of this user is reported as impersonated by this admin.
    #[serde(default)]
    pub impersonator: Option<Impersonator>,
    /// `required`: when this user belongs to several organizations and the sign-in names
    /// none, the hosted page does not ask; the code exchange answers
    /// `organization_selection_required` (with a `pending_authentication_token`, the
    /// `organizations` and the `user`), as WorkOS does for an app that lets users choose,
    /// and the organization-selection grant completes it.
    #[serde(default)]
    pub organization_selection: Option<Requirement>,
    /// `required`: the code exchange answers `email_verification_required` (with a
    /// `pending_authentication_token`, the `email` and an `email_verification_id`).
    #[serde(default)]
    pub email_verification: Option<Requirement>,
    /// `enrollment` or `challenge`: the code exchange answers `mfa_enrollment` or
    /// `mfa_challenge` (with a `pending_authentication_token` and the `user`).
    #[serde(default)]
    pub mfa: Option<MfaStep>,
}

/// A step the code exchange requires of a seeded user (`required`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Requirement {
    /// The step is required.
    Required,
}

/// Which MFA answer the code exchange gives a seeded user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MfaStep {
    /// `mfa_enrollment`: the user has no factor yet.
    Enrollment,
    /// `mfa_challenge`: the user must pass a challenge.
    Challenge,
}

/// A seeded organization.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct SeedOrganization {
    /// Pinned id; derived from the name when absent (stable across restarts).
    #[serde(default)]
    pub id: Option<String>,
    /// Display name (unique).
    pub name: String,
    /// Your own id for the organization.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Domains (`acme.com` or `{domain, state}`).
    #[serde(default)]
    pub domains: Vec<SeedDomain>,
    /// The `entitlements` claim for sessions in this organization.
    #[serde(default)]
    pub entitlements: Vec<String>,
    /// The flags on in this organization (a list, or a map of flag → on/off).
    #[serde(default, deserialize_with = "de_flags")]
    pub feature_flags: Vec<String>,
    /// Refreshing into this organization with `organization_id` fails with this error.
    #[serde(default)]
    pub switch_error: Option<SwitchError>,
    /// Members of this organization.
    #[serde(default)]
    pub memberships: Vec<SeedMembership>,
}

/// An organization domain.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SeedDomain {
    /// The domain name.
    pub domain: String,
    /// `verified` (default) or `pending`.
    pub state: String,
}

/// A user's membership in an organization.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct SeedMembership {
    /// The user's email or id (`email`, `user_id` and `user_email` are accepted too).
    #[serde(alias = "email", alias = "user_id", alias = "user_email")]
    pub user: String,
    /// The organization's name or id; implied for memberships nested in an organization.
    #[serde(default, alias = "organization_id", alias = "organization_slug")]
    pub organization: Option<String>,
    /// The primary role slug (default `member`).
    #[serde(default)]
    pub role: Option<String>,
    /// All role slugs; the primary role is added first when missing.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Status (default `active`).
    #[serde(default)]
    pub status: MembershipStatus,
}

/// A role and the permissions it grants.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct SeedRole {
    /// The slug used in memberships and in the `role` claim.
    pub slug: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Permission slugs, copied into the `permissions` claim.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// A permission (descriptive).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct SeedPermission {
    /// The slug.
    pub slug: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// An organization API key that `POST /api_keys/validations` recognizes.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct SeedApiKey {
    /// Display name.
    pub name: String,
    /// The secret value. WorkOS emulate seeds may leave it out; such a key is kept
    /// but nothing can validate against it.
    #[serde(default, deserialize_with = "de_opt_secret")]
    pub value: Option<SecretString>,
    /// The owning organization's name or id.
    #[serde(default)]
    pub organization: Option<String>,
    /// Permission slugs granted to the key.
    #[serde(default)]
    pub permissions: Vec<String>,
}

fn yes() -> bool {
    true
}

fn de_opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
}

/// Flags as `[a, b]` or `{a: true, b: false}` (only the `true` ones are kept).
fn de_flags<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flags {
        List(Vec<String>),
        Map(BTreeMap<String, bool>),
    }
    Ok(match Option::<Flags>::deserialize(d)? {
        None => Vec::new(),
        Some(Flags::List(list)) => list,
        Some(Flags::Map(map)) => map
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(k, _)| k)
            .collect(),
    })
}

/// `apiKeys` as a list of keys, or WorkOS emulate's legacy map form (ignored).
fn de_api_keys<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SeedApiKey>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Keys {
        List(Vec<SeedApiKey>),
        Map(BTreeMap<String, serde::de::IgnoredAny>),
    }
    Ok(match Option::<Keys>::deserialize(d)? {
        Some(Keys::List(list)) => list,
        Some(Keys::Map(legacy)) => {
            // WorkOS emulate's allow-list form: values that authenticate requests. This
            // emulator has one API key, so they have nothing to map to.
            tracing::debug!(
                ignored = legacy.len(),
                "ignoring the legacy `apiKeys` map in the seed"
            );
            Vec::new()
        }
        None => Vec::new(),
    })
}

impl<'de> Deserialize<'de> for SeedDomain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Domain {
            Name(String),
            Full {
                domain: String,
                #[serde(default)]
                state: Option<String>,
            },
        }
        Ok(match Domain::deserialize(d)? {
            Domain::Name(domain) => SeedDomain::new(domain),
            Domain::Full { domain, state } => SeedDomain {
                domain,
                state: state.unwrap_or_else(|| "verified".to_owned()),
            },
        })
    }
}

impl fmt::Display for SwitchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Seed {
    /// An empty seed.
    pub fn new() -> Self {
        Self::default()
    }

    /// The demo seed shipped as `seeds/demo.yaml`: a user in several organizations with
    /// different roles, a feature flag on in one organization and off in another, and an
    /// admin who can impersonate.
    pub fn demo() -> Result<Self, SeedError> {
        Self::parse_yaml(DEMO_SEED, "seeds/demo.yaml")
    }

    /// Parses a YAML seed (JSON is YAML too).
    pub fn from_yaml(text: &str) -> Result<Self, SeedError> {
        Self::parse_yaml(text, "text")
    }

    /// Parses a JSON seed.
    pub fn from_json(text: &str) -> Result<Self, SeedError> {
        serde_json::from_str(text).map_err(|e| SeedError::Parse {
            origin: "text".to_owned(),
            message: e.to_string(),
        })
    }

    /// Reads a seed file: JSON when it ends in `.json`, YAML otherwise.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SeedError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if is_json {
            serde_json::from_str(&text).map_err(|e| SeedError::Parse {
                origin,
                message: e.to_string(),
            })
        } else {
            Self::parse_yaml(&text, &origin)
        }
    }

    fn parse_yaml(text: &str, origin: &str) -> Result<Self, SeedError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_yaml::from_str(text).map_err(|e| SeedError::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })
    }

    /// Adds a user.
    pub fn user(mut self, user: SeedUser) -> Self {
        self.users.push(user);
        self
    }

    /// Adds an organization.
    pub fn organization(mut self, organization: SeedOrganization) -> Self {
        self.organizations.push(organization);
        self
    }

    /// Adds a membership: `user` is an email or user id, `organization` a name or id.
    pub fn membership(
        mut self,
        user: impl Into<String>,
        organization: impl Into<String>,
        role: impl Into<String>,
    ) -> Self {
        let mut membership = SeedMembership::new(user).role(role);
        membership.organization = Some(organization.into());
        self.memberships.push(membership);
        self
    }

    /// Adds a membership built with [`SeedMembership`] (its `organization` must be set).
    pub fn membership_with(mut self, membership: SeedMembership) -> Self {
        self.memberships.push(membership);
        self
    }

    /// Adds a role.
    pub fn role(mut self, role: SeedRole) -> Self {
        self.roles.push(role);
        self
    }

    /// Adds a permission.
    pub fn permission(mut self, permission: SeedPermission) -> Self {
        self.permissions.push(permission);
        self
    }

    /// Adds an organization API key.
    pub fn api_key(mut self, key: SeedApiKey) -> Self {
        self.api_keys.push(key);
        self
    }

    /// Lists memberships without `organization_name` (see
    /// [`Seed::omit_membership_organization_names`]).
    pub fn without_membership_organization_names(mut self) -> Self {
        self.omit_membership_organization_names = true;
        self
    }

    /// Restricts `authorize` to this redirect URI (call again to allow several).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Checks the seed for consistency: unique emails, ids and organization names, URL-safe
    /// pinned ids, and memberships that name an existing user and organization once.
    pub fn validate(&self) -> Result<(), SeedError> {
        self.resolve().map(|_| ())
    }

    /// Validates and resolves every reference to ids, in the order the seed lists its
    /// parts (the first problem found is the one reported).
    pub(crate) fn resolve(&self) -> Result<Resolved, SeedError> {
        let directory = Directory {
            users: self.resolve_users()?,
            orgs: self.resolve_organizations()?,
        };
        let memberships = self.resolve_memberships(&directory)?;
        let api_key_orgs = self.resolve_api_keys(&directory)?;
        self.check_roles()?;
        self.check_redirect_uris()?;
        Ok(Resolved {
            user_ids: directory.users.into_iter().map(|(id, _)| id).collect(),
            org_ids: directory.orgs.into_iter().map(|(id, _)| id).collect(),
            memberships,
            api_key_orgs,
        })
    }

    /// Each user's (id, email): emails well-formed and unique (in any case), ids pinned or
    /// derived from the email, and unique.
    fn resolve_users(&self) -> Result<Vec<(String, String)>, SeedError> {
        let mut users = Vec::with_capacity(self.users.len());
        let mut emails = HashSet::new();
        let mut user_ids = HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            let email = user.email.trim().to_owned();
            if !looks_like_email(&email) {
                return Err(invalid(
                    format!("users[{i}].email"),
                    format!("`{email}` is not an email address"),
                ));
            }
            if !emails.insert(email.to_ascii_lowercase()) {
                return Err(invalid(
                    format!("users[{i}].email"),
                    format!("`{email}` is listed twice; emails must be unique"),
                ));
            }
            let id = match &user.id {
                Some(id) => check_id(id, &format!("users[{i}].id"))?,
                None => crate::ids::stable_id("user", &email.to_ascii_lowercase()),
            };
            if !user_ids.insert(id.clone()) {
                return Err(invalid(
                    format!("users[{i}].id"),
                    format!("`{id}` is used twice; ids must be unique"),
                ));
            }
            users.push((id, email));
        }
        Ok(users)
    }

    /// Each organization's (id, name): names present and unique, ids pinned or derived
    /// from the name, and unique.
    fn resolve_organizations(&self) -> Result<Vec<(String, String)>, SeedError> {
        let mut orgs = Vec::with_capacity(self.organizations.len());
        let mut org_ids = HashSet::new();
        let mut names = HashSet::new();
        for (i, org) in self.organizations.iter().enumerate() {
            let name = org.name.trim();
            if name.is_empty() {
                return Err(invalid(
                    format!("organizations[{i}].name"),
                    "an organization needs a name",
                ));
            }
            if !names.insert(name.to_owned()) {
                return Err(invalid(
                    format!("organizations[{i}].name"),
                    format!("`{name}` is listed twice; organization names must be unique"),
                ));
            }
            let id = match &org.id {
                Some(id) => check_id(id, &format!("organizations[{i}].id"))?,
                None => crate::ids::stable_id("org", name),
            };
            if !org_ids.insert(id.clone()) {
                return Err(invalid(
                    format!("organizations[{i}].id"),
                    format!("`{id}` is used twice; ids must be unique"),
                ));
            }
            orgs.push((id, name.to_owned()));
        }
        Ok(orgs)
    }

    /// The memberships listed under each organization, then the top-level ones: each names
    /// an existing user (and, at the top level, organization), once per pair.
    fn resolve_memberships(
        &self,
        directory: &Directory,
    ) -> Result<Vec<ResolvedMembership>, SeedError> {
        let mut memberships = Vec::new();
        let mut seen = HashSet::new();
        let nested = self.organizations.iter().enumerate().flat_map(|(oi, org)| {
            org.memberships.iter().enumerate().map(move |(mi, m)| {
                (
                    format!("organizations[{oi}].memberships[{mi}]"),
                    Some(oi),
                    m,
                )
            })
        });
        let top = self
            .memberships
            .iter()
            .enumerate()
            .map(|(mi, m)| (format!("memberships[{mi}]"), None, m));
        for (field, org_index, m) in nested.chain(top) {
            let user = directory.find_user(&m.user).ok_or_else(|| {
                invalid(
                    format!("{field}.user"),
                    format!("no user with email or id `{}`", m.user),
                )
            })?;
            let org = match org_index {
                Some(index) => index,
                None => {
                    let reference = m.organization.as_deref().ok_or_else(|| {
                        invalid(
                            format!("{field}.organization"),
                            "a top-level membership must name its organization",
                        )
                    })?;
                    directory.find_org(reference).ok_or_else(|| {
                        invalid(
                            format!("{field}.organization"),
                            format!("no organization with name or id `{reference}`"),
                        )
                    })?
                }
            };
            if !seen.insert((user, org)) {
                return Err(invalid(
                    field,
                    "the user is already a member of this organization",
                ));
            }
            let roles = membership_roles(&field, m)?;
            memberships.push(ResolvedMembership {
                user,
                org,
                roles,
                status: m.status,
            });
        }
        Ok(memberships)
    }

    /// Each API key's organization (an index), if it names one; values not empty.
    fn resolve_api_keys(&self, directory: &Directory) -> Result<Vec<Option<usize>>, SeedError> {
        let mut api_keys = Vec::new();
        for (i, key) in self.api_keys.iter().enumerate() {
            if key
                .value
                .as_ref()
                .is_some_and(|v| v.expose_secret().is_empty())
            {
                return Err(invalid(
                    format!("api_keys[{i}].value"),
                    "the key value is empty",
                ));
            }
            let org = match &key.organization {
                Some(reference) => Some(directory.find_org(reference).ok_or_else(|| {
                    invalid(
                        format!("api_keys[{i}].organization"),
                        format!("no organization with name or id `{reference}`"),
                    )
                })?),
                None => None,
            };
            api_keys.push(org);
        }
        Ok(api_keys)
    }

    /// Role slugs are present and unique.
    fn check_roles(&self) -> Result<(), SeedError> {
        let mut role_slugs = HashSet::new();
        for (i, role) in self.roles.iter().enumerate() {
            if role.slug.trim().is_empty() || !role_slugs.insert(role.slug.trim().to_owned()) {
                return Err(invalid(
                    format!("roles[{i}].slug"),
                    "role slugs must be non-empty and unique",
                ));
            }
        }
        Ok(())
    }

    /// Registered redirect URIs are absolute http(s) URLs without a fragment.
    fn check_redirect_uris(&self) -> Result<(), SeedError> {
        for (i, uri) in self.redirect_uris.iter().enumerate() {
            if !is_valid_redirect_uri(uri) {
                return Err(invalid(
                    format!("redirect_uris[{i}]"),
                    format!("`{uri}` is not an absolute http(s) URL without a fragment"),
                ));
            }
        }
        Ok(())
    }
}

/// The seed's users and organizations with their resolved ids, for looking references up.
struct Directory {
    /// (id, email), in seed order.
    users: Vec<(String, String)>,
    /// (id, name), in seed order.
    orgs: Vec<(String, String)>,
}

impl Directory {
    /// The index of the user a reference names: its id, or its email in any case.
    fn find_user(&self, reference: &str) -> Option<usize> {
        let r = reference.trim();
        self.users
            .iter()
            .position(|(id, email)| id == r || email.eq_ignore_ascii_case(r))
    }

    /// The index of the organization a reference names: its id or its name.
    fn find_org(&self, reference: &str) -> Option<usize> {
        let r = reference.trim();
        self.orgs.iter().position(|(id, name)| id == r || name == r)
    }
}

/// A membership's role slugs: `role`, then `roles` without repeats, else `member`; none
/// empty.
fn membership_roles(field: &str, m: &SeedMembership) -> Result<Vec<String>, SeedError> {
    let mut roles = Vec::new();
    if let Some(role) = &m.role {
        roles.push(role.trim().to_owned());
    }
    for role in &m.roles {
        let role = role.trim().to_owned();
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    if roles.is_empty() {
        roles.push("member".to_owned());
    }
    if let Some(empty) = roles.iter().position(String::is_empty) {
        return Err(invalid(
            format!("{field}.roles[{empty}]"),
            "a role slug is empty",
        ));
    }
    Ok(roles)
}

/// Ids and cross-references worked out by [`Seed::resolve`]; indexes point into the seed.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) user_ids: Vec<String>,
    pub(crate) org_ids: Vec<String>,
    pub(crate) memberships: Vec<ResolvedMembership>,
    pub(crate) api_key_orgs: Vec<Option<usize>>,
}

#[derive(Debug)]
pub(crate) struct ResolvedMembership {
    pub(crate) user: usize,
    pub(crate) org: usize,
    pub(crate) roles: Vec<String>,
    pub(crate) status: MembershipStatus,
}

/// A pinned id must be usable as one URL path segment.
fn check_id(id: &str, field: &str) -> Result<String, SeedError> {
    if !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(id.to_owned())
    } else {
        Err(invalid(
            field,
            format!("`{id}` is not a valid id (use letters, digits, `_` and `-`)"),
        ))
    }
}

/// Loose check: something before and after one `@`, no spaces.
pub(crate) fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// An absolute `http`/`https` URL with a host and no fragment.
pub(crate) fn is_valid_redirect_uri(uri: &str) -> bool {
    match url::Url::parse(uri) {
        Ok(url) => {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some()
                && url.fragment().is_none()
        }
        Err(_) => false,
    }
}

/// Whether `uri` is the registered redirect URI `registered` (`whole`), or on its origin
/// (not `whole`: a logout `return_to`): equal, or — for a registered URI whose host starts
/// with `*.`, WorkOS's wildcard redirect URIs — equal but for exactly one label of any value
/// in the wildcard's place.
pub(crate) fn matches_registered(registered: &str, uri: &str, whole: bool) -> bool {
    if whole && registered == uri {
        return true;
    }
    let (Ok(pattern), Ok(url)) = (url::Url::parse(registered), url::Url::parse(uri)) else {
        return false;
    };
    if pattern.scheme() != url.scheme()
        || pattern.port_or_known_default() != url.port_or_known_default()
    {
        return false;
    }
    if whole
        && pattern[url::Position::BeforePath..url::Position::AfterQuery]
            != url[url::Position::BeforePath..url::Position::AfterQuery]
    {
        return false;
    }
    let (Some(pattern_host), Some(host)) = (pattern.host_str(), url.host_str()) else {
        return false;
    };
    match pattern_host.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .and_then(|head| head.strip_suffix('.'))
            .is_some_and(|label| {
                !label.is_empty() && !label.contains(['.', '*']) && !label.starts_with('-')
            }),
        None => pattern_host == host && !whole,
    }
}

/// Whether `uri` points at this machine (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`):
/// the only redirect and `return_to` targets accepted while no redirect URI is registered,
/// so an emulator reachable from a browser is no open redirect to the rest of the web.
pub(crate) fn is_loopback_uri(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    // W3C Secure Contexts' "potentially trustworthy" hosts. authkit-leptos checks the same
    // rule for its SameSite=None setting; the two are not shared because the emulator stands
    // in for WorkOS and must not depend on the client it tests, and a crate of its own for
    // ten lines would cost more (another crate to publish, in order) than the copy.
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.');
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl SeedUser {
    /// A user with this email; everything else empty, `email_verified` true.
    pub fn new(email: impl Into<String>) -> Self {
        Self {
            id: None,
            email: email.into(),
            first_name: None,
            last_name: None,
            password: None,
            email_verified: true,
            profile_picture_url: None,
            locale: None,
            external_id: None,
            metadata: BTreeMap::new(),
            entitlements: Vec::new(),
            feature_flags: Vec::new(),
            can_impersonate: false,
            authentication_method: None,
            impersonator: None,
            organization_selection: None,
            email_verification: None,
            mfa: None,
        }
    }

    /// Makes the code exchange answer `organization_selection_required` when this user
    /// belongs to several organizations (see [`SeedUser::organization_selection`]).
    pub fn organization_selection_required(mut self) -> Self {
        self.organization_selection = Some(Requirement::Required);
        self
    }

    /// Makes the code exchange answer `email_verification_required`.
    pub fn email_verification_required(mut self) -> Self {
        self.email_verification = Some(Requirement::Required);
        self
    }

    /// Makes the code exchange answer `mfa_enrollment` or `mfa_challenge`.
    pub fn mfa(mut self, step: MfaStep) -> Self {
        self.mfa = Some(step);
        self
    }

    /// Pins the id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the first and last name.
    pub fn name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    /// Sets the password for the email + password form.
    pub fn password(mut self, password: impl Into<SecretString>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Sets `email_verified`.
    pub fn email_verified(mut self, verified: bool) -> Self {
        self.email_verified = verified;
        self
    }

    /// Adds a metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Adds a user-level entitlement.
    pub fn entitlement(mut self, entitlement: impl Into<String>) -> Self {
        self.entitlements.push(entitlement.into());
        self
    }

    /// Turns a feature flag on for this user.
    pub fn feature_flag(mut self, flag: impl Into<String>) -> Self {
        self.feature_flags.push(flag.into());
        self
    }

    /// Lets this user impersonate others from the sign-in page.
    pub fn can_impersonate(mut self, allowed: bool) -> Self {
        self.can_impersonate = allowed;
        self
    }

    /// Sets the reported `authentication_method` (e.g. `GoogleOAuth`).
    pub fn authentication_method(mut self, method: impl Into<String>) -> Self {
        self.authentication_method = Some(method.into());
        self
    }

    /// Reports every sign-in of this user as impersonated by `admin_email`.
    pub fn impersonated_by(
        mut self,
        admin_email: impl Into<String>,
        reason: Option<String>,
    ) -> Self {
        self.impersonator = Some(Impersonator {
            email: admin_email.into(),
            reason,
        });
        self
    }
}

impl SeedOrganization {
    /// An organization with this name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            id: None,
            name: name.into(),
            external_id: None,
            metadata: BTreeMap::new(),
            domains: Vec::new(),
            entitlements: Vec::new(),
            feature_flags: Vec::new(),
            switch_error: None,
            memberships: Vec::new(),
        }
    }

    /// Pins the id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Adds a verified domain.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domains.push(SeedDomain::new(domain));
        self
    }

    /// Adds an entitlement.
    pub fn entitlement(mut self, entitlement: impl Into<String>) -> Self {
        self.entitlements.push(entitlement.into());
        self
    }

    /// Turns a feature flag on in this organization.
    pub fn feature_flag(mut self, flag: impl Into<String>) -> Self {
        self.feature_flags.push(flag.into());
        self
    }

    /// Makes refreshes that switch into this organization fail with `error`.
    pub fn switch_error(mut self, error: SwitchError) -> Self {
        self.switch_error = Some(error);
        self
    }

    /// Adds a member by email or user id with one role.
    pub fn member(mut self, user: impl Into<String>, role: impl Into<String>) -> Self {
        self.memberships.push(SeedMembership::new(user).role(role));
        self
    }
}

impl SeedDomain {
    /// A verified domain.
    pub fn new(domain: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            state: "verified".to_owned(),
        }
    }
}

impl SeedMembership {
    /// A membership of `user` (email or id) with the default role `member`.
    pub fn new(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            organization: None,
            role: None,
            roles: Vec::new(),
            status: MembershipStatus::Active,
        }
    }

    /// Names the organization (name or id), for top-level memberships.
    pub fn organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// Sets the primary role.
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Adds a further role.
    pub fn also_role(mut self, role: impl Into<String>) -> Self {
        self.roles.push(role.into());
        self
    }

    /// Sets the status.
    pub fn status(mut self, status: MembershipStatus) -> Self {
        self.status = status;
        self
    }
}

impl SeedRole {
    /// A role with no permissions.
    pub fn new(slug: impl Into<String>) -> Self {
        Self {
            slug: slug.into(),
            name: None,
            permissions: Vec::new(),
        }
    }

    /// Grants a permission.
    pub fn permission(mut self, permission: impl Into<String>) -> Self {
        self.permissions.push(permission.into());
        self
    }
}

impl SeedPermission {
    /// A permission with this slug.
    pub fn new(slug: impl Into<String>) -> Self {
        Self {
            slug: slug.into(),
            name: None,
            description: None,
        }
    }
}

impl SeedApiKey {
    /// A key with this name and secret value.
    pub fn new(name: impl Into<String>, value: impl Into<SecretString>) -> Self {
        Self {
            name: name.into(),
            value: Some(value.into()),
            organization: None,
            permissions: Vec::new(),
        }
    }

    /// Names the owning organization (name or id).
    pub fn organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// Grants a permission.
    pub fn permission(mut self, permission: impl Into<String>) -> Self {
        self.permissions.push(permission.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_redirect_uris_accept_exactly_one_label_as_workos_does() {
        let registered = "https://*.preview.example.com/callback";
        assert!(is_valid_redirect_uri(registered));
        assert!(matches_registered(
            registered,
            "https://pr-1.preview.example.com/callback",
            true
        ));
        for refused in [
            "https://a.b.preview.example.com/callback",
            "https://preview.example.com/callback",
            "https://evilpreview.example.com/callback",
            "https://pr-1.preview.example.com/other",
            "https://pr-1.preview.example.com:8443/callback",
            "http://pr-1.preview.example.com/callback",
            "https://pr-1.preview.example.com.evil.net/callback",
        ] {
            assert!(!matches_registered(registered, refused, true), "{refused}");
        }
        // A logout `return_to` needs only the origin.
        assert!(matches_registered(
            registered,
            "https://pr-1.preview.example.com/bye",
            false
        ));
        assert!(!matches_registered(
            registered,
            "https://x.y.preview.example.com/",
            false
        ));
        // Without a wildcard: the exact URI, or (for a return_to) its origin.
        assert!(matches_registered(
            "http://localhost:3000/callback",
            "http://localhost:3000/callback",
            true
        ));
        assert!(!matches_registered(
            "http://localhost:3000/callback",
            "http://localhost:3000/callback2",
            true
        ));
        assert!(matches_registered(
            "http://localhost:3000/callback",
            "http://localhost:3000/",
            false
        ));
    }

    #[test]
    fn loopback_uris_are_this_machine_only() {
        for (url, loopback) in [
            ("http://localhost:3000/cb", true),
            ("http://app.localhost/cb", true),
            ("http://127.0.0.1/cb", true),
            ("http://[::1]/cb", true),
            ("https://example.com/cb", false),
        ] {
            assert_eq!(is_loopback_uri(url), loopback, "{url}");
        }
    }

    #[test]
    fn demo_seed_loads_and_validates() {
        let seed = Seed::demo().unwrap();
        seed.validate().unwrap();
        assert!(seed.users.iter().any(|u| u.can_impersonate));
        let flags: Vec<_> = seed
            .organizations
            .iter()
            .map(|o| o.feature_flags.contains(&"new-feature".to_owned()))
            .collect();
        assert!(flags.contains(&true) && flags.contains(&false));
    }

    #[test]
    fn reads_workos_emulate_shape() {
        let yaml = r#"
users:
  - email: alice@acme.com
    first_name: Alice
    password: test123
    email_verified: true
    oauth_provider: GoogleOAuth
organizations:
  - name: Acme Corp
    domains:
      - domain: acme.com
        state: verified
    memberships:
      - email: alice@acme.com
        role: admin
        status: active
roles:
  - slug: admin
    name: Admin
    type: EnvironmentRole
    permissions: [posts:read, posts:write]
permissions:
  - slug: posts:read
    name: Read Posts
connections:
  - name: Acme SSO
    organization: Acme Corp
apiKeys:
  sk_test_legacy: { environment: test }
"#;
        let with_key_list = "apiKeys:\n  - name: CI Key\n    permissions: [posts:read]\n";
        let listed = Seed::from_yaml(with_key_list).unwrap();
        assert!(listed.api_keys[0].value.is_none());
        listed.validate().unwrap();
        let seed = Seed::from_yaml(yaml).unwrap();
        let resolved = seed.resolve().unwrap();
        assert_eq!(resolved.memberships.len(), 1);
        assert_eq!(resolved.memberships[0].roles, ["admin"]);
        assert_eq!(
            seed.users[0].authentication_method.as_deref(),
            Some("GoogleOAuth")
        );
        assert_eq!(seed.organizations[0].domains[0].domain, "acme.com");
        assert!(seed.api_keys.is_empty());
    }

    #[test]
    fn flags_accept_list_or_map() {
        let seed = Seed::from_yaml(
            "organizations:\n  - name: A\n    feature_flags: {on-flag: true, off-flag: false}\n  - name: B\n    feature_flags: [x]\n",
        )
        .unwrap();
        assert_eq!(seed.organizations[0].feature_flags, ["on-flag"]);
        assert_eq!(seed.organizations[1].feature_flags, ["x"]);
    }

    #[test]
    fn rejects_inconsistent_seeds_with_the_field_named() {
        let cases = [
            ("users:\n  - email: a@x.io\n  - email: A@x.io\n", "users[1].email"),
            ("users:\n  - email: nope\n", "users[0].email"),
            ("users:\n  - email: a@x.io\n    id: 'has/slash'\n", "users[0].id"),
            (
                "organizations:\n  - name: A\n    memberships:\n      - email: ghost@x.io\n",
                "organizations[0].memberships[0].user",
            ),
            (
                "users:\n  - email: a@x.io\nmemberships:\n  - user: a@x.io\n    organization: Nowhere\n",
                "memberships[0].organization",
            ),
            ("redirect_uris: ['ftp://x']\n", "redirect_uris[0]"),
        ];
        for (yaml, expected) in cases {
            match Seed::from_yaml(yaml).unwrap().validate() {
                Err(SeedError::Invalid { field, .. }) => assert_eq!(field, expected, "{yaml}"),
                other => panic!("{yaml}: {other:?}"),
            }
        }
    }

    #[test]
    fn malformed_text_is_a_parse_error() {
        assert!(matches!(
            Seed::from_yaml("users: [email: {"),
            Err(SeedError::Parse { .. })
        ));
        assert!(matches!(
            Seed::from_json("{\"users\": 3}"),
            Err(SeedError::Parse { .. })
        ));
    }

    #[test]
    fn builder_and_file_agree() {
        let built = Seed::new()
            .user(
                SeedUser::new("ada@example.com")
                    .name("Ada", "Lovelace")
                    .password("pw"),
            )
            .organization(SeedOrganization::new("Acme").member("ada@example.com", "admin"))
            .role(SeedRole::new("admin").permission("posts:write"));
        let resolved = built.resolve().unwrap();
        assert_eq!(
            resolved.user_ids[0],
            crate::ids::stable_id("user", "ada@example.com")
        );
        assert!(!format!("{built:?}").contains("\"pw\""));
    }

    /// The step fields of a user and the membership-name switch read from YAML (#26).
    #[test]
    fn step_fields_parse() {
        let seed = Seed::from_yaml(
            "omit_membership_organization_names: true\nusers:\n  - email: a@x.io\n    organization_selection: required\n  - email: b@x.io\n    email_verification: required\n  - email: c@x.io\n    mfa: challenge\n  - email: d@x.io\n    mfa: enrollment\n",
        )
        .unwrap();
        assert!(seed.omit_membership_organization_names);
        assert_eq!(
            seed.users[0].organization_selection,
            Some(Requirement::Required)
        );
        assert_eq!(
            seed.users[1].email_verification,
            Some(Requirement::Required)
        );
        assert_eq!(seed.users[2].mfa, Some(MfaStep::Challenge));
        assert_eq!(seed.users[3].mfa, Some(MfaStep::Enrollment));
        assert!(Seed::from_yaml("users:\n  - email: a@x.io\n    mfa: sometimes\n").is_err());
    }
}
