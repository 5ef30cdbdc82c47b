//! The session API inside Leptos, through leptos_axum with the AuthKit layer and the
//! emulator: server functions, SSR pages, the sign-in links, `refresh_session` and
//! `switch_to_organization`, and the components.

mod components;
mod coverage;
mod links;
mod organization_names;
mod refresh_session;
mod server_fns;
mod ssr;
