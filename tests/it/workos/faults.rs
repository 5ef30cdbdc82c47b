//! #11 R4 — WorkOS faults, through the real router and the emulator's fault injection
//! (`Emulator::inject_fault`) on the three upstream calls a request can make: the code
//! exchange (callback → `authenticate`, grant `authorization_code`), the refresh
//! (`authenticate`, grant `refresh_token`) and the signing keys (`jwks`).
//!
//! One table of faults — 500, 502, 503, 504, 429 with `Retry-After`, an answer slower than
//! the crate's HTTP timeout (set to [`TIMEOUT`] here) and a dropped connection — runs
//! against each call, plus the JWKS down at start-up (cold cache) and later (cache expired,
//! on a movable clock), and a signing key rotated mid-run (with the old key retired, and
//! during a JWKS outage).
//!
//! What the crate does, and what these tests hold it to:
//!
//! - **Nobody is signed out by a transient fault.** The session cookie is never deleted
//!   nor replaced: a request that cannot be checked is served *signed out for this request
//!   only* (the layer's "undetermined" state) — `200` on an open page, the usual redirect
//!   to AuthKit (`307`, cookie untouched) on a middleware-auth page — or, when the access
//!   token is still valid (a proactive refresh failed), served signed in. The same cookie
//!   signs the user in again as soon as WorkOS answers.
//! - **No 5xx from pages under the layer.** The one 5xx in this suite is the callback's
//!   own error page when the *code exchange* fails transiently: `502 Bad Gateway`, "We
//!   couldn't complete your sign-in. Please try again." with a "Sign in again" link
//!   (documented on `CallbackError::status`; `callback::finish` asserts the same). It
//!   sets no session cookie and deletes none.
//! - **Retries are bounded.** The WorkOS client never retries; a refresh retries once
//!   after a `429` (waiting `Retry-After`), concurrent requests share one exchange, and
//!   a failing JWKS is fetched at most once per back-off window.
//! - **Terminal faults sign out clearly.** `invalid_grant` on a refresh of an expired
//!   token deletes the cookie (and a middleware-auth page redirects to sign in); a `400`
//!   on the code exchange shows the callback's error page (`400`), with no session.
//!
//! Faults other suites pin one by one (`refresh`, `callback`, `tokens`) are here as one
//! matrix, with
//! every case named in its failure messages.

use crate::support::*;
use authkit_leptos::emulator::{Endpoint, Fault, GrantType};
use authkit_leptos::jwt::{Clock, TokenVerifier};
use authkit_leptos::testing::EmulatorConfig as _;
use axum::body::Body;
use axum::Router;
use http::{header, Request, Response, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tower::ServiceExt as _;

/// The crate's WorkOS HTTP timeout in these tests.
const TIMEOUT: Duration = Duration::from_millis(400);
/// How long a "slow" fault holds its answer: well past [`TIMEOUT`].
const SLOW: Duration = Duration::from_millis(1_500);
/// The JWKS unknown-kid cooldown in these tests (a cold cache whose fetch failed waits
/// this long, at most 5 s, before fetching again).
const COOLDOWN: Duration = Duration::from_secs(1);
/// `Retry-After` of the 429 fault, in seconds.
const RETRY_AFTER: u64 = 1;

/// One transient fault of the matrix.
#[derive(Clone, Copy, Debug)]
enum Kind {
    S500,
    S502,
    S503,
    S504,
    RateLimited,
    Slow,
    Dropped,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::S500,
        Kind::S502,
        Kind::S503,
        Kind::S504,
        Kind::RateLimited,
        Kind::Slow,
        Kind::Dropped,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::S500 => "500",
            Kind::S502 => "502",
            Kind::S503 => "503",
            Kind::S504 => "504",
            Kind::RateLimited => "429 + Retry-After",
            Kind::Slow => "slow answer past the timeout",
            Kind::Dropped => "dropped connection",
        }
    }

    /// The fault, for the next `times` calls.
    fn fault(self, times: u32) -> Fault {
        match self {
            Kind::S500 => Fault::status(500),
            Kind::S502 => Fault::status(502),
            Kind::S503 => Fault::status(503),
            Kind::S504 => Fault::status(504),
            Kind::RateLimited => Fault::status(429).retry_after(RETRY_AFTER),
            Kind::Slow => Fault::delay(SLOW),
            Kind::Dropped => Fault::drop_connection(),
        }
        .times(times)
    }

    /// Calls one refresh makes while the fault lasts: the crate retries a 429 once.
    fn refresh_calls(self) -> u64 {
        match self {
            Kind::RateLimited => 2,
            _ => 1,
        }
    }
}

/// The harness for this suite: a short WorkOS timeout, a short JWKS cooldown, `/` open
/// and `/dashboard` behind middleware-auth.
fn options() -> Options {
    Options {
        config: |c| c.http_timeout(TIMEOUT),
        builder: |b| b.jwks_refetch_cooldown(COOLDOWN),
        layer: |l| l.middleware_auth(["/"]).expect("pattern compiles"),
        ..Options::default()
    }
}

/// What a user notices about one page response.
#[derive(Debug)]
struct Seen {
    status: StatusCode,
    location: Option<String>,
    /// The `wos-session` `Set-Cookie`, if any (a replacement or a deletion).
    session_cookie: Option<String>,
    /// The signed-in user's email the page showed (open pages answer JSON).
    email: Option<String>,
}

impl Seen {
    async fn of(response: Response<Body>) -> Self {
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let session_cookie = session_set_cookie(&response);
        let text = body_text(response).await;
        let email = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|j| j["email"].as_str().map(str::to_owned));
        Self {
            status,
            location,
            session_cookie,
            email,
        }
    }

    fn deleted(&self) -> bool {
        self.session_cookie
            .as_deref()
            .is_some_and(|c| c.starts_with("wos-session=;") && c.contains("Max-Age=0"))
    }
}

async fn visit(app: &Router, path: &str, cookie: &str) -> Seen {
    let response = app
        .clone()
        .oneshot(
            Request::get(path)
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, format!("wos-session={cookie}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .expect("the router is infallible");
    Seen::of(response).await
}

/// The open page `/` served the request signed out *for this request*, keeping the cookie.
fn assert_undetermined_open(seen: &Seen, case: &str) {
    assert_eq!(seen.status, StatusCode::OK, "{case}: open page status");
    assert_eq!(seen.email, None, "{case}: nobody can be verified right now");
    assert_eq!(
        seen.session_cookie, None,
        "{case}: the session cookie is neither deleted nor replaced"
    );
}

/// The middleware-auth page `/dashboard` sent the request to AuthKit, keeping the cookie.
fn assert_undetermined_protected(h: &Harness, seen: &Seen, case: &str) {
    assert_eq!(
        seen.status,
        StatusCode::TEMPORARY_REDIRECT,
        "{case}: protected page status"
    );
    let to = seen.location.as_deref().unwrap_or_default();
    assert!(
        to.starts_with(h.emulator.base_url()) && to.contains("/user_management/authorize"),
        "{case}: sent to AuthKit, not {to}"
    );
    assert_eq!(
        seen.session_cookie, None,
        "{case}: the redirect leaves the session cookie alone"
    );
}

/// Served signed in as Ada with the cookie kept as it is.
fn assert_served(seen: &Seen, case: &str) {
    assert_eq!(seen.status, StatusCode::OK, "{case}: status");
    assert_eq!(
        seen.email.as_deref(),
        Some("ada@example.com"),
        "{case}: still signed in"
    );
    assert!(!seen.deleted(), "{case}: cookie not deleted");
}

fn authenticate_calls(h: &Harness) -> u64 {
    h.emulator.counters().get(Endpoint::Authenticate)
}

fn jwks_calls(h: &Harness) -> u64 {
    h.emulator.counters().get(Endpoint::Jwks)
}

/// Sends the same page request `n` times at once.
async fn burst(app: &Router, path: &str, cookie: &str, n: usize) -> Vec<Seen> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (app, path, cookie) = (app.clone(), path.to_owned(), cookie.to_owned());
            tokio::spawn(async move { visit(&app, &path, &cookie).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("no request panicked"));
    }
    out
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Sends a callback request for `flow`, with an existing session cookie when given.
async fn callback(h: &Harness, flow: &Flow, session: Option<&str>) -> Response<Body> {
    let mut cookie = flow.verifier_pair.clone();
    if let Some(s) = session {
        cookie.push_str(&format!("; wos-session={s}"));
    }
    h.send(
        Request::get(format!(
            "{}?code={}&state={}",
            h.kit.callback_path(),
            encode(&flow.code),
            encode(&flow.state)
        ))
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap(),
    )
    .await
}

// ------------------------------------------------------------------ code exchange

/// A transient fault on the code exchange: the callback answers its retryable error page
/// (`502`, "Please try again", a "Sign in again" link) without hammering WorkOS (one
/// call, no retry — a 429 included, which is WorkOS being busy, not refusing the code),
/// within the timeout; it writes no session, and a session the browser already holds is
/// neither deleted nor used to paper over the failure; signing in again then works.
#[tokio::test]
async fn code_exchange_faults_show_a_retryable_error_and_keep_any_session() {
    let h = Harness::with(options()).await;
    let existing = h.sign_in().await;
    for kind in Kind::ALL {
        for holder in [None, Some(existing.as_str())] {
            let case = format!(
                "code exchange × {} ({})",
                kind.name(),
                if holder.is_some() {
                    "browser already signed in"
                } else {
                    "no session yet"
                }
            );
            let flow = h.flow("/auth/sign-in?return_to=%2Fdashboard").await;
            h.emulator.reset_counters();
            h.emulator
                .inject_fault(Endpoint::Authenticate, kind.fault(1));
            let started = Instant::now();
            let response = callback(&h, &flow, holder).await;
            let took = started.elapsed();
            let status = response.status();
            let cookies = set_cookies(response.headers());
            let cache = response.headers().get(header::CACHE_CONTROL).cloned();
            let page = body_text(response).await;
            assert_eq!(status, StatusCode::BAD_GATEWAY, "{case}: {page}");
            assert!(
                page.contains("Please try again") && page.contains("href=\"/auth/sign-in\""),
                "{case}: a retryable error page: {page}"
            );
            assert!(page.contains("authentication_failed"), "{case}: {page}");
            assert!(
                page.contains("Sign in again")
                    && !page.contains("panicked")
                    && !page.contains("src/"),
                "{case}: a plain page, no internals: {page}"
            );
            assert!(
                !cookies.iter().any(|c| c.starts_with("wos-session")),
                "{case}: no session written or deleted: {cookies:?}"
            );
            assert!(
                cookies
                    .iter()
                    .any(|c| c.starts_with("wos-auth-verifier-") && c.contains("Max-Age=0")),
                "{case}: the flow cookie is spent: {cookies:?}"
            );
            assert_eq!(
                cache.as_ref().map(|v| v.to_str().unwrap()),
                Some(authkit_leptos::testing::PRIVATE_NO_STORE),
                "{case}"
            );
            assert_eq!(authenticate_calls(&h), 1, "{case}: one call, no retry");
            assert!(
                took < SLOW,
                "{case}: answered within the timeout ({took:?})"
            );
            h.emulator.clear_faults();
        }
        let case = format!("code exchange × {}", kind.name());
        // The session the browser already had still works.
        assert_served(&visit(&h.app, "/dashboard", &existing).await, &case);
        // "Sign in again" works once WorkOS answers.
        let again = h.sign_in_with("/auth/sign-in?return_to=%2Fdashboard").await;
        assert_eq!(
            again.status,
            StatusCode::TEMPORARY_REDIRECT,
            "{case}: signing in again"
        );
        assert_served(&visit(&h.app, "/dashboard", &again.session).await, &case);
    }
}

// ------------------------------------------------------------------ refresh

/// A transient fault on the refresh of an *expired* access token: the open page serves
/// the request signed out for now and the middleware-auth page redirects to AuthKit, both
/// with the cookie untouched; a burst of concurrent requests shares one exchange (two
/// calls for a 429: one retry after `Retry-After`); once WorkOS answers, the same cookie
/// is signed in (refreshed) again.
#[tokio::test]
async fn refresh_faults_on_an_expired_token_keep_the_cookie() {
    let h = Harness::with(options()).await;
    for kind in Kind::ALL {
        let case = format!("refresh (expired token) × {}", kind.name());
        let cookie = h.expired_session().await;
        h.emulator
            .inject_fault(Endpoint::Authenticate, kind.fault(1_000));

        let started = Instant::now();
        let open = visit(&h.app, "/", &cookie).await;
        let took = started.elapsed();
        assert_undetermined_open(&open, &format!("{case}, open page"));
        assert_eq!(
            authenticate_calls(&h),
            kind.refresh_calls(),
            "{case}: calls"
        );
        let bound = match kind {
            Kind::RateLimited => Duration::from_secs(RETRY_AFTER) + SLOW,
            _ => SLOW,
        };
        assert!(
            took < bound,
            "{case}: answered within the timeout ({took:?})"
        );

        h.emulator.reset_counters();
        let protected = visit(&h.app, "/dashboard", &cookie).await;
        assert_undetermined_protected(&h, &protected, &format!("{case}, protected page"));
        assert_eq!(
            authenticate_calls(&h),
            kind.refresh_calls(),
            "{case}: calls"
        );

        h.emulator.reset_counters();
        for (i, seen) in burst(&h.app, "/", &cookie, 8).await.iter().enumerate() {
            assert_undetermined_open(seen, &format!("{case}, concurrent request {i}"));
        }
        assert_eq!(
            authenticate_calls(&h),
            kind.refresh_calls(),
            "{case}: 8 concurrent requests share one exchange"
        );

        // WorkOS is back: the same cookie signs in again.
        h.emulator.clear_faults();
        if matches!(kind, Kind::Slow) {
            // Let any delayed call the client gave up on reach the emulator's handler.
            tokio::time::sleep(SLOW).await;
        }
        let back = visit(&h.app, "/dashboard", &cookie).await;
        assert_eq!(back.status, StatusCode::OK, "{case}: after the fault");
        assert_eq!(
            back.email.as_deref(),
            Some("ada@example.com"),
            "{case}: signed in again with the same cookie"
        );
        assert!(
            back.session_cookie
                .as_deref()
                .is_some_and(|c| c.starts_with("wos-session=Fe26.2*")),
            "{case}: refreshed: {:?}",
            back.session_cookie
        );
    }
}

/// A transient fault on the *proactive* refresh of a token that is still valid: the user
/// is served signed in on the open and the middleware-auth page alike, the cookie stays,
/// and WorkOS gets one exchange (two for a 429) per burst of requests.
#[tokio::test]
async fn refresh_faults_on_a_still_valid_token_keep_serving_the_user() {
    let h = Harness::with(options()).await;
    for kind in Kind::ALL {
        let case = format!("refresh (token still valid) × {}", kind.name());
        // 300-second tokens refresh in their last 30 s; this one has 20 s left.
        let cookie = h
            .session_expiring_in(Duration::from_secs(20), Duration::from_secs(300))
            .await;
        h.emulator
            .inject_fault(Endpoint::Authenticate, kind.fault(1_000));
        for path in ["/", "/dashboard"] {
            h.emulator.reset_counters();
            let seen = visit(&h.app, path, &cookie).await;
            assert_served(&seen, &format!("{case}, {path}"));
            assert_eq!(seen.session_cookie, None, "{case}, {path}: cookie kept");
            assert_eq!(
                authenticate_calls(&h),
                kind.refresh_calls(),
                "{case}, {path}: calls"
            );
        }
        h.emulator.reset_counters();
        for (i, seen) in burst(&h.app, "/dashboard", &cookie, 8)
            .await
            .iter()
            .enumerate()
        {
            assert_served(seen, &format!("{case}, concurrent request {i}"));
        }
        assert_eq!(
            authenticate_calls(&h),
            kind.refresh_calls(),
            "{case}: 8 concurrent requests share one exchange"
        );
        h.emulator.clear_faults();
    }
}

/// Terminal faults end the session clearly: `invalid_grant` on the refresh of an expired
/// token deletes the cookie (open page: signed out; middleware-auth page: redirected to
/// AuthKit with the deletion); a refused code shows the callback's `400` error page and
/// writes no session. (A `401` — WorkOS refusing *our* API key — is the operator's
/// problem, not the user's: the cookie stays.)
#[tokio::test]
async fn terminal_faults_sign_out_clearly() {
    let h = Harness::with(options()).await;
    let invalid_grant = || {
        Fault::status(400).body(serde_json::json!({
            "error": "invalid_grant",
            "error_description": "Session has already ended."
        }))
    };
    for path in ["/", "/dashboard"] {
        let case = format!("refresh × invalid_grant, {path}");
        let cookie = h.expired_session().await;
        h.emulator
            .inject_fault(Endpoint::Authenticate, invalid_grant());
        let seen = visit(&h.app, path, &cookie).await;
        assert!(seen.deleted(), "{case}: cookie deleted: {seen:?}");
        assert_eq!(seen.email, None, "{case}");
        match path {
            "/" => assert_eq!(seen.status, StatusCode::OK, "{case}"),
            _ => assert_sent_to_authkit(&h, &seen, &case),
        }
        assert_eq!(authenticate_calls(&h), 1, "{case}: no retry");
    }

    let case = "code exchange × 400 invalid_grant";
    let flow = h.flow("/auth/sign-in").await;
    h.emulator.reset_counters();
    h.emulator
        .inject_fault(Endpoint::Authenticate, invalid_grant());
    let response = callback(&h, &flow, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case}");
    assert!(
        session_set_cookie(&response).is_none(),
        "{case}: no session"
    );
    let page = body_text(response).await;
    assert!(
        page.contains("Couldn't sign you in") && page.contains("authentication_failed"),
        "{case}: {page}"
    );
    assert!(
        page.contains("Sign in again") && !page.contains("panicked") && !page.contains("src/"),
        "{case}: a plain page, no internals: {page}"
    );
    assert_eq!(authenticate_calls(&h), 1, "{case}");

    let case = "refresh × 401 (API key refused)";
    let cookie = h.expired_session().await;
    h.emulator
        .inject_fault(Endpoint::Authenticate, Fault::status(401));
    assert_undetermined_open(&visit(&h.app, "/", &cookie).await, case);
    h.emulator.clear_faults();
    assert_served(&visit(&h.app, "/", &cookie).await, case);
}

/// The protected page's answer to a terminal fault: the same redirect to AuthKit, but
/// with the cookie's deletion.
fn assert_sent_to_authkit(h: &Harness, seen: &Seen, case: &str) {
    assert_eq!(seen.status, StatusCode::TEMPORARY_REDIRECT, "{case}");
    let to = seen.location.as_deref().unwrap_or_default();
    assert!(
        to.starts_with(h.emulator.base_url()),
        "{case}: sent to AuthKit, not {to}"
    );
}

// ------------------------------------------------------------------ JWKS

/// JWKS down at start-up (a cold cache, as after a restart): the first request with a
/// valid cookie is served signed out for now with the cookie kept (open page `200`,
/// middleware-auth page `307` to AuthKit), a burst of requests does not hammer the JWKS
/// (one fetch per back-off window), a new sign-in still completes (the tokens come from
/// WorkOS over the back channel), and once the keys are back both cookies are signed in.
#[tokio::test]
async fn jwks_faults_at_start_up_keep_every_cookie() {
    for kind in Kind::ALL {
        let case = format!("JWKS at start-up × {}", kind.name());
        let h = Harness::with(options()).await;
        // A cookie minted by another instance of the app (same password), so this one's
        // key cache is still cold.
        let cookie = minted_elsewhere(&h).await;
        h.emulator.reset_counters();
        h.emulator.inject_fault(Endpoint::Jwks, kind.fault(1_000));

        let started = Instant::now();
        let open = visit(&h.app, "/", &cookie).await;
        let took = started.elapsed();
        assert_undetermined_open(&open, &format!("{case}, first request"));
        assert_eq!(jwks_calls(&h), 1, "{case}: one fetch");
        assert!(
            took < SLOW,
            "{case}: answered within the timeout ({took:?})"
        );

        for (i, seen) in burst(&h.app, "/", &cookie, 10).await.iter().enumerate() {
            assert_undetermined_open(seen, &format!("{case}, concurrent request {i}"));
        }
        let protected = visit(&h.app, "/dashboard", &cookie).await;
        assert_undetermined_protected(&h, &protected, &format!("{case}, protected page"));
        assert!(
            jwks_calls(&h) <= 2,
            "{case}: 12 requests, {} JWKS fetches",
            jwks_calls(&h)
        );

        // Signing in while the JWKS is down.
        let fresh = h.sign_in_with("/auth/sign-in?return_to=%2Fdashboard").await;
        assert_eq!(
            fresh.status,
            StatusCode::TEMPORARY_REDIRECT,
            "{case}: sign-in completes: {:?}",
            fresh.location
        );
        assert!(!fresh.session.is_empty(), "{case}: a session is stored");
        assert_undetermined_open(
            &visit(&h.app, "/", &fresh.session).await,
            &format!("{case}, new session"),
        );
        assert_eq!(
            h.emulator.counters().grant(GrantType::AuthorizationCode),
            1,
            "{case}: the code was exchanged once"
        );

        h.emulator.clear_faults();
        tokio::time::sleep(COOLDOWN).await;
        for (name, c) in [("existing", &cookie), ("new", &fresh.session)] {
            let seen = visit(&h.app, "/dashboard", c).await;
            assert_served(&seen, &format!("{case}, {name} cookie after the outage"));
            assert_eq!(seen.session_cookie, None, "{case}, {name}: not rewritten");
        }
        assert_eq!(
            h.emulator.counters().grant(GrantType::RefreshToken),
            0,
            "{case}: nothing had to be refreshed"
        );
    }
}

/// A session signed in through another `AuthKit` (same emulator and password): a cookie
/// the harness's own key cache has not seen.
async fn minted_elsewhere(h: &Harness) -> String {
    let config = h
        .emulator
        .config_builder()
        .redirect_uri(REDIRECT_URI)
        .cookie_password(PASSWORD)
        .build()
        .unwrap();
    let kit = authkit_leptos::AuthKit::new(config).unwrap();
    let app = test_routes()
        .merge(kit.routes())
        .layer(kit.layer().matcher(["/"]).unwrap());
    authkit_leptos::testing::sign_in(&app, &kit, "ada@example.com")
        .await
        .expect("signed in elsewhere")
        .value()
        .to_owned()
}

/// JWKS down in a running app: keys already fetched keep verifying every cookie, with no
/// call to the failing endpoint.
#[tokio::test]
async fn jwks_faults_in_a_running_app_are_not_noticed() {
    let h = Harness::with(options()).await;
    let cookie = h.sign_in().await;
    assert_served(&visit(&h.app, "/dashboard", &cookie).await, "warm-up");
    for kind in Kind::ALL {
        let case = format!("JWKS while running × {}", kind.name());
        h.emulator.reset_counters();
        h.emulator.inject_fault(Endpoint::Jwks, kind.fault(1_000));
        for path in ["/", "/dashboard"] {
            let seen = visit(&h.app, path, &cookie).await;
            assert_served(&seen, &format!("{case}, {path}"));
            assert_eq!(seen.session_cookie, None, "{case}, {path}");
        }
        assert_eq!(jwks_calls(&h), 0, "{case}: the cached keys answer");
        h.emulator.clear_faults();
    }
}

/// A clock the test moves by hand (monotonic and wall time together).
struct MovableClock {
    start: Instant,
    start_wall: SystemTime,
    offset: Mutex<Duration>,
}

impl MovableClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            start_wall: SystemTime::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }
    fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }
}

impl Clock for MovableClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap()
    }
    fn system_now(&self) -> SystemTime {
        self.start_wall + *self.offset.lock().unwrap()
    }
}

/// Waits (up to 5 s) until the emulator has received `n` JWKS calls, then for the
/// longest a call can take (the timeout), so the background refetch has finished.
async fn jwks_calls_reach(h: &Harness, n: u64, case: &str) {
    let until = Instant::now() + Duration::from_secs(5);
    while jwks_calls(h) < n {
        assert!(
            Instant::now() < until,
            "{case}: {} JWKS calls, expected {n}",
            jwks_calls(h)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(TIMEOUT + Duration::from_millis(100)).await;
}

/// JWKS down later, once the cached keys are past their lifetime (a short TTL on a
/// movable clock, the crate's WorkOS client as the source): every verification still
/// succeeds with the stale keys, the refetch runs in the background at most once per
/// cooldown however many tokens are checked, and the keys are fetched again once the
/// JWKS answers.
#[tokio::test]
async fn jwks_faults_after_the_cache_expired_keep_verifying_with_the_last_keys() {
    const TTL: Duration = Duration::from_secs(60);
    const VERIFIER_COOLDOWN: Duration = Duration::from_secs(30);
    let h = Harness::with(options()).await;
    // An hour-long token, so moving the clock never expires it.
    let cookie = h.sign_in_with_ttl(Duration::from_secs(3_600)).await;
    let token = unseal(&cookie)["accessToken"].as_str().unwrap().to_owned();
    for kind in Kind::ALL {
        let case = format!("JWKS after the cache expired × {}", kind.name());
        let clock = MovableClock::new();
        let client = h.kit.client().clone();
        let verifier = TokenVerifier::builder(move || {
            let client = client.clone();
            async move { client.fetch_jwks().await }
        })
        .cache_ttl(TTL)
        .refetch_cooldown(VERIFIER_COOLDOWN)
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .build();
        h.emulator.reset_counters();
        verifier.verify(&token).await.expect("warm-up");
        assert_eq!(jwks_calls(&h), 1, "{case}: warm-up fetch");

        h.emulator.inject_fault(Endpoint::Jwks, kind.fault(1_000));
        clock.advance(TTL + Duration::from_secs(1));
        for i in 0..20 {
            verifier
                .verify(&token)
                .await
                .unwrap_or_else(|e| panic!("{case}: verification {i} failed: {e}"));
        }
        jwks_calls_reach(&h, 2, &case).await;
        for i in 0..20 {
            verifier
                .verify(&token)
                .await
                .unwrap_or_else(|e| panic!("{case}: verification {i} after the refetch: {e}"));
        }
        assert_eq!(jwks_calls(&h), 2, "{case}: one refetch per cooldown");

        clock.advance(VERIFIER_COOLDOWN);
        verifier.verify(&token).await.expect("still verifies");
        jwks_calls_reach(&h, 3, &case).await;

        h.emulator.clear_faults();
        clock.advance(VERIFIER_COOLDOWN);
        verifier.verify(&token).await.expect("verifies");
        jwks_calls_reach(&h, 4, &case).await;
        // The fresh keys are used for a whole TTL again: no further fetch.
        clock.advance(TTL / 2);
        verifier.verify(&token).await.expect("verifies");
        assert_eq!(jwks_calls(&h), 4, "{case}: the refetch succeeded");
    }
}

// ------------------------------------------------------------------ key rotation

/// WorkOS rotates its signing key and stops publishing the old one mid-run: a new
/// sign-in works at once, and an old cookie whose token is still valid but whose key is
/// gone is refreshed into a token signed with the new key — the user stays signed in (a
/// new cookie, never a deletion).
#[tokio::test]
async fn a_rotated_and_retired_signing_key_refreshes_old_sessions() {
    let h = Harness::with(options()).await;
    let old = h.sign_in().await;
    let old_kid = h.emulator.signing_key_id();
    assert_served(
        &visit(&h.app, "/dashboard", &old).await,
        "before the rotation",
    );

    let new_kid = h.emulator.rotate_signing_key().await.unwrap();
    h.emulator.retire_old_signing_keys();
    assert_ne!(old_kid, new_kid);
    // Forced refetches for tokens straight from WorkOS: at most one a second.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    h.emulator.reset_counters();

    let new = h.sign_in().await;
    let seen = visit(&h.app, "/dashboard", &new).await;
    assert_served(&seen, "a session signed with the new key");
    assert_eq!(seen.session_cookie, None);

    let seen = visit(&h.app, "/dashboard", &old).await;
    assert_served(&seen, "an old session whose key was retired");
    let replaced = seen
        .session_cookie
        .as_deref()
        .expect("the old session is refreshed");
    assert!(replaced.starts_with("wos-session=Fe26.2*"), "{replaced}");
    let refreshed = cookie_value(replaced).to_owned();
    let kid =
        authkit_leptos::jwt::decode_unverified(unseal(&refreshed)["accessToken"].as_str().unwrap())
            .unwrap()
            .0["kid"]
            .clone();
    assert_eq!(
        kid,
        new_kid.as_str(),
        "the refreshed token uses the new key"
    );
    assert_served(
        &visit(&h.app, "/dashboard", &refreshed).await,
        "the refreshed cookie",
    );
    assert_eq!(h.emulator.counters().grant(GrantType::RefreshToken), 1);
    assert!(
        jwks_calls(&h) <= 2,
        "{} JWKS fetches for one rotation",
        jwks_calls(&h)
    );
}

/// WorkOS rotates its signing key while its JWKS is failing: a sign-in with the new key
/// still completes, its cookie is kept (signed out for now) until the keys can be
/// fetched, old cookies keep working from the cache, and once the JWKS answers the new
/// cookie is signed in — nobody is signed out.
#[tokio::test]
async fn a_key_rotation_during_a_jwks_outage_signs_nobody_out() {
    for kind in Kind::ALL {
        let case = format!("key rotation during a JWKS outage × {}", kind.name());
        let h = Harness::with(options()).await;
        let old = h.sign_in().await;
        assert_served(&visit(&h.app, "/dashboard", &old).await, &case);
        h.emulator.rotate_signing_key().await.unwrap();
        h.emulator.inject_fault(Endpoint::Jwks, kind.fault(1_000));
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        h.emulator.reset_counters();

        let fresh = h.sign_in_with("/auth/sign-in?return_to=%2Fdashboard").await;
        assert_eq!(
            fresh.status,
            StatusCode::TEMPORARY_REDIRECT,
            "{case}: sign-in with the new key completes"
        );
        assert_undetermined_open(
            &visit(&h.app, "/", &fresh.session).await,
            &format!("{case}, new session, open page"),
        );
        assert_undetermined_protected(
            &h,
            &visit(&h.app, "/dashboard", &fresh.session).await,
            &format!("{case}, new session, protected page"),
        );
        let seen = visit(&h.app, "/dashboard", &old).await;
        assert_served(&seen, &format!("{case}, old session"));
        assert_eq!(seen.session_cookie, None, "{case}, old session");
        assert!(
            jwks_calls(&h) <= 2,
            "{case}: {} JWKS fetches during the outage",
            jwks_calls(&h)
        );

        h.emulator.clear_faults();
        tokio::time::sleep(COOLDOWN).await;
        let seen = visit(&h.app, "/dashboard", &fresh.session).await;
        assert_served(&seen, &format!("{case}, new session after the outage"));
        assert_eq!(seen.session_cookie, None, "{case}: not rewritten");
        assert_eq!(
            h.emulator.counters().grant(GrantType::RefreshToken),
            0,
            "{case}: nothing had to be refreshed"
        );
    }
}
