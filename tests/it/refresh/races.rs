//! Concurrent and late requests: requests holding the same expired cookie share one
//! exchange and get the same new session, also a late one with the old cookie, and a
//! refresh chained inside the grace period hands out the newest session of the chain.

use crate::support::leptos_app::{leptos_default, organization_id, refresh_with_a_page_load};
use crate::support::*;
use http::StatusCode;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_requests_share_one_refresh() {
    let h = Arc::new(Harness::new().await);
    let cookie = Arc::new(h.expired_session().await);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let h = Arc::clone(&h);
        let cookie = Arc::clone(&cookie);
        tasks.push(tokio::spawn(async move {
            let path = if i % 2 == 0 { "/" } else { "/dashboard/a" };
            let (response, body) = h.whoami(path, Some(&cookie)).await;
            (session_set_cookie(&response), body["email"].clone())
        }));
    }
    let mut new_cookies = std::collections::HashSet::new();
    for t in tasks {
        let (set, email) = t.await.unwrap();
        assert_eq!(email, "ada@example.com");
        new_cookies.insert(set.expect("every response carries the new cookie"));
    }
    assert_eq!(h.authenticate_calls(), 1, "exactly one upstream refresh");
    assert_eq!(new_cookies.len(), 1, "everyone got the same new session");
}

#[tokio::test]
async fn a_late_request_with_the_old_cookie_gets_the_same_new_session() {
    let h = Harness::new().await;
    let cookie = h.expired_session().await;
    let (first, _) = h.whoami("/", Some(&cookie)).await;
    // The browser sent this one before it saw the new cookie.
    let (second, body) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(
        body["email"], "ada@example.com",
        "not signed out by invalid_grant"
    );
    assert_eq!(session_set_cookie(&first), session_set_cookie(&second));
    assert_eq!(h.authenticate_calls(), 1);
}

/// A refresh chained inside the grace period (an organization switch on a cookie another
/// request just refreshed): a late request still holding the original cookie gets the
/// newest session, never the intermediate one whose refresh token is already spent.
#[tokio::test]
async fn late_holders_of_an_old_cookie_get_the_newest_session_in_the_chain() {
    let h = leptos_default().await;
    let c0 = h.expired_session().await;
    // Request A refreshes c0 → c1 (Acme).
    let (c1, json) = refresh_with_a_page_load(&h, &c0).await;
    let acme = json["organization_id"].as_str().unwrap().to_owned();
    // Request B switches c1 into Globex (c1's refresh token is spent by it).
    let globex = organization_id(&h, &c1, "Globex").await;
    let (status, json, _) = h
        .call(
            "authkit/switch-organization",
            &format!("organization_id={globex}"),
            Some(&c1),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    // A late request with c0: the newest session (Globex), with a live refresh token.
    let (response, json) = h.whoami("/dashboard", Some(&c0)).await;
    assert_eq!(
        json["organization_id"],
        globex.as_str(),
        "not {acme}: {json}"
    );
    let handed =
        cookie_value(&session_set_cookie(&response).expect("a cookie for the late request"))
            .to_owned();
    let refresh_token = unseal(&handed)["refreshToken"].as_str().unwrap().to_owned();
    let spent = unseal(&c1)["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(refresh_token, spent, "never a spent refresh token");
    assert_eq!(h.refresh_exchanges(), 2, "no exchange for the late request");
}
