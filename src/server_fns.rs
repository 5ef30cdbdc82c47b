//! Server functions the crate provides; callable from the browser (WebAssembly) and from
//! plain HTML forms (`<ActionForm>` works without JavaScript).

// The server macro generates an argument struct per function; its fields mirror the
// documented parameters.
#![allow(missing_docs)]

use crate::error::AuthError;

/// Signs the user out: deletes the session cookie (with its domain and path) and every
/// `wos-auth-verifier*` cookie, then sends the browser to the WorkOS logout URL, which
/// ends the session and comes back to `return_to` (or straight to `return_to` when there
/// was no session). From an `<ActionForm>` without JavaScript this is a 302; from
/// WebAssembly the router follows the redirect.
#[leptos::server(prefix = "/api", endpoint = "authkit/sign-out")]
pub async fn sign_out(return_to: Option<String>) -> Result<(), AuthError> {
    crate::auth::sign_out_impl(return_to).await
}

/// Signs the user out of every device: each of their WorkOS sessions is revoked, and every
/// replica signs them out at their next request; then this browser is signed out as
/// [`sign_out`] does (to `return_to`). Works from an `<ActionForm>` without JavaScript
/// ([`SignOutEverywhereButton`](crate::SignOutEverywhereButton)).
#[leptos::server(prefix = "/api", endpoint = "authkit/sign-out-everywhere")]
pub async fn sign_out_everywhere(return_to: Option<String>) -> Result<(), AuthError> {
    crate::auth::sign_out_everywhere_impl(return_to).await
}

/// The signed-in user's active WorkOS sessions (device, address, time as WorkOS reports
/// them), the current one marked, for an account page ([`SessionList`](crate::SessionList)).
#[leptos::server(prefix = "/api", endpoint = "authkit/sessions")]
pub async fn user_sessions() -> Result<Vec<crate::SessionInfo>, AuthError> {
    crate::auth::list_user_sessions().await
}
