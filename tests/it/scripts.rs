//! Every command the docs tell a reader to run exists and runs as written: each
//! `./scripts/*.sh` named in README.md, BENCHMARKS.md, RELIABILITY.md and fuzz/README.md is a
//! file with a `#!` line and its run bit set (a missing run bit answers "Permission denied",
//! as `./scripts/bench.sh` once did). And `scripts/setup.sh` on a machine that is not
//! Debian tells its user the exact install command instead of dying (#22 item 3).

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

const DOCS: [&str; 4] = [
    "README.md",
    "BENCHMARKS.md",
    "RELIABILITY.md",
    "fuzz/README.md",
];

/// The `./scripts/NAME.sh` commands `text` names.
fn named_scripts(text: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"\./scripts/[A-Za-z0-9_.-]+\.sh\b").unwrap();
    re.find_iter(text).map(|m| m.as_str().to_owned()).collect()
}

#[test]
fn every_script_the_docs_name_exists_and_is_executable() {
    let root = crate::support::checkout::manifest_dir();
    let mut all = BTreeSet::new();
    for doc in DOCS {
        let text = std::fs::read_to_string(root.join(doc)).unwrap_or_else(|e| panic!("{doc}: {e}"));
        let named = named_scripts(&text);
        assert!(
            !named.is_empty(),
            "{doc} names no ./scripts/*.sh command any more: update DOCS"
        );
        for script in named {
            all.insert((script, doc));
        }
    }
    // The README's two commands are among them, so the list is read from the right places.
    let names: BTreeSet<&str> = all.iter().map(|(s, _)| s.as_str()).collect();
    for readme_command in ["./scripts/demo.sh", "./scripts/test.sh"] {
        assert!(
            names.contains(readme_command),
            "README.md no longer names {readme_command}"
        );
    }
    let mut problems = Vec::new();
    for (script, doc) in &all {
        let path = root.join(script.trim_start_matches("./"));
        match std::fs::metadata(&path) {
            Err(e) => problems.push(format!("{script} (named in {doc}): {e}")),
            Ok(meta) => {
                if !meta.is_file() {
                    problems.push(format!("{script} (named in {doc}) is not a file"));
                } else if meta.permissions().mode() & 0o111 == 0 {
                    problems.push(format!(
                        "{script} (named in {doc}) has no run bit: git update-index --chmod=+x {}",
                        script.trim_start_matches("./")
                    ));
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if !text.starts_with("#!") {
                    problems.push(format!("{script} (named in {doc}) has no #! line"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "commands the docs name that cannot run as written:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_reader_finds_the_commands_in_the_text() {
    let text =
        "Run `./scripts/bench.sh` then ./scripts/soak.sh; not scripts/setup.sh or ./scripts/x.py.";
    let found: Vec<String> = named_scripts(text).into_iter().collect();
    assert_eq!(found, ["./scripts/bench.sh", "./scripts/soak.sh"]);
}

/// Runs `scripts/setup.sh` up to its system-package check (`AUTHKIT_SETUP_ONLY`) on a PATH
/// of its own: the real shell tools it uses, rustup and rustc stand-ins that have the wasm32
/// target, `uname` answering `uname_s`, and `extra` (more stand-ins, by name). Node.js,
/// npm, Python, Redis, curl, wrk and a C compiler are missing from it. Returns what it
/// printed (it must exit 0: it goes on without them).
fn setup_on(uname_s: &str, extra: &[&str]) -> String {
    let root = crate::support::checkout::manifest_dir();
    let dir = std::env::temp_dir().join(format!(
        "authkit-setup-{}-{}",
        uname_s.to_lowercase(),
        std::process::id()
    ));
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let stand_in = |name: &str, script: &str| {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    stand_in("uname", &format!("echo {uname_s}"));
    stand_in(
        "rustup",
        r#"[ "$1 $2 $3" = "target list --installed" ] && echo wasm32-unknown-unknown; exit 0"#,
    );
    stand_in("rustc", "echo 'rustc 1.95.0 (stand-in)'");
    for name in extra {
        stand_in(name, "exit 0");
    }
    for tool in [
        "bash", "awk", "grep", "sort", "tr", "dirname", "mkdir", "id", "cat", "sed", "head",
    ] {
        let real = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| std::path::Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no {tool} on this machine"));
        let _ = std::os::unix::fs::symlink(real, bin.join(tool));
    }
    let output = std::process::Command::new(bin.join("bash"))
        .arg(root.join("scripts/setup.sh"))
        .env_clear()
        .env("PATH", &bin)
        .env("HOME", &dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env("AUTHKIT_SETUP_ONLY", "system-packages")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "setup.sh failed:\n{text}");
    text
}

#[test]
fn on_macos_setup_prints_the_homebrew_command_and_goes_on() {
    let text = setup_on("Darwin", &[]);
    assert!(text.contains("missing system packages:"), "{text}");
    assert!(
        text.contains("node: needed by the interop tests"),
        "says which tests need it: {text}"
    );
    assert!(
        text.contains("install them with Homebrew, then run this again:"),
        "{text}"
    );
    assert!(
        text.contains("  brew install curl gcc node python redis wrk "),
        "one brew command, each formula once: {text}"
    );
    assert!(text.contains("going on without them"), "{text}");
    assert!(
        !text.contains("apt-get") && !text.contains("sudo"),
        "{text}"
    );
}

#[test]
fn on_fedora_setup_prints_the_dnf_command_and_goes_on() {
    let text = setup_on("Linux", &["dnf"]);
    assert!(
        text.contains("install them with dnf, then run this again:"),
        "{text}"
    );
    assert!(
        text.contains("  sudo dnf install curl gcc nodejs npm python3 redis wrk "),
        "{text}"
    );
    assert!(text.contains("going on without them"), "{text}");
    assert!(!text.contains("apt-get"), "{text}");
}
