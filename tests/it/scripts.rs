//! Every command the docs tell a reader to run exists and runs as written: each
//! `./scripts/*.sh` named in README.md, BENCHMARKS.md, RELIABILITY.md and fuzz/README.md is a
//! file with a `#!` line and its run bit set (a missing run bit answers "Permission denied",
//! as `./scripts/bench.sh` once did).

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
