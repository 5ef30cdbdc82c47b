//! Gates: render something only for users with a feature flag, permission, role or
//! entitlement. They read the snapshot from [`AuthKitProvider`](crate::AuthKitProvider), so
//! they render the same on the server and in the browser and update when the session
//! changes (an organization switch flips a flag without a reload). They hide UI; they are
//! not access control — check on the server too (`ensure_signed_in`, `Auth::has_permission`).

use super::provider::use_auth;
use leptos::prelude::*;

fn gate(
    allowed: impl Fn() -> bool + Send + Sync + 'static,
    children: ChildrenFn,
    fallback: ViewFn,
) -> impl IntoView {
    move || {
        if allowed() {
            children().into_any()
        } else {
            fallback.run()
        }
    }
}

/// Renders `children` when the access token's `feature_flags` include `flag`, else
/// `fallback` (default: nothing) — as `featureFlags.includes('new-feature')` in the
/// authkit-nextjs docs.
///
/// ```no_run
/// # #[cfg(any(feature = "ssr", feature = "hydrate"))]
/// # mod demo {
/// use authkit_leptos::FeatureFlag;
/// use leptos::prelude::*;
///
/// #[component]
/// fn Features() -> impl IntoView {
///     view! {
///         <FeatureFlag flag="new-feature" fallback=|| view! { <p>"Coming soon"</p> }>
///             <h2>"New Feature Available!"</h2>
///         </FeatureFlag>
///     }
/// }
/// # }
/// ```
#[component]
pub fn FeatureFlag(
    /// The flag's slug.
    #[prop(into)]
    flag: String,
    /// Shown when the flag is on.
    children: ChildrenFn,
    /// Shown when it is off (or nobody is signed in).
    #[prop(optional, into)]
    fallback: ViewFn,
) -> impl IntoView {
    let auth = use_auth();
    gate(move || auth.has_feature_flag(&flag), children, fallback)
}

/// Renders `children` when the user has `permission` in the current organization, else
/// `fallback` (default: nothing).
#[component]
pub fn RequirePermission(
    /// The permission's slug, e.g. `posts:write`.
    #[prop(into)]
    permission: String,
    /// Shown to users with the permission.
    children: ChildrenFn,
    /// Shown to everyone else.
    #[prop(optional, into)]
    fallback: ViewFn,
) -> impl IntoView {
    let auth = use_auth();
    gate(move || auth.has_permission(&permission), children, fallback)
}

/// Renders `children` when the user has `role` in the current organization, else
/// `fallback` (default: nothing).
#[component]
pub fn RequireRole(
    /// The role's slug, e.g. `admin`.
    #[prop(into)]
    role: String,
    /// Shown to users with the role.
    children: ChildrenFn,
    /// Shown to everyone else.
    #[prop(optional, into)]
    fallback: ViewFn,
) -> impl IntoView {
    let auth = use_auth();
    gate(move || auth.has_role(&role), children, fallback)
}

/// Renders `children` when the current organization has `entitlement`, else `fallback`
/// (default: nothing).
#[component]
pub fn Entitlement(
    /// The entitlement's slug, e.g. `audit-logs`.
    #[prop(into)]
    entitlement: String,
    /// Shown when the organization has it.
    children: ChildrenFn,
    /// Shown otherwise.
    #[prop(optional, into)]
    fallback: ViewFn,
) -> impl IntoView {
    let auth = use_auth();
    gate(
        move || auth.has_entitlement(&entitlement),
        children,
        fallback,
    )
}
