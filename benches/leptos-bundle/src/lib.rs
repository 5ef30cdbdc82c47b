//! P7 (BENCHMARKS.md): the demo's chrome and its `/about` and `/protected/about` pages,
//! built for the browser with and without the crate's components (see Cargo.toml for the
//! three variants). The markup and behaviour are the demo's (`app/src/app.rs`) and the
//! Next.js peer's (`benches/nextjs-peer/app/`); what changes between the variants is only
//! where the session comes from and who wrote the sign-in links, the sign-out form and the
//! organization switcher.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;
use serde::{Deserialize, Serialize};

/// The session as the chrome shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    /// The user's email, when signed in.
    pub email: Option<String>,
    /// `sid`.
    pub session_id: Option<String>,
    /// `org_id`.
    pub organization_id: Option<String>,
}

/// An organization the user can switch to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Org {
    /// `org_…`.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// The app's own "who is signed in" (the plain variant's stand-in for `AuthKitProvider`).
#[server(prefix = "/api", endpoint = "bench/session")]
pub async fn current_session() -> Result<SessionView, ServerFnError> {
    let auth = authkit_leptos::with_auth()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(SessionView {
        email: auth.user.map(|u| u.email),
        session_id: auth.session_id,
        organization_id: auth.claims.organization_id,
    })
}

/// The app's own sign-out form's server function.
#[server(prefix = "/api", endpoint = "bench/sign_out")]
pub async fn sign_out_form(return_to: String) -> Result<(), ServerFnError> {
    authkit_leptos::sign_out(Some(return_to))
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// The app's own organization list.
#[server(prefix = "/api", endpoint = "bench/organizations")]
pub async fn my_organizations() -> Result<Vec<Org>, ServerFnError> {
    let list = authkit_leptos::list_organizations()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(list
        .into_iter()
        .map(|o| Org {
            id: o.id,
            name: o.name,
        })
        .collect())
}

/// The app's own organization switch.
#[server(prefix = "/api", endpoint = "bench/switch")]
pub async fn switch_org(organization_id: String) -> Result<(), ServerFnError> {
    authkit_leptos::switch_to_organization(&organization_id)
        .await
        .map(|_| ())
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// The demo's `App`, with the crate's provider and banner.
#[cfg(feature = "provider")]
#[component]
pub fn App() -> impl IntoView {
    use authkit_leptos::{AuthKitProvider, Impersonation};
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/authkit-demo.css" />
        <Title text="Notebook · authkit-leptos demo" />
        <AuthKitProvider>
            <Router>
                <Impersonation />
                <Nav />
                <main>
                    <Pages />
                </main>
            </Router>
        </AuthKitProvider>
    }
}

/// The demo's `App` without them: the session is the app's own resource.
#[cfg(not(feature = "provider"))]
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session = Resource::new_blocking(|| (), |_| current_session());
    provide_context(session);
    view! {
        <Stylesheet id="leptos" href="/pkg/authkit-demo.css" />
        <Title text="Notebook · authkit-leptos demo" />
        <Router>
            <Nav />
            <main>
                <Pages />
            </main>
        </Router>
    }
}

/// `/about` open, `/protected/about` behind `<GuardedRoute>` (the demo's pair).
#[cfg(feature = "widgets")]
#[component]
fn Pages() -> impl IntoView {
    use authkit_leptos::GuardedRoute;
    view! {
        <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
            <Route path=path!("/about") view=AboutPage />
            <GuardedRoute path=path!("/protected/about") view=AboutPage />
        </Routes>
    }
}

/// The same pages as plain routes: the server's layer guards `/protected/about` (as the
/// peer's page guards itself on the server with `withAuth({ ensureSignedIn: true })`).
#[cfg(not(feature = "widgets"))]
#[component]
fn Pages() -> impl IntoView {
    view! {
        <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
            <Route path=path!("/about") view=AboutPage />
            <Route path=path!("/protected/about") view=AboutPage />
        </Routes>
    }
}

/// The demo's `AboutPage`.
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

/// The session, and what to do after an organization switch.
#[cfg(feature = "provider")]
fn session() -> (Signal<SessionView>, Callback<()>) {
    let auth = authkit_leptos::use_auth();
    let me = Signal::derive(move || {
        auth.with(|s| SessionView {
            email: s.user.as_ref().map(|u| u.email.clone()),
            session_id: s.session_id.clone(),
            organization_id: s.organization_id.clone(),
        })
    });
    (me, Callback::new(move |()| auth.refresh()))
}

/// The session, and what to do after an organization switch.
#[cfg(not(feature = "provider"))]
fn session() -> (Signal<SessionView>, Callback<()>) {
    let resource = expect_context::<Resource<Result<SessionView, ServerFnError>>>();
    let me = Signal::derive(move || resource.get().and_then(Result::ok).unwrap_or_default());
    (me, Callback::new(move |()| resource.refetch()))
}

/// The demo's `Nav`.
#[component]
fn Nav() -> impl IntoView {
    let (me, switched) = session();
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
            </nav>
            <div class="account">
                <Transition fallback=|| ()>
                    <Show
                        when=move || me.with(|m| m.email.is_some())
                        fallback=|| view! { <SignInLinks /> }
                    >
                        <span class="who" id="signed-in-as">{move || me.get().email}</span>
                        <Account me switched />
                    </Show>
                </Transition>
            </div>
        </header>
    }
}

/// The crate's switcher and sign-out button.
#[cfg(feature = "widgets")]
#[component]
fn Account(me: Signal<SessionView>, switched: Callback<()>) -> impl IntoView {
    use authkit_leptos::{OrganizationSwitcher, SignOutButton};
    let _ = (me, switched);
    view! {
        <OrganizationSwitcher />
        <SignOutButton />
    }
}

/// The app's own switcher and sign-out form (the peer's, in app/nav.jsx).
#[cfg(not(feature = "widgets"))]
#[component]
fn Account(me: Signal<SessionView>, switched: Callback<()>) -> impl IntoView {
    let session = Memo::new(move |_| me.with(|m| m.session_id.clone()));
    let organizations = LocalResource::new(move || {
        let signed_in = session.get().is_some();
        async move {
            if signed_in {
                my_organizations().await
            } else {
                Ok(Vec::new())
            }
        }
    });
    let switch = ServerAction::<SwitchOrg>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = switch.value().get() {
            switched.run(());
        }
    });
    let sign_out = ServerAction::<SignOutForm>::new();
    view! {
        <ActionForm action=switch attr:class="authkit-organization-switcher">
            <label>
                <span class="authkit-label">"Organization"</span>
                {move || {
                    let current = me.with(|m| m.organization_id.clone());
                    match organizations.get() {
                        None => view! { <select disabled=true><option>"…"</option></select> }.into_any(),
                        Some(Ok(list)) => view! {
                            <select name="organization_id">
                                {list
                                    .into_iter()
                                    .map(|o| {
                                        let selected = current.as_deref() == Some(o.id.as_str());
                                        view! { <option value=o.id selected=selected>{o.name}</option> }
                                    })
                                    .collect_view()}
                            </select>
                        }
                        .into_any(),
                        Some(Err(_)) => view! { <select disabled=true><option>"unavailable"</option></select> }.into_any(),
                    }
                }}
            </label>
            <button type="submit">"Switch"</button>
        </ActionForm>
        <ActionForm action=sign_out attr:class="authkit-sign-out">
            <input type="hidden" name="return_to" value="/" />
            <button type="submit">"Sign out"</button>
        </ActionForm>
    }
}

/// The crate's sign-in and sign-up links.
#[cfg(feature = "widgets")]
#[component]
fn SignInLinks() -> impl IntoView {
    use authkit_leptos::{SignInLink, SignUpLink};
    view! { <SignInLink /> <SignUpLink /> }
}

/// The app's own sign-in and sign-up links (the peer's).
#[cfg(not(feature = "widgets"))]
#[component]
fn SignInLinks() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let return_to = move || {
        let path = location.pathname.get();
        form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
    };
    view! {
        <a href=move || format!("/auth/sign-in?return_to={}", return_to()) rel="external" class="authkit-sign-in">
            "Sign in"
        </a>
        " "
        <a href=move || format!("/auth/sign-up?return_to={}", return_to()) rel="external" class="authkit-sign-up">
            "Sign up"
        </a>
    }
}

/// The browser entry point, as the demo's.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
