//! Signing in: the start routes (the flow cookie, the authorization URL, the host, custom
//! state), the callback (success, failures and their error pages, `on_success` /
//! `on_error`), the sealed state and PKCE, the cleanup of old flow cookies, and replays.

mod binding;
mod finish;
mod flow_cookies;
mod replays;
mod start;
mod state;
mod steps;
