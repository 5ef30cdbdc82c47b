//! The session during SSR: a page that needs a user redirects to sign in (keeping its path
//! and query, to the sign-up screen on a sign-up path), a refresh during the render signs
//! the page in and is visible to server functions of the same request, and a render never
//! sets a flow cookie.

use crate::support::leptos_app::*;
use crate::support::*;
// Named explicitly: the Leptos prelude has a `location` too.
use crate::support::location;
use authkit_leptos::emulator::Endpoint;
use authkit_leptos::testing::FlowState;
use http::StatusCode;
use std::time::Duration;

#[tokio::test]
async fn a_protected_page_redirects_during_ssr_keeping_path_and_query() {
    let a = leptos_default().await;
    let (response, body) = a.page("/page/protected?tab=2&x=%C3%A9", None).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{body}");
    assert_eq!(
        location(&response),
        "/auth/sign-in?return_to=%2Fpage%2Fprotected%3Ftab%3D2%26x%3D%25C3%25A9"
    );
    assert!(!body.contains("Hello"), "no protected content");
    // Following the link seals the path and query into the flow's state.
    let start = a.get(&location(&response), None).await;
    let state = FlowState::unseal(&query_of(&location(&start))["state"], a.kit.config()).unwrap();
    assert_eq!(
        state.return_pathname.as_deref(),
        Some("/page/protected?tab=2&x=%C3%A9")
    );
    let cookie = a.sign_in().await;
    let (response, body) = a.page("/page/protected", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("Hello, ada@example.com!"), "{body}");
}

#[tokio::test]
async fn a_refresh_during_ssr_is_visible_to_server_functions_in_the_same_request() {
    let a = leptos_default().await;
    a.emulator.set_token_ttl(Duration::ZERO);
    let cookie = a.sign_in().await;
    a.emulator.set_token_ttl(Duration::from_secs(300));
    a.emulator.reset_counters();
    let (response, body) = a.page("/page/whoami", Some(&cookie)).await;
    assert!(body.contains("signed in as ada@example.com"), "{body}");
    assert_eq!(
        a.emulator.counters().get(Endpoint::Authenticate),
        1,
        "one refresh, by the layer"
    );
    assert_eq!(a.refresh_exchanges(), 1);
    let set = session_set_cookie(&response).expect("the refreshed cookie is written");
    assert_ne!(set, format!("wos-session={cookie}"));
}

#[tokio::test]
async fn ensure_signed_in_redirects_when_the_sealed_user_does_not_match_the_token() {
    let h = leptos_default().await;
    let forged = forged_user(&h.sign_in().await);
    let (response, body) = h.page("/page/protected", Some(&forged)).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{body}");
    assert_eq!(
        location(&response),
        "/auth/sign-in?return_to=%2Fpage%2Fprotected"
    );
    assert!(!body.contains("Hello"), "no protected content: {body}");
    assert!(
        deletes_cookie(response.headers(), "wos-session"),
        "the forged cookie is deleted"
    );
}

#[tokio::test]
async fn ensure_signed_in_on_a_sign_up_path_opens_the_sign_up_screen() {
    let h = leptos(Options {
        layer: |l| l.sign_up_paths(["/page/join"]).unwrap(),
        ..Options::default()
    })
    .await;
    let (response, _) = h.page("/page/join", None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let sign_up = location(&response);
    assert_eq!(sign_up, "/auth/sign-up?return_to=%2Fpage%2Fjoin");
    let start = h.get(&sign_up, None).await;
    assert_eq!(query_of(&location(&start))["screen_hint"], "sign-up");
    // Other pages still open the sign-in screen.
    let (response, _) = h.page("/page/protected", None).await;
    assert!(location(&response).starts_with("/auth/sign-in?"));
}

#[tokio::test]
async fn a_signed_out_page_render_sets_no_flow_cookie() {
    let h = leptos_default().await;
    let (response, body) = h.page("/page/whoami", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("signed out"), "{body}");
    assert!(set_cookies(response.headers()).is_empty());
    // Even a page that needs a user only links to the start route.
    let (response, _) = h.page("/page/protected", None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(location(&response).starts_with("/auth/sign-in?"));
    assert!(set_cookies(response.headers()).is_empty());
}

#[tokio::test]
async fn a_failed_refresh_on_a_protected_page_redirects_and_deletes_the_cookie() {
    let h = leptos_default().await;
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let (response, body) = h.page("/page/protected", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{body}");
    assert_eq!(
        location(&response),
        "/auth/sign-in?return_to=%2Fpage%2Fprotected"
    );
    assert!(deletes_cookie(response.headers(), "wos-session"));
}
