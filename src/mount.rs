//! What an app mounts: [`AuthKit::routes`] (sign-in and sign-up start routes, sign-out,
//! the callback) and [`AuthKit::layer`] (the session layer). The one place where the
//! AuthKit handle hands out its axum pieces; it stands on top of the request path, and
//! nothing in the crate imports it.

use crate::authkit::AuthKit;
use crate::callback::CallbackOptions;
use crate::middleware::AuthKitLayer;
use axum::Router;

impl AuthKit {
    /// The AuthKit routes with default callback options: `GET /auth/sign-in`,
    /// `GET /auth/sign-up`, `POST /auth/sign-out`, `GET` at the redirect URI's path, and —
    /// when `WORKOS_WEBHOOK_SECRET` is configured — `POST /auth/webhooks`, where WorkOS
    /// sends the events that end sessions or change their roles (enter your app's origin +
    /// that path in the WorkOS dashboard: *Webhooks* → *Create endpoint*, with the
    /// [`SESSION_EVENTS`](crate::SESSION_EVENTS)).
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        self.routes_with(CallbackOptions::default())
    }

    /// The AuthKit routes with callback options (`return_pathname`, `base_url`,
    /// `on_success`, `on_error`).
    pub fn routes_with<S: Clone + Send + Sync + 'static>(
        &self,
        options: CallbackOptions,
    ) -> Router<S> {
        crate::routes::router(self, options)
    }

    /// The layer, covering only the server-function paths (`/api/:path*`) until
    /// [`matcher`](AuthKitLayer::matcher) adds yours.
    pub fn layer(&self) -> AuthKitLayer {
        AuthKitLayer::new(self.clone())
    }
}
