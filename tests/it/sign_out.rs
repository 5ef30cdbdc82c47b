//! Signing out (authkit-nextjs `signOut`), from the sign-out server function, a plain form
//! and the plain route, inside and outside the layer: the session and flow cookies are
//! deleted (with their domain, the host-only twin too, every part of a split session),
//! the browser is sent to WorkOS's logout URL for the session (or straight to a same-site
//! `return_to` without one), and no cookie of the session works afterwards — not an
//! older one, nor one the layer refreshed during the sign-out.

use crate::support::leptos_app::{leptos, leptos_default, refresh_with_a_page_load};
use crate::support::*;
use axum::body::Body;
use http::{header, Request, StatusCode};

#[tokio::test]
async fn sign_out_from_a_form_clears_cookies_and_ends_the_session() {
    let a = leptos_default().await;
    let cookie = a.sign_in().await;
    let session = unseal(&cookie);
    let response = a
        .send(
            Request::post("/api/authkit/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .header(
                    header::COOKIE,
                    format!("wos-session={cookie}; wos-auth-verifier-12345678=x"),
                )
                .body(Body::from("return_to=%2Fgoodbye"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookies = set_cookies(response.headers());
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("wos-session=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("wos-auth-verifier-12345678=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    let logout = location(&response);
    assert!(
        logout.starts_with(&format!(
            "{}/user_management/sessions/logout?",
            a.emulator.base_url()
        )),
        "{logout}"
    );
    let q = query_of(&logout);
    assert!(q["session_id"].starts_with("session_"));
    assert_eq!(q["return_to"], "http://localhost:3000/goodbye");
    // Following it ends the session at WorkOS and comes back.
    let back = http_client().get(&logout).send().await.unwrap();
    assert_eq!(back.status().as_u16(), 302);
    assert_eq!(back.headers()["location"], "http://localhost:3000/goodbye");
    let refresh = a
        .kit
        .client()
        .authenticate_with_refresh_token(session["refreshToken"].as_str().unwrap(), None)
        .await;
    assert_eq!(refresh.unwrap_err().error_code(), Some("invalid_grant"));
}

/// Without a session, signing out goes straight to `return_to`, reduced to this site.
#[tokio::test]
async fn sign_out_without_a_session_goes_straight_to_return_to() {
    let a = leptos_default().await;
    let response = a
        .send(
            Request::post("/api/authkit/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .body(Body::from("return_to=https%3A%2F%2Fevil.example%2Fx"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/x", "same-origin only");
    // A same-site return path keeps its query.
    let response = post_form(
        &a,
        "/api/authkit/sign-out",
        "return_to=%2Fsigned-out%3Fbye%3D1",
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/signed-out?bye=1");
}

#[tokio::test]
async fn the_plain_sign_out_route_works_without_leptos() {
    let a = leptos_default().await;
    let cookie = a.sign_in().await;
    let response = a
        .send(
            Request::post("/auth/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("wos-session={cookie}"))
                .body(Body::from("return_to=%2F"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("/user_management/sessions/logout?session_id=session_"));
}

#[tokio::test]
async fn sign_out_with_an_unreadable_cookie_deletes_it_and_goes_home() {
    let h = leptos_default().await;
    let response = post_form(&h, "/api/authkit/sign-out", "", Some("wos-session=foo")).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/");
    assert!(deletes_cookie(response.headers(), "wos-session"));
}

#[tokio::test]
async fn sign_out_deletes_the_cookie_with_its_domain() {
    let h = leptos(Options {
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
    let h = leptos_default().await;
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
    let h = leptos_default().await;
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

/// The sign-out server function on a route the layer does not cover reads the cookie
/// itself: the cookie is deleted and the WorkOS session ended.
#[tokio::test]
async fn sign_out_outside_the_layer_ends_the_session_at_workos() {
    let h = leptos(Options {
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
    assert_eq!(response.status(), StatusCode::FOUND);
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
    let h = leptos(Options {
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

/// With a cookie domain, signing out deletes the domain cookie and its host-only twin.
#[tokio::test]
async fn sign_out_with_a_cookie_domain_deletes_the_host_only_twin_too() {
    let h = Harness::with(Options {
        config: |c| c.cookie_domain("localhost"),
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    let response = h
        .send(
            Request::post("/auth/sign-out")
                .header(
                    header::COOKIE,
                    format!("wos-session=host-only-stale; wos-session={cookie}"),
                )
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("return_to=%2F"))
                .unwrap(),
        )
        .await;
    let deletions: Vec<String> = set_cookies(response.headers())
        .into_iter()
        .filter(|c| c.starts_with("wos-session=;") || c.starts_with("wos-session=\"\""))
        .collect();
    assert_eq!(deletions.len(), 2, "{deletions:?}");
    assert!(
        deletions.iter().any(|c| c.contains("Domain=localhost")),
        "{deletions:?}"
    );
    assert!(
        deletions.iter().any(|c| !c.contains("Domain=")),
        "{deletions:?}"
    );
    // The session found behind the stale twin was signed out at WorkOS.
    assert!(location(&response).contains("/user_management/sessions/logout?session_id="));
}

/// `<SignOutButton>` posts to the `sign_out` server function, which the layer covers: when
/// the layer refreshed the session in that very request, the cookie the browser sent must
/// stop working too (before, its remembered refresh kept it alive for 30 s after signing
/// out).
#[tokio::test]
async fn after_signing_out_neither_the_old_nor_the_refreshed_cookie_works() {
    let h = leptos_default().await;
    let expired = h.expired_session().await;
    let (status, _, response) = h
        .call("authkit/sign-out", "return_to=%2F", Some(&expired))
        .await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    assert_eq!(
        h.refresh_exchanges(),
        1,
        "the layer refreshed the expired session during the sign-out call"
    );
    assert!(deletes_cookie(response.headers(), "wos-session"));
    // The old cookie, presented again inside the 30 s grace period.
    let (_, json) = h.whoami("/dashboard", Some(&expired)).await;
    assert_eq!(json["user"], serde_json::Value::Null, "{json}");
}

/// A sign-out forgets every remembered refresh of the session, not only the one of the
/// cookie it was sent with: a cookie two rotations old stops working too.
#[tokio::test]
async fn after_signing_out_an_older_cookie_of_the_same_session_does_not_work() {
    let h = leptos_default().await;
    let c0 = h.expired_session().await;
    let (c1, _) = refresh_with_a_page_load(&h, &c0).await;
    // Signed out with the newer cookie (valid: no refresh in this request).
    let (status, _, _) = h.call("authkit/sign-out", "return_to=%2F", Some(&c1)).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    assert_eq!(h.refresh_exchanges(), 1);
    let (_, json) = h.whoami("/dashboard", Some(&c0)).await;
    assert_eq!(json["user"], serde_json::Value::Null, "{json}");
}

/// Signing out while WorkOS cannot refresh the session (a transient fault) still ends the
/// WorkOS session: the browser is sent to the logout URL with the cookie's session id.
#[tokio::test]
async fn sign_out_during_a_workos_outage_still_ends_the_workos_session() {
    use authkit_leptos::emulator::{Endpoint, Fault};
    let h = leptos_default().await;
    let expired = h.expired_session().await;
    let sid = token_claims(&expired)["sid"].as_str().unwrap().to_owned();
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(503).times(2));
    let response = h
        .send(
            http::Request::post("/api/authkit/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, format!("wos-session={expired}"))
                .body(axum::body::Body::from("return_to=%2F"))
                .unwrap(),
        )
        .await;
    let location = location(&response);
    assert!(
        location.contains("/user_management/sessions/logout?") && location.contains(&sid),
        "{location}"
    );
    assert!(deletes_cookie(response.headers(), "wos-session"));
}
