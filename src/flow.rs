//! The sign-in and sign-out flows, as [`AuthKit`] methods: the same-origin links that
//! start signing in, starting a flow (a new PKCE pair and sealed state, the authorization
//! URL and the flow's verifier cookie), what signing out does, and the session a cookie
//! carries on a route the layer does not cover.
//!
//! The layer (middleware-auth mode), the start and sign-out routes, the callback and the
//! server API all start or end flows through these, so each step is written once; this
//! module stands below all of them and imports none of them.
//!
//! Threat model (details in [`crate::oauth_state`]): a flow's cookie holds a random secret
//! bound into the sealed state, so the URLs of a flow (which carry the state) are not
//! enough to finish it in another browser; a sign-in link that carries custom state is
//! signed whole, with an expiry and a key derived from the cookie password, so visitors can
//! neither mint state nor change the rest of such a link. The session a request's cookies
//! carry is the one they agree on ([`AuthKit::session_cookie`]): cookies planted on the
//! parent domain never pick it.

use crate::authkit::AuthKit;
use crate::authkit::SessionCookie;
use crate::error::AuthError;
use crate::headers::cookie_header;
use crate::jwt::decode_unverified;
use crate::oauth_state::{
    sanitize_return_path, signed_link_mac, verifier_cookie_names, verifier_cookies, FlowState,
    LinkParams, SIGNED_LINK_LIFETIME,
};
use crate::session::{
    flow_cookie_name, pkce_delete_cookie, session_delete_cookie, Session, SessionCookies,
};
use crate::workos::{AuthorizationUrlParams, PkcePair, ScreenHint};
use axum::body::Body;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};

/// The default path of the plain sign-out form target.
pub(crate) const DEFAULT_SIGN_OUT_PATH: &str = "/auth/sign-out";

/// Options for sign-in and sign-up links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInOptions {
    /// Where to return after signing in (reduced to a same-origin path and query).
    pub return_to: Option<String>,
    /// Sign in to this organization.
    pub organization_id: Option<String>,
    /// Pre-fill the email address.
    pub login_hint: Option<String>,
    /// OIDC `prompt` (`consent`, …).
    pub prompt: Option<String>,
    /// Your own state, handed back to the callback's `on_success`. A link that carries it
    /// is signed (with its other options) and accepted for a day.
    pub state: Option<String>,
    /// Require an authentication no older than this many seconds.
    pub max_age: Option<u64>,
}

impl AuthKit {
    /// A same-origin link that starts signing in with these options (what
    /// [`get_sign_in_url`](crate::get_sign_in_url) returns, for code outside a request:
    /// e-mails, tests). A link with custom `state` is signed whole (every option and an
    /// expiry, with a key derived from the cookie password) and works for a day: only
    /// links the app made can carry state, and nobody can change their other options.
    pub fn sign_in_link(&self, options: &SignInOptions) -> String {
        self.start_url(ScreenHint::SignIn, options)
    }

    /// [`sign_in_link`](Self::sign_in_link) for AuthKit's sign-up screen.
    pub fn sign_up_link(&self, options: &SignInOptions) -> String {
        self.start_url(ScreenHint::SignUp, options)
    }

    /// The same-origin link to the sign-in (or sign-up) start route with these options.
    pub(crate) fn start_url(&self, screen: ScreenHint, options: &SignInOptions) -> String {
        let path = match screen {
            ScreenHint::SignIn => self.sign_in_path(),
            ScreenHint::SignUp => self.sign_up_path(),
        };
        let return_to = options.return_to.as_deref().map(sanitize_return_path);
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(v) = &return_to {
            query.append_pair("return_to", v);
        }
        if let Some(v) = &options.organization_id {
            query.append_pair("organization_id", v);
        }
        if let Some(v) = &options.login_hint {
            query.append_pair("login_hint", v);
        }
        if let Some(v) = &options.prompt {
            query.append_pair("prompt", v);
        }
        if let Some(v) = options.max_age {
            query.append_pair("max_age", &v.to_string());
        }
        if let Some(v) = &options.state {
            // Custom state is signed with the whole link, until a day from now.
            let params = LinkParams {
                screen: screen.as_str(),
                return_to: return_to.as_deref(),
                organization_id: options.organization_id.as_deref(),
                login_hint: options.login_hint.as_deref(),
                prompt: options.prompt.as_deref(),
                state: Some(v),
                max_age: options.max_age,
            };
            let expires = crate::jwt::unix_now() + SIGNED_LINK_LIFETIME.as_secs();
            query.append_pair("state", v);
            query.append_pair("state_expires", &expires.to_string());
            query.append_pair(
                "state_mac",
                &signed_link_mac(self.config(), &params, expires),
            );
        }
        let query = query.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }

    /// Starts a sign-in flow: a new PKCE pair and sealed state, the authorization URL, and
    /// the verifier cookie(s) to set on the redirect. `redirect_uri` is the request's
    /// ([`AuthKitConfig::redirect_uri_for`](crate::AuthKitConfig::redirect_uri_for)): sent
    /// to WorkOS and sealed into the state, so the callback finishes on that origin.
    pub(crate) fn authorization_redirect(
        &self,
        screen: ScreenHint,
        options: &SignInOptions,
        request_cookie_header: &str,
        redirect_uri: &url::Url,
    ) -> Result<(url::Url, Vec<String>), AuthError> {
        let pkce = PkcePair::generate().map_err(AuthError::internal)?;
        let mut state = FlowState::new(
            pkce.code_verifier().to_owned(),
            options.return_to.clone(),
            options.state.clone(),
        )
        .map_err(|e| match e {
            crate::oauth_state::StateError::CustomStateTooLarge(_) => {
                AuthError::InvalidInput(e.to_string())
            }
            e => AuthError::internal(e),
        })?;
        // A flow for another origin than the configured one says which (authkit-session's
        // `redirectUri`); a flow for the configured one stays authkit-nextjs's shape.
        if redirect_uri != self.config().redirect_uri() {
            state.redirect_uri = Some(redirect_uri.to_string());
        }
        // The flow cookie holds a secret whose digest the state seals: the callback URL
        // (which carries the state) is not enough to finish the sign-in elsewhere.
        let secret = state.bind().map_err(AuthError::internal)?;
        let sealed = state.seal(self.config()).map_err(AuthError::internal)?;
        // The state stays within what one cookie holds, as a flow authkit-nextjs finishes
        // needs it (its cookie holds the state) and so its URLs stay short; refuse clearly
        // rather than start a flow that cannot finish everywhere.
        let cookie_bytes =
            flow_cookie_name(self.config().cookie(), &sealed).len() + 1 + sealed.len();
        if cookie_bytes > crate::session::MAX_COOKIE_BYTES {
            return Err(AuthError::InvalidInput(format!(
                "the sign-in state would need a {cookie_bytes}-byte cookie, over the {} bytes \
                 browsers keep: shorten the custom state or the return path",
                crate::session::MAX_COOKIE_BYTES
            )));
        }
        let url = self.client().authorization_url(&AuthorizationUrlParams {
            redirect_uri: Some(redirect_uri.to_string()),
            code_challenge: Some(pkce.code_challenge().to_owned()),
            state: Some(sealed.clone()),
            screen_hint: Some(screen),
            login_hint: options.login_hint.clone(),
            max_age: options.max_age,
            organization_id: options.organization_id.clone(),
            prompt: options.prompt.clone(),
            ..Default::default()
        });
        let cookies = verifier_cookies(
            self.config().cookie(),
            &sealed,
            &secret,
            Some(redirect_uri.as_str()),
            Some(request_cookie_header),
        );
        Ok((url, cookies))
    }

    /// What signing out does: where to send the browser, the session cookie's deletion,
    /// and the deletions of every flow (verifier) cookie. Also forgets any remembered
    /// refresh of the session, so its old cookie stops working at once.
    pub(crate) fn sign_out_plan(
        &self,
        headers: &HeaderMap,
        uri: &http::Uri,
        session: Option<(&Session, String)>,
        return_to: Option<&str>,
    ) -> SignOutPlan {
        let config = self.config();
        // On a preview origin (`WORKOS_REDIRECT_ORIGINS`), WorkOS sends the browser back there.
        let redirect_uri = config.redirect_uri_for(headers, uri);
        let secure_url = Some(redirect_uri.as_str());
        let verifier_deletes =
            verifier_cookie_names(&cookie_header(headers), &config.cookie().flow_name)
                .iter()
                .map(|name| pkce_delete_cookie(config.cookie(), name, secure_url))
                .collect();
        let return_path = sanitize_return_path(return_to.unwrap_or("/"));
        // Forget the remembered refreshes of both the cookie the browser sent and the
        // session it became in this request (the layer may have refreshed it), so neither
        // an old nor a current cookie can be traded for a session after signing out.
        if let Some((sent, _)) = self.session_from_cookie(headers) {
            self.forget_refresh(&sent.refresh_token);
        }
        let location = match session {
            Some((session, sid)) => {
                self.forget_refresh(&session.refresh_token);
                self.forget_session(&sid);
                // Absolute URL on this site: WorkOS checks it against the allowed logout URLs.
                let return_url = redirect_uri
                    .join(&return_path)
                    .map(String::from)
                    .unwrap_or_else(|_| "/".to_owned());
                self.client()
                    .logout_url(&sid, Some(&return_url))
                    .to_string()
            }
            None => return_path,
        };
        let sent = SessionCookies::from_headers(headers, &config.cookie().name);
        SignOutPlan {
            location,
            session_delete: std::iter::once(session_delete_cookie(config.cookie(), secure_url))
                .chain(sent.host_only_deletions(config.cookie(), secure_url))
                .chain(sent.stale_deletions(config.cookie(), secure_url, &[]))
                .collect(),
            verifier_deletes,
        }
    }

    /// The session and its id from the cookie itself (for sign-out on a request the
    /// layer does not cover, and for the callback's replay check): the session the
    /// request's cookies agree on ([`AuthKit::session_cookie`]); none when they name two
    /// sessions.
    pub(crate) fn session_from_cookie(
        &self,
        headers: &HeaderMap,
    ) -> Option<(std::sync::Arc<Session>, String)> {
        let cookies = SessionCookies::from_headers(headers, &self.config().cookie().name);
        let SessionCookie::One(value) = self.session_cookie(&cookies, headers) else {
            return None;
        };
        let session = self.unseal_session(&value).ok()?;
        let (_, claims) = decode_unverified(&session.access_token).ok()?;
        let sid = claims.get("sid")?.as_str()?.to_owned();
        Some((session, sid))
    }

    /// Whether `path` is one of the routes [`AuthKit::routes`] mounts.
    pub(crate) fn is_own_route(&self, path: &str) -> bool {
        path == self.sign_in_path()
            || path == self.sign_up_path()
            || path == self.callback_path()
            || path == DEFAULT_SIGN_OUT_PATH
            || path == crate::csp::AUTHKIT_STYLESHEET_PATH
            || self.webhook_path() == Some(path)
    }
}

/// See [`AuthKit::sign_out_plan`].
pub(crate) struct SignOutPlan {
    /// Where the browser goes: the WorkOS logout URL, or the return path when there was
    /// no session.
    pub(crate) location: String,
    /// The session cookie's deletion, and its host-only twin when a domain is configured.
    pub(crate) session_delete: Vec<String>,
    /// The deletions of every flow (verifier) cookie the browser sent.
    pub(crate) verifier_deletes: Vec<String>,
}

/// The answer when a sign-in flow cannot be started: 400 for the caller's own mistakes
/// (custom state too large), 503 otherwise.
pub(crate) fn sign_in_unavailable(error: &AuthError) -> Response<Body> {
    let (status, text) = match error {
        AuthError::InvalidInput(message) => (StatusCode::BAD_REQUEST, message.clone()),
        _ => {
            tracing::error!(error = %error, "cannot start a sign-in flow");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable right now. Please try again.".to_owned(),
            )
        }
    };
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
