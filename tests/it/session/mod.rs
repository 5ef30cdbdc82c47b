//! The AuthKit layer reading a request's session.

mod bad_headers;
mod layer;
mod middleware_auth;
mod tossing;
