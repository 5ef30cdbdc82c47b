//! Leptos.toml (read by the server at run time) and app/Cargo.toml (read by cargo-leptos at
//! build time) must never disagree.

fn leptos_section(text: &str) -> Vec<(String, String)> {
    let mut in_section = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[package.metadata.leptos]";
            continue;
        }
        if !in_section || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    out
}

#[test]
fn every_leptos_toml_key_has_the_same_value_in_cargo_toml() {
    let root = crate::support::checkout::manifest_dir().join("..");
    let runtime = std::fs::read_to_string(root.join("Leptos.toml")).unwrap();
    let build = std::fs::read_to_string(root.join("app/Cargo.toml")).unwrap();
    let runtime = leptos_section(&runtime);
    let build = leptos_section(&build);
    assert!(
        runtime.len() >= 5,
        "Leptos.toml lost its settings: {runtime:?}"
    );
    for (key, value) in &runtime {
        let other = build.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        assert_eq!(
            other,
            Some(value),
            "`{key}` is {value} in Leptos.toml but {other:?} in app/Cargo.toml"
        );
    }
}

#[test]
fn the_server_can_load_leptos_toml() {
    let root = crate::support::checkout::manifest_dir().join("..");
    let text = std::fs::read_to_string(root.join("Leptos.toml")).unwrap();
    let options =
        leptos::config::get_config_from_str(&text).expect("Leptos.toml parses as LeptosOptions");
    // LEPTOS_* variables override the file; scripts/test.sh sets LEPTOS_OUTPUT_NAME for its
    // builds, to this same name, so the assertions below still run there.
    if std::env::var_os("LEPTOS_OUTPUT_NAME").is_none_or(|name| name == "authkit-demo") {
        assert_eq!(&*options.output_name, "authkit-demo");
        assert_eq!(&*options.site_pkg_dir, "pkg");
    }
}
