//! # authkit-leptos
//!
//! [WorkOS AuthKit](https://workos.com/docs/user-management) for [Leptos](https://leptos.dev)
//! full-stack SSR apps on axum: what `@workos-inc/authkit-nextjs` is to Next.js.
//!
//! - Sessions live in an iron `Fe26.2` sealed cookie (`wos-session`), byte-compatible with
//!   authkit-nextjs: a Next.js app and a Leptos app sharing the password share the session.
//! - A route-matching axum layer resolves the session once per request (verifying the access
//!   token against the WorkOS JWKS, refreshing it when due, one refresh per token at a time);
//!   server functions and SSR read the result with `with_auth()`.
//! - Components for the pages (module [`components`]): `<AuthKitProvider>` puts the session
//!   into context on the server and in the browser, `<Protected>` guards a route (a real `302`
//!   in every `SsrMode`), `<FeatureFlag>` and friends gate what renders.
//! - A built-in local WorkOS (feature `emulator`) runs everything with no account and no network.
//!
//! ## Quick start
//!
//! ```no_run
//! # #[cfg(feature = "ssr")]
//! # async fn setup() -> Result<(), Box<dyn std::error::Error>> {
//! use authkit_leptos::{AuthKit, AuthKitConfig};
//!
//! // Once at start-up: the WORKOS_* variables, validated (every problem named at once).
//! let authkit = AuthKit::new(AuthKitConfig::from_env()?)?;
//! let app: axum::Router = axum::Router::new()
//!     // .leptos_routes_with_context(&options, routes, move || provide_context(authkit.clone()), app)
//!     .merge(authkit.routes()) // sign-in/up start routes, sign-out, the callback
//!     .layer(authkit.layer().matcher(["/", "/dashboard/:path*", "/profile/:path*"])?);
//! # let _ = app;
//! # Ok(()) }
//! ```
//!
//! Then, in a server function or while rendering:
//!
//! ```no_run
//! # #[cfg(feature = "ssr")]
//! # mod demo {
//! use authkit_leptos::{ensure_signed_in, with_auth, AuthError};
//!
//! pub async fn greeting() -> Result<String, AuthError> {
//!     let auth = with_auth().await?; // user: Option<User>, organization_id, role, permissions, …
//!     Ok(match auth.user {
//!         Some(user) => format!("Welcome, {}", user.display_name()),
//!         None => "Not signed in".to_owned(),
//!     })
//! }
//!
//! pub async fn secret() -> Result<String, AuthError> {
//!     // Redirects signed-out visitors to sign in; `me.user` is a `User`, not an `Option`.
//!     let me = ensure_signed_in().await?;
//!     Ok(format!("Hello, {}!", me.user.display_name()))
//! }
//! # }
//! ```
//!
//! ## Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `ssr` | the server side: config, cookie sealing, WorkOS client, token verification |
//! | `hydrate` | the browser side of [`components`]; builds for wasm32 with no server dependency |
//! | `emulator` | a local WorkOS-compatible server |
//! | `testing` | helpers for your own tests |
//! | `cli` | the `authkit` command-line tool |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod error;
pub mod user;

#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub mod components;
#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub mod server_fns;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod authkit;
#[cfg(feature = "ssr")]
mod cache;
#[cfg(feature = "ssr")]
pub mod callback;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
mod encoding;
#[cfg(feature = "ssr")]
mod flow;
// Under `cargo fuzz` (`--cfg fuzzing`) for the targets in `fuzz/`, and in unit tests, which
// replay the committed corpus through the same entry points.
#[cfg(all(any(fuzzing, test), feature = "ssr"))]
#[doc(hidden)]
#[allow(missing_docs, unreachable_pub)]
pub mod fuzzing;
#[cfg(feature = "ssr")]
mod headers;
#[cfg(feature = "ssr")]
pub mod jwt;
#[cfg(feature = "ssr")]
pub mod matcher;
#[cfg(feature = "ssr")]
pub mod middleware;
#[cfg(feature = "ssr")]
mod mount;
#[cfg(feature = "ssr")]
pub mod oauth_state;
#[cfg(feature = "ssr")]
pub mod refresh;
#[cfg(feature = "redis")]
pub mod refresh_store;
#[cfg(feature = "ssr")]
mod request_auth;
#[cfg(feature = "ssr")]
mod routes;
#[cfg(feature = "ssr")]
pub mod seal;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod workos;

#[cfg(feature = "emulator")]
pub mod emulator;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::AuthError;

// The README's examples are compiled as doc tests, so they cannot drift from the API.
// (Its replicas section uses the `redis` feature, which the test command enables.)
#[cfg(all(doctest, feature = "ssr", feature = "redis"))]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
pub use user::{Impersonator, User};

#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub use server_fns::{sign_out, SignOut};

#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub use components::{
    decode_server_fn_error, follow_auth_error, use_access_token, use_auth, AccessTokenInfo,
    AccessTokenState, AsAuthError, AuthContext, AuthKitProvider, AuthSnapshot, AuthSnapshotFn,
    ClientConfig, Entitlement, FeatureFlag, GetAccessToken, GuardedView, Impersonation,
    ListOrganizations, OrganizationChoice, OrganizationName, OrganizationSwitcher, Protected,
    ProtectedParentRoute, ProtectedRoute, RequirePermission, RequireRole, SignInLink,
    SignOutButton, SignUpLink, SwitchOrganization,
};

#[cfg(feature = "ssr")]
pub use auth::{
    check_recent_auth, ensure_signed_in, get_sign_in_url, get_sign_up_url, get_token_claims,
    refresh_session, request_auth, save_session, switch_to_organization, validate_api_key,
    with_auth, AccessToken, Auth, AuthRejection, RecentAuth, SignInOptions, SignedIn,
};
#[cfg(feature = "ssr")]
pub use authkit::{
    AuthKit, AuthKitBuilder, BuildError, RefreshError, RefreshFailure, RefreshSuccess,
};
#[cfg(feature = "ssr")]
pub use callback::{CallbackError, CallbackErrorCode, CallbackOptions, CallbackSuccess};
#[cfg(feature = "ssr")]
pub use config::{AuthKitConfig, AuthKitConfigBuilder, ConfigError, PasswordMap, SameSite, Secret};
#[cfg(feature = "ssr")]
pub use matcher::MatcherError;
#[cfg(feature = "ssr")]
pub use middleware::{AuthKitLayer, AuthKitService, RequestAuth, ResponseFuture};
#[cfg(feature = "redis")]
pub use refresh_store::{RedisRefreshStore, RefreshStoreError};
#[cfg(feature = "ssr")]
pub use workos::WorkOsError;

#[cfg(test)]
mod tests {
    /// docs.rs builds with no features unless told: it would show three types.
    #[test]
    fn docs_rs_builds_the_server_api_and_the_components() {
        let manifest = include_str!("../Cargo.toml");
        let section = manifest
            .split("[package.metadata.docs.rs]")
            .nth(1)
            .expect("a [package.metadata.docs.rs] table");
        let features = section
            .lines()
            .find(|l| l.starts_with("features"))
            .unwrap_or("");
        for feature in ["\"ssr\"", "\"emulator\"", "\"testing\""] {
            assert!(features.contains(feature), "{feature} missing: {features}");
        }
    }
}
