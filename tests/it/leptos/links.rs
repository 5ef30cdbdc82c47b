//! The sign-in and sign-up links from server functions (authkit-nextjs `getSignInUrl` and
//! `getSignUpUrl`): same-origin start routes (no cookie while rendering) that lead to a
//! valid authorization URL with the options, the prompt and the return path sealed in the
//! state.

use crate::support::leptos_app::leptos_default;
use crate::support::*;
// Named explicitly: the Leptos prelude has a `location` too.
use crate::support::location;
use authkit_leptos::testing::FlowState;
use http::StatusCode;

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

#[tokio::test]
async fn get_sign_in_url_leads_to_a_valid_authorize_url() {
    let h = leptos_default().await;
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
    let h = leptos_default().await;
    let (sign_in, _) = links(&h, "organization_id=org_123").await;
    let authorize = follow(&h, &sign_in).await;
    assert_eq!(query_of(authorize.as_str())["organization_id"], "org_123");
    // With a return path and a login hint too: one same-origin link carrying all three.
    let (sign_in, sign_up) = links(
        &h,
        "return_to=%2Fbilling%3Ftab%3D1&organization_id=org_123&login_hint=ada%40example.com",
    )
    .await;
    assert_eq!(
        sign_in,
        "/auth/sign-in?return_to=%2Fbilling%3Ftab%3D1&organization_id=org_123&login_hint=ada%40example.com"
    );
    assert!(sign_up.starts_with("/auth/sign-up?"), "{sign_up}");
}

#[tokio::test]
async fn get_sign_in_url_seals_return_to_in_the_state() {
    let h = leptos_default().await;
    let (sign_in, _) = links(&h, "return_to=%2Fdashboard").await;
    let authorize = follow(&h, &sign_in).await;
    assert_eq!(
        sealed_return_path(&h, &authorize).as_deref(),
        Some("/dashboard")
    );
}

#[tokio::test]
async fn get_sign_in_url_sends_no_prompt_by_default() {
    let h = leptos_default().await;
    let (sign_in, _) = links(&h, "").await;
    assert!(!sign_in.contains("prompt="));
    let authorize = follow(&h, &sign_in).await;
    assert!(!query_of(authorize.as_str()).contains_key("prompt"));
}

#[tokio::test]
async fn get_sign_in_url_forwards_prompt_consent() {
    let h = leptos_default().await;
    let (sign_in, _) = links(&h, "prompt=consent").await;
    let authorize = follow(&h, &sign_in).await;
    assert_eq!(query_of(authorize.as_str())["prompt"], "consent");
}

#[tokio::test]
async fn a_sign_in_link_is_same_origin_and_keeps_a_hostile_return_to_local() {
    let h = leptos_default().await;
    let (sign_in, _) = links(&h, "return_to=https%3A%2F%2Fevil.example%2Fsteal").await;
    assert!(sign_in.starts_with("/auth/sign-in?"), "{sign_in}");
    let authorize = follow(&h, &sign_in).await;
    assert_eq!(
        sealed_return_path(&h, &authorize).as_deref(),
        Some("/steal")
    );
}

#[tokio::test]
async fn get_sign_up_url_leads_to_the_sign_up_screen() {
    let h = leptos_default().await;
    let (_, sign_up) = links(&h, "").await;
    assert_eq!(sign_up, "/auth/sign-up");
    let authorize = follow(&h, &sign_up).await;
    assert_eq!(query_of(authorize.as_str())["screen_hint"], "sign-up");
}

#[tokio::test]
async fn get_sign_up_url_sends_no_prompt_by_default() {
    let h = leptos_default().await;
    let (_, sign_up) = links(&h, "").await;
    let authorize = follow(&h, &sign_up).await;
    assert!(!query_of(authorize.as_str()).contains_key("prompt"));
}

#[tokio::test]
async fn get_sign_up_url_forwards_prompt_consent() {
    let h = leptos_default().await;
    let (_, sign_up) = links(&h, "prompt=consent").await;
    let authorize = follow(&h, &sign_up).await;
    assert_eq!(query_of(authorize.as_str())["prompt"], "consent");
    assert_eq!(query_of(authorize.as_str())["screen_hint"], "sign-up");
}

#[tokio::test]
async fn get_sign_up_url_seals_return_to_in_the_state() {
    let h = leptos_default().await;
    let (_, sign_up) = links(&h, "return_to=%2Fwelcome").await;
    let authorize = follow(&h, &sign_up).await;
    assert_eq!(
        sealed_return_path(&h, &authorize).as_deref(),
        Some("/welcome")
    );
}
