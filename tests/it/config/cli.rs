//! The `authkit` command-line tool, run as a user runs it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "a-cookie-password-of-at-least-32-chars!";

fn authkit(args: &[&str], stdin: &str, password: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authkit"));
    cmd.args(args)
        .env_remove("WORKOS_COOKIE_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("WORKOS_COOKIE_PASSWORD", p);
    }
    let mut child = cmd.spawn().expect("the authkit binary runs");
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    // A command that fails on its arguments exits without reading its input: writing to it
    // may then meet a closed pipe, which is not a failure of the command.
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "stdin: {e}");
    }
    child.wait_with_output().expect("authkit finishes")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure is exit status 1 and exactly one line on stderr.
fn assert_one_line_failure(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "stdout: {}", stdout(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "stderr: {err:?}");
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
}

const SESSION: &str = r#"{"accessToken":"at","refreshToken":"rt","user":{"object":"user","id":"user_1","email":"ada@example.com","firstName":"Ada ✨"}}"#;

#[test]
fn seal_then_unseal_round_trips_the_json() {
    let sealed = authkit(&["seal"], SESSION, Some(PASSWORD));
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let sealed = stdout(&sealed).trim().to_owned();
    assert!(
        sealed.starts_with("Fe26.2*1*") && sealed.ends_with("~2"),
        "{sealed}"
    );

    let out = authkit(&["unseal", &sealed], "", Some(PASSWORD));
    assert!(out.status.success(), "{}", stderr(&out));
    let back: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let want: serde_json::Value = serde_json::from_str(SESSION).unwrap();
    assert_eq!(back, want);

    // From stdin, and as a pasted `name=value` cookie pair.
    let out = authkit(
        &["unseal", "-"],
        &format!("wos-session={sealed}\n"),
        Some(PASSWORD),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap(),
        want
    );
}

#[test]
fn password_map_files_support_rotation() {
    let dir = std::env::temp_dir().join(format!("authkit-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old_only = dir.join("old.json");
    let both = dir.join("both.json");
    std::fs::write(&old_only, format!(r#"{{"1":"{PASSWORD}"}}"#)).unwrap();
    std::fs::write(
        &both,
        format!(r#"{{"1":"{PASSWORD}","2":"another-password-that-is-long-enough!!"}}"#),
    )
    .unwrap();
    let old_seal = stdout(&authkit(&["seal"], SESSION, Some(PASSWORD)))
        .trim()
        .to_owned();
    let out = authkit(
        &[
            "unseal",
            "--password-map",
            both.to_str().unwrap(),
            &old_seal,
        ],
        "",
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let new_seal = authkit(
        &["seal", "--password-map", both.to_str().unwrap()],
        SESSION,
        None,
    );
    let new_seal = stdout(&new_seal).trim().to_owned();
    assert!(
        new_seal.starts_with("Fe26.2*2*"),
        "sealed with the largest id: {new_seal}"
    );
    let out = authkit(
        &[
            "unseal",
            "--password-map",
            old_only.to_str().unwrap(),
            &new_seal,
        ],
        "",
        None,
    );
    assert_one_line_failure(&out, "");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn seal_with_ttl_writes_an_expiry() {
    let out = authkit(&["seal", "--ttl", "600"], SESSION, Some(PASSWORD));
    assert!(out.status.success(), "{}", stderr(&out));
    let sealed = stdout(&out);
    let exp = sealed.split('*').nth(5).unwrap_or_default();
    assert!(
        exp.len() >= 13 && exp.bytes().all(|b| b.is_ascii_digit()),
        "{sealed}"
    );
}

#[test]
fn failures_exit_1_with_one_line() {
    let sealed = stdout(&authkit(&["seal"], SESSION, Some(PASSWORD)))
        .trim()
        .to_owned();
    assert_one_line_failure(
        &authkit(
            &["unseal", &sealed],
            "",
            Some("a-different-password-32-characters-long"),
        ),
        "",
    );
    assert_one_line_failure(
        &authkit(&["unseal", &sealed], "", None),
        "WORKOS_COOKIE_PASSWORD",
    );
    assert_one_line_failure(
        &authkit(&["unseal", &sealed], "", Some("short")),
        "32 characters",
    );
    assert_one_line_failure(&authkit(&["unseal", "garbage"], "", Some(PASSWORD)), "");
    assert_one_line_failure(
        &authkit(&["unseal"], "", Some(PASSWORD)),
        "missing sealed value",
    );
    assert_one_line_failure(&authkit(&["seal"], "not json", Some(PASSWORD)), "not JSON");
    assert_one_line_failure(
        &authkit(&["seal", "--ttl", "soon"], SESSION, Some(PASSWORD)),
        "--ttl",
    );
    assert_one_line_failure(&authkit(&["decode-token", "a.b"], "", None), "");
    assert_one_line_failure(&authkit(&["frobnicate"], "", None), "unknown command");
    assert_one_line_failure(
        &authkit(
            &["unseal", "--password-map", "/nonexistent/map.json", &sealed],
            "",
            None,
        ),
        "cannot read password map",
    );
}

/// One rule, one place: the tool checks cookie passwords with the library's own rules
/// (`PasswordMap::validate`, as `AuthKitConfig` runs it), so on the edges — lengths counted
/// in UTF-16 code units as iron-session counts them, ids iron-session can seal with — the
/// tool and an app accept and refuse the same password maps.
#[test]
fn the_tool_and_the_library_agree_on_cookie_passwords() {
    use authkit_leptos::{AuthKitConfig, PasswordMap};
    let emoji = "\u{1F600}";
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        // 16 characters, 32 UTF-16 code units: long enough for iron-session.
        ("16 emoji", vec![("1", emoji.repeat(16))]),
        ("15 emoji and a letter", vec![("1", emoji.repeat(15) + "a")]),
        ("31 accented letters", vec![("1", "é".repeat(31))]),
        ("32 accented letters", vec![("1", "é".repeat(32))]),
        ("31 ASCII", vec![("1", "x".repeat(31))]),
        ("32 ASCII", vec![("1", "x".repeat(32))]),
        (
            "a word id",
            vec![("1", PASSWORD.into()), ("v2", PASSWORD.into())],
        ),
        ("an empty id", vec![("", PASSWORD.into())]),
        ("a negative id", vec![("-1", PASSWORD.into())]),
        (
            "numeric ids",
            vec![("1", PASSWORD.into()), ("20", PASSWORD.into())],
        ),
    ];
    let dir = std::env::temp_dir().join(format!("authkit-cli-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, entries) in cases {
        let map = PasswordMap::from_entries(entries.clone()).unwrap();
        let library = AuthKitConfig::builder()
            .client_id("client_1")
            .api_key("sk_test_1")
            .redirect_uri("http://localhost:3000/callback")
            .cookie_passwords(map)
            .build();
        let file = dir.join("map.json");
        let json: serde_json::Map<String, serde_json::Value> = entries
            .iter()
            .map(|(id, password)| ((*id).to_owned(), password.as_str().into()))
            .collect();
        std::fs::write(&file, serde_json::Value::Object(json).to_string()).unwrap();
        let tool = authkit(
            &["seal", "--password-map", file.to_str().unwrap()],
            SESSION,
            None,
        );
        match library {
            Ok(_) => {
                assert!(tool.status.success(), "{name}: {}", stderr(&tool));
                // What it sealed unseals with the same map.
                let sealed = stdout(&tool).trim().to_owned();
                let back = authkit(
                    &["unseal", "--password-map", file.to_str().unwrap(), &sealed],
                    "",
                    None,
                );
                assert!(back.status.success(), "{name}: {}", stderr(&back));
            }
            Err(e) => {
                // The tool refuses with the library's own words.
                let message = &e.problems[0].message;
                assert_one_line_failure(&tool, message);
            }
        }
    }
    // And from WORKOS_COOKIE_PASSWORD: 16 emoji are enough, 31 accented letters are not.
    let out = authkit(&["seal"], SESSION, Some(&emoji.repeat(16)));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_one_line_failure(
        &authkit(&["seal"], SESSION, Some(&"é".repeat(31))),
        "at least 32 characters",
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn decode_token_prints_header_and_claims() {
    use base64::Engine as _;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let token = format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","kid":"key_1","typ":"JWT"}"#),
        b64(
            r#"{"sub":"user_1","sid":"session_1","org_id":"org_1","feature_flags":["new-feature"],"exp":1}"#
        ),
        b64("not-a-real-signature")
    );
    let out = authkit(&["decode-token", &token], "", None);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["header"]["kid"], "key_1");
    assert_eq!(v["claims"]["sid"], "session_1");
    assert_eq!(v["claims"]["feature_flags"][0], "new-feature");
    // `Bearer <jwt>` from stdin works too.
    let out = authkit(&["decode-token", "-"], &format!("Bearer {token}\n"), None);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn help_documents_every_command() {
    let out = authkit(&["--help"], "", None);
    assert!(out.status.success());
    let text = stdout(&out);
    for word in [
        "unseal",
        "seal",
        "decode-token",
        "emulator",
        "--password-map",
        "--ttl",
        "WORKOS_COOKIE_PASSWORD",
    ] {
        assert!(text.contains(word), "help lacks {word}");
    }
}

#[test]
fn the_emulator_command_prints_its_settings_and_serves_until_interrupted() {
    let seed = crate::support::checkout::manifest_dir().join("emulator/seeds/demo.yaml");
    let (mut child, settings) = spawn_emulator(&[
        "--auto-approve",
        "ada@example.com",
        "--seed",
        seed.to_str().expect("a UTF-8 path"),
    ]);
    let base_url = settings["base_url"].as_str().expect("base_url").to_owned();
    assert!(
        base_url.starts_with("http://127.0.0.1:"),
        "loopback only: {base_url}"
    );
    assert!(settings["client_id"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert!(settings["api_key"].as_str().is_some_and(|s| !s.is_empty()));
    // It answers over loopback…
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let health = runtime.block_on(async {
        reqwest::get(format!("{base_url}/health"))
            .await
            .map(|r| r.status().as_u16())
    });
    // …and stops on SIGINT with status 0.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().expect("the emulator exits");
    assert_eq!(health.ok(), Some(200));
    assert_eq!(status.code(), Some(0));
}

/// Starts `authkit emulator ARGS… --port 0 --json` and returns the child with its settings line.
fn spawn_emulator(args: &[&str]) -> (std::process::Child, serde_json::Value) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_authkit"))
        .arg("emulator")
        .args(args)
        .args(["--port", "0", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("authkit emulator starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("a line on stdout");
    if line.is_empty() {
        let output = child.wait_with_output().expect("the emulator exits");
        panic!(
            "no settings line; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let settings = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    (child, settings)
}

/// A local WorkOS started with no seed is usable at once: the built-in demo seed's users
/// are listed, and the official `@workos-inc/node` SDK signs in through it with
/// auto-approve (before, the default seed had no users and every authorize answered
/// `access_denied`).
#[test]
fn the_emulator_command_without_a_seed_signs_people_in() {
    let interop = crate::support::checkout::manifest_dir().join("tests/interop");
    assert!(
        interop.join("node_modules/@workos-inc/node").is_dir(),
        "tests/interop/node_modules is missing: run scripts/setup.sh"
    );
    let (mut child, settings) = spawn_emulator(&["--auto-approve"]);
    let users: Vec<&str> = settings["users"]
        .as_array()
        .expect("users listed")
        .iter()
        .filter_map(|u| u.as_str())
        .collect();
    let seed = settings["seed"].as_str().unwrap_or_default().to_owned();
    let output = Command::new("node")
        .arg("workos_node.mjs")
        .current_dir(&interop)
        .env("EMULATOR_BASE_URL", settings["base_url"].as_str().unwrap())
        .env(
            "EMULATOR_CLIENT_ID",
            settings["client_id"].as_str().unwrap(),
        )
        .env("EMULATOR_API_KEY", settings["api_key"].as_str().unwrap())
        .output()
        .expect("node runs");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    assert!(users.contains(&"ada@example.com"), "{users:?}");
    assert!(seed.contains("built-in demo seed"), "{seed}");
    assert!(
        output.status.success(),
        "the Node SDK flow failed against `authkit emulator --auto-approve`:\n{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
}
