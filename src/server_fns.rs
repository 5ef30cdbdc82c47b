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
