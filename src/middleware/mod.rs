//! [`AuthKitLayer`]: the tower layer that resolves the session once per request.
//!
//! For every request whose path its matcher covers, the layer reads the session cookie,
//! unseals it, checks the access token against the sealed user, verifies it against the
//! WorkOS JWKS, refreshes it when it is expired or about to expire (one exchange per
//! refresh token at a time, see [`crate::refresh`]), and puts the result into the
//! request's extensions, where [`with_auth`](crate::with_auth) finds it during SSR and in
//! server functions alike — so both see the *refreshed* session, never the stale cookie.
//! On the way out it writes the new cookie (or deletes a dead one) and marks the response
//! private.
//!
//! Threat model: the session is only ever read from the sealed cookie and handed on in
//! request extensions, which a client cannot set; headers a client sends (for example the
//! `x-workos-session` header authkit-nextjs uses internally) are never trusted. A cookie
//! that is garbage, tampered with, sealed with another password, or belongs to another
//! user is treated as "signed out" and deleted; WorkOS being down or slow (timeouts
//! apply) never deletes a cookie. Nothing secret is logged.
//!
//! Deployment caveat: `Secure` on the cookies follows the scheme of the configured
//! redirect URI (an app behind a TLS-terminating proxy sees plain http requests).
//!
//! Add the layer *after* the routes (`Router::layer` only wraps routes that exist):
//!
//! ```no_run
//! # use authkit_leptos::{AuthKit, AuthKitConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let authkit = AuthKit::new(AuthKitConfig::from_env()?)?;
//! let app: axum::Router = axum::Router::new()
//!     // .leptos_routes(...).fallback(...)
//!     .merge(authkit.routes())
//!     .layer(
//!         authkit
//!             .layer()
//!             .matcher(["/", "/dashboard/:path*", "/profile/:path*"])?
//!             .middleware_auth(["/", "/about"])?,
//!     );
//! # Ok(()) }
//! ```
//!
//! The pieces, split the way tower-http splits its middleware: [`AuthKitLayer`] (the
//! builder), [`AuthKitService`] (what it wraps around the routes), [`ResponseFuture`] (what
//! the service returns) and the session's headers the layer writes on each response.

// Below this module: `crate::request_auth` (the per-request session it puts into the
// extensions), `crate::flow` (starting a sign-in in middleware-auth mode) and
// `crate::headers`. The files here import one another in one direction only:
// layer -> service -> response, future.
mod future;
mod layer;
mod response;
mod service;

pub use crate::headers::PRIVATE_NO_STORE;
pub use crate::request_auth::RequestAuth;
pub use future::ResponseFuture;
pub use layer::{AuthKitLayer, DEFAULT_SERVER_FN_PATTERN};
pub use service::AuthKitService;
