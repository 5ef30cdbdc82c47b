//! #11 R6 Secrets, through the demo app: with every `tracing` event of the process captured
//! at TRACE, a user signs in, sees every page of the demo (before and after switching
//! organization), calls each server function and the Bearer API route, has her session
//! refreshed twice (an organization switch and an expired access token), and signs out
//! both ways (the server function and the form route). Then neither the log nor the HTML
//! of any page she was served contains an access token, refresh token, authorization
//! code, PKCE code verifier, sealed state, sealed session, the WorkOS API key or the
//! cookie password — whole or as a distinctive fragment (the JWT signature, the middle of
//! a token), since a log line might truncate.
//!
//! The demo's own router ([`authkit_demo::server::router`], the one `main` serves) runs
//! in this process on a loopback port with the built-in emulator, so the data page's
//! server-side call to `/demo-api/data` is real.
//!
//! The access token in the browser: DESIGN.md says secrets "never appear in logs, `Debug`
//! output or hydrated HTML" and that the hydrated auth snapshot never holds the access
//! token; the data page gets it after hydration through `use_access_token`, i.e. the
//! `/api/authkit/access-token` server function, which exists to hand it to its signed-in
//! caller (authkit-nextjs's `getAccessToken`). So no page's HTML is exempt; that one server
//! function's answer is the only place the access token may appear, and every other server
//! function answer is checked like the pages.
#![cfg(feature = "ssr")]

use crate::support::capture;

use authkit_leptos::emulator::{Emulator, Seed};
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::{AuthKit, PasswordMap};
use leptos::prelude::LeptosOptions;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION};
use reqwest::{StatusCode, Url};
use std::time::Duration;

const PASSWORD: &str = "demo-secrets-cookie-password-7f3c9a1e5b2d8046";
const API_KEY: &str = "sk_test_demo_secrets_api_key_4b8e1d7a0c3f";

/// The demo served on a loopback port, with its emulator.
struct Demo {
    base: String,
    http: reqwest::Client,
    emulator: Emulator,
    kit: AuthKit,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

/// What one request got back.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the `name` cookie this response sets (empty for a deletion).
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|c| c.split(';').next())
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// A signed-in session and everything secret about it.
struct SignedIn {
    sealed: String,
    access_token: String,
    refresh_token: String,
}

impl Demo {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let emulator = Emulator::builder()
            .seed(Seed::demo().unwrap())
            .api_key(API_KEY)
            .auto_approve_as("ada@example.com")
            .redirect_uri(format!("{base}/callback"))
            .start()
            .await
            .unwrap();
        let config = emulator
            .config_builder()
            .redirect_uri(format!("{base}/callback"))
            .cookie_password(PASSWORD)
            .http_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let kit = AuthKit::builder(config).build().unwrap();
        let options = LeptosOptions::builder()
            .output_name("authkit-demo")
            .site_addr(listener.local_addr().unwrap())
            .build();
        let app = authkit_demo::server::router(&kit, options, base.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service())
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Self {
            base,
            http,
            emulator,
            kit,
            stop: Some(stop),
            server,
        }
    }

    async fn answer(response: reqwest::Response) -> Answer {
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// A document request (a page load) with the session cookie, if any.
    async fn page(&self, path: &str, session: Option<&str>) -> Answer {
        let mut request = self
            .http
            .get(format!("{}{path}", self.base))
            .header(ACCEPT, "text/html");
        if let Some(sealed) = session {
            request = request.header(COOKIE, format!("wos-session={sealed}"));
        }
        Self::answer(request.send().await.unwrap()).await
    }

    /// A server function call as the WebAssembly client makes it (form-encoded arguments,
    /// JSON back).
    async fn call(&self, endpoint: &str, args: &str, session: &str) -> Answer {
        let response = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .header(COOKIE, format!("wos-session={session}"))
            .body(args.to_owned())
            .send()
            .await
            .unwrap();
        Self::answer(response).await
    }

    /// The whole sign-in flow through the demo's routes and the emulator; returns the
    /// session and pushes the flow's secrets (code, state, verifier) onto `secrets`.
    async fn sign_in(&self, secrets: &mut Vec<String>) -> SignedIn {
        let start = self
            .page("/auth/sign-in?return_to=%2Fdashboard", None)
            .await;
        assert_eq!(
            start.status,
            StatusCode::FOUND,
            "the sign-in start redirects"
        );
        let authorize = start.location().to_owned();
        let verifier_pair = start
            .headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("wos-auth-verifier-"))
            .and_then(|c| c.split(';').next())
            .expect("a verifier cookie")
            .to_owned();
        let approved = Self::answer(self.http.get(&authorize).send().await.unwrap()).await;
        assert_eq!(
            approved.status.as_u16(),
            302,
            "the emulator approves at once"
        );
        let back = Url::parse(approved.location()).unwrap();
        let query = |name: &str| {
            back.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap()
        };
        let (code, state) = (query("code"), query("state"));
        let flow = authkit_leptos::testing::FlowState::unseal(&state, self.kit.config())
            .expect("the state unseals");
        secrets.extend([code, state, flow.code_verifier]);
        let callback = self
            .http
            .get(format!(
                "{}{}?{}",
                self.base,
                back.path(),
                back.query().unwrap_or_default()
            ))
            .header(COOKIE, verifier_pair)
            .send()
            .await
            .unwrap();
        let callback = Self::answer(callback).await;
        assert!(callback.status.is_redirection(), "{}", callback.body);
        assert_eq!(callback.location(), format!("{}/dashboard", self.base));
        let sealed = callback
            .set_cookie("wos-session")
            .expect("a session cookie");
        self.session(&sealed)
    }

    fn session(&self, sealed: &str) -> SignedIn {
        let json = authkit_leptos::seal::unseal_json(sealed, &PasswordMap::single(PASSWORD))
            .expect("the session unseals");
        SignedIn {
            sealed: sealed.to_owned(),
            access_token: json["accessToken"].as_str().unwrap().to_owned(),
            refresh_token: json["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.server)
            .await
            .expect("the server stops")
            .unwrap();
        self.emulator.shutdown().await;
    }
}

impl SignedIn {
    fn secrets(&self) -> [String; 3] {
        [
            self.sealed.clone(),
            self.access_token.clone(),
            self.refresh_token.clone(),
        ]
    }
}

/// Every page of the demo (app/src/app.rs) and what a signed-in Ada sees on it in the
/// organization she is in (`admin` of Acme, or `member` of Globex).
fn pages(admin: bool) -> Vec<(&'static str, StatusCode, &'static str)> {
    let ok = StatusCode::OK;
    vec![
        ("/", ok, "Welcome back, Ada"),
        ("/about", ok, "About this notebook"),
        ("/profile", ok, "Welcome, Ada"),
        (
            "/dashboard",
            ok,
            if admin { "Role: admin" } else { "Role: member" },
        ),
        ("/protected", ok, "Protected content"),
        ("/protected/in-order", ok, "Protected content"),
        ("/protected/async", ok, "Protected content"),
        ("/protected/partially-blocked", ok, "Protected content"),
        ("/protected/about", ok, "About this notebook"),
        ("/data", ok, "Hello from the demo API"),
        (
            "/features",
            ok,
            if admin {
                "New Feature Available!"
            } else {
                "Nothing new for this organization yet."
            },
        ),
        if admin {
            ("/team", ok, "You manage the members of this organization")
        } else {
            ("/team", StatusCode::FORBIDDEN, "No access")
        },
    ]
}

/// Serves every page to the signed-in user; returns their HTML, labelled.
async fn visit_every_page(demo: &Demo, sealed: &str, admin: bool) -> Vec<(String, String)> {
    let mut served = Vec::new();
    for (path, status, text) in pages(admin) {
        let page = demo.page(path, Some(sealed)).await;
        assert_eq!(page.status, status, "{path}: {}", page.body);
        // Text without the hydration markers between a view's parts.
        let shown = page.body.replace("<!>", "");
        assert!(shown.contains(text), "{path} shows {text:?}: {}", page.body);
        assert!(
            page.body.contains("ada@example.com"),
            "{path} is served to the signed-in user: {}",
            page.body
        );
        assert!(
            !page.body.contains("class=\"error\""),
            "{path} rendered an error: {}",
            page.body
        );
        served.push((format!("page {path}"), page.body));
    }
    served
}

/// Longer than any id or word in a page, so a hit is the secret and not a coincidence.
const FRAGMENT: usize = 16;

/// The secret and the distinctive parts of it a truncated log line could still hold:
/// a JWT's signature, and the middle of anything long.
fn fragments(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_owned()];
    let parts: Vec<&str> = secret.split('.').collect();
    if parts.len() == 3 && parts[2].len() >= FRAGMENT {
        out.push(parts[2].to_owned());
    }
    if secret.len() >= 2 * FRAGMENT && secret.is_ascii() {
        let middle = secret.len() / 2 - FRAGMENT / 2;
        out.push(secret[middle..middle + FRAGMENT].to_owned());
    }
    out
}

/// Fails naming the secret and the place if any fragment of any secret is in `text`.
fn assert_free_of(place: &str, text: &str, secrets: &[(&'static str, String)]) {
    for (what, secret) in secrets {
        for fragment in fragments(secret) {
            assert!(
                !text.contains(&fragment),
                "{place} contains the {what} (fragment {}…):\n{text}",
                &fragment[..8.min(fragment.len())]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_the_logs_or_the_html_of_any_demo_page() {
    let logs = capture::install();
    let demo = Demo::start().await;
    let mut flow_secrets = Vec::new();
    let mut sessions = Vec::new();
    // Every answer the browser got that must hold no secret at all, and the server
    // functions' answers, which may hold the access token only from `access-token`.
    let mut served: Vec<(String, String)> = Vec::new();
    let mut function_answers: Vec<(String, String)> = Vec::new();

    // Sign in (Ada lands in Acme as an admin) and see every page.
    let ada = demo.sign_in(&mut flow_secrets).await;
    served.extend(visit_every_page(&demo, &ada.sealed, true).await);

    // The not-found page (the router's fallback) shows nothing of the session either.
    let missing = demo.page("/no-such-page", Some(&ada.sealed)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    served.push(("page /no-such-page".into(), missing.body));

    // Each server function of the demo and of the crate.
    let organizations = demo.call("authkit/organizations", "", &ada.sealed).await;
    assert_eq!(
        organizations.status,
        StatusCode::OK,
        "{}",
        organizations.body
    );
    let organizations: serde_json::Value = serde_json::from_str(&organizations.body).unwrap();
    let org_id = |name: &str| {
        organizations
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .and_then(|o| o["id"].as_str())
            .unwrap()
            .to_owned()
    };
    let (acme, globex, umbrella) = (org_id("Acme"), org_id("Globex"), org_id("Umbrella"));
    let calls: Vec<(&str, String)> = vec![
        ("demo/profile", String::new()),
        ("demo/dashboard", String::new()),
        ("demo/protected", String::new()),
        ("demo/data", String::new()),
        ("demo/invite_member", "email=grace%40example.com".into()),
        ("authkit/snapshot", String::new()),
        ("authkit/access-token", String::new()),
        ("authkit/organizations", String::new()),
        (
            "authkit/organization-name",
            format!("organization_id={acme}"),
        ),
    ];
    for (endpoint, args) in &calls {
        let answer = demo.call(endpoint, args, &ada.sealed).await;
        assert_eq!(answer.status, StatusCode::OK, "{endpoint}: {}", answer.body);
        function_answers.push((format!("server function {endpoint}"), answer.body));
    }
    let token = demo.call("authkit/access-token", "", &ada.sealed).await;
    assert!(
        token.body.contains(&ada.access_token),
        "the access-token server function hands the token to its signed-in caller"
    );

    // The Bearer API route: the token is accepted, a tampered one is not.
    let api = |token: String| {
        demo.http
            .get(format!("{}/demo-api/data", demo.base))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
    };
    let accepted = Demo::answer(api(ada.access_token.clone()).await.unwrap()).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    served.push(("the Bearer API's answer".into(), accepted.body));
    let mut tampered = ada.access_token.clone();
    tampered.push('x');
    let refused = Demo::answer(api(tampered).await.unwrap()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    served.push(("the Bearer API's refusal".into(), refused.body));

    // A refresh by organization switch (into Globex, where Ada is a member), then every
    // page again; a switch WorkOS refuses (Umbrella wants SSO) must not leak either.
    let switched = demo
        .call(
            "authkit/switch-organization",
            &format!("organization_id={globex}"),
            &ada.sealed,
        )
        .await;
    assert_eq!(switched.status, StatusCode::OK, "{}", switched.body);
    let globex_session = demo.session(&switched.set_cookie("wos-session").expect("a new session"));
    function_answers.push(("switch-organization".into(), switched.body));
    served.extend(visit_every_page(&demo, &globex_session.sealed, false).await);
    let sso = demo
        .call(
            "authkit/switch-organization",
            &format!("organization_id={umbrella}"),
            &globex_session.sealed,
        )
        .await;
    assert!(!sso.status.is_success(), "{}", sso.body);
    assert!(
        sso.body.contains("ReauthenticationRequired"),
        "{}",
        sso.body
    );
    function_answers.push(("switch-organization refused".into(), sso.body));

    // A refresh of an expired access token, on a page load; then every page with the
    // refreshed session.
    demo.emulator.set_token_ttl(Duration::ZERO);
    let expired = demo.sign_in(&mut flow_secrets).await;
    demo.emulator.set_token_ttl(Duration::from_secs(300));
    let home = demo.page("/", Some(&expired.sealed)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.replace("<!>", "").contains("Welcome back, Ada"),
        "{}",
        home.body
    );
    let refreshed = demo.session(&home.set_cookie("wos-session").expect("a refreshed session"));
    assert_ne!(refreshed.refresh_token, expired.refresh_token);
    served.push(("page / (refreshing)".into(), home.body));
    served.extend(visit_every_page(&demo, &refreshed.sealed, true).await);

    // Sign out: the server function (as the sign-out button calls it) and the form route.
    let out = demo
        .call("authkit/sign-out", "", &globex_session.sealed)
        .await;
    assert!(!out.status.is_server_error(), "{}", out.body);
    assert_eq!(out.set_cookie("wos-session").as_deref(), Some(""));
    function_answers.push(("sign-out".into(), out.body));
    let out = demo
        .http
        .post(format!("{}/auth/sign-out", demo.base))
        .header(ACCEPT, "text/html")
        .header(COOKIE, format!("wos-session={}", refreshed.sealed))
        .send()
        .await
        .unwrap();
    let out = Demo::answer(out).await;
    assert!(out.status.is_redirection(), "{}: {}", out.status, out.body);
    assert_eq!(out.set_cookie("wos-session").as_deref(), Some(""));
    // The browser follows the logout URL to WorkOS, which ends the session.
    let logout = Demo::answer(demo.http.get(out.location()).send().await.unwrap()).await;
    assert!(logout.status.is_redirection(), "{}", logout.body);
    served.push(("sign-out".into(), out.body));

    sessions.extend([ada, globex_session, expired, refreshed]);
    let mut secrets: Vec<(&'static str, String)> = vec![
        ("cookie password", PASSWORD.to_owned()),
        ("WorkOS API key", demo.emulator.api_key().to_owned()),
    ];
    assert_eq!(secrets[1].1, API_KEY);
    for session in &sessions {
        let [sealed, access, refresh] = session.secrets();
        secrets.extend([
            ("sealed session", sealed),
            ("access token", access),
            ("refresh token", refresh),
        ]);
    }
    for (i, secret) in flow_secrets.into_iter().enumerate() {
        secrets.push((
            ["authorization code", "sealed state", "code verifier"][i % 3],
            secret,
        ));
    }
    assert_eq!(secrets.len(), 2 + 4 * 3 + 2 * 3);

    for (place, html) in &served {
        assert_free_of(place, html, &secrets);
    }
    // The access token is the answer of `access-token`, and in no other one.
    let except_access_tokens: Vec<_> = secrets
        .iter()
        .filter(|(what, _)| *what != "access token")
        .cloned()
        .collect();
    for (place, body) in &function_answers {
        if place.ends_with("authkit/access-token") {
            assert_free_of(place, body, &except_access_tokens);
        } else {
            assert_free_of(place, body, &secrets);
        }
    }

    demo.stop().await;
    let logs = logs.lock().unwrap().clone();
    assert!(
        logs.contains("WorkOS call") && logs.lines().count() > 20,
        "the run logged (at TRACE): {logs}"
    );
    assert_free_of("the log", &logs, &secrets);
}
