//! [`AuthSnapshot`]: what the browser may know about the session.

use crate::session_claims::deref_to_claims;
use crate::user::User;
use crate::SessionClaims;
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
/// and the lists are empty. Dereferences to its [`SessionClaims`], as `Auth` does, so the
/// page asks `snapshot.has_role("admin")` exactly as a server function asks
/// `auth.has_role("admin")`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthSnapshot {
    /// The signed-in user.
    pub user: Option<User>,
    /// The session id (`sid`).
    pub session_id: Option<String>,
    /// What the session allows (also reached through `Deref`). Flattened in the JSON the
    /// page and `/api/authkit/snapshot` carry: `{"user", "session_id", "organization_id",
    /// "role", …}`, as before the claims had a struct of their own.
    #[serde(flatten)]
    pub claims: SessionClaims,
    /// Whether the [`AuthKitLayer`](crate::AuthKitLayer) covered the request this snapshot
    /// was taken from. `false` means "unknown", not "signed out": the path is missing from
    /// the layer's matcher, and [`Protected`](crate::Protected) says so instead of
    /// redirecting.
    pub covered: bool,
    /// Where the crate's routes are, for links and navigations in the browser.
    pub config: ClientConfig,
}
deref_to_claims!(AuthSnapshot);

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
}

#[cfg(feature = "ssr")]
impl AuthSnapshot {
    /// The snapshot of the session the layer resolved for this request, taken from the
    /// `http::request::Parts` leptos_axum provides. Outside a covered request it is
    /// signed out with `covered: false`.
    pub fn from_request() -> Self {
        use crate::request_auth::{current_request, LayerState};
        let parts = current_request().ok();
        let state = parts.as_ref().map(LayerState::of);
        match state.as_ref().and_then(LayerState::request_auth) {
            Some(request_auth) => {
                let config = ClientConfig::of(request_auth.authkit());
                Self::from_auth(request_auth.auth(), config)
            }
            None => Self {
                config: state
                    .and_then(|s| s.authkit())
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
            claims: auth.claims,
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
    fn the_predicates_are_the_claims_own() {
        let s = AuthSnapshot {
            claims: SessionClaims {
                role: Some("admin".into()),
                feature_flags: vec!["new-feature".into()],
                ..SessionClaims::default()
            },
            ..AuthSnapshot::default()
        };
        assert!(!s.is_signed_in());
        assert!(s.has_role("admin") && !s.has_role("owner"));
        assert!(s.has_feature_flag("new-feature") && !s.has_feature_flag("dark-mode"));
        assert_eq!(
            s.role.as_deref(),
            Some("admin"),
            "fields read through Deref"
        );
    }
}
