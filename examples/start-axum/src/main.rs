#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() {
    use authkit_leptos::{AuthKit, AuthKitConfig, FinishAbandonedRendersLayer}; // AuthKit
    use axum::Router;
    use leptos::logging::log;
    use leptos::prelude::*;
    use leptos_axum::{generate_route_list, LeptosRoutes};
    use start_axum::app::*;

    let conf = get_configuration(None).unwrap();
    let addr = conf.leptos_options.site_addr;
    let leptos_options = conf.leptos_options;
    // Generate the list of routes in your Leptos App
    let routes = generate_route_list(App);
    // AuthKit: the WORKOS_* settings (`workos-emulator` prints them for a local WorkOS).
    let config = AuthKitConfig::from_env().unwrap_or_else(|e| panic!("{e}"));
    let authkit = AuthKit::new(config).unwrap_or_else(|e| panic!("{e}"));

    let app = Router::new()
        .leptos_routes(&leptos_options, routes, {
            let leptos_options = leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(FinishAbandonedRendersLayer::new()) // AuthKit: see its docs
        .merge(authkit.routes()) // AuthKit: /auth/sign-in, /auth/sign-up, /auth/sign-out, /callback
        .layer(authkit.layer()) // AuthKit: the session, for every page and server function
        .with_state(leptos_options);
    #[cfg(feature = "soak")] // (this repository: scripts/soak.sh reads the tokio task count)
    authkit_leptos::testing::spawn_runtime_stats_from_env("SOAK_RUNTIME_STATS").unwrap(); // (this repository)

    // run our app with hyper
    // `axum::Server` is a re-export of `hyper::Server`
    log!("listening on http://{}", &addr);
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    axum::serve(listener, app.into_make_service())
        .await
        .unwrap();
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // no client-side main function
    // unless we want this to work with e.g., Trunk for pure client-side testing
    // see lib.rs for hydration function instead
}
