use authkit_leptos::{use_auth, AuthError, AuthKitProvider, FeatureFlag, GuardedRoute}; // AuthKit
use authkit_leptos::{SignInLink, SignOutButton}; // AuthKit
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    StaticSegment,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone() />
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    // Provides context that manages stylesheets, titles, meta tags, etc.
    provide_meta_context();

    view! {
        // injects a stylesheet into the document <head>
        // id=leptos means cargo-leptos will hot-reload this stylesheet
        <Stylesheet id="leptos" href="/pkg/start-axum.css"/>

        // sets the document title
        <Title text="Welcome to Leptos"/>

        // content for this welcome page
        <AuthKitProvider> // AuthKit: the session, on the server and in the browser
        <Router>
            <main>
                <Nav/> // AuthKit
                <Routes fallback=|| "Page not found.".into_view()>
                    <Route path=StaticSegment("") view=HomePage/>
                    <GuardedRoute path=StaticSegment("dashboard") view=Dashboard/> // AuthKit
                </Routes>
            </main>
        </Router>
        </AuthKitProvider> // AuthKit
    }
}

/// Renders the home page of your application.
#[component]
fn HomePage() -> impl IntoView {
    // Creates a reactive value to update the button
    let count = RwSignal::new(0);
    let on_click = move |_| *count.write() += 1;
    let greeting = Resource::new_blocking(|| (), |_| greeting()); // AuthKit

    view! {
        <h1>"Welcome to Leptos!"</h1>
        <Suspense>{move || greeting.get().map(|g| view! { <p>{g.unwrap_or_default()}</p> })}</Suspense> // AuthKit
        <button on:click=on_click>"Click Me: " {count}</button>
    }
}

#[server] // AuthKit: the session in a server function
pub async fn greeting() -> Result<String, AuthError> {
    use authkit_leptos::with_auth; // server-only, like the body of every #[server] fn
    Ok(match with_auth().await?.user {
        Some(user) => format!("Welcome back, {}!", user.display_name()),
        None => "Please sign in to continue".to_owned(),
    })
}

#[component]
fn Nav() -> impl IntoView {
    let auth = use_auth();
    view! {
        <nav>
            <a href="/">"Home"</a> " " <a href="/dashboard">"Dashboard"</a> " "
            <Show when=move || auth.is_signed_in() fallback=|| view! { <SignInLink/> }>
                {move || auth.user().map(|u| u.email)} " " <SignOutButton/>
            </Show>
        </nav>
    }
}

#[component]
fn Dashboard() -> impl IntoView {
    view! {
        <h1>"Dashboard"</h1>
        <FeatureFlag flag="new-feature">
            <h2>"New Feature Available!"</h2>
        </FeatureFlag>
    }
}
