//! Refreshing: one WorkOS exchange per refresh token, however many requests (and
//! replicas) need it.
//!
//! WorkOS refresh tokens are single use: the first exchange rotates them and every later
//! exchange of the same token fails with `invalid_grant`. A page load fires several
//! requests at once (the document, server functions), all carrying the same expiring
//! cookie. Without coordination each would refresh, one would win and the others would
//! sign the user out — the most reported authkit-nextjs bug. And requests the browser sent
//! before it received the new cookie arrive *after* the exchange, still carrying the old
//! token: they must get the same new session, not an `invalid_grant`.
//!
//! The wing, from the handle down:
//!
//! - [`Refresher`] (`refresher.rs`): what the `AuthKit` handle owns — the in-process gate
//!   and, when the replicas share one, a [`RefreshStore`] — and the one entry point every
//!   refresh goes through (the layer's, `refresh_session`'s, an organization switch's).
//! - [`RefreshGate`](gate::RefreshGate) (`gate.rs`): single flight within the process,
//!   and the grace-period memory of finished results.
//! - [`shared`] (`shared.rs`): the protocol between replicas over a [`RefreshStore`] —
//!   adopt a published result, or take the token's lock and exchange, or wait for the lock
//!   holder, and what a store fault turns into. It reaches WorkOS and the seals only
//!   through the [`Exchanger`](shared::Exchanger) the handle implements, so its fault
//!   orders are unit-tested against an in-memory store (`tests.rs`).
//! - [`RefreshStore`] (`store.rs`): the storage primitives, a trait as tower-sessions's
//!   `SessionStore`; [`RedisRefreshStore`](crate::RedisRefreshStore) (`redis.rs`, feature
//!   `redis`) is the shipped one.
//! - `publication.rs`: what a replica writes into the store — keys named by keyed
//!   digests, results sealed for whoever holds the old refresh token — so that nothing a
//!   store holds is a usable credential on its own.
//! - `outcome.rs`: what a refresh ends as ([`SessionUpdate`] or [`RefreshError`]) and
//!   what the app's refresh hooks see.
//!
//! Nothing here imports the handle: the wing stands below `crate::authkit`.

mod gate;
mod outcome;
pub(crate) mod publication;
#[cfg(feature = "redis")]
mod redis;
mod refresher;
pub(crate) mod shared;
mod store;
#[cfg(test)]
mod tests;

pub(crate) use gate::DEFAULT_GRACE;
pub use outcome::{RefreshError, RefreshFailure, RefreshSuccess};
pub(crate) use outcome::{RefreshErrorHook, RefreshOutcome, RefreshSuccessHook, SessionUpdate};
#[cfg(feature = "redis")]
pub use redis::{RedisRefreshStore, RefreshStoreError};
pub(crate) use refresher::Refresher;
pub use store::{LockAttempt, RefreshStore, RefreshStoreFault, StoreKey};
