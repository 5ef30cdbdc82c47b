//! The Leptos components through real leptos_axum SSR, the AuthKit layer and the emulator:
//! `<Protected>` / `<GuardedRoute>` redirects in every `SsrMode` and under `<Suspense>` /
//! `<ErrorBoundary>`, requirements with their 403 fallback, the provider's snapshot in the
//! HTML (never a token), the gates, and the components' server functions.

use crate::support::leptos_app::organization_id;
use crate::support::{location, unseal, Harness, Options};
use authkit_leptos::{
    AuthKitProvider, Entitlement, FeatureFlag, GuardedRoute, Protected, RequirePermission,
    RequireRole, SignInLink, SignUpLink,
};
use http::{header, StatusCode};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

const SECRET: &str = "PROTECTED-MARKUP";

#[component]
fn Secret() -> impl IntoView {
    view! { <p class="secret">{SECRET}</p> }
}

/// A blocking resource below the guard, as real pages have.
#[server(prefix = "/api", endpoint = "components-test/echo")]
async fn echo() -> Result<String, authkit_leptos::AuthError> {
    Ok("echo".to_owned())
}

/// `ensure_signed_in` in a server function (for the cache-header test).
#[server(prefix = "/api", endpoint = "components-test/ensure")]
async fn ensure() -> Result<String, authkit_leptos::AuthError> {
    Ok(authkit_leptos::ensure_signed_in().await?.user.email)
}

#[component]
fn SecretWithData() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| echo());
    view! {
        <Suspense fallback=|| "loading">
            {move || Suspend::new(async move { data.await.map(|d| view! { <Secret /> <span>{d}</span> }) })}
        </Suspense>
    }
}

fn app() -> impl IntoView {
    view! {
        <AuthKitProvider>
            <Router>
                <Routes fallback=|| "not found">
                    <Route path=path!("/page/out-of-order") view=|| view! { <Protected><Secret /></Protected> } />
                    <Route path=path!("/page/in-order") ssr=SsrMode::InOrder view=|| view! { <Protected><Secret /></Protected> } />
                    <Route path=path!("/page/async") ssr=SsrMode::Async view=|| view! { <Protected><Secret /></Protected> } />
                    <Route path=path!("/page/partially-blocked") ssr=SsrMode::PartiallyBlocked view=|| view! { <Protected><Secret /></Protected> } />
                    <Route
                        path=path!("/page/suspense-above")
                        view=|| view! { <Suspense fallback=|| "loading"><Protected><Secret /></Protected></Suspense> }
                    />
                    <Route
                        path=path!("/page/error-boundary-above")
                        view=|| view! { <ErrorBoundary fallback=|_| "error"><Protected><Secret /></Protected></ErrorBoundary> }
                    />
                    <Route
                        path=path!("/page/suspense-below")
                        view=|| view! { <Protected><SecretWithData /></Protected> }
                    />
                    <Route
                        path=path!("/page/suspense-below-in-order")
                        ssr=SsrMode::InOrder
                        view=|| view! { <Protected><SecretWithData /></Protected> }
                    />
                    <Route
                        path=path!("/page/error-boundary-below")
                        view=|| view! { <Protected><ErrorBoundary fallback=|_| "error"><SecretWithData /></ErrorBoundary></Protected> }
                    />
                    <GuardedRoute path=path!("/page/route") view=Secret />
                    <GuardedRoute path=path!("/page/route-in-order") view=Secret ssr=SsrMode::InOrder />
                    <GuardedRoute path=path!("/page/route-async") view=Secret ssr=SsrMode::Async />
                    <GuardedRoute path=path!("/page/route-partially-blocked") view=Secret ssr=SsrMode::PartiallyBlocked />
                    <Route
                        path=path!("/page/admin")
                        view=|| view! { <Protected permission="members:manage"><Secret /></Protected> }
                    />
                    <GuardedRoute
                        path=path!("/page/admin-route")
                        view=Secret
                        role="admin"
                        fallback=|| view! { <p id="custom-fallback">"Admins only"</p> }
                    />
                    <Route path=path!("/page/sign-up-first") view=|| view! { <Protected sign_up=true><Secret /></Protected> } />
                    <Route path=path!("/uncovered") view=|| view! { <Protected><Secret /></Protected> } />
                    <Route path=path!("/page/gates") view=Gates />
                </Routes>
            </Router>
        </AuthKitProvider>
    }
}

#[component]
fn Gates() -> impl IntoView {
    view! {
        <FeatureFlag flag="new-feature" fallback=|| "flag-off">"flag-on"</FeatureFlag>
        " | "
        <RequirePermission permission="members:manage" fallback=|| "perm-off">"perm-on"</RequirePermission>
        " | "
        <RequireRole role="admin" fallback=|| "role-off">"role-on"</RequireRole>
        " | "
        <Entitlement entitlement="audit-logs" fallback=|| "ent-off">"ent-on"</Entitlement>
        " | "
        <SignInLink />
        <SignUpLink return_to="/page/welcome" />
    }
}

const GUARDED: [&str; 13] = [
    "/page/out-of-order",
    "/page/in-order",
    "/page/async",
    "/page/partially-blocked",
    "/page/suspense-above",
    "/page/error-boundary-above",
    "/page/suspense-below",
    "/page/suspense-below-in-order",
    "/page/error-boundary-below",
    "/page/route",
    "/page/route-in-order",
    "/page/route-async",
    "/page/route-partially-blocked",
];

async fn harness_as(email: &'static str) -> Harness {
    Harness::with_leptos(
        Options {
            auto_approve_as: email,
            ..Options::default()
        },
        app,
    )
    .await
}

fn header_text(response: &http::Response<axum::body::Body>, name: header::HeaderName) -> String {
    response
        .headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test]
async fn signed_out_document_requests_get_a_302_in_every_ssr_mode_with_no_protected_markup() {
    let h = harness_as("ada@example.com").await;
    for path in GUARDED {
        let (response, html) = h.page(&format!("{path}?tab=2&x=a%20b"), None).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{path}: {html}");
        let return_to =
            url::form_urlencoded::byte_serialize(format!("{path}?tab=2&x=a%20b").as_bytes())
                .collect::<String>();
        assert_eq!(
            location(&response),
            format!("/auth/sign-in?return_to={return_to}"),
            "{path}"
        );
        assert!(!html.contains(SECRET), "{path} leaked its markup: {html}");
        let cache = header_text(&response, header::CACHE_CONTROL);
        assert!(
            cache.contains("private") && cache.contains("no-store"),
            "{path}: {cache}"
        );
        assert!(
            header_text(&response, header::VARY).contains("Cookie"),
            "{path}"
        );
    }
    // Sign-up instead of sign-in when asked.
    let (response, _) = h.page("/page/sign-up-first", None).await;
    assert_eq!(
        location(&response),
        "/auth/sign-up?return_to=%2Fpage%2Fsign-up-first"
    );
}

#[tokio::test]
async fn a_garbage_cookie_is_signed_out_too() {
    let h = harness_as("ada@example.com").await;
    let (response, html) = h.page("/page/out-of-order", Some("Fe26.2*garbage")).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(!html.contains(SECRET));
}

#[tokio::test]
async fn signed_in_users_see_the_page_and_the_html_holds_no_token() {
    let h = harness_as("ada@example.com").await;
    let cookie = h.sign_in().await;
    let session = unseal(&cookie);
    let access_token = session["accessToken"].as_str().unwrap().to_owned();
    let refresh_token = session["refreshToken"].as_str().unwrap().to_owned();
    for path in GUARDED {
        let (response, html) = h.page(path, Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}: {html}");
        assert!(html.contains(SECRET), "{path}: {html}");
        assert!(
            !html.contains(&access_token),
            "{path}: the access token is in the HTML"
        );
        assert!(
            !html.contains(&refresh_token),
            "{path}: the refresh token is in the HTML"
        );
        assert!(
            !html.contains(&cookie),
            "{path}: the sealed cookie is in the HTML"
        );
        // The snapshot the browser hydrates from is in the page.
        assert!(html.contains("ada@example.com"), "{path}");
    }
}

#[tokio::test]
async fn a_signed_in_user_without_a_requirement_gets_the_fallback_and_403_not_a_redirect() {
    // Alan is a member (not admin) of Acme: no members:manage, no admin role.
    let h = harness_as("alan@example.com").await;
    let cookie = h.sign_in().await;
    let (response, html) = h.page("/page/admin", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get(header::LOCATION).is_none());
    assert!(html.contains("Access denied"), "{html}");
    assert!(!html.contains(SECRET));
    let (response, html) = h.page("/page/admin-route", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(html.contains("Admins only"), "{html}");
    assert!(!html.contains(SECRET));

    // Ada is an admin of Acme.
    let h = harness_as("ada@example.com").await;
    let cookie = h.sign_in().await;
    for path in ["/page/admin", "/page/admin-route"] {
        let (response, html) = h.page(path, Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(html.contains(SECRET), "{path}");
    }
}

#[tokio::test]
async fn a_guard_on_a_path_the_layer_does_not_cover_says_so_instead_of_looping() {
    let h = harness_as("ada@example.com").await;
    let cookie = h.sign_in().await;
    let (response, html) = h.page("/uncovered", Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(html.contains("does not cover"), "{html}");
    assert!(!html.contains(SECRET));
}

#[tokio::test]
async fn gates_render_from_the_snapshot() {
    // Ada in Acme: admin, new-feature on, audit-logs entitlement.
    let h = harness_as("ada@example.com").await;
    let cookie = h.sign_in().await;
    let (_, html) = h.page("/page/gates", Some(&cookie)).await;
    for on in ["flag-on", "perm-on", "role-on", "ent-on"] {
        assert!(html.contains(on), "{on}: {html}");
    }
    // Alan in Acme: member; the flag and entitlement are the organization's.
    let h = harness_as("alan@example.com").await;
    let cookie = h.sign_in().await;
    let (_, html) = h.page("/page/gates", Some(&cookie)).await;
    for expected in ["flag-on", "perm-off", "role-off", "ent-on"] {
        assert!(html.contains(expected), "{expected}: {html}");
    }
    // Signed out: every gate is closed, and the sign-in links return here.
    let (_, html) = h.page("/page/gates?a=1", None).await;
    for off in ["flag-off", "perm-off", "role-off", "ent-off"] {
        assert!(html.contains(off), "{off}: {html}");
    }
    assert!(
        html.contains(r#"href="/auth/sign-in?return_to=%2Fpage%2Fgates%3Fa%3D1""#),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/auth/sign-up?return_to=%2Fpage%2Fwelcome""#),
        "{html}"
    );
    assert!(html.contains(r#"rel="external""#), "{html}");
}

#[tokio::test]
async fn the_components_server_functions_answer_without_leaking_tokens_where_they_should_not() {
    let h = harness_as("ada@example.com").await;
    let cookie = h.sign_in().await;
    let session = unseal(&cookie);
    let access_token = session["accessToken"].as_str().unwrap();
    let refresh_token = session["refreshToken"].as_str().unwrap();

    // The snapshot: the session without a token.
    let (status, json, _) = h.call("authkit/snapshot", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["user"]["email"], "ada@example.com");
    assert_eq!(json["covered"], true);
    assert_eq!(json["config"]["sign_in_path"], "/auth/sign-in");
    let text = json.to_string();
    assert!(!text.contains(access_token) && !text.contains(refresh_token));
    let (_, json, _) = h.call("authkit/snapshot", "", None).await;
    assert_eq!(json["user"], serde_json::Value::Null);

    // The access token: for the browser's own API calls (never in the HTML).
    let (status, json, _) = h.call("authkit/access-token", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["token"], access_token);
    let expires_in = json["expires_in"].as_u64().unwrap();
    assert!((200..=300).contains(&expires_in), "{expires_in}");
    assert!(!json.to_string().contains(refresh_token));
    let (_, json, _) = h.call("authkit/access-token", "", None).await;
    assert_eq!(json, serde_json::Value::Null);

    // The organizations Ada can switch to, and a switch.
    let (status, json, _) = h.call("authkit/organizations", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme", "Globex", "Umbrella"]);
    let globex = json
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Globex")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, json, response) = h
        .call(
            "authkit/switch-organization",
            &format!("organization_id={globex}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let new_cookie = crate::support::cookie_value(
        &crate::support::session_set_cookie(&response).expect("a new session cookie"),
    )
    .to_owned();
    let (_, json, _) = h.call("authkit/snapshot", "", Some(&new_cookie)).await;
    assert_eq!(json["organization_id"], globex.as_str());
    assert_eq!(json["role"], "member");
    assert!(!json["feature_flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "new-feature"));

    // Umbrella wants SSO: a re-authentication URL the browser may follow (same origin).
    let umbrella = organization_id(&h, &new_cookie, "Umbrella").await;
    let (status, json, _) = h
        .call(
            "authkit/switch-organization",
            &format!("organization_id={umbrella}"),
            Some(&new_cookie),
        )
        .await;
    // `401`, not the `500` Leptos gives any `Err` (a refusal, not a server fault).
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        json["ReauthenticationRequired"]["url"].is_string(),
        "{json}"
    );
}

/// Middleware-auth mode lets the components' own reads through for signed-out visitors
/// (else the provider's refresh on focus would send every visitor of a public page to sign
/// in); everything else still needs a session.
#[tokio::test]
async fn middleware_auth_lets_the_components_reads_answer_signed_out() {
    let h = Harness::with_leptos(
        Options {
            layer: |l| l.middleware_auth(["/"]).unwrap(),
            ..Options::default()
        },
        app,
    )
    .await;
    let (status, json, _) = h.call("authkit/snapshot", "", None).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["user"], serde_json::Value::Null);
    let (status, json, _) = h.call("authkit/access-token", "", None).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json, serde_json::Value::Null);
    let (status, json, _) = h.call("authkit/organizations", "", None).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let (status, json, _) = h
        .call("authkit/switch-organization", "organization_id=org_1", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{json}");
    assert!(json["SignInRequired"]["sign_in_url"].is_string(), "{json}");
}

/// While WorkOS cannot refresh a session (a transient fault), the snapshot read answers an
/// error, which the provider ignores: the page keeps showing the user instead of
/// `<Protected>` sending them to sign in. Once WorkOS answers, the read works again.
#[tokio::test]
async fn the_snapshot_read_is_an_error_not_signed_out_while_workos_is_down() {
    use authkit_leptos::emulator::{Endpoint, Fault};
    let h = harness_as("ada@example.com").await;
    let expired = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(503).times(2));
    let (status, json, response) = h.call("authkit/snapshot", "", Some(&expired)).await;
    assert_ne!(status, StatusCode::OK, "{json}");
    assert_eq!(json["Refresh"]["transient"], true, "{json}");
    assert!(
        !crate::support::deletes_cookie(response.headers(), "wos-session"),
        "the cookie stays"
    );
    h.emulator.clear_faults();
    let (status, json, _) = h.call("authkit/snapshot", "", Some(&expired)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["user"]["email"], "ada@example.com");
}

/// Every response whose status or body depends on the session is private and varies by
/// cookie, also without a cookie: the redirect `ensure_signed_in` answers a signed-out
/// form post with, and a signed-out page that read the session (a cache that ignores
/// cookies would otherwise replay them to signed-in users).
#[tokio::test]
async fn signed_out_responses_that_depend_on_the_session_are_never_publicly_cacheable() {
    let h = harness_as("ada@example.com").await;
    let response = h
        .send(
            http::Request::post("/api/components-test/ensure")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .header(header::REFERER, "http://localhost:3000/page/gates")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(location(&response).starts_with("/auth/sign-in?"));
    for (path, response) in [
        ("ensure_signed_in", response),
        ("/page/gates", h.page("/page/gates", None).await.0),
    ] {
        let cache = header_text(&response, header::CACHE_CONTROL);
        assert!(
            cache.contains("private") && cache.contains("no-store"),
            "{path}: {cache}"
        );
        assert!(
            header_text(&response, header::VARY).contains("Cookie"),
            "{path}"
        );
    }
}

/// Switching organization (and any refresh or save of the session) from another site is
/// refused, as sign-out is: a forged form post cannot change anyone's session.
#[tokio::test]
async fn a_cross_site_switch_is_refused() {
    let h = harness_as("ada@example.com").await;
    let cookie = h.sign_in().await;
    let globex = organization_id(&h, &cookie, "Globex").await;
    let post = |site: (&'static str, &'static str)| {
        http::Request::post("/api/authkit/switch-organization")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, format!("wos-session={cookie}"))
            .header(site.0, site.1)
            .body(axum::body::Body::from(format!("organization_id={globex}")))
            .unwrap()
    };
    for forged in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let response = h.send(post(forged)).await;
        assert_ne!(response.status(), StatusCode::OK, "{forged:?}");
        assert!(
            crate::support::session_set_cookie(&response).is_none(),
            "{forged:?}"
        );
        let body = crate::support::body_text(response).await;
        assert!(
            body.contains("cross-site request refused"),
            "{forged:?}: {body}"
        );
    }
    for own in [
        ("origin", "http://localhost:3000"),
        ("sec-fetch-site", "same-origin"),
    ] {
        let response = h.send(post(own)).await;
        assert_eq!(response.status(), StatusCode::OK, "{own:?}");
    }
}

/// What WorkOS answered (its message, request id, status line) stays in the server's log:
/// the browser gets only whether the failure is temporary.
#[tokio::test]
async fn workos_failures_reach_the_browser_without_workos_diagnostics() {
    use authkit_leptos::emulator::{Endpoint, Fault};
    let h = harness_as("ada@example.com").await;
    let cookie = h.sign_in().await;
    let marker = "shard-7-of-the-membership-db-is-down";
    for (status, expected) in [
        (503, "WorkOS is unavailable; try again shortly"),
        (
            400,
            "WorkOS refused the request; the server's log has the details",
        ),
    ] {
        h.emulator.inject_fault(
            Endpoint::ListOrganizationMemberships,
            Fault::status(status).body(serde_json::json!({
                "code": "internal_error",
                "message": marker,
                "request_id": "req_secret_diagnostic_42",
            })),
        );
        let (code, json, _) = h.call("authkit/organizations", "", Some(&cookie)).await;
        assert!(code.is_server_error(), "{code} {json}");
        assert_eq!(json["WorkOs"], expected, "{json}");
        let text = json.to_string();
        assert!(!text.contains(marker), "{text}");
        assert!(!text.contains("req_secret_diagnostic_42"), "{text}");
        assert!(!text.contains("internal_error"), "{text}");
    }
}

/// The components' WorkOS lookups (#23 item 7): `/api/authkit/organizations` and
/// `/api/authkit/organization-name` are answered per user from a short-lived memory and
/// share one call when they arrive together, so one signed-in user calling them 500
/// times (one after another, and all at once) costs a handful of WorkOS calls — never
/// enough to push the app into WorkOS's rate limit for everyone.
#[tokio::test]
async fn five_hundred_lookups_cost_a_handful_of_workos_calls() {
    use authkit_leptos::emulator::Endpoint;
    use tokio::task::JoinSet;
    let h = harness_as("ada@example.com").await;
    let cookie = h.sign_in().await;
    let (_, snapshot, _) = h.call("authkit/snapshot", "", Some(&cookie)).await;
    let org = snapshot["organization_id"]
        .as_str()
        .expect("an organization")
        .to_owned();
    h.emulator.reset_counters();
    let request = |endpoint: &str, args: String| {
        http::Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, format!("wos-session={cookie}"))
            .body(axum::body::Body::from(args))
            .unwrap()
    };
    for (endpoint, args, upstream) in [
        (
            "authkit/organizations",
            String::new(),
            Endpoint::ListOrganizationMemberships,
        ),
        (
            "authkit/organization-name",
            format!("organization_id={org}"),
            Endpoint::GetOrganization,
        ),
    ] {
        let mut all_at_once = JoinSet::new();
        for _ in 0..250 {
            let app = h.app.clone();
            let request = request(endpoint, args.clone());
            all_at_once.spawn(async move {
                tower::ServiceExt::oneshot(app, request)
                    .await
                    .unwrap()
                    .status()
            });
        }
        while let Some(status) = all_at_once.join_next().await {
            assert_eq!(status.unwrap(), StatusCode::OK, "{endpoint}");
        }
        for _ in 0..250 {
            let response = h.send(request(endpoint, args.clone())).await;
            assert_eq!(response.status(), StatusCode::OK, "{endpoint}");
        }
        let calls = h.emulator.counters().get(upstream);
        assert!((1..=3).contains(&calls), "{endpoint}: {calls} WorkOS calls");
    }
    // The answers are still the right ones.
    let (_, json, _) = h
        .call(
            "authkit/organization-name",
            &format!("organization_id={org}"),
            Some(&cookie),
        )
        .await;
    assert!(json.is_string(), "{json}");
    let (_, json, _) = h.call("authkit/organizations", "", Some(&cookie)).await;
    assert_eq!(json.as_array().map(Vec::len), Some(3), "{json}");
}
