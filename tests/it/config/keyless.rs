//! Public (keyless) clients (#26 item 2): with no `WORKOS_API_KEY`, sign-in (PKCE), the
//! callback (code + verifier, no `client_secret`), refresh and sign-out work with the
//! client id alone against the emulator; what needs the key answers a typed error at the
//! call (`AuthError::ApiKeyRequired`, status 501, never a 500) without calling WorkOS, and
//! start-up says once which features are off. No client id is still refused.

use crate::support::leptos_app::leptos;
use crate::support::*;
use authkit_leptos::emulator::Endpoint;
use authkit_leptos::{AuthError, AuthKitConfig};
use axum::body::Body;
use http::{header, Request, StatusCode};

fn keyless() -> Options {
    Options {
        config: |c| c.without_api_key(),
        ..Options::default()
    }
}

/// Signs in, refreshes an expired session and signs out with the client id alone: the
/// emulator redeems the code as a public client (it refuses a code without the verifier
/// when no secret comes), rotates the refresh token and ends the session at logout.
#[tokio::test]
async fn a_keyless_app_signs_in_refreshes_and_signs_out() {
    let h = Harness::with(keyless()).await;
    assert!(h.kit.config().api_key().is_none());
    assert!(!h.kit.client().has_api_key());

    let cookie = h.expired_session().await;
    let (response, me) = h.whoami("/dashboard", Some(&cookie)).await;
    assert_eq!(me["email"], "ada@example.com", "{me}");
    assert_eq!(
        h.refresh_exchanges(),
        1,
        "refreshed without a client_secret"
    );
    let refreshed = cookie_value(&session_set_cookie(&response).expect("a new cookie")).to_owned();
    assert_ne!(refreshed, cookie);
    assert_eq!(h.emulator.active_sessions(), 1);

    let out = h
        .send(
            Request::post("/auth/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("wos-session={refreshed}"))
                .body(Body::from("return_to=%2Fbye"))
                .unwrap(),
        )
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(deletes_cookie(out.headers(), "wos-session"));
    let logout = location(&out);
    assert!(
        logout.starts_with(&format!(
            "{}/user_management/sessions/logout?session_id=",
            h.emulator.base_url()
        )),
        "{logout}"
    );
    let back = http_client().get(&logout).send().await.unwrap();
    assert_eq!(back.status().as_u16(), 302);
    assert_eq!(back.headers()["location"], "http://localhost:3000/bye");
    assert_eq!(h.emulator.active_sessions(), 0, "the WorkOS session ended");
}

/// The server functions that need the key answer `ApiKeyRequired` with status 501 — not
/// a 500 — and never call WorkOS: organizations, an organization's name, API-key
/// validation, the Sessions API and signing out everywhere.
#[tokio::test]
async fn what_needs_the_key_answers_a_typed_error() {
    let h = leptos(keyless()).await;
    let cookie = h.sign_in().await;
    h.emulator.reset_counters();
    let org = token_claims(&cookie)["org_id"].as_str().unwrap().to_owned();
    for (endpoint, args) in [
        ("authkit/organizations", String::new()),
        (
            "authkit/organization-name",
            format!("organization_id={org}"),
        ),
        ("apikey", String::new()),
        ("authkit/sessions", String::new()),
        ("authkit/sign-out-everywhere", String::new()),
    ] {
        let (status, body, _) = h.call(endpoint, &args, Some(&cookie)).await;
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{endpoint}: {body}");
        let error: AuthError = serde_json::from_value(body.clone())
            .unwrap_or_else(|_| panic!("{endpoint}: an AuthError: {body}"));
        assert!(
            matches!(error, AuthError::ApiKeyRequired { .. }),
            "{endpoint}: {error:?}"
        );
        assert!(error.to_string().contains("WORKOS_API_KEY"), "{error}");
    }
    let counters = h.emulator.counters();
    for endpoint in [
        Endpoint::ListOrganizationMemberships,
        Endpoint::GetOrganization,
        Endpoint::ValidateApiKey,
        Endpoint::ListSessions,
        Endpoint::RevokeSession,
    ] {
        assert_eq!(counters.get(endpoint), 0, "{endpoint:?} was called");
    }
    // The session is untouched: signed in as before.
    let (_, me) = h.whoami("/dashboard", Some(&cookie)).await;
    assert_eq!(me["email"], "ada@example.com");
}

/// Start-up says once which features are off without the key.
#[tokio::test]
async fn start_up_names_the_features_that_are_off() {
    let log = crate::support::capture::install();
    let _h = Harness::with(keyless()).await;
    let text = log.lock().unwrap().clone();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("no WORKOS_API_KEY"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    for feature in [
        "organization names",
        "validate_api_key",
        "Sessions API",
        "Events API",
    ] {
        assert!(lines[0].contains(feature), "{feature}: {}", lines[0]);
    }
}

/// Without the key *and* the client id, the configuration is refused, naming the client
/// id (the one a public client cannot do without).
#[test]
fn no_key_and_no_client_id_is_refused_clearly() {
    let vars = |name: &str| match name {
        "WORKOS_REDIRECT_URI" => Some("http://localhost:3000/callback".to_owned()),
        "WORKOS_COOKIE_PASSWORD" => Some(PASSWORD.to_owned()),
        _ => None,
    };
    let e = AuthKitConfig::from_vars(vars).unwrap_err();
    let variables: Vec<&str> = e.problems.iter().map(|p| p.variable).collect();
    assert_eq!(variables, ["WORKOS_CLIENT_ID"], "{e}");
    assert!(e.to_string().contains("WORKOS_CLIENT_ID: missing"), "{e}");
}

/// The Events API poller needs the key: for a public client it does nothing (its task
/// ends at once) and never calls `GET /events`.
#[tokio::test]
async fn the_event_poller_does_not_run_without_the_key() {
    let h = Harness::with(keyless()).await;
    let task = h
        .kit
        .spawn_event_poller(std::time::Duration::from_millis(10));
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .expect("the task ends at once")
        .unwrap();
    assert_eq!(h.emulator.counters().get(Endpoint::ListEvents), 0);
}
