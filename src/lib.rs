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
//! - A built-in local WorkOS (feature `emulator`) runs everything with no account and no network.
//!
//! ## Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `ssr` | the server side: config, cookie sealing, WorkOS client, token verification |
//! | `hydrate` | the browser side; builds for wasm32 with no server dependency |
//! | `emulator` | a local WorkOS-compatible server |
//! | `testing` | helpers for your own tests |
//! | `cli` | the `authkit` command-line tool |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod error;
pub mod user;

#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub mod server_fns;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod authkit;
#[cfg(feature = "ssr")]
pub mod callback;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod jwt;
#[cfg(feature = "ssr")]
pub mod matcher;
#[cfg(feature = "ssr")]
pub mod middleware;
#[cfg(feature = "ssr")]
pub mod oauth_state;
#[cfg(feature = "ssr")]
pub mod refresh;
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
pub use user::{Impersonator, User};

#[cfg(any(feature = "ssr", feature = "hydrate"))]
pub use server_fns::sign_out;

#[cfg(feature = "ssr")]
pub use auth::{
    check_recent_auth, ensure_signed_in, get_sign_in_url, get_sign_up_url, get_token_claims,
    refresh_session, request_auth, save_session, switch_to_organization, validate_api_key,
    with_auth, AccessToken, Auth, RecentAuth, SignInOptions, SignedIn,
};
#[cfg(feature = "ssr")]
pub use authkit::{AuthKit, AuthKitBuilder, RefreshError, RefreshFailure, RefreshSuccess};
#[cfg(feature = "ssr")]
pub use callback::{CallbackError, CallbackErrorCode, CallbackOptions, CallbackSuccess};
#[cfg(feature = "ssr")]
pub use config::{AuthKitConfig, AuthKitConfigBuilder, ConfigError, PasswordMap, SameSite, Secret};
#[cfg(feature = "ssr")]
pub use middleware::{AuthKitLayer, AuthKitService, RequestAuth};
