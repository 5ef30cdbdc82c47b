//! How a failure on the server becomes an [`AuthError`] a server function may answer: the
//! detail (WorkOS's body and request id, a refresh's cause, a crypto failure) goes to the
//! server's log, and the browser learns only what it can act on — retry later, or sign in
//! again. The error type itself is in `error`, which both sides compile; these constructors
//! name server-only types, so they live on the server side.

use crate::error::AuthError;
use crate::refresh::RefreshError;
use crate::workos::WorkOsError;

/// What the browser sees of an [`AuthError::Internal`].
const INTERNAL_MESSAGE: &str = "the server's log has the details";
/// What the browser sees of a temporary WorkOS failure.
const WORKOS_UNAVAILABLE: &str = "WorkOS is unavailable; try again shortly";
/// What the browser sees of a WorkOS refusal.
const WORKOS_REFUSED: &str = "WorkOS refused the request; the server's log has the details";

impl AuthError {
    /// [`AuthError::Internal`] for a server-side failure: `detail` goes to the log only.
    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "authentication failed on the server");
        Self::Internal(INTERNAL_MESSAGE.to_owned())
    }

    /// [`AuthError::WorkOs`] for a failed WorkOS call: the error (with WorkOS's body and
    /// request id) goes to the log; the browser learns only whether to retry.
    pub(crate) fn workos(error: &WorkOsError) -> Self {
        if let WorkOsError::ApiKeyRequired { endpoint } = error {
            return Self::api_key_required(endpoint);
        }
        if error.is_transient() {
            tracing::warn!(error = %error, "a WorkOS call failed (temporary)");
            Self::WorkOs(WORKOS_UNAVAILABLE.to_owned())
        } else {
            tracing::error!(error = %error, "WorkOS refused a call");
            Self::WorkOs(WORKOS_REFUSED.to_owned())
        }
    }

    /// [`AuthError::ApiKeyRequired`] for `feature` (a public client): a server function
    /// answers `501`, not the `500` Leptos gives any `Err`.
    pub(crate) fn api_key_required(feature: &str) -> Self {
        tracing::debug!(feature, "a feature that needs WORKOS_API_KEY was called");
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_IMPLEMENTED);
        }
        Self::ApiKeyRequired {
            feature: feature.to_owned(),
        }
    }

    /// [`AuthError::WorkOs`] for a WorkOS call this server held back (over the rate of
    /// the components' lookups): the browser learns to retry, as for WorkOS being busy.
    pub(crate) fn workos_busy() -> Self {
        Self::WorkOs(WORKOS_UNAVAILABLE.to_owned())
    }

    /// [`AuthError::Refresh`] for a failed refresh: the error goes to the log; the message
    /// says whether the session is kept or over.
    pub(crate) fn refresh(error: &RefreshError) -> Self {
        tracing::warn!(error = %error, "refreshing the session failed");
        let message = if error.ends_session() {
            "the session has ended; sign in again"
        } else if error.is_transient() {
            "WorkOS is unavailable; the session is kept, try again shortly"
        } else {
            "the session could not be refreshed; the server's log has the details"
        };
        Self::Refresh {
            message: message.to_owned(),
            transient: error.is_transient(),
        }
    }

    /// [`AuthError::NotCovered`] for a request at `path`, with a matcher pattern to suggest.
    pub(crate) fn not_covered(path: &str) -> Self {
        let first_segment = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Self::NotCovered {
            path: path.to_owned(),
            first_segment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_covered_names_the_path_and_a_pattern() {
        let e = AuthError::not_covered("/settings/billing");
        let text = e.to_string();
        assert!(text.contains("`/settings/billing`"), "{text}");
        assert!(text.contains("\"/settings/:path*\""), "{text}");
        assert!(text.contains("AuthKitLayer::matcher"), "{text}");
    }
}
