//! The demo's routes and pages: one page per example of the `withAuth` documentation
//! (`/`, `/profile`, `/dashboard`, `/protected`, `/data`, `/features`).
//!
//! Each page loads its data with a server function that calls the crate, through a
//! *blocking* resource: during SSR the data (or a sign-in redirect) is ready before the
//! first byte is sent, so a signed-out visitor to `/protected` gets a real `302`.

use authkit_leptos::{AuthError, User};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, StaticSegment,
};
use serde::{Deserialize, Serialize};

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
    let hydrated = RwSignal::new(false);
    // Effects run only in the browser, once the wasm bundle has hydrated the page.
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Stylesheet id="leptos" href="/pkg/authkit-demo.css" />
        <Title text="authkit-leptos demo" />
        <Router>
            <header class="nav" data-hydrated=move || hydrated.get().to_string()>
                <A href="/">"Home"</A>
                <A href="/profile">"Profile"</A>
                <A href="/dashboard">"Dashboard"</A>
                <A href="/protected">"Protected"</A>
                <A href="/data">"Data"</A>
                <A href="/features">"Features"</A>
                <SignOutButton />
            </header>
            <main>
                <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                    <Route path=StaticSegment("") view=HomePage />
                    <Route path=path!("/profile") view=ProfilePage />
                    <Route path=path!("/dashboard") view=DashboardPage />
                    <Route path=path!("/protected") view=ProtectedPage />
                    <Route path=path!("/data") view=DataPage />
                    <Route path=path!("/features") view=FeaturePage />
                </Routes>
                <Counter />
            </main>
        </Router>
    }
}

/// A counter that only counts once the page is hydrated (the end-to-end tests' first check).
#[component]
fn Counter() -> impl IntoView {
    let count = RwSignal::new(0);
    view! {
        <section class="card counter">
            <button id="counter" on:click=move |_| count.update(|n| *n += 1)>
                "Clicked " <span id="count">{count}</span> " times"
            </button>
        </section>
    }
}

/// Sends the browser to sign in when a server function says so (a client-side
/// navigation reached a page whose data needs a session). During SSR the server has
/// already answered with a redirect. The server derived the return path from the
/// request's `Referer`, which is the page *before* a client-side navigation, so it is
/// replaced with the page the user is on now.
fn follow_sign_in(error: &AuthError) {
    #[cfg(feature = "hydrate")]
    if let Some(url) = error.sign_in_url() {
        let location = window().location();
        let here = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        );
        let _ = location.set_href(&with_return_to(url, &here));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = error;
}

/// `url` with its `return_to` query parameter set to `path`.
#[cfg(any(feature = "hydrate", test))]
fn with_return_to(url: &str, path: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("return_to="))
        .map(str::to_owned)
        .collect();
    let encoded: String = path
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    pairs.insert(0, format!("return_to={encoded}"));
    format!("{base}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn return_to_is_replaced() {
        assert_eq!(
            super::with_return_to("/auth/sign-in?return_to=%2F&login_hint=a", "/protected?x=1"),
            "/auth/sign-in?return_to=%2Fprotected%3Fx%3D1&login_hint=a"
        );
        assert_eq!(
            super::with_return_to("/auth/sign-in", "/p"),
            "/auth/sign-in?return_to=%2Fp"
        );
    }
}

/// The sign-out button: a plain form posting to the crate's `sign_out` server function,
/// so it works with or without JavaScript.
#[component]
fn SignOutButton() -> impl IntoView {
    let sign_out = ServerAction::<authkit_leptos::server_fns::SignOut>::new();
    view! {
        <ActionForm action=sign_out attr:class="sign-out">
            <input type="hidden" name="return_to" value="/" />
            <button type="submit">"Sign out"</button>
        </ActionForm>
    }
}

// ---------------------------------------------------------------- home: conditional rendering

/// What the home page shows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum HomeView {
    /// Signed in.
    Welcome {
        /// The user.
        user: Box<User>,
    },
    /// Signed out, with links to sign in and up.
    SignedOut {
        /// The sign-in link.
        sign_in_url: String,
        /// The sign-up link.
        sign_up_url: String,
    },
}

/// `withAuth` + `getSignInUrl` + `getSignUpUrl`.
#[server]
pub async fn home() -> Result<HomeView, AuthError> {
    use authkit_leptos::{get_sign_in_url, get_sign_up_url, with_auth, SignInOptions};
    let auth = with_auth().await?;
    Ok(match auth.user {
        Some(user) => HomeView::Welcome {
            user: Box::new(user),
        },
        None => HomeView::SignedOut {
            sign_in_url: get_sign_in_url(SignInOptions::default()).await?,
            sign_up_url: get_sign_up_url(SignInOptions::default()).await?,
        },
    })
}

#[component]
fn HomePage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| home());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(HomeView::Welcome { user }) => view! {
                        <div>
                            <h1>"Welcome back, " {user.first_name.clone().unwrap_or_default()} "!"</h1>
                            <p>"You're signed in as " {user.email.clone()}</p>
                        </div>
                    }.into_any(),
                    Ok(HomeView::SignedOut { sign_in_url, sign_up_url }) => view! {
                        <div>
                            <h1>"Welcome"</h1>
                            <p>"Please sign in to continue"</p>
                            // rel="external": these are server routes, not client-side pages.
                            <a class="button" id="sign-in" href=sign_in_url rel="external">"Sign in"</a>
                            " "
                            <a class="button secondary" id="sign-up" href=sign_up_url rel="external">"Sign up"</a>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

// ---------------------------------------------------------------- profile: basic usage

/// `const { user } = await withAuth()`.
#[server]
pub async fn profile() -> Result<Option<User>, AuthError> {
    Ok(authkit_leptos::with_auth().await?.user)
}

#[component]
fn ProfilePage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| profile());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
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
#[server]
pub async fn dashboard() -> Result<Option<DashboardView>, AuthError> {
    let auth = authkit_leptos::with_auth().await?;
    Ok(auth.user.map(|_| DashboardView {
        organization_id: auth.organization_id,
        role: auth.role,
        permissions: auth.permissions,
    }))
}

#[component]
fn DashboardPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| dashboard());
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
    }
}

// ---------------------------------------------------------------- protected: ensureSignedIn

/// `const { user } = await withAuth({ ensureSignedIn: true })`: `user` is not optional.
#[server]
pub async fn protected() -> Result<User, AuthError> {
    let signed_in = authkit_leptos::ensure_signed_in().await?;
    Ok(signed_in.user)
}

#[component]
fn ProtectedPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| protected());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(user) => view! {
                        <div>
                            <h1>"Protected content"</h1>
                            <p>"Hello, " {user.first_name.clone().unwrap_or_default()} "!"</p>
                        </div>
                    }.into_any(),
                    Err(e) => {
                        follow_sign_in(&e);
                        view! { <p>"Redirecting to sign in…"</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

// ---------------------------------------------------------------- data: the access token

/// `const { accessToken } = await withAuth()`, then an authenticated API call (to the
/// demo's own `/demo-api/data`, which verifies the bearer token).
#[server]
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

#[component]
fn DataPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| data());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(json)) => view! { <div><h1>"Data"</h1><pre id="api-response">{json}</pre></div> }.into_any(),
                    Ok(None) => view! { <div>"Not authenticated"</div> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

// ---------------------------------------------------------------- features: feature flags

/// `const { user, featureFlags } = await withAuth()`.
#[server]
pub async fn features() -> Result<Option<Vec<String>>, AuthError> {
    let auth = authkit_leptos::with_auth().await?;
    Ok(auth.user.map(|_| auth.feature_flags))
}

#[component]
fn FeaturePage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| features());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(flags)) => {
                        let has_new_feature = flags.iter().any(|f| f == "new-feature");
                        view! {
                            <div>
                                <h1>"Features"</h1>
                                <Show when=move || has_new_feature>
                                    <div class="new-feature card">
                                        <h2>"New Feature Available!"</h2>
                                        <p>"You have access to our latest feature."</p>
                                    </div>
                                </Show>
                            </div>
                        }.into_any()
                    }
                    Ok(None) => view! { <div>"Please sign in"</div> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
