//! The integration tests of authkit-leptos, one binary organised by behaviour (#13). Each
//! suite drives the real router (`tower::ServiceExt::oneshot`) with the AuthKit routes and
//! layer against the built-in emulator over loopback, unless it says otherwise.
//!
//! | module | what it checks |
//! | --- | --- |
//! | [`session`] | the layer reading a request's session: valid, signed out, garbage, split cookies, caching headers, uncovered paths, middleware-auth mode, bad header bytes, cookies planted by another subdomain and the cookie-domain transition |
//! | [`cookies`] | the `Set-Cookie` attributes of the session and flow cookies, the flow cookie's name |
//! | [`refresh`] | refreshing a session: on expiry, proactively, failures (transient, refused, terminal), hooks, concurrent requests, shared through Redis |
//! | [`callback`] | the sign-in start route, signed links, the callback, the sealed state and PKCE, the flow cookie's binding (a leaked callback URL), flow-cookie cleanup, replays |
//! | [`preview`] | preview deploys: redirect URIs on a listed request origin (`WORKOS_REDIRECT_ORIGINS`), hostile `Host` / `X-Forwarded-Host` values falling back |
//! | [`return_paths`] | where a browser is sent back: return paths, `base_url`, hostile values everywhere a return path enters |
//! | [`leptos`] | the session API in Leptos server functions and SSR, sign-in links, `refresh_session` / `switch_to_organization`, the components |
//! | [`sign_out`] | signing out: cookies deleted, the WorkOS session ended, remembered refreshes forgotten |
//! | [`revocation`] | sessions ended and roles changed by WorkOS (webhooks, the Events API) at the next request, on every replica; sign out everywhere |
//! | [`tokens`] | access-token verification, the JWKS and key rotation, token attacks |
//! | [`workos`] | the WorkOS client on the wire, and WorkOS faults end to end |
//! | [`interop`] | iron-session and `@workos-inc/node` (Node.js) against this crate and its emulator |
//! | [`config`] | start-up validation, the `authkit` CLI, the `testing` helpers |
//! | [`secrets`] | no secret in `Debug` output or in the logs |
//! | [`scripts`] | every `./scripts/*.sh` the docs name exists and has its run bit |
//!
//! Shared code is in [`support`] (`crate::support::…`). `PARITY.md` (next to this file)
//! maps every authkit-nextjs test case to the test that covers it. The emulator's own
//! tests are in `emulator/tests/it/`, the demo's in `app/tests/it/`.

mod support;

mod callback;
mod config;
mod cookies;
mod interop;
mod leptos;
mod preview;
mod refresh;
mod return_paths;
mod revocation;
mod scripts;
mod secrets;
mod session;
mod sign_out;
mod tokens;
mod workos;
