//! [`AuthError`]: what the session API returns when it cannot give an answer. Shared by the
//! server and the hydrated client, so a server function can return it and the browser can
//! act on it (for example navigate to [`AuthError::sign_in_url`], the checked target).

use serde::{Deserialize, Serialize};

/// Why an auth call did not return a session.
///
/// Shared by the server and the hydrated client, so a server function can return it and
/// the browser can act on it (for example navigate to [`AuthError::sign_in_url`]; the
/// components do it for you, see [`follow_auth_error`](crate::follow_auth_error)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// `with_auth()` ran on a request the AuthKit layer does not cover. This is a
    /// configuration mistake, not "signed out".
    #[error(
        "with_auth() was called on `{path}`, which the AuthKit layer does not cover: add a pattern \
         for it to AuthKitLayer::matcher([...]), e.g. \"{path}\" or \"/{first_segment}/:path*\""
    )]
    NotCovered {
        /// The request path.
        path: String,
        /// Its first segment, for the suggested pattern.
        first_segment: String,
    },
    /// Called outside a request handled by leptos_axum (no `http::request::Parts` in context).
    #[error(
        "with_auth() needs the request context leptos_axum provides: call it in a server function \
         or while rendering a page (in a plain axum handler, extract `Auth` instead)"
    )]
    NoRequestContext,
    /// The caller must sign in first. Document requests were already redirected (302);
    /// in the browser the crate navigates a WebAssembly caller to sign in by itself, or
    /// navigate to [`AuthError::sign_in_url`] (the checked target).
    #[error("sign in to continue: {sign_in_url}")]
    SignInRequired {
        /// The same-origin URL that starts the sign-in flow and returns here afterwards.
        sign_in_url: String,
    },
    /// Refreshing the session failed. `transient` failures (WorkOS down or rate-limiting)
    /// leave the session in place. `message` says which case it is, in words fit for the
    /// browser; what WorkOS answered is in the server's log.
    #[error("refreshing the session failed ({}): {message}", if *transient { "temporary" } else { "session ended" })]
    Refresh {
        /// What went wrong.
        message: String,
        /// Whether it is worth retrying later.
        transient: bool,
    },
    /// WorkOS requires the user to go through AuthKit again (SSO, MFA enrollment) to
    /// enter an organization, at `url` (WorkOS's page, or this app's sign-in route). In
    /// the browser the crate navigates there by itself after checking the origin; see
    /// [`AuthError::sign_in_url`] before following `url` from your own code.
    #[error("the user must authenticate again to continue: {url}")]
    ReauthenticationRequired {
        /// Where to send the user.
        url: String,
    },
    /// The request itself is unusable (e.g. custom state too large for the sign-in cookie).
    #[error("invalid request: {0}")]
    InvalidInput(String),
    /// A WorkOS call failed. The message says only whether it is worth retrying; WorkOS's
    /// answer (status, body, request id) is logged on the server, never sent to the browser.
    #[error("WorkOS request failed: {0}")]
    WorkOs(String),
    /// Something on the server failed. The message is generic; the details are in the
    /// server's log, never sent to the browser.
    #[error("authentication failed on the server: {0}")]
    Internal(String),
    /// The server function call itself failed (network, encoding).
    #[error("server function call failed: {0}")]
    ServerFn(String),
}

impl AuthError {
    /// Where a page may navigate when the error asks the user to (re)authenticate: the
    /// URL the error carries **only when it is a path on this origin** (one leading `/`,
    /// not `//` or `/\`, no backslash, whitespace or control character), else `None`.
    ///
    /// An error value can reach a page from the page's own URL (Leptos carries a failed
    /// server action's error in `?__err=…`), so the URL inside is not trusted as it is:
    /// whatever it says, this never hands out another host to navigate to. The URLs this
    /// crate makes for [`SignInRequired`](Self::SignInRequired) are always such paths. A
    /// [`ReauthenticationRequired`](Self::ReauthenticationRequired) URL on WorkOS's own
    /// origin (an SSO or MFA page) gives `None` here:
    /// [`follow_auth_error`](crate::follow_auth_error) — which the components call for
    /// you — checks it against the WorkOS origin the provider knows and navigates there;
    /// read the `url` field yourself only where you trust the error's source (on the
    /// server).
    pub fn sign_in_url(&self) -> Option<&str> {
        let url = match self {
            Self::SignInRequired { sign_in_url } => sign_in_url,
            Self::ReauthenticationRequired { url } => url,
            _ => return None,
        };
        is_same_origin_path(url).then_some(url.as_str())
    }

    /// [`AuthError::Internal`] for a server-side failure: `detail` goes to the log only.
    #[cfg(feature = "ssr")]
    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "authentication failed on the server");
        Self::Internal(INTERNAL_MESSAGE.to_owned())
    }

    /// [`AuthError::WorkOs`] for a failed WorkOS call: the error (with WorkOS's body and
    /// request id) goes to the log; the browser learns only whether to retry.
    #[cfg(feature = "ssr")]
    pub(crate) fn workos(error: &crate::workos::WorkOsError) -> Self {
        if error.is_transient() {
            tracing::warn!(error = %error, "a WorkOS call failed (temporary)");
            Self::WorkOs(WORKOS_UNAVAILABLE.to_owned())
        } else {
            tracing::error!(error = %error, "WorkOS refused a call");
            Self::WorkOs(WORKOS_REFUSED.to_owned())
        }
    }

    /// [`AuthError::WorkOs`] for a WorkOS call this server held back (over the rate of
    /// the components' lookups): the browser learns to retry, as for WorkOS being busy.
    #[cfg(feature = "ssr")]
    pub(crate) fn workos_busy() -> Self {
        Self::WorkOs(WORKOS_UNAVAILABLE.to_owned())
    }

    /// [`AuthError::Refresh`] for a failed refresh: the error goes to the log; the message
    /// says whether the session is kept or over.
    #[cfg(feature = "ssr")]
    pub(crate) fn refresh(error: &crate::refresh::RefreshError) -> Self {
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

    #[cfg(feature = "ssr")]
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

/// A path on this origin: starts with one `/`, never `//` or `/\` (which browsers read as
/// another host), and holds no backslash, whitespace or control character (which browsers
/// drop or turn into `/`). The components' navigation uses the same rule.
fn is_same_origin_path(url: &str) -> bool {
    let bytes = url.as_bytes();
    bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !url
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
}

/// What the browser sees of an [`AuthError::Internal`].
#[cfg(feature = "ssr")]
const INTERNAL_MESSAGE: &str = "the server's log has the details";
/// What the browser sees of a temporary WorkOS failure.
#[cfg(feature = "ssr")]
const WORKOS_UNAVAILABLE: &str = "WorkOS is unavailable; try again shortly";
/// What the browser sees of a WorkOS refusal.
#[cfg(feature = "ssr")]
const WORKOS_REFUSED: &str = "WorkOS refused the request; the server's log has the details";

impl leptos::server_fn::error::FromServerFnError for AuthError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        Self::ServerFn(value.to_string())
    }

    /// Decodes the error a server function answered (or the layer's `401` body in
    /// middleware-auth mode) and, in the browser, follows a sign-in or re-authentication
    /// error with a full-page navigation ([`follow_auth_error`](crate::follow_auth_error)):
    /// apps need no glue code for it.
    fn de(data: leptos::server_fn::Bytes) -> Self {
        let error = serde_json::from_slice(&data)
            .unwrap_or_else(|e| Self::ServerFn(format!("undecodable error response: {e}")));
        #[cfg(any(feature = "ssr", feature = "hydrate"))]
        crate::components::follow_auth_error(&error);
        error
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

    /// An error can reach the page from its own URL (a failed server action's `__err`), so
    /// the target `sign_in_url()` gives is one a page may navigate to without more checks:
    /// a path on this origin, never another host (#23 item 8).
    #[test]
    fn sign_in_url_gives_only_a_path_on_this_origin() {
        for hostile in [
            "https://evil.example/auth/sign-in",
            "//evil.example/auth/sign-in",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "/auth/sign-in\n",
            "",
            "auth/sign-in",
        ] {
            let e = AuthError::SignInRequired {
                sign_in_url: hostile.into(),
            };
            assert_eq!(e.sign_in_url(), None, "{hostile:?}");
            let e = AuthError::ReauthenticationRequired {
                url: hostile.into(),
            };
            assert_eq!(e.sign_in_url(), None, "{hostile:?}");
        }
        let e = AuthError::ReauthenticationRequired {
            url: "/auth/sign-in?organization_id=org_1".into(),
        };
        assert_eq!(e.sign_in_url(), Some("/auth/sign-in?organization_id=org_1"));
    }

    #[test]
    fn sign_in_url_is_reachable_and_survives_json() {
        let e = AuthError::SignInRequired {
            sign_in_url: "/auth/sign-in?return_to=%2Fdashboard".into(),
        };
        let json = serde_json::to_string(&e).unwrap();
        let back: AuthError = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.sign_in_url(),
            Some("/auth/sign-in?return_to=%2Fdashboard")
        );
    }
}
