//! The server functions the components call. Each is an ordinary Leptos server function
//! under `/api/authkit/…` (covered by the layer's default server-function pattern), so an
//! app can also call them itself (e.g. `get_access_token().await` from a client-side
//! handler).

// The server macro generates an argument struct per function; its fields mirror the
// documented parameters.
#![allow(missing_docs)]

use super::snapshot::AuthSnapshot;
use crate::error::AuthError;
use leptos::server;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The paths of the server functions here that answer a signed-out caller with a
/// signed-out value (not an error); middleware-auth mode lets them through. Read from the
/// functions themselves (`ServerFn::PATH`, what `#[server]` registers), so a renamed
/// endpoint cannot leave a stale path behind.
#[cfg(feature = "ssr")]
pub(crate) const SIGNED_OUT_ANSWERS: [&str; 3] = {
    use leptos::server_fn::ServerFn as _;
    [
        AuthSnapshotFn::PATH,
        GetAccessToken::PATH,
        ListOrganizations::PATH,
    ]
};

/// The session as the browser may see it, read again (after a sign-in elsewhere, an
/// organization switch, or when the tab regains focus). Never contains a token.
#[server(name = AuthSnapshotFn, prefix = "/api", endpoint = "authkit/snapshot")]
pub async fn auth_snapshot() -> Result<AuthSnapshot, AuthError> {
    // A request the layer does not cover is an error worth seeing.
    let request_auth = crate::request_auth()?;
    if request_auth.is_undetermined() {
        // WorkOS or its keys are unreachable: the session is unknown, not ended. An error
        // keeps what the page shows (the provider ignores failed refreshes).
        return Err(AuthError::Refresh {
            message: "the session cannot be checked right now".to_owned(),
            transient: true,
        });
    }
    Ok(AuthSnapshot::from_request())
}

/// An access token for the browser to call APIs with (`Authorization: Bearer …`), as
/// authkit-nextjs's `getAccessToken` server action. `Debug` does not show the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenInfo {
    /// The JWT.
    pub token: String,
    /// Seconds until it expires, counted on the server when it answered (so the browser's
    /// clock does not matter).
    pub expires_in: u64,
}

impl fmt::Debug for AccessTokenInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenInfo")
            .field("token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The current access token (refreshed by the layer first when it is about to expire), or
/// `None` when signed out. Used by [`use_access_token`](crate::use_access_token).
#[server(name = GetAccessToken, prefix = "/api", endpoint = "authkit/access-token")]
pub async fn get_access_token() -> Result<Option<AccessTokenInfo>, AuthError> {
    let Some(signed_in) = crate::with_auth().await?.signed_in() else {
        return Ok(None);
    };
    let expires_in = crate::get_token_claims::<serde_json::Value>()
        .await?
        .and_then(|claims| claims.get("exp").and_then(serde_json::Value::as_u64))
        .map(|exp| exp.saturating_sub(crate::jwt::unix_now()))
        .unwrap_or_default();
    Ok(Some(AccessTokenInfo {
        token: signed_in.access_token.as_str().to_owned(),
        expires_in,
    }))
}

pub use crate::user::OrganizationChoice;

/// The organizations the signed-in user belongs to (active memberships, as WorkOS lists
/// them), for [`OrganizationSwitcher`](crate::OrganizationSwitcher). Empty when signed out.
/// Answered from a 30-second memory per user, within a bounded rate of WorkOS calls (see
/// [`AuthKitBuilder::lookup_rate`](crate::AuthKitBuilder::lookup_rate)).
#[server(name = ListOrganizations, prefix = "/api", endpoint = "authkit/organizations")]
pub async fn list_organizations() -> Result<Vec<OrganizationChoice>, AuthError> {
    let auth = crate::request_auth()?;
    let Some(signed_in) = auth.signed_in() else {
        return Ok(Vec::new());
    };
    let kit = auth.authkit();
    if !kit.client().has_api_key() {
        return Err(AuthError::api_key_required(
            "organization names and memberships (list_organizations)",
        ));
    }
    let user_id = &signed_in.user.id;
    let memberships = kit
        .lookups()
        .memberships(user_id, || async {
            let list = kit
                .client()
                .list_organization_memberships(user_id, None)
                .await?;
            let choices: Vec<OrganizationChoice> = list
                .data
                .into_iter()
                .filter(|m| m.status == "active")
                .map(|m| OrganizationChoice {
                    // Filled in below when WorkOS's list carries no name.
                    name: m.organization_name.clone().unwrap_or_default(),
                    id: m.organization_id,
                    role: m.role.map(|r| r.slug),
                })
                .collect();
            Ok(std::sync::Arc::from(choices))
        })
        .await
        .map_err(lookup_error)?;
    let mut choices = memberships.to_vec();
    // Older WorkOS answers (and other API versions) list memberships without the
    // organization's name: each missing one is fetched once (`GET /organizations/{id}`)
    // and remembered with the other lookups, so the switcher never shows bare ids. A name
    // that cannot be fetched right now falls back to the id.
    for choice in choices.iter_mut().filter(|c| c.name.is_empty()) {
        let id = choice.id.clone();
        choice.name = match kit
            .lookups()
            .organization_name(&id, || async {
                Ok::<_, crate::workos::WorkOsError>(kit.client().get_organization(&id).await?.name)
            })
            .await
        {
            Ok(name) => name,
            Err(e) => {
                tracing::debug!(organization_id = %id, error = ?e.map_upstream(|e| e.to_string()), "no organization name; showing the id");
                id
            }
        };
    }
    choices.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(choices)
}

/// What the browser learns of a failed lookup: whether to retry (details in the log).
#[cfg(feature = "ssr")]
fn lookup_error(e: crate::lookups::LookupError<crate::workos::WorkOsError>) -> AuthError {
    match e {
        crate::lookups::LookupError::Upstream(e) => AuthError::workos(&e),
        crate::lookups::LookupError::Busy => AuthError::workos_busy(),
    }
}

/// The endpoint behind [`OrganizationSwitcher`](crate::OrganizationSwitcher)'s form and
/// [`AuthContext::switch_to_organization`](crate::AuthContext::switch_to_organization):
/// [`switch_to_organization`](crate::switch_to_organization) for the browser (as
/// authkit-nextjs's `switchToOrganizationAction`). From a form without JavaScript the
/// browser comes back to the page it posted from. Not public: apps call one of the two.
#[server(name = SwitchOrganization, prefix = "/api", endpoint = "authkit/switch-organization")]
pub(crate) async fn switch_organization(organization_id: String) -> Result<(), AuthError> {
    crate::switch_to_organization(&organization_id).await?;
    Ok(())
}

/// The name of the organization `organization_id` (for the impersonation banner); `None`
/// when signed out or when it is not the session's organization. Answered from a
/// 30-second memory, within a bounded rate of WorkOS calls (see
/// [`AuthKitBuilder::lookup_rate`](crate::AuthKitBuilder::lookup_rate)).
#[server(name = OrganizationName, prefix = "/api", endpoint = "authkit/organization-name")]
pub async fn organization_name(organization_id: String) -> Result<Option<String>, AuthError> {
    let auth = crate::request_auth()?;
    let current = auth.signed_in().and_then(|s| s.claims.organization_id);
    if current.as_deref() != Some(organization_id.as_str()) {
        return Ok(None);
    }
    let kit = auth.authkit();
    if !kit.client().has_api_key() {
        return Err(AuthError::api_key_required(
            "organization names (organization_name)",
        ));
    }
    let name = kit
        .lookups()
        .organization_name(&organization_id, || async {
            Ok(kit.client().get_organization(&organization_id).await?.name)
        })
        .await
        .map_err(lookup_error)?;
    Ok(Some(name))
}
