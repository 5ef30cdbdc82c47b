//! The hosted sign-in page, driven as a browser without JavaScript would: pick a seeded
//! user, email + password, sign-up, organization choice, impersonation and cancel.

use crate::support::*;
use serde_json::{json, Value};
use workos_emulator::{Emulator, Seed};

async fn interactive() -> Emulator {
    Emulator::builder()
        .seed(Seed::demo().unwrap())
        .start()
        .await
        .unwrap()
}

/// Opens the page; returns its HTML and the form action path.
async fn open(emu: &Emulator, challenge: &str, extra: &[(&str, &str)]) -> (String, String) {
    let mut all = vec![("state", "st*te~1")];
    all.extend_from_slice(extra);
    let r = authorize(emu, challenge, &all).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    let start = html.find("action=\"/__emulator/sign-in/").expect("a form") + "action=\"".len();
    let end = start + html[start..].find('"').unwrap();
    let action = html[start..end].to_owned();
    (html, action)
}

async fn post(emu: &Emulator, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    client()
        .post(format!("{}{action}", emu.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn value_of<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in page"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    &html[start..end]
}

/// Follows a 303 back to the app and exchanges the code.
async fn redeem(emu: &Emulator, response: reqwest::Response, verifier: &str) -> Value {
    assert_eq!(response.status(), 303);
    let q = location_query(&response);
    assert_eq!(q["state"], "st*te~1");
    let r = exchange(emu, &q["code"], verifier).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_page_lists_seeded_users_and_works_without_javascript() {
    let emu = interactive().await;
    let (_, challenge) = pkce();
    let (html, _) = open(&emu, &challenge, &[("login_hint", "alan@example.com")]).await;
    assert!(!html.contains("<script"));
    assert!(html.contains("<style>"));
    for text in [
        "Ada Lovelace",
        "grace@example.com",
        "3 organizations",
        "Impersonate a user",
        "Create an account",
    ] {
        assert!(html.contains(text), "{text}");
    }
    assert!(
        html.contains("value=\"alan@example.com\""),
        "login_hint pre-fills the email"
    );
}

#[tokio::test]
async fn picking_a_user_with_one_organization_goes_straight_back() {
    let emu = interactive().await;
    let (verifier, challenge) = pkce();
    let (html, action) = open(&emu, &challenge, &[]).await;
    let grace_id = {
        let i = html.find("grace@example.com").unwrap();
        let before = &html[..i];
        let start =
            before.rfind("name=\"user_id\" value=\"").unwrap() + "name=\"user_id\" value=\"".len();
        before[start..start + before[start..].find('"').unwrap()].to_owned()
    };
    let r = post(&emu, &action, &[("action", "pick"), ("user_id", &grace_id)]).await;
    let auth = redeem(&emu, r, &verifier).await;
    assert_eq!(auth["user"]["email"], "grace@example.com");
    assert_eq!(auth["authentication_method"], "GoogleOAuth");
    assert!(auth["organization_id"].is_string());

    // The request is used up.
    let r = post(&emu, &action, &[("action", "pick"), ("user_id", &grace_id)]).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_user_in_several_organizations_chooses_one() {
    let emu = interactive().await;
    let (verifier, challenge) = pkce();
    let (_, action) = open(&emu, &challenge, &[]).await;
    let r = post(
        &emu,
        &action,
        &[
            ("action", "password"),
            ("email", "ada@example.com"),
            ("password", "analytical-engine"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Choose an organization"));
    for name in ["Acme", "Globex", "Umbrella"] {
        assert!(html.contains(name));
    }
    let globex = {
        let i = html.find("Globex").unwrap();
        let before = &html[..i];
        let marker = "name=\"organization_id\" value=\"";
        let start = before.rfind(marker).unwrap() + marker.len();
        before[start..start + before[start..].find('"').unwrap()].to_owned()
    };
    let r = post(
        &emu,
        &action,
        &[
            ("action", "organization"),
            ("organization_id", "org_not_hers"),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = post(
        &emu,
        &action,
        &[("action", "organization"), ("organization_id", &globex)],
    )
    .await;
    let auth = redeem(&emu, r, &verifier).await;
    assert_eq!(auth["organization_id"], globex.as_str());
    assert_eq!(auth["authentication_method"], "Password");
    assert_eq!(
        claims(auth["access_token"].as_str().unwrap())["role"],
        "member"
    );
}

#[tokio::test]
async fn an_organization_asked_for_skips_the_choice() {
    let emu = interactive().await;
    let ada = {
        let auto = demo().await;
        sign_in(&auto, &[]).await
    };
    let umbrella = {
        let auto = demo().await;
        org_id_by_name(&auto, ada["user"]["id"].as_str().unwrap(), "Umbrella").await
    };
    let (verifier, challenge) = pkce();
    let (html, action) = open(&emu, &challenge, &[("organization_id", &umbrella)]).await;
    assert!(html.contains("to Umbrella"));
    let r = post(
        &emu,
        &action,
        &[
            ("action", "password"),
            ("email", "ada@example.com"),
            ("password", "analytical-engine"),
        ],
    )
    .await;
    let auth = redeem(&emu, r, &verifier).await;
    assert_eq!(auth["organization_id"], umbrella.as_str());

    // Grace is not in Umbrella: she is told so on the page.
    let (_, challenge) = pkce();
    let (_, action) = open(&emu, &challenge, &[("organization_id", &umbrella)]).await;
    let r = post(
        &emu,
        &action,
        &[
            ("action", "password"),
            ("email", "grace@example.com"),
            ("password", "cobol-rules"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("not a member of Umbrella"));
}

#[tokio::test]
async fn a_wrong_password_shows_an_error_and_allows_a_retry() {
    let emu = interactive().await;
    let (verifier, challenge) = pkce();
    let (_, action) = open(&emu, &challenge, &[]).await;
    for (email, password) in [
        ("alan@example.com", "nope"),
        ("nobody@example.com", "x"),
        ("alan@example.com", ""),
    ] {
        let r = post(
            &emu,
            &action,
            &[
                ("action", "password"),
                ("email", email),
                ("password", password),
            ],
        )
        .await;
        assert_eq!(r.status(), 401);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("The email or password is not right."));
    }
    let r = post(
        &emu,
        &action,
        &[
            ("action", "password"),
            ("email", "Alan@Example.com"),
            ("password", "enigma-machine"),
        ],
    )
    .await;
    let auth = redeem(&emu, r, &verifier).await;
    assert_eq!(auth["user"]["email"], "alan@example.com");
}

#[tokio::test]
async fn sign_up_creates_a_user() {
    let emu = interactive().await;
    let (verifier, challenge) = pkce();
    let (html, action) = open(&emu, &challenge, &[("screen_hint", "sign-up")]).await;
    assert!(html.contains("Create an account"));
    assert!(html.contains("value=\"sign_up\""));

    let r = post(
        &emu,
        &action,
        &[
            ("action", "sign_up"),
            ("email", "ada@example.com"),
            ("password", "x"),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("already exists"));
    let r = post(
        &emu,
        &action,
        &[
            ("action", "sign_up"),
            ("email", "not-an-email"),
            ("password", "x"),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);

    let r = post(
        &emu,
        &action,
        &[
            ("action", "sign_up"),
            ("email", "new@example.com"),
            ("password", "s3cret"),
            ("first_name", "New"),
            ("last_name", "Person"),
        ],
    )
    .await;
    let auth = redeem(&emu, r, &verifier).await;
    assert_eq!(auth["user"]["email"], "new@example.com");
    assert_eq!(auth["user"]["name"], "New Person");
    assert_eq!(auth["user"]["email_verified"], false);
    assert!(auth.get("organization_id").is_none());
    let id = auth["user"]["id"].as_str().unwrap();
    let fetched: Value = client()
        .get(format!("{}/user_management/users/{id}", emu.base_url()))
        .bearer_auth(emu.api_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["email"], "new@example.com");

    // The new user can sign in with the password afterwards.
    let (verifier, challenge) = pkce();
    let (_, action) = open(&emu, &challenge, &[]).await;
    let r = post(
        &emu,
        &action,
        &[
            ("action", "password"),
            ("email", "new@example.com"),
            ("password", "s3cret"),
        ],
    )
    .await;
    redeem(&emu, r, &verifier).await;
}

#[tokio::test]
async fn the_sign_up_and_sign_in_screens_link_to_each_other() {
    let emu = interactive().await;
    let (_, challenge) = pkce();
    let (_, action) = open(&emu, &challenge, &[]).await;
    let page = |screen: &'static str| {
        client()
            .get(format!("{}{action}?screen={screen}", emu.base_url()))
            .send()
    };
    let html = page("sign-up").await.unwrap().text().await.unwrap();
    assert!(html.contains("value=\"sign_up\""));
    let html = page("sign-in").await.unwrap().text().await.unwrap();
    assert!(html.contains("value=\"password\""));
    let r = client()
        .get(format!("{}/__emulator/sign-in/unknown", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn admins_can_impersonate_and_the_response_says_so() {
    let emu = interactive().await;
    let (verifier, challenge) = pkce();
    let (html, action) = open(&emu, &challenge, &[]).await;
    let admin_select = &html[html.find("name=\"admin_id\"").unwrap()..];
    let grace_id = value_of(admin_select, "<option value=\"").to_owned();
    let target = &html[html.find("id=\"target\"").unwrap()..];
    let alan_id = {
        let i = target.find(">alan@example.com<").unwrap();
        let before = &target[..i];
        let start = before.rfind("value=\"").unwrap() + "value=\"".len();
        before[start..start + before[start..].find('"').unwrap()].to_owned()
    };

    // Only users with can_impersonate may, and not themselves.
    let r = post(
        &emu,
        &action,
        &[
            ("action", "impersonate"),
            ("admin_id", &alan_id),
            ("user_id", &grace_id),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = post(
        &emu,
        &action,
        &[
            ("action", "impersonate"),
            ("admin_id", &grace_id),
            ("user_id", &grace_id),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);

    let r = post(
        &emu,
        &action,
        &[
            ("action", "impersonate"),
            ("admin_id", &grace_id),
            ("user_id", &alan_id),
            ("reason", "Ticket #7"),
        ],
    )
    .await;
    let auth = redeem(&emu, r, &verifier).await;
    assert_eq!(auth["user"]["email"], "alan@example.com");
    assert_eq!(
        auth["impersonator"],
        json!({"email": "grace@example.com", "reason": "Ticket #7"})
    );
    assert_eq!(auth["authentication_method"], "Impersonation");
    assert_eq!(
        claims(auth["access_token"].as_str().unwrap())["act"],
        json!({"sub": "grace@example.com"})
    );
}

#[tokio::test]
async fn cancel_returns_access_denied_with_the_state() {
    let emu = interactive().await;
    let (_, challenge) = pkce();
    let (_, action) = open(&emu, &challenge, &[]).await;
    let r = post(&emu, &action, &[("action", "cancel")]).await;
    assert_eq!(r.status(), 303);
    let q = location_query(&r);
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st*te~1");
    assert!(!q.contains_key("code"));
    let r = post(&emu, &action, &[("action", "pick")]).await;
    assert_eq!(r.status(), 400, "the request is gone after cancel");

    let (_, challenge) = pkce();
    let (_, action) = open(&emu, &challenge, &[]).await;
    for fields in [
        vec![("action", "dance")],
        vec![("action", "pick"), ("user_id", "user_nope")],
        vec![("action", "organization")],
    ] {
        assert_eq!(
            post(&emu, &action, &fields).await.status(),
            400,
            "{fields:?}"
        );
    }
}
