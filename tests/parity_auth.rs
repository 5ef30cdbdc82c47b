//! authkit-nextjs `auth.spec` ported: sign-in / sign-up links, `switchToOrganization`
//! and `signOut`, called from Leptos server functions and plain forms through the real
//! router, against the emulator. `tests/PARITY.md` maps every nextjs case.

mod authkit_support;

use authkit_leptos::emulator::{Endpoint, Fault, Seed};
use authkit_leptos::testing::FlowState;
use authkit_leptos::{AuthError, SignInOptions};
use authkit_support::*;
// Named explicitly: the Leptos prelude has a `location` too.
use authkit_support::location;
use axum::body::Body;
use http::{header, Request, Response, StatusCode};
use leptos::prelude::*;
use leptos_router::components::{Route, Router as LeptosRouter, Routes};
use leptos_router::path;

// ------------------------------------------------------------------ the Leptos app

#[server(prefix = "/api", endpoint = "links")]
async fn links_fn(
    return_to: Option<String>,
    organization_id: Option<String>,
    prompt: Option<String>,
) -> Result<(String, String), AuthError> {
    let options = SignInOptions {
        return_to,
        organization_id,
        prompt,
        ..Default::default()
    };
    Ok((
        authkit_leptos::get_sign_in_url(options.clone()).await?,
        authkit_leptos::get_sign_up_url(options).await?,
    ))
}

/// Switches, then checks a later `with_auth` in the same request sees the new org.
#[server(prefix = "/api", endpoint = "switch")]
async fn switch_fn(organization_id: String) -> Result<(Option<String>, Option<String>), AuthError> {
    let switched = authkit_leptos::switch_to_organization(&organization_id).await?;
    let later = authkit_leptos::with_auth().await?;
    assert_eq!(later.organization_id, switched.organization_id);
    Ok((switched.organization_id, switched.role))
}

#[component]
fn TestApp() -> impl IntoView {
    view! {
        <LeptosRouter>
            <Routes fallback=|| "not found">
                <Route path=path!("/page/home") view=|| "home" />
            </Routes>
        </LeptosRouter>
    }
}

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

/// The sign-in and sign-up links `links_fn` returns for these form arguments.
async fn links(h: &Harness, args: &str) -> (String, String) {
    let (status, body, response) = h.call("links", args, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        set_cookies(response.headers()).is_empty(),
        "making a link sets no cookie"
    );
    (
        body[0].as_str().unwrap().to_owned(),
        body[1].as_str().unwrap().to_owned(),
    )
}

/// Follows a same-origin sign-in link to the start route and returns the authorization
/// URL it redirects to.
async fn follow(h: &Harness, link: &str) -> url::Url {
    let response = h.get(link, None).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{link}");
    url::Url::parse(&location(&response)).expect("an absolute authorization URL")
}

fn sealed_return_path(h: &Harness, authorize: &url::Url) -> Option<String> {
    let state = query_of(authorize.as_str())["state"].clone();
    FlowState::unseal(&state, h.kit.config())
        .unwrap()
        .return_pathname
}

async fn switch(
    h: &Harness,
    org: &str,
    cookie: &str,
) -> (StatusCode, serde_json::Value, Response<Body>) {
    h.call("switch", &format!("organization_id={org}"), Some(cookie))
        .await
}

/// Posts a form to `path` as a browser without JavaScript would.
async fn post_form(h: &Harness, path: &str, body: &str, cookie: Option<&str>) -> Response<Body> {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    h.send(request.body(Body::from(body.to_owned())).unwrap())
        .await
}

// ================================================================== getSignInUrl

#[tokio::test]
async fn get_sign_in_url_leads_to_a_valid_authorize_url() {
    let h = app().await;
    let (sign_in, _) = links(&h, "").await;
    assert_eq!(sign_in, "/auth/sign-in");
    let authorize = follow(&h, &sign_in).await;
    assert_eq!(
        &authorize[..url::Position::AfterPath],
        format!("{}/user_management/authorize", h.emulator.base_url())
    );
    let q = query_of(authorize.as_str());
    assert_eq!(q["client_id"], h.emulator.client_id());
    assert_eq!(q["redirect_uri"], REDIRECT_URI);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["screen_hint"], "sign-in");
}

#[tokio::test]
async fn get_sign_in_url_carries_the_organization_to_workos() {
    let h = app().await;
    let (sign_in, _) = links(&h, "organization_id=org_123").await;
    let authorize = follow(&h, &sign_in).await;
    assert_eq!(query_of(authorize.as_str())["organization_id"], "org_123");
}

#[tokio::test]
async fn get_sign_in_url_seals_return_to_in_the_state() {
    let h = app().await;
    let (sign_in, _) = links(&h, "return_to=%2Fdashboard").await;
    let authorize = follow(&h, &sign_in).await;
    assert_eq!(
        sealed_return_path(&h, &authorize).as_deref(),
        Some("/dashboard")
    );
}

#[tokio::test]
async fn get_sign_in_url_sends_no_prompt_by_default() {
    let h = app().await;
    let (sign_in, _) = links(&h, "").await;
    assert!(!sign_in.contains("prompt="));
    let authorize = follow(&h, &sign_in).await;
    assert!(!query_of(authorize.as_str()).contains_key("prompt"));
}

#[tokio::test]
async fn get_sign_in_url_forwards_prompt_consent() {
    let h = app().await;
    let (sign_in, _) = links(&h, "prompt=consent").await;
    let authorize = follow(&h, &sign_in).await;
    assert_eq!(query_of(authorize.as_str())["prompt"], "consent");
}

#[tokio::test]
async fn a_sign_in_link_is_same_origin_and_keeps_a_hostile_return_to_local() {
    let h = app().await;
    let (sign_in, _) = links(&h, "return_to=https%3A%2F%2Fevil.example%2Fsteal").await;
    assert!(sign_in.starts_with("/auth/sign-in?"), "{sign_in}");
    let authorize = follow(&h, &sign_in).await;
    assert_eq!(
        sealed_return_path(&h, &authorize).as_deref(),
        Some("/steal")
    );
}

// ================================================================== getSignUpUrl

#[tokio::test]
async fn get_sign_up_url_leads_to_the_sign_up_screen() {
    let h = app().await;
    let (_, sign_up) = links(&h, "").await;
    assert_eq!(sign_up, "/auth/sign-up");
    let authorize = follow(&h, &sign_up).await;
    assert_eq!(query_of(authorize.as_str())["screen_hint"], "sign-up");
}

#[tokio::test]
async fn get_sign_up_url_sends_no_prompt_by_default() {
    let h = app().await;
    let (_, sign_up) = links(&h, "").await;
    let authorize = follow(&h, &sign_up).await;
    assert!(!query_of(authorize.as_str()).contains_key("prompt"));
}

#[tokio::test]
async fn get_sign_up_url_forwards_prompt_consent() {
    let h = app().await;
    let (_, sign_up) = links(&h, "prompt=consent").await;
    let authorize = follow(&h, &sign_up).await;
    assert_eq!(query_of(authorize.as_str())["prompt"], "consent");
    assert_eq!(query_of(authorize.as_str())["screen_hint"], "sign-up");
}

#[tokio::test]
async fn get_sign_up_url_seals_return_to_in_the_state() {
    let h = app().await;
    let (_, sign_up) = links(&h, "return_to=%2Fwelcome").await;
    let authorize = follow(&h, &sign_up).await;
    assert_eq!(
        sealed_return_path(&h, &authorize).as_deref(),
        Some("/welcome")
    );
}

// ================================================================== switchToOrganization

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
            let result = h.sign_in_at(&url).await;
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
}

// ================================================================== signOut

#[tokio::test]
async fn sign_out_with_an_unreadable_cookie_deletes_it_and_goes_home() {
    let h = app().await;
    let response = post_form(&h, "/api/authkit/sign-out", "", Some("wos-session=foo")).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/");
    assert!(deletes_cookie(response.headers(), "wos-session"));
}

#[tokio::test]
async fn sign_out_deletes_the_cookie_with_its_domain() {
    let h = app_with(Options {
        config: |c| c.cookie_domain("example.com"),
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    let response = post_form(
        &h,
        "/api/authkit/sign-out",
        "",
        Some(&format!("wos-session={cookie}")),
    )
    .await;
    assert_eq!(
        session_set_cookie(&response).as_deref(),
        Some("wos-session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Domain=example.com")
    );
}

#[tokio::test]
async fn sign_out_clears_legacy_and_per_flow_verifier_cookies_only() {
    let h = app().await;
    let cookie = h.sign_in().await;
    let response = post_form(
        &h,
        "/api/authkit/sign-out",
        "",
        Some(&format!(
            "wos-session={cookie}; wos-auth-verifier=legacy-state; wos-auth-verifier-a1b2c3d4=flow-a; wos-auth-verifier-deadbeef=flow-b; unrelated-cookie=keep-me"
        )),
    )
    .await;
    for name in [
        "wos-session",
        "wos-auth-verifier",
        "wos-auth-verifier-a1b2c3d4",
        "wos-auth-verifier-deadbeef",
    ] {
        assert!(deletes_cookie(response.headers(), name), "{name} deleted");
    }
    assert!(set_cookie_named(response.headers(), "unrelated-cookie").is_none());
}

#[tokio::test]
async fn sign_out_return_to_reaches_the_logout_url_as_a_same_site_url() {
    let h = app().await;
    let cookie = h.sign_in().await;
    let sid = token_claims(&cookie)["sid"].as_str().unwrap().to_owned();
    let response = post_form(
        &h,
        "/api/authkit/sign-out",
        "return_to=https%3A%2F%2Fexample.com%2Fsigned-out",
        Some(&format!("wos-session={cookie}")),
    )
    .await;
    let logout = location(&response);
    assert!(logout.starts_with(&format!(
        "{}/user_management/sessions/logout?",
        h.emulator.base_url()
    )));
    let q = query_of(&logout);
    assert_eq!(q["session_id"], sid);
    assert_eq!(q["return_to"], "http://localhost:3000/signed-out");
}

#[tokio::test]
async fn sign_out_without_a_session_returns_to_a_same_site_path() {
    let h = app().await;
    let response = post_form(
        &h,
        "/api/authkit/sign-out",
        "return_to=%2Fsigned-out%3Fbye%3D1",
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/signed-out?bye=1");
}

#[tokio::test]
async fn sign_out_outside_the_layer_ends_the_session_at_workos() {
    let h = app_with(Options {
        layer: |l| l.without_server_fns(),
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    let session = unseal(&cookie);
    let response = post_form(
        &h,
        "/api/authkit/sign-out",
        "",
        Some(&format!("wos-session={cookie}")),
    )
    .await;
    assert!(deletes_cookie(response.headers(), "wos-session"));
    let logout = location(&response);
    assert_eq!(
        query_of(&logout)["session_id"],
        token_claims(&cookie)["sid"].as_str().unwrap()
    );
    let back = http_client().get(&logout).send().await.unwrap();
    assert_eq!(back.status().as_u16(), 302);
    let refused = h
        .kit
        .client()
        .authenticate_with_refresh_token(session["refreshToken"].as_str().unwrap(), None)
        .await
        .unwrap_err();
    assert_eq!(refused.error_code(), Some("invalid_grant"));
}

#[tokio::test]
async fn sign_out_outside_the_layer_with_a_bad_cookie_still_deletes_it() {
    let h = app_with(Options {
        layer: |l| l.without_server_fns(),
        ..Options::default()
    })
    .await;
    let response = post_form(
        &h,
        "/api/authkit/sign-out",
        "return_to=%2Fbye",
        Some("wos-session=dummy-value"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/bye");
    assert!(deletes_cookie(response.headers(), "wos-session"));
}
