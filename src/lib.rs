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
//! - Components for the pages ([below](#components)): `<AuthKitProvider>` puts the session
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
//! ## What is where
//!
//! Everything an app names in normal use is here at the root, one path per item:
//!
//! - **Setup**: [`AuthKitConfig`] (from the `WORKOS_*` variables, or
//!   [`AuthKitConfigBuilder`]) with its [`PasswordMap`], [`Secret`], [`SameSite`] and
//!   [`CookieConfig`]; [`AuthKit`], the handle built once ([`AuthKitBuilder`] for options,
//!   and the refresh hooks' [`RefreshSuccess`] and [`RefreshFailure`]). Errors:
//!   [`ConfigError`], [`BuildError`].
//! - **The layer and the routes**: [`AuthKit::layer`] gives the [`AuthKitLayer`] (with its
//!   [`AuthKitService`] and [`ResponseFuture`]), which resolves one [`RequestAuth`] per
//!   request; [`AuthKit::routes`] mounts sign-in, sign-up, sign-out and the callback
//!   ([`CallbackOptions`], [`CallbackSuccess`]). Errors: [`MatcherError`], [`CallbackError`].
//! - **A strict Content-Security-Policy**: [`ContentSecurityPolicyLayer`] writes one with a
//!   fresh [`CspNonce`] per response, and [`provide_csp_nonce`] makes it Leptos's nonce, so
//!   the page hydrates under `script-src 'self' 'nonce-…'; style-src 'self'` with no
//!   `'unsafe-inline'` ([`STRICT_POLICY`]; errors: [`CspError`]).
//! - **The server API**, for server functions and SSR: [`with_auth`], [`ensure_signed_in`],
//!   [`request_auth`], [`get_sign_in_url`], [`get_sign_up_url`], [`refresh_session`],
//!   [`switch_to_organization`], [`save_session`], [`get_token_claims`],
//!   [`check_recent_auth`], [`validate_api_key`], answering [`Auth`], [`SignedIn`],
//!   [`AccessToken`], [`RecentAuth`] (and taking [`SignInOptions`]); [`Session`] is what the
//!   cookie seals, [`User`] and [`Impersonator`] who it belongs to. Errors: [`AuthError`]
//!   (and [`AuthRejection`] for axum extractors), [`RefreshError`].
//! - **What a session allows**, on both sides: [`SessionClaims`] (organization, roles,
//!   permissions, entitlements, feature flags, impersonator) with the predicates
//!   `has_role`, `has_permission`, `has_entitlement` and `has_feature_flag`, defined once;
//!   [`Auth`], [`SignedIn`] and the page's [`AuthSnapshot`] dereference to it, and
//!   [`AuthContext`] asks the same questions reactively.
//! - **Components and hooks** (server and browser, [below](#components)), and the server
//!   functions they call: [`auth_snapshot`], [`get_access_token`], [`list_organizations`],
//!   [`organization_name`], [`sign_out`].
//! - **Replicas**: [`RefreshStore`] (with [`StoreKey`], [`LockAttempt`], [`RefreshStoreFault`]),
//!   shipped as [`RedisRefreshStore`] (feature `redis`; [`RefreshStoreError`]).
//!
//! The separate tools keep their own namespaces (and their own error types):
//!
//! | module | what it is for |
//! | --- | --- |
//! | [`jwt`] | verifying WorkOS access tokens on their own, in any service (the layer uses it) |
//! | [`seal`] | iron `Fe26.2` seals, byte-compatible with iron-session, to share data with Node apps |
//! | [`workos`] | the raw WorkOS HTTP client and the models it returns |
//! | [`emulator`] | a local WorkOS-compatible server (feature `emulator`) |
//! | [`testing`] | helpers for your own tests (feature `testing`) |
//!
//! ## Components
//!
//! The Leptos side: the auth snapshot in context, route guards, gates and the small
//! components every app with AuthKit renders — what `AuthKitProvider`, `useAuth`,
//! `useAccessToken` and `Impersonation` are to authkit-nextjs's client half. They build for
//! the server (`ssr`) and for the browser (`hydrate`, wasm32, no server dependency).
//!
//! ```no_run
//! # #[cfg(any(feature = "ssr", feature = "hydrate"))]
//! # mod demo {
//! use authkit_leptos::{AuthKitProvider, FeatureFlag, Protected, SignInLink, use_auth};
//! use leptos::prelude::*;
//! use leptos_router::components::{Route, Router, Routes};
//! use leptos_router::path;
//!
//! #[component]
//! pub fn App() -> impl IntoView {
//!     view! {
//!         <AuthKitProvider>
//!             <Router>
//!                 <Routes fallback=|| "Not found">
//!                     <Route path=path!("/") view=Home />
//!                     <Route path=path!("/admin") view=|| view! {
//!                         <Protected permission="admin:read">"Only for admins"</Protected>
//!                     } />
//!                 </Routes>
//!             </Router>
//!         </AuthKitProvider>
//!     }
//! }
//!
//! #[component]
//! fn Home() -> impl IntoView {
//!     let auth = use_auth();
//!     view! {
//!         <Show when=move || auth.is_signed_in() fallback=|| view! { <SignInLink /> }>
//!             <p>"Hello, " {move || auth.user().map(|u| u.display_name().to_owned())}</p>
//!             <FeatureFlag flag="new-feature">"The new feature"</FeatureFlag>
//!         </Show>
//!     }
//! }
//! # }
//! ```
//!
//! How it decides (Leptos 0.8's streaming rules): the provider reads the session the
//! [`AuthKitLayer`] resolved for this request *synchronously* during SSR and hands it to
//! the browser in the page (a `SharedValue`, without the access or refresh token), so the
//! first client render equals the server's. [`Protected`] therefore decides before the
//! first byte of the page is sent: a real `302` in every `SsrMode`, with no `Resource`,
//! `Suspense` or `Result` involved that an `ErrorBoundary` could catch.
//!
//! ## Refreshing
//!
//! WorkOS refresh tokens are single use: the first exchange rotates them and every later
//! exchange of the same token fails with `invalid_grant`. A page load fires several
//! requests at once (the document, server functions, assets behind the layer), all
//! carrying the same expiring cookie. Without coordination each would refresh, one would
//! win and the others would sign the user out — the most reported authkit-nextjs bug.
//!
//! So the layer keys every refresh by a digest of the refresh token alone (two exchanges
//! of one token, say a proactive refresh and an organization switch, never run). The first
//! request starts the exchange on its own task (so a client that disconnects cannot cancel
//! it half-way); every concurrent request with the same token waits for that one result. A
//! successful result is remembered for a grace period (30 s,
//! [`AuthKitBuilder::refresh_grace`]), because requests the browser sent before it received
//! the new cookie arrive *after* the exchange and still carry the old token: they get the
//! same new session instead of an `invalid_grant`. Only a digest of the token is kept.
//!
//! This coordination is per process; replicas behind a load balancer share it through a
//! [`RefreshStore`]: Redis with the shipped [`RedisRefreshStore`] (feature `redis`), or a
//! backend of your own implementing the trait's few storage primitives (the protocol over
//! them is the crate's).
//!
//! ## Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `ssr` | the server side: config, cookie sealing, WorkOS client, token verification |
//! | `hydrate` | the browser side of the [components](#components); builds for wasm32 with no server dependency |
//! | `emulator` | a local WorkOS-compatible server ([`emulator`]) |
//! | `testing` | helpers for your own tests ([`testing`]) |
//! | `redis` | refresh coordination between replicas ([`RedisRefreshStore`]) |
//! | `cli` | the `authkit` command-line tool |
#![cfg_attr(docsrs, feature(doc_cfg))]
// Every type in a public signature can be named by the user (one path each, below).
#![warn(unnameable_types)]

// The browser build of a cargo-leptos app compiles the app's lib for wasm32 with its
// `hydrate` feature: without ours in it, the components would be configured out and the
// app would fail with "cannot find `AuthKitProvider`", far from the cause.
#[cfg(all(
    target_arch = "wasm32",
    target_os = "unknown",
    not(feature = "hydrate")
))]
compile_error!(
    "authkit-leptos is being built for the browser (wasm32) without its `hydrate` feature. \
     In your app's Cargo.toml, forward it from your `hydrate` feature: \
     hydrate = [\"leptos/hydrate\", \"authkit-leptos/hydrate\"] \
     (and the server half from `ssr`: ssr = [..., \"authkit-leptos/ssr\"])."
);

// The modules are private: the root re-exports what an app names (one path per item), and
// the separate tools keep their own public namespaces (`jwt`, `seal`, `workos`,
// `emulator`, `testing`).
mod error;
mod session_claims;
mod user;

#[cfg(any(feature = "ssr", feature = "hydrate"))]
mod components;
// `#[server]` also emits a `pub` inner function with the body, which no path reaches.
#[cfg(any(feature = "ssr", feature = "hydrate"))]
#[allow(unreachable_pub)]
mod server_fns;

#[cfg(feature = "ssr")]
mod abandoned_renders;
#[cfg(feature = "ssr")]
mod auth;
#[cfg(feature = "ssr")]
mod authkit;
#[cfg(feature = "ssr")]
mod cache;
#[cfg(feature = "ssr")]
mod callback;
#[cfg(feature = "ssr")]
mod config;
#[cfg(feature = "ssr")]
mod csp;
#[cfg(feature = "ssr")]
mod encoding;
#[cfg(feature = "ssr")]
mod flow;
#[cfg(feature = "ssr")]
mod headers;
#[cfg(feature = "ssr")]
mod lookups;
#[cfg(feature = "ssr")]
mod matcher;
#[cfg(feature = "ssr")]
mod middleware;
#[cfg(feature = "ssr")]
mod mount;
#[cfg(feature = "ssr")]
mod oauth_state;
#[cfg(feature = "ssr")]
mod origins;
#[cfg(feature = "ssr")]
mod pending;
#[cfg(feature = "ssr")]
mod refresh;
#[cfg(feature = "ssr")]
mod request_auth;
#[cfg(feature = "ssr")]
mod revocation;
#[cfg(feature = "ssr")]
mod routes;
#[cfg(feature = "ssr")]
mod server_errors;
#[cfg(feature = "ssr")]
mod session;

// Under `cargo fuzz` (`--cfg fuzzing`) for the targets in `fuzz/`, and in unit tests, which
// replay the committed corpus through the same entry points.
#[cfg(all(any(fuzzing, test), feature = "ssr"))]
#[doc(hidden)]
#[allow(missing_docs, unreachable_pub)]
pub mod fuzzing;

#[cfg(feature = "ssr")]
pub mod jwt;
#[cfg(feature = "ssr")]
pub mod seal;
#[cfg(feature = "ssr")]
pub mod workos;

/// The built-in local WorkOS: the [`workos_emulator`] crate, re-exported (feature
/// `emulator`), so `authkit_leptos::emulator::{Emulator, Seed, …}` reach it with no extra
/// dependency. [`testing::EmulatorConfig`] (feature `testing`) adds `config_builder()`,
/// an [`AuthKitConfig`] builder pointed at a running emulator.
#[cfg(feature = "emulator")]
#[doc(inline)]
pub use workos_emulator as emulator;
#[cfg(feature = "testing")]
pub mod testing;

// The README's examples are compiled as doc tests, so they cannot drift from the API.
// (Its replicas section uses the `redis` feature, which the test command enables.)
#[cfg(all(doctest, feature = "ssr", feature = "redis"))]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

// Both sides: the error every server function returns, the user, and what a session
// allows (the one claims shape behind Auth, SignedIn, AuthSnapshot and AuthContext).
pub use error::AuthError;
pub use session_claims::SessionClaims;
pub use user::{Impersonator, SessionInfo, User};

// Setup (server): the configuration, the handle an app builds once, and the refresh hooks.
#[cfg(feature = "ssr")]
pub use authkit::{AuthKit, AuthKitBuilder, BuildError};
#[cfg(feature = "ssr")]
pub use config::{
    AuthKitConfig, AuthKitConfigBuilder, ConfigError, ConfigProblem, CookieConfig, PasswordMap,
    SameSite, Secret, MIN_COOKIE_PASSWORD_LEN,
};
#[cfg(feature = "ssr")]
pub use refresh::{
    LockAttempt, RefreshError, RefreshFailure, RefreshStore, RefreshStoreFault, RefreshSuccess,
    StoreKey,
};

// The layer and the routes (server): what wraps the app's router, and the callback's options
// and outcomes.
#[cfg(feature = "ssr")]
pub use callback::{CallbackError, CallbackErrorCode, CallbackOptions, CallbackSuccess};
#[cfg(feature = "ssr")]
pub use matcher::MatcherError;
#[cfg(feature = "ssr")]
pub use middleware::{AuthKitLayer, AuthKitService, ResponseFuture};
#[cfg(feature = "ssr")]
pub use request_auth::RequestAuth;
// A strict Content-Security-Policy with a per-request nonce that Leptos's scripts carry.
#[cfg(feature = "ssr")]
pub use csp::{
    provide_csp_nonce, ContentSecurityPolicyLayer, ContentSecurityPolicyService, CspError,
    CspNonce, CspResponseFuture, AUTHKIT_STYLESHEET_PATH, NONCE_PLACEHOLDER, STRICT_POLICY,
};
// Leptos 0.8's abandoned-render leak, fixed where the crate's own widgets trigger it.
#[cfg(feature = "ssr")]
pub use abandoned_renders::{FinishAbandonedRenders, FinishAbandonedRendersLayer};

// The server API: what server functions and SSR call, what they return, and the session.
#[cfg(feature = "ssr")]
pub use auth::{
    check_recent_auth, ensure_signed_in, get_sign_in_url, get_sign_up_url, get_token_claims,
    list_user_sessions, refresh_session, request_auth, save_session, switch_to_organization,
    validate_api_key, with_auth, AuthRejection, RecentAuth,
};
#[cfg(feature = "ssr")]
pub use flow::SignInOptions;
#[cfg(feature = "ssr")]
pub use request_auth::{AccessToken, Auth, SignedIn};
#[cfg(feature = "ssr")]
pub use session::Session;

// Refresh coordination between replicas (feature `redis`).
#[cfg(feature = "redis")]
pub use refresh::{RedisRefreshStore, RefreshStoreError};
// What WorkOS says about sessions: the event types the layer acts on.
#[cfg(feature = "ssr")]
pub use revocation::SESSION_EVENTS;

// The components and hooks (server and browser).
#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub use components::{
    decode_server_fn_error, follow_auth_error, use_access_token, use_auth, AccessTokenInfo,
    AccessTokenState, AsAuthError, AuthContext, AuthKitProvider, AuthSnapshot, ClientConfig,
    Entitlement, FeatureFlag, GuardedParentRoute, GuardedRoute, GuardedView, Impersonation,
    OrganizationChoice, OrganizationSwitcher, Protected, RequirePermission, RequireRole,
    SessionList, SignInLink, SignOutButton, SignOutEverywhereButton, SignUpLink,
};
// The props `#[component]` generates for each of them (what `view!` builds).
#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub use components::{
    AuthKitProviderProps, EntitlementProps, FeatureFlagProps, GuardedParentRouteProps,
    GuardedRouteProps, ImpersonationProps, OrganizationSwitcherProps, ProtectedProps,
    RequirePermissionProps, RequireRoleProps, SessionListProps, SignInLinkProps,
    SignOutButtonProps, SignOutEverywhereButtonProps, SignUpLinkProps,
};
// The server functions (under `/api/authkit/…`), each with the type `#[server]` generates.
#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub use components::{
    auth_snapshot, get_access_token, list_organizations, organization_name, AuthSnapshotFn,
    GetAccessToken, ListOrganizations, OrganizationName,
};
#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub use server_fns::{
    sign_out, sign_out_everywhere, user_sessions, SignOut, SignOutEverywhere, UserSessions,
};

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
