//! [`FinishAbandonedRendersLayer`]: Leptos 0.8 renders run to their end even when the
//! client leaves early, so their tasks do not stay alive for ever.
//!
//! With leptos_axum 0.8 (leptos_integration_utils 0.8.9, hydration_context 0.3.2), a page
//! render releases its reactive state only when its HTML stream is read to the end: the
//! stream takes each resource's serialized value out of the render's shared context, and
//! its last item cleans up the root owner. A client that leaves before the end (a closed
//! tab, a proxy timeout, a load generator stopping) drops the handler or the body half-way,
//! and each `Resource` of the page (the app's own, and the one in this crate's
//! [`Impersonation`](crate::Impersonation) banner) then keeps a tokio task waiting for
//! ever: hundreds per minute under load, which `scripts/soak.sh` counts. Cleaning up the
//! owner when the body is dropped (what leptos 0.9 does) did not release them; reading the
//! stream to its end does. So the layer runs the handler in a task of its own, which a
//! leaving client cannot cancel, and reads a body dropped before its end to the end in a
//! new task, for at most [`FinishAbandonedRendersLayer::drain_limit`]. A panic in the
//! handler still reaches the caller. It can go when a Leptos upgrade passes the soak run
//! without it.

use axum::body::{Body, Bytes, HttpBody};
use axum::response::{IntoResponse, Response};
use http::{Request, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a render that lost its client may still run to its end, by default.
const DEFAULT_DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// A tower layer that lets every response the routes it wraps produce run to its end, even
/// when the client leaves early — the fix for Leptos 0.8's abandoned-render task leak (the
/// [module docs](self) say why). Add it once, over the Leptos routes and the fallback:
///
/// ```no_run
/// use authkit_leptos::FinishAbandonedRendersLayer;
/// # fn app(leptos_routes: axum::Router) -> axum::Router {
/// leptos_routes // .leptos_routes(…).fallback(leptos_axum::file_and_error_handler(shell))
///     .layer(FinishAbandonedRendersLayer::new())
/// # }
/// ```
///
/// Costs one task spawn per request; a response read to its end (the normal case) is not
/// touched otherwise.
#[derive(Clone, Copy, Debug)]
pub struct FinishAbandonedRendersLayer {
    drain_limit: Duration,
}

impl FinishAbandonedRendersLayer {
    /// The layer, with a drain limit of 30 s.
    pub fn new() -> Self {
        Self {
            drain_limit: DEFAULT_DRAIN_LIMIT,
        }
    }

    /// How long a response whose client left may still be read to its end (default 30 s);
    /// a render that takes longer is dropped then, as without the layer.
    pub fn drain_limit(mut self, limit: Duration) -> Self {
        self.drain_limit = limit;
        self
    }
}

impl Default for FinishAbandonedRendersLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> tower::Layer<S> for FinishAbandonedRendersLayer {
    type Service = FinishAbandonedRenders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FinishAbandonedRenders {
            inner,
            drain_limit: self.drain_limit,
        }
    }
}

/// The service [`FinishAbandonedRendersLayer`] wraps around the routes.
#[derive(Clone, Debug)]
pub struct FinishAbandonedRenders<S> {
    inner: S,
    drain_limit: Duration,
}

impl<S, B> tower::Service<Request<B>> for FinishAbandonedRenders<S>
where
    S: tower::Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call (tower's idiom).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let drain_limit = self.drain_limit;
        let (send, receive) = tokio::sync::oneshot::channel();
        let handler = tokio::spawn(async move {
            let result = inner.call(request).await;
            // Wrapped before it is handed over: if nobody takes it, it is dropped (and its
            // body read to the end) here or in the channel.
            let _ = send.send(result.map(|response| {
                response.map(|body| {
                    Body::new(DrainOnDrop {
                        body,
                        done: false,
                        drain_limit,
                    })
                })
            }));
        });
        Box::pin(async move {
            match receive.await {
                Ok(result) => result,
                Err(_) => match handler.await {
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    _ => Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
                },
            }
        })
    }
}

/// Reads `body` to its end (or an error), for at most `limit`.
async fn drain(mut body: Body, limit: Duration) {
    let to_end = async {
        while let Some(Ok(_)) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
        }
    };
    let _ = tokio::time::timeout(limit, to_end).await;
}

/// A response body that, dropped before its end, is read to the end in a new task.
struct DrainOnDrop {
    body: Body,
    done: bool,
    drain_limit: Duration,
}

impl HttpBody for DrainOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.body).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            this.done = true;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        if self.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(std::mem::take(&mut self.body), self.drain_limit));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tower::{Layer, Service, ServiceExt};

    /// A body of two frames that records whether it was read to its end.
    struct TwoFrames {
        sent: u8,
        read_to_end: Arc<AtomicBool>,
    }

    impl HttpBody for TwoFrames {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            self.sent += 1;
            if self.sent <= 2 {
                return Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(
                    b"chunk",
                )))));
            }
            self.read_to_end.store(true, Ordering::SeqCst);
            Poll::Ready(None)
        }
    }

    fn two_frames(read_to_end: Arc<AtomicBool>) -> Body {
        Body::new(TwoFrames {
            sent: 0,
            read_to_end,
        })
    }

    #[tokio::test]
    async fn a_body_dropped_half_way_is_read_to_its_end() {
        let read_to_end = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&read_to_end);
        let service = tower::service_fn(move |_: Request<Body>| {
            let flag = Arc::clone(&flag);
            async move { Ok::<_, std::convert::Infallible>(Response::new(two_frames(flag))) }
        });
        let mut service = FinishAbandonedRendersLayer::new().layer(service);
        let response = service
            .ready()
            .await
            .unwrap()
            .call(Request::new(Body::empty()))
            .await
            .unwrap();
        let mut body = response.into_body();
        let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(first.is_some());
        drop(body); // the client left after the first chunk
        for _ in 0..100 {
            if read_to_end.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the abandoned body was not read to its end");
    }

    #[tokio::test]
    async fn a_handler_whose_caller_left_still_runs_to_its_end() {
        let finished = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&finished);
        let service = tower::service_fn(move |_: Request<Body>| {
            let flag = Arc::clone(&flag);
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                flag.store(true, Ordering::SeqCst);
                Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
            }
        });
        let mut service = FinishAbandonedRendersLayer::new().layer(service);
        let call = service
            .ready()
            .await
            .unwrap()
            .call(Request::new(Body::empty()));
        // The client leaves before the handler answers.
        let _ = tokio::time::timeout(Duration::from_millis(5), call).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(finished.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_panic_in_the_handler_reaches_the_caller() {
        let service = tower::service_fn(|_: Request<Body>| async {
            if true {
                panic!("boom");
            }
            Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
        });
        let service = FinishAbandonedRendersLayer::new().layer(service);
        let outcome = tokio::spawn(service.oneshot(Request::new(Body::empty()))).await;
        assert!(outcome.unwrap_err().is_panic());
    }
}
