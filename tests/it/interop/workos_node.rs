//! The real `@workos-inc/node` SDK and `jose`, unchanged, against the emulator: runs
//! `tests/interop/workos_node.mjs` with Node.js (installed by `scripts/setup.sh`).

use authkit_leptos::emulator::{Emulator, Endpoint, GrantType, Seed};

#[tokio::test]
async fn workos_node_sdk_and_jose_work_against_the_emulator_unchanged() {
    let interop = crate::support::checkout::manifest_dir().join("tests/interop");
    for package in ["@workos-inc/node", "jose"] {
        assert!(
            interop.join("node_modules").join(package).is_dir(),
            "tests/interop/node_modules/{package} is missing: run scripts/setup.sh (it runs `npm ci` in tests/interop)"
        );
    }

    let emu = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve()
        .start()
        .await
        .unwrap();
    let output = tokio::process::Command::new("node")
        .arg("workos_node.mjs")
        .current_dir(&interop)
        .env("EMULATOR_BASE_URL", emu.base_url())
        .env("EMULATOR_CLIENT_ID", emu.client_id())
        .env("EMULATOR_API_KEY", emu.api_key())
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot run `node` ({e}): install Node.js 20+ (scripts/setup.sh)")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "workos_node.mjs failed ({}):\n{stderr}\n{stdout}",
        output.status
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("unexpected output ({e}): {stdout}"));
    assert_eq!(report["ok"], true);
    assert_eq!(report["steps"].as_array().unwrap().len(), 7, "{report}");

    // The SDK's calls reached the endpoints we think they did.
    let counters = emu.counters();
    assert_eq!(counters.get(Endpoint::Authorize), 1);
    assert_eq!(counters.grant(GrantType::AuthorizationCode), 2);
    assert_eq!(counters.grant(GrantType::RefreshToken), 3);
    assert_eq!(counters.get(Endpoint::Logout), 1);
    assert!(counters.get(Endpoint::Jwks) >= 1);
}
