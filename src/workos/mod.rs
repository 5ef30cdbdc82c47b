//! The WorkOS API client: the AuthKit authorization URL, the code and refresh-token exchanges,
//! the JWKS, the logout URL, and the few management calls AuthKit needs (user, organization,
//! memberships, API-key validation, session revocation).
//!
//! It speaks the wire format of the official WorkOS SDKs (`reference/workos-wire.md`): the same
//! paths, the same JSON bodies in the same key order, the same query encoding — so WorkOS, or the
//! built-in emulator, cannot tell it from `@workos-inc/node`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use authkit_leptos::workos::{AuthorizationUrlParams, PkcePair, ScreenHint, WorkOsClient};
//! use authkit_leptos::AuthKitConfig;
//!
//! let config = AuthKitConfig::from_env()?;
//! let workos = WorkOsClient::new(&config)?;
//!
//! // Sign-in: send the browser to AuthKit with a fresh PKCE challenge.
//! let pkce = PkcePair::generate()?;
//! let url = workos.authorization_url(&AuthorizationUrlParams {
//!     redirect_uri: Some(config.redirect_uri().to_string()),
//!     code_challenge: Some(pkce.code_challenge().to_owned()),
//!     screen_hint: Some(ScreenHint::SignIn),
//!     ..Default::default()
//! });
//! # let _ = url;
//!
//! // Callback: exchange `?code=` for the user and tokens.
//! let auth = workos
//!     .authenticate_with_code("code_from_the_query", Some(pkce.code_verifier()))
//!     .await?;
//! println!("signed in: {}", auth.user.email);
//! # Ok(()) }
//! ```
//!
//! ## Security
//!
//! - **Secrets.** The API key travels only in the `Authorization` header (marked sensitive) and
//!   as `client_secret` in the authenticate body; tokens, codes and verifiers only in request
//!   bodies, never in URLs. `Debug`/`Display` of the client, its responses and its errors never
//!   show any of them (see [`WorkOsError`]).
//! - **No redirects are followed**: a 3xx is an error. A compromised or misconfigured upstream
//!   cannot bounce the API key, a code or a token to another host, nor turn the client into a
//!   request forwarder (SSRF).
//! - **Bounded**: every call has the configured timeout (`AuthKitConfig::http_timeout`, covering
//!   connect, send and the whole body), and response bodies over 1 MiB are refused, so a slow or
//!   hostile upstream cannot hold a request or the process's memory.
//! - **No automatic retries.** A refresh token is single-use; blindly re-sending a refresh whose
//!   response was lost would fail with `invalid_grant` and end the session. Callers decide with
//!   [`WorkOsError::is_transient`] and [`WorkOsError::retry_after`].

mod error;
mod models;
mod pkce;
mod retry_after;
mod urls;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::config::{AuthKitConfig, Secret};
use crate::user::User;

pub use error::{AuthenticationErrorCode, HttpError, WorkOsError};
pub use models::{
    ApiKey, ApiKeyOwner, AuthenticateResponse, Event, EventList, Jwk, JwkSet, ListMetadata,
    OauthTokens, Organization, OrganizationDomain, OrganizationMembership,
    OrganizationMembershipList, RoleSlug, UserSession, UserSessionList,
};
pub use pkce::{PkceError, PkcePair};
pub use urls::{AuthorizationUrlParams, ScreenHint};

use error::describe_decode_error;
use models::{ApiKeyValidation, AuthenticateWire};
use urls::{endpoint_url, path_segment};

/// The `User-Agent` of every call.
pub const USER_AGENT: &str = concat!("authkit-leptos/", env!("CARGO_PKG_VERSION"));

/// Response bodies larger than this are refused.
const MAX_BODY_BYTES: usize = 1 << 20;

/// A WorkOS API client. Cheap to clone (one shared connection pool); build it once at start-up.
#[derive(Clone)]
pub struct WorkOsClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    client_id: String,
    /// `None` for a public (keyless) client: PKCE sign-in and refresh only.
    api_key: Option<Secret>,
    timeout: Duration,
    jwks_url: Url,
}

impl fmt::Debug for WorkOsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkOsClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("api_key", &self.inner.api_key)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

/// The body of `POST /user_management/authenticate` for `authorization_code`, in wire key order.
#[derive(Serialize)]
struct CodeGrant<'a> {
    grant_type: &'static str,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_verifier: Option<&'a str>,
}

/// The body of `POST /user_management/authenticate` for `refresh_token`, in wire key order.
#[derive(Serialize)]
struct RefreshGrant<'a> {
    grant_type: &'static str,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    refresh_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_id: Option<&'a str>,
}

/// The body of `POST /user_management/authenticate` for WorkOS's organization-selection
/// grant, in the key order of `@workos-inc/node`'s serializer.
#[derive(Serialize)]
struct OrganizationSelectionGrant<'a> {
    grant_type: &'static str,
    client_id: &'a str,
    client_secret: &'a str,
    pending_authentication_token: &'a str,
    organization_id: &'a str,
}

/// The `grant_type` of the organization-selection grant.
pub const ORGANIZATION_SELECTION_GRANT: &str = "urn:workos:oauth:grant-type:organization-selection";

/// A 2xx answer, body read.
struct Success {
    endpoint: String,
    status: StatusCode,
    body: Vec<u8>,
}

impl Success {
    fn decode<T: DeserializeOwned>(&self) -> Result<T, WorkOsError> {
        serde_json::from_slice(&self.body).map_err(|e| WorkOsError::Decode {
            endpoint: self.endpoint.clone(),
            status: self.status,
            detail: describe_decode_error(&e),
        })
    }
}

impl WorkOsClient {
    /// The client for a validated configuration: its API base URL, client id, API key (or
    /// none: a public client) and timeout.
    pub fn new(config: &AuthKitConfig) -> Result<Self, WorkOsError> {
        Self::build(
            config.api_base_url().clone(),
            config.client_id().to_owned(),
            config.api_key().cloned(),
            config.http_timeout(),
        )
    }

    /// A client from its parts, e.g. for a test server on `http://127.0.0.1:<port>`. An
    /// empty `api_key` makes a public (keyless) client, as [`WorkOsClient::public`].
    pub fn from_parts(
        base_url: Url,
        client_id: impl Into<String>,
        api_key: impl Into<Secret>,
        timeout: Duration,
    ) -> Result<Self, WorkOsError> {
        let api_key = api_key.into();
        let api_key = (!api_key.expose().is_empty()).then_some(api_key);
        Self::build(base_url, client_id.into(), api_key, timeout)
    }

    /// A public client: the client id alone, no API key (WorkOS's PKCE flow for apps that
    /// hold no secret). The code exchange needs the PKCE verifier and sends no
    /// `client_secret`, refreshes send none either; every call that needs the key answers
    /// [`WorkOsError::ApiKeyRequired`] without reaching WorkOS.
    pub fn public(
        base_url: Url,
        client_id: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, WorkOsError> {
        Self::build(base_url, client_id.into(), None, timeout)
    }

    fn build(
        base_url: Url,
        client_id: String,
        api_key: Option<Secret>,
        timeout: Duration,
    ) -> Result<Self, WorkOsError> {
        let setup = |reason: &str| WorkOsError::Setup {
            reason: reason.to_owned(),
        };
        if !matches!(base_url.scheme(), "http" | "https") || !base_url.has_host() {
            return Err(WorkOsError::Setup {
                reason: format!("the API base URL `{base_url}` must be an http(s) URL with a host"),
            });
        }
        if timeout.is_zero() {
            return Err(setup("the HTTP timeout must be longer than zero"));
        }
        let jwks_path = path_segment("client id", &client_id)?;
        let jwks_url = endpoint_url(&base_url, &format!("/sso/jwks/{jwks_path}"));

        let mut headers = HeaderMap::new();
        // A public client sends no `Authorization` header at all (as the WorkOS SDK).
        if let Some(api_key) = &api_key {
            let mut auth = HeaderValue::try_from(format!("Bearer {}", api_key.expose()))
                .map_err(|_| setup("the API key contains characters that cannot be sent in an HTTP header (check WORKOS_API_KEY)"))?;
            auth.set_sensitive(true);
            headers.insert(AUTHORIZATION, auth);
        }
        // As the WorkOS SDK: JSON content type on every call, GETs included.
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));

        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| WorkOsError::Setup {
                reason: format!("the HTTP client could not be built ({e})"),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url,
                client_id,
                api_key,
                timeout,
                jwks_url,
            }),
        })
    }

    /// The client id (`client_…`).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The API base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The timeout applied to every call.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Whether the client has an API key; without one it is a public client (see
    /// [`WorkOsClient::public`]).
    pub fn has_api_key(&self) -> bool {
        self.inner.api_key.is_some()
    }

    /// The API key, or [`WorkOsError::ApiKeyRequired`] for `endpoint` on a public client.
    fn api_key(&self, endpoint: &'static str) -> Result<&str, WorkOsError> {
        self.inner
            .api_key
            .as_ref()
            .map(Secret::expose)
            .ok_or(WorkOsError::ApiKeyRequired { endpoint })
    }

    /// The AuthKit sign-in URL (`GET /user_management/authorize`) to send the browser to.
    /// Query keys are sorted and encoded as the WorkOS Node SDK does; see
    /// [`AuthorizationUrlParams`] for what can be set.
    pub fn authorization_url(&self, params: &AuthorizationUrlParams) -> Url {
        urls::authorization_url(&self.inner.base_url, &self.inner.client_id, params)
    }

    /// The URL that ends the WorkOS session `session_id` (the access token's `sid` claim) and
    /// then redirects the browser to `return_to`.
    pub fn logout_url(&self, session_id: &str, return_to: Option<&str>) -> Url {
        urls::logout_url(&self.inner.base_url, session_id, return_to)
    }

    /// Where the public keys that sign access tokens are served: `/sso/jwks/{client_id}`.
    pub fn jwks_url(&self) -> &Url {
        &self.inner.jwks_url
    }

    /// Exchanges an authorization code (and its PKCE verifier) for the user and tokens:
    /// `POST /user_management/authenticate` with `grant_type=authorization_code`.
    ///
    /// Fails with [`WorkOsError::MissingTokens`] when WorkOS returns no access or refresh token.
    /// A public client (no API key) must pass the verifier ([`WorkOsError::ApiKeyRequired`]
    /// otherwise, as `@workos-inc/node` refuses it): it sends no `client_secret`.
    pub async fn authenticate_with_code(
        &self,
        code: &str,
        code_verifier: Option<&str>,
    ) -> Result<AuthenticateResponse, WorkOsError> {
        if code.is_empty() {
            return Err(WorkOsError::InvalidArgument {
                what: "authorization code",
                reason: "it is empty",
            });
        }
        let client_secret = self.inner.api_key.as_ref().map(Secret::expose);
        if client_secret.is_none() && code_verifier.is_none_or(str::is_empty) {
            return Err(WorkOsError::ApiKeyRequired {
                endpoint: "POST /user_management/authenticate (authorization_code without a PKCE verifier)",
            });
        }
        let body = CodeGrant {
            grant_type: "authorization_code",
            client_id: &self.inner.client_id,
            client_secret,
            code,
            code_verifier,
        };
        let secrets = [code, code_verifier.unwrap_or_default()];
        self.authenticate(&body, &secrets).await
    }

    /// Exchanges a refresh token for new tokens: `POST /user_management/authenticate` with
    /// `grant_type=refresh_token`. Pass the session's current organization (the access token's
    /// `org_id`) to keep it, or another one to switch to it.
    ///
    /// Refresh tokens are single-use: store the returned one.
    pub async fn authenticate_with_refresh_token(
        &self,
        refresh_token: &str,
        organization_id: Option<&str>,
    ) -> Result<AuthenticateResponse, WorkOsError> {
        if refresh_token.is_empty() {
            return Err(WorkOsError::InvalidArgument {
                what: "refresh token",
                reason: "it is empty",
            });
        }
        let body = RefreshGrant {
            grant_type: "refresh_token",
            client_id: &self.inner.client_id,
            client_secret: self.inner.api_key.as_ref().map(Secret::expose),
            refresh_token,
            organization_id,
        };
        self.authenticate(&body, &[refresh_token]).await
    }

    /// Completes a sign-in that WorkOS answered with `organization_selection_required`:
    /// `POST /user_management/authenticate` with
    /// `grant_type=urn:workos:oauth:grant-type:organization-selection`, the error's
    /// `pending_authentication_token` and the organization the user chose (one of the
    /// error's `organizations`).
    ///
    /// Needs the API key: `@workos-inc/node` sends this grant only with one, so a public
    /// client gets [`WorkOsError::ApiKeyRequired`] (start a new sign-in with
    /// `organization_id` instead).
    pub async fn authenticate_with_organization_selection(
        &self,
        pending_authentication_token: &str,
        organization_id: &str,
    ) -> Result<AuthenticateResponse, WorkOsError> {
        if pending_authentication_token.is_empty() {
            return Err(WorkOsError::InvalidArgument {
                what: "pending authentication token",
                reason: "it is empty",
            });
        }
        if organization_id.is_empty() {
            return Err(WorkOsError::InvalidArgument {
                what: "organization id",
                reason: "it is empty",
            });
        }
        let body = OrganizationSelectionGrant {
            grant_type: ORGANIZATION_SELECTION_GRANT,
            client_id: &self.inner.client_id,
            client_secret: self
                .api_key("POST /user_management/authenticate (organization selection)")?,
            pending_authentication_token,
            organization_id,
        };
        self.authenticate(&body, &[pending_authentication_token])
            .await
    }

    async fn authenticate(
        &self,
        body: &impl Serialize,
        secrets: &[&str],
    ) -> Result<AuthenticateResponse, WorkOsError> {
        let url = endpoint_url(&self.inner.base_url, "/user_management/authenticate");
        let ok = self.send(Method::POST, url, Some(body), secrets).await?;
        ok.decode::<AuthenticateWire>()?.into_response()
    }

    /// Fetches the key set that signs access tokens (`GET /sso/jwks/{client_id}`). Any status
    /// other than exactly 200 is an error, as in `jose`.
    pub async fn fetch_jwks(&self) -> Result<JwkSet, WorkOsError> {
        let ok = self
            .send(Method::GET, self.inner.jwks_url.clone(), None::<&()>, &[])
            .await?;
        if ok.status != StatusCode::OK {
            let mut err = HttpError::new(ok.endpoint, ok.status, None, None, None, &[]);
            err.description = Some("the JWKS must be served with status 200".to_owned());
            return Err(WorkOsError::Http(Box::new(err)));
        }
        ok.decode()
    }

    /// A user by id (`GET /user_management/users/{id}`).
    pub async fn get_user(&self, user_id: &str) -> Result<User, WorkOsError> {
        self.api_key("GET /user_management/users/{id}")?;
        let path = format!(
            "/user_management/users/{}",
            path_segment("user id", user_id)?
        );
        self.get(&path, &[]).await
    }

    /// An organization by id (`GET /organizations/{id}`).
    pub async fn get_organization(
        &self,
        organization_id: &str,
    ) -> Result<Organization, WorkOsError> {
        self.api_key("GET /organizations/{id}")?;
        let path = format!(
            "/organizations/{}",
            path_segment("organization id", organization_id)?
        );
        self.get(&path, &[]).await
    }

    /// A user's memberships, optionally only the one in `organization_id`
    /// (`GET /user_management/organization_memberships`, newest first). Returns the first page.
    pub async fn list_organization_memberships(
        &self,
        user_id: &str,
        organization_id: Option<&str>,
    ) -> Result<OrganizationMembershipList, WorkOsError> {
        self.api_key("GET /user_management/organization_memberships")?;
        if user_id.is_empty() {
            return Err(WorkOsError::InvalidArgument {
                what: "user id",
                reason: "it is empty",
            });
        }
        let mut query = vec![("user_id", user_id)];
        if let Some(org) = organization_id {
            query.push(("organization_id", org));
        }
        query.push(("order", "desc"));
        self.get("/user_management/organization_memberships", &query)
            .await
    }

    /// Checks an API key presented to your app (e.g. a `Bearer` token):
    /// `POST /api_keys/validations`. `None` when WorkOS does not know the key (or it is empty).
    pub async fn validate_api_key(&self, value: &str) -> Result<Option<ApiKey>, WorkOsError> {
        self.api_key("POST /api_keys/validations")?;
        if value.is_empty() {
            return Ok(None);
        }
        #[derive(Serialize)]
        struct Body<'a> {
            value: &'a str,
        }
        let url = endpoint_url(&self.inner.base_url, "/api_keys/validations");
        let ok = self
            .send(Method::POST, url, Some(&Body { value }), &[value])
            .await?;
        Ok(ok.decode::<ApiKeyValidation>()?.api_key)
    }

    /// Ends a WorkOS session server-side, so its refresh tokens stop working
    /// (`POST /user_management/sessions/revoke`).
    pub async fn revoke_session(&self, session_id: &str) -> Result<(), WorkOsError> {
        self.api_key("POST /user_management/sessions/revoke")?;
        if session_id.is_empty() {
            return Err(WorkOsError::InvalidArgument {
                what: "session id",
                reason: "it is empty",
            });
        }
        #[derive(Serialize)]
        struct Body<'a> {
            session_id: &'a str,
        }
        let url = endpoint_url(&self.inner.base_url, "/user_management/sessions/revoke");
        self.send(Method::POST, url, Some(&Body { session_id }), &[])
            .await
            .map(drop)
    }

    /// A user's sessions, newest first, one page of up to 100 after cursor `after`
    /// (`GET /user_management/users/{id}/sessions`, WorkOS's Sessions API).
    pub async fn list_sessions(
        &self,
        user_id: &str,
        after: Option<&str>,
    ) -> Result<UserSessionList, WorkOsError> {
        self.api_key("GET /user_management/users/{id}/sessions")?;
        let path = format!(
            "/user_management/users/{}/sessions",
            path_segment("user id", user_id)?
        );
        let mut query = vec![("limit", "100"), ("order", "desc")];
        if let Some(after) = after {
            query.push(("after", after));
        }
        self.get(&path, &query).await
    }

    /// Events of the given types, oldest first, up to `limit` (1–100) after event id
    /// `after` — or, without a cursor, since `range_start` (ISO 8601) — (`GET /events`,
    /// WorkOS's Events API). The list's `after` is the cursor to keep for the next call.
    pub async fn list_events(
        &self,
        events: &[&str],
        after: Option<&str>,
        range_start: Option<&str>,
        limit: u8,
    ) -> Result<EventList, WorkOsError> {
        self.api_key("GET /events")?;
        let limit = limit.clamp(1, 100).to_string();
        let mut query: Vec<(&str, &str)> = events.iter().map(|e| ("events", *e)).collect();
        query.push(("limit", &limit));
        query.push(("order", "asc"));
        match (after, range_start) {
            (Some(after), _) => query.push(("after", after)),
            (None, Some(start)) => query.push(("range_start", start)),
            (None, None) => {}
        }
        self.get("/events", &query).await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, WorkOsError> {
        let mut url = endpoint_url(&self.inner.base_url, path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.send(Method::GET, url, None::<&()>, &[])
            .await?
            .decode()
    }

    /// Sends one call and reads the whole answer. Non-2xx statuses become [`WorkOsError::Http`];
    /// `secrets` (plus the API key) are redacted from what the server's error says.
    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        secrets: &[&str],
    ) -> Result<Success, WorkOsError> {
        let endpoint = format!("{method} {}", url.path());
        let mut request = self.inner.http.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| self.transport_error(&endpoint, e))?;
        let status = response.status();
        let headers = response.headers();
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after::parse_retry_after(v, SystemTime::now()));

        let mut bytes = Vec::new();
        let mut too_large = false;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&endpoint, e))?
        {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                too_large = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        tracing::debug!(%endpoint, status = status.as_u16(), request_id = request_id.as_deref(), "WorkOS call");

        if status.is_success() {
            if too_large {
                return Err(WorkOsError::Decode {
                    endpoint,
                    status,
                    detail: format!("the body is larger than {MAX_BODY_BYTES} bytes"),
                });
            }
            return Ok(Success {
                endpoint,
                status,
                body: bytes,
            });
        }

        let mut all_secrets: Vec<&str> = self.inner.api_key.iter().map(Secret::expose).collect();
        all_secrets.extend_from_slice(secrets);
        let json = if too_large {
            None
        } else {
            serde_json::from_slice::<serde_json::Value>(&bytes).ok()
        };
        Err(WorkOsError::Http(Box::new(HttpError::new(
            endpoint,
            status,
            json,
            request_id,
            retry_after,
            &all_secrets,
        ))))
    }

    fn transport_error(&self, endpoint: &str, err: reqwest::Error) -> WorkOsError {
        if err.is_timeout() {
            return WorkOsError::Timeout {
                endpoint: endpoint.to_owned(),
                timeout: self.inner.timeout,
            };
        }
        let mut cause: &dyn std::error::Error = &err;
        while let Some(next) = cause.source() {
            cause = next;
        }
        let kind = if err.is_connect() {
            "connection failed"
        } else {
            "connection lost"
        };
        WorkOsError::Network {
            endpoint: endpoint.to_owned(),
            cause: format!("{kind}: {cause}"),
            source: err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Result<WorkOsClient, WorkOsError> {
        WorkOsClient::from_parts(
            Url::parse(base).unwrap(),
            "client_123",
            "sk_test_secret",
            Duration::from_secs(1),
        )
    }

    #[test]
    fn jwks_url_is_under_the_client_id() {
        let c = client("http://127.0.0.1:8787").unwrap();
        assert_eq!(
            c.jwks_url().as_str(),
            "http://127.0.0.1:8787/sso/jwks/client_123"
        );
    }

    #[test]
    fn debug_hides_the_api_key() {
        let c = client("http://127.0.0.1:8787").unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("sk_test_secret"), "{dbg}");
        assert!(dbg.contains("client_123"), "{dbg}");
    }

    #[test]
    fn bad_settings_are_refused_with_a_reason() {
        assert!(matches!(
            client("ftp://example.com"),
            Err(WorkOsError::Setup { .. })
        ));
        let e = WorkOsClient::from_parts(
            Url::parse("http://127.0.0.1").unwrap(),
            "client_1",
            "sk_bad\nkey",
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(e.to_string().contains("WORKOS_API_KEY"), "{e}");
        assert!(!e.to_string().contains("sk_bad"), "{e}");
        let e = WorkOsClient::from_parts(
            Url::parse("http://127.0.0.1").unwrap(),
            "c",
            "k",
            Duration::ZERO,
        )
        .unwrap_err();
        assert!(e.to_string().contains("timeout"), "{e}");
    }

    #[test]
    fn user_agent_names_the_crate_and_version() {
        assert_eq!(
            USER_AGENT,
            format!("authkit-leptos/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
