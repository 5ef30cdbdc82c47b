//! The demo server.
//!
//! With no WorkOS connection variable in the environment it starts the built-in WorkOS
//! emulator (seeded from `emulator/seeds/demo.yaml`) in-process and points itself at it; with the
//! real `WORKOS_*` variables it talks to WorkOS, and with only some of them it refuses to
//! start, naming what is missing ([`authkit_demo::mode`]). Either way the same crate code runs.
//!
//! Its own variables: `AUTHKIT_DEMO_CONFIG` (the site layout file, `Leptos.toml`),
//! `AUTHKIT_DEMO_PUBLIC_URL` (its base URL, `http://` + the site address),
//! `AUTHKIT_DEMO_SEED`, `AUTHKIT_DEMO_EMULATOR_PORT` and `AUTHKIT_DEMO_AUTO_APPROVE` (the
//! emulator's seed file, port and auto-approved user), and `AUTHKIT_DEMO_RUNTIME_STATS`
//! (off by default: a file that gets the number of tokio tasks alive once a second, for
//! `scripts/soak.sh`; `authkit_leptos::testing::spawn_runtime_stats`).

use authkit_demo::mode::{self, Mode};
use authkit_leptos::emulator::{Emulator, ExposeSecret as _, Seed};
use authkit_leptos::{AuthKit, AuthKitConfig, RedisRefreshStore, Secret};
use leptos::config::get_configuration;
use std::process::ExitCode;

/// The AuthKit handle; with `WORKOS_REDIS_URL` set, refreshes are coordinated with the
/// other demo processes on that Redis (README: "Running several replicas").
fn build_authkit(config: AuthKitConfig) -> Result<AuthKit, Box<dyn std::error::Error>> {
    let mut builder = AuthKit::builder(config);
    if let Some(store) = RedisRefreshStore::from_env()? {
        println!(
            "  authkit-demo: sharing refreshes through Redis at {}",
            store.url()
        );
        builder = builder.refresh_store(store);
    }
    Ok(builder.build()?)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authkit-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Leptos.toml holds the site layout so the binary runs without Cargo.toml; the
    // LEPTOS_* variables that cargo-leptos sets take precedence over it.
    let config_path =
        std::env::var("AUTHKIT_DEMO_CONFIG").unwrap_or_else(|_| "Leptos.toml".to_owned());
    let conf = get_configuration(Some(&config_path)).map_err(|e| {
        format!("cannot read {config_path}: {e} (run from the repository root, or set AUTHKIT_DEMO_CONFIG)")
    })?;
    let leptos_options = conf.leptos_options;
    let addr = leptos_options.site_addr;
    let public_url =
        std::env::var("AUTHKIT_DEMO_PUBLIC_URL").unwrap_or_else(|_| format!("http://{addr}"));

    let (authkit, emulator) = match mode::decide(|name| std::env::var(name).ok())? {
        Mode::WorkOs(config) => {
            println!(
                "\n  authkit-demo MODE: WorkOS at {} (client {}), from the WORKOS_* settings\n",
                config.api_base_url(),
                config.client_id()
            );
            (build_authkit(*config)?, None)
        }
        Mode::Emulator => {
            let seed_path = std::env::var("AUTHKIT_DEMO_SEED")
                .unwrap_or_else(|_| "emulator/seeds/demo.yaml".to_owned());
            let seed = if std::path::Path::new(&seed_path).exists() {
                Seed::from_file(&seed_path)?
            } else {
                Seed::demo()?
            };
            let users: Vec<String> = seed
                .users
                .iter()
                .map(|u| match &u.password {
                    // Test fixtures of the local emulator, printed on purpose.
                    Some(p) => format!("    {}  (password: {})", u.email, p.expose_secret()),
                    None => format!("    {}", u.email),
                })
                .collect();
            // A fixed port when asked (the end-to-end tests drive its /__emulator/ controls).
            let port = match std::env::var("AUTHKIT_DEMO_EMULATOR_PORT") {
                Ok(p) => p.parse().map_err(|_| {
                    format!("AUTHKIT_DEMO_EMULATOR_PORT: `{p}` is not a port number")
                })?,
                Err(_) => 0,
            };
            // WorkOS's events (a session revoked, a role changed) reach the demo as signed
            // webhooks at its own /auth/webhooks, as the dashboard's endpoint would.
            let webhook_secret = Secret::random_cookie_password();
            let mut builder = Emulator::builder()
                .port(port)
                .seed(seed)
                .redirect_uri(format!("{public_url}/callback"))
                .webhook(
                    format!("{public_url}/auth/webhooks"),
                    webhook_secret.expose(),
                );
            // For scripted runs (scripts/bench.sh): every sign-in is approved at once as
            // this seeded user, with no hosted page.
            if let Ok(email) = std::env::var("AUTHKIT_DEMO_AUTO_APPROVE") {
                println!("  authkit-demo: sign-ins are approved at once as {email}");
                builder = builder.auto_approve_as(email);
            }
            let emulator = builder.start().await?;
            println!(
                "\n  authkit-demo MODE: built-in WorkOS emulator at {} (no WORKOS_* connection \
                 settings; set WORKOS_CLIENT_ID, WORKOS_API_KEY, WORKOS_REDIRECT_URI and \
                 WORKOS_COOKIE_PASSWORD to use WorkOS)\n  Sign in as:\n{}\n",
                emulator.base_url(),
                users.join("\n")
            );
            // A fresh password per run unless one is set (signing in again after a restart
            // is fine for a demo).
            let password = std::env::var("WORKOS_COOKIE_PASSWORD")
                .map(Secret::from)
                .unwrap_or_else(|_| Secret::random_cookie_password());
            let config = AuthKitConfig::builder()
                .client_id(emulator.client_id())
                .api_key(emulator.api_key())
                .api_base_url(emulator.base_url())
                .redirect_uri(format!("{public_url}/callback"))
                .cookie_password(password)
                .webhook_secret(webhook_secret)
                .build()?;
            (build_authkit(config)?, Some(emulator))
        }
    };

    let app = authkit_demo::server::router(&authkit, leptos_options, public_url.clone());

    // For scripts/soak.sh: the count of alive tokio tasks, which /proc cannot show.
    authkit_leptos::testing::spawn_runtime_stats_from_env("AUTHKIT_DEMO_RUNTIME_STATS")?;

    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    println!("authkit-demo listening on {public_url}");
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
    Ok(())
}
