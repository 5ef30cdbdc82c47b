//! The WorkOS client against a stub WorkOS on loopback: what goes on the wire (paths, headers,
//! JSON bodies in key order), what comes back (typed responses), and how every kind of failure
//! is classified (transient vs terminal) without leaking a secret.
#![cfg(feature = "ssr")]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authkit_leptos::workos::{
    AuthenticationErrorCode, AuthorizationUrlParams, PkcePair, ScreenHint, WorkOsClient,
    WorkOsError, USER_AGENT,
};
use authkit_leptos::AuthKitConfig;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, Uri};
use serde_json::{json, Value};
use url::Url;

const CLIENT_ID: &str = "client_123";
const API_KEY: &str = "sk_test_abcdef123456";

// ---------------------------------------------------------------------------------------------
// The stub WorkOS

/// One request the stub received.
#[derive(Clone, Debug)]
struct Recorded {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: String,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the stub answers.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self::raw(status, "application/json; charset=utf-8", &body.to_string())
    }
    fn raw(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", content_type.to_owned())],
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
    fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Responder = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

#[derive(Clone)]
struct StubState {
    log: Arc<Mutex<Vec<Recorded>>>,
    respond: Responder,
}

/// A WorkOS stand-in on 127.0.0.1:<free port>; stops when dropped.
struct Stub {
    base: Url,
    log: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

async fn record(
    State(state): State<StubState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let req = Recorded {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let reply = (state.respond)(&req);
    state.log.lock().unwrap().push(req);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut res = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        res = res.header(*k, v);
    }
    res.body(Body::from(reply.body)).unwrap()
}

impl Stub {
    async fn start(respond: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = StubState {
            log: log.clone(),
            respond: Arc::new(respond),
        };
        let app = axum::Router::new().fallback(record).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base: Url::parse(&format!("http://{addr}")).unwrap(),
            log,
            task,
        }
    }

    /// A stub that always gives the same answer.
    async fn replying(reply: Reply) -> Self {
        Self::start(move |_| reply.clone()).await
    }

    fn client(&self) -> WorkOsClient {
        client_for(self.base.clone(), Duration::from_secs(5))
    }

    fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    fn only_request(&self) -> Recorded {
        let all = self.requests();
        assert_eq!(all.len(), 1, "expected exactly one request, got {all:#?}");
        all.into_iter().next().unwrap()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn client_for(base: Url, timeout: Duration) -> WorkOsClient {
    WorkOsClient::from_parts(base, CLIENT_ID, API_KEY, timeout).unwrap()
}

/// The authenticate response of reference/workos-wire.md §5.
fn auth_body() -> Value {
    json!({
        "user": {
            "object": "user",
            "id": "user_01",
            "email": "ada@example.com",
            "email_verified": true,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "name": "Ada Lovelace",
            "profile_picture_url": null,
            "last_sign_in_at": "2026-01-01T00:00:00.000Z",
            "locale": null,
            "created_at": "2025-01-01T00:00:00.000Z",
            "updated_at": "2025-01-01T00:00:00.000Z",
            "external_id": null,
            "metadata": {}
        },
        "organization_id": "org_01",
        "access_token": "eyJ.access.token",
        "refresh_token": "refresh_token_1",
        "authentication_method": "GoogleOAuth",
        "impersonator": { "email": "admin@example.com", "reason": "support ticket" }
    })
}

/// Asserts that nothing secret made it into an error's `Display` or `Debug`.
fn assert_no_secrets(err: &WorkOsError, secrets: &[&str]) {
    let shown = format!("{err} / {err:?}");
    for s in secrets.iter().chain([&API_KEY]) {
        assert!(!shown.contains(s), "`{s}` leaked into: {shown}");
    }
}

// ---------------------------------------------------------------------------------------------
// Requests on the wire

#[tokio::test]
async fn code_exchange_sends_the_sdk_body_and_headers() {
    let stub = Stub::replying(Reply::json(200, auth_body())).await;
    let auth = stub
        .client()
        .authenticate_with_code("code_1", Some("verifier_1"))
        .await
        .unwrap();

    let req = stub.only_request();
    assert_eq!(req.method, Method::POST);
    assert_eq!(req.path, "/user_management/authenticate");
    assert_eq!(
        req.body,
        format!(
            r#"{{"grant_type":"authorization_code","client_id":"{CLIENT_ID}","client_secret":"{API_KEY}","code":"code_1","code_verifier":"verifier_1"}}"#
        )
    );
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("authkit-leptos/"));

    // The snake_case wire user comes out as the camelCase session user.
    assert_eq!(auth.user.id, "user_01");
    assert!(auth.user.email_verified);
    assert_eq!(auth.user.first_name.as_deref(), Some("Ada"));
    let sealed_form = serde_json::to_value(&auth.user).unwrap();
    assert_eq!(sealed_form["emailVerified"], true);
    assert_eq!(sealed_form["lastSignInAt"], "2026-01-01T00:00:00.000Z");
    assert_eq!(sealed_form["externalId"], Value::Null);
    assert_eq!(auth.access_token, "eyJ.access.token");
    assert_eq!(auth.refresh_token, "refresh_token_1");
    assert_eq!(auth.organization_id.as_deref(), Some("org_01"));
    assert_eq!(auth.authentication_method.as_deref(), Some("GoogleOAuth"));
    let imp = auth.impersonator.as_ref().unwrap();
    assert_eq!(imp.email, "admin@example.com");
    assert_eq!(imp.reason.as_deref(), Some("support ticket"));
    assert!(auth.oauth_tokens.is_none());
    let dbg = format!("{auth:?}");
    assert!(
        !dbg.contains("eyJ.access.token") && !dbg.contains("refresh_token_1"),
        "{dbg}"
    );
}

#[tokio::test]
async fn code_exchange_without_verifier_omits_the_key() {
    let stub = Stub::replying(Reply::json(200, auth_body())).await;
    stub.client()
        .authenticate_with_code("code_2", None)
        .await
        .unwrap();
    assert_eq!(
        stub.only_request().body,
        format!(
            r#"{{"grant_type":"authorization_code","client_id":"{CLIENT_ID}","client_secret":"{API_KEY}","code":"code_2"}}"#
        )
    );
}

/// A public client (no API key, #26 item 2) sends the code with its verifier and the
/// refresh token with no `client_secret` and no `Authorization` header, as
/// `@workos-inc/node` does without a key; a code without a verifier, and every call that
/// needs the key, is refused before anything is sent.
#[tokio::test]
async fn a_public_client_sends_no_secret_and_refuses_what_needs_the_key() {
    let stub = Stub::replying(Reply::json(200, auth_body())).await;
    let client =
        WorkOsClient::public(stub.base.clone(), CLIENT_ID, Duration::from_secs(5)).unwrap();
    assert!(!client.has_api_key());
    client
        .authenticate_with_code("code_1", Some("verifier_1"))
        .await
        .unwrap();
    client
        .authenticate_with_refresh_token("refresh_1", Some("org_1"))
        .await
        .unwrap();
    let requests = stub.requests();
    assert_eq!(
        requests[0].body,
        format!(
            r#"{{"grant_type":"authorization_code","client_id":"{CLIENT_ID}","code":"code_1","code_verifier":"verifier_1"}}"#
        )
    );
    assert_eq!(
        requests[1].body,
        format!(
            r#"{{"grant_type":"refresh_token","client_id":"{CLIENT_ID}","refresh_token":"refresh_1","organization_id":"org_1"}}"#
        )
    );
    assert!(requests.iter().all(|r| r.header("authorization").is_none()));
    // An empty key is a public client too.
    assert!(
        !WorkOsClient::from_parts(stub.base.clone(), CLIENT_ID, "", Duration::from_secs(5))
            .unwrap()
            .has_api_key()
    );

    let refused = [
        client
            .authenticate_with_code("code_2", None)
            .await
            .map(drop),
        client.get_organization("org_1").await.map(drop),
        client.get_user("user_1").await.map(drop),
        client
            .list_organization_memberships("user_1", None)
            .await
            .map(drop),
        client.validate_api_key("sk_x").await.map(drop),
        client.revoke_session("session_1").await.map(drop),
        client.list_sessions("user_1", None).await.map(drop),
        client
            .list_events(&["session.revoked"], None, None, 10)
            .await
            .map(drop),
        client
            .authenticate_with_organization_selection("pat_1", "org_1")
            .await
            .map(drop),
    ];
    for result in refused {
        let e = result.unwrap_err();
        assert!(matches!(e, WorkOsError::ApiKeyRequired { .. }), "{e:?}");
        assert!(e.to_string().contains("WORKOS_API_KEY"), "{e}");
        assert!(!e.is_transient());
    }
    assert_eq!(stub.requests().len(), 2, "nothing more reached WorkOS");
}

/// The organization-selection grant in `@workos-inc/node`'s key order, with the pending
/// token redacted from errors.
#[tokio::test]
async fn the_organization_selection_grant_sends_the_sdk_body() {
    let stub = Stub::replying(Reply::json(200, auth_body())).await;
    stub.client()
        .authenticate_with_organization_selection("pat_secret_1", "org_9")
        .await
        .unwrap();
    assert_eq!(
        stub.only_request().body,
        format!(
            r#"{{"grant_type":"urn:workos:oauth:grant-type:organization-selection","client_id":"{CLIENT_ID}","client_secret":"{API_KEY}","pending_authentication_token":"pat_secret_1","organization_id":"org_9"}}"#
        )
    );
    let stub = Stub::replying(Reply::json(
        400,
        json!({"error": "invalid_grant", "error_description": "pat_secret_1 is spent"}),
    ))
    .await;
    let e = stub
        .client()
        .authenticate_with_organization_selection("pat_secret_1", "org_9")
        .await
        .unwrap_err();
    assert_no_secrets(&e, &["pat_secret_1"]);
}

#[tokio::test]
async fn refresh_passes_the_organization_through() {
    let mut body = auth_body();
    body["oauth_tokens"] = json!({
        "access_token": "ya29.provider", "refresh_token": "1//provider",
        "expires_at": 1_767_225_600, "scopes": ["email", "profile"]
    });
    let stub = Stub::replying(Reply::json(200, body)).await;
    let client = stub.client();

    let auth = client
        .authenticate_with_refresh_token("rt_1", Some("org_2"))
        .await
        .unwrap();
    client
        .authenticate_with_refresh_token("rt_2", None)
        .await
        .unwrap();

    let reqs = stub.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path, "/user_management/authenticate");
    assert_eq!(
        reqs[0].body,
        format!(
            r#"{{"grant_type":"refresh_token","client_id":"{CLIENT_ID}","client_secret":"{API_KEY}","refresh_token":"rt_1","organization_id":"org_2"}}"#
        )
    );
    assert_eq!(
        reqs[1].body,
        format!(
            r#"{{"grant_type":"refresh_token","client_id":"{CLIENT_ID}","client_secret":"{API_KEY}","refresh_token":"rt_2"}}"#
        )
    );
    let oauth = auth.oauth_tokens.as_ref().unwrap();
    assert_eq!(oauth.access_token, "ya29.provider");
    assert_eq!(oauth.expires_at, Some(1_767_225_600));
    assert_eq!(oauth.scopes, ["email", "profile"]);
    assert!(!format!("{auth:?}").contains("ya29.provider"));
}

#[tokio::test]
async fn client_from_config_uses_its_base_url_and_timeout() {
    let stub = Stub::replying(Reply::json(200, auth_body())).await;
    let config = AuthKitConfig::builder()
        .client_id(CLIENT_ID)
        .api_key(API_KEY)
        .redirect_uri("http://localhost:3000/callback")
        .cookie_password("0123456789abcdef0123456789abcdef")
        .api_base_url(stub.base.as_str())
        .http_timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    let client = WorkOsClient::new(&config).unwrap();
    assert_eq!(client.timeout(), Duration::from_millis(1500));
    assert_eq!(client.client_id(), CLIENT_ID);
    client.authenticate_with_code("c", None).await.unwrap();
    assert_eq!(stub.only_request().path, "/user_management/authenticate");
}

#[tokio::test]
async fn authorization_url_is_sorted_and_echoes_state_intact() {
    let client = client_for(
        Url::parse("http://127.0.0.1:8787").unwrap(),
        Duration::from_secs(1),
    );
    let pkce = PkcePair::generate().unwrap();
    let state = "Fe26.2**a1b2*x y~z*Zm9v_-*1767225600000*c3*ab~2";
    let url = client.authorization_url(&AuthorizationUrlParams {
        redirect_uri: Some("http://localhost:3000/callback".into()),
        code_challenge: Some(pkce.code_challenge().to_owned()),
        state: Some(state.into()),
        screen_hint: Some(ScreenHint::SignUp),
        organization_id: Some("org_1".into()),
        login_hint: Some("ada+test@example.com".into()),
        ..Default::default()
    });
    assert_eq!(url.path(), "/user_management/authorize");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "client_id",
            "code_challenge",
            "code_challenge_method",
            "login_hint",
            "organization_id",
            "provider",
            "redirect_uri",
            "response_type",
            "screen_hint",
            "state"
        ]
    );
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("client_id"), Some(CLIENT_ID));
    assert_eq!(get("code_challenge"), Some(pkce.code_challenge()));
    assert_eq!(get("code_challenge_method"), Some("S256"));
    assert_eq!(get("provider"), Some("authkit"));
    assert_eq!(get("response_type"), Some("code"));
    assert_eq!(get("screen_hint"), Some("sign-up"));
    assert_eq!(get("login_hint"), Some("ada+test@example.com"));
    assert_eq!(get("state"), Some(state));
    // Space as `+`, `*` escaped, `~` kept (the Node SDK's encoding).
    assert!(
        url.as_str()
            .contains("state=Fe26.2%2A%2Aa1b2%2Ax+y~z%2AZm9v_-%2A"),
        "{url}"
    );
    assert!(!url.as_str().contains(pkce.code_verifier()));
}

#[tokio::test]
async fn logout_and_jwks_urls() {
    let client = client_for(
        Url::parse("http://127.0.0.1:8787").unwrap(),
        Duration::from_secs(1),
    );
    assert_eq!(
        client.logout_url("session_1", Some("http://localhost:3000/")).as_str(),
        "http://127.0.0.1:8787/user_management/sessions/logout?session_id=session_1&return_to=http%3A%2F%2Flocalhost%3A3000%2F"
    );
    assert_eq!(
        client.jwks_url().as_str(),
        "http://127.0.0.1:8787/sso/jwks/client_123"
    );
}

#[tokio::test]
async fn management_calls_use_the_sdk_paths_and_shapes() {
    let stub = Stub::start(|req| match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/user_management/users/user_01") => Reply::json(200, auth_body()["user"].clone()),
        ("GET", "/organizations/org_01") => Reply::json(
            200,
            json!({"object":"organization","id":"org_01","name":"Acme","allow_profiles_outside_organization":false,
                   "domains":[{"object":"organization_domain","id":"org_domain_1","domain":"acme.com","state":"verified"}],
                   "created_at":"2025-01-01T00:00:00.000Z","updated_at":"2025-01-01T00:00:00.000Z"}),
        ),
        ("GET", "/user_management/organization_memberships") => Reply::json(
            200,
            json!({"object":"list","data":[{"object":"organization_membership","id":"om_1","user_id":"user_01",
                   "organization_id":"org_01","status":"active","role":{"slug":"admin"},
                   "created_at":"2025-01-01T00:00:00.000Z","updated_at":"2025-01-01T00:00:00.000Z"}],
                   "list_metadata":{"before":null,"after":null}}),
        ),
        ("POST", "/api_keys/validations") if req.body.contains("sk_presented_valid") => Reply::json(
            200,
            json!({"api_key":{"object":"api_key","id":"api_key_1","owner":{"type":"organization","id":"org_01"},
                   "name":"CI","obfuscated_value":"sk_…alid","last_used_at":null,"permissions":["posts:read"],
                   "created_at":"2025-01-01T00:00:00.000Z","updated_at":"2025-01-01T00:00:00.000Z"}}),
        ),
        ("POST", "/api_keys/validations") => Reply::json(200, json!({"api_key": null})),
        ("POST", "/user_management/sessions/revoke") => Reply::raw(200, "text/plain", ""),
        _ => Reply::json(404, json!({"message": "Not found"})),
    })
    .await;
    let client = stub.client();

    let user = client.get_user("user_01").await.unwrap();
    assert_eq!(user.email, "ada@example.com");
    assert_eq!(user.last_name.as_deref(), Some("Lovelace"));

    let org = client.get_organization("org_01").await.unwrap();
    assert_eq!((org.id.as_str(), org.name.as_str()), ("org_01", "Acme"));
    assert_eq!(org.domains[0].domain, "acme.com");

    let list = client
        .list_organization_memberships("user_01", Some("org_01"))
        .await
        .unwrap();
    assert_eq!(list.data.len(), 1);
    assert_eq!(list.data[0].role.as_ref().unwrap().slug, "admin");
    assert_eq!(list.data[0].status, "active");

    let key = client
        .validate_api_key("sk_presented_valid")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.id, "api_key_1");
    assert_eq!(key.permissions, ["posts:read"]);
    assert_eq!(key.owner.unwrap().kind, "organization");
    assert!(client
        .validate_api_key("sk_presented_unknown")
        .await
        .unwrap()
        .is_none());
    client.revoke_session("session_1").await.unwrap();

    let reqs = stub.requests();
    assert_eq!(reqs.len(), 6, "{reqs:#?}");
    assert_eq!(
        reqs[2].query.as_deref(),
        Some("user_id=user_01&organization_id=org_01&order=desc")
    );
    assert_eq!(reqs[3].body, r#"{"value":"sk_presented_valid"}"#);
    assert_eq!(reqs[5].path, "/user_management/sessions/revoke");
    assert_eq!(reqs[5].body, r#"{"session_id":"session_1"}"#);
    for r in &reqs {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {API_KEY}").as_str())
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{} {}",
            r.method,
            r.path
        );
    }

    // A 404 is terminal and says which call failed.
    let err = client.get_user("user_missing").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(!err.is_transient());
    assert!(
        err.to_string()
            .contains("GET /user_management/users/user_missing"),
        "{err}"
    );
}

#[tokio::test]
async fn ids_cannot_escape_their_path_segment() {
    let stub = Stub::replying(Reply::json(200, auth_body()["user"].clone())).await;
    stub.client()
        .get_user("../organizations/x?y")
        .await
        .unwrap();
    assert_eq!(
        stub.only_request().path,
        "/user_management/users/..%2Forganizations%2Fx%3Fy"
    );
    let err = stub.client().get_user("..").await.unwrap_err();
    assert!(
        matches!(err, WorkOsError::InvalidArgument { .. }),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Responses that are not a clean success

#[tokio::test]
async fn missing_tokens_is_a_typed_terminal_error() {
    let mut body = auth_body();
    body.as_object_mut().unwrap().remove("refresh_token");
    let stub = Stub::replying(Reply::json(200, body)).await;
    let err = stub
        .client()
        .authenticate_with_code("code_1", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WorkOsError::MissingTokens {
                missing: "refresh_token"
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert!(err.to_string().contains("missing_tokens"));
}

#[tokio::test]
async fn invalid_grant_is_terminal_and_redacted() {
    let stub = Stub::replying(
        Reply::json(
            400,
            json!({"error": "invalid_grant",
                   "error_description": "Refresh token rt_secret_42 already exchanged."}),
        )
        .header("x-request-id", "req_abc"),
    )
    .await;
    let err = stub
        .client()
        .authenticate_with_refresh_token("rt_secret_42", Some("org_1"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.error_code(), Some("invalid_grant"));
    assert_eq!(
        err.error_description(),
        Some("Refresh token [redacted] already exchanged.")
    );
    assert_eq!(err.request_id(), Some("req_abc"));
    assert!(!err.is_transient());
    assert!(!err.is_authentication_required());
    let text = err.to_string();
    assert!(
        text.contains("400") && text.contains("invalid_grant") && text.contains("req_abc"),
        "{text}"
    );
    assert_no_secrets(&err, &["rt_secret_42"]);
    // The raw body stays available to the caller.
    assert_eq!(
        err.http().unwrap().body().unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn unauthorized_is_terminal() {
    let stub = Stub::replying(Reply::json(401, json!({"message": "Unauthorized"}))).await;
    let err = stub
        .client()
        .authenticate_with_code("code_secret_9", Some("verifier_secret_9"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(!err.is_transient());
    assert_no_secrets(&err, &["code_secret_9", "verifier_secret_9"]);
}

#[tokio::test]
async fn authentication_required_codes_keep_the_raw_body() {
    let stub = Stub::replying(Reply::json(
        403,
        json!({"code": "sso_required", "message": "SSO required",
               "authkit_redirect_url": "https://auth.example.com/sso?org=org_1",
               "pending_authentication_token": "pat_secret_1"}),
    ))
    .await;
    let err = stub
        .client()
        .authenticate_with_refresh_token("rt_1", Some("org_1"))
        .await
        .unwrap_err();
    assert_eq!(
        err.authentication_required(),
        Some(AuthenticationErrorCode::SsoRequired)
    );
    assert!(err.is_authentication_required());
    assert!(!err.is_transient());
    let http = err.http().unwrap();
    assert_eq!(
        http.authkit_redirect_url(),
        Some("https://auth.example.com/sso?org=org_1")
    );
    assert_eq!(http.pending_authentication_token(), Some("pat_secret_1"));
    assert_no_secrets(&err, &["pat_secret_1"]);
}

#[tokio::test]
async fn rate_limit_is_transient_with_retry_after() {
    let stub = Stub::replying(
        Reply::json(429, json!({"message": "Too many requests"})).header("retry-after", "7"),
    )
    .await;
    let err = stub
        .client()
        .authenticate_with_refresh_token("rt_1", None)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert!(err.is_transient());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));

    // An HTTP date works too; one in the past means "now".
    let stub = Stub::replying(
        Reply::json(429, json!({})).header("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"),
    )
    .await;
    let err = stub.client().get_user("user_1").await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::ZERO));
}

#[tokio::test]
async fn server_errors_and_408_are_transient() {
    for status in [408, 500, 502, 503, 504] {
        let stub = Stub::replying(Reply::json(status, json!({"message": "try later"}))).await;
        let err = stub
            .client()
            .authenticate_with_refresh_token("rt_1", None)
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert!(err.is_transient(), "{status} must be transient");
        assert!(matches!(err, WorkOsError::Http(_)));
    }
    for status in [403, 409, 422, 501] {
        let stub = Stub::replying(Reply::json(status, json!({"message": "no"}))).await;
        let err = stub.client().get_user("user_1").await.unwrap_err();
        assert!(!err.is_transient(), "{status} must be terminal");
    }
}

#[tokio::test]
async fn a_non_json_error_body_is_still_a_typed_error() {
    let stub = Stub::replying(Reply::raw(
        502,
        "text/html",
        "<html><h1>502 Bad Gateway</h1></html>",
    ))
    .await;
    let err = stub
        .client()
        .authenticate_with_refresh_token("rt_1", None)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert!(err.is_transient());
    assert_eq!(err.error_code(), None);
    assert!(err.http().unwrap().body().is_none());
    assert!(err.to_string().contains("not JSON"), "{err}");

    let stub = Stub::replying(Reply::raw(400, "text/plain", "bad request")).await;
    let err = stub
        .client()
        .authenticate_with_code("c_1", None)
        .await
        .unwrap_err();
    assert!(matches!(err, WorkOsError::Http(_)));
    assert!(!err.is_transient());
}

#[tokio::test]
async fn a_2xx_with_garbage_is_a_decode_error() {
    let stub = Stub::replying(Reply::raw(200, "text/html", "<html>captive portal</html>")).await;
    let err = stub
        .client()
        .authenticate_with_code("c_1", None)
        .await
        .unwrap_err();
    assert!(matches!(err, WorkOsError::Decode { .. }), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert!(!err.is_transient());

    // JSON, but a token where the user should be: described without the value.
    let stub = Stub::replying(Reply::json(
        200,
        json!({"user": "eyJleaked.token", "access_token": "a", "refresh_token": "r"}),
    ))
    .await;
    let err = stub
        .client()
        .authenticate_with_code("c_1", None)
        .await
        .unwrap_err();
    assert!(matches!(err, WorkOsError::Decode { .. }), "{err:?}");
    assert_no_secrets(&err, &["eyJleaked.token"]);

    // An over-long body is refused rather than buffered.
    let huge = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(2 << 20));
    let stub = Stub::replying(Reply::raw(200, "application/json", &huge)).await;
    let err = stub.client().fetch_jwks().await.unwrap_err();
    assert!(matches!(err, WorkOsError::Decode { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// JWKS

#[tokio::test]
async fn jwks_is_fetched_from_the_client_path() {
    let stub = Stub::replying(Reply::json(
        200,
        json!({"keys": [{"kty": "RSA", "kid": "key_1", "alg": "RS256", "use": "sig", "n": "sXch", "e": "AQAB"}]}),
    ))
    .await;
    let jwks = stub.client().fetch_jwks().await.unwrap();
    assert_eq!(jwks.keys.len(), 1);
    let key = &jwks.keys[0];
    assert_eq!(key.kid.as_deref(), Some("key_1"));
    assert_eq!(key.use_.as_deref(), Some("sig"));
    assert_eq!(
        (key.n.as_deref(), key.e.as_deref()),
        (Some("sXch"), Some("AQAB"))
    );
    let req = stub.only_request();
    assert_eq!(
        (req.method, req.path.as_str()),
        (Method::GET, "/sso/jwks/client_123")
    );
}

#[tokio::test]
async fn jwks_needs_exactly_200() {
    for status in [201, 203, 404, 500] {
        let stub = Stub::replying(Reply::json(status, json!({"keys": []}))).await;
        let err = stub.client().fetch_jwks().await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
    }
    let stub = Stub::replying(Reply::json(200, json!({"not_keys": []}))).await;
    assert!(matches!(
        stub.client().fetch_jwks().await,
        Err(WorkOsError::Decode { .. })
    ));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let stub = Stub::start(|req| {
        if req.path == "/elsewhere" {
            Reply::json(200, json!({"keys": []}))
        } else {
            Reply::raw(302, "text/plain", "").header("location", "/elsewhere")
        }
    })
    .await;
    let err = stub.client().fetch_jwks().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302));
    assert!(!err.is_transient());
    assert_eq!(stub.only_request().path, "/sso/jwks/client_123");
}

// ---------------------------------------------------------------------------------------------
// Transport failures

#[tokio::test]
async fn connection_refused_is_a_transient_network_error() {
    // Take a free port, then close it so nothing listens there.
    let addr: SocketAddr = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let client = client_for(
        Url::parse(&format!("http://{addr}")).unwrap(),
        Duration::from_secs(5),
    );
    let err = client
        .authenticate_with_refresh_token("rt_secret_7", None)
        .await
        .unwrap_err();
    assert!(matches!(err, WorkOsError::Network { .. }), "{err:?}");
    assert!(err.is_transient());
    assert_eq!(err.status(), None);
    assert!(err.to_string().contains("connection failed"), "{err}");
    assert_no_secrets(&err, &["rt_secret_7"]);
}

#[tokio::test]
async fn a_dropped_connection_is_a_transient_network_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let client = client_for(
        Url::parse(&format!("http://{addr}")).unwrap(),
        Duration::from_secs(5),
    );
    let err = client.fetch_jwks().await.unwrap_err();
    task.abort();
    assert!(matches!(err, WorkOsError::Network { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_slow_server_hits_the_timeout() {
    let stub = Stub::replying(Reply::json(200, auth_body()).delayed(Duration::from_secs(3))).await;
    let client = client_for(stub.base.clone(), Duration::from_millis(250));
    let started = Instant::now();
    let err = client
        .authenticate_with_refresh_token("rt_1", None)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, WorkOsError::Timeout { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(err.to_string().contains("250ms"), "{err}");
}

#[tokio::test]
async fn calls_can_run_on_spawned_tasks() {
    // The futures are `Send + 'static` once the (cheap) client is cloned in: what a tower
    // middleware, a JWKS cache or `tokio::spawn` needs.
    let stub = Stub::replying(Reply::json(200, json!({"keys": []}))).await;
    let client = stub.client();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.fetch_jwks().await })
        })
        .collect();
    for h in handles {
        assert!(h.await.unwrap().unwrap().keys.is_empty());
    }
    assert_eq!(stub.requests().len(), 4);
}
