//! The emulator as a command (feature `cli`): the `workos-emulator` binary, and
//! authkit-leptos's `authkit emulator`.
//!
//! ```text
//! workos-emulator [--app-url URL] [--port N] [--host H] [--seed FILE]
//!                 [--auto-approve [EMAIL]] [--token-ttl SECONDS] [--json]
//!                 [--webhook-url URL [--webhook-secret S]]
//! ```
//!
//! It prints the users one can sign in as and **every `WORKOS_*` line an app needs to use
//! it**, ready to paste into a shell or a `.env` file: the emulator's host, port, client id
//! and API key, the redirect URI for the app at `--app-url` (default
//! `http://localhost:3000`, the start-axum template's address) and a freshly generated
//! cookie password — then serves until Ctrl-C. With `--webhook-url` it also delivers every
//! event as a signed WorkOS webhook to that URL, and prints the signing secret
//! (`--webhook-secret`, else a fresh one) as `WORKOS_WEBHOOK_SECRET`. With `--json` it
//! prints one JSON object `{"base_url", "client_id", "api_key", "seed", "users", "env"}`
//! instead, for scripts. It
//! listens on `127.0.0.1` unless `--host` names another address. Without `--seed` it serves
//! the built-in demo seed ([`Seed::demo`], `seeds/demo.yaml`), so a local WorkOS started
//! with no arguments signs people in at once, as WorkOS's own emulator does.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use super::{Emulator, EmulatorBuilder, Seed};

/// The port used when `--port` is not given.
pub const DEFAULT_PORT: u16 = 8787;

/// The app's address when `--app-url` is not given: where `cargo leptos watch` serves the
/// start-axum template.
pub const DEFAULT_APP_URL: &str = "http://localhost:3000";

/// `workos-emulator`: a local WorkOS for development and tests.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "workos-emulator",
    version,
    about = "A local WorkOS for development and tests: no account, no network",
    after_help = "Prints the WORKOS_* settings to paste into your app's environment (the \
                  redirect URI for --app-url and a fresh cookie password included). Test \
                  controls live under /__emulator/ (counters, faults, clock, token_ttl, \
                  keys/rotate, events, memberships, users, sessions, webhooks)."
)]
struct Options {
    /// Your app's address: the printed WORKOS_REDIRECT_URI is URL + /callback
    #[arg(long, value_name = "URL", default_value = DEFAULT_APP_URL, value_parser = app_url)]
    app_url: String,
    /// The full redirect URI, when your callback is not at /callback
    #[arg(long, value_name = "URI", value_parser = redirect_uri)]
    redirect_uri: Option<String>,
    /// Port to listen on (0 picks a free port)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Address to listen on (the emulator has no security: only listen beyond loopback on
    /// a trusted network)
    #[arg(long, value_name = "H", value_parser = host)]
    host: Option<IpAddr>,
    /// Users, organizations, roles… as YAML or JSON (default: the built-in demo seed,
    /// seeds/demo.yaml: ada@example.com and others)
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Skip the sign-in page: sign in as the login_hint user, else EMAIL, else the seed's
    /// first user
    #[arg(long, value_name = "EMAIL", num_args = 0..=1, default_missing_value = "")]
    auto_approve: Option<String>,
    /// Access-token lifetime in seconds (default 300)
    #[arg(long, value_name = "SECONDS")]
    token_ttl: Option<u64>,
    /// Deliver every event (session.created, session.revoked, …) to this http:// URL as a
    /// signed WorkOS webhook; the secret is printed as WORKOS_WEBHOOK_SECRET
    #[arg(long, value_name = "URL", value_parser = webhook_url)]
    webhook_url: Option<String>,
    /// The webhook signing secret (default: a fresh one on every start)
    #[arg(long, value_name = "S", requires = "webhook_url")]
    webhook_secret: Option<String>,
    /// Print one JSON object (base_url, client_id, api_key, seed, users, env) instead
    #[arg(long)]
    json: bool,
}

fn host(value: &str) -> Result<IpAddr, String> {
    let host = if value.eq_ignore_ascii_case("localhost") {
        "127.0.0.1"
    } else {
        value.trim_start_matches('[').trim_end_matches(']')
    };
    host.parse()
        .map_err(|_| format!("`{value}` is not an IP address"))
}

/// An `http(s)://` origin (a path is allowed; no query or fragment).
fn app_url(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value).map_err(|e| format!("`{value}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("`{value}` is not an http(s) URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{value}`: no query or fragment"));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn redirect_uri(value: &str) -> Result<String, String> {
    app_url(value).map(|_| value.to_owned())
}

/// An absolute `http://` URL (deliveries are plain HTTP).
fn webhook_url(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value).map_err(|e| format!("`{value}` is not a URL: {e}"))?;
    if url.scheme() != "http" || url.host().is_none() {
        return Err(format!(
            "`{value}` is not an http:// URL (the emulator delivers webhooks over plain HTTP)"
        ));
    }
    Ok(value.to_owned())
}

impl Options {
    fn redirect_uri(&self) -> String {
        self.redirect_uri
            .clone()
            .unwrap_or_else(|| format!("{}/callback", self.app_url))
    }
}

/// Where the seed came from, for the banner.
fn seed_origin(options: &Options) -> String {
    match &options.seed {
        Some(path) => path.display().to_string(),
        None => "built-in demo seed (seeds/demo.yaml)".to_owned(),
    }
}

/// The seed to serve: `--seed FILE`, else the built-in demo seed.
fn load_seed(options: &Options) -> Result<Seed, String> {
    match &options.seed {
        Some(path) => Seed::from_file(path).map_err(|e| e.to_string()),
        None => Seed::demo().map_err(|e| e.to_string()),
    }
}

/// The webhook URL and secret: `--webhook-secret`, else a fresh one.
fn webhook(options: &Options) -> Result<Option<(String, String)>, String> {
    let Some(url) = &options.webhook_url else {
        return Ok(None);
    };
    let secret = match &options.webhook_secret {
        Some(secret) => secret.clone(),
        None => crate::ids::token(24).map_err(|e| e.to_string())?,
    };
    Ok(Some((url.clone(), secret)))
}

fn builder(options: &Options, seed: Seed, webhook: Option<(String, String)>) -> EmulatorBuilder {
    let mut builder = Emulator::builder().port(options.port).seed(seed);
    if let Some((url, secret)) = webhook {
        builder = builder.webhook(url, secret);
    }
    if let Some(host) = options.host {
        builder = builder.host(host);
    }
    if let Some(ttl) = options.token_ttl {
        builder = builder.token_ttl(Duration::from_secs(ttl));
    }
    match options.auto_approve.as_deref() {
        Some("") => builder = builder.auto_approve(),
        Some(email) => builder = builder.auto_approve_as(email.to_owned()),
        None => {}
    }
    builder
}

/// The `WORKOS_*` settings an app needs to use `emulator`, in order: what
/// authkit-leptos's `AuthKitConfig::from_env` (and authkit-nextjs) read, and the webhook
/// secret when webhooks are delivered.
fn app_env(
    emulator: &Emulator,
    redirect_uri: &str,
    cookie_password: &str,
) -> Vec<(&'static str, String)> {
    let addr = emulator.local_addr();
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        ip => ip.to_string(),
    };
    let mut env = vec![
        ("WORKOS_CLIENT_ID", emulator.client_id().to_owned()),
        ("WORKOS_API_KEY", emulator.api_key().to_owned()),
        ("WORKOS_API_HOSTNAME", host),
        ("WORKOS_API_PORT", addr.port().to_string()),
        ("WORKOS_API_HTTPS", "false".to_owned()),
        ("WORKOS_REDIRECT_URI", redirect_uri.to_owned()),
        ("WORKOS_COOKIE_PASSWORD", cookie_password.to_owned()),
    ];
    if let Some(secret) = emulator.webhook_secret() {
        env.push(("WORKOS_WEBHOOK_SECRET", secret.to_owned()));
    }
    env
}

/// What the command prints once it listens.
fn banner(
    emulator: &Emulator,
    seed: &Seed,
    origin: &str,
    env: &[(&'static str, String)],
    json: bool,
) -> String {
    if json {
        let env: serde_json::Map<String, serde_json::Value> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
            .collect();
        return serde_json::json!({
            "base_url": emulator.base_url(),
            "client_id": emulator.client_id(),
            "api_key": emulator.api_key(),
            "seed": origin,
            "users": seed.users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
            "env": env,
        })
        .to_string();
    }
    let users = if seed.users.is_empty() {
        "  (none: every sign-in is refused; pass --seed FILE with users)\n".to_owned()
    } else {
        seed.users
            .iter()
            .map(|u| match &u.password {
                // Seed passwords are test fixtures for this local emulator, printed on purpose.
                Some(p) => format!("  {:<24} password {}\n", u.email, p.expose()),
                None => format!("  {:<24} (pick on the sign-in page)\n", u.email),
            })
            .collect()
    };
    // `export K=V` lines: a shell takes them as they are, and so do .env readers
    // (dotenvy, python-dotenv); every value is a plain word, no quoting needed.
    let env: String = env
        .iter()
        .map(|(k, v)| format!("export {k}={v}\n"))
        .collect();
    format!(
        "WorkOS emulator listening on {base}\n\
         \n\
         Users ({origin}):\n\
         {users}\
         \n\
         Your app's environment (paste into your shell or .env; the cookie password is new\n\
         on every start, so keep the one your app uses):\n\
         \n\
         {env}\
         \n\
         Press Ctrl-C to stop.",
        base = emulator.base_url(),
    )
}

/// Starts the emulator from `args` (the words after `workos-emulator` or `authkit
/// emulator`) and returns it with the text to print. `Ok(None)` means clap printed help or
/// the version instead.
async fn start(args: Vec<String>) -> Result<Option<(Emulator, String)>, String> {
    let options =
        match Options::try_parse_from(std::iter::once("workos-emulator".to_owned()).chain(args)) {
            Ok(options) => options,
            Err(e) if !e.use_stderr() => {
                // --help, --version
                print!("{e}");
                return Ok(None);
            }
            Err(e) => return Err(e.render().to_string()),
        };
    let seed = load_seed(&options)?;
    let redirect_uri = options.redirect_uri();
    let emulator = builder(&options, seed.clone(), webhook(&options)?)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let cookie_password = crate::ids::token(32).map_err(|e| e.to_string())?;
    let env = app_env(&emulator, &redirect_uri, &cookie_password);
    let text = banner(&emulator, &seed, &seed_origin(&options), &env, options.json);
    Ok(Some((emulator, text)))
}

/// Runs the emulator with `args` (the words after `workos-emulator` or `authkit emulator`):
/// prints how to reach it, then serves until Ctrl-C.
///
/// # Errors
/// A bad option (the message is clap's, with usage), a seed that does not load, or a port
/// that cannot be bound.
pub async fn run(args: Vec<String>) -> Result<(), String> {
    let Some((emulator, text)) = start(args).await? else {
        return Ok(());
    };
    println!("{text}");
    let stopped = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    stopped.map_err(|e| format!("cannot wait for Ctrl-C: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(list: &[&str]) -> Result<Options, clap::Error> {
        Options::try_parse_from(std::iter::once("workos-emulator").chain(list.iter().copied()))
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_every_option() {
        let o = parse(&[
            "--port",
            "9000",
            "--host",
            "0.0.0.0",
            "--seed",
            "seeds/demo.yaml",
            "--auto-approve",
            "ada@example.com",
            "--token-ttl=5",
            "--app-url",
            "http://127.0.0.1:4000/",
            "--json",
            "--webhook-url",
            "http://localhost:3000/webhooks/workos",
            "--webhook-secret",
            "s3cret",
        ])
        .unwrap();
        assert_eq!(
            o.webhook_url.as_deref(),
            Some("http://localhost:3000/webhooks/workos")
        );
        assert_eq!(o.webhook_secret.as_deref(), Some("s3cret"));
        assert_eq!(o.port, 9000);
        assert_eq!(o.host, Some("0.0.0.0".parse().unwrap()));
        assert_eq!(o.seed, Some(PathBuf::from("seeds/demo.yaml")));
        assert_eq!(o.auto_approve.as_deref(), Some("ada@example.com"));
        assert_eq!(o.token_ttl, Some(5));
        assert_eq!(o.redirect_uri(), "http://127.0.0.1:4000/callback");
        assert!(o.json);
        let o = parse(&["--redirect-uri", "https://app.test/auth/callback"]).unwrap();
        assert_eq!(o.redirect_uri(), "https://app.test/auth/callback");
        assert_eq!(
            parse(&[]).unwrap().redirect_uri(),
            "http://localhost:3000/callback"
        );
        assert_eq!(parse(&[]).unwrap().port, DEFAULT_PORT);
    }

    #[test]
    fn auto_approve_email_is_optional() {
        let o = parse(&["--auto-approve", "--json"]).unwrap();
        assert_eq!(o.auto_approve.as_deref(), Some(""));
        assert!(o.json);
        let o = parse(&["--auto-approve"]).unwrap();
        assert_eq!(o.auto_approve.as_deref(), Some(""));
    }

    #[test]
    fn rejects_bad_input_with_a_hint() {
        for bad in [
            &["--port"][..],
            &["--port", "x"],
            &["--port", "70000"],
            &["--host", "example.com"],
            &["--token-ttl", "-1"],
            &["--app-url", "localhost:3000"],
            &["--app-url", "ftp://x"],
            &["--app-url", "http://x/?q"],
            &["--webhook-url", "https://app.test/webhooks"],
            &["--webhook-url", "/webhooks"],
            &["--webhook-secret", "s"],
            &["--frobnicate"],
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.use_stderr(), "{bad:?}");
            assert!(!err.render().to_string().is_empty(), "{bad:?}");
        }
        assert!(!parse(&["--help"]).unwrap_err().use_stderr());
    }

    /// What a user pastes: every line a `WORKOS_*` setting `AuthKitConfig::from_env`
    /// needs, with the redirect URI for the app and a cookie password of 32+ characters.
    #[tokio::test]
    async fn the_banner_is_every_setting_an_app_needs() {
        let (emulator, text) = start(args(&["--port", "0", "--app-url", "http://localhost:3005"]))
            .await
            .unwrap()
            .unwrap();
        let env: std::collections::HashMap<&str, &str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .collect();
        let port = emulator.local_addr().port().to_string();
        assert_eq!(env["WORKOS_CLIENT_ID"], emulator.client_id());
        assert_eq!(env["WORKOS_API_KEY"], emulator.api_key());
        assert_eq!(env["WORKOS_API_HOSTNAME"], "127.0.0.1");
        assert_eq!(env["WORKOS_API_PORT"], port);
        assert_eq!(env["WORKOS_API_HTTPS"], "false");
        assert_eq!(env["WORKOS_REDIRECT_URI"], "http://localhost:3005/callback");
        let password = env["WORKOS_COOKIE_PASSWORD"];
        assert!(password.len() >= 32, "{password}");
        assert!(
            password
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "a plain word a shell and a .env file take unquoted: {password}"
        );
        assert_eq!(env.len(), 7, "{text}");
        assert!(text.contains("ada@example.com"), "{text}");
        assert!(text.contains("analytical-engine"), "{text}");
        emulator.shutdown().await;

        // A fresh password on every start.
        let (other, text2) = start(args(&["--port", "0"])).await.unwrap().unwrap();
        assert!(!text2.contains(password));
        other.shutdown().await;
    }

    #[tokio::test]
    async fn json_banner_has_the_fields_and_the_env() {
        let (emulator, text) = start(args(&["--port", "0", "--json"]))
            .await
            .unwrap()
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["base_url"], emulator.base_url());
        assert_eq!(json["client_id"], emulator.client_id());
        assert_eq!(json["api_key"], emulator.api_key());
        assert!(emulator.base_url().starts_with("http://127.0.0.1:"));
        // No --seed: the built-in demo seed, whose users are listed.
        assert!(json["seed"]
            .as_str()
            .unwrap()
            .contains("built-in demo seed"));
        assert_eq!(json["users"][0], "ada@example.com");
        assert_eq!(
            json["env"]["WORKOS_REDIRECT_URI"],
            "http://localhost:3000/callback"
        );
        emulator.shutdown().await;
        assert!(start(args(&["-h"])).await.unwrap().is_none());
    }

    /// `--webhook-url`: the secret is printed beside the other settings (given, or fresh
    /// on every start), in the text and in the JSON.
    #[tokio::test]
    async fn a_webhook_url_prints_its_secret() {
        let url = "http://127.0.0.1:9/webhooks";
        let (emulator, text) = start(args(&["--port", "0", "--webhook-url", url]))
            .await
            .unwrap()
            .unwrap();
        let secret = text
            .lines()
            .find_map(|l| l.strip_prefix("export WORKOS_WEBHOOK_SECRET="))
            .unwrap_or_else(|| panic!("no WORKOS_WEBHOOK_SECRET line: {text}"))
            .to_owned();
        assert!(secret.len() >= 32, "{secret}");
        assert_eq!(emulator.webhook_secret(), Some(secret.as_str()));
        emulator.shutdown().await;

        let (other, json) = start(args(&[
            "--port",
            "0",
            "--json",
            "--webhook-url",
            url,
            "--webhook-secret",
            "whsec_test",
        ]))
        .await
        .unwrap()
        .unwrap();
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["env"]["WORKOS_WEBHOOK_SECRET"], "whsec_test");
        assert_eq!(other.webhook_secret(), Some("whsec_test"));
        other.shutdown().await;

        let (plain, text) = start(args(&["--port", "0"])).await.unwrap().unwrap();
        assert!(!text.contains("WORKOS_WEBHOOK_SECRET"), "{text}");
        assert_eq!(plain.webhook_secret(), None);
        plain.shutdown().await;
    }
}
