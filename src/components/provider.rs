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
/// server function):
/// - as soon as any same-origin response (a server function of yours, a `fetch`) was
///   answered in the other state than the page shows — the session ended (revoked, a
///   refresh WorkOS refused, signed out elsewhere) or began. The layer marks every
///   session-dependent response with a `Server-Timing: authkit-session;desc=signed-in`
///   (or `signed-out`) entry, which the provider reads with a `PerformanceObserver`; no
///   wrapper around `fetch`. Browsers expose `Server-Timing` to pages in secure contexts
///   only (`https://`, and `http://localhost` / `127.0.0.1` in development);
/// - when the tab regains focus, becomes visible or comes back online, so a session ended
///   in another tab is noticed without a reload;
/// - after [`AuthContext::refresh`] (the [`OrganizationSwitcher`](crate::OrganizationSwitcher)
///   calls it after a switch).
///
/// Signing in and out are full-page navigations, which render a new snapshot anyway.
#[component]
pub fn AuthKitProvider(children: Children) -> impl IntoView {
    let initial = leptos::server::SharedValue::new(initial_snapshot).into_inner();
    navigate::remember_config(&initial.config);
    let context = AuthContext {
        snapshot: RwSignal::new(initial),
        refreshing: StoredValue::new(false),
        refresh_again: StoredValue::new(false),
        token: AccessTokenState::new(),
    };
    provide_context(context);
    #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
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
#[cfg_attr(
    not(all(feature = "hydrate", target_arch = "wasm32")),
    allow(dead_code)
)] // the browser half reads every field
pub struct AuthContext {
    snapshot: RwSignal<AuthSnapshot>,
    refreshing: StoredValue<bool>,
    refresh_again: StoredValue<bool>,
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

    /// Whether feature flag `flag` is enabled for the user (the access token's
    /// `feature_flags`): [`SessionClaims::has_feature_flag`](crate::SessionClaims::has_feature_flag),
    /// reactively.
    pub fn has_feature_flag(&self, flag: &str) -> bool {
        self.with(|s| s.has_feature_flag(flag))
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

    /// The session id (`sid`).
    pub fn session_id(&self) -> Option<String> {
        self.with(|s| s.session_id.clone())
    }

    /// All of the user's roles.
    pub fn roles(&self) -> Vec<String> {
        self.with(|s| s.roles.clone())
    }

    /// The current organization's entitlements.
    pub fn entitlements(&self) -> Vec<String> {
        self.with(|s| s.entitlements.clone())
    }

    /// The feature flags enabled for the user.
    pub fn feature_flags(&self) -> Vec<String> {
        self.with(|s| s.feature_flags.clone())
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

    /// Switches the session to another organization the user belongs to, then reads the
    /// session again, so flags, roles and gates update without a reload — as
    /// authkit-nextjs's `useAuth().switchToOrganization`; the server side is
    /// [`switch_to_organization`](crate::switch_to_organization) (the same name, one
    /// concept). When WorkOS wants the user to authenticate again for that organization
    /// (SSO, MFA enrollment) the error is [`AuthError::ReauthenticationRequired`] and the
    /// browser is sent there.
    ///
    /// # Errors
    /// The [`AuthError`] the switch answered: [`AuthError::SignInRequired`] when signed
    /// out, [`AuthError::Refresh`] when WorkOS refused it (not a member) or could not
    /// answer (`transient`).
    pub async fn switch_to_organization(
        &self,
        organization_id: impl Into<String>,
    ) -> Result<(), AuthError> {
        super::server::switch_organization(organization_id.into()).await?;
        self.refresh();
        Ok(())
    }

    /// Reads the session from the server again (in the browser; nothing on the server,
    /// where the snapshot is always the request's own).
    pub fn refresh(&self) {
        #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
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
/// The token is fetched by a server function ([`get_access_token`](crate::get_access_token)) once the
/// page has hydrated, so it is never part of the HTML; it is fetched again shortly before
/// it expires (half its remaining lifetime, at most 30 s early), when the tab regains focus
/// after that time, and when the session changes (organization switch, sign-out). On the
/// server, and until the first answer, `token()` is `None` and `loading()` is `true`.
#[track_caller]
pub fn use_access_token() -> AccessTokenState {
    let context = use_auth();
    #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
    client::start_token(context);
    context.token
}

/// The shared access-token state; see [`use_access_token`]. Loading and errors are kept
/// apart from the token: a failed refresh keeps the last token until it expires.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(
    not(all(feature = "hydrate", target_arch = "wasm32")),
    allow(dead_code)
)] // the browser half reads every field
pub struct AccessTokenState {
    info: RwSignal<Option<AccessTokenInfo>>,
    loading: RwSignal<bool>,
    error: RwSignal<Option<AuthError>>,
    started: StoredValue<bool>,
    /// Milliseconds (browser clock) when the current token should be fetched again.
    refresh_at_ms: StoredValue<f64>,
    /// Bumped on every fetch, so an older scheduled fetch does nothing.
    generation: StoredValue<u64>,
    /// Milliseconds (browser clock) when the current token expires.
    expires_at_ms: StoredValue<f64>,
    /// Failed fetches in a row (for the back-off).
    failures: StoredValue<u32>,
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
            expires_at_ms: StoredValue::new(0.0),
            failures: StoredValue::new(0),
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
        #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
        client::fetch_token(*self);
    }
}

#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
mod client {
    //! The browser half: listeners, refetches and the token schedule. Everything here may
    //! run after the provider was unmounted (a timer, a late answer), so it reads its
    //! state with the `try_` accessors and stops quietly when it is gone.

    use super::*;
    use crate::components::snapshot::{SESSION_TIMING, SIGNED_IN, SIGNED_OUT};
    use leptos::task::spawn_local;
    use std::time::Duration;

    /// The shortest and longest wait before fetching a token again after a failure.
    const RETRY_MIN_MS: f64 = 2_000.0;
    const RETRY_MAX_MS: f64 = 60_000.0;

    fn now_ms() -> f64 {
        leptos::web_sys::js_sys::Date::now()
    }

    /// Re-reads the snapshot on focus, visibility and `online`, and when a response says
    /// the session is not what the page shows, once hydrated; the listeners go away with
    /// the provider.
    pub(super) fn watch(context: AuthContext) {
        Effect::new(move |_| watch_responses(context));
        Effect::new(move |_| {
            for event in ["focus", "online", "visibilitychange"] {
                let handle = window_event_listener_untyped(event, move |_| {
                    if event == "visibilitychange" && document().hidden() {
                        return;
                    }
                    refresh_snapshot(context);
                    let token = context.token;
                    let due = token
                        .refresh_at_ms
                        .try_get_value()
                        .is_some_and(|at| now_ms() >= at);
                    let idle = token.loading.try_get_untracked() == Some(false);
                    if token.started.try_get_value() == Some(true) && due && idle {
                        fetch_token(token);
                    }
                });
                on_cleanup(move || handle.remove());
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
            if previous.is_some_and(|p| p != current)
                && context.token.started.try_get_value() == Some(true)
            {
                fetch_token(context.token);
            }
            current
        });
    }

    /// Reads the `Server-Timing` entries the layer puts on session-dependent responses
    /// (see [`SESSION_TIMING`]) from every same-origin response the page receives, and
    /// reads the snapshot again when the newest one disagrees with what the page shows.
    /// Where the browser offers no `PerformanceObserver` (or no `serverTiming`, outside a
    /// secure context), nothing happens and the focus listeners remain.
    fn watch_responses(context: AuthContext) {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;
        use web_sys::{
            PerformanceObserver, PerformanceObserverEntryList, PerformanceObserverInit,
            PerformanceResourceTiming, PerformanceServerTiming,
        };

        let callback = Closure::<dyn Fn(PerformanceObserverEntryList)>::new(
            move |list: PerformanceObserverEntryList| {
                // Entries arrive in the order the responses ended: the last one says how
                // the session is now.
                let mut newest = None;
                for entry in list.get_entries().iter() {
                    let Ok(entry) = entry.dyn_into::<PerformanceResourceTiming>() else {
                        continue;
                    };
                    for timing in entry.server_timing().iter() {
                        let Ok(timing) = timing.dyn_into::<PerformanceServerTiming>() else {
                            continue;
                        };
                        if timing.name() == SESSION_TIMING {
                            newest = Some(timing.description());
                        }
                    }
                }
                let Some(answered) = newest else { return };
                let Some(shown) = context.snapshot.try_with_untracked(|s| s.is_signed_in()) else {
                    return; // the provider is gone
                };
                let disagrees = match answered.as_str() {
                    SIGNED_IN => !shown,
                    SIGNED_OUT => shown,
                    _ => false,
                };
                if disagrees {
                    refresh_snapshot(context);
                }
            },
        );
        let Ok(observer) = PerformanceObserver::new(callback.as_ref().unchecked_ref()) else {
            return;
        };
        let init =
            PerformanceObserverInit::new(&leptos::web_sys::js_sys::Array::of1(&"resource".into()));
        observer.observe(&init);
        // Kept (and the callback with it) until the provider goes.
        let kept = StoredValue::new_local((observer, callback));
        on_cleanup(move || {
            kept.try_with_value(|(observer, _)| observer.disconnect());
            kept.dispose();
        });
    }

    /// Reads the snapshot again; a refresh asked for while one runs runs once more after
    /// it (so an organization switch is never answered by an older read).
    pub(super) fn refresh_snapshot(context: AuthContext) {
        match context.refreshing.try_get_value() {
            None => return,
            Some(true) => {
                context.refresh_again.try_set_value(true);
                return;
            }
            Some(false) => {}
        }
        context.refreshing.try_set_value(true);
        spawn_local(async move {
            let result = super::super::server::auth_snapshot().await;
            if context.refreshing.try_set_value(false).is_some() {
                return; // the provider is gone
            }
            // Errors (WorkOS down, offline) keep what the page shows.
            if let Ok(snapshot) = result {
                navigate::remember_config(&snapshot.config);
                if context.snapshot.try_with_untracked(|s| s != &snapshot) == Some(true) {
                    context.snapshot.set(snapshot);
                }
            }
            if context.refresh_again.try_get_value() == Some(true) {
                context.refresh_again.try_set_value(false);
                refresh_snapshot(context);
            }
        });
    }

    pub(super) fn start_token(context: AuthContext) {
        let token = context.token;
        // After hydration only, so the server's render and the first client render agree.
        Effect::new(move |_| {
            if token.started.try_get_value() == Some(false) {
                token.started.try_set_value(true);
                fetch_token(token);
            }
        });
    }

    /// Fetches the token, then schedules the next fetch: half its remaining lifetime (at
    /// most 30 s) before it expires, or after a failure with a growing back-off. A token
    /// that expires without being replaced is dropped, so `token()` never hands out an
    /// expired JWT.
    pub(super) fn fetch_token(token: AccessTokenState) {
        let Some(previous) = token.generation.try_get_value() else {
            return;
        };
        let generation = previous + 1;
        token.generation.try_set_value(generation);
        token.loading.set(true);
        spawn_local(async move {
            let result = super::super::server::get_access_token().await;
            if token.generation.try_get_value() != Some(generation) {
                return; // a newer fetch started meanwhile, or the provider is gone
            }
            let next_ms = match result {
                Ok(info) => {
                    let expires_in_ms = info.as_ref().map(|i| i.expires_in as f64 * 1000.0);
                    token.info.set(info);
                    token.error.set(None);
                    token.failures.try_set_value(0);
                    match expires_in_ms {
                        Some(left) => {
                            let at = now_ms() + left;
                            token.expires_at_ms.try_set_value(at);
                            schedule_expiry(token, generation, left);
                            let early = (left / 2.0).min(30_000.0);
                            Some((left - early).max(1_000.0))
                        }
                        None => None, // signed out: nothing to refresh
                    }
                }
                Err(e) => {
                    token.error.set(Some(e));
                    let failures = token.failures.try_get_value().unwrap_or(0) + 1;
                    token.failures.try_set_value(failures);
                    let backoff = RETRY_MIN_MS * 2f64.powi(failures.min(8) as i32 - 1);
                    Some(backoff.min(RETRY_MAX_MS))
                }
            };
            token.loading.set(false);
            if let Some(delay) = next_ms {
                token.refresh_at_ms.try_set_value(now_ms() + delay);
                set_timeout(
                    move || {
                        if token.generation.try_get_value() == Some(generation) {
                            fetch_token(token);
                        }
                    },
                    Duration::from_millis(delay as u64),
                );
            }
        });
    }

    /// Drops the token when it expires, unless a newer fetch replaced it.
    fn schedule_expiry(token: AccessTokenState, generation: u64, left_ms: f64) {
        set_timeout(
            move || {
                let replaced = token.generation.try_get_value() != Some(generation);
                let expired = token
                    .expires_at_ms
                    .try_get_value()
                    .is_some_and(|at| now_ms() >= at);
                if !replaced && expired {
                    token.info.set(None);
                }
            },
            Duration::from_millis(left_ms.max(0.0) as u64 + 1),
        );
    }
}
