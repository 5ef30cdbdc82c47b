//! The emulator as a command (feature `cli`): the `workos-emulator` binary, and
//! authkit-leptos's `authkit emulator`.
//!
//! ```text
//! workos-emulator [--port N] [--host H] [--seed FILE] [--auto-approve [EMAIL]]
//!                 [--token-ttl SECONDS] [--json]
//! ```
//!
//! It prints the base URL, client id, API key and the users one can sign in as (one JSON
//! object `{"base_url", "client_id", "api_key", "seed", "users"}` with `--json`, for
//! scripts), then serves until Ctrl-C. It listens on `127.0.0.1` unless `--host` names
//! another address. Without `--seed` it serves the built-in demo seed ([`Seed::demo`],
//! `seeds/demo.yaml`), so a local WorkOS started with no arguments signs people in at once,
//! as WorkOS's own emulator does.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{Emulator, EmulatorBuilder, Seed};

/// The port used when `--port` is not given.
pub const DEFAULT_PORT: u16 = 8787;

/// `workos-emulator --help` (and `authkit emulator --help`).
pub const HELP: &str = "\
workos-emulator — a local WorkOS for development and tests

USAGE:
    workos-emulator [OPTIONS]
    authkit emulator [OPTIONS]      (the same, from authkit-leptos's `authkit` tool)

OPTIONS:
    --port N               Port to listen on (default 8787; 0 picks a free port)
    --host H               Address to listen on (default 127.0.0.1; the emulator has no
                           security, so only listen beyond loopback on a trusted network)
    --seed FILE            Users, organizations, roles… as YAML or JSON (default: the built-in
                           demo seed, seeds/demo.yaml: ada@example.com and others)
    --auto-approve [EMAIL] Skip the sign-in page: sign in as the login_hint user, else EMAIL,
                           else the seed's first user
    --token-ttl SECONDS    Access-token lifetime (default 300)
    --json                 Print {\"base_url\",\"client_id\",\"api_key\"} as one JSON line
    -h, --help             Show this help

Point an app at it with WORKOS_API_HOSTNAME, WORKOS_API_PORT, WORKOS_API_HTTPS=false,
WORKOS_CLIENT_ID and WORKOS_API_KEY (printed on start). Test controls live under
/__emulator/ (counters, faults, clock, token_ttl, keys/rotate).
";

/// Parsed command-line options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Options {
    port: Option<u16>,
    host: Option<IpAddr>,
    seed: Option<PathBuf>,
    auto_approve: Option<Option<String>>,
    token_ttl: Option<u64>,
    json: bool,
    help: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value; see --help")),
            }
        };
        match flag {
            "-h" | "--help" => options.help = true,
            "--json" => options.json = true,
            "--port" => {
                let v = value("--port")?;
                options.port = Some(
                    v.parse()
                        .map_err(|_| format!("--port: `{v}` is not a port number (0-65535)"))?,
                );
            }
            "--host" => {
                let v = value("--host")?;
                let host = if v.eq_ignore_ascii_case("localhost") {
                    "127.0.0.1"
                } else {
                    v.trim_start_matches('[').trim_end_matches(']')
                };
                options.host = Some(
                    host.parse()
                        .map_err(|_| format!("--host: `{v}` is not an IP address"))?,
                );
            }
            "--seed" => options.seed = Some(PathBuf::from(value("--seed")?)),
            "--token-ttl" => {
                let v = value("--token-ttl")?;
                options.token_ttl = Some(
                    v.parse()
                        .map_err(|_| format!("--token-ttl: `{v}` is not a number of seconds"))?,
                );
            }
            "--auto-approve" => {
                let email = match inline {
                    Some(v) => Some(v),
                    None => match iter.peek() {
                        Some(next) if !next.starts_with('-') => iter.next().cloned(),
                        _ => None,
                    },
                };
                options.auto_approve = Some(email);
            }
            other => return Err(format!("unknown option `{other}`; see --help")),
        }
    }
    Ok(options)
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

fn builder(options: &Options, seed: Seed) -> EmulatorBuilder {
    let mut builder = Emulator::builder()
        .port(options.port.unwrap_or(DEFAULT_PORT))
        .seed(seed);
    if let Some(host) = options.host {
        builder = builder.host(host);
    }
    if let Some(ttl) = options.token_ttl {
        builder = builder.token_ttl(Duration::from_secs(ttl));
    }
    match &options.auto_approve {
        Some(Some(email)) => builder = builder.auto_approve_as(email.clone()),
        Some(None) => builder = builder.auto_approve(),
        None => {}
    }
    builder
}

/// What `authkit emulator` prints once it listens.
fn banner(emulator: &Emulator, seed: &Seed, origin: &str, json: bool) -> String {
    if json {
        return serde_json::json!({
            "base_url": emulator.base_url(),
            "client_id": emulator.client_id(),
            "api_key": emulator.api_key(),
            "seed": origin,
            "users": seed.users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
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
    let addr = emulator.local_addr();
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        ip => ip.to_string(),
    };
    format!(
        "WorkOS emulator listening on {base}\n\
         \n\
         \x20 client id   {client}\n\
         \x20 API key     {key}\n\
         \x20 JWKS        {jwks}\n\
         \n\
         Users ({origin}):\n\
         {users}\
         \n\
         Point an app at it:\n\
         \x20 WORKOS_API_HOSTNAME={host} WORKOS_API_PORT={port} WORKOS_API_HTTPS=false \\\n\
         \x20 WORKOS_CLIENT_ID={client} WORKOS_API_KEY={key}\n\
         \n\
         Press Ctrl-C to stop.",
        base = emulator.base_url(),
        client = emulator.client_id(),
        key = emulator.api_key(),
        jwks = emulator.jwks_url(),
        port = addr.port(),
    )
}

/// Starts the emulator from `args` (the words after `authkit emulator`) and returns it with
/// the text to print. `Ok(None)` means `--help` was printed instead.
async fn start(args: &[String]) -> Result<Option<(Emulator, String)>, String> {
    let options = parse(args)?;
    if options.help {
        return Ok(None);
    }
    let seed = load_seed(&options)?;
    let emulator = builder(&options, seed.clone())
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let text = banner(&emulator, &seed, &seed_origin(&options), options.json);
    Ok(Some((emulator, text)))
}

/// Runs the emulator with `args` (the words after `workos-emulator` or `authkit emulator`):
/// prints how to reach it,
/// then serves until Ctrl-C.
pub async fn run(args: Vec<String>) -> Result<(), String> {
    let Some((emulator, text)) = start(&args).await? else {
        print!("{HELP}");
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

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_every_option() {
        let o = parse(&args(&[
            "--port",
            "9000",
            "--host",
            "0.0.0.0",
            "--seed",
            "seeds/demo.yaml",
            "--auto-approve",
            "ada@example.com",
            "--token-ttl=5",
            "--json",
        ]))
        .unwrap();
        assert_eq!(o.port, Some(9000));
        assert_eq!(o.host, Some("0.0.0.0".parse().unwrap()));
        assert_eq!(o.seed, Some(PathBuf::from("seeds/demo.yaml")));
        assert_eq!(o.auto_approve, Some(Some("ada@example.com".to_owned())));
        assert_eq!(o.token_ttl, Some(5));
        assert!(o.json);
    }

    #[test]
    fn auto_approve_email_is_optional() {
        let o = parse(&args(&["--auto-approve", "--json"])).unwrap();
        assert_eq!(o.auto_approve, Some(None));
        assert!(o.json);
        let o = parse(&args(&["--auto-approve"])).unwrap();
        assert_eq!(o.auto_approve, Some(None));
    }

    #[test]
    fn rejects_bad_input_with_a_hint() {
        for bad in [
            &["--port"][..],
            &["--port", "x"],
            &["--port", "70000"],
            &["--host", "example.com"],
            &["--token-ttl", "-1"],
            &["--frobnicate"],
        ] {
            let err = parse(&args(bad)).unwrap_err();
            assert!(!err.is_empty(), "{bad:?}");
        }
        assert!(parse(&args(&["--help"])).unwrap().help);
    }

    #[tokio::test]
    async fn json_banner_has_the_three_fields() {
        let (emulator, text) = start(&args(&["--port", "0", "--json"]))
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
        emulator.shutdown().await;

        let (emulator, text) = start(&args(&["--port", "0"])).await.unwrap().unwrap();
        assert!(text.contains(emulator.base_url()));
        assert!(text.contains("WORKOS_API_HTTPS=false"));
        assert!(text.contains("ada@example.com"), "{text}");
        assert!(text.contains("analytical-engine"), "{text}");
        emulator.shutdown().await;
        assert_eq!(start(&args(&["-h"])).await.unwrap().map(|_| ()), None);
    }
}
