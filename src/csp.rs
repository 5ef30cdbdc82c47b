//! [`ContentSecurityPolicyLayer`]: a strict `Content-Security-Policy` with a fresh nonce per
//! request, shared with Leptos's own nonce so the page's inline scripts run and nothing else
//! inline does.
//!
//! **Threat model.** A strict policy is the second line against cross-site scripting: an
//! injected `<script>`, inline event handler, `javascript:` URL or `style=` attribute is
//! refused by the browser even when it reaches the HTML. Leptos needs inline scripts (the
//! hydration loader, and with streaming the resources' values and out-of-order chunks),
//! so the policy allows exactly the inline scripts that carry this response's nonce — which
//! Leptos writes on every script it emits ([`leptos::nonce`]), once it uses the nonce the
//! header names. Nothing the crate renders needs more: its components use no inline style or
//! script and no `javascript:` URL, and its own pages (the callback's error page) link the
//! stylesheet the crate serves at [`AUTHKIT_STYLESHEET_PATH`].
//!
//! **How the nonce reaches Leptos.** The layer draws 16 random bytes per request, puts them
//! into the request's extensions as a [`CspNonce`] and writes the policy with that nonce on
//! the response. leptos_axum makes a nonce of its own for every render; call
//! [`provide_csp_nonce`] in the render's context (`leptos_routes_with_context` and
//! `file_and_error_handler_with_context`) to replace it with the layer's:
//!
//! ```no_run
//! # #[cfg(feature = "ssr")]
//! # mod demo {
//! use authkit_leptos::{provide_csp_nonce, AuthKit, ContentSecurityPolicyLayer};
//! use leptos::prelude::*;
//! use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
//!
//! # #[component] fn App() -> impl IntoView { () }
//! # fn shell(_: LeptosOptions) -> impl IntoView { () }
//! pub fn router(authkit: &AuthKit, options: LeptosOptions) -> axum::Router {
//!     axum::Router::new()
//!         .leptos_routes_with_context(&options, generate_route_list(App), provide_csp_nonce, {
//!             let options = options.clone();
//!             move || shell(options.clone())
//!         })
//!         .fallback(file_and_error_handler_with_context(provide_csp_nonce, shell))
//!         .merge(authkit.routes())
//!         .layer(authkit.layer().site(&options))
//!         // Outermost, so every response carries the policy: the pages, the server
//!         // functions, the site's files and the AuthKit routes' own pages.
//!         .layer(ContentSecurityPolicyLayer::strict())
//!         .with_state(options)
//! }
//! # }
//! ```
//!
//! **Deployment caveats.** The policy needs `'wasm-unsafe-eval'` in `script-src` for the
//! hydrate bundle: browsers compile WebAssembly only with it once `script-src` is set. It
//! allows compiling WebAssembly, not running strings as script (`eval` stays refused) and not
//! inline script. A handler that sets its own `Content-Security-Policy` keeps it. A page
//! cached by a shared cache would replay one nonce to every visitor: the AuthKit pages are
//! `private, no-store` already; keep any other HTML out of shared caches too. Under a
//! `style-src` without `'unsafe-inline'`, server-rendered `style="…"` attributes (a
//! `style:` directive in `view!`) are refused, while styles set from the browser through
//! the CSSOM (what Leptos does after hydration) are not: put styles in a stylesheet.

use http::header::{HeaderValue, CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY};
use http::{Request, Response};
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Where [`AuthKit::routes`](crate::AuthKit::routes) serves the stylesheet of the crate's
/// own HTML pages (the callback's error page): a same-origin file, so those pages need no
/// inline style under a `style-src 'self'` policy. To style the error page your way,
/// replace it with [`CallbackOptions::on_error`](crate::CallbackOptions::on_error).
pub const AUTHKIT_STYLESHEET_PATH: &str = "/auth/authkit.css";

/// The placeholder a policy template holds where each response's nonce goes.
pub const NONCE_PLACEHOLDER: &str = "{nonce}";

/// The policy [`ContentSecurityPolicyLayer::strict`] serves: same-origin everything, inline
/// script only with this response's nonce, no inline style, no plugins, no `<base>`
/// elsewhere, and no framing by other sites.
///
/// `'wasm-unsafe-eval'` lets the browser compile the hydrate bundle (see the
/// [module docs](self)); it is not `'unsafe-eval'` and not `'unsafe-inline'`.
pub const STRICT_POLICY: &str =
    "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
style-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// The nonce of one request's `Content-Security-Policy`: 16 random bytes, base64url without
/// padding (22 characters, the form Leptos's own nonces take). The
/// [`ContentSecurityPolicyLayer`] puts it into the request's extensions; read it with
/// `axum::Extension<CspNonce>` in a handler that renders its own HTML, or in Leptos with
/// [`provide_csp_nonce`] and then `leptos::nonce::use_nonce()`.
#[derive(Clone, PartialEq, Eq)]
pub struct CspNonce(Arc<str>);

impl CspNonce {
    /// A new random nonce, or `None` when the operating system's random number generator
    /// fails (never a predictable one).
    fn generate() -> Option<Self> {
        Some(Self(crate::encoding::random_base64url::<16>()?.into()))
    }

    /// The nonce, as it appears in `'nonce-…'` and in `nonce="…"` attributes.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A nonce is public once the page is sent, but a log line has no use for it.
impl fmt::Debug for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CspNonce(..)")
    }
}

/// Makes the [`ContentSecurityPolicyLayer`]'s nonce of the current request Leptos's nonce
/// for this render, so `<HydrationScripts>`, the streamed resource scripts and
/// `leptos_meta`'s `<Script>` carry the nonce the response's policy names. Call it in the
/// additional context of `leptos_routes_with_context` and of
/// `file_and_error_handler_with_context` (the [module docs](self) show both); it runs after
/// leptos_axum provided the request's `Parts` and its own nonce, and replaces that nonce.
///
/// Without the layer on the request (no [`CspNonce`] in its extensions) it does nothing:
/// Leptos keeps its own nonce, and no policy names it.
pub fn provide_csp_nonce() {
    let nonce = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    match nonce {
        Some(nonce) => {
            leptos::prelude::provide_context(leptos::nonce::Nonce::from_value(nonce.0));
        }
        None => tracing::debug!(
            "provide_csp_nonce: no ContentSecurityPolicyLayer on this request; Leptos keeps its own nonce"
        ),
    }
}

/// Why a policy template was refused by [`ContentSecurityPolicyLayer::new`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CspError {
    /// The template has no `{nonce}`: Leptos's inline hydration script would be refused.
    #[error(
        "the Content-Security-Policy template has no `{NONCE_PLACEHOLDER}`: write \
         `script-src 'self' 'nonce-{NONCE_PLACEHOLDER}' 'wasm-unsafe-eval'`, or Leptos's inline \
         hydration script is refused"
    )]
    NoNonce,
    /// The template holds a character a header value cannot (a control character, or
    /// anything outside visible ASCII and space).
    #[error("the Content-Security-Policy template holds a character a header value cannot: {0:?}")]
    InvalidCharacter(char),
}

/// A tower layer that writes a `Content-Security-Policy` with a fresh nonce on every
/// response, and hands the nonce to the request as a [`CspNonce`] (the
/// [module docs](self) show the whole set-up and its caveats).
#[derive(Clone)]
pub struct ContentSecurityPolicyLayer {
    /// The template, split at each `{nonce}`.
    pieces: Arc<[Box<str>]>,
    report_only: bool,
}

impl fmt::Debug for ContentSecurityPolicyLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentSecurityPolicyLayer")
            .field("policy", &self.pieces.join(NONCE_PLACEHOLDER))
            .field("report_only", &self.report_only)
            .finish()
    }
}

impl ContentSecurityPolicyLayer {
    /// The layer with [`STRICT_POLICY`].
    pub fn strict() -> Self {
        Self::new(STRICT_POLICY).unwrap_or_else(|_| unreachable!("STRICT_POLICY is valid"))
    }

    /// The layer with a policy of your own: `template` with `{nonce}` wherever the
    /// request's nonce goes (at least once: `'nonce-{nonce}'` in `script-src`).
    ///
    /// ```
    /// # use authkit_leptos::{ContentSecurityPolicyLayer, CspError};
    /// let layer = ContentSecurityPolicyLayer::new(
    ///     "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
    ///      style-src 'self'; img-src 'self' https://images.example.com",
    /// )?;
    /// assert_eq!(
    ///     ContentSecurityPolicyLayer::new("default-src 'self'").unwrap_err(),
    ///     CspError::NoNonce
    /// );
    /// # let _ = layer;
    /// # Ok::<(), CspError>(())
    /// ```
    ///
    /// # Errors
    /// [`CspError::NoNonce`] without a `{nonce}`; [`CspError::InvalidCharacter`] for a
    /// character a header value cannot hold (checked here, so no request can fail on it).
    pub fn new(template: &str) -> Result<Self, CspError> {
        if let Some(c) = template
            .chars()
            .find(|c| !(c.is_ascii_graphic() || *c == ' '))
        {
            return Err(CspError::InvalidCharacter(c));
        }
        if !template.contains(NONCE_PLACEHOLDER) {
            return Err(CspError::NoNonce);
        }
        Ok(Self {
            pieces: template.split(NONCE_PLACEHOLDER).map(Box::from).collect(),
            report_only: false,
        })
    }

    /// Sends the policy as `Content-Security-Policy-Report-Only`: browsers report what it
    /// would refuse (in the console, and to a `report-to` endpoint in the policy) and refuse
    /// nothing. For trying a policy on a live site first.
    pub fn report_only(mut self) -> Self {
        self.report_only = true;
        self
    }

    /// The policy with every `'nonce-{nonce}'` source left out (and any other `{nonce}`
    /// empty): what goes out when no nonce could be drawn.
    fn without_nonce(&self) -> String {
        self.pieces
            .join("\0")
            .replace("'nonce-\0'", "")
            .replace('\0', "")
    }

    /// The policy with `nonce` in place of every `{nonce}`.
    fn render(&self, nonce: &CspNonce) -> Option<HeaderValue> {
        let value = self.pieces.join(nonce.as_str());
        HeaderValue::from_str(&value).ok()
    }
}

impl<S> tower::Layer<S> for ContentSecurityPolicyLayer {
    type Service = ContentSecurityPolicyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ContentSecurityPolicyService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`ContentSecurityPolicyLayer`] wraps around the app.
#[derive(Clone, Debug)]
pub struct ContentSecurityPolicyService<S> {
    inner: S,
    layer: ContentSecurityPolicyLayer,
}

impl<S, B, ResBody> tower::Service<Request<B>> for ContentSecurityPolicyService<S>
where
    S: tower::Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = CspResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let nonce = CspNonce::generate();
        let header = nonce.as_ref().and_then(|n| self.layer.render(n));
        match nonce {
            Some(nonce) => {
                request.extensions_mut().insert(nonce);
            }
            None => tracing::error!(
                "the system random number generator failed: this response gets a policy \
                 without a nonce, so its inline scripts are refused"
            ),
        }
        // No nonce: the policy still goes out, without its nonce sources, so no inline
        // script runs (never a guessable nonce in their place).
        let header = header.or_else(|| HeaderValue::from_str(&self.layer.without_nonce()).ok());
        let name = if self.layer.report_only {
            CONTENT_SECURITY_POLICY_REPORT_ONLY
        } else {
            CONTENT_SECURITY_POLICY
        };
        CspResponseFuture {
            future: self.inner.call(request),
            header: header.map(|value| (name, value)),
        }
    }
}

pin_project! {
    /// The response future of [`ContentSecurityPolicyService`]: the inner service's future,
    /// whose response gets the policy (unless it carries one of its own).
    pub struct CspResponseFuture<F> {
        #[pin]
        future: F,
        header: Option<(http::HeaderName, HeaderValue)>,
    }
}

impl<F: fmt::Debug> fmt::Debug for CspResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CspResponseFuture")
            .field("future", &self.future)
            .finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for CspResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.future.poll(cx))?;
        if let Some((name, value)) = this.header.take() {
            let headers = response.headers_mut();
            if !headers.contains_key(CONTENT_SECURITY_POLICY)
                && !headers.contains_key(CONTENT_SECURITY_POLICY_REPORT_ONLY)
            {
                headers.insert(name, value);
            }
        }
        Poll::Ready(Ok(response))
    }
}

/// The stylesheet of the crate's own HTML pages, served at [`AUTHKIT_STYLESHEET_PATH`].
pub(crate) const AUTHKIT_STYLESHEET: &str = "\
.authkit-page{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1c2024}\n\
.authkit-page a{color:#6e56cf}\n\
.authkit-page code{color:#60646c}\n\
.authkit-org-list{list-style:none;padding:0}\n\
.authkit-org{margin:.5rem 0}\n\
.authkit-org-choose{font:inherit;width:100%;text-align:left;padding:.6rem .8rem;border:1px solid #d9d9e0;border-radius:6px;background:#fff;color:#1c2024;cursor:pointer}\n\
.authkit-org-choose:hover{border-color:#6e56cf}\n\
.authkit-notice{color:#60646c}\n";

/// `GET` at [`AUTHKIT_STYLESHEET_PATH`]: [`AUTHKIT_STYLESHEET`], cacheable for a day.
pub(crate) async fn stylesheet() -> axum::response::Response {
    use axum::response::IntoResponse as _;
    (
        [
            (http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        AUTHKIT_STYLESHEET,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::{Layer as _, ServiceExt as _};

    fn echo_nonce() -> impl tower::Service<
        Request<Body>,
        Response = Response<Body>,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone {
        tower::service_fn(|request: Request<Body>| async move {
            let nonce = request
                .extensions()
                .get::<CspNonce>()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default();
            Ok(Response::new(Body::from(nonce)))
        })
    }

    async fn call(layer: &ContentSecurityPolicyLayer) -> (String, String) {
        let response = layer
            .layer(echo_nonce())
            .oneshot(Request::new(Body::empty()))
            .await
            .unwrap();
        let header = response
            .headers()
            .get(CONTENT_SECURITY_POLICY)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        (header, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn each_response_names_the_nonce_its_request_carried_and_no_two_agree() {
        let layer = ContentSecurityPolicyLayer::strict();
        let (header, nonce) = call(&layer).await;
        assert_eq!(nonce.len(), 22, "{nonce}");
        assert_eq!(header, STRICT_POLICY.replace(NONCE_PLACEHOLDER, &nonce));
        assert!(!header.contains("unsafe-inline"), "{header}");
        let (_, other) = call(&layer).await;
        assert_ne!(nonce, other);
    }

    #[tokio::test]
    async fn a_policy_the_handler_set_is_kept_and_report_only_uses_its_header() {
        let own = tower::service_fn(|_: Request<Body>| async {
            let mut r = Response::new(Body::empty());
            r.headers_mut()
                .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
            Ok::<_, std::convert::Infallible>(r)
        });
        let response = ContentSecurityPolicyLayer::strict()
            .layer(own)
            .oneshot(Request::new(Body::empty()))
            .await
            .unwrap();
        assert_eq!(response.headers()[CONTENT_SECURITY_POLICY], "sandbox");

        let response = ContentSecurityPolicyLayer::strict()
            .report_only()
            .layer(echo_nonce())
            .oneshot(Request::new(Body::empty()))
            .await
            .unwrap();
        assert!(response.headers().get(CONTENT_SECURITY_POLICY).is_none());
        assert!(response.headers()[CONTENT_SECURITY_POLICY_REPORT_ONLY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'"));
    }

    #[test]
    fn templates_without_a_nonce_or_with_control_characters_are_refused() {
        assert_eq!(
            ContentSecurityPolicyLayer::new("default-src 'self'").unwrap_err(),
            CspError::NoNonce
        );
        assert_eq!(
            ContentSecurityPolicyLayer::new("script-src 'nonce-{nonce}'\r\nX-Evil: 1").unwrap_err(),
            CspError::InvalidCharacter('\r')
        );
        let layer =
            ContentSecurityPolicyLayer::new("script-src 'nonce-{nonce}' 'nonce-{nonce}'").unwrap();
        assert_eq!(
            ContentSecurityPolicyLayer::strict().without_nonce(),
            "default-src 'self'; script-src 'self'  'wasm-unsafe-eval'; style-src 'self'; \
             object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
        );
        let nonce = CspNonce("abc".into());
        assert_eq!(
            layer.render(&nonce).unwrap(),
            "script-src 'nonce-abc' 'nonce-abc'"
        );
    }

    #[test]
    fn the_nonce_stays_out_of_debug_output() {
        let nonce = CspNonce::generate().unwrap();
        assert!(!format!("{nonce:?}").contains(nonce.as_str()));
    }
}
