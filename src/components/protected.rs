//! [`Protected`], [`GuardedRoute`] and [`GuardedParentRoute`]: route guards decided from
//! the synchronous snapshot.

use super::provider::use_auth;
use super::snapshot::AuthSnapshot;
use leptos::prelude::*;
use leptos::tachys::prelude::IntoMaybeErased;
use leptos_router::{
    components::RouteChildren, ChooseView, MatchNestedRoutes, NestedRoute, PossibleRouteMatch,
    SsrMode,
};

/// What a guard requires beyond being signed in. Empty: only signed in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Requirements {
    permission: Option<String>,
    role: Option<String>,
    organization: Option<String>,
    flag: Option<String>,
    entitlement: Option<String>,
}

/// A guard's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Show the protected view.
    Allowed,
    /// Signed in, but a requirement is not met: show the fallback (403 during SSR).
    Denied,
    /// Signed out: send the browser to sign in.
    SignedOut,
    /// The layer did not cover this request: a setup mistake, shown as such.
    NotCovered,
}

impl Requirements {
    fn decide(&self, s: &AuthSnapshot) -> Access {
        if !s.covered {
            return Access::NotCovered;
        }
        if !s.is_signed_in() {
            return Access::SignedOut;
        }
        let met = self
            .permission
            .as_deref()
            .is_none_or(|p| s.has_permission(p))
            && self.role.as_deref().is_none_or(|r| s.has_role(r))
            && self
                .organization
                .as_deref()
                .is_none_or(|o| s.organization_id.as_deref() == Some(o))
            && self.flag.as_deref().is_none_or(|f| s.has_feature_flag(f))
            && self
                .entitlement
                .as_deref()
                .is_none_or(|e| s.has_entitlement(e));
        if met {
            Access::Allowed
        } else {
            Access::Denied
        }
    }
}

/// Shows `children` only to a signed-in user who meets every requirement given; like
/// authkit-nextjs's `withAuth({ ensureSignedIn: true })` for a whole route, plus optional
/// `permission`, `role`, `organization`, `flag` and `entitlement` requirements.
///
/// - **Signed out**, on a document request: a real `302` to the sign-in route, keeping the
///   path and query to return to, decided before the first byte of the page in every
///   `SsrMode` (out-of-order, in-order, async, partially-blocked); none of `children` is
///   rendered. The response is `Cache-Control: private, no-store` and `Vary: Cookie`.
/// - **Signed out** after a client-side navigation (or when the provider notices that the
///   session ended): a full-page navigation to sign-in (a server route), returning to the
///   route the user asked for.
/// - **Signed in without a requirement**: `fallback` (default: an "access denied" notice),
///   with status `403` during SSR; never a redirect loop.
/// - **A path the layer does not cover**: a notice naming the mistake (the session is
///   unknown there, so redirecting would loop).
///
/// The decision reads the snapshot synchronously: no `Resource`, no `Result`, nothing an
/// `<ErrorBoundary>` could catch, and the same behaviour with a `<Suspense>` or
/// `<ErrorBoundary>` above or below it. It guards *pages*: every server function still
/// checks the session itself (`ensure_signed_in`).
///
/// ```no_run
/// # #[cfg(any(feature = "ssr", feature = "hydrate"))]
/// # mod demo {
/// use authkit_leptos::Protected;
/// use leptos::prelude::*;
///
/// #[component]
/// fn Billing() -> impl IntoView {
///     view! {
///         <Protected permission="billing:manage" fallback=|| view! { <p>"Ask an admin."</p> }>
///             <h1>"Billing"</h1>
///         </Protected>
///     }
/// }
/// # }
/// ```
#[component]
pub fn Protected(
    /// The protected view.
    children: ChildrenFn,
    /// Required permission (the access token's `permissions`).
    #[prop(optional, into)]
    permission: Option<String>,
    /// Required role.
    #[prop(optional, into)]
    role: Option<String>,
    /// Required organization id (`org_…`).
    #[prop(optional, into)]
    organization: Option<String>,
    /// Required feature flag.
    #[prop(optional, into)]
    flag: Option<String>,
    /// Required entitlement.
    #[prop(optional, into)]
    entitlement: Option<String>,
    /// Shown to signed-in users who miss a requirement.
    #[prop(optional, into)]
    fallback: Option<ViewFn>,
    /// Send signed-out visitors to sign *up* instead of sign in.
    #[prop(optional)]
    sign_up: bool,
) -> impl IntoView {
    let requirements = Requirements {
        permission,
        role,
        organization,
        flag,
        entitlement,
    };
    guard(requirements, fallback, sign_up, children)
}

fn guard(
    requirements: Requirements,
    fallback: Option<ViewFn>,
    sign_up: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let snapshot = auth.signal();
    let access = Memo::new(move |_| snapshot.with(|s| requirements.decide(s)));

    #[cfg(feature = "ssr")]
    server::respond(access.get_untracked(), sign_up);

    #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
    {
        // The URL of the route being rendered: on a client-side navigation the router
        // renders the new route before the address bar changes.
        let route_url = use_context::<ArcRwSignal<leptos_router::location::Url>>();
        Effect::new(move |_| {
            if access.get() == Access::SignedOut {
                let here = route_url.as_ref().and_then(|url| {
                    url.try_with_untracked(|url| {
                        format!(
                            "{}{}",
                            url.path(),
                            super::navigate::without_action_params(url.search())
                        )
                    })
                });
                client::go_to_sign_in(sign_up, here);
            }
        });
    }
    #[cfg(not(any(feature = "ssr", all(feature = "hydrate", target_arch = "wasm32"))))]
    let _ = sign_up;

    move || match access.get() {
        Access::Allowed => children().into_any(),
        Access::Denied => match &fallback {
            Some(f) => f.run(),
            None => view! {
                <div class="authkit-denied" role="alert">
                    <h1>"Access denied"</h1>
                    <p>"Your account does not have access to this page."</p>
                </div>
            }
            .into_any(),
        },
        Access::SignedOut => ().into_any(),
        Access::NotCovered => view! {
            <div class="authkit-not-covered" role="alert">
                <p>
                    "This page is protected, but the AuthKit layer does not cover its path, so the \
                     session is unknown here: add the path to AuthKitLayer::matcher([...])."
                </p>
            </div>
        }
        .into_any(),
    }
}

#[cfg(feature = "ssr")]
mod server {
    use super::Access;
    use crate::flow::SignInOptions;
    use crate::workos::ScreenHint;
    use http::header::{HeaderValue, CACHE_CONTROL, LOCATION, VARY};
    use http::StatusCode;
    use leptos::prelude::use_context;

    /// Sets the status (and `Location`) of the page being rendered; this runs before the
    /// first chunk is sent, so it reaches the browser in every `SsrMode`.
    pub(super) fn respond(access: Access, sign_up: bool) {
        let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
            return;
        };
        let private = || {
            response.insert_header(
                CACHE_CONTROL,
                HeaderValue::from_static(crate::headers::PRIVATE_NO_STORE),
            );
            response.append_header(VARY, HeaderValue::from_static("Cookie"));
        };
        match access {
            Access::Allowed => {}
            Access::Denied => {
                response.set_status(StatusCode::FORBIDDEN);
                private();
            }
            Access::NotCovered => {
                tracing::error!(
                    "<Protected> rendered on a path the AuthKit layer does not cover: add it to the matcher"
                );
            }
            Access::SignedOut => {
                let Ok(parts) = crate::request_auth::current_request() else {
                    return;
                };
                let Some(request_auth) = crate::request_auth::LayerState::of(&parts).request_auth()
                else {
                    return;
                };
                let return_to = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                let screen = if sign_up {
                    ScreenHint::SignUp
                } else {
                    ScreenHint::SignIn
                };
                let url = request_auth.authkit().start_url(
                    screen,
                    &SignInOptions {
                        return_to: Some(return_to),
                        ..SignInOptions::default()
                    },
                );
                if let Ok(location) = HeaderValue::from_str(&url) {
                    response.set_status(StatusCode::FOUND);
                    response.insert_header(LOCATION, location);
                    private();
                }
            }
        }
    }
}

#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
mod client {
    use super::super::navigate;

    /// A full-page navigation to the sign-in (or sign-up) start route, returning to `here`
    /// (the protected route's path and query), else to the page the address bar shows.
    pub(super) fn go_to_sign_in(sign_up: bool, here: Option<String>) {
        let location = leptos::prelude::window().location();
        let here = here.unwrap_or_else(|| {
            format!(
                "{}{}",
                location.pathname().unwrap_or_default(),
                navigate::without_action_params(&location.search().unwrap_or_default())
            )
        });
        let config = navigate::current_config();
        let start = if sign_up {
            &config.sign_up_path
        } else {
            &config.sign_in_path
        };
        let _ = location.set_href(&navigate::sign_in_href(start, &here));
    }
}

/// The view of a [`GuardedRoute`]: the route's view inside a [`Protected`].
#[derive(Clone)]
pub struct GuardedView<F> {
    view: F,
    requirements: Requirements,
    fallback: Option<ViewFn>,
    sign_up: bool,
}

impl<F> GuardedView<F> {
    fn new(view: F, requirements: Requirements, fallback: Option<ViewFn>, sign_up: bool) -> Self {
        Self {
            view,
            requirements,
            fallback,
            sign_up,
        }
    }
}

impl<F, V> ChooseView for GuardedView<F>
where
    F: Fn() -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    async fn choose(self) -> AnyView {
        let view = self.view;
        guard(
            self.requirements,
            self.fallback,
            self.sign_up,
            std::sync::Arc::new(move || view().into_any()),
        )
        .into_any()
    }

    async fn preload(&self) {}
}

/// A `<Route>` whose view is wrapped in [`Protected`]: the same decisions, the same props,
/// for `<Routes>` (as leptos_router's `ProtectedRoute`, named apart from it so that
/// `use leptos_router::components::*;` and `use authkit_leptos::*;` import side by side, and
/// decided from the synchronous
/// snapshot, so signed-out document requests get a real `302` in every `SsrMode`).
///
/// ```no_run
/// # #[cfg(any(feature = "ssr", feature = "hydrate"))]
/// # mod demo {
/// use authkit_leptos::GuardedRoute;
/// use leptos::prelude::*;
/// use leptos_router::{components::{Router, Routes}, path, SsrMode};
///
/// #[component]
/// fn App() -> impl IntoView {
///     view! {
///         <Router>
///             <Routes fallback=|| "Not found">
///                 <GuardedRoute path=path!("/reports") view=|| "Reports" ssr=SsrMode::InOrder />
///                 <GuardedRoute path=path!("/admin") view=|| "Admin" role="admin" />
///             </Routes>
///         </Router>
///     }
/// }
/// # }
/// ```
#[component(transparent)]
pub fn GuardedRoute<Segments, ViewFn, View>(
    /// The path (as for `<Route>`).
    path: Segments,
    /// The route's view.
    view: ViewFn,
    /// The SSR mode (as for `<Route>`).
    #[prop(optional)]
    ssr: SsrMode,
    /// Required permission.
    #[prop(optional, into)]
    permission: Option<String>,
    /// Required role.
    #[prop(optional, into)]
    role: Option<String>,
    /// Required organization id.
    #[prop(optional, into)]
    organization: Option<String>,
    /// Required feature flag.
    #[prop(optional, into)]
    flag: Option<String>,
    /// Required entitlement.
    #[prop(optional, into)]
    entitlement: Option<String>,
    /// Shown to signed-in users who miss a requirement.
    #[prop(optional, into)]
    fallback: Option<leptos::prelude::ViewFn>,
    /// Send signed-out visitors to sign up instead of sign in.
    #[prop(optional)]
    sign_up: bool,
) -> <NestedRoute<Segments, (), (), GuardedView<ViewFn>> as IntoMaybeErased>::Output
where
    Segments: PossibleRouteMatch + Clone + Send + 'static,
    ViewFn: Fn() -> View + Send + Sync + Clone + 'static,
    View: IntoView + 'static,
{
    let requirements = Requirements {
        permission,
        role,
        organization,
        flag,
        entitlement,
    };
    NestedRoute::new(
        path,
        GuardedView::new(view, requirements, fallback, sign_up),
    )
    .ssr_mode(ssr)
    .into_maybe_erased()
}

/// A `<ParentRoute>` whose view is wrapped in [`Protected`]: everything under it needs a
/// signed-in user who meets the requirements. Its view renders an `<Outlet/>` as usual.
#[component(transparent)]
pub fn GuardedParentRoute<Segments, ViewFn, View, Children>(
    /// The path (as for `<ParentRoute>`).
    path: Segments,
    /// The parent view (with an `<Outlet/>`).
    view: ViewFn,
    /// Nested routes.
    children: RouteChildren<Children>,
    /// The SSR mode.
    #[prop(optional)]
    ssr: SsrMode,
    /// Required permission.
    #[prop(optional, into)]
    permission: Option<String>,
    /// Required role.
    #[prop(optional, into)]
    role: Option<String>,
    /// Required organization id.
    #[prop(optional, into)]
    organization: Option<String>,
    /// Required feature flag.
    #[prop(optional, into)]
    flag: Option<String>,
    /// Required entitlement.
    #[prop(optional, into)]
    entitlement: Option<String>,
    /// Shown to signed-in users who miss a requirement.
    #[prop(optional, into)]
    fallback: Option<leptos::prelude::ViewFn>,
    /// Send signed-out visitors to sign up instead of sign in.
    #[prop(optional)]
    sign_up: bool,
) -> <NestedRoute<Segments, Children, (), GuardedView<ViewFn>> as IntoMaybeErased>::Output
where
    Segments: PossibleRouteMatch + Clone + Send + 'static,
    Children: MatchNestedRoutes + Send + Clone + 'static,
    ViewFn: Fn() -> View + Send + Sync + Clone + 'static,
    View: IntoView + 'static,
{
    let requirements = Requirements {
        permission,
        role,
        organization,
        flag,
        entitlement,
    };
    NestedRoute::new(
        path,
        GuardedView::new(view, requirements, fallback, sign_up),
    )
    .ssr_mode(ssr)
    .child(children.into_inner())
    .into_maybe_erased()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_in() -> AuthSnapshot {
        let user: crate::User = serde_json::from_value(serde_json::json!({
            "object": "user", "id": "user_1", "email": "a@example.com", "email_verified": true,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        AuthSnapshot {
            user: Some(user),
            claims: crate::SessionClaims {
                organization_id: Some("org_1".into()),
                role: Some("admin".into()),
                permissions: vec!["posts:write".into()],
                feature_flags: vec!["beta".into()],
                entitlements: vec!["sso".into()],
                ..Default::default()
            },
            covered: true,
            ..AuthSnapshot::default()
        }
    }

    #[test]
    fn decisions() {
        let none = Requirements::default();
        assert_eq!(none.decide(&AuthSnapshot::default()), Access::NotCovered);
        let signed_out = AuthSnapshot {
            covered: true,
            ..AuthSnapshot::default()
        };
        assert_eq!(none.decide(&signed_out), Access::SignedOut);
        assert_eq!(none.decide(&signed_in()), Access::Allowed);
        let need = |f: fn(&mut Requirements)| {
            let mut r = Requirements::default();
            f(&mut r);
            r.decide(&signed_in())
        };
        assert_eq!(
            need(|r| r.permission = Some("posts:write".into())),
            Access::Allowed
        );
        assert_eq!(
            need(|r| r.permission = Some("posts:delete".into())),
            Access::Denied
        );
        assert_eq!(need(|r| r.role = Some("admin".into())), Access::Allowed);
        assert_eq!(need(|r| r.role = Some("owner".into())), Access::Denied);
        assert_eq!(
            need(|r| r.organization = Some("org_1".into())),
            Access::Allowed
        );
        assert_eq!(
            need(|r| r.organization = Some("org_2".into())),
            Access::Denied
        );
        assert_eq!(need(|r| r.flag = Some("beta".into())), Access::Allowed);
        assert_eq!(need(|r| r.flag = Some("gamma".into())), Access::Denied);
        assert_eq!(
            need(|r| r.entitlement = Some("sso".into())),
            Access::Allowed
        );
        assert_eq!(
            need(|r| r.entitlement = Some("audit".into())),
            Access::Denied
        );
        // A requirement never turns a signed-out visitor into "denied" (that would be a
        // 403 where a sign-in is wanted).
        let r = Requirements {
            permission: Some("x".into()),
            ..Requirements::default()
        };
        assert_eq!(r.decide(&signed_out), Access::SignedOut);
    }
}
