//! [`AuthKitLayer`]: the tower layer that resolves the session once per request (what it
//! does, its threat model and how to add it are on the type).

// Below this module: `crate::request_auth` (the per-request session it puts into the
// extensions), `crate::flow` (starting a sign-in in middleware-auth mode) and
// `crate::headers`. The files here import one another in one direction only:
// layer -> service -> response, future, site.
mod future;
mod layer;
mod response;
mod service;
mod site;

pub use future::ResponseFuture;
pub use layer::AuthKitLayer;
pub use service::AuthKitService;
