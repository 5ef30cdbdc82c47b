//! The answers that ask for one more step before a session (#26 item 6), as WorkOS
//! shapes them: `organization_selection_required` for a seeded user who chooses at the
//! app, completed by the organization-selection grant; `email_verification_required`
//! and the MFA answers; and a public client's refresh (#26 item 2).

use crate::support::*;
use serde_json::{json, Value};
use workos_emulator::{Emulator, GrantType, MfaStep, Requirement, Seed, SeedUser};

async fn emulator() -> Emulator {
    let mut seed = Seed::demo().unwrap();
    for user in &mut seed.users {
        if user.email == "ada@example.com" {
            user.organization_selection = Some(Requirement::Required);
        }
    }
    let seed = seed
        .user(SeedUser::new("eve@example.com").email_verification_required())
        .user(SeedUser::new("mo@example.com").mfa(MfaStep::Challenge))
        .user(SeedUser::new("nia@example.com").mfa(MfaStep::Enrollment));
    Emulator::builder()
        .seed(seed)
        .auto_approve()
        .start()
        .await
        .unwrap()
}

/// The code exchange's answer for `login_hint`.
async fn exchange_for(emu: &Emulator, email: &str) -> (u16, Value) {
    let (verifier, challenge) = pkce();
    let response = authorize(emu, &challenge, &[("login_hint", email)]).await;
    let code = location_query(&response)["code"].clone();
    let response = exchange(emu, &code, &verifier).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn select(emu: &Emulator, token: &str, org: &str, secret: Option<&str>) -> Value {
    let mut body = json!({
        "grant_type": "urn:workos:oauth:grant-type:organization-selection",
        "client_id": emu.client_id(),
        "pending_authentication_token": token,
        "organization_id": org,
    });
    if let Some(secret) = secret {
        body["client_secret"] = secret.into();
    }
    body
}

#[tokio::test]
async fn organization_selection_is_asked_at_the_code_exchange_and_granted_once() {
    let emu = emulator().await;
    let (status, body) = exchange_for(&emu, "ada@example.com").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "organization_selection_required");
    assert_eq!(body["user"]["email"], "ada@example.com");
    let token = body["pending_authentication_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let names: Vec<&str> = body["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme", "Globex", "Umbrella"]);
    let globex = body["organizations"][1]["id"].as_str().unwrap().to_owned();
    let initech = org_id_by_name_any(&emu, "Initech").await;

    // Without the API key, and outside the offer: refused, the token is not spent.
    let r = authenticate(&emu, select(&emu, &token, &globex, None)).await;
    assert_eq!(r.status(), 401);
    let r = authenticate(&emu, select(&emu, &token, &initech, Some(emu.api_key()))).await;
    assert_eq!(r.status(), 400);

    let r = authenticate(&emu, select(&emu, &token, &globex, Some(emu.api_key()))).await;
    assert_eq!(r.status(), 200);
    let session: Value = r.json().await.unwrap();
    assert_eq!(session["organization_id"], globex.as_str());
    assert_eq!(
        claims(session["access_token"].as_str().unwrap())["org_id"],
        globex.as_str()
    );

    let again = authenticate(&emu, select(&emu, &token, &globex, Some(emu.api_key()))).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(emu.counters().grant(GrantType::OrganizationSelection), 4);
}

#[tokio::test]
async fn email_verification_and_mfa_answer_in_workos_shapes() {
    let emu = emulator().await;
    let (status, body) = exchange_for(&emu, "eve@example.com").await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "email_verification_required");
    assert_eq!(body["email"], "eve@example.com");
    assert!(body["email_verification_id"]
        .as_str()
        .unwrap()
        .starts_with("email_verification_"));
    assert!(body["pending_authentication_token"].is_string());

    let (status, body) = exchange_for(&emu, "mo@example.com").await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "mfa_challenge");
    assert_eq!(body["authentication_factors"][0]["type"], "totp");
    assert_eq!(body["user"]["email"], "mo@example.com");

    let (status, body) = exchange_for(&emu, "nia@example.com").await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "mfa_enrollment");
    assert!(body["pending_authentication_token"].is_string());
    assert_eq!(emu.active_sessions(), 0, "no session for any of them");
}

/// A public client refreshes with the client id alone (no `client_secret`), as WorkOS
/// documents for PKCE clients; the token still rotates.
#[tokio::test]
async fn a_public_client_refreshes_without_a_secret() {
    let emu = demo().await;
    let session = sign_in(&emu, &[]).await;
    let token = session["refresh_token"].as_str().unwrap();
    let body = json!({"grant_type": "refresh_token", "client_id": emu.client_id(), "refresh_token": token});
    let r = authenticate(&emu, body.clone()).await;
    assert_eq!(r.status(), 200);
    let r = authenticate(&emu, body).await;
    assert_eq!(r.status(), 400, "single use, public or not");
}

/// An organization's id by name, through the memberships of the user who has it.
async fn org_id_by_name_any(emu: &Emulator, name: &str) -> String {
    let r = client()
        .get(format!(
            "{}/user_management/organization_memberships?user_id={}&limit=100",
            emu.base_url(),
            user_id(emu, "mary@example.com").await
        ))
        .bearer_auth(emu.api_key())
        .send()
        .await
        .unwrap();
    let list: Value = r.json().await.unwrap();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["organization_name"] == name)
        .unwrap()["organization_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn user_id(emu: &Emulator, email: &str) -> String {
    let (verifier, challenge) = pkce();
    let response = authorize(emu, &challenge, &[("login_hint", email)]).await;
    let code = location_query(&response)["code"].clone();
    let session: Value = exchange(emu, &code, &verifier).await.json().await.unwrap();
    session["user"]["id"].as_str().unwrap().to_owned()
}
