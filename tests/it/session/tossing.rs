//! Cookies someone else put in the browser (#23 item 3: cookie tossing) and cookies left
//! from before a cookie domain was configured (#23 item 6).
//!
//! Whoever can set a cookie on the parent domain (any sibling subdomain, or a network
//! attacker answering for an `http://` sibling) can plant a `wos-session` (or parts of
//! one) that the browser sends beside the user's own. The layer never lets one of two
//! sessions win: two candidates that unseal to different users or sessions leave the
//! request signed out, with one warning and no `Set-Cookie` over either; junk parts beside
//! a split session are stepped over, never a reason to delete the user's cookies. The
//! `__Host-` prefix (for the session and the flow cookies, validated at start-up) is the
//! cure: no sibling can set such a cookie.

use crate::support::capture;
use crate::support::*;
use authkit_leptos::emulator::Endpoint;
use axum::body::Body;
use http::{header, Request, Response, StatusCode};
use std::time::Duration;

/// `value` split into two parts, as a `Cookie` header (`wos-session.0=…; wos-session.1=…`).
fn split(value: &str) -> String {
    let (a, b) = value.split_at(value.len() / 2);
    format!("wos-session.0={a}; wos-session.1={b}")
}

/// The sealed session of `email`, signed in through the real flow.
async fn session_of(h: &Harness, email: &str) -> String {
    authkit_leptos::testing::sign_in(&h.app, &h.kit, email)
        .await
        .expect("signed in")
        .value()
        .to_owned()
}

/// `GET /dashboard` (a page) with this `Cookie` header: the response and what the page saw.
async fn page(h: &Harness, cookie: &str) -> (Response<Body>, serde_json::Value) {
    let response = h
        .send(
            Request::get("/dashboard")
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let (parts, body) = response.into_parts();
    let json = serde_json::from_str(&body_text(Response::new(body)).await).unwrap();
    (Response::from_parts(parts, Body::empty()), json)
}

/// Every `Set-Cookie` of the response for the session cookie or one of its parts.
fn session_writes<B>(response: &Response<B>) -> Vec<String> {
    set_cookies(response.headers())
        .into_iter()
        .filter(|c| c.starts_with("wos-session"))
        .collect()
}

/// Two valid sessions of different users in one request (the user's own and one tossed
/// onto the parent domain), in either order, plain or beside a split session: signed out
/// for that request, one warning each, and no `Set-Cookie` over either — not even when
/// the planted one is due for a refresh, which never reaches WorkOS.
#[tokio::test]
async fn two_users_sessions_in_one_request_sign_nobody_in_and_set_nothing() {
    let log = capture::install();
    let h = Harness::new().await;
    let ada = h.sign_in().await;
    let grace = session_of(&h, "grace@example.com").await;
    h.emulator.set_token_ttl(Duration::ZERO);
    let grace_expired = session_of(&h, "grace@example.com").await;
    h.emulator.set_token_ttl(Duration::from_secs(300));
    h.emulator.reset_counters();
    let cases = [
        format!("wos-session={ada}; wos-session={grace}"),
        format!("wos-session={grace}; wos-session={ada}"),
        format!("wos-session={grace}; {}", split(&ada)),
        format!("{}; wos-session={grace}", split(&ada)),
        format!("wos-session={grace_expired}; wos-session={ada}"),
        format!("{}; wos-session={grace_expired}", split(&ada)),
    ];
    for cookie in &cases {
        let (response, json) = page(&h, cookie).await;
        assert_eq!(response.status(), StatusCode::OK, "{cookie:.40}");
        assert_eq!(
            json["user"],
            serde_json::Value::Null,
            "{cookie:.40}: {json}"
        );
        assert!(
            session_writes(&response).is_empty(),
            "{cookie:.40}: {:?}",
            session_writes(&response)
        );
    }
    assert_eq!(
        h.refresh_exchanges(),
        0,
        "the planted session was not refreshed"
    );
    assert_eq!(h.emulator.counters().get(Endpoint::Authenticate), 0);
    let text = log.lock().unwrap().clone();
    let warnings = text
        .lines()
        .filter(|l| l.starts_with("WARN") && l.contains("different sessions"))
        .count();
    assert_eq!(warnings, cases.len(), "{text}");
    assert!(
        !text.contains(&ada) && !text.contains(&grace),
        "no cookie in the log"
    );
}

/// Two copies of one session (a host-only and a domain copy, one refreshed later) are not
/// a conflict: the user stays signed in.
#[tokio::test]
async fn two_copies_of_one_session_are_no_conflict() {
    let h = Harness::new().await;
    let old = h.expired_session().await;
    let (response, _) = h.whoami("/dashboard", Some(&old)).await;
    let refreshed = cookie_value(&session_set_cookie(&response).expect("refreshed")).to_owned();
    for cookie in [
        format!("wos-session={old}; wos-session={refreshed}"),
        format!("wos-session={refreshed}; wos-session={old}"),
        format!("wos-session={refreshed}; {}", split(&old)),
    ] {
        let (response, json) = page(&h, &cookie).await;
        assert_eq!(json["email"], "ada@example.com", "{cookie:.40}");
        assert!(
            !set_cookies(response.headers())
                .iter()
                .any(|c| c.contains("Max-Age=0")),
            "{cookie:.40}"
        );
    }
}

/// Junk parts tossed beside a split session — a part after the last one, a copy of a part
/// the browser sends first, a junk plain cookie — are stepped over: the user stays signed
/// in and none of the user's cookies is deleted.
#[tokio::test]
async fn junk_parts_tossed_beside_a_split_session_never_sign_the_user_out() {
    let h = Harness::new().await;
    let ada = h.sign_in().await;
    let (a, b) = ada.split_at(ada.len() / 2);
    for cookie in [
        format!("wos-session.0={a}; wos-session.1={b}; wos-session.2=junk"),
        format!("wos-session.0={a}; wos-session.1={b}; wos-session.2=Fe26.2*1*x~2"),
        format!("wos-session.1=junk; wos-session.0={a}; wos-session.1={b}"),
        format!("wos-session.0=junk; wos-session.0={a}; wos-session.1={b}"),
        format!("wos-session.0=junk; wos-session.1=junk; wos-session.0={a}; wos-session.1={b}"),
        format!("wos-session.0={a}; wos-session.1={b}; wos-session.3=junk"),
        format!("wos-session=junk; wos-session.0={a}; wos-session.1={b}"),
    ] {
        let (response, json) = page(&h, &cookie).await;
        assert_eq!(json["email"], "ada@example.com", "{cookie:.60}: {json}");
        assert!(
            session_writes(&response).is_empty(),
            "{cookie:.60}: {:?}",
            session_writes(&response)
        );
    }
}

/// After `WORKOS_COOKIE_DOMAIN` is configured, signing in deletes the host-only session
/// cookie and host-only parts set before it, so an old session never sits beside (or
/// beats) the new one.
#[tokio::test]
async fn signing_in_after_a_cookie_domain_is_configured_deletes_the_host_only_cookies() {
    let h = Harness::with(Options {
        config: |c| c.cookie_domain("localhost"),
        ..Options::default()
    })
    .await;
    let old = h.sign_in().await;
    let flow = h.flow("/auth/sign-in").await;
    let cookie = format!(
        "{}; wos-session={old}; wos-session.0=a; wos-session.1=b",
        flow.verifier_pair
    );
    let response = h
        .send(
            Request::get(format!(
                "/callback?code={}&state={}",
                flow.code,
                url::form_urlencoded::byte_serialize(flow.state.as_bytes()).collect::<String>()
            ))
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let writes = session_writes(&response);
    assert!(
        writes
            .iter()
            .any(|c| c.starts_with("wos-session=Fe26.2") && c.contains("Domain=localhost")),
        "{writes:?}"
    );
    for name in ["wos-session", "wos-session.0", "wos-session.1"] {
        assert!(
            writes.iter().any(|c| c.starts_with(&format!("{name}=;"))
                && c.contains("Max-Age=0")
                && !c.contains("Domain=")),
            "no host-only deletion of {name}: {writes:?}"
        );
    }
}

/// The layer too: a refresh after `WORKOS_COOKIE_DOMAIN` is configured deletes the
/// host-only cookie and the host-only parts the browser sent.
#[tokio::test]
async fn a_refresh_after_a_cookie_domain_is_configured_deletes_the_host_only_parts() {
    let h = Harness::with(Options {
        config: |c| c.cookie_domain("localhost"),
        ..Options::default()
    })
    .await;
    let expired = h.expired_session().await;
    let (response, json) = page(&h, &split(&expired)).await;
    assert_eq!(json["email"], "ada@example.com");
    let writes = session_writes(&response);
    assert!(
        writes
            .iter()
            .any(|c| c.starts_with("wos-session=Fe26.2") && c.contains("Domain=localhost")),
        "{writes:?}"
    );
    for name in ["wos-session", "wos-session.0", "wos-session.1"] {
        assert!(
            writes.iter().any(|c| c.starts_with(&format!("{name}=;"))
                && c.contains("Max-Age=0")
                && !c.contains("Domain=")),
            "no host-only deletion of {name}: {writes:?}"
        );
    }
}

/// `__Host-` names for the session and the flow cookies (`WORKOS_COOKIE_NAME`,
/// `WORKOS_FLOW_COOKIE_NAME`): the start route sets `__Host-wos-auth-verifier-<hash>` and
/// the callback `__Host-wos-session`, both `Secure; Path=/` without `Domain` (else the
/// browser drops them), and the layer reads the session by that name.
#[tokio::test]
async fn host_prefixed_names_work_end_to_end() {
    let emulator = authkit_leptos::emulator::Emulator::builder()
        .seed(authkit_leptos::emulator::Seed::demo().unwrap())
        .auto_approve_as("ada@example.com")
        .start()
        .await
        .unwrap();
    let api = url::Url::parse(emulator.base_url()).unwrap();
    let port = api.port().unwrap().to_string();
    let redirect_uri = "https://app.example.com/callback";
    emulator.register_redirect_uri(redirect_uri);
    let vars = [
        ("WORKOS_CLIENT_ID", emulator.client_id().to_owned()),
        ("WORKOS_API_KEY", emulator.api_key().to_owned()),
        ("WORKOS_API_HOSTNAME", api.host_str().unwrap().to_owned()),
        ("WORKOS_API_HTTPS", "false".to_owned()),
        ("WORKOS_API_PORT", port),
        ("WORKOS_REDIRECT_URI", redirect_uri.to_owned()),
        ("WORKOS_COOKIE_PASSWORD", PASSWORD.to_owned()),
        ("WORKOS_COOKIE_NAME", "__Host-wos-session".to_owned()),
        (
            "WORKOS_FLOW_COOKIE_NAME",
            "__Host-wos-auth-verifier".to_owned(),
        ),
    ];
    let config = authkit_leptos::AuthKitConfig::from_vars(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let kit = authkit_leptos::AuthKit::new(config).unwrap();
    let app = test_routes()
        .merge(kit.routes())
        .layer(kit.layer().matcher(["/", "/dashboard/:path*"]).unwrap());
    let h = Harness {
        emulator,
        kit,
        app,
        user: "ada@example.com",
    };

    let start = h
        .send(
            Request::get("/auth/sign-in?return_to=%2Fdashboard")
                .header(header::HOST, "app.example.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(start.status(), StatusCode::FOUND);
    let authorize = location(&start);
    let flow_cookie = set_cookies(start.headers())
        .into_iter()
        .find(|c| c.starts_with("__Host-wos-auth-verifier-"))
        .unwrap_or_else(|| panic!("{:?}", set_cookies(start.headers())));
    assert!(
        flow_cookie.contains("; Path=/;")
            && flow_cookie.ends_with("; Secure")
            && !flow_cookie.contains("Domain="),
        "{flow_cookie}"
    );
    let back = http_client().get(&authorize).send().await.unwrap();
    let back = back.headers()["location"].to_str().unwrap().to_owned();
    let q = query_of(&back);
    let response = h
        .send(
            Request::get(format!(
                "/callback?code={}&state={}",
                q["code"],
                url::form_urlencoded::byte_serialize(q["state"].as_bytes()).collect::<String>()
            ))
            .header(header::COOKIE, flow_cookie.split(';').next().unwrap())
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let session = set_cookie_named(response.headers(), "__Host-wos-session").expect("a session");
    assert!(
        session.contains("; Path=/;")
            && session.ends_with("; Secure")
            && !session.contains("Domain="),
        "{session}"
    );
    let response = h
        .send(
            Request::get("/dashboard")
                .header(header::COOKIE, session.split(';').next().unwrap())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let json: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(json["email"], "ada@example.com");
}
