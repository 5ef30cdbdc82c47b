//! WorkOS answers to the code exchange that ask for one more step (#26 item 6): a user in
//! several organizations gets the organization picker and signs in to the one they
//! choose with WorkOS's organization-selection grant, keeping the return path; the
//! pending token stays sealed in this browser's cookie, so the page alone, another
//! browser's cookie or a forged one achieve nothing; email verification and MFA get a page
//! that says what to do, with a typed error code — never "Couldn't sign you in".

use crate::support::callback::{callback_request, code_exchanges, send_with};
use crate::support::*;
use authkit_leptos::emulator::{GrantType, MfaStep, Requirement, Seed, SeedUser};
use authkit_leptos::{CallbackErrorCode, CallbackOptions};
use axum::body::Body;
use axum::response::IntoResponse;
use http::{header, Request, StatusCode};

/// The demo seed, with Ada (Acme, Globex, Umbrella) choosing her organization at the
/// app, Eve needing email verification and Mo an MFA challenge.
fn seed() -> Seed {
    let mut seed = Seed::demo().expect("the demo seed parses");
    for user in &mut seed.users {
        if user.email == "ada@example.com" {
            user.organization_selection = Some(Requirement::Required);
        }
    }
    seed.user(SeedUser::new("eve@example.com").email_verification_required())
        .user(SeedUser::new("mo@example.com").mfa(MfaStep::Challenge))
        .user(SeedUser::new("nia@example.com").mfa(MfaStep::Enrollment))
}

async fn harness() -> Harness {
    Harness::with(Options {
        seed,
        ..Options::default()
    })
    .await
}

/// The callback's answer to a flow started at `start`, with the flow cookie: response
/// and body.
async fn callback(h: &Harness, start: &str) -> (http::Response<Body>, String) {
    let flow = h.flow(start).await;
    let uri = format!(
        "{}?code={}&state={}",
        h.kit.callback_path(),
        url::form_urlencoded::byte_serialize(flow.code.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(flow.state.as_bytes()).collect::<String>()
    );
    let response = h
        .send(
            Request::get(uri.as_str())
                .header(header::COOKIE, flow.verifier_pair)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let (parts, body) = response.into_parts();
    let text = body_text(http::Response::from_parts(parts.clone(), body)).await;
    (http::Response::from_parts(parts, Body::empty()), text)
}

/// The `name=value` pair of the pending-choice cookie the picker set.
fn select_cookie(response: &http::Response<Body>) -> String {
    let set = set_cookie_named(response.headers(), "wos-auth-verifier-select")
        .expect("the pending choice's cookie");
    set.split(';').next().unwrap().to_owned()
}

/// The form key of the picker's forms (all share it).
fn form_key(html: &str) -> String {
    let at = html.find("name=\"form_key\" value=\"").expect("a form key") + 23;
    html[at..].split('"').next().unwrap().to_owned()
}

/// The organization id of the button labelled `name`.
fn organization_in(html: &str, name: &str) -> String {
    let button = html.find(&format!(">{name}</button>")).expect("the button");
    let form = html[..button]
        .rfind("name=\"organization_id\" value=\"")
        .unwrap()
        + 30;
    html[form..].split('"').next().unwrap().to_owned()
}

async fn choose(
    h: &Harness,
    organization_id: &str,
    key: &str,
    cookie: Option<&str>,
) -> http::Response<Body> {
    let mut request = Request::post(h.kit.callback_path())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    h.send(
        request
            .body(Body::from(format!(
                "organization_id={organization_id}&form_key={key}"
            )))
            .unwrap(),
    )
    .await
}

fn selections(h: &Harness) -> u64 {
    h.emulator
        .counters()
        .grant(GrantType::OrganizationSelection)
}

/// `organization_selection_required` renders the picker — every organization of WorkOS's
/// answer, each a POST form to the callback — and no session; the pending token is in a
/// sealed `HttpOnly` cookie, not in the page; the page has no inline style or script.
#[tokio::test]
async fn organization_selection_shows_the_organizations() {
    let h = harness().await;
    let (response, html) = callback(&h, "/auth/sign-in?return_to=%2Fdashboard%3Ftab%3D2").await;
    assert_eq!(response.status(), StatusCode::OK, "{html}");
    assert!(session_set_cookie(&response).is_none(), "no session yet");
    for name in ["Acme", "Globex", "Umbrella"] {
        assert!(
            html.contains(&format!(">{name}</button>")),
            "{name}: {html}"
        );
    }
    assert!(html.contains("Choose an organization"), "{html}");
    assert!(!html.contains("Couldn't sign you in"), "{html}");
    assert!(html.contains("class=\"authkit-org-list\""), "{html}");
    assert!(
        html.contains("<form method=\"post\" action=\"/callback\">"),
        "{html}"
    );
    assert!(
        !html.contains("<style") && !html.contains("style=") && !html.contains("<script"),
        "no inline style or script: {html}"
    );
    let set = set_cookie_named(response.headers(), "wos-auth-verifier-select").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("Max-Age=600"),
        "{set}"
    );
    assert!(cookie_value(&set).starts_with("Fe26.2*"), "sealed: {set}");
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "private, no-cache, no-store, must-revalidate, max-age=0"
    );
    assert_eq!(code_exchanges(&h), 1);
    assert_eq!(selections(&h), 0);
}

/// Choosing an organization completes the sign-in with the organization-selection grant:
/// a session in that organization, the flow's return path, the pending cookie deleted. The
/// same post again (a replay) is refused cleanly and reaches WorkOS no more.
#[tokio::test]
async fn choosing_an_organization_signs_in_there_and_keeps_the_return_path() {
    let h = harness().await;
    let (response, html) = callback(&h, "/auth/sign-in?return_to=%2Fdashboard%3Ftab%3D2").await;
    let cookie = select_cookie(&response);
    let globex = organization_in(&html, "Globex");
    let key = form_key(&html);

    let chosen = choose(&h, &globex, &key, Some(&cookie)).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&chosen),
        "http://localhost:3000/dashboard?tab=2",
        "the return path is kept"
    );
    assert!(deletes_cookie(chosen.headers(), "wos-auth-verifier-select"));
    let session = cookie_value(&session_set_cookie(&chosen).expect("a session")).to_owned();
    assert_eq!(token_claims(&session)["org_id"], globex.as_str());
    let (_, me) = h.whoami("/dashboard", Some(&session)).await;
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["organization_id"], globex.as_str());
    assert_eq!(selections(&h), 1);

    let replay = choose(&h, &globex, &key, Some(&cookie)).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(session_set_cookie(&replay).is_none());
    assert_eq!(selections(&h), 1, "a replay never reaches WorkOS");
}

/// What another browser could get hold of is useless there: the page's form (key and
/// organization ids) without the cookie, its own pending cookie with this page's key, or
/// a forged cookie — each is refused cleanly, reaches no WorkOS grant, sets no session.
/// A post from another site is refused too. The user's own choice still works after.
#[tokio::test]
async fn a_pending_choice_cannot_be_replayed_from_another_browser() {
    let h = harness().await;
    let (response, html) = callback(&h, "/auth/sign-in").await;
    let cookie = select_cookie(&response);
    let acme = organization_in(&html, "Acme");
    let key = form_key(&html);
    // Another browser's own pending choice (its own sign-in as Ada).
    let (other, _) = callback(&h, "/auth/sign-in").await;
    let other_cookie = select_cookie(&other);
    let forged = "wos-auth-verifier-select=Fe26.2*1*forged*x*y*z*w*v~2".to_owned();
    for (what, cookie) in [
        ("no cookie", None),
        ("another browser's cookie", Some(other_cookie.as_str())),
        ("a forged cookie", Some(forged.as_str())),
    ] {
        let r = choose(&h, &acme, &key, cookie).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{what}");
        assert!(session_set_cookie(&r).is_none(), "{what}");
        let text = body_text(r).await;
        assert!(text.contains("Sign in again"), "{what}: {text}");
    }
    let cross_site = h
        .send(
            Request::post(h.kit.callback_path())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, "https://evil.example")
                .header(header::COOKIE, cookie.clone())
                .body(Body::from(format!("organization_id={acme}&form_key={key}")))
                .unwrap(),
        )
        .await;
    assert_eq!(cross_site.status(), StatusCode::BAD_REQUEST);
    assert!(session_set_cookie(&cross_site).is_none());
    assert_eq!(selections(&h), 0, "nothing reached the grant");

    let mine = choose(&h, &acme, &key, Some(&cookie)).await;
    assert_eq!(mine.status(), StatusCode::SEE_OTHER);
    assert!(session_set_cookie(&mine).is_some());
    assert_eq!(selections(&h), 1);
}

/// `email_verification_required` gets a page that says what to do (403, no session), and
/// `on_error` sees the typed code.
#[tokio::test]
async fn email_verification_gets_a_page_that_says_what_to_do() {
    let h = harness().await;
    let (response, html) = callback(&h, "/auth/sign-in?login_hint=eve%40example.com").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(session_set_cookie(&response).is_none());
    assert!(html.contains("Verify your email address"), "{html}");
    assert!(html.contains("verified before you can sign in"), "{html}");
    assert!(
        html.contains("href=\"/auth/sign-in\">Sign in again"),
        "{html}"
    );
    assert!(html.contains("email_verification_required"), "{html}");
    assert!(!html.contains("Couldn't sign you in"), "{html}");
    assert!(
        !html.contains("<style") && !html.contains("style="),
        "no inline style: {html}"
    );

    let flow = h.flow("/auth/sign-in?login_hint=eve%40example.com").await;
    let options = CallbackOptions::default()
        .on_error(|e| (StatusCode::IM_A_TEAPOT, e.code.as_str().to_owned()).into_response());
    let response = send_with(
        &h,
        options,
        callback_request(
            Some(&flow.code),
            Some(&flow.state),
            Some(&flow.verifier_pair),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(
        body_text(response).await,
        CallbackErrorCode::EmailVerificationRequired.as_str()
    );
}

/// The MFA answers (`mfa_challenge`, `mfa_enrollment`) get their own page too.
#[tokio::test]
async fn mfa_answers_get_a_page_that_says_what_to_do() {
    let h = harness().await;
    for user in ["mo%40example.com", "nia%40example.com"] {
        let (response, html) = callback(&h, &format!("/auth/sign-in?login_hint={user}")).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{user}");
        assert!(session_set_cookie(&response).is_none());
        assert!(html.contains("Two-step verification needed"), "{html}");
        assert!(html.contains("mfa_required"), "{html}");
        assert!(!html.contains("Couldn't sign you in"), "{html}");
    }
}

/// A public client (no API key) cannot send the grant: its picker's buttons start a new
/// sign-in into the chosen organization (same return path), and no token is kept.
#[tokio::test]
async fn a_keyless_app_offers_a_new_sign_in_per_organization() {
    let h = Harness::with(Options {
        seed,
        config: |c| c.without_api_key(),
        ..Options::default()
    })
    .await;
    let (response, html) = callback(&h, "/auth/sign-in?return_to=%2Fdashboard").await;
    assert_eq!(response.status(), StatusCode::OK, "{html}");
    assert!(set_cookie_named(response.headers(), "wos-auth-verifier-select").is_none());
    let at = html.find("href=\"/auth/sign-in?").expect("a sign-in link") + 6;
    let link = html[at..].split('"').next().unwrap().replace("&amp;", "&");
    let q = query_of(&link);
    assert_eq!(q["return_to"], "/dashboard");
    assert!(q["organization_id"].starts_with("org_"), "{link}");
    // Following it signs in to that organization.
    let result = h.sign_in_with(&link).await;
    assert_eq!(result.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        token_claims(&result.session)["org_id"],
        q["organization_id"].as_str()
    );
}

/// WorkOS's pending token is a credential: it is in the sealed cookie only — not in the
/// picker's HTML, not in the log of the whole flow (picker, a refused post, the choice).
#[tokio::test]
async fn the_pending_token_is_in_no_page_and_no_log() {
    let log = crate::support::capture::install();
    let h = harness().await;
    let (response, html) = callback(&h, "/auth/sign-in").await;
    let cookie = select_cookie(&response);
    let sealed = cookie.split_once('=').unwrap().1;
    let pending =
        authkit_leptos::seal::unseal_json(sealed, &authkit_leptos::PasswordMap::single(PASSWORD))
            .expect("the pending choice unseals with the cookie password");
    let token = pending["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 16, "{token}");
    assert!(!html.contains(&token), "the page holds the token: {html}");
    let acme = organization_in(&html, "Acme");
    let refused = choose(&h, &acme, "wrong-key", Some(&cookie)).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let chosen = choose(&h, &acme, &form_key(&html), Some(&cookie)).await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    let text = log.lock().unwrap().clone();
    assert!(
        text.contains("organization"),
        "the log saw the flow: {text}"
    );
    assert!(!text.contains(&token), "the token is in the log: {text}");
}
