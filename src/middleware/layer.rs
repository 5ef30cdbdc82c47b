//! [`AuthKitLayer`]: the builder of the layer ([`AuthKit::layer`](crate::AuthKit::layer)
//! starts one) and the `tower::Layer` that makes an [`AuthKitService`] per inner service.

use super::service::{AuthKitService, LayerConfig, MiddlewareAuth};
use super::site::SiteFiles;
use crate::authkit::AuthKit;
use crate::matcher::{Matcher, MatcherError};
use std::sync::Arc;

/// Where Leptos mounts server functions by default; covered unless
/// [`AuthKitLayer::without_server_fns`] is called.
pub(super) const DEFAULT_SERVER_FN_PATTERN: &str = "/api/:path*";

/// The AuthKit tower layer. Build it with [`AuthKit::layer`].
///
/// For every request it covers, the layer reads the session cookie, unseals it, checks the
/// access token against the sealed user, verifies it against the WorkOS JWKS, refreshes it
/// when it is expired or about to expire (one exchange per refresh token at a time, see
/// [Refreshing](crate#refreshing)), and puts the result into the request's extensions,
/// where [`with_auth`](crate::with_auth) finds it during SSR and in server functions alike
/// — so both see the *refreshed* session, never the stale cookie. On the way out it writes
/// the new cookie (or deletes a dead one) and marks the response private.
///
/// ## What it covers
///
/// By default, **everything the app renders**: every Leptos route, every server function,
/// the pages the fallback renders (a `404` shows the signed-in nav too) and any other route
/// of the router it wraps — **except the site's own files**: everything under
/// `/{site_pkg_dir}/` (the wasm, JS and CSS cargo-leptos builds) and the files in the site
/// root (`favicon.ico`, the assets dir), which are served exactly as without the layer: no
/// cookie read, no `private, no-store`, no `Vary: Cookie`. The layer finds the site where
/// Leptos does (`LEPTOS_SITE_ROOT` and `LEPTOS_SITE_PKG_DIR`, which cargo-leptos sets, else
/// `target/site` and `pkg`); an app that reads its `LeptosOptions` from a file says so with
/// [`site`](Self::site). No page needs listing.
///
/// [`matcher`](Self::matcher) narrows coverage to chosen paths instead, as authkit-nextjs's
/// middleware `config.matcher` does (server functions stay covered); the site's files
/// are never covered, whatever the patterns say. On a page the matcher misses,
/// [`with_auth`](crate::with_auth) is an error naming the path, and the components render
/// signed out.
///
/// ## Threat model
///
/// The session is only ever read from the sealed cookie and handed on in request
/// extensions, which a client cannot set; headers a client sends (for example the
/// `x-workos-session` header authkit-nextjs uses internally) are never trusted. A cookie
/// that is garbage, tampered with, sealed with another password, or belongs to another
/// user is treated as "signed out" and deleted; WorkOS being down or slow (timeouts
/// apply) never deletes a cookie. Nothing secret is logged.
///
/// **The parent domain is trusted for nothing.** Anyone who can set a cookie for the
/// parent domain — any sibling subdomain, or a network attacker answering for an `http://`
/// one — can add cookies named like the session's beside the user's own (cookie tossing);
/// the browser sends both and says nothing of where each came from (RFC 6265 §5.4). So:
///
/// - when a request's session cookies unseal to two different sessions (another user, or
///   another WorkOS session of the same user), neither wins: the request is signed out,
///   one warning is logged, and nothing is written over either cookie (no refresh, no
///   deletion). Copies of one session (a host-only and a domain cookie, one refreshed
///   later) are no conflict: the one whose token expires last is used;
/// - junk parts planted beside a split session (`wos-session.2`, a second `wos-session.0`)
///   are stepped over: the other ways the parts can be joined are tried, so they never
///   sign the user out;
/// - what stays possible is planting a session where the user has none (signing the
///   visitor into the attacker's account) and making requests signed out while the planted
///   cookie lives. Cookie names with the `__Host-` prefix stop all of it
///   (`WORKOS_COOKIE_NAME=__Host-wos-session`, `WORKOS_FLOW_COOKIE_NAME=__Host-wos-auth-verifier`,
///   https and no `WORKOS_COOKIE_DOMAIN`, checked at start-up): browsers take such a cookie
///   only from this host.
///
/// With `WORKOS_COOKIE_DOMAIN` configured, whenever the layer writes or deletes the session
/// it also deletes the host-only cookie and host-only parts left from before the domain was
/// configured (as the callback does at sign-in), so an old session never sits beside the
/// new one.
///
/// Deployment caveat: `Secure` on the cookies follows the scheme of the configured
/// redirect URI (an app behind a TLS-terminating proxy sees plain http requests).
///
/// ## Where it goes
///
/// Add the layer *after* the routes and the fallback (`Router::layer` only wraps what
/// exists), so it covers the Leptos routes, the fallback's pages and
/// [`AuthKit::routes`] alike:
///
/// ```no_run
/// # use authkit_leptos::{AuthKit, AuthKitConfig};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let authkit = AuthKit::new(AuthKitConfig::from_env()?)?;
/// let app: axum::Router = axum::Router::new()
///     // .leptos_routes(&leptos_options, routes, …)
///     // .fallback(leptos_axum::file_and_error_handler(shell))
///     .merge(authkit.routes())
///     .layer(authkit.layer());
/// # Ok(()) }
/// ```
///
/// The pieces, split the way tower-http splits its middleware: `AuthKitLayer` (the
/// builder), [`AuthKitService`] (what it wraps around the routes),
/// [`ResponseFuture`](crate::ResponseFuture) (what the service returns) and the session's
/// headers the layer writes on each response.
#[derive(Clone, Debug)]
pub struct AuthKitLayer {
    config: Arc<LayerConfig>,
}

impl AuthKitLayer {
    /// The layer, covering everything but the site's files (see
    /// [What it covers](Self#what-it-covers)).
    pub(crate) fn new(kit: AuthKit) -> Self {
        let mut server_fns = Matcher::default();
        // The pattern is a constant known to compile.
        let _ = server_fns.push(DEFAULT_SERVER_FN_PATTERN);
        Self {
            config: Arc::new(LayerConfig {
                kit,
                matcher: None,
                server_fns,
                cover_server_fns: true,
                site: SiteFiles::from_env(),
                middleware_auth: None,
                sign_up_paths: Arc::default(),
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut LayerConfig)) -> Self {
        let mut config = LayerConfig::clone(&self.config);
        f(&mut config);
        self.config = Arc::new(config);
        self
    }

    /// Where the site's files are, from the app's `LeptosOptions` (`site_root` and
    /// `site_pkg_dir`), for apps that read them from a file (`get_configuration(Some(..))`)
    /// rather than from the `LEPTOS_*` variables cargo-leptos sets. The site root's
    /// top-level names are read once, here.
    pub fn site(self, options: &leptos::config::LeptosOptions) -> Self {
        let site = SiteFiles::new(&options.site_root, &options.site_pkg_dir);
        self.edit(|c| c.site = site)
    }

    /// Covers only these paths (and server functions), as a Next.js middleware `matcher`
    /// (`"/"`, `"/dashboard/:path*"`, …); called again, adds to them. A bad pattern is an
    /// error here, at start-up. The site's files stay uncovered whatever the patterns say.
    ///
    /// The patterns have the semantics of a Next.js middleware `matcher` (`path-to-regexp`
    /// v6, as authkit-nextjs compiles it): anchored at both ends, an optional trailing
    /// slash, and case-sensitive. Supported syntax: literal segments; named parameters
    /// `:name` matching one non-empty segment, with the modifiers `?` (optional), `*` (zero
    /// or more segments) and `+` (one or more); parameters inside a segment
    /// (`/file-:id`). Custom regular expressions (`:id(\\d+)`) are rejected with a
    /// [`MatcherError`] naming the pattern, so a typo is caught at start-up and not at
    /// request time. Matching works on the path as it arrives (percent-encoded, without
    /// the query) and never panics, whatever the input.
    pub fn matcher<I, S>(self, patterns: I) -> Result<Self, MatcherError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let extra = Matcher::new(patterns)?;
        Ok(self.edit(|c| {
            let matcher = c.matcher.get_or_insert_with(Matcher::default);
            for p in extra.patterns() {
                let _ = matcher.push(p);
            }
        }))
    }

    /// Stops covering `/api/:path*` (server functions).
    pub fn without_server_fns(self) -> Self {
        self.edit(|c| c.cover_server_fns = false)
    }

    /// Middleware-auth mode: signed-out visitors to any covered path are sent to sign in
    /// before the app runs, except on `unauthenticated_paths` (and the callback path,
    /// which is always allowed). Document requests are redirected to AuthKit; other
    /// requests (server functions, `fetch`) get `401` with the sign-in URL. The site's
    /// files (`/pkg/…`, `favicon.ico`) are never covered, so a signed-out visitor's page
    /// still loads its wasm, JS and CSS.
    ///
    /// The components' own reads of the session (`/api/authkit/snapshot`,
    /// `/api/authkit/access-token`, `/api/authkit/organizations`) are always let through:
    /// they answer a signed-out visitor with "signed out", not an error.
    pub fn middleware_auth<I, S>(self, unauthenticated_paths: I) -> Result<Self, MatcherError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut unauthenticated = Matcher::new(unauthenticated_paths)?;
        let callback = self.config.kit.callback_path().to_owned();
        unauthenticated.push(&crate::matcher::literal_pattern(&callback))?;
        // The components' own reads answer "signed out" themselves (the provider calls them
        // on focus on public pages too); a 401 there would send visitors of public pages
        // to sign in.
        for path in crate::components::server::SIGNED_OUT_ANSWERS {
            unauthenticated.push(&crate::matcher::literal_pattern(path))?;
        }
        Ok(self.edit(|c| c.middleware_auth = Some(MiddlewareAuth { unauthenticated })))
    }

    /// Paths whose sign-in redirect opens the sign-up screen instead.
    pub fn sign_up_paths<I, S>(self, patterns: I) -> Result<Self, MatcherError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let m = Matcher::new(patterns)?;
        Ok(self.edit(|c| c.sign_up_paths = Arc::new(m)))
    }
}

impl<S> tower::Layer<S> for AuthKitLayer {
    type Service = AuthKitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthKitService::new(inner, Arc::clone(&self.config))
    }
}
