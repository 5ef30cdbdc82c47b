//! `authkit`: the command-line tool for when a session misbehaves, and the local WorkOS.
//!
//! ```text
//! authkit unseal [--password-map FILE] <SEALED|->   print the session JSON inside a cookie
//! authkit seal [--ttl SECONDS] [--password-map FILE] < session.json
//! authkit decode-token <JWT|->                      print a JWT's header and claims (unverified)
//! authkit emulator [--help]                         run the built-in WorkOS emulator
//! ```
//! The cookie password comes from `WORKOS_COOKIE_PASSWORD`, or from a password map file
//! (a JSON object of id → password) for rotated passwords; either is checked by the
//! library's own rules ([`PasswordMap::validate`], as `AuthKitConfig` checks them), so the
//! tool accepts exactly the passwords an app would. On any failure the tool exits with
//! status 1 and prints one line on stderr saying why.

use authkit_leptos::{ConfigError, PasswordMap};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory as _, Parser, Subcommand};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// What `--help` adds under the commands: where passwords come from, and how failures look.
const AFTER_HELP: &str = "\
PASSWORDS:
    WORKOS_COOKIE_PASSWORD   the cookie password (at least 32 characters)
    --password-map FILE      a JSON object {\"<id>\": \"<password>\", ...} for rotated
                             passwords (numeric ids); seals use the largest id

EXAMPLES:
    authkit unseal --password-map FILE <SEALED|->
    authkit seal --ttl SECONDS < session.json
    authkit decode-token -

EXIT STATUS:
    0 on success; 1 with one line on stderr on any failure.";

/// `authkit`: inspect AuthKit sessions and run a local WorkOS.
#[derive(Debug, Parser)]
#[command(
    name = "authkit",
    version,
    about = "authkit: inspect AuthKit sessions and run a local WorkOS",
    after_help = AFTER_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the JSON sealed in a wos-session cookie value (`-` reads it from stdin)
    Unseal {
        /// A JSON object of id -> password, for rotated passwords
        #[arg(long, value_name = "FILE")]
        password_map: Option<PathBuf>,
        /// The cookie value, or a pasted `wos-session=…` pair; `-` reads it from stdin
        #[arg(value_name = "SEALED|-")]
        sealed: Option<String>,
    },
    /// Seal the JSON read from stdin and print the cookie value
    Seal {
        /// Make the seal expire after this many seconds
        #[arg(long, value_name = "SECONDS")]
        ttl: Option<u64>,
        /// A JSON object of id -> password; seals use the largest id
        #[arg(long, value_name = "FILE")]
        password_map: Option<PathBuf>,
    },
    /// Print a JWT's header and claims as JSON. The signature is NOT verified
    DecodeToken {
        /// The token, with or without `Bearer `; `-` reads it from stdin
        #[arg(value_name = "JWT|-")]
        token: Option<String>,
    },
    /// Run the built-in WorkOS emulator (see `authkit emulator --help`)
    // Every word after `emulator` (its `--help` too) is the emulator's own command line.
    #[command(disable_help_flag = true)]
    Emulator {
        /// The emulator's options
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "OPTIONS"
        )]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("authkit: {message}");
            ExitCode::from(1)
        }
    }
}

fn run() -> Result<(), String> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help, --version: clap's text, on stdout.
        Err(e) if !e.use_stderr() => {
            print!("{e}");
            return Ok(());
        }
        Err(e) => return Err(one_line(&e)),
    };
    match cli.command {
        None => Cli::command()
            .print_long_help()
            .map_err(|e| format!("cannot print the help: {e}")),
        Some(Command::Unseal {
            password_map,
            sealed,
        }) => unseal(password_map.as_deref(), sealed),
        Some(Command::Seal { ttl, password_map }) => seal(ttl, password_map.as_deref()),
        Some(Command::DecodeToken { token }) => decode_token(token),
        Some(Command::Emulator { args }) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the async runtime: {e}"))?;
            runtime.block_on(authkit_leptos::emulator::cli::run(args))
        }
    }
}

/// A clap error as the one line this tool prints: clap's first line (its tips and usage
/// follow on others), an unknown command named as such.
fn one_line(error: &clap::Error) -> String {
    if error.kind() == ErrorKind::InvalidSubcommand {
        if let Some(ContextValue::String(name)) = error.get(ContextKind::InvalidSubcommand) {
            return format!("unknown command `{name}` (try `authkit --help`)");
        }
    }
    let text = error.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    format!(
        "{} (try `authkit --help`)",
        first.strip_prefix("error: ").unwrap_or(first)
    )
}

/// The passwords from `--password-map FILE`, else `WORKOS_COOKIE_PASSWORD`, checked by the
/// library's rules.
fn passwords(map_file: Option<&Path>) -> Result<PasswordMap, String> {
    let (map, origin) = match map_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read password map {}: {e}", path.display()))?;
            let entries: std::collections::BTreeMap<String, String> = serde_json::from_str(&text)
                .map_err(|e| {
                format!(
                    "password map {} is not a JSON object of id -> password: {e}",
                    path.display()
                )
            })?;
            let map = PasswordMap::from_entries(entries)
                .ok_or_else(|| format!("password map {} is empty", path.display()))?;
            (map, format!("password map {}", path.display()))
        }
        None => {
            let password = std::env::var("WORKOS_COOKIE_PASSWORD").map_err(|_| {
                "set WORKOS_COOKIE_PASSWORD (or pass --password-map FILE)".to_owned()
            })?;
            (
                PasswordMap::single(password),
                "WORKOS_COOKIE_PASSWORD".to_owned(),
            )
        }
    };
    map.validate()
        .map_err(|e: ConfigError| {
            let problems: Vec<String> = e.problems.into_iter().map(|p| p.message).collect();
            format!("{origin}: {}", problems.join("; "))
        })
        .map(|()| map)
}

fn read_stdin() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    Ok(text)
}

/// The positional argument, or stdin when it is `-`.
fn single_input(value: Option<String>, what: &str) -> Result<String, String> {
    match value.as_deref() {
        Some("-") => Ok(read_stdin()?.trim().to_owned()),
        Some(one) => Ok(one.trim().to_owned()),
        None => Err(format!(
            "missing {what} (pass it as an argument, or `-` for stdin)"
        )),
    }
}

fn unseal(password_map: Option<&Path>, sealed: Option<String>) -> Result<(), String> {
    let sealed = single_input(sealed, "sealed value")?;
    // Accept a whole `wos-session=...` cookie pair as pasted from the browser.
    let sealed = sealed
        .split_once('=')
        .filter(|(name, _)| !name.contains('*'))
        .map_or(sealed.as_str(), |(_, value)| value);
    let map = passwords(password_map)?;
    let value = authkit_leptos::seal::unseal_json(sealed, &map).map_err(|e| e.to_string())?;
    print_json(&value)
}

fn seal(ttl: Option<u64>, password_map: Option<&Path>) -> Result<(), String> {
    let text = read_stdin()?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("stdin is not JSON: {e}"))?;
    let map = passwords(password_map)?;
    let sealed = authkit_leptos::seal::seal_json(&value, &map, ttl.map(Duration::from_secs))
        .map_err(|e| e.to_string())?;
    println!("{sealed}");
    Ok(())
}

fn decode_token(token: Option<String>) -> Result<(), String> {
    let token = single_input(token, "token")?;
    let token = token.strip_prefix("Bearer ").unwrap_or(&token);
    let (header, claims) =
        authkit_leptos::jwt::decode_unverified(token).map_err(|e| e.to_string())?;
    print_json(&serde_json::json!({ "header": header, "claims": claims }))
}

fn print_json(value: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}
