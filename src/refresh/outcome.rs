//! What a refresh ends as: [`RefreshOutcome`] (a [`SessionUpdate`] shared by every request
//! that waited for it, or a [`RefreshError`]), and what the app's refresh hooks see
//! ([`RefreshSuccess`], [`RefreshFailure`]).

use crate::jwt::AccessTokenClaims;
use crate::session::Session;
use crate::user::{Impersonator, User};
use crate::workos::WorkOsError;
use std::fmt;
use std::sync::Arc;

/// Called after every successful refresh (once per exchange, however many requests
/// waited for it).
pub(crate) type RefreshSuccessHook = Arc<dyn Fn(&RefreshSuccess<'_>) + Send + Sync>;
/// Called after every failed refresh.
pub(crate) type RefreshErrorHook = Arc<dyn Fn(&RefreshFailure<'_>) + Send + Sync>;

/// What a successful refresh hook sees. No tokens: hooks tend to log.
#[derive(Debug)]
#[non_exhaustive]
pub struct RefreshSuccess<'a> {
    /// The user.
    pub user: &'a User,
    /// The session's organization after the refresh.
    pub organization_id: Option<&'a str>,
    /// The impersonator, if any.
    pub impersonator: Option<&'a Impersonator>,
    /// The session id.
    pub session_id: &'a str,
}

/// What a failed refresh hook sees.
#[derive(Debug)]
#[non_exhaustive]
pub struct RefreshFailure<'a> {
    /// Why it failed.
    pub error: &'a RefreshError,
    /// The user whose session it was.
    pub user_id: &'a str,
}

/// A refresh failed.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// WorkOS refused or could not be reached.
    #[error("refreshing the session failed: {0}")]
    WorkOs(Arc<WorkOsError>),
    /// The new tokens could not be stored.
    #[error("the refreshed session could not be sealed: {0}")]
    Seal(String),
    /// WorkOS returned tokens for someone else, or a token that cannot be read.
    #[error("the refreshed session is inconsistent: {0}")]
    Invalid(&'static str),
    /// The refresh task stopped without a result.
    #[error("the refresh was interrupted")]
    Interrupted,
    /// WorkOS refused the refresh token (`invalid_grant`) while the shared refresh store
    /// was unavailable, so another replica may have spent it a moment earlier: the
    /// request is served signed out and the cookie kept (the other replica's response
    /// carries the new one). See [`RefreshStore`](crate::RefreshStore).
    #[error("the refresh token was refused while the shared refresh store was unavailable: {0}")]
    Unconfirmed(Arc<WorkOsError>),
}

impl RefreshError {
    /// Temporary failures keep the cookie (408, 429, 5xx, network, timeout).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::WorkOs(e) => e.is_transient(),
            Self::Interrupted | Self::Unconfirmed(_) => true,
            Self::Seal(_) | Self::Invalid(_) => false,
        }
    }

    /// Whether the session is over: WorkOS refused the refresh token (`invalid_grant`:
    /// used, revoked, or its session ended), or answered with tokens that do not belong
    /// to the session. Other failures — WorkOS down, a misconfigured API key, an
    /// organization the user cannot enter — leave the cookie in place.
    pub fn ends_session(&self) -> bool {
        match self {
            Self::WorkOs(e) => e.error_code() == Some("invalid_grant"),
            Self::Invalid(_) => true,
            Self::Seal(_) | Self::Interrupted | Self::Unconfirmed(_) => false,
        }
    }

    /// The WorkOS error, when WorkOS answered.
    pub fn workos(&self) -> Option<&WorkOsError> {
        match self {
            Self::WorkOs(e) | Self::Unconfirmed(e) => Some(e),
            _ => None,
        }
    }
}

/// A refreshed (or newly saved) session, sealed once for every request that shares it.
#[derive(Clone)]
pub(crate) struct SessionUpdate {
    pub(crate) session: Arc<Session>,
    pub(crate) claims: Arc<AccessTokenClaims>,
    pub(crate) sealed: String,
}

impl fmt::Debug for SessionUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionUpdate")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

pub(crate) type RefreshOutcome = Result<Arc<SessionUpdate>, RefreshError>;
