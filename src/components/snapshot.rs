//! [`AuthSnapshot`]: what the browser may know about the session.

use crate::user::{Impersonator, User};
use serde::{Deserialize, Serialize};

/// The `Server-Timing` metric on every session-dependent response of the layer, with the
/// description [`SIGNED_IN`] or [`SIGNED_OUT`]: how the provider in the browser learns
/// from any same-origin response that the session ended (or began) elsewhere.
#[cfg_attr(
    not(all(feature = "hydrate", target_arch = "wasm32")),
    allow(dead_code)
)] // read by the browser half
pub(crate) const SESSION_TIMING: &str = "authkit-session";
/// The session was there for the response.
#[cfg_attr(
    not(all(feature = "hydrate", target_arch = "wasm32")),
    allow(dead_code)
)] // read by the browser half
pub(crate) const SIGNED_IN: &str = "signed-in";
/// The response was answered signed out (no session, or it ended on this request).
#[cfg_attr(
    not(all(feature = "hydrate", target_arch = "wasm32")),
    allow(dead_code)
)] // read by the browser half
pub(crate) const SIGNED_OUT: &str = "signed-out";

/// The session as the page sees it: every field of [`Auth`](crate::Auth) except the access
/// token and the refresh token, which never reach the HTML. Signed out, `user` is `None`
/// and the lists are empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthSnapshot {
    /// The signed-in user.
    pub user: Option<User>,
    /// The session id (`sid`).
    pub session_id: Option<String>,
    /// The organization the session is in (`org_id`).
    pub organization_id: Option<String>,
    /// The user's role in that organization.
    pub role: Option<String>,
    /// All of the user's roles.
    pub roles: Vec<String>,
    /// The permissions those roles grant.
    pub permissions: Vec<String>,
    /// The organization's entitlements.
    pub entitlements: Vec<String>,
    /// The feature flags enabled for the user.
    pub feature_flags: Vec<String>,
    /// Present when an admin is impersonating the user.
    pub impersonator: Option<Impersonator>,
    /// Whether the [`AuthKitLayer`](crate::AuthKitLayer) covered the request this snapshot
    /// was taken from. `false` means "unknown", not "signed out": the path is missing from
    /// the layer's matcher, and [`Protected`](crate::Protected) says so instead of
    /// redirecting.
    pub covered: bool,
    /// Where the crate's routes are, for links and navigations in the browser.
    pub config: ClientConfig,
}

/// The parts of the configuration the browser needs: where the sign-in and sign-up start
/// routes are, and which origin besides this one a navigation may go to (WorkOS).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The sign-in start route (default `/auth/sign-in`).
    pub sign_in_path: String,
    /// The sign-up start route (default `/auth/sign-up`).
    pub sign_up_path: String,
    /// The WorkOS API origin (e.g. `https://api.workos.com`), the only other origin the
    /// client follows a [`ReauthenticationRequired`](crate::AuthError::ReauthenticationRequired) URL to.
    pub workos_origin: Option<String>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            sign_in_path: "/auth/sign-in".to_owned(),
            sign_up_path: "/auth/sign-up".to_owned(),
            workos_origin: None,
        }
    }
}

impl AuthSnapshot {
    /// Whether someone is signed in.
    pub fn is_signed_in(&self) -> bool {
        self.user.is_some()
    }

    /// Whether `flag` is enabled for the user.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.feature_flags.iter().any(|f| f == flag)
    }

    /// Whether the user has `permission` in the current organization.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// Whether the user has `role` (the organization role or one of `roles`).
    pub fn has_role(&self, role: &str) -> bool {
        self.role.as_deref() == Some(role) || self.roles.iter().any(|r| r == role)
    }

    /// Whether the organization has `entitlement`.
    pub fn has_entitlement(&self, entitlement: &str) -> bool {
        self.entitlements.iter().any(|e| e == entitlement)
    }
}

#[cfg(feature = "ssr")]
impl AuthSnapshot {
    /// The snapshot of the session the layer resolved for this request, taken from the
    /// `http::request::Parts` leptos_axum provides. Outside a covered request it is
    /// signed out with `covered: false`.
    pub fn from_request() -> Self {
        let parts = leptos::prelude::use_context::<http::request::Parts>();
        let request_auth = parts
            .as_ref()
            .and_then(|p| p.extensions.get::<crate::RequestAuth>().cloned());
        match request_auth {
            Some(request_auth) => {
                let config = ClientConfig::of(request_auth.authkit());
                Self::from_auth(request_auth.auth(), config)
            }
            None => Self {
                config: parts
                    .as_ref()
                    .and_then(|p| p.extensions.get::<crate::AuthKit>().cloned())
                    .or_else(leptos::prelude::use_context::<crate::AuthKit>)
                    .map(|kit| ClientConfig::of(&kit))
                    .unwrap_or_default(),
                ..Self::default()
            },
        }
    }

    /// The snapshot of `auth` (dropping its access token).
    pub(crate) fn from_auth(auth: crate::Auth, config: ClientConfig) -> Self {
        Self {
            user: auth.user,
            session_id: auth.session_id,
            organization_id: auth.organization_id,
            role: auth.role,
            roles: auth.roles,
            permissions: auth.permissions,
            entitlements: auth.entitlements,
            feature_flags: auth.feature_flags,
            impersonator: auth.impersonator,
            covered: true,
            config,
        }
    }
}

#[cfg(feature = "ssr")]
impl ClientConfig {
    pub(crate) fn of(kit: &crate::AuthKit) -> Self {
        Self {
            sign_in_path: kit.sign_in_path().to_owned(),
            sign_up_path: kit.sign_up_path().to_owned(),
            workos_origin: Some(kit.config().api_base_url().origin().ascii_serialization()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_read_the_lists() {
        let s = AuthSnapshot {
            role: Some("admin".into()),
            roles: vec!["admin".into(), "billing".into()],
            permissions: vec!["posts:read".into()],
            entitlements: vec!["sso".into()],
            feature_flags: vec!["new-feature".into()],
            ..AuthSnapshot::default()
        };
        assert!(!s.is_signed_in());
        assert!(s.has_role("admin") && s.has_role("billing") && !s.has_role("owner"));
        assert!(s.has_permission("posts:read") && !s.has_permission("posts:write"));
        assert!(s.has_entitlement("sso") && !s.has_entitlement("audit-logs"));
        assert!(s.has_flag("new-feature") && !s.has_flag("dark-mode"));
    }
}
