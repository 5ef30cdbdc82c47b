//! [`SessionClaims`]: what a session allows — its organization, roles, permissions,
//! entitlements, feature flags and impersonator — in one struct the server and the
//! browser both compile, with the predicates pages and server functions decide by,
//! defined once.
//!
//! Every shape of a session the crate hands out carries one and dereferences to it:
//! [`Auth`](crate::Auth) (what `with_auth()` returns), [`SignedIn`](crate::SignedIn)
//! (what `ensure_signed_in()` returns), [`AuthSnapshot`](crate::AuthSnapshot) (what the
//! page holds) and, through the snapshot, [`AuthContext`](crate::AuthContext)
//! (`use_auth()`). So `auth.organization_id`, `signed_in.has_role("admin")` and
//! `snapshot.has_feature_flag("beta")` read the same fields with the same names on both
//! sides, and a new claim is added here only.

use crate::user::Impersonator;
use serde::{Deserialize, Serialize};

/// What a session allows: the access token's organization, roles, permissions,
/// entitlements and feature flags (WorkOS's `org_id`, `role`, `roles`, `permissions`,
/// `entitlements`, `feature_flags` claims), and the impersonator when an admin is signed in
/// as the user. Empty when signed out.
///
/// Never holds a token: the browser gets it in the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionClaims {
    /// The organization the session is in (`org_id`; authkit-nextjs's `organizationId`).
    pub organization_id: Option<String>,
    /// The user's role in that organization.
    pub role: Option<String>,
    /// All of the user's roles in that organization.
    pub roles: Vec<String>,
    /// The permissions those roles grant.
    pub permissions: Vec<String>,
    /// The organization's entitlements.
    pub entitlements: Vec<String>,
    /// The feature flags enabled for the user (`featureFlags`).
    pub feature_flags: Vec<String>,
    /// Present when an admin is impersonating the user.
    pub impersonator: Option<Impersonator>,
}

impl SessionClaims {
    /// Whether the user has `permission` in the current organization.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// Whether the user has `role` in the current organization (the main `role` or one of
    /// `roles`).
    pub fn has_role(&self, role: &str) -> bool {
        self.role.as_deref() == Some(role) || self.roles.iter().any(|r| r == role)
    }

    /// Whether the current organization has `entitlement`.
    pub fn has_entitlement(&self, entitlement: &str) -> bool {
        self.entitlements.iter().any(|e| e == entitlement)
    }

    /// Whether feature flag `flag` is enabled for the user.
    pub fn has_feature_flag(&self, flag: &str) -> bool {
        self.feature_flags.iter().any(|f| f == flag)
    }

    /// The claims of a verified access token, with the session's impersonator.
    #[cfg(feature = "ssr")]
    pub(crate) fn of(
        token: &crate::jwt::AccessTokenClaims,
        impersonator: Option<&Impersonator>,
    ) -> Self {
        Self {
            organization_id: token.org_id.clone(),
            role: token.role.clone(),
            roles: token.roles.clone(),
            permissions: token.permissions.clone(),
            entitlements: token.entitlements.clone(),
            feature_flags: token.feature_flags.clone(),
            impersonator: impersonator.cloned(),
        }
    }
}

/// `Deref`/`DerefMut` from a session shape to its [`SessionClaims`]: the flat field access
/// authkit-nextjs's `withAuth()` result has (`auth.organization_id`), and the predicates.
macro_rules! deref_to_claims {
    ($shape:ty) => {
        impl std::ops::Deref for $shape {
            type Target = $crate::SessionClaims;
            fn deref(&self) -> &Self::Target {
                &self.claims
            }
        }
        impl std::ops::DerefMut for $shape {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.claims
            }
        }
    };
}
pub(crate) use deref_to_claims;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_predicates_read_the_lists() {
        let s = SessionClaims {
            role: Some("admin".into()),
            roles: vec!["admin".into(), "billing".into()],
            permissions: vec!["posts:read".into()],
            entitlements: vec!["sso".into()],
            feature_flags: vec!["new-feature".into()],
            ..SessionClaims::default()
        };
        assert!(s.has_role("admin") && s.has_role("billing") && !s.has_role("owner"));
        assert!(s.has_permission("posts:read") && !s.has_permission("posts:write"));
        assert!(s.has_entitlement("sso") && !s.has_entitlement("audit-logs"));
        assert!(s.has_feature_flag("new-feature") && !s.has_feature_flag("dark-mode"));
        let only_main_role = SessionClaims {
            role: Some("viewer".into()),
            ..SessionClaims::default()
        };
        assert!(only_main_role.has_role("viewer"));
        assert!(!SessionClaims::default().has_role(""));
    }
}
