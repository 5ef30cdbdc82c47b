//! `refresh_session` and `switch_to_organization` from server functions (authkit-nextjs
//! `refreshSession` and `switchToOrganization`): the request and the cookie get the new
//! session, an organization that needs more (SSO, MFA enrollment) asks for a sign-in into
//! it, failures keep or clear the cookie as they should.

use crate::support::leptos_app::*;
use crate::support::*;
// Named explicitly: the Leptos prelude has a `location` too.
use crate::support::location;
use authkit_leptos::emulator::{Endpoint, Fault, Seed};
use authkit_leptos::AuthError;
use axum::body::Body;
use http::{Response, StatusCode};

/// Ada is in Acme (admin, where she lands), Globex (member), Umbrella (needs SSO) and
/// Initech (needs MFA enrollment); nobody is in Hooli.
const SEED: &str = "
users:
  - email: ada@example.com
    first_name: Ada
organizations:
  - id: org_acme
    name: Acme
    memberships: [{email: ada@example.com, role: admin}]
  - id: org_globex
    name: Globex
    memberships: [{email: ada@example.com, role: member}]
  - id: org_umbrella
    name: Umbrella
    switch_error: sso_required
    memberships: [{email: ada@example.com, role: viewer}]
  - id: org_initech
    name: Initech
    switch_error: mfa_enrollment
    memberships: [{email: ada@example.com, role: member}]
  - id: org_hooli
    name: Hooli
roles:
  - slug: admin
    permissions: [posts:read, posts:write]
  - slug: member
    permissions: [posts:read]
  - slug: viewer
    permissions: [posts:read]
";

async fn app() -> Harness {
    app_with(Options::default()).await
}

async fn app_with(options: Options) -> Harness {
    Harness::with_leptos(
        Options {
            seed: || Seed::from_yaml(SEED).expect("the test seed parses"),
            ..options
        },
        TestApp,
    )
    .await
}

async fn switch(
    h: &Harness,
    org: &str,
    cookie: &str,
) -> (StatusCode, serde_json::Value, Response<Body>) {
    h.call("switch", &format!("organization_id={org}"), Some(cookie))
        .await
}

#[tokio::test]
async fn refresh_session_signed_out_asks_to_sign_in_without_calling_workos() {
    let h = leptos_default().await;
    h.emulator.reset_counters();
    let (status, body, _) = h.call("refresh", "", None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert!(
        matches!(error, AuthError::SignInRequired { .. }),
        "{error:?}"
    );
    assert_eq!(h.authenticate_calls(), 0);
}

#[tokio::test]
async fn refresh_session_signed_out_returns_to_the_calling_page() {
    let h = leptos_default().await;
    let (_, body, _) = h.call("refresh", "", None).await;
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert_eq!(
        error.sign_in_url(),
        Some("/auth/sign-in?return_to=%2Fbilling%3Ftab%3D2")
    );
}

#[tokio::test]
async fn refresh_session_into_another_organization_changes_the_org_id() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    let current = token_claims(&cookie)["org_id"].as_str().unwrap().to_owned();
    let user_id = unseal(&cookie)["user"]["id"].as_str().unwrap().to_owned();
    let mut other = None;
    for m in h
        .kit
        .client()
        .list_organization_memberships(&user_id, None)
        .await
        .unwrap()
        .data
    {
        let org = h
            .kit
            .client()
            .get_organization(&m.organization_id)
            .await
            .unwrap();
        if org.name == "Globex" {
            other = Some(m.organization_id);
        }
    }
    let other = other.expect("Ada is in Globex");
    assert_ne!(other, current);
    let (status, body, response) = h
        .call(
            "refresh",
            &format!("organization_id={other}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0], other.as_str());
    let stored = cookie_value(&session_set_cookie(&response).unwrap()).to_owned();
    assert_eq!(token_claims(&stored)["org_id"], other.as_str());
}

#[tokio::test]
async fn refresh_session_reports_a_terminal_failure_and_clears_the_cookie() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    assert!(h
        .emulator
        .end_session(token_claims(&cookie)["sid"].as_str().unwrap()));
    let (status, body, response) = h.call("refresh", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert!(
        matches!(
            error,
            AuthError::Refresh {
                transient: false,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(deletes_cookie(response.headers(), "wos-session"));
}

#[tokio::test]
async fn refresh_session_reports_a_transient_failure_and_keeps_the_cookie() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(503));
    let (status, body, response) = h.call("refresh", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert!(
        matches!(
            error,
            AuthError::Refresh {
                transient: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        session_set_cookie(&response).is_none(),
        "the cookie is kept"
    );
}

/// `refresh_session(None)` refreshes once, into the same organization; later reads in the
/// same request and the cookie the layer writes hold the new session.
#[tokio::test]
async fn refresh_session_updates_the_request_and_the_cookie() {
    let a = leptos_default().await;
    let cookie = a.sign_in().await;
    let org = token_claims(&cookie)["org_id"].as_str().unwrap().to_owned();
    a.emulator.reset_counters();
    let (status, body, response) = a.call("refresh", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0], org.as_str(), "the organization is kept");
    assert_eq!(body[1], "ada@example.com");
    assert_eq!(a.refresh_exchanges(), 1);
    assert_ne!(body[2], body[3], "a new access token");
    let set = session_set_cookie(&response).expect("the layer writes the refreshed session");
    let new = unseal(
        set.strip_prefix("wos-session=")
            .unwrap()
            .split(';')
            .next()
            .unwrap(),
    );
    assert_eq!(new["accessToken"], body[3]);
}

#[tokio::test]
async fn switch_to_organization_refreshes_into_the_new_org() {
    let h = app().await;
    let cookie = h.sign_in().await;
    assert_eq!(token_claims(&cookie)["org_id"], "org_acme");
    h.emulator.reset_counters();
    let (status, body, response) = switch(&h, "org_globex", &cookie).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, serde_json::json!(["org_globex", "member"]));
    assert_eq!(h.refresh_exchanges(), 1);
    let stored = cookie_value(&session_set_cookie(&response).unwrap()).to_owned();
    assert_eq!(token_claims(&stored)["org_id"], "org_globex");
    assert_eq!(token_claims(&stored)["role"], "member");
}

#[tokio::test]
async fn switch_to_organization_signed_out_asks_to_sign_in() {
    let h = app().await;
    h.emulator.reset_counters();
    let (status, body, _) = h.call("switch", "organization_id=org_globex", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert!(
        matches!(error, AuthError::SignInRequired { .. }),
        "{error:?}"
    );
    assert_eq!(h.authenticate_calls(), 0);
}

/// Switching into an organization that needs more than the session has proven asks for a
/// new sign-in into that organization, and keeps the current session meanwhile.
macro_rules! switch_needs_reauthentication {
    ($($name:ident: $org:expr,)*) => {$(
        #[tokio::test]
        async fn $name() {
            let h = app().await;
            let cookie = h.sign_in().await;
            let (status, body, response) = switch(&h, $org, &cookie).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            let error: AuthError = serde_json::from_value(body).unwrap();
            assert!(matches!(error, AuthError::ReauthenticationRequired { .. }), "{error:?}");
            let url = error.sign_in_url().unwrap().to_owned();
            assert!(url.starts_with("/auth/sign-in?"), "{url}");
            assert_eq!(query_of(&url)["organization_id"], $org);
            assert!(session_set_cookie(&response).is_none(), "the session is kept");
            // Following the link signs in again, into that organization.
            let result = h.sign_in_with(&url).await;
            assert_eq!(result.status, StatusCode::TEMPORARY_REDIRECT);
            assert_eq!(token_claims(&result.session)["org_id"], $org);
        }
    )*};
}

switch_needs_reauthentication! {
    switching_into_an_sso_required_org_signs_in_again_into_it: "org_umbrella",
    switching_into_an_mfa_enrollment_org_signs_in_again_into_it: "org_initech",
}

#[tokio::test]
async fn switching_from_a_plain_form_redirects_to_the_reauthentication_link() {
    let h = app().await;
    let cookie = h.sign_in().await;
    let response = post_form(
        &h,
        "/api/switch",
        "organization_id=org_umbrella",
        Some(&format!("wos-session={cookie}")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let url = location(&response);
    assert!(url.starts_with("/auth/sign-in?"), "{url}");
    assert_eq!(query_of(&url)["organization_id"], "org_umbrella");
}

#[tokio::test]
async fn switching_follows_workos_authkit_redirect_url() {
    let h = app().await;
    let cookie = h.sign_in().await;
    h.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::status(400).body(serde_json::json!({
            "error": "sso_required",
            "error_description": "User must authenticate using one of the matching connections.",
            "authkit_redirect_url": "https://auth.example.com/sso?organization=org_globex",
        })),
    );
    let (status, body, _) = switch(&h, "org_globex", &cookie).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert_eq!(
        error,
        AuthError::ReauthenticationRequired {
            url: "https://auth.example.com/sso?organization=org_globex".into()
        }
    );
}

#[tokio::test]
async fn switching_into_an_org_the_user_is_not_in_fails_and_keeps_the_session() {
    let h = app().await;
    let cookie = h.sign_in().await;
    let (status, body, response) = switch(&h, "org_hooli", &cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let error: AuthError = serde_json::from_value(body).unwrap();
    assert!(matches!(error, AuthError::Refresh { .. }), "{error:?}");
    assert!(
        session_set_cookie(&response).is_none(),
        "asking for the wrong organization does not sign the user out"
    );
    let (_, who) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(who["organization_id"], "org_acme");
    // An organization that does not exist: the same terminal error, not a crash.
    let (status, body, response) = switch(&h, "org_nope", &cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(serde_json::from_value::<AuthError>(body).is_ok());
    assert!(session_set_cookie(&response).is_none());
}
