//! `authkit`: the command-line tool for when a session misbehaves, and the local WorkOS.
//!
//! ```text
//! authkit unseal [--password-map FILE] <SEALED|->   print the session JSON inside a cookie
//! authkit seal [--ttl SECONDS] [--password-map FILE] < session.json
//! authkit decode-token <JWT|->                      print a JWT's header and claims (unverified)
//! authkit emulator [--help]                         run the built-in WorkOS emulator
//! ```
//! The cookie password comes from `WORKOS_COOKIE_PASSWORD`, or from a password map file
//! (a JSON object of id → password) for rotated passwords. On any failure the tool exits
//! with status 1 and prints one line on stderr saying why.

use authkit_leptos::{PasswordMap, MIN_COOKIE_PASSWORD_LEN};
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

const HELP: &str = "\
authkit: inspect AuthKit sessions and run a local WorkOS

USAGE:
    authkit unseal [--password-map FILE] <SEALED|->
        Print the JSON sealed in a wos-session cookie value (`-` reads it from stdin).
    authkit seal [--ttl SECONDS] [--password-map FILE] < session.json
        Seal the JSON read from stdin and print the cookie value.
    authkit decode-token <JWT|->
        Print a JWT's header and claims as JSON. The signature is NOT verified.
    authkit emulator [OPTIONS]
        Run the built-in WorkOS emulator (see `authkit emulator --help`).
    authkit --help | --version

PASSWORDS:
    WORKOS_COOKIE_PASSWORD   the cookie password (at least 32 characters)
    --password-map FILE      a JSON object {\"<id>\": \"<password>\", ...} for rotated
                             passwords; seals use the largest numeric id

EXIT STATUS:
    0 on success; 1 with one line on stderr on any failure.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("authkit: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let Some((command, rest)) = args.split_first() else {
        print!("{HELP}");
        return Ok(());
    };
    match command.as_str() {
        "-h" | "--help" | "help" => {
            print!("{HELP}");
            Ok(())
        }
        "-V" | "--version" => {
            println!("authkit {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        "unseal" => unseal(rest),
        "seal" => seal(rest),
        "decode-token" => decode_token(rest),
        "emulator" => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the async runtime: {e}"))?;
            runtime.block_on(authkit_leptos::emulator::cli::run(rest.to_vec()))
        }
        other => Err(format!("unknown command `{other}` (try `authkit --help`)")),
    }
}

/// Options shared by `seal` and `unseal`, plus positional arguments.
struct Options {
    password_map: Option<String>,
    ttl: Option<u64>,
    positional: Vec<String>,
}

fn parse_options(args: &[String], allow_ttl: bool) -> Result<Options, String> {
    let mut options = Options {
        password_map: None,
        ttl: None,
        positional: Vec::new(),
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--password-map" => {
                let file = iter.next().ok_or("--password-map needs a file path")?;
                options.password_map = Some(file.clone());
            }
            "--ttl" if allow_ttl => {
                let value = iter.next().ok_or("--ttl needs a number of seconds")?;
                let ttl = value
                    .parse::<u64>()
                    .map_err(|_| format!("--ttl `{value}` is not a whole number of seconds"))?;
                options.ttl = Some(ttl);
            }
            "-" => options.positional.push(arg.clone()),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            _ => options.positional.push(arg.clone()),
        }
    }
    Ok(options)
}

fn passwords(map_file: Option<&str>) -> Result<PasswordMap, String> {
    let map = match map_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read password map {path}: {e}"))?;
            let entries: std::collections::BTreeMap<String, String> = serde_json::from_str(&text)
                .map_err(|e| {
                format!("password map {path} is not a JSON object of id -> password: {e}")
            })?;
            PasswordMap::from_entries(entries)
                .ok_or_else(|| format!("password map {path} is empty"))?
        }
        None => {
            let password = std::env::var("WORKOS_COOKIE_PASSWORD").map_err(|_| {
                "set WORKOS_COOKIE_PASSWORD (or pass --password-map FILE)".to_owned()
            })?;
            PasswordMap::single(password)
        }
    };
    for (id, password) in map.iter() {
        if password.expose().chars().count() < MIN_COOKIE_PASSWORD_LEN {
            return Err(format!(
                "password {id} is shorter than {MIN_COOKIE_PASSWORD_LEN} characters"
            ));
        }
    }
    Ok(map)
}

fn read_stdin() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    Ok(text)
}

/// The single positional argument, or stdin when it is `-`.
fn single_input(options: &Options, what: &str) -> Result<String, String> {
    match options.positional.as_slice() {
        [one] if one == "-" => Ok(read_stdin()?.trim().to_owned()),
        [one] => Ok(one.trim().to_owned()),
        [] => Err(format!(
            "missing {what} (pass it as an argument, or `-` for stdin)"
        )),
        _ => Err(format!(
            "expected one {what}, got {}",
            options.positional.len()
        )),
    }
}

fn unseal(args: &[String]) -> Result<(), String> {
    let options = parse_options(args, false)?;
    let sealed = single_input(&options, "sealed value")?;
    // Accept a whole `wos-session=...` cookie pair as pasted from the browser.
    let sealed = sealed
        .split_once('=')
        .filter(|(name, _)| !name.contains('*'))
        .map_or(sealed.as_str(), |(_, value)| value);
    let map = passwords(options.password_map.as_deref())?;
    let value = authkit_leptos::seal::unseal_json(sealed, &map).map_err(|e| e.to_string())?;
    print_json(&value)
}

fn seal(args: &[String]) -> Result<(), String> {
    let options = parse_options(args, true)?;
    if !options.positional.is_empty() {
        return Err("seal reads the JSON from stdin and takes no arguments".to_owned());
    }
    let text = read_stdin()?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("stdin is not JSON: {e}"))?;
    let map = passwords(options.password_map.as_deref())?;
    let sealed =
        authkit_leptos::seal::seal_json(&value, &map, options.ttl.map(Duration::from_secs))
            .map_err(|e| e.to_string())?;
    println!("{sealed}");
    Ok(())
}

fn decode_token(args: &[String]) -> Result<(), String> {
    let options = parse_options(args, false)?;
    if options.password_map.is_some() {
        return Err("decode-token takes no --password-map".to_owned());
    }
    let token = single_input(&options, "token")?;
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
