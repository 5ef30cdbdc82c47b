//! [`AuthKitProvider`], [`use_auth`] and [`use_access_token`].

use super::navigate;
use super::server::AccessTokenInfo;
use super::snapshot::AuthSnapshot;
use crate::error::AuthError;
use crate::user::{Impersonator, User};
use leptos::prelude::*;

/// Puts the session into context for [`use_auth`], [`Protected`](crate::Protected) and the
/// gates, on the server and in the browser alike. Wrap your whole app in it (inside or
/// outside the `<Router>`).
///
/// During SSR it reads the session the [`AuthKitLayer`](crate::AuthKitLayer) resolved for
/// the request, synchronously, and sends it to the browser inside the page without the
/// access or refresh token (a Leptos `SharedValue`): the browser's first render equals
/// the server's, with no `Suspense`, no loading state and no hydration mismatch.
///
/// In the browser it reads the session again (the [`auth_snapshot`](super::server)
/// server function) when the tab regains focus, becomes visible or comes back online, so
/// a session ended in another tab is noticed without a reload, and after
/// [`AuthContext::refresh`] (the [`OrganizationSwitcher`](crate::OrganizationSwitcher)
/// calls it after a switch). Signing in and out are full-page navigations, which render
/// a new snapshot anyway.
#[component]
pub fn AuthKitProvider(children: Children) -> impl IntoView {
    let initial = leptos::server::SharedValue::new(initial_snapshot).into_inner();
    navigate::remember_config(&initial.config);
    let context = AuthContext {
        snapshot: RwSignal::new(initial),
        refreshing: StoredValue::new(false),
        token: AccessTokenState::new(),
    };
    provide_context(context);
    #[cfg(feature = "hydrate")]
    client::watch(context);
    children()
}

#[cfg(feature = "ssr")]
fn initial_snapshot() -> AuthSnapshot {
    AuthSnapshot::from_request()
}

#[cfg(not(feature = "ssr"))]
fn initial_snapshot() -> AuthSnapshot {
    // Only reached when the page was not rendered by the server (no shared value to
    // hydrate from): treat it as signed out until the first refresh.
    AuthSnapshot::default()
}

/// The session in context, from [`use_auth`]. Every accessor is reactive: a view or
/// effect that calls it updates when the session changes (an organization switch, a
/// sign-out noticed on focus, …).
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // the browser half reads every field
pub struct AuthContext {
    snapshot: RwSignal<AuthSnapshot>,
    refreshing: StoredValue<bool>,
    token: AccessTokenState,
}

impl AuthContext {
    /// A copy of the whole snapshot.
    pub fn snapshot(&self) -> AuthSnapshot {
        self.snapshot.get()
    }

    /// Reads the snapshot without cloning it.
    pub fn with<R>(&self, f: impl FnOnce(&AuthSnapshot) -> R) -> R {
        self.snapshot.with(f)
    }

    /// The signed-in user.
    pub fn user(&self) -> Option<User> {
        self.with(|s| s.user.clone())
    }

    /// Whether someone is signed in.
    pub fn is_signed_in(&self) -> bool {
        self.with(AuthSnapshot::is_signed_in)
    }

    /// Whether `flag` is enabled for the user (the access token's `feature_flags`).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.with(|s| s.has_flag(flag))
    }

    /// Whether the user has `permission` in the current organization.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.with(|s| s.has_permission(permission))
    }

    /// Whether the user has `role` in the current organization.
    pub fn has_role(&self, role: &str) -> bool {
        self.with(|s| s.has_role(role))
    }

    /// Whether the current organization has `entitlement`.
    pub fn has_entitlement(&self, entitlement: &str) -> bool {
        self.with(|s| s.has_entitlement(entitlement))
    }

    /// The organization the session is in.
    pub fn organization_id(&self) -> Option<String> {
        self.with(|s| s.organization_id.clone())
    }

    /// The user's role in the current organization.
    pub fn role(&self) -> Option<String> {
        self.with(|s| s.role.clone())
    }

    /// The permissions the user's roles grant.
    pub fn permissions(&self) -> Vec<String> {
        self.with(|s| s.permissions.clone())
    }

    /// Present when an admin is impersonating the user.
    pub fn impersonator(&self) -> Option<Impersonator> {
        self.with(|s| s.impersonator.clone())
    }

    /// Reads the session from the server again (in the browser; nothing on the server,
    /// where the snapshot is always the request's own).
    pub fn refresh(&self) {
        #[cfg(feature = "hydrate")]
        client::refresh_snapshot(*self);
    }

    pub(crate) fn signal(&self) -> RwSignal<AuthSnapshot> {
        self.snapshot
    }
}

/// The session in context. Call it inside [`AuthKitProvider`].
///
/// # Panics
///
/// Outside an `<AuthKitProvider>` (a setup mistake, like `use_navigate` outside a
/// `<Router>`); the message says so.
#[track_caller]
pub fn use_auth() -> AuthContext {
    use_context::<AuthContext>().expect(
        "use_auth() and the authkit-leptos components need an <AuthKitProvider> around them \
         (wrap your App's view in <AuthKitProvider>…</AuthKitProvider>)",
    )
}

/// The access token for calling APIs from the browser, as authkit-nextjs's
/// `useAccessToken`. One per tab: every caller shares the same state and the same fetch.
///
/// The token is fetched by a server function ([`get_access_token`](super::server)) once the
/// page has hydrated, so it is never part of the HTML; it is fetched again shortly before
/// it expires (half its remaining lifetime, at most 30 s early), when the tab regains focus
/// after that time, and when the session changes (organization switch, sign-out). On the
/// server, and until the first answer, `token()` is `None` and `loading()` is `true`.
#[track_caller]
pub fn use_access_token() -> AccessTokenState {
    let context = use_auth();
    #[cfg(feature = "hydrate")]
    client::start_token(context);
    context.token
}

/// The shared access-token state; see [`use_access_token`]. Loading and errors are kept
/// apart from the token: a failed refresh keeps the last token until it expires.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // the browser half reads every field
pub struct AccessTokenState {
    info: RwSignal<Option<AccessTokenInfo>>,
    loading: RwSignal<bool>,
    error: RwSignal<Option<AuthError>>,
    started: StoredValue<bool>,
    /// Milliseconds (browser clock) when the current token should be fetched again.
    refresh_at_ms: StoredValue<f64>,
    /// Bumped on every fetch, so an older scheduled fetch does nothing.
    generation: StoredValue<u64>,
}

impl AccessTokenState {
    fn new() -> Self {
        Self {
            info: RwSignal::new(None),
            loading: RwSignal::new(true),
            error: RwSignal::new(None),
            started: StoredValue::new(false),
            refresh_at_ms: StoredValue::new(0.0),
            generation: StoredValue::new(0),
        }
    }

    /// The access token (a JWT), or `None` when signed out or not fetched yet.
    pub fn token(&self) -> Option<String> {
        self.info.with(|i| i.as_ref().map(|i| i.token.clone()))
    }

    /// Whether a fetch is under way.
    pub fn loading(&self) -> bool {
        self.loading.get()
    }

    /// The last fetch's error, if it failed.
    pub fn error(&self) -> Option<AuthError> {
        self.error.get()
    }

    /// Fetches the token again now (in the browser).
    pub fn refresh(&self) {
        #[cfg(feature = "hydrate")]
        client::fetch_token(*self);
    }
}

#[cfg(feature = "hydrate")]
mod client {
    //! The browser half: listeners, refetches and the token schedule.

    use super::*;
    use leptos::task::spawn_local;
    use std::time::Duration;

    fn now_ms() -> f64 {
        leptos::web_sys::js_sys::Date::now()
    }

    /// Re-reads the snapshot on focus, visibility and `online`, once hydrated.
    pub(super) fn watch(context: AuthContext) {
        Effect::new(move |_| {
            for event in ["focus", "online", "visibilitychange"] {
                let handle = window_event_listener_untyped(event, move |_| {
                    if event == "visibilitychange" && document().hidden() {
                        return;
                    }
                    refresh_snapshot(context);
                    let token = context.token;
                    if token.started.get_value() && now_ms() >= token.refresh_at_ms.get_value() {
                        fetch_token(token);
                    }
                });
                // The provider lives as long as the page: keep the listeners.
                std::mem::forget(handle);
            }
        });
        // When the session changes (another user, organization or a sign-out), a token
        // fetched for the old one is stale.
        let key = Memo::new(move |_| {
            context
                .snapshot
                .with(|s| (s.session_id.clone(), s.organization_id.clone()))
        });
        Effect::new(move |previous: Option<(Option<String>, Option<String>)>| {
            let current = key.get();
            if previous.is_some_and(|p| p != current) && context.token.started.get_value() {
                fetch_token(context.token);
            }
            current
        });
    }

    pub(super) fn refresh_snapshot(context: AuthContext) {
        if context.refreshing.get_value() {
            return;
        }
        context.refreshing.set_value(true);
        spawn_local(async move {
            let result = super::super::server::auth_snapshot().await;
            context.refreshing.set_value(false);
            // Errors (WorkOS down, offline) keep what the page shows.
            if let Ok(snapshot) = result {
                navigate::remember_config(&snapshot.config);
                if context.snapshot.with_untracked(|s| s != &snapshot) {
                    context.snapshot.set(snapshot);
                }
            }
        });
    }

    pub(super) fn start_token(context: AuthContext) {
        let token = context.token;
        // After hydration only, so the server's render and the first client render agree.
        Effect::new(move |_| {
            if !token.started.get_value() {
                token.started.set_value(true);
                fetch_token(token);
            }
        });
    }

    pub(super) fn fetch_token(token: AccessTokenState) {
        let generation = token.generation.get_value() + 1;
        token.generation.set_value(generation);
        token.loading.set(true);
        spawn_local(async move {
            let result = super::super::server::get_access_token().await;
            if token.generation.get_value() != generation {
                return; // a newer fetch started meanwhile
            }
            match result {
                Ok(info) => {
                    let expires_in_ms = info.as_ref().map_or(0.0, |i| i.expires_in as f64 * 1000.0);
                    token.info.set(info);
                    token.error.set(None);
                    if expires_in_ms > 0.0 {
                        let early = (expires_in_ms / 2.0).min(30_000.0);
                        let delay = (expires_in_ms - early).max(1_000.0);
                        token.refresh_at_ms.set_value(now_ms() + delay);
                        set_timeout(
                            move || {
                                if token.generation.get_value() == generation {
                                    fetch_token(token);
                                }
                            },
                            Duration::from_millis(delay as u64),
                        );
                    }
                }
                Err(e) => token.error.set(Some(e)),
            }
            token.loading.set(false);
        });
    }
}
