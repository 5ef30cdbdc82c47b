//! Refreshing a session: when the access token has expired or fails verification, before
//! it expires (the proactive buffer), what each kind of WorkOS failure does to the cookie,
//! the refresh hooks, concurrent and late requests, and coordination across replicas.

mod hooks;
mod on_expiry;
mod proactive;
mod races;
#[cfg(feature = "redis")]
mod shared;
