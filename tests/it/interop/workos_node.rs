//! The real `@workos-inc/node` SDK and `jose`, unchanged, against the emulator: runs
//! `tests/interop/workos_node.mjs` (sign-in, tokens, the read endpoints),
//! `tests/interop/workos_events.mjs` (webhooks, the Events and Sessions APIs) and
//! `tests/interop/workos_steps.mjs` (organization selection, email verification, a public
//! client) with Node.js (installed by `scripts/setup.sh`).

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
    let report = run_script(&interop, "workos_node.mjs", &emu, &[]).await;
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

/// The SDK reads the emulator's step answers as its own `AuthenticationException`s,
/// completes an organization selection with `authenticateWithOrganizationSelection`, and
/// signs in and refreshes as a public client with no API key (#26 items 2 and 6).
#[tokio::test]
async fn workos_node_sdk_handles_the_emulators_step_answers_and_public_clients() {
    use authkit_leptos::emulator::{Requirement, SeedUser};
    let interop = crate::support::checkout::manifest_dir().join("tests/interop");
    assert!(
        interop.join("node_modules/@workos-inc/node").is_dir(),
        "tests/interop/node_modules/@workos-inc/node is missing: run scripts/setup.sh (it runs `npm ci` in tests/interop)"
    );
    let mut seed = Seed::demo().unwrap();
    for user in &mut seed.users {
        if user.email == "ada@example.com" {
            user.organization_selection = Some(Requirement::Required);
        }
    }
    let seed = seed.user(SeedUser::new("eve@example.com").email_verification_required());
    let emu = Emulator::builder()
        .seed(seed)
        .auto_approve()
        .start()
        .await
        .unwrap();
    // (`run_script` removes WORKOS_API_KEY, which the SDK falls back to: the public client
    // must have no key at all.)
    let report = run_script(&interop, "workos_steps.mjs", &emu, &[]).await;
    assert_eq!(report["steps"].as_array().unwrap().len(), 4, "{report}");
    let counters = emu.counters();
    assert_eq!(counters.grant(GrantType::OrganizationSelection), 1);
    assert_eq!(counters.grant(GrantType::AuthorizationCode), 3);
    assert_eq!(counters.grant(GrantType::RefreshToken), 1);
}

/// The SDK's side of the emulator's events (`tests/interop/workos_events.mjs`): its
/// `webhooks.constructEvent` accepts every webhook the emulator delivers, unchanged (the
/// script's own endpoint verifies them), `userManagement.listSessions` and
/// `revokeSession` work, and `events.listEvents` lists, filters and pages the same events.
#[tokio::test]
async fn workos_node_sdk_accepts_the_emulators_webhooks_events_and_sessions() {
    let interop = crate::support::checkout::manifest_dir().join("tests/interop");
    assert!(
        interop.join("node_modules/@workos-inc/node").is_dir(),
        "tests/interop/node_modules/@workos-inc/node is missing: run scripts/setup.sh (it runs `npm ci` in tests/interop)"
    );
    // A free port for the script's webhook endpoint, known before the emulator starts
    // (deliveries begin only once the script signs in, after it listens).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = "whsec_interop_secret";
    let emu = Emulator::builder()
        .seed(Seed::demo().unwrap())
        .auto_approve()
        .webhook(format!("http://127.0.0.1:{port}/webhooks"), secret)
        .start()
        .await
        .unwrap();
    let report = run_script(
        &interop,
        "workos_events.mjs",
        &emu,
        &[
            ("WEBHOOK_PORT", port.to_string()),
            ("WEBHOOK_SECRET", secret.to_owned()),
        ],
    )
    .await;
    assert_eq!(report["ok"], true);
    assert_eq!(report["steps"].as_array().unwrap().len(), 6, "{report}");
    assert_eq!(report["deliveries"], 3, "{report}");

    // Every delivery was accepted at the first attempt, and the SDK's calls reached the
    // endpoints we think they did.
    let stats = emu.webhook_stats();
    assert_eq!(
        (stats.delivered, stats.failed, stats.attempts, stats.pending),
        (3, 0, 3, 0)
    );
    let counters = emu.counters();
    assert_eq!(counters.get(Endpoint::ListSessions), 5);
    assert_eq!(counters.get(Endpoint::RevokeSession), 1);
    assert!(counters.get(Endpoint::ListEvents) >= 6);
}

/// Runs `script` (in `interop`) with Node.js against `emu` (its base URL, client id and API
/// key in `EMULATOR_*`, and `env`); `WORKOS_API_KEY` is removed, so the SDK never falls back
/// to a key of the environment. Fails the test unless the script exits 0; returns the JSON
/// report it prints.
async fn run_script(
    interop: &std::path::Path,
    script: &str,
    emu: &Emulator,
    env: &[(&str, String)],
) -> serde_json::Value {
    let output = tokio::process::Command::new("node")
        .arg(script)
        .current_dir(interop)
        .env("EMULATOR_BASE_URL", emu.base_url())
        .env("EMULATOR_CLIENT_ID", emu.client_id())
        .env("EMULATOR_API_KEY", emu.api_key())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env_remove("WORKOS_API_KEY")
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot run `node` ({e}): install Node.js 20+ (scripts/setup.sh)")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stderr}\n{stdout}",
        output.status
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("unexpected output ({e}): {stdout}"))
}
