//! The session API in server functions, called the way the WebAssembly client calls them
//! (and from plain forms): `with_auth`, `ensure_signed_in`, `get_token_claims`,
//! `check_recent_auth`, `validate_api_key` and `save_session` — authkit-nextjs `withAuth`,
//! `getTokenClaims`, `checkRecentAuth` and `saveSession`.

use crate::support::leptos_app::*;
use crate::support::*;
// Named explicitly: the Leptos prelude has a `location` too.
use crate::support::location;
use authkit_leptos::emulator::Seed;
use authkit_leptos::testing::FlowState;
use authkit_leptos::AuthError;
use axum::body::Body;
use http::{header, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[tokio::test]
async fn with_auth_in_a_server_function() {
    let a = leptos_default().await;
    let (status, body, _) = a.call("whoami", "", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::Value::Null,
        "signed out: no user, not an error"
    );
    let cookie = a.sign_in().await;
    let (status, body, _) = a.call("whoami", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ada@example.com");
}

/// `with_auth` and `ensure_signed_in` in a server function the layer does not cover: an
/// `AuthError::NotCovered` naming the path and the fix, not "signed out".
#[tokio::test]
async fn with_auth_on_an_uncovered_route_names_the_fix() {
    let a = leptos(Options {
        layer: |l| l.without_server_fns(),
        ..Options::default()
    })
    .await;
    for (endpoint, path) in [("whoami", "/api/whoami"), ("protected", "/api/protected")] {
        let (status, body, _) = a.call(endpoint, "", None).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{endpoint}");
        let error: AuthError =
            serde_json::from_value(body.clone()).unwrap_or_else(|_| panic!("an AuthError: {body}"));
        assert!(
            matches!(error, AuthError::NotCovered { path: ref p, .. } if p == path),
            "{error:?}"
        );
        assert!(error.to_string().contains("AuthKitLayer::matcher"));
    }
}

#[tokio::test]
async fn ensure_signed_in_from_webassembly_returns_the_sign_in_url() {
    let a = leptos_default().await;
    let (status, body, response) = a.call("protected", "", None).await;
    // 401, as the middleware-auth mode answers (not the 500 Leptos gives any `Err`).
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let error: AuthError = serde_json::from_value(body).unwrap();
    let url = error.sign_in_url().expect("a sign-in URL").to_owned();
    // It returns to the page that called, not to the server function's path.
    assert_eq!(url, "/auth/sign-in?return_to=%2Fbilling%3Ftab%3D2");
    assert!(
        response.headers().get(header::LOCATION).is_none(),
        "no 302 for a fetch"
    );
    let cookie = a.sign_in().await;
    let (status, body, _) = a.call("protected", "", Some(&cookie)).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, serde_json::json!("ada@example.com"))
    );
}

#[tokio::test]
async fn ensure_signed_in_from_a_plain_form_redirects() {
    let a = leptos_default().await;
    let response = a
        .send(
            Request::post("/api/protected")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html,application/xhtml+xml")
                .header(header::REFERER, "http://localhost:3000/settings")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/auth/sign-in?return_to=%2Fsettings");
}

#[tokio::test]
async fn with_auth_in_a_server_function_rejects_a_mismatched_session() {
    let h = leptos_default().await;
    let forged = forged_user(&h.sign_in().await);
    let (status, body, response) = h.call("whoami", "", Some(&forged)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::Value::Null,
        "signed out, not the forged user"
    );
    assert!(deletes_cookie(response.headers(), "wos-session"));
}

#[tokio::test]
async fn with_auth_outside_a_request_says_it_needs_the_request_context() {
    let err = authkit_leptos::with_auth().await.unwrap_err();
    assert_eq!(err, AuthError::NoRequestContext);
    assert!(err.to_string().contains("server function"), "{err}");
}

#[tokio::test]
async fn ensure_signed_in_outside_a_request_is_an_error_not_a_redirect() {
    let err = authkit_leptos::ensure_signed_in().await.unwrap_err();
    assert_eq!(err, AuthError::NoRequestContext);
    assert_eq!(err.sign_in_url(), None);
}

#[tokio::test]
async fn ensure_signed_in_from_a_server_function_on_a_sign_up_page_links_to_sign_up() {
    let h = leptos(Options {
        layer: |l| l.sign_up_paths(["/page/join"]).unwrap(),
        ..Options::default()
    })
    .await;
    let response = h
        .send(
            Request::post("/api/protected")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .header(header::REFERER, "http://localhost:3000/page/join?team=1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let error: AuthError = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(
        error.sign_in_url(),
        Some("/auth/sign-up?return_to=%2Fpage%2Fjoin%3Fteam%3D1")
    );
}

#[tokio::test]
async fn get_token_claims_returns_the_workos_claims_as_a_typed_struct() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    let raw = token_claims(&cookie);
    let (status, body, _) = h.call("claims-typed", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims: StandardClaims = serde_json::from_value(body).unwrap();
    assert_eq!(claims.sub, raw["sub"].as_str().unwrap());
    assert_eq!(claims.sid, raw["sid"].as_str().unwrap());
    assert!(claims.sid.starts_with("session_"), "{}", claims.sid);
    assert_eq!(claims.org_id.as_deref(), raw["org_id"].as_str());
    assert_eq!(claims.role.as_deref(), Some("admin"));
    assert_eq!(claims.roles, ["admin"]);
    assert!(claims.permissions.contains(&"members:manage".to_owned()));
    assert!(claims.entitlements.contains(&"audit-logs".to_owned()));
    assert!(claims.feature_flags.contains(&"new-feature".to_owned()));
}

#[tokio::test]
async fn get_token_claims_is_none_when_signed_out() {
    let h = leptos_default().await;
    let (status, body, _) = h.call("claims-map", "", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::Value::Null);
}

#[tokio::test]
async fn get_token_claims_without_an_organization_has_only_standard_claims() {
    let h = leptos(Options {
        seed: || {
            Seed::from_yaml("users:\n  - email: solo@example.com\n    first_name: Solo\n").unwrap()
        },
        auto_approve_as: "solo@example.com",
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    let (_, body, _) = h.call("claims-map", "", Some(&cookie)).await;
    let claims = body.as_object().expect("a claims map");
    for standard in ["iss", "sub", "sid", "jti", "iat", "exp"] {
        assert!(claims.contains_key(standard), "{standard} in {claims:?}");
    }
    for org_claim in ["org_id", "role", "roles", "permissions"] {
        assert!(!claims.contains_key(org_claim), "{org_claim} in {claims:?}");
    }
}

#[tokio::test]
async fn get_token_claims_as_a_map_includes_the_standard_jwt_claims() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    let (_, body, _) = h.call("claims-map", "", Some(&cookie)).await;
    assert_eq!(body, token_claims(&cookie), "every claim, as issued");
    assert!(body["exp"].as_u64().unwrap() > body["iat"].as_u64().unwrap());
    assert!(body["iss"]
        .as_str()
        .unwrap()
        .starts_with(h.emulator.base_url()));
}

#[tokio::test]
async fn get_token_claims_reads_nested_claims() {
    let h = leptos(Options {
        seed: || {
            Seed::from_yaml(
                "users:\n  - email: ada@example.com\n    impersonator:\n      email: grace@example.com\n      reason: support ticket\n",
            )
            .unwrap()
        },
        ..Options::default()
    })
    .await;
    let cookie = h.sign_in().await;
    let (status, body, _) = h.call("claims-nested", "", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["act"]["sub"], "grace@example.com");
    let (_, who) = h.whoami("/", Some(&cookie)).await;
    assert_eq!(who["impersonator"], "grace@example.com");
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn check_recent_auth_is_fresh_right_after_sign_in() {
    let h = leptos_default().await;
    let cookie = h.sign_in().await;
    let (status, body, _) = h.call("recent", "max_age_secs=300", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0], false);
    let at = body[1].as_u64().expect("authenticated_at");
    assert_eq!(at, token_claims(&cookie)["auth_time"].as_u64().unwrap());
    assert!(now_secs().abs_diff(at) < 60);
}

#[tokio::test]
async fn check_recent_auth_is_stale_past_max_age() {
    let h = leptos_default().await;
    // Signed in ten minutes ago (with a token that is still valid).
    h.emulator.rewind_clock(Duration::from_secs(600));
    let cookie = h.sign_in_with_ttl(Duration::from_secs(3600)).await;
    h.emulator.advance_clock(Duration::from_secs(600));
    let (_, body, _) = h.call("recent", "max_age_secs=300", Some(&cookie)).await;
    assert_eq!(body[0], true, "{body}");
    let (_, body, _) = h.call("recent", "max_age_secs=900", Some(&cookie)).await;
    assert_eq!(body[0], false, "{body}");
}

#[tokio::test]
async fn check_recent_auth_is_stale_when_signed_out() {
    let h = leptos_default().await;
    let (status, body, _) = h.call("recent", "max_age_secs=300", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::json!([true, null]));
}

#[tokio::test]
async fn validate_api_key_reads_the_bearer_header() {
    let a = leptos_default().await;
    let call = |auth: Option<&'static str>| {
        let mut req = Request::post("/api/apikey")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(v) = auth {
            req = req.header(header::AUTHORIZATION, v);
        }
        a.send(req.body(Body::empty()).unwrap())
    };
    let body = |r: Response<Body>| async move {
        serde_json::from_slice::<serde_json::Value>(
            &r.into_body().collect().await.unwrap().to_bytes(),
        )
        .unwrap()
    };
    assert!(body(call(Some("Bearer sk_org_acme_demo_key")).await)
        .await
        .is_string());
    assert_eq!(
        body(call(Some("Bearer sk_unknown")).await).await,
        serde_json::Value::Null
    );
    assert_eq!(body(call(None).await).await, serde_json::Value::Null);
}

#[tokio::test]
async fn save_session_stores_a_session_from_a_custom_flow() {
    let h = leptos_default().await;
    let flow = h.flow("/auth/sign-in").await;
    let verifier = FlowState::unseal(&flow.state, h.kit.config())
        .unwrap()
        .code_verifier;
    let (status, body, response) = h
        .call(
            "custom-flow",
            &format!("code={}&verifier={verifier}", flow.code),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, "ada@example.com");
    let set = session_set_cookie(&response).expect("the layer writes the saved session");
    assert!(
        set.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000"),
        "{set}"
    );
    let (_, who) = h.whoami("/", Some(cookie_value(&set))).await;
    assert_eq!(who["email"], "ada@example.com");
}

/// Middleware-auth mode with no public path: the components' own reads of the session
/// (which a public page's provider makes on focus) answer a signed-out visitor with
/// "signed out", while the app's own server functions get the `401` sign-in answer. The
/// layer takes their paths from the server functions themselves.
#[tokio::test]
async fn middleware_auth_lets_the_components_reads_answer_signed_out() {
    let a = leptos(Options {
        layer: |l| l.middleware_auth([] as [&str; 0]).expect("no pattern"),
        ..Options::default()
    })
    .await;
    let (status, body, _) = a.call("authkit/snapshot", "", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"], serde_json::Value::Null, "{body}");
    let (status, body, _) = a.call("authkit/access-token", "", None).await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::Value::Null));
    let (status, body, _) = a.call("authkit/organizations", "", None).await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::json!([])));
    let (status, _, _) = a.call("whoami", "", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
