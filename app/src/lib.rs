//! The authkit-leptos demo app: one page per example of the `withAuth` documentation,
//! running on the built-in WorkOS emulator unless real WorkOS variables are set.

pub mod app;
pub mod browser;
#[cfg(feature = "ssr")]
pub mod mode;
#[cfg(feature = "ssr")]
pub mod server;

/// What the demo's server functions need besides the session (provided as context).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct DemoContext {
    /// The demo's own base URL, e.g. `http://127.0.0.1:3000`.
    pub public_url: String,
}

/// The browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
