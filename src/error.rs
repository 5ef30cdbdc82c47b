//! [`AuthError`]: what the session API returns when it cannot give an answer. Shared by the
//! server and the hydrated client, so a server function can return it and the browser can
//! act on it (for example navigate to [`AuthError::sign_in_url`], the checked target).
//!
//! A leaf: the type and what both sides read from it, nothing else of the crate. What acts
//! on it lives with the side that acts: the server's constructors (which log the detail and
//! tell the browser only what it can act on) in `server_errors`, and the browser's decoding
//! of a server function's error, which follows a sign-in error with a navigation, in
//! `components::navigate`.

use serde::{Deserialize, Serialize};

/// Why an auth call did not return a session.
///
/// Shared by the server and the hydrated client, so a server function can return it and
/// the browser can act on it (for example navigate to [`AuthError::sign_in_url`]). A server
/// function returning it needs no glue code in the browser: decoding a sign-in or
/// re-authentication error there starts the navigation ([`follow_auth_error`](crate::follow_auth_error)).
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
    /// The call needs the WorkOS API key and the app runs as a public client (no
    /// `WORKOS_API_KEY`): `feature` names what is off. Not a failure of WorkOS, nor worth
    /// retrying; a server function answers it with status `501 Not Implemented`.
    #[error(
        "{feature} needs the WorkOS API key, which this app does not configure (WORKOS_API_KEY)"
    )]
    ApiKeyRequired {
        /// What is off, e.g. `organization names and memberships`.
        feature: String,
    },
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
}

/// A path on this origin: starts with one `/`, never `//` or `/\` (which browsers read as
/// another host), and holds no backslash, whitespace or control character (which browsers
/// drop or turn into `/`). The components' navigation uses the same rule.
pub(crate) fn is_same_origin_path(url: &str) -> bool {
    let bytes = url.as_bytes();
    bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !has_unsafe_bytes(url)
}

/// A backslash, whitespace or control character: what browsers drop or turn into `/`
/// inside a URL, so a URL holding one is never followed.
pub(crate) fn has_unsafe_bytes(url: &str) -> bool {
    url.chars()
        .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[cfg(feature = "ssr")]
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
