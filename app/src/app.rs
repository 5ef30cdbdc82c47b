//! The demo's routes and pages: the living version of the `withAuth` documentation page,
//! one page per example, built from the crate's components.
//!
//! | page | example | built with |
//! | --- | --- | --- |
//! | `/` | conditional rendering, sign-in and sign-up links | `use_auth`, `<SignInLink>`, `<SignUpLink>` |
//! | `/profile` | basic usage | `with_auth` in a server function |
//! | `/dashboard` | organization, role, permissions | `with_auth`, `<RequirePermission>` |
//! | `/protected` | requiring authentication | `<Protected>` + `ensure_signed_in` |
//! | `/data` | the access token | `with_auth` + `Authorization: Bearer`, `use_access_token` |
//! | `/features` | feature flags | `<FeatureFlag>` |
//! | `/team` | a permission-gated route | `<GuardedRoute permission=…>` |
//!
//! Server functions have fixed endpoints (`/api/demo/<name>`), so the browser bundle and the
//! server agree whatever directory each was built in.
//!
//! Around them: a nav with the user, the organization switcher and sign-out, and the
//! impersonation banner. `/protected/in-order`, `/protected/async` and
//! `/protected/partially-blocked` are the protected page under the other `SsrMode`s (the
//! end-to-end tests check each answers a signed-out visitor with a `302`). `/about` and
//! `/protected/about` are one page, open and behind `<GuardedRoute>`: the throughput
//! benchmark (BENCHMARKS.md) compares them.

use authkit_leptos::{
    use_access_token, use_auth, AuthError, AuthKitProvider, FeatureFlag, GuardedRoute,
    Impersonation, OrganizationSwitcher, Protected, RequirePermission, SessionList, SignInLink,
    SignOutButton, SignOutEverywhereButton, SignUpLink, User,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};
use serde::{Deserialize, Serialize};

/// The demo's stylesheet (cargo-leptos writes `style/main.css` there); the callback's own
/// pages link it too (`CallbackOptions::stylesheet`).
pub const STYLESHEET: &str = "/pkg/authkit-demo.css";

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The demo application.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href=STYLESHEET />
        <Title text="Notebook · authkit-leptos demo" />
        <AuthKitProvider>
            <Router>
                <Impersonation />
                <Nav />
                <main>
                    <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                        <Route path=path!("/") view=HomePage />
                        <Route path=path!("/profile") view=ProfilePage />
                        <Route path=path!("/dashboard") view=DashboardPage />
                        <Route path=path!("/protected") view=ProtectedPage />
                        <GuardedRoute path=path!("/protected/in-order") view=ProtectedContent ssr=SsrMode::InOrder />
                        <GuardedRoute path=path!("/protected/async") view=ProtectedContent ssr=SsrMode::Async />
                        <GuardedRoute
                            path=path!("/protected/partially-blocked")
                            view=ProtectedContent
                            ssr=SsrMode::PartiallyBlocked
                        />
                        <Route path=path!("/data") view=DataPage />
                        <Route path=path!("/features") view=FeaturePage />
                        <Route path=path!("/about") view=AboutPage />
                        <GuardedRoute path=path!("/protected/about") view=AboutPage />
                        <GuardedRoute
                            path=path!("/team")
                            view=TeamPage
                            permission="members:manage"
                            fallback=|| view! { <NoAccess what="the team page" permission="members:manage" /> }
                        />
                        <GuardedRoute path=path!("/account") view=AccountPage />
                    </Routes>
                </main>
            </Router>
        </AuthKitProvider>
    }
}

/// A page with no data of its own, served open at `/about` and behind `<GuardedRoute>`
/// at `/protected/about` (the benchmark's pair: same markup, with and without auth).
#[component]
fn AboutPage() -> impl IntoView {
    view! {
        <h1>"About this notebook"</h1>
        <p>
            "A Leptos app on axum, signed in with WorkOS AuthKit through authkit-leptos. "
            "Each page shows one example of the withAuth documentation."
        </p>
        <ul>
            <li>"Sessions are iron-sealed cookies a Next.js app can read."</li>
            <li>"Refreshes are shared by every request that needs one."</li>
            <li>"Everything runs on a built-in WorkOS emulator."</li>
        </ul>
    }
}

/// The top bar: pages, then the account (user, organization, sign out) or sign-in links.
#[component]
fn Nav() -> impl IntoView {
    let auth = use_auth();
    // Set once the wasm bundle has hydrated the page (effects run only in the browser);
    // the end-to-end tests wait for it before clicking.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <header class="nav" data-hydrated=move || hydrated.get().to_string()>
            <A href="/" attr:class="brand">"Notebook"</A>
            <nav>
                <A href="/profile">"Profile"</A>
                <A href="/dashboard">"Dashboard"</A>
                <A href="/protected">"Protected"</A>
                <A href="/data">"Data"</A>
                <A href="/features">"Features"</A>
                <A href="/team">"Team"</A>
                <A href="/account">"Account"</A>
            </nav>
            <div class="account">
                <Show
                    when=move || auth.is_signed_in()
                    fallback=|| view! { <SignInLink /> <SignUpLink /> }
                >
                    <span class="who" id="signed-in-as">
                        {move || auth.user().map(|u| u.email)}
                    </span>
                    <OrganizationSwitcher />
                    <SignOutButton />
                </Show>
            </div>
        </header>
    }
}

/// Shown to a signed-in user who lacks a permission (the status is 403 during SSR).
#[component]
fn NoAccess(what: &'static str, permission: &'static str) -> impl IntoView {
    view! {
        <div class="card denied" id="no-access">
            <h1>"No access"</h1>
            <p>"You need the " <code>{permission}</code> " permission to see " {what} "."</p>
        </div>
    }
}

// ---------------------------------------------------------------- home: conditional rendering

/// "Conditional rendering": different views for signed-in and signed-out visitors, with
/// sign-in and sign-up links (plain links that work without JavaScript).
#[component]
fn HomePage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Show
            when=move || auth.is_signed_in()
            fallback=|| view! {
                <div class="hero">
                    <h1>"Welcome"</h1>
                    <p>"Please sign in to continue"</p>
                    <SignInLink attr:id="sign-in" attr:class="button">"Sign in"</SignInLink>
                    " "
                    <SignUpLink attr:id="sign-up" attr:class="button secondary">"Sign up"</SignUpLink>
                </div>
            }
        >
            <div class="hero">
                <h1>"Welcome back, " {move || auth.user().and_then(|u| u.first_name)} "!"</h1>
                <p>"You're signed in as " {move || auth.user().map(|u| u.email)}</p>
            </div>
        </Show>
    }
}

// ---------------------------------------------------------------- profile: basic usage

/// `const { user } = await withAuth()`.
#[server(prefix = "/api", endpoint = "demo/profile")]
pub async fn profile() -> Result<Option<User>, AuthError> {
    Ok(authkit_leptos::with_auth().await?.user)
}

/// "Basic usage": the user from `with_auth` in a server function.
#[component]
fn ProfilePage() -> impl IntoView {
    let user = Resource::new_blocking(|| (), |_| profile());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! {
                        <div>
                            <h1>"Welcome, " {user.first_name.clone().unwrap_or_default()}</h1>
                            <p>"Email: " {user.email.clone()}</p>
                        </div>
                    }.into_any(),
                    Ok(None) => view! { <div>"Not signed in"</div> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

// ---------------------------------------------------------------- dashboard: session data

/// The dashboard's data.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DashboardView {
    /// `organizationId`.
    pub organization_id: Option<String>,
    /// `role`.
    pub role: Option<String>,
    /// `permissions`.
    pub permissions: Vec<String>,
}

/// `const { user, organizationId, role, permissions } = await withAuth()`.
#[server(prefix = "/api", endpoint = "demo/dashboard")]
pub async fn dashboard() -> Result<Option<DashboardView>, AuthError> {
    let auth = authkit_leptos::with_auth().await?;
    // The claims are read through `auth` (`auth.role`), and moved out of `auth.claims`.
    let claims = auth.claims;
    Ok(auth.user.map(|_| DashboardView {
        organization_id: claims.organization_id,
        role: claims.role,
        permissions: claims.permissions,
    }))
}

/// "Available session data": organization, role and permissions, and a section only
/// members managers see.
#[component]
fn DashboardPage() -> impl IntoView {
    // Keyed on the organization, so a switch reloads it without a page reload.
    let auth = use_auth();
    let data = Resource::new_blocking(move || auth.organization_id(), |_| dashboard());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(d)) => view! {
                        <div>
                            <h1>"Dashboard"</h1>
                            <p id="organization">"Organization: " {d.organization_id.unwrap_or_default()}</p>
                            <p id="role">"Role: " {d.role.unwrap_or_default()}</p>
                            <p id="permissions">"Permissions: " {d.permissions.join(", ")}</p>
                        </div>
                    }.into_any(),
                    Ok(None) => view! { <div>"Please sign in"</div> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        <RequirePermission
            permission="members:manage"
            fallback=|| view! {
                <section class="card" id="members-fallback">
                    <h2>"Members"</h2>
                    <p>"Ask an admin to invite or remove members."</p>
                </section>
            }
        >
            <section class="card" id="members">
                <h2>"Members"</h2>
                <p>"You can invite and remove members: " <A href="/team">"manage the team"</A>"."</p>
                <InviteForm />
            </section>
        </RequirePermission>
    }
}

/// The demo's own error type: an app's server functions rarely return `AuthError` alone.
/// `decode_server_fn_error` keeps the crate's behaviour for it — a sign-in error still
/// sends the browser to sign in, whether it came from the function or from the layer.
#[derive(Clone, Debug, Serialize, Deserialize, thiserror::Error)]
pub enum DemoError {
    /// Not signed in (any more), or the session could not be read.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Signed in without the permission.
    #[error("you need the {0} permission")]
    Forbidden(String),
    /// The server function call itself failed.
    #[error("{0}")]
    Call(String),
}

impl authkit_leptos::AsAuthError for DemoError {
    fn as_auth_error(&self) -> Option<&AuthError> {
        match self {
            DemoError::Auth(e) => Some(e),
            _ => None,
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for DemoError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(e: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        DemoError::Call(e.to_string())
    }

    fn de(data: leptos::server_fn::Bytes) -> Self {
        authkit_leptos::decode_server_fn_error(&data)
    }
}

/// Invites someone to the organization: the server function checks the session and the
/// permission itself (a guard on the page never protects a server function).
#[allow(missing_docs)] // the generated argument struct's field is `email`, as documented here
#[server(prefix = "/api", endpoint = "demo/invite_member")]
pub async fn invite_member(email: String) -> Result<String, DemoError> {
    let me = authkit_leptos::ensure_signed_in().await?;
    if !me.has_permission("members:manage") {
        return Err(DemoError::Forbidden("members:manage".into()));
    }
    Ok(format!(
        "Invitation sent to {email} (a demo: nothing was sent)"
    ))
}

#[component]
fn InviteForm() -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    view! {
        <ActionForm action=invite attr:class="invite">
            <input type="email" name="email" placeholder="grace@example.com" required=true />
            <button type="submit" id="invite">"Invite"</button>
        </ActionForm>
        <p id="invite-result">
            {move || invite.value().get().map(|r| match r {
                Ok(message) => message,
                Err(e) => e.to_string(),
            })}
        </p>
    }
}

// ---------------------------------------------------------------- protected: ensureSignedIn

/// `const { user } = await withAuth({ ensureSignedIn: true })`: `user` is not optional.
#[server(prefix = "/api", endpoint = "demo/protected")]
pub async fn protected() -> Result<User, AuthError> {
    Ok(authkit_leptos::ensure_signed_in().await?.user)
}

/// "Requiring authentication": the route is wrapped in `<Protected>` (a signed-out visitor
/// never sees it) and its data comes from `ensure_signed_in` (a signed-out caller of the
/// server function is sent to sign in too).
#[component]
fn ProtectedPage() -> impl IntoView {
    view! {
        <Protected>
            <ProtectedContent />
        </Protected>
    }
}

#[component]
fn ProtectedContent() -> impl IntoView {
    let user = Resource::new_blocking(|| (), |_| protected());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                user.await.map(|user| view! {
                    <div>
                        <h1>"Protected content"</h1>
                        <p>"Hello, " {user.first_name.clone().unwrap_or_default()} "!"</p>
                    </div>
                })
            })}
        </Suspense>
    }
}

// ---------------------------------------------------------------- data: the access token

/// `const { accessToken } = await withAuth()`, then an authenticated API call (to the
/// demo's own `/demo-api/data`, which verifies the bearer token with the crate).
#[server(prefix = "/api", endpoint = "demo/data")]
pub async fn data() -> Result<Option<String>, AuthError> {
    let auth = authkit_leptos::with_auth().await?;
    let Some(token) = auth.access_token else {
        return Ok(None);
    };
    let base = use_context::<crate::DemoContext>()
        .map(|c| c.public_url)
        .ok_or_else(|| AuthError::Internal("demo context missing".into()))?;
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| AuthError::Internal(format!("HTTP client: {e}")))?
        .get(format!("{base}/demo-api/data"))
        .bearer_auth(token.as_str())
        .send()
        .await
        .map_err(|e| AuthError::Internal(format!("API call failed: {e}")))?;
    let text = response
        .text()
        .await
        .map_err(|e| AuthError::Internal(format!("API call failed: {e}")))?;
    Ok(Some(text))
}

/// "Accessing the access token": the server calls the API with it; the browser can too,
/// with `use_access_token` (the token is fetched after hydration, never in the HTML).
#[component]
fn DataPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| data());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(json)) => view! {
                        <div>
                            <h1>"Data"</h1>
                            <h2>"From the server"</h2>
                            <pre id="api-response">{json}</pre>
                            <BrowserCall />
                        </div>
                    }.into_any(),
                    Ok(None) => view! { <div>"Not authenticated"</div> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The API called from the browser with the token from `use_access_token`.
#[component]
fn BrowserCall() -> impl IntoView {
    let token = use_access_token();
    let answer = RwSignal::new(None::<String>);
    let call = move |with_token: bool| {
        let bearer = if with_token { token.token() } else { None };
        leptos::task::spawn_local(async move {
            answer.set(Some(
                crate::browser::get("/demo-api/data", bearer.as_deref()).await,
            ));
        });
    };
    view! {
        <h2>"From the browser"</h2>
        <p id="token-state">
            {move || match (token.token(), token.loading(), token.error()) {
                (Some(_), _, _) => "Access token ready".to_owned(),
                (None, true, _) => "Fetching an access token…".to_owned(),
                (None, false, Some(e)) => format!("No access token: {e}"),
                (None, false, None) => "Not signed in".to_owned(),
            }}
        </p>
        <button id="call-with-token" on:click=move |_| call(true) disabled=move || token.token().is_none()>
            "Call the API with the token"
        </button>
        " "
        <button id="call-without-token" class="secondary" on:click=move |_| call(false)>
            "Call it without"
        </button>
        <pre id="browser-response">{move || answer.get()}</pre>
    }
}

// ---------------------------------------------------------------- features: feature flags

/// "Working with feature flags": `<FeatureFlag>` reads the session's flags; switching
/// organization flips it without a reload.
#[component]
fn FeaturePage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Show when=move || auth.is_signed_in() fallback=|| view! { <div>"Please sign in"</div> }>
            <h1>"Features"</h1>
            <FeatureFlag
                flag="new-feature"
                fallback=|| view! { <p id="no-new-feature">"Nothing new for this organization yet."</p> }
            >
                <div class="new-feature card">
                    <h2>"New Feature Available!"</h2>
                    <p>"You have access to our latest feature."</p>
                </div>
            </FeatureFlag>
        </Show>
    }
}

// ---------------------------------------------------------------- team: a guarded route

/// Only for users with `members:manage` (the route is a `<GuardedRoute permission=…>`).
#[component]
fn TeamPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <div>
            <h1>"Team"</h1>
            <p id="team-role">"You manage the members of this organization as " {move || auth.role()} "."</p>
        </div>
    }
}

// ---------------------------------------------------------------- account: your sessions

/// "Your sessions": every active WorkOS session of the user (as WorkOS reports them), and
/// signing out of all of them at once — the other browsers are signed out at their next
/// request, not when their tokens expire.
#[component]
fn AccountPage() -> impl IntoView {
    view! {
        <h1>"Your sessions"</h1>
        <p>"Where you are signed in, as WorkOS reports it."</p>
        <SessionList />
        <SignOutEverywhereButton attr:id="sign-out-everywhere" />
    }
}
