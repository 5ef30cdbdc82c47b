//! [`ResponseFuture`]: the future [`AuthKitService`](super::AuthKitService) returns.

use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A covered request's pass through the layer, boxed (see [`ResponseFuture`]).
pub(super) type SessionFlow<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

pin_project! {
    /// The response future of [`AuthKitService`](super::AuthKitService), wrapping the inner
    /// service's future `F`; it resolves to what `F` resolves to (the inner service's
    /// response, or its error unchanged: the layer itself never fails a request).
    ///
    /// Two shapes, chosen when the service is called:
    /// - a request the layer does not cover (its path is outside the matcher, or it is one
    ///   of the routes of [`AuthKit::routes`](crate::AuthKit::routes), which manage their
    ///   cookies themselves) goes straight to the inner service: this future then polls
    ///   `F` in place, with no allocation;
    /// - a covered request runs the session pass: resolve the session cookie (unseal,
    ///   verify, refresh when due, see [`crate::refresh`]), answer a signed-out visitor
    ///   first in middleware-auth mode, call the inner service with the request's
    ///   [`RequestAuth`](crate::RequestAuth) in its extensions, then write the cookie and
    ///   the cache headers. Resolving awaits AuthKit's `async fn`s, whose futures have no
    ///   name, so this pass is one boxed future.
    ///
    /// Code that stores or wraps the layer's future can name it:
    ///
    /// ```
    /// use authkit_leptos::{AuthKitService, ResponseFuture};
    /// use axum::body::Body;
    /// use http::{Request, Response};
    ///
    /// fn start<S>(service: &mut AuthKitService<S>, request: Request<Body>) -> ResponseFuture<S::Future>
    /// where
    ///     S: tower::Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    ///     S::Future: Send + 'static,
    /// {
    ///     tower::Service::call(service, request)
    /// }
    /// ```
    pub struct ResponseFuture<F>
    where
        F: Future,
    {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F>
    where
        F: Future,
    {
        /// Not covered: the inner service's own future.
        Inner {
            #[pin]
            future: F,
        },
        /// Covered: the session pass around the inner service.
        Session {
            flow: SessionFlow<F::Output>,
        },
    }
}

impl<F: Future> ResponseFuture<F> {
    /// The inner service's future, for a request the layer does not cover.
    pub(super) fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    /// The session pass of a covered request.
    pub(super) fn session(flow: SessionFlow<F::Output>) -> Self {
        Self {
            kind: Kind::Session { flow },
        }
    }
}

impl<F: Future> Future for ResponseFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future.poll(cx),
            KindProj::Session { flow } => flow.as_mut().poll(cx),
        }
    }
}

impl<F: Future> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Inner { .. } => "not covered",
            Kind::Session { .. } => "session",
        };
        f.debug_struct("ResponseFuture")
            .field("kind", &kind)
            .finish()
    }
}
