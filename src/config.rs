//! Configuration: read once from the WorkOS environment variables or built in code,
//! validated once at start-up. The variables are listed on [`AuthKitConfig::from_env`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use url::Url;

/// The shortest cookie password WorkOS (and iron-session) accept.
pub const MIN_COOKIE_PASSWORD_LEN: usize = 32;
/// The session cookie's default name.
pub(crate) const DEFAULT_COOKIE_NAME: &str = "wos-session";
/// The session cookie's default lifetime: 400 days, as authkit-nextjs.
pub(crate) const DEFAULT_COOKIE_MAX_AGE: u64 = 34_560_000;
/// The WorkOS API's host.
pub(crate) const DEFAULT_API_HOSTNAME: &str = "api.workos.com";

/// A secret string (an API key, a cookie password): used normally, never shown by `Debug`
/// (no `Display` at all), wiped from memory when dropped, and compared in constant time.
///
/// The storage is [`secrecy`]'s `SecretString` (zeroized on drop); this type keeps the
/// crate's own `Debug` text (`Secret([redacted])`) and the comparison a [`PasswordMap`]
/// needs, which `secrecy` leaves out on purpose.
#[derive(Clone)]
pub struct Secret(secrecy::SecretString);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(secrecy::SecretString::from(value.into()))
    }
    /// The secret itself. Call it only where the value is sent or used as a key.
    pub fn expose(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }
}

/// Constant time: how much of a guess matches never shows in how long it takes.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(
            self.expose().as_bytes(),
            other.expose().as_bytes(),
        )
        .is_ok()
    }
}

impl Eq for Secret {}

impl Secret {
    /// A new random cookie password: 32 random bytes as 64 hex characters. For demos and
    /// tests; production apps set `WORKOS_COOKIE_PASSWORD` so every instance (and every
    /// restart) shares it.
    ///
    /// # Panics
    /// When the operating system's random number generator fails (then no safe password
    /// can be made; [`Secret::try_random_cookie_password`] returns `None` instead).
    pub fn random_cookie_password() -> Self {
        Self::try_random_cookie_password()
            .expect("the system random number generator failed; no cookie password can be made")
    }

    /// [`Secret::random_cookie_password`], or `None` when the operating system's random
    /// number generator fails (never a predictable password such as all zeros).
    pub fn try_random_cookie_password() -> Option<Self> {
        use aws_lc_rs::rand::SecureRandom as _;
        let mut bytes = secrecy::zeroize::Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::SystemRandom::new()
            .fill(bytes.as_mut())
            .ok()?;
        Some(Self::new(crate::encoding::hex(bytes.as_ref())))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// The cookie `SameSite` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SameSite {
    /// `SameSite=Lax` (the default).
    #[default]
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None` (always sent with `Secure`).
    None,
}

impl SameSite {
    /// Parses `lax`, `strict` or `none`, in any case.
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "lax" => Some(Self::Lax),
            "strict" => Some(Self::Strict),
            "none" => Some(Self::None),
            _ => None,
        }
    }
    /// The attribute value as written in `Set-Cookie` (`Lax`, `Strict`, `None`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lax => "Lax",
            Self::Strict => "Strict",
            Self::None => "None",
        }
    }
}

/// The sign-in flow cookies' default base name (authkit-nextjs's).
pub(crate) const DEFAULT_FLOW_COOKIE_NAME: &str = "wos-auth-verifier";

/// How the session cookie (and the sign-in flow cookies) are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieConfig {
    /// Its name (`wos-session`; `WORKOS_COOKIE_NAME`). A name starting with `__Host-`
    /// (recommended for new apps) makes browsers refuse the cookie from anywhere but this
    /// host over https, so a sibling subdomain cannot plant one (cookie tossing).
    pub name: String,
    /// `Max-Age` in seconds.
    pub max_age: u64,
    /// `Domain`, or host-only when `None`.
    pub domain: Option<String>,
    /// `SameSite`.
    pub same_site: SameSite,
    /// The base name of the sign-in flow cookies (`wos-auth-verifier`;
    /// `WORKOS_FLOW_COOKIE_NAME`): each flow's cookie is `<flow_name>-<8 hex digits>`.
    /// `__Host-wos-auth-verifier` gives them the `__Host-` prefix too.
    pub flow_name: String,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: DEFAULT_COOKIE_NAME.to_owned(),
            max_age: DEFAULT_COOKIE_MAX_AGE,
            domain: None,
            same_site: SameSite::Lax,
            flow_name: DEFAULT_FLOW_COOKIE_NAME.to_owned(),
        }
    }
}

/// Whether `name` carries a cookie-name prefix browsers enforce (RFC 6265bis §4.1.3,
/// matched case-insensitively as browsers do): `__Host-` or `__Secure-`.
fn cookie_prefix(name: &str) -> Option<&'static str> {
    ["__Host-", "__Secure-"].into_iter().find(|prefix| {
        name.get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    })
}

/// The passwords that seal cookies, by id. Sealing uses the numerically largest id;
/// unsealing picks the password named in the seal, so old cookies stay readable while
/// a new password is rolled out.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordMap {
    entries: BTreeMap<String, Secret>,
    current: String,
}

impl PasswordMap {
    /// One password with id `"1"`, as authkit-nextjs and iron-session use.
    pub fn single(password: impl Into<Secret>) -> Self {
        let mut entries = BTreeMap::new();
        entries.insert("1".to_owned(), password.into());
        Self {
            entries,
            current: "1".to_owned(),
        }
    }

    /// Several passwords by id. Returns `None` when empty. Ids that are all digits
    /// compare as numbers when choosing the one to seal with.
    pub fn from_entries<I, K, V>(entries: I) -> Option<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<Secret>,
    {
        let entries: BTreeMap<String, Secret> = entries
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let current = entries.keys().max_by(|a, b| id_order(a, b)).cloned()?;
        Some(Self { entries, current })
    }

    /// The id and password new seals use.
    pub fn current(&self) -> (&str, &Secret) {
        let secret = &self.entries[&self.current];
        (&self.current, secret)
    }

    /// The password for a seal's id (an empty id means `"default"`, as in iron).
    pub fn get(&self, id: &str) -> Option<&Secret> {
        let id = if id.is_empty() { "default" } else { id };
        self.entries.get(id)
    }

    /// Every (id, password) pair.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Secret)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Checks the passwords as iron-session will use them, the checks
    /// [`AuthKitConfigBuilder::build`] runs (and the `authkit` command-line tool, on a
    /// `--password-map` file or `WORKOS_COOKIE_PASSWORD`):
    ///
    /// - every id is a decimal number: iron-session seals with
    ///   `Math.max(...ids.map(Number))`, so one id that is not a number makes every seal
    ///   fail there, and a Next.js app sharing the cookie could not write it;
    /// - every password is at least [`MIN_COOKIE_PASSWORD_LEN`] long, counted in UTF-16
    ///   code units as JavaScript's `length` counts them (so 16 emoji are 32, and 31
    ///   accented letters are 31).
    ///
    /// # Errors
    /// A [`ConfigError`] with one [`ConfigProblem`] per rule broken, under
    /// `WORKOS_COOKIE_PASSWORD`, naming the ids at fault (never a password).
    ///
    /// ```
    /// # use authkit_leptos::PasswordMap;
    /// let ok = PasswordMap::from_entries([("1", "\u{1F600}".repeat(16))]).unwrap();
    /// assert!(ok.validate().is_ok());
    /// let bad = PasswordMap::from_entries([("v2", "x".repeat(31))]).unwrap();
    /// assert_eq!(bad.validate().unwrap_err().problems.len(), 2);
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let bad_ids: Vec<&str> = self
            .iter()
            .map(|(id, _)| id)
            .filter(|id| id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        if !bad_ids.is_empty() {
            problems.push(ConfigProblem {
                variable: "WORKOS_COOKIE_PASSWORD",
                message: format!(
                    "password ids must be numbers, as iron-session needs them to seal (got {bad_ids:?})"
                ),
            });
        }
        let short: Vec<&str> = self
            .iter()
            .filter(|(_, p)| p.expose().encode_utf16().count() < MIN_COOKIE_PASSWORD_LEN)
            .map(|(id, _)| id)
            .collect();
        if !short.is_empty() {
            problems.push(ConfigProblem {
                variable: "WORKOS_COOKIE_PASSWORD",
                message: format!(
                    "must be at least {MIN_COOKIE_PASSWORD_LEN} characters long (password id {} is shorter)",
                    short.join(", ")
                ),
            });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }
}

fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u128>(), b.parse::<u128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
        (Err(_), Ok(_)) => std::cmp::Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

impl fmt::Debug for PasswordMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordMap")
            .field("ids", &self.entries.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish()
    }
}

/// One thing wrong with the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The environment variable (or builder field) at fault.
    pub variable: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// The configuration is missing something or has a bad value. Lists every problem at once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ConfigError {
    /// Each problem found.
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid AuthKit configuration:")?;
        for p in &self.problems {
            write!(f, " {}: {};", p.variable, p.message)?;
        }
        write!(
            f,
            " (see https://workos.com/docs/user-management/vanilla/nodejs for where to find these values)"
        )
    }
}

/// Validated AuthKit configuration. Build it with [`AuthKitConfig::from_env`] or
/// [`AuthKitConfig::builder`]; once built it is known to be complete and well-formed.
#[derive(Clone, Debug)]
pub struct AuthKitConfig {
    client_id: String,
    api_key: Option<Secret>,
    redirect_uri: Url,
    passwords: PasswordMap,
    cookie: CookieConfig,
    api_base_url: Url,
    http_timeout: Duration,
    webhook_secret: Option<Secret>,
    issuers: Vec<String>,
    redirect_origins: Vec<crate::origins::OriginPattern>,
    trust_forwarded_host: bool,
}

impl AuthKitConfig {
    /// Reads the WorkOS environment variables:
    ///
    /// | variable | meaning | default |
    /// | --- | --- | --- |
    /// | `WORKOS_CLIENT_ID` | your client id (`client_…`) | required |
    /// | `WORKOS_API_KEY` | your API key (`sk_…`); leave it unset for a public client (see [`api_key`](Self::api_key)) | none |
    /// | `WORKOS_REDIRECT_URI` | the callback URL registered with WorkOS | required |
    /// | `WORKOS_COOKIE_PASSWORD` | seals the session cookie; at least 32 characters | required |
    /// | `WORKOS_COOKIE_NAME` | the session cookie's name (`__Host-wos-session` recommended for new apps: see below) | `wos-session` |
    /// | `WORKOS_FLOW_COOKIE_NAME` | the sign-in flow cookies' base name (each flow's is `<name>-<hash>`) | `wos-auth-verifier` |
    /// | `WORKOS_COOKIE_MAX_AGE` | its lifetime in seconds | `34560000` (400 days) |
    /// | `WORKOS_COOKIE_DOMAIN` | its `Domain` attribute | host-only |
    /// | `WORKOS_COOKIE_SAMESITE` | `lax`, `strict` or `none` | `lax` |
    /// | `WORKOS_API_HOSTNAME` | the WorkOS API host | `api.workos.com` |
    /// | `WORKOS_API_HTTPS` | `true` for https; any other value means http | `true` |
    /// | `WORKOS_API_PORT` | the API port | the scheme's |
    /// | `WORKOS_ISSUER` | the access tokens' accepted `iss` values, comma-separated (custom auth domains) | the API host's own ([`issuers`](Self::issuers)) |
    /// | `WORKOS_WEBHOOK_SECRET` | the secret of your webhook endpoint (WorkOS dashboard → *Webhooks*); mounts the webhook route | none |
    /// | `WORKOS_REDIRECT_ORIGINS` | other origins (preview deploys) whose requests get a redirect URI on their own origin, comma-separated: `https://app.example.com`, `https://*.preview.example.com` ([`redirect_uri_for`](Self::redirect_uri_for)) | none |
    /// | `WORKOS_TRUST_FORWARDED_HOST` | `true` when a proxy in front of every request sets `X-Forwarded-Host`: then it names the request's origin instead of `Host` | `false` |
    ///
    /// `NEXT_PUBLIC_WORKOS_REDIRECT_URI` is read when `WORKOS_REDIRECT_URI` is unset, so an
    /// `.env` file shared with a Next.js app works as it is.
    ///
    /// **Cookie names with a prefix.** Browsers keep a cookie named `__Host-…` only when it
    /// is `Secure`, has no `Domain` and `Path=/` — so no other host (a sibling subdomain, a
    /// network attacker answering for an `http://` sibling) can set or overwrite it. Give
    /// both the session and the flow cookies the prefix (`WORKOS_COOKIE_NAME=__Host-wos-session`,
    /// `WORKOS_FLOW_COOKIE_NAME=__Host-wos-auth-verifier`) unless the session must be shared
    /// with other subdomains. Such a name is checked here: it needs an `https://` redirect
    /// URI and no `WORKOS_COOKIE_DOMAIN` (the cookies are always written with `Path=/`);
    /// `__Secure-…` needs https.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `get` (for tests
    /// and for config sources other than the process environment).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        let mut b = Self::builder();
        let mut problems = Vec::new();
        if let Some(v) = get("WORKOS_CLIENT_ID") {
            b = b.client_id(v);
        }
        if let Some(v) = get("WORKOS_API_KEY") {
            b = b.api_key(v);
        }
        if let Some(v) =
            get("WORKOS_REDIRECT_URI").or_else(|| get("NEXT_PUBLIC_WORKOS_REDIRECT_URI"))
        {
            b.redirect_uri = Some(v);
        }
        if let Some(v) = get("WORKOS_COOKIE_PASSWORD") {
            b = b.cookie_password(v);
        }
        if let Some(v) = get("WORKOS_COOKIE_NAME") {
            b = b.cookie_name(v);
        }
        if let Some(v) = get("WORKOS_FLOW_COOKIE_NAME") {
            b = b.flow_cookie_name(v);
        }
        if let Some(v) = get("WORKOS_COOKIE_MAX_AGE") {
            match v.trim().parse::<u64>() {
                Ok(n) => b = b.cookie_max_age(n),
                Err(_) => problems.push(ConfigProblem {
                    variable: "WORKOS_COOKIE_MAX_AGE",
                    message: format!("`{v}` is not a whole number of seconds"),
                }),
            }
        }
        if let Some(v) = get("WORKOS_COOKIE_DOMAIN") {
            b = b.cookie_domain(v);
        }
        if let Some(v) = get("WORKOS_COOKIE_SAMESITE") {
            match SameSite::parse(&v) {
                Some(s) => b = b.cookie_same_site(s),
                None => problems.push(ConfigProblem {
                    variable: "WORKOS_COOKIE_SAMESITE",
                    message: format!("invalid SameSite value `{v}`: use lax, strict or none"),
                }),
            }
        }
        if let Some(v) = get("WORKOS_API_HOSTNAME") {
            b.api_hostname = Some(v);
        }
        if let Some(v) = get("WORKOS_API_HTTPS") {
            // As the WorkOS SDKs: only the string "true" means https.
            b.api_https = Some(v == "true");
        }
        if let Some(v) = get("WORKOS_ISSUER") {
            b = b.issuers(v.split(',').map(str::trim).filter(|i| !i.is_empty()));
        }
        if let Some(v) = get("WORKOS_WEBHOOK_SECRET") {
            b = b.webhook_secret(v);
        }
        if let Some(v) = get("WORKOS_REDIRECT_ORIGINS") {
            b = b.redirect_origins(v.split(',').map(str::trim).filter(|o| !o.is_empty()));
        }
        if let Some(v) = get("WORKOS_TRUST_FORWARDED_HOST") {
            match v.trim() {
                "true" => b = b.trust_forwarded_host(true),
                "false" => b = b.trust_forwarded_host(false),
                _ => problems.push(ConfigProblem {
                    variable: "WORKOS_TRUST_FORWARDED_HOST",
                    message: format!("`{v}` is neither `true` nor `false`"),
                }),
            }
        }
        if let Some(v) = get("WORKOS_API_PORT") {
            match v.trim().parse::<u16>() {
                Ok(p) if p > 0 => b.api_port = Some(p),
                _ => problems.push(ConfigProblem {
                    variable: "WORKOS_API_PORT",
                    message: format!("`{v}` is not a port number (1-65535)"),
                }),
            }
        }
        b.problems = problems;
        b.build()
    }

    /// Starts a configuration in code.
    pub fn builder() -> AuthKitConfigBuilder {
        AuthKitConfigBuilder::default()
    }

    /// The WorkOS client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The WorkOS API key, or `None` for a **public (keyless) client**.
    ///
    /// Without a key, sign-in (PKCE), the callback's code exchange (with the PKCE verifier,
    /// no `client_secret`), refresh and sign-out work with the client id alone, as WorkOS's
    /// public clients do (`@workos-inc/node` ≥ 8, authkit-react-router 0.13). What needs the
    /// key is off, said once at start-up ([`AuthKitConfig::features_without_api_key`]), and
    /// answers [`AuthError::ApiKeyRequired`](crate::AuthError::ApiKeyRequired) at the call:
    /// organization names and memberships (`OrganizationSwitcher`), `validate_api_key`, the
    /// Sessions API (`list_user_sessions`, sign out everywhere), the Events API poller, and
    /// completing an organization choice at the callback (the picker then starts a new
    /// sign-in into the chosen organization instead).
    pub fn api_key(&self) -> Option<&Secret> {
        self.api_key.as_ref()
    }

    /// What is off without an API key (empty when one is configured): the features
    /// [`api_key`](Self::api_key) lists, in words for the start-up log.
    pub fn features_without_api_key(&self) -> &'static [&'static str] {
        if self.api_key.is_some() {
            &[]
        } else {
            &[
                "organization names and memberships (OrganizationSwitcher, list_organizations, organization_name)",
                "validate_api_key",
                "the Sessions API (list_user_sessions, user_sessions, sign out everywhere)",
                "the Events API poller",
                "the organization-selection grant at the callback (the picker starts a new sign-in instead)",
            ]
        }
    }
    /// The callback URL.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }
    /// The cookie passwords.
    pub fn passwords(&self) -> &PasswordMap {
        &self.passwords
    }
    /// The session cookie settings.
    pub fn cookie(&self) -> &CookieConfig {
        &self.cookie
    }
    /// The WorkOS API's base URL (no trailing slash in its path).
    pub fn api_base_url(&self) -> &Url {
        &self.api_base_url
    }
    /// The timeout applied to every WorkOS call.
    pub fn http_timeout(&self) -> Duration {
        self.http_timeout
    }

    /// The `iss` values an access token may carry: `WORKOS_ISSUER`'s list when set, else
    /// the API host's own — its origin, and its origin followed by
    /// `/user_management/<client id>` and `/sso/<client id>` — which are the shapes WorkOS
    /// issues on `api.workos.com` (older environments use the bare origin, newer ones the
    /// `/user_management/` path) and the emulator issues on its own host. An app whose
    /// tokens come from a custom auth domain lists it in `WORKOS_ISSUER`. A token with
    /// another issuer is treated as any invalid token: signed out, with one log line that
    /// names the issuer and this variable.
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The webhook endpoint's secret (`WORKOS_WEBHOOK_SECRET`), when WorkOS sends this app
    /// events: [`AuthKit::routes`](crate::AuthKit::routes) then mounts the webhook route.
    pub fn webhook_secret(&self) -> Option<&Secret> {
        self.webhook_secret.as_ref()
    }

    /// The origins whose requests get a redirect URI of their own (`WORKOS_REDIRECT_ORIGINS`),
    /// as validated and lower-cased at start-up: `https://*.preview.example.com`, ….
    pub fn redirect_origins(&self) -> Vec<String> {
        self.redirect_origins
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Whether `X-Forwarded-Host` names the request's origin (`WORKOS_TRUST_FORWARDED_HOST`).
    pub fn trusts_forwarded_host(&self) -> bool {
        self.trust_forwarded_host
    }

    /// The redirect URI for one request — for preview deploys, where each deployment has
    /// an origin of its own (authkit-nextjs #103, #82). When the request's host matches an
    /// origin of [`redirect_origins`](Self::redirect_origins) — exactly, or by one leading
    /// `*.` label — it is [`redirect_uri`](Self::redirect_uri) moved to that origin (same
    /// path and query; the scheme is the entry's); otherwise, whatever the request says,
    /// it is [`redirect_uri`](Self::redirect_uri) itself. The host is `Host` (or HTTP/2's
    /// authority), or the last `X-Forwarded-Host` value when
    /// [`trusts_forwarded_host`](Self::trusts_forwarded_host). It is matched as browsers
    /// send it: a value with upper case, a trailing dot, a port the entry does not name,
    /// userinfo or any character a browser would not send falls back.
    ///
    /// Sign-in uses it for the `redirect_uri` sent to WorkOS (register each preview's
    /// callback URL, or a wildcard one, in the WorkOS dashboard), the callback for the
    /// origin it finishes on, and sign-out for the `return_to` it gives WorkOS.
    ///
    /// ```
    /// # use authkit_leptos::AuthKitConfig;
    /// let config = AuthKitConfig::builder()
    ///     .client_id("client_123")
    ///     .api_key("sk_test_123")
    ///     .redirect_uri("https://app.example.com/callback")
    ///     .cookie_password("x".repeat(32))
    ///     .redirect_origins(["https://*.preview.example.com"])
    ///     .build()?;
    /// let request = |host: &str| {
    ///     let mut headers = http::HeaderMap::new();
    ///     headers.insert(http::header::HOST, host.parse().unwrap());
    ///     let uri: http::Uri = "/auth/sign-in".parse().unwrap();
    ///     config.redirect_uri_for(&headers, &uri).to_string()
    /// };
    /// assert_eq!(request("pr-7.preview.example.com"), "https://pr-7.preview.example.com/callback");
    /// assert_eq!(request("a.b.preview.example.com"), "https://app.example.com/callback");
    /// assert_eq!(request("evil.example.net"), "https://app.example.com/callback");
    /// # Ok::<(), authkit_leptos::ConfigError>(())
    /// ```
    pub fn redirect_uri_for(
        &self,
        headers: &http::HeaderMap,
        uri: &http::Uri,
    ) -> std::borrow::Cow<'_, Url> {
        if self.redirect_origins.is_empty() {
            return std::borrow::Cow::Borrowed(&self.redirect_uri);
        }
        crate::origins::request_host(headers, uri, self.trust_forwarded_host)
            .and_then(|host| {
                crate::origins::redirect_uri_on(&self.redirect_origins, &self.redirect_uri, host)
            })
            .map_or(
                std::borrow::Cow::Borrowed(&self.redirect_uri),
                std::borrow::Cow::Owned,
            )
    }
}

/// Builds an [`AuthKitConfig`]; [`build`](Self::build) validates everything at once.
#[derive(Clone, Default)]
pub struct AuthKitConfigBuilder {
    client_id: Option<String>,
    api_key: Option<Secret>,
    redirect_uri: Option<String>,
    passwords: Option<PasswordMap>,
    cookie: CookieConfig,
    api_base_url: Option<String>,
    api_hostname: Option<String>,
    api_https: Option<bool>,
    api_port: Option<u16>,
    http_timeout: Option<Duration>,
    webhook_secret: Option<Secret>,
    issuers: Vec<String>,
    redirect_origins: Vec<String>,
    trust_forwarded_host: bool,
    problems: Vec<ConfigProblem>,
}

impl fmt::Debug for AuthKitConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKitConfigBuilder")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl AuthKitConfigBuilder {
    /// `WORKOS_CLIENT_ID`.
    pub fn client_id(mut self, v: impl Into<String>) -> Self {
        self.client_id = Some(v.into());
        self
    }
    /// `WORKOS_API_KEY`. Leave it out for a public client (see
    /// [`AuthKitConfig::api_key`]).
    pub fn api_key(mut self, v: impl Into<Secret>) -> Self {
        self.api_key = Some(v.into());
        self
    }
    /// Drops the API key set so far (e.g. by a test helper): a public client, see
    /// [`AuthKitConfig::api_key`].
    pub fn without_api_key(mut self) -> Self {
        self.api_key = None;
        self
    }
    /// `WORKOS_REDIRECT_URI`.
    pub fn redirect_uri(mut self, v: impl Into<String>) -> Self {
        self.redirect_uri = Some(v.into());
        self
    }
    /// `WORKOS_COOKIE_PASSWORD` (id `"1"`).
    pub fn cookie_password(mut self, v: impl Into<Secret>) -> Self {
        self.passwords = Some(PasswordMap::single(v));
        self
    }
    /// Several cookie passwords for rotation (see [`PasswordMap`]).
    pub fn cookie_passwords(mut self, map: PasswordMap) -> Self {
        self.passwords = Some(map);
        self
    }
    /// `WORKOS_COOKIE_NAME`.
    pub fn cookie_name(mut self, v: impl Into<String>) -> Self {
        self.cookie.name = v.into();
        self
    }
    /// `WORKOS_FLOW_COOKIE_NAME`: the sign-in flow cookies' base name (see
    /// [`CookieConfig::flow_name`]).
    pub fn flow_cookie_name(mut self, v: impl Into<String>) -> Self {
        self.cookie.flow_name = v.into();
        self
    }
    /// `WORKOS_COOKIE_MAX_AGE`, in seconds.
    pub fn cookie_max_age(mut self, seconds: u64) -> Self {
        self.cookie.max_age = seconds;
        self
    }
    /// `WORKOS_COOKIE_DOMAIN`.
    pub fn cookie_domain(mut self, v: impl Into<String>) -> Self {
        self.cookie.domain = Some(v.into());
        self
    }
    /// `WORKOS_COOKIE_SAMESITE`.
    pub fn cookie_same_site(mut self, v: SameSite) -> Self {
        self.cookie.same_site = v;
        self
    }
    /// The WorkOS API's base URL, e.g. `http://127.0.0.1:8787` for the emulator.
    /// Overrides the hostname/https/port variables.
    pub fn api_base_url(mut self, v: impl Into<String>) -> Self {
        self.api_base_url = Some(v.into());
        self
    }
    /// The timeout for each WorkOS call (default 10 s).
    pub fn http_timeout(mut self, v: Duration) -> Self {
        self.http_timeout = Some(v);
        self
    }
    /// `WORKOS_ISSUER`: the access tokens' accepted `iss` values, replacing the default
    /// derived from the API host (see [`AuthKitConfig::issuers`]). Each must be an
    /// `http(s)` URL.
    pub fn issuers<I, S>(mut self, issuers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.issuers = issuers.into_iter().map(Into::into).collect();
        self
    }
    /// `WORKOS_WEBHOOK_SECRET`: the secret WorkOS signs this app's webhooks with (dashboard
    /// → *Webhooks* → the endpoint's secret).
    pub fn webhook_secret(mut self, v: impl Into<Secret>) -> Self {
        self.webhook_secret = Some(v.into());
        self
    }

    /// `WORKOS_REDIRECT_ORIGINS`: origins (preview deploys) whose requests get a redirect URI
    /// on their own origin (see [`AuthKitConfig::redirect_uri_for`]). Each is
    /// `scheme://host[:port]`, and the host may start with `*.` to match exactly one label
    /// of any value: `https://*.preview.example.com` matches
    /// `https://pr-42.preview.example.com`, not `https://a.b.preview.example.com` nor
    /// `https://evilpreview.example.com`. Checked by [`build`](Self::build): no path,
    /// query or userinfo, `*` only as the whole first label, and at least two labels
    /// after it. List only domains you control: every host under a `*.` entry can receive
    /// a sign-in's code.
    pub fn redirect_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.redirect_origins = origins.into_iter().map(Into::into).collect();
        self
    }
    /// `WORKOS_TRUST_FORWARDED_HOST`: the app runs behind a proxy that sets
    /// `X-Forwarded-Host` on every request, so its last value (not `Host`) names the
    /// request's origin for [`redirect_origins`](Self::redirect_origins). Default `false`.
    pub fn trust_forwarded_host(mut self, trust: bool) -> Self {
        self.trust_forwarded_host = trust;
        self
    }

    /// Validates and returns the configuration, or every problem found.
    pub fn build(self) -> Result<AuthKitConfig, ConfigError> {
        let mut problems = Problems(self.problems);
        let client_id = required_client_id(self.client_id, &mut problems);
        let api_key = optional_api_key(self.api_key, &mut problems);
        let redirect_uri = redirect_uri(self.redirect_uri.as_deref(), &mut problems);
        if let Some(uri) = &redirect_uri {
            check_same_site(self.cookie.same_site, uri, &mut problems);
        }
        let passwords = match self.passwords {
            None => {
                problems.push(
                    "WORKOS_COOKIE_PASSWORD",
                    format!("missing: set it to a random string of at least {MIN_COOKIE_PASSWORD_LEN} characters (e.g. `openssl rand -base64 32`)"),
                );
                None
            }
            Some(map) => match map.validate() {
                Ok(()) => Some(map),
                Err(e) => {
                    problems.0.extend(e.problems);
                    None
                }
            },
        };
        check_cookie(&self.cookie, redirect_uri.as_ref(), &mut problems);
        let api_base_url = api_base_url(
            self.api_base_url,
            self.api_hostname.as_deref(),
            self.api_https,
            self.api_port,
            &mut problems,
        );
        check_issuers(&self.issuers, &mut problems);
        let redirect_origins: Vec<crate::origins::OriginPattern> = self
            .redirect_origins
            .iter()
            .filter_map(|o| match crate::origins::OriginPattern::parse(o) {
                Ok(p) => Some(p),
                Err(message) => {
                    problems.push("WORKOS_REDIRECT_ORIGINS", message);
                    None
                }
            })
            .collect();
        match (client_id, api_key, redirect_uri, passwords, api_base_url) {
            (
                Some(client_id),
                Ok(api_key),
                Some(redirect_uri),
                Some(passwords),
                Some(api_base_url),
            ) if problems.0.is_empty() => Ok(AuthKitConfig {
                http_timeout: self.http_timeout.unwrap_or(Duration::from_secs(10)),
                webhook_secret: self.webhook_secret,
                redirect_origins,
                trust_forwarded_host: self.trust_forwarded_host,
                issuers: if self.issuers.is_empty() {
                    default_issuers(&api_base_url, &client_id)
                } else {
                    self.issuers
                },
                client_id,
                api_key,
                redirect_uri,
                passwords,
                cookie: self.cookie,
                api_base_url,
            }),
            _ => Err(ConfigError {
                problems: problems.0,
            }),
        }
    }
}

/// The problems found so far, in the order the variables are listed.
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn push(&mut self, variable: &'static str, message: String) {
        self.0.push(ConfigProblem { variable, message });
    }
}

/// `WORKOS_CLIENT_ID`: present and not blank.
fn required_client_id(value: Option<String>, problems: &mut Problems) -> Option<String> {
    match value {
        Some(v) if !v.trim().is_empty() => Some(v),
        _ => {
            problems.push(
                "WORKOS_CLIENT_ID",
                "missing: set it to your WorkOS client id (client_…)".into(),
            );
            None
        }
    }
}

/// `WORKOS_API_KEY`: absent (a public client) or not blank. `Err` when it is set but blank
/// (`WORKOS_API_KEY=` in a file is unset: [`AuthKitConfig::from_vars`] skips empty values).
fn optional_api_key(value: Option<Secret>, problems: &mut Problems) -> Result<Option<Secret>, ()> {
    match value {
        None => Ok(None),
        Some(v) if !v.expose().trim().is_empty() => Ok(Some(v)),
        Some(_) => {
            problems.push(
                "WORKOS_API_KEY",
                "is blank: set it to your WorkOS API key (sk_…), or leave it out for a public client".into(),
            );
            Err(())
        }
    }
}

/// `WORKOS_REDIRECT_URI`: an http(s) URL with a host.
fn redirect_uri(value: Option<&str>, problems: &mut Problems) -> Option<Url> {
    match value.map(str::trim) {
        None | Some("") => {
            problems.push(
                "WORKOS_REDIRECT_URI",
                "missing: set it to your callback URL, e.g. http://localhost:3000/callback".into(),
            );
            None
        }
        Some(v) => match Url::parse(v) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Some(u),
            Ok(_) => {
                problems.push(
                    "WORKOS_REDIRECT_URI",
                    format!("`{v}` must be an http(s) URL with a host"),
                );
                None
            }
            Err(e) => {
                problems.push("WORKOS_REDIRECT_URI", format!("`{v}` is not a URL ({e})"));
                None
            }
        },
    }
}

/// `WORKOS_COOKIE_SAMESITE` against the redirect URI: SameSite=None cookies must be Secure,
/// and browsers drop Secure cookies set over plain http except on loopback hosts (secure
/// contexts), so sign-in would loop.
fn check_same_site(same_site: SameSite, redirect_uri: &Url, problems: &mut Problems) {
    if same_site == SameSite::None
        && redirect_uri.scheme() == "http"
        && !is_loopback_host(redirect_uri)
    {
        problems.push(
            "WORKOS_COOKIE_SAMESITE",
            format!(
                "`none` needs Secure cookies, which browsers refuse over http:// \
                 (WORKOS_REDIRECT_URI is `{redirect_uri}`): serve the app over https and set an \
                 https:// redirect URI, or use `lax` (the default)"
            ),
        );
    }
}

/// `WORKOS_COOKIE_NAME` is a cookie-name token; `WORKOS_COOKIE_DOMAIN` holds nothing that
/// would end the attribute.
fn check_cookie(cookie: &CookieConfig, redirect_uri: Option<&Url>, problems: &mut Problems) {
    let domain_set = cookie.domain.as_deref().is_some_and(|d| !d.is_empty());
    for (variable, name) in [
        ("WORKOS_COOKIE_NAME", &cookie.name),
        ("WORKOS_FLOW_COOKIE_NAME", &cookie.flow_name),
    ] {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
        {
            problems.push(variable, format!("`{name}` is not a valid cookie name"));
            continue;
        }
        // Browsers drop a prefixed cookie that breaks its rules: every sign-in would
        // be lost, so the configuration is refused at start-up instead.
        let Some(prefix) = cookie_prefix(name) else {
            continue;
        };
        if redirect_uri.is_some_and(|u| u.scheme() != "https") {
            problems.push(
                variable,
                format!(
                    "`{name}`: browsers keep a `{prefix}` cookie only when it is Secure, \
                     which needs an https:// WORKOS_REDIRECT_URI"
                ),
            );
        }
        if prefix == "__Host-" && domain_set {
            problems.push(
                "WORKOS_COOKIE_DOMAIN",
                format!(
                    "browsers refuse a `__Host-` cookie with a Domain ({variable} is \
                     `{name}`): unset WORKOS_COOKIE_DOMAIN, or drop the prefix to share \
                     the cookie with other subdomains"
                ),
            );
        }
    }
    if let Some(d) = &cookie.domain {
        if d.bytes()
            .any(|b| !b.is_ascii_graphic() || b == b';' || b == b',')
        {
            problems.push(
                "WORKOS_COOKIE_DOMAIN",
                format!("`{d}` is not a valid cookie domain"),
            );
        }
    }
}

/// The WorkOS API's base URL: the one given, else built from `WORKOS_API_HOSTNAME`,
/// `WORKOS_API_HTTPS` and `WORKOS_API_PORT`.
fn api_base_url(
    given: Option<String>,
    hostname: Option<&str>,
    https: Option<bool>,
    port: Option<u16>,
    problems: &mut Problems,
) -> Option<Url> {
    let v = given.unwrap_or_else(|| {
        let scheme = if https.unwrap_or(true) {
            "https"
        } else {
            "http"
        };
        let host = hostname.unwrap_or(DEFAULT_API_HOSTNAME);
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{scheme}://{host}{port}")
    });
    match Url::parse(&v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Some(u),
        _ => {
            problems.push(
                "WORKOS_API_HOSTNAME",
                format!("`{v}` is not a usable API base URL"),
            );
            None
        }
    }
}

/// The issuers WorkOS's tokens carry on the API host at `base` for `client_id`.
fn default_issuers(base: &Url, client_id: &str) -> Vec<String> {
    let origin = base.origin().ascii_serialization();
    vec![
        origin.clone(),
        format!("{origin}/user_management/{client_id}"),
        format!("{origin}/sso/{client_id}"),
    ]
}

/// `WORKOS_ISSUER`: each issuer listed is an http(s) URL.
fn check_issuers(issuers: &[String], problems: &mut Problems) {
    for issuer in issuers {
        if !matches!(Url::parse(issuer), Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host())
        {
            problems.push(
                "WORKOS_ISSUER",
                format!("`{issuer}` is not an http(s) URL (issuers are comma-separated)"),
            );
        }
    }
}

/// Whether browsers treat `url`'s host as a secure context over plain http: `localhost`,
/// `*.localhost`, 127.0.0.0/8 and `[::1]` (W3C Secure Contexts §3.2, "potentially
/// trustworthy origin"). The emulator checks the same rule for redirect URIs with a copy of
/// its own (it must not depend on this crate; see `workos_emulator`'s `is_loopback_uri`).
pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.');
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "0123456789abcdef0123456789abcdef";

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("WORKOS_CLIENT_ID", "client_123"),
            ("WORKOS_API_KEY", "sk_test_abc"),
            ("WORKOS_REDIRECT_URI", "http://localhost:3000/callback"),
            ("WORKOS_COOKIE_PASSWORD", PW),
        ]
    }

    fn with(extra: &[(&'static str, &'static str)]) -> Result<AuthKitConfig, ConfigError> {
        let mut v = base();
        for (k, val) in extra {
            v.retain(|(kk, _)| kk != k);
            v.push((k, val));
        }
        AuthKitConfig::from_vars(vars(&v))
    }

    fn problem_vars(e: &ConfigError) -> Vec<&'static str> {
        e.problems.iter().map(|p| p.variable).collect()
    }

    #[test]
    fn defaults_match_authkit_nextjs() {
        let c = with(&[]).unwrap();
        assert_eq!(c.cookie().name, "wos-session");
        assert_eq!(c.cookie().max_age, 34_560_000);
        assert_eq!(c.cookie().domain, None);
        assert_eq!(c.cookie().same_site, SameSite::Lax);
        assert_eq!(c.api_base_url().as_str(), "https://api.workos.com/");
        assert_eq!(c.passwords().current().0, "1");
    }

    #[test]
    fn every_missing_variable_is_named_at_once() {
        let e = AuthKitConfig::from_vars(|_| None).unwrap_err();
        assert_eq!(
            problem_vars(&e),
            [
                "WORKOS_CLIENT_ID",
                "WORKOS_REDIRECT_URI",
                "WORKOS_COOKIE_PASSWORD"
            ]
        );
        let text = e.to_string();
        assert!(text.contains("WORKOS_COOKIE_PASSWORD: missing"), "{text}");
    }

    /// No API key is a public client; no client id is still refused, naming the variable
    /// (#26 item 2).
    #[test]
    fn a_missing_api_key_is_a_public_client_but_a_missing_client_id_is_not() {
        let mut v = base();
        v.retain(|(k, _)| *k != "WORKOS_API_KEY");
        let c = AuthKitConfig::from_vars(vars(&v)).unwrap();
        assert!(c.api_key().is_none());
        assert!(c
            .features_without_api_key()
            .iter()
            .any(|f| f.contains("organization names")));
        assert!(with(&[]).unwrap().features_without_api_key().is_empty());
        v.retain(|(k, _)| *k != "WORKOS_CLIENT_ID");
        let e = AuthKitConfig::from_vars(vars(&v)).unwrap_err();
        assert_eq!(problem_vars(&e), ["WORKOS_CLIENT_ID"]);
        assert!(e.to_string().contains("WORKOS_CLIENT_ID: missing"), "{e}");
        // Set but blank in code is a mistake, not a public client.
        let e = AuthKitConfig::builder()
            .client_id("client_1")
            .api_key("  ")
            .redirect_uri("http://localhost/callback")
            .cookie_password(PW)
            .build()
            .unwrap_err();
        assert_eq!(problem_vars(&e), ["WORKOS_API_KEY"]);
    }

    #[test]
    fn short_password_is_rejected_with_its_length_rule() {
        let e = with(&[("WORKOS_COOKIE_PASSWORD", "too-short")]).unwrap_err();
        assert_eq!(problem_vars(&e), ["WORKOS_COOKIE_PASSWORD"]);
        assert!(e.to_string().contains("at least 32 characters"));
        // 32 characters counted as characters, not bytes.
        assert!(with(&[("WORKOS_COOKIE_PASSWORD", "ééééééééééééééééééééééééééééééé")]).is_err());
        assert!(with(&[("WORKOS_COOKIE_PASSWORD", "éééééééééééééééééééééééééééééééé")]).is_ok());
    }

    #[test]
    fn redirect_uri_must_be_an_http_url() {
        for bad in ["callback", "/callback", "ftp://x/callback", "http://"] {
            let e = with(&[("WORKOS_REDIRECT_URI", bad)]).unwrap_err();
            assert_eq!(problem_vars(&e), ["WORKOS_REDIRECT_URI"], "{bad}");
        }
    }

    #[test]
    fn next_public_redirect_uri_is_a_fallback() {
        let mut v = base();
        v.retain(|(k, _)| *k != "WORKOS_REDIRECT_URI");
        v.push((
            "NEXT_PUBLIC_WORKOS_REDIRECT_URI",
            "https://app.example.com/callback",
        ));
        let c = AuthKitConfig::from_vars(vars(&v)).unwrap();
        assert_eq!(
            c.redirect_uri().as_str(),
            "https://app.example.com/callback"
        );
    }

    #[test]
    fn same_site_none_over_plain_http_is_refused_off_loopback() {
        let build = |same_site: &str, uri: &str| {
            let vars = |k: &str| -> Option<String> {
                match k {
                    "WORKOS_CLIENT_ID" => Some("client_1".into()),
                    "WORKOS_API_KEY" => Some("sk_test_1".into()),
                    "WORKOS_REDIRECT_URI" => Some(uri.into()),
                    "WORKOS_COOKIE_PASSWORD" => Some("x".repeat(32)),
                    "WORKOS_COOKIE_SAMESITE" => Some(same_site.into()),
                    _ => None,
                }
            };
            AuthKitConfig::from_vars(vars)
        };
        for uri in [
            "http://app.example.com/callback",
            "http://192.168.1.20:3000/callback",
            "http://localhost.example.com/callback",
        ] {
            let e = build("none", uri).unwrap_err();
            assert_eq!(e.problems.len(), 1, "{e}");
            assert_eq!(e.problems[0].variable, "WORKOS_COOKIE_SAMESITE");
            assert!(e.to_string().contains("https"), "{e}");
        }
        for uri in [
            "https://app.example.com/callback",
            "http://localhost:3000/callback",
            "http://app.localhost:3000/callback",
            "http://127.0.0.1:3000/callback",
            "http://127.8.9.1/callback",
            "http://[::1]:3000/callback",
        ] {
            assert!(build("none", uri).is_ok(), "{uri}");
        }
        assert!(build("lax", "http://app.example.com/callback").is_ok());
    }

    #[test]
    fn same_site_is_case_insensitive_and_validated() {
        assert_eq!(
            with(&[("WORKOS_COOKIE_SAMESITE", "STRICT")])
                .unwrap()
                .cookie()
                .same_site,
            SameSite::Strict
        );
        assert_eq!(
            with(&[("WORKOS_COOKIE_SAMESITE", "none")])
                .unwrap()
                .cookie()
                .same_site,
            SameSite::None
        );
        let e = with(&[("WORKOS_COOKIE_SAMESITE", "sideways")]).unwrap_err();
        assert!(e.to_string().contains("invalid SameSite value `sideways`"));
    }

    #[test]
    fn bad_numbers_are_named() {
        let e = with(&[
            ("WORKOS_COOKIE_MAX_AGE", "soon"),
            ("WORKOS_API_PORT", "99999"),
        ])
        .unwrap_err();
        assert_eq!(
            problem_vars(&e),
            ["WORKOS_COOKIE_MAX_AGE", "WORKOS_API_PORT"]
        );
    }

    #[test]
    fn api_host_https_and_port_build_the_base_url() {
        let c = with(&[
            ("WORKOS_API_HOSTNAME", "127.0.0.1"),
            ("WORKOS_API_HTTPS", "false"),
            ("WORKOS_API_PORT", "8787"),
        ])
        .unwrap();
        assert_eq!(c.api_base_url().as_str(), "http://127.0.0.1:8787/");
        // Only the exact string "true" means https, as in the WorkOS SDKs.
        let c = with(&[("WORKOS_API_HTTPS", "TRUE")]).unwrap();
        assert_eq!(c.api_base_url().scheme(), "http");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = with(&[]).unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains(PW), "{dbg}");
        assert!(!dbg.contains("sk_test_abc"), "{dbg}");
        assert!(dbg.contains("client_123"));
    }

    #[test]
    fn cookie_domains_and_password_ids_are_checked() {
        let e = with(&[("WORKOS_COOKIE_DOMAIN", "exämple.com")]).unwrap_err();
        assert_eq!(problem_vars(&e), ["WORKOS_COOKIE_DOMAIN"]);
        let build = |map: PasswordMap| {
            AuthKitConfig::builder()
                .client_id("c")
                .api_key("k")
                .redirect_uri("http://localhost/callback")
                .cookie_passwords(map)
                .build()
        };
        for bad in ["bad id", "abc", "v2", "1_2", "-1"] {
            let e = build(PasswordMap::from_entries([("1", PW), (bad, PW)]).unwrap()).unwrap_err();
            assert!(
                e.to_string().contains("password ids must be numbers"),
                "{bad}: {e}"
            );
        }
        assert!(build(PasswordMap::from_entries([("1", PW), ("20", PW)]).unwrap()).is_ok());
    }

    #[test]
    fn password_length_counts_utf16_code_units_as_iron_does() {
        let build = |password: String| {
            AuthKitConfig::builder()
                .client_id("c")
                .api_key("k")
                .redirect_uri("http://localhost/callback")
                .cookie_password(password)
                .build()
        };
        // 16 emoji: 16 characters, 32 UTF-16 code units — valid for iron-session.
        assert!(build("\u{1F600}".repeat(16)).is_ok());
        assert!(build("\u{1F600}".repeat(15) + "a").is_err());
        // 31 two-byte characters are 31 code units: too short.
        assert!(build("é".repeat(31)).is_err());
        assert!(build("é".repeat(32)).is_ok());
    }

    #[test]
    fn redirect_origins_are_validated_at_start_up_with_every_bad_entry_named() {
        let c = with(&[
            (
                "WORKOS_REDIRECT_ORIGINS",
                "https://*.Preview.example.com, http://localhost:4000",
            ),
            ("WORKOS_TRUST_FORWARDED_HOST", "true"),
        ])
        .unwrap();
        assert_eq!(
            c.redirect_origins(),
            ["https://*.preview.example.com", "http://localhost:4000"]
        );
        assert!(c.trusts_forwarded_host());
        assert!(!with(&[]).unwrap().trusts_forwarded_host());
        let e = with(&[
            (
                "WORKOS_REDIRECT_ORIGINS",
                "https://*.com,https://ok.example.com,https://x.example.com/callback",
            ),
            ("WORKOS_TRUST_FORWARDED_HOST", "yes"),
        ])
        .unwrap_err();
        assert_eq!(
            problem_vars(&e),
            [
                "WORKOS_TRUST_FORWARDED_HOST",
                "WORKOS_REDIRECT_ORIGINS",
                "WORKOS_REDIRECT_ORIGINS"
            ]
        );
        assert!(e.to_string().contains("https://*.com"), "{e}");
    }

    #[test]
    fn password_map_seals_with_the_largest_numeric_id() {
        let m = PasswordMap::from_entries([("2", PW), ("10", PW), ("9", PW)]).unwrap();
        assert_eq!(m.current().0, "10");
        assert!(m.get("2").is_some());
        assert!(m.get("3").is_none());
        assert!(PasswordMap::from_entries(Vec::<(String, String)>::new()).is_none());
    }
}
