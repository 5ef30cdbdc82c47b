//! Turning "sign in first" into a navigation in the browser, safely.
//!
//! A server function that answers [`AuthError::SignInRequired`] or
//! [`AuthError::ReauthenticationRequired`] to a WebAssembly caller ends in a full-page
//! navigation: server_fn decodes a server function's error in the browser with
//! `FromServerFnError::de`, and the crate's implementation for [`AuthError`] (here, beside
//! [`decode_server_fn_error`] that apps with their own error type call) follows it with
//! [`follow_auth_error`], so apps need no glue code. An error value can reach the page from
//! its URL (Leptos carries a failed server action's error in `?__path=…&__err=…`), so the
//! URL inside the error is never trusted as it is:
//!
//! - sign-in goes to the configured sign-in route with the page the user is on as
//!   `return_to` (the URL in the error is ignored);
//! - re-authentication goes to the URL in the error only when it is a same-origin path or
//!   on the configured WorkOS origin, else to the sign-in route.

use crate::error::{has_unsafe_bytes, is_same_origin_path, AuthError};
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::de::DeserializeOwned;

use super::snapshot::ClientConfig;

#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
thread_local! {
    /// The configuration the provider last saw, for navigations started outside any
    /// reactive owner: server_fn decodes an error wherever the call was awaited (a plain
    /// `spawn_local` has no owner, so no context to read it from). The browser runs one
    /// thread, and only the browser follows errors: the server keeps no such state.
    static CONFIG: std::cell::RefCell<Option<ClientConfig>> = const { std::cell::RefCell::new(None) };
}

/// Remembers the client configuration for navigations started outside any reactive owner
/// (a server function's error decoding). In the browser only: on the server, where no
/// error is followed, it does nothing, so no render writes shared state.
pub(crate) fn remember_config(config: &ClientConfig) {
    #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
    CONFIG.with(|c| *c.borrow_mut() = Some(config.clone()));
    #[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
    let _ = config;
}

/// The configuration the provider last saw, else the defaults (in the browser).
#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
pub(crate) fn current_config() -> ClientConfig {
    CONFIG.with(|c| c.borrow().clone()).unwrap_or_default()
}

impl FromServerFnError for AuthError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::ServerFn(value.to_string())
    }

    /// Decodes the error a server function answered (or the layer's `401` body in
    /// middleware-auth mode) and, in the browser, follows a sign-in or re-authentication
    /// error with a full-page navigation ([`follow_auth_error`]): apps need no glue code
    /// for it.
    fn de(data: leptos::server_fn::Bytes) -> Self {
        let error = serde_json::from_slice(&data)
            .unwrap_or_else(|e| Self::ServerFn(format!("undecodable error response: {e}")));
        follow_auth_error(&error);
        error
    }
}

/// An error type that may carry an [`AuthError`]: implement it for your server functions'
/// own error type so [`decode_server_fn_error`] can follow sign-in errors for it too.
pub trait AsAuthError {
    /// The auth error inside, if any.
    fn as_auth_error(&self) -> Option<&AuthError>;
}

impl AsAuthError for AuthError {
    fn as_auth_error(&self) -> Option<&AuthError> {
        Some(self)
    }
}

/// Decodes a server function's error body for an app's own error type `E`, the way the
/// crate does for [`AuthError`]: the body is `E`'s JSON, or an [`AuthError`]'s (what the
/// layer's middleware-auth mode answers with `401`), converted with `From`. A sign-in or
/// re-authentication error inside is followed ([`follow_auth_error`]). Call it from your
/// `FromServerFnError::de`:
///
/// ```
/// use authkit_leptos::{decode_server_fn_error, AsAuthError, AuthError};
/// use leptos::server_fn::codec::JsonEncoding;
/// use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Debug, Serialize, Deserialize, thiserror::Error)]
/// pub enum AppError {
///     #[error(transparent)]
///     Auth(#[from] AuthError),
///     #[error("{0}")]
///     Other(String),
/// }
///
/// impl AsAuthError for AppError {
///     fn as_auth_error(&self) -> Option<&AuthError> {
///         match self {
///             AppError::Auth(e) => Some(e),
///             _ => None,
///         }
///     }
/// }
///
/// impl FromServerFnError for AppError {
///     type Encoder = JsonEncoding;
///     fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
///         AppError::Other(e.to_string())
///     }
///     fn de(data: leptos::server_fn::Bytes) -> Self {
///         decode_server_fn_error(&data)
///     }
/// }
/// ```
pub fn decode_server_fn_error<E>(data: &[u8]) -> E
where
    E: FromServerFnError + DeserializeOwned + From<AuthError> + AsAuthError,
{
    let error = match serde_json::from_slice::<E>(data) {
        Ok(e) => e,
        Err(first) => match serde_json::from_slice::<AuthError>(data) {
            Ok(auth) => E::from(auth),
            Err(_) => E::from_server_fn_error(ServerFnErrorErr::Deserialization(first.to_string())),
        },
    };
    if let Some(auth) = error.as_auth_error() {
        follow_auth_error(auth);
    }
    error
}

/// In the browser: navigates (full page) to sign in when `error` asks for it, returning to
/// the page the user is on; does nothing for other errors and on the server. The crate's
/// `FromServerFnError::de` for [`AuthError`] calls it, so a server function answering
/// [`AuthError::SignInRequired`] or [`AuthError::ReauthenticationRequired`] to a
/// WebAssembly caller needs no glue code.
///
/// An error value can reach the page from its URL (Leptos carries a failed server action's
/// error in `?__path=…&__err=…`), so the URL inside the error is never trusted as it is:
///
/// - sign-in goes to the configured sign-in route with the page the user is on as
///   `return_to` (the URL in the error is ignored);
/// - re-authentication goes to the URL in the error only when it is a same-origin path or
///   on the configured WorkOS origin, else to the sign-in route.
pub fn follow_auth_error(error: &AuthError) {
    #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
    {
        let location = leptos::prelude::window().location();
        let search = location.search().unwrap_or_default();
        // An error carried in the page's own URL (a server action without JavaScript, or a
        // crafted link) is data from the URL, not an answer from the server: never act on it.
        if carries_action_error(&search) {
            return;
        }
        let here = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            without_action_params(&search)
        );
        let origin = location.origin().unwrap_or_default();
        if let Some(target) = navigation_target(error, &current_config(), &origin, &here) {
            let _ = location.set_href(&target);
        }
    }
    #[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
    let _ = error;
}

/// Where to navigate for `error`, seen from `here` (path and query) on `origin`.
#[cfg_attr(
    not(all(feature = "hydrate", target_arch = "wasm32")),
    allow(dead_code)
)]
pub(crate) fn navigation_target(
    error: &AuthError,
    config: &ClientConfig,
    origin: &str,
    here: &str,
) -> Option<String> {
    match error {
        AuthError::SignInRequired { .. } => Some(sign_in_href(&config.sign_in_path, here)),
        AuthError::ReauthenticationRequired { url } => {
            let trusted = is_same_origin_path(url)
                || is_on_origin(url, origin)
                || config
                    .workos_origin
                    .as_deref()
                    .is_some_and(|o| is_on_origin(url, o));
            Some(if trusted {
                url.clone()
            } else {
                sign_in_href(&config.sign_in_path, here)
            })
        }
        _ => None,
    }
}

/// Whether a query string (`?a=b&…`) carries a Leptos server-action error (`__err`).
#[cfg_attr(
    not(all(feature = "hydrate", target_arch = "wasm32")),
    allow(dead_code)
)]
pub(crate) fn carries_action_error(search: &str) -> bool {
    form_urlencoded::parse(search.trim_start_matches('?').as_bytes()).any(|(k, _)| k == "__err")
}

/// `search` (with its `?`) without Leptos's server-action parameters (`__path`, `__err`),
/// so a return path never brings an old action error back.
#[cfg_attr(
    not(all(feature = "hydrate", target_arch = "wasm32")),
    allow(dead_code)
)]
pub(crate) fn without_action_params(search: &str) -> String {
    let kept: Vec<(String, String)> =
        form_urlencoded::parse(search.trim_start_matches('?').as_bytes())
            .filter(|(k, _)| k != "__path" && k != "__err")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    if kept.is_empty() {
        return String::new();
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    format!("?{query}")
}

/// `start_path?return_to=<path>` with `path` percent-encoded (`application/x-www-form-urlencoded`).
pub(crate) fn sign_in_href(start_path: &str, return_to: &str) -> String {
    let start_path = if is_same_origin_path(start_path) {
        start_path
    } else {
        "/auth/sign-in"
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", return_to)
        .finish();
    format!("{start_path}?{query}")
}

/// `url` is an absolute URL on `origin` (`scheme://host[:port]`, exactly, then `/`, `?` or
/// the end), with no backslash, whitespace or control character.
#[cfg_attr(
    not(all(feature = "hydrate", target_arch = "wasm32")),
    allow(dead_code)
)]
pub(crate) fn is_on_origin(url: &str, origin: &str) -> bool {
    if origin.is_empty() || origin == "null" || has_unsafe_bytes(url) {
        return false;
    }
    url.strip_prefix(origin)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration the provider last saw, else the defaults.
    fn test_config() -> ClientConfig {
        ClientConfig {
            sign_in_path: "/auth/sign-in".into(),
            sign_up_path: "/auth/sign-up".into(),
            workos_origin: Some("https://api.workos.com".into()),
        }
    }

    #[test]
    fn sign_in_ignores_the_url_in_the_error_and_returns_here() {
        for url in [
            "/auth/sign-in?return_to=%2F",
            "https://evil.example/phish",
            "//evil.example",
            "javascript:alert(1)",
        ] {
            let e = AuthError::SignInRequired {
                sign_in_url: url.into(),
            };
            assert_eq!(
                navigation_target(
                    &e,
                    &test_config(),
                    "http://127.0.0.1:3000",
                    "/protected?x=1&y=2"
                )
                .as_deref(),
                Some("/auth/sign-in?return_to=%2Fprotected%3Fx%3D1%26y%3D2"),
                "{url}"
            );
        }
    }

    /// The shared list of hostile return paths (`tests/data/hostile_return_paths.json`,
    /// also run through the server's entry points): as the URL of a re-authentication
    /// error, and as the page the browser is on, the navigation never leaves the origin.
    #[test]
    #[cfg(feature = "ssr")]
    fn hostile_urls_never_take_the_browser_off_the_origin() {
        let hostile: Vec<String> =
            serde_json::from_str(include_str!("../../tests/data/hostile_return_paths.json"))
                .unwrap();
        assert!(hostile.len() >= 40);
        let origin = "http://127.0.0.1:3000";
        let page = url::Url::parse("http://127.0.0.1:3000/here").unwrap();
        for value in &hostile {
            for error in [
                AuthError::ReauthenticationRequired { url: value.clone() },
                AuthError::SignInRequired {
                    sign_in_url: value.clone(),
                },
            ] {
                let target = navigation_target(&error, &test_config(), origin, "/here")
                    .expect("a navigation");
                assert!(
                    !target.bytes().any(|b| b < 0x20 || b == 0x7f),
                    "{value:?}: {target:?}"
                );
                let resolved = page.join(&target).unwrap();
                assert_eq!(resolved.origin(), page.origin(), "{value:?} → {target}");
            }
            // The hostile value as the page the browser is on: the sign-in link stays
            // a same-origin path whatever it carries as `return_to`.
            let href = sign_in_href("/auth/sign-in", value);
            assert!(is_same_origin_path(&href), "{value:?}: {href}");
        }
    }

    #[test]
    fn reauthentication_follows_only_this_origin_or_workos() {
        let origin = "http://127.0.0.1:3000";
        let follow = |url: &str| {
            navigation_target(
                &AuthError::ReauthenticationRequired { url: url.into() },
                &test_config(),
                origin,
                "/dashboard",
            )
            .unwrap()
        };
        for ok in [
            "/auth/sign-in?organization_id=org_1&return_to=%2Fdashboard",
            "http://127.0.0.1:3000/auth/sign-in?organization_id=org_1",
            "https://api.workos.com/user_management/authorize?client_id=c",
            "https://api.workos.com",
        ] {
            assert_eq!(follow(ok), ok);
        }
        for hostile in [
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example/",
            "https://api.workos.com.evil.example/",
            "https://api.workos.com@evil.example/",
            "http://127.0.0.1:30001/",
            "javascript:alert(1)",
            "/ok\t/x",
            "/ok\n",
            "https://api.workos.com/\\evil",
            "",
        ] {
            assert_eq!(
                follow(hostile),
                "/auth/sign-in?return_to=%2Fdashboard",
                "{hostile:?}"
            );
        }
    }

    #[test]
    fn action_errors_in_the_url_are_recognised_and_dropped_from_return_paths() {
        assert!(carries_action_error("?__path=%2Fapi%2Fx&__err=eyJ9"));
        assert!(carries_action_error("__err="));
        assert!(!carries_action_error("?x=__err"));
        assert!(!carries_action_error(""));
        assert_eq!(
            without_action_params("?__path=%2Fapi&__err=e30&tab=2"),
            "?tab=2"
        );
        assert_eq!(without_action_params("?__err=e30"), "");
        assert_eq!(without_action_params(""), "");
        assert_eq!(without_action_params("?a=1&b=x+y"), "?a=1&b=x+y");
    }

    #[test]
    fn other_errors_do_not_navigate() {
        for e in [
            AuthError::InvalidInput("x".into()),
            AuthError::Internal("x".into()),
            AuthError::ServerFn("x".into()),
        ] {
            assert_eq!(navigation_target(&e, &test_config(), "http://a", "/"), None);
        }
    }

    #[test]
    fn a_hostile_configured_sign_in_path_falls_back_to_the_default() {
        assert_eq!(
            sign_in_href("//evil.example", "/"),
            "/auth/sign-in?return_to=%2F"
        );
        assert_eq!(sign_in_href("/login", "/a b"), "/login?return_to=%2Fa+b");
    }

    #[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq)]
    enum AppError {
        Auth(AuthError),
        Other(String),
    }
    impl From<AuthError> for AppError {
        fn from(e: AuthError) -> Self {
            AppError::Auth(e)
        }
    }
    impl AsAuthError for AppError {
        fn as_auth_error(&self) -> Option<&AuthError> {
            match self {
                AppError::Auth(e) => Some(e),
                AppError::Other(_) => None,
            }
        }
    }
    impl FromServerFnError for AppError {
        type Encoder = leptos::server_fn::codec::JsonEncoding;
        fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
            AppError::Other(e.to_string())
        }
    }

    #[test]
    fn an_app_error_type_keeps_the_sign_in_url_from_either_body() {
        let auth = AuthError::SignInRequired {
            sign_in_url: "/auth/sign-in?return_to=%2Fx".into(),
        };
        // Its own JSON (the server fn returned AppError::Auth).
        let own = serde_json::to_vec(&AppError::Auth(auth.clone())).unwrap();
        assert_eq!(
            decode_server_fn_error::<AppError>(&own),
            AppError::Auth(auth.clone())
        );
        // The layer's 401 body in middleware-auth mode: an AuthError.
        let layer = serde_json::to_vec(&auth).unwrap();
        let decoded = decode_server_fn_error::<AppError>(&layer);
        assert_eq!(
            decoded.as_auth_error().and_then(AuthError::sign_in_url),
            auth.sign_in_url()
        );
        // Garbage: a deserialization error, not a panic.
        assert!(matches!(
            decode_server_fn_error::<AppError>(b"\xff not json"),
            AppError::Other(_)
        ));
    }
}
