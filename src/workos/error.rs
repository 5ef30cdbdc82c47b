//! The one error type of the WorkOS client, and how a failed call is classified.
//!
//! Callers make two decisions from an error, so both are first-class here:
//!
//! - **transient or terminal** ([`WorkOsError::is_transient`]): the rule authkit-nextjs applies to a
//!   failed refresh (`isTransientRefreshError`). Status 408, 429, 500, 502, 503, 504, a network failure
//!   or a timeout is transient — keep the session cookie and try later. Anything else (400
//!   `invalid_grant`, 401, …) is terminal — the session is over.
//! - **does the user have to do something first** ([`WorkOsError::authentication_required`]):
//!   `sso_required`, `mfa_enrollment`, … (the codes the WorkOS SDK turns into an
//!   `AuthenticationException`), with the raw body kept for `authkit_redirect_url` and
//!   `pending_authentication_token`.
//!
//! Threat model: errors end up in logs. `Display` and `Debug` therefore never contain the API key,
//! a token, an authorization code or a PKCE verifier: the raw error body (which may hold a
//! `pending_authentication_token`) is only reachable through [`HttpError::body`], the server's
//! message has every secret the request carried replaced by `[redacted]`, and decode errors keep
//! serde's description with quoted values elided.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;

/// A WorkOS call failed. Match on the variant, or use the accessors
/// ([`status`](Self::status), [`error_code`](Self::error_code), [`is_transient`](Self::is_transient), …).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkOsError {
    /// The client could not be built from its settings.
    #[error("cannot set up the WorkOS client: {reason}")]
    Setup {
        /// What is wrong and what to change.
        reason: String,
    },
    /// An argument cannot be sent to WorkOS as given.
    #[error("invalid {what} for the WorkOS API: {reason}")]
    InvalidArgument {
        /// The argument (`user id`, `session id`, …).
        what: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
    /// WorkOS could not be reached, or the connection broke before a full response came back.
    #[error(
        "could not reach WorkOS for {endpoint}: {cause} (check WORKOS_API_HOSTNAME / WORKOS_API_PORT / WORKOS_API_HTTPS and your network)"
    )]
    Network {
        /// The call, e.g. `POST /user_management/authenticate`.
        endpoint: String,
        /// The lowest-level cause, e.g. `Connection refused (os error 111)`.
        cause: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// WorkOS did not answer within the configured timeout.
    #[error("WorkOS did not answer {endpoint} within {timeout:?} (the timeout is AuthKitConfig::http_timeout)")]
    Timeout {
        /// The call, e.g. `POST /user_management/authenticate`.
        endpoint: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// WorkOS answered with an error status.
    #[error(transparent)]
    Http(Box<HttpError>),
    /// WorkOS answered with a success status but a body this client cannot read.
    #[error(
        "WorkOS answered {endpoint} with {status} but the body is not the expected JSON: {detail}"
    )]
    Decode {
        /// The call, e.g. `GET /sso/jwks/client_123`.
        endpoint: String,
        /// The (successful) status.
        status: StatusCode,
        /// What did not match (quoted values elided).
        detail: String,
    },
    /// The call needs the API key and this is a public client (no `WORKOS_API_KEY`): it
    /// was not sent. Sign-in with PKCE, the code exchange, refresh and sign-out work
    /// without the key; organization lookups, memberships, API-key validation, the Sessions
    /// API, the Events API and the organization-selection grant do not.
    #[error("{endpoint} needs the WorkOS API key, and none is configured (set WORKOS_API_KEY to use it)")]
    ApiKeyRequired {
        /// The call that was not made, e.g. `GET /organizations/{id}`.
        endpoint: &'static str,
    },
    /// The authentication succeeded but the response lacks a token; the session cannot be
    /// stored. authkit-nextjs reports this as the callback error `missing_tokens`.
    #[error("WorkOS authenticated the user but returned no {missing} (missing_tokens)")]
    MissingTokens {
        /// `access_token` or `refresh_token`.
        missing: &'static str,
    },
}

impl WorkOsError {
    /// The error for an error `status` with an optional JSON `body`, as [`WorkOsClient`] builds
    /// it: `code`/`error` and `error_description`/`message` are read from the body. For tests
    /// of code that handles WorkOS failures, and for custom transports.
    ///
    /// [`WorkOsClient`]: super::WorkOsClient
    pub fn from_http_status(
        endpoint: impl Into<String>,
        status: StatusCode,
        body: Option<serde_json::Value>,
    ) -> Self {
        Self::Http(Box::new(HttpError::new(
            endpoint.into(),
            status,
            body,
            None,
            None,
            &[],
        )))
    }

    /// The HTTP status WorkOS answered with, when there was an answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Http(e) => Some(e.status),
            Self::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error code from the body: `code`, else `error` (e.g. `invalid_grant`, `sso_required`).
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Self::Http(e) => e.code(),
            _ => None,
        }
    }

    /// The human-readable description from the body: `error_description`, else `message`
    /// (secrets sent with the request are redacted).
    pub fn error_description(&self) -> Option<&str> {
        match self {
            Self::Http(e) => e.description(),
            _ => None,
        }
    }

    /// The error details when WorkOS answered with an error status.
    pub fn http(&self) -> Option<&HttpError> {
        match self {
            Self::Http(e) => Some(e),
            _ => None,
        }
    }

    /// How long WorkOS asked to wait (`Retry-After`), when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        self.http().and_then(HttpError::retry_after)
    }

    /// WorkOS's `X-Request-ID` for the failed call, to quote to WorkOS support.
    pub fn request_id(&self) -> Option<&str> {
        self.http().and_then(HttpError::request_id)
    }

    /// Whether the failure is temporary, so a session must be kept rather than ended:
    /// status 408, 429, 500, 502, 503 or 504, a network failure, or a timeout
    /// (authkit-nextjs `isTransientRefreshError`). Everything else is terminal.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { .. } | Self::Timeout { .. } => true,
            Self::Http(e) => is_transient_status(e.status),
            _ => false,
        }
    }

    /// When WorkOS requires a further step from the user (`sso_required`, `mfa_enrollment`, …),
    /// which one. Send the user back through AuthKit — to [`HttpError::authkit_redirect_url`] when
    /// WorkOS gave one.
    pub fn authentication_required(&self) -> Option<AuthenticationErrorCode> {
        self.http().and_then(HttpError::authentication_required)
    }

    /// Whether WorkOS requires a further step from the user; see
    /// [`authentication_required`](Self::authentication_required).
    pub fn is_authentication_required(&self) -> bool {
        self.authentication_required().is_some()
    }
}

/// The statuses the WorkOS SDKs retry and authkit-nextjs treats as transient.
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// An error status from WorkOS, with what its body and headers said.
///
/// `Debug` and `Display` show the status, the code, the (redacted) description and the request
/// id; the raw body is available only through [`body`](Self::body).
#[derive(Clone)]
pub struct HttpError {
    endpoint: String,
    status: StatusCode,
    code: Option<String>,
    pub(super) description: Option<String>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    body: Option<serde_json::Value>,
}

impl HttpError {
    /// Reads the code and description out of `body`, redacting `secrets` from them.
    pub(crate) fn new(
        endpoint: String,
        status: StatusCode,
        body: Option<serde_json::Value>,
        request_id: Option<String>,
        retry_after: Option<Duration>,
        secrets: &[&str],
    ) -> Self {
        let field = |keys: &[&str]| {
            let body = body.as_ref()?;
            keys.iter()
                .find_map(|k| body.get(*k).and_then(|v| v.as_str()))
                .map(|s| redact(s, secrets))
        };
        Self {
            code: field(&["code", "error"]),
            description: field(&["error_description", "message"]),
            endpoint,
            status,
            request_id,
            retry_after,
            body,
        }
    }

    /// The call that failed, e.g. `POST /user_management/authenticate`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
    /// The status WorkOS answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// `code`, else `error`, from the body.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    /// `error_description`, else `message`, from the body, with secrets redacted.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The `X-Request-ID` response header.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// The `Retry-After` response header (delay in seconds or an HTTP date), as a delay from
    /// when the response arrived.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
    /// The whole error body when it was JSON. It can hold secrets such as a
    /// `pending_authentication_token`: do not log it.
    pub fn body(&self) -> Option<&serde_json::Value> {
        self.body.as_ref()
    }
    /// `authkit_redirect_url` from the body: where WorkOS wants the user sent to finish
    /// signing in (e.g. on an organization switch that needs SSO).
    pub fn authkit_redirect_url(&self) -> Option<&str> {
        self.body_str("authkit_redirect_url")
    }
    /// `pending_authentication_token` from the body, for continuing an MFA or
    /// email-verification step.
    pub fn pending_authentication_token(&self) -> Option<&str> {
        self.body_str("pending_authentication_token")
    }
    /// The authentication step WorkOS requires, if the body's `code` or `error` names one.
    pub fn authentication_required(&self) -> Option<AuthenticationErrorCode> {
        ["code", "error"]
            .iter()
            .find_map(|k| self.body_str(k).and_then(AuthenticationErrorCode::parse))
    }

    fn body_str(&self, key: &str) -> Option<&str> {
        self.body.as_ref()?.get(key)?.as_str()
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WorkOS answered {} with {}", self.endpoint, self.status)?;
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        }
        if let Some(description) = &self.description {
            write!(f, ": {description}")?;
        }
        if self.body.is_none() {
            f.write_str(" (the error body was not JSON)")?;
        }
        if let Some(delay) = self.retry_after {
            write!(f, " (retry after {}s)", delay.as_secs())?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {}

impl fmt::Debug for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body_keys: Option<Vec<&String>> = self
            .body
            .as_ref()
            .and_then(|b| b.as_object())
            .map(|o| o.keys().collect());
        f.debug_struct("HttpError")
            .field("endpoint", &self.endpoint)
            .field("status", &self.status)
            .field("code", &self.code)
            .field("description", &self.description)
            .field("request_id", &self.request_id)
            .field("retry_after", &self.retry_after)
            .field("body_keys", &body_keys)
            .finish()
    }
}

/// The error codes with which WorkOS asks for a further authentication step (the set the WorkOS
/// SDK maps to `AuthenticationException`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthenticationErrorCode {
    /// `email_verification_required`
    EmailVerificationRequired,
    /// `organization_selection_required`
    OrganizationSelectionRequired,
    /// `mfa_enrollment`
    MfaEnrollment,
    /// `mfa_challenge`
    MfaChallenge,
    /// `mfa_verification`
    MfaVerification,
    /// `radar_email_challenge`
    RadarEmailChallenge,
    /// `radar_sms_challenge`
    RadarSmsChallenge,
    /// `sso_required`
    SsoRequired,
}

impl AuthenticationErrorCode {
    const ALL: [Self; 8] = [
        Self::EmailVerificationRequired,
        Self::OrganizationSelectionRequired,
        Self::MfaEnrollment,
        Self::MfaChallenge,
        Self::MfaVerification,
        Self::RadarEmailChallenge,
        Self::RadarSmsChallenge,
        Self::SsoRequired,
    ];

    /// The wire form, e.g. `sso_required`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailVerificationRequired => "email_verification_required",
            Self::OrganizationSelectionRequired => "organization_selection_required",
            Self::MfaEnrollment => "mfa_enrollment",
            Self::MfaChallenge => "mfa_challenge",
            Self::MfaVerification => "mfa_verification",
            Self::RadarEmailChallenge => "radar_email_challenge",
            Self::RadarSmsChallenge => "radar_sms_challenge",
            Self::SsoRequired => "sso_required",
        }
    }

    /// Reads the wire form; `None` for any other code.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

impl fmt::Display for AuthenticationErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Replaces every occurrence of a secret in `text` with `[redacted]`. Secrets shorter than four
/// characters are skipped: they cannot be told apart from ordinary text.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(secret) {
            out = out.replace(secret, "[redacted]");
        }
    }
    out
}

/// serde_json's description of a decode failure with every quoted value elided, so a token in
/// an unexpected place of a response body does not end up in a log.
pub(crate) fn describe_decode_error(err: &serde_json::Error) -> String {
    let message = err.to_string();
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '"' if quoted => {
                out.push_str("…\"");
                quoted = false;
            }
            '"' => {
                out.push('"');
                quoted = true;
            }
            _ if quoted => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, body: Option<serde_json::Value>) -> WorkOsError {
        WorkOsError::from_http_status(
            "POST /user_management/authenticate",
            StatusCode::from_u16(status).unwrap(),
            body,
        )
    }

    #[test]
    fn transient_statuses_follow_authkit_nextjs() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(http(s, None).is_transient(), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 422, 501, 505, 302] {
            assert!(!http(s, None).is_transient(), "{s}");
        }
        assert!(!WorkOsError::MissingTokens {
            missing: "access_token"
        }
        .is_transient());
    }

    #[test]
    fn authentication_codes_are_read_from_code_or_error() {
        let e = http(
            400,
            Some(
                serde_json::json!({"error": "sso_required", "authkit_redirect_url": "https://x/y"}),
            ),
        );
        assert_eq!(
            e.authentication_required(),
            Some(AuthenticationErrorCode::SsoRequired)
        );
        assert_eq!(
            e.http().unwrap().authkit_redirect_url(),
            Some("https://x/y")
        );
        let e = http(
            403,
            Some(
                serde_json::json!({"code": "mfa_enrollment", "pending_authentication_token": "pat_1"}),
            ),
        );
        assert!(e.is_authentication_required());
        assert_eq!(
            e.http().unwrap().pending_authentication_token(),
            Some("pat_1")
        );
        assert!(
            !http(400, Some(serde_json::json!({"error": "invalid_grant"})))
                .is_authentication_required()
        );
        for c in AuthenticationErrorCode::ALL {
            assert_eq!(AuthenticationErrorCode::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn code_and_description_fall_back_like_the_sdk() {
        let e = http(
            400,
            Some(serde_json::json!({"error": "invalid_grant", "error_description": "Expired."})),
        );
        assert_eq!(
            (e.error_code(), e.error_description()),
            (Some("invalid_grant"), Some("Expired."))
        );
        let e = http(
            422,
            Some(serde_json::json!({"code": "invalid", "error": "x", "message": "Bad input."})),
        );
        assert_eq!(
            (e.error_code(), e.error_description()),
            (Some("invalid"), Some("Bad input."))
        );
        let e = http(500, None);
        assert_eq!((e.error_code(), e.error_description()), (None, None));
        assert!(e.to_string().contains("500 Internal Server Error"), "{e}");
    }

    #[test]
    fn debug_hides_the_raw_body() {
        let e = http(
            400,
            Some(
                serde_json::json!({"code": "mfa_challenge", "pending_authentication_token": "pat_secret"}),
            ),
        );
        let dbg = format!("{e:?}");
        assert!(!dbg.contains("pat_secret"), "{dbg}");
        assert!(dbg.contains("pending_authentication_token"), "{dbg}");
        assert!(!e.to_string().contains("pat_secret"));
    }

    #[test]
    fn redact_replaces_every_secret() {
        assert_eq!(
            redact(
                "code abcd1234 for sk_live_x is bad; abcd1234",
                &["abcd1234", "sk_live_x", "ab"]
            ),
            "code [redacted] for [redacted] is bad; [redacted]"
        );
    }

    #[test]
    fn decode_errors_elide_quoted_values() {
        let err = serde_json::from_str::<bool>(r#""eyJhbGciOi.secret""#).unwrap_err();
        let text = describe_decode_error(&err);
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("invalid type"), "{text}");
    }
}
