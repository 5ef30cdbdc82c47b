//! #11 "Bad bytes" — every request header the crate reads, with bytes a browser, a proxy
//! or an attacker may send, through the real router (`tower::ServiceExt::oneshot`).
//!
//! The headers (from `src/`): `Cookie` (the session, its split parts, the flow's verifier
//! cookie), `Referer` (the return path of a server function's sign-in), `Origin` and
//! `Sec-Fetch-Site` (cross-site writes), `Host` and `X-Forwarded-Host` (the start route's
//! move to the redirect URI's origin), `Accept` and the prefetch markers (`Sec-Purpose`,
//! …: document or `fetch`), and `Authorization` (`validate_api_key`, `Vary`).
//! Each gets non-ASCII bytes (obs-text 0x80–0xFF), an empty value, a duplicate (odd value
//! first and last) and a 64 KiB value, on: an open page (`/`), a middleware-auth page
//! (`/dashboard`), the sign-in start route, the callback, the sign-out form, server
//! functions (`with_auth`, `ensure_signed_in`, `validate_api_key`) and Leptos SSR pages
//! (one reading the session, one requiring it) — signed in and signed out.
//!
//! Every answer: no panic (each request runs on its own task: a panic is a `JoinError`,
//! a dropped render task a failed or stalled body), no 5xx, and the normal answer — the
//! same user signed in, or the usual signed-out answer. The one legitimate refusal is the
//! sign-out form's `403` when `Origin` / `Sec-Fetch-Site` no longer say "same site".
//!
//! And the critical case: a foreign cookie with odd bytes (non-UTF-8, quotes, `=` and `;`
//! inside, an empty name, 64 KiB, names that start like ours) before, after or between
//! the session cookie — plain or split into `wos-session.0/.1/…` — never hides it. A
//! session cookie sent twice (RFC 6265 §5.4: two cookies of one name from different
//! paths or domains) is resolved as documented on the layer: the first copy that unseals
//! wins; if none does the visitor is signed out and the cookie deleted.

use crate::support::leptos_app::leptos;
use crate::support::{Harness, Options};
use axum::body::Body;
use axum::Router;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use std::time::Duration;
use tower::ServiceExt as _;

const ORIGIN: &str = "http://localhost:3000";
const BIG: usize = 64 * 1024;

// ------------------------------------------------------------------ the app

/// The Leptos harness (`support::leptos_app`): `/` open, `/dashboard` behind
/// middleware-auth, `/page/…` pages and `/api/…` server functions covered (and answering
/// for themselves).
async fn harness() -> Harness {
    leptos(Options {
        layer: |l| {
            l.middleware_auth(["/", "/page/:path*", "/api/:path*"])
                .expect("patterns compile")
        },
        ..Options::default()
    })
    .await
}

/// A signed-in `Cookie` header value for `email` (split into parts when it is big).
async fn session_of(h: &Harness, email: &str) -> authkit_leptos::testing::SessionCookie {
    authkit_leptos::testing::sign_in(&h.app, &h.kit, email)
        .await
        .expect("signed in")
}

// ------------------------------------------------------------------ requests

/// What came back, read completely.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    /// `Set-Cookie`s that touch the session (plain or a part).
    fn session_cookies(&self) -> Vec<String> {
        self.set_cookies()
            .into_iter()
            .filter(|c| c.starts_with("wos-session"))
            .collect()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Sends `request` on a task of its own, so a panicking handler is reported (as a
/// `JoinError`) with the case instead of taking the test down anonymously, and reads the
/// whole body (a render task that died shows as a body error or a stall).
async fn send(app: &Router, request: Request<Body>, case: &str) -> Answer {
    let app = app.clone();
    let task = tokio::spawn(async move {
        let response = app
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let (parts, body) = response.into_parts();
        (parts, body.collect().await.map(|c| c.to_bytes()))
    });
    let joined = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .unwrap_or_else(|_| panic!("{case}: no answer within 30 s"));
    let (parts, body) = match joined {
        Ok(answer) => answer,
        Err(e) if e.is_panic() => panic!("{case}: the request panicked"),
        Err(e) => panic!("{case}: the request task failed: {e}"),
    };
    let body = body.unwrap_or_else(|e| panic!("{case}: the body broke off: {e}"));
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Where a request goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    OpenPage,
    ProtectedPage,
    SignInStart,
    Callback,
    SignOut,
    ServerFn,
    GuardedServerFn,
    ApiKeyServerFn,
    LeptosPage,
    GuardedLeptosPage,
}

impl Target {
    fn method(self) -> Method {
        match self {
            Self::SignOut | Self::ServerFn | Self::GuardedServerFn | Self::ApiKeyServerFn => {
                Method::POST
            }
            _ => Method::GET,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::OpenPage => "/",
            Self::ProtectedPage => "/dashboard",
            Self::SignInStart => "/auth/sign-in?return_to=%2Fdashboard",
            Self::Callback => "/callback",
            Self::SignOut => "/auth/sign-out",
            Self::ServerFn => "/api/whoami",
            Self::GuardedServerFn => "/api/protected",
            Self::ApiKeyServerFn => "/api/apikey",
            Self::LeptosPage => "/page/whoami",
            Self::GuardedLeptosPage => "/page/protected",
        }
    }

    fn is_server_fn(self) -> bool {
        matches!(
            self,
            Self::ServerFn | Self::GuardedServerFn | Self::ApiKeyServerFn
        )
    }

    /// The headers a browser sends there (besides `Cookie`).
    fn baseline(self) -> Vec<(HeaderName, &'static str)> {
        let mut out = vec![(header::HOST, "localhost:3000")];
        if self.is_server_fn() {
            out.extend([
                (header::ACCEPT, "application/json"),
                (header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
                (header::REFERER, "http://localhost:3000/billing?tab=2"),
                (header::ORIGIN, ORIGIN),
            ]);
            if self == Self::ApiKeyServerFn {
                out.push((header::AUTHORIZATION, "Bearer sk_test_not_a_known_key"));
            }
        } else if self == Self::SignOut {
            out.extend([
                (header::ACCEPT, "text/html"),
                (header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
                (header::ORIGIN, ORIGIN),
            ]);
        } else {
            out.push((header::ACCEPT, "text/html"));
        }
        out
    }

    fn body(self) -> &'static str {
        match self {
            Self::SignOut => "return_to=%2F",
            _ => "",
        }
    }
}

/// One way to send a header badly: the values that replace the browser's (several
/// values = the header repeated, in order).
struct Variant {
    name: String,
    header: HeaderName,
    values: Vec<Vec<u8>>,
}

const OBS_TEXT: &[u8] = b"\x80caf\xe9 \xff\xfe";

/// The headers the crate reads, with a plausible value and a 64 KiB one.
fn read_headers() -> Vec<(HeaderName, &'static str, Vec<u8>)> {
    let big = |prefix: &str| {
        let mut v = prefix.as_bytes().to_vec();
        v.resize(BIG, b'a');
        v
    };
    vec![
        (
            header::REFERER,
            "http://localhost:3000/billing?tab=2",
            big("http://localhost:3000/"),
        ),
        (header::ORIGIN, ORIGIN, big("http://")),
        (header::HOST, "localhost:3000", big("")),
        (
            HeaderName::from_static("x-forwarded-host"),
            "localhost:3000",
            big("a"),
        ),
        (header::ACCEPT, "text/html", big("text/html,")),
        (
            header::AUTHORIZATION,
            "Bearer sk_test_not_a_known_key",
            big("Bearer "),
        ),
        (
            HeaderName::from_static("sec-fetch-site"),
            "same-origin",
            big("same-origin"),
        ),
        (HeaderName::from_static("sec-purpose"), "prefetch", big("")),
        (HeaderName::from_static("purpose"), "prefetch", big("")),
    ]
}

/// Every variant of every header but `Cookie`.
fn header_variants() -> Vec<Variant> {
    let mut out = Vec::new();
    for (name, good, big) in read_headers() {
        let good = good.as_bytes().to_vec();
        let variant = |what: &str, values: Vec<Vec<u8>>| Variant {
            name: format!("{name}: {what}"),
            header: name.clone(),
            values,
        };
        out.push(variant("obs-text", vec![OBS_TEXT.to_vec()]));
        out.push(variant("empty", vec![Vec::new()]));
        out.push(variant(
            "duplicated, odd value first",
            vec![OBS_TEXT.to_vec(), good.clone()],
        ));
        out.push(variant(
            "duplicated, odd value last",
            vec![good.clone(), OBS_TEXT.to_vec()],
        ));
        out.push(variant(
            "duplicated, both empty",
            vec![Vec::new(), Vec::new()],
        ));
        out.push(variant("64 KiB", vec![big]));
    }
    out
}

/// The `Cookie` variants, around `jar` (the cookies the request needs: the session, the
/// flow's verifier — possibly none).
fn cookie_variants(jar: &str) -> Vec<Variant> {
    let jar = jar.as_bytes().to_vec();
    let join = |a: &[u8], b: &[u8]| {
        let mut v = a.to_vec();
        if !a.is_empty() && !b.is_empty() {
            v.extend_from_slice(b"; ");
        }
        v.extend_from_slice(b);
        v
    };
    let mut big = b"big=".to_vec();
    big.resize(BIG, b'x');
    let obs_big = vec![0xe9; BIG];
    let variant = |what: &str, values: Vec<Vec<u8>>| Variant {
        name: format!("cookie: {what}"),
        header: header::COOKIE,
        values,
    };
    vec![
        variant("the jar alone", vec![jar.clone()]),
        variant("obs-text pair before", vec![join(b"theme=caf\xe9", &jar)]),
        variant(
            "UTF-8 and obs-text pairs before",
            vec![join(b"theme=caf\xc3\xa9; lang=\xe9", &jar)],
        ),
        variant("obs-text pair after", vec![join(&jar, b"\xff\xfe=\x80")]),
        variant("empty header before", vec![Vec::new(), jar.clone()]),
        variant("empty header after", vec![jar.clone(), Vec::new()]),
        variant("the jar twice", vec![jar.clone(), jar.clone()]),
        variant(
            "quoted `;` in its own header before",
            vec![b"x=\"a;b\xe9\"".to_vec(), jar.clone()],
        ),
        variant("64 KiB pair before", vec![join(&big, &jar)]),
        variant("64 KiB header after", vec![jar.clone(), big.clone()]),
        variant("64 KiB of obs-text after", vec![jar.clone(), obs_big]),
    ]
}

/// Builds the request for `target`, replacing `variant.header` by its values (for
/// `Cookie`, the variant's values already carry `jar`).
fn request(target: Target, jar: &str, query: &str, variant: &Variant) -> Request<Body> {
    let uri = format!("{}{query}", target.path());
    let mut request = Request::builder()
        .method(target.method())
        .uri(uri)
        .body(Body::from(target.body()))
        .unwrap();
    let headers = request.headers_mut();
    for (name, value) in target.baseline() {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if variant.header != header::COOKIE && !jar.is_empty() {
        headers.insert(header::COOKIE, HeaderValue::from_str(jar).unwrap());
    }
    headers.remove(&variant.header);
    for value in &variant.values {
        headers.append(
            variant.header.clone(),
            HeaderValue::from_bytes(value).expect("a valid header value"),
        );
    }
    request
}

/// Checks one answer: never a 5xx, and the normal answer for `target` with the browser
/// signed in as `user` (or signed out).
fn check(h: &Harness, target: Target, user: Option<&str>, variant: &Variant, a: &Answer) {
    let case = format!(
        "{target:?} ({}) with {}",
        if user.is_some() {
            "signed in"
        } else {
            "signed out"
        },
        variant.name
    );
    assert!(
        !a.status.is_server_error(),
        "{case}: answered {}: {}",
        a.status,
        a.body.chars().take(300).collect::<String>()
    );
    let to_authkit = |to: &str| {
        to.starts_with(h.emulator.base_url()) && to.contains("/user_management/authorize?")
    };
    // The same-site form post of a server function without JavaScript: leptos_axum
    // sends the browser back to the `Referer` (Accept: text/html).
    let form_post_back = |a: &Answer| {
        target.is_server_fn()
            && a.status == StatusCode::FOUND
            && a.location().starts_with("http://localhost:3000/billing")
    };
    match target {
        Target::OpenPage => {
            assert_eq!(a.status, StatusCode::OK, "{case}");
            assert_eq!(a.json()["email"].as_str(), user, "{case}: {}", a.body);
        }
        Target::ProtectedPage => match user {
            Some(email) => {
                assert_eq!(a.status, StatusCode::OK, "{case}: {}", a.body);
                assert_eq!(a.json()["email"].as_str(), Some(email), "{case}");
            }
            None => match a.status {
                StatusCode::TEMPORARY_REDIRECT => {
                    assert!(to_authkit(a.location()), "{case}: {}", a.location())
                }
                StatusCode::UNAUTHORIZED => {
                    assert!(a.body.contains("sign_in_url"), "{case}: {}", a.body)
                }
                s => panic!("{case}: {s}"),
            },
        },
        Target::SignInStart => {
            assert_eq!(a.status, StatusCode::FOUND, "{case}: {}", a.body);
            let moved = a
                .location()
                .starts_with("http://localhost:3000/auth/sign-in?return_to=%2Fdashboard&")
                && a.location().ends_with("authkit_moved=1");
            assert!(
                to_authkit(a.location()) || moved,
                "{case}: to AuthKit or to the redirect URI's origin, not {}",
                a.location()
            );
            if to_authkit(a.location()) {
                assert!(
                    a.set_cookies()
                        .iter()
                        .any(|c| c.starts_with("wos-auth-verifier-")),
                    "{case}: the flow cookie"
                );
            }
        }
        Target::Callback => {
            assert_eq!(
                a.status,
                StatusCode::TEMPORARY_REDIRECT,
                "{case}: {}",
                a.body.chars().take(300).collect::<String>()
            );
            assert_eq!(a.location(), "http://localhost:3000/dashboard", "{case}");
            assert!(
                a.session_cookies()
                    .iter()
                    .any(|c| c.starts_with("wos-session=Fe26.2*")),
                "{case}: a session is stored: {:?}",
                a.set_cookies()
            );
        }
        Target::SignOut => {
            let refusable =
                variant.header == header::ORIGIN || variant.header.as_str() == "sec-fetch-site";
            if a.status == StatusCode::FORBIDDEN && refusable {
                assert_eq!(a.body, "Cross-site sign-out refused.", "{case}");
                return;
            }
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{case}: {}", a.body);
            if user.is_some() {
                assert!(
                    a.location()
                        .contains("/user_management/sessions/logout?session_id=session_"),
                    "{case}: the session was found and is ended at WorkOS: {}",
                    a.location()
                );
            } else {
                assert_eq!(a.location(), "/", "{case}");
            }
            assert!(
                a.set_cookies()
                    .iter()
                    .any(|c| c.starts_with("wos-session=;") && c.contains("Max-Age=0")),
                "{case}: the session cookie is deleted"
            );
        }
        Target::ServerFn => {
            if !form_post_back(a) {
                assert_eq!(a.status, StatusCode::OK, "{case}: {}", a.body);
                assert_eq!(a.json().as_str(), user, "{case}: {}", a.body);
            }
        }
        Target::GuardedServerFn => {
            if !form_post_back(a) {
                match user {
                    Some(email) => {
                        assert_eq!(a.status, StatusCode::OK, "{case}: {}", a.body);
                        assert_eq!(a.json().as_str(), Some(email), "{case}");
                    }
                    None => {
                        let to_sign_in = a.location().starts_with("/auth/sign-in?");
                        assert!(
                            a.status == StatusCode::UNAUTHORIZED
                                || (a.status == StatusCode::FOUND && to_sign_in),
                            "{case}: {} {} {}",
                            a.status,
                            a.location(),
                            a.body
                        );
                    }
                }
            }
        }
        Target::ApiKeyServerFn => {
            if !form_post_back(a) {
                assert_eq!(a.status, StatusCode::OK, "{case}: {}", a.body);
                assert_eq!(a.json(), serde_json::Value::Null, "{case}: {}", a.body);
            }
        }
        Target::LeptosPage => {
            assert_eq!(a.status, StatusCode::OK, "{case}");
            let expected = match user {
                Some(email) => format!("signed in as {email}"),
                None => "signed out".to_owned(),
            };
            assert!(a.body.contains(&expected), "{case}: {}", a.body);
        }
        Target::GuardedLeptosPage => match user {
            Some(email) => {
                assert_eq!(a.status, StatusCode::OK, "{case}");
                let expected = format!("Hello, {email}!");
                assert!(a.body.contains(&expected), "{case}: {}", a.body);
            }
            None => {
                let to_sign_in = a
                    .location()
                    .starts_with("/auth/sign-in?return_to=%2Fpage%2Fprotected");
                assert!(
                    (a.status == StatusCode::FOUND && to_sign_in)
                        || a.status == StatusCode::UNAUTHORIZED,
                    "{case}: {} {}",
                    a.status,
                    a.location()
                );
                assert!(!a.body.contains("Hello"), "{case}: {}", a.body);
            }
        },
    }
    if matches!(
        target,
        Target::OpenPage | Target::ProtectedPage | Target::LeptosPage | Target::GuardedLeptosPage
    ) || target.is_server_fn()
    {
        // Bad headers never cost the session: nothing deletes or rewrites it.
        assert_eq!(
            a.session_cookies(),
            Vec::<String>::new(),
            "{case}: the session cookie is left alone"
        );
    }
}

/// Runs every header variant against `target`, signed in and signed out.
async fn every_variant_on(target: Target) {
    let h = harness().await;
    let session = session_of(&h, "ada@example.com").await;
    let others = header_variants();
    let cookie_cases = cookie_variants("").len();
    let mut runs = 0;
    for signed_in in [true, false] {
        let user = signed_in.then_some("ada@example.com");
        let session_jar = if signed_in {
            session.header()
        } else {
            String::new()
        };
        for i in 0..others.len() + cookie_cases {
            // The callback needs a fresh flow (a code is single use) and its cookie.
            let (jar, query) = if target == Target::Callback {
                let flow = h.flow("/auth/sign-in?return_to=%2Fdashboard").await;
                let jar = [flow.verifier_pair.as_str(), session_jar.as_str()]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join("; ");
                let query = format!("?code={}&state={}", encode(&flow.code), encode(&flow.state));
                (jar, query)
            } else {
                (session_jar.clone(), String::new())
            };
            // Cookie variants are built around the cookies the request needs.
            let cookie_variant;
            let variant = match others.get(i) {
                Some(v) => v,
                None => {
                    cookie_variant = cookie_variants(&jar).swap_remove(i - others.len());
                    &cookie_variant
                }
            };
            let case = format!("{target:?}, {}", variant.name);
            let answer = send(&h.app, request(target, &jar, &query, variant), &case).await;
            check(&h, target, user, variant, &answer);
            runs += 1;
        }
    }
    assert_eq!(runs, 2 * (others.len() + cookie_cases), "{runs} requests");
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn bad_headers_on_an_open_page() {
    every_variant_on(Target::OpenPage).await;
}

#[tokio::test]
async fn bad_headers_on_a_middleware_auth_page() {
    every_variant_on(Target::ProtectedPage).await;
}

#[tokio::test]
async fn bad_headers_on_the_sign_in_start_route() {
    every_variant_on(Target::SignInStart).await;
}

#[tokio::test]
async fn bad_headers_on_the_callback() {
    every_variant_on(Target::Callback).await;
}

#[tokio::test]
async fn bad_headers_on_the_sign_out_form() {
    every_variant_on(Target::SignOut).await;
}

#[tokio::test]
async fn bad_headers_on_a_server_function() {
    every_variant_on(Target::ServerFn).await;
}

#[tokio::test]
async fn bad_headers_on_a_server_function_that_requires_a_session() {
    every_variant_on(Target::GuardedServerFn).await;
}

#[tokio::test]
async fn bad_headers_on_a_server_function_that_validates_an_api_key() {
    every_variant_on(Target::ApiKeyServerFn).await;
}

#[tokio::test]
async fn bad_headers_on_a_leptos_page() {
    every_variant_on(Target::LeptosPage).await;
}

#[tokio::test]
async fn bad_headers_on_a_leptos_page_that_requires_a_session() {
    every_variant_on(Target::GuardedLeptosPage).await;
}

// ------------------------------------------------------------------ foreign cookies

/// Foreign cookies with odd bytes.
fn foreign_cookies() -> Vec<(&'static str, Vec<u8>)> {
    let mut long = b"long=".to_vec();
    long.resize(BIG, b'x');
    vec![
        ("Latin-1 value (not UTF-8)", b"theme=caf\xe9".to_vec()),
        ("name and value not UTF-8", b"\xff\xfe=\x80\x81".to_vec()),
        ("UTF-8 emoji", "mood=\u{1F600}".as_bytes().to_vec()),
        ("UTF-8 name and value", "名前=値".as_bytes().to_vec()),
        ("truncated UTF-8", b"x=\xc3".to_vec()),
        ("quoted value with `;`", b"q=\"a;b\"".to_vec()),
        (
            "quoted value hiding a session pair",
            b"x=\"a; wos-session=forged\"".to_vec(),
        ),
        ("`=` inside the value", b"eq=a=b==c".to_vec()),
        ("empty name", b"=orphan".to_vec()),
        ("only `=`", b"=".to_vec()),
        ("no `=`", b"novalue".to_vec()),
        ("empty value", b"blank=".to_vec()),
        (
            "a name that starts like ours",
            b"wos-session-old=garbage".to_vec(),
        ),
        (
            "a part name that is no index",
            b"wos-session.x=garbage".to_vec(),
        ),
        (
            "a part index out of range",
            b"wos-session.99=garbage".to_vec(),
        ),
        (
            "a quoted name like ours",
            b"\"wos-session\"=forged".to_vec(),
        ),
        ("bad percent escapes", b"pct=%E9%ZZ%".to_vec()),
        ("tabs around", b"\ttab\t=\tv\xe9".to_vec()),
        ("64 KiB", long),
    ]
}

/// Where the foreign cookie goes, around the session's pairs (`;`-separated).
fn placements(session: &[u8], foreign: &[u8]) -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let pair = |a: &[u8], b: &[u8]| [a, b"; ", b].concat();
    let mut out = vec![
        ("before, same header", vec![pair(foreign, session)]),
        ("after, same header", vec![pair(session, foreign)]),
        (
            "own header before",
            vec![foreign.to_vec(), session.to_vec()],
        ),
        ("own header after", vec![session.to_vec(), foreign.to_vec()]),
        (
            "on both sides",
            vec![[foreign, b"; ", session, b"; ", foreign].concat()],
        ),
    ];
    // A split session: also between its parts.
    if let Some(i) = find(session, b"; ") {
        let (first, rest) = session.split_at(i);
        out.push((
            "between the parts",
            vec![[first, b"; ", foreign, rest].concat()],
        ));
        out.push((
            "between the parts, separate headers",
            vec![first.to_vec(), foreign.to_vec(), rest[2..].to_vec()],
        ));
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A request to `target` with these `Cookie` headers.
fn with_cookies(target: Target, cookies: &[Vec<u8>]) -> Request<Body> {
    let variant = Variant {
        name: String::new(),
        header: header::COOKIE,
        values: cookies.to_vec(),
    };
    request(target, "", "", &variant)
}

/// The targets that show who is signed in.
const SHOWS_THE_USER: [Target; 5] = [
    Target::OpenPage,
    Target::ProtectedPage,
    Target::ServerFn,
    Target::LeptosPage,
    Target::SignOut,
];

/// One foreign cookie with odd bytes — non-UTF-8, quotes, `=` and `;` inside, an empty
/// name, 64 KiB, names that start like the session's — before, after, around or between
/// the parts of the session cookie never hides it: the user stays signed in everywhere
/// and the session cookie is not touched. For a plain (Ada) and a split (Mary, 200
/// permissions: `wos-session.0`, `.1`, …) session.
#[tokio::test]
async fn a_foreign_cookie_with_odd_bytes_never_hides_the_session_cookie() {
    let h = harness().await;
    let mut checked = 0;
    for email in ["ada@example.com", "mary@example.com"] {
        let session = session_of(&h, email).await;
        if email == "mary@example.com" {
            assert!(session.cookie_count() >= 2, "Mary's session is split");
        }
        let session = session.header().into_bytes();
        for (what, foreign) in foreign_cookies() {
            for (where_, cookies) in placements(&session, &foreign) {
                for target in SHOWS_THE_USER {
                    let variant = Variant {
                        name: format!("{email}'s session, foreign cookie ({what}) {where_}"),
                        header: header::COOKIE,
                        values: cookies.clone(),
                    };
                    let case = format!("{target:?}, {}", variant.name);
                    let answer = send(&h.app, with_cookies(target, &cookies), &case).await;
                    check(&h, target, Some(email), &variant, &answer);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 300, "{checked} requests");
}

/// The session cookie sent twice (RFC 6265 §5.4: a host-only and a domain cookie, or
/// two paths) with a garbage copy: as documented on the layer, the copy that unseals is
/// the session, whichever comes first, in one header or two, next to a split session too;
/// an empty copy is no candidate. Two valid sessions of different users sign nobody in and
/// write no cookie over either (#23 item 3: one of them was planted; this used to resolve
/// to the first). Only when no copy unseals is the visitor signed out — and the cookie
/// deleted. Never a 5xx.
#[tokio::test]
async fn a_duplicated_session_cookie_resolves_to_the_copy_that_unseals() {
    let h = harness().await;
    let ada = session_of(&h, "ada@example.com").await.header();
    let alan = session_of(&h, "alan@example.com").await.header();
    let mary = session_of(&h, "mary@example.com").await.header();
    let valid = ada.strip_prefix("wos-session=").unwrap().to_owned();
    // The same seal with one byte of its MAC changed: well-formed, but it does not unseal.
    let tampered = {
        let mut bytes = valid.clone().into_bytes();
        let at = bytes.len() - 5;
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let garbage_copies = [
        ("garbage".to_owned(), "a word"),
        (tampered, "a tampered seal"),
        ("Fe26.2**".to_owned(), "a truncated seal"),
        ("\"Fe26.2*1*x\"".to_owned(), "a quoted fragment"),
        ("Fe26.2*1*stale".to_owned(), "a stale fragment"),
    ];
    for (garbage, what) in &garbage_copies {
        let g = format!("wos-session={garbage}");
        let cases: Vec<(String, Vec<String>, Option<&str>)> = vec![
            (
                format!("{what} first"),
                vec![format!("{g}; {ada}")],
                Some("ada@example.com"),
            ),
            (
                format!("{what} last"),
                vec![format!("{ada}; {g}")],
                Some("ada@example.com"),
            ),
            (
                format!("{what} first, in its own header"),
                vec![g.clone(), ada.clone()],
                Some("ada@example.com"),
            ),
            (
                format!("{what} as the plain cookie beside a split session"),
                vec![format!("{g}; {mary}")],
                Some("mary@example.com"),
            ),
            (
                format!("{what} with spaces around the name, first"),
                vec![format!(" wos-session ={garbage}; {ada}")],
                Some("ada@example.com"),
            ),
            (format!("{what} twice"), vec![format!("{g}; {g}")], None),
        ];
        for (name, cookies, user) in cases {
            let cookies: Vec<Vec<u8>> = cookies.into_iter().map(String::into_bytes).collect();
            for target in SHOWS_THE_USER {
                let case = format!("{target:?}, session cookie duplicated: {name}");
                let answer = send(&h.app, with_cookies(target, &cookies), &case).await;
                match user {
                    Some(email) => {
                        let variant = Variant {
                            name: name.clone(),
                            header: header::COOKIE,
                            values: cookies.clone(),
                        };
                        check(&h, target, Some(email), &variant, &answer);
                    }
                    None => {
                        assert!(
                            !answer.status.is_server_error(),
                            "{case}: {}",
                            answer.status
                        );
                        signed_out_and_deleted(&h, target, &answer, &case);
                    }
                }
            }
        }
    }
    // An empty copy is no candidate; two valid sessions of different users sign nobody in
    // and nothing is written over either (sign-out still deletes what it can).
    for (name, cookies, email) in [
        (
            "an empty copy first",
            format!("wos-session=; {ada}"),
            Some("ada@example.com"),
        ),
        (
            "two valid sessions, Ada's first",
            format!("{ada}; {alan}"),
            None,
        ),
        (
            "two valid sessions, Alan's first",
            format!("{alan}; {ada}"),
            None,
        ),
    ] {
        let cookies = vec![cookies.into_bytes()];
        for target in SHOWS_THE_USER {
            let variant = Variant {
                name: format!("session cookie duplicated: {name}"),
                header: header::COOKIE,
                values: cookies.clone(),
            };
            let case = format!("{target:?}, {}", variant.name);
            let answer = send(&h.app, with_cookies(target, &cookies), &case).await;
            check(&h, target, email, &variant, &answer);
            if email.is_none() && target != Target::SignOut {
                assert!(
                    answer.session_cookies().is_empty(),
                    "{case}: {:?}",
                    answer.session_cookies()
                );
            }
        }
    }
}

/// A visitor whose only session cookies are garbage: signed out, and the cookie deleted
/// (by the layer on pages, by the sign-out form itself).
fn signed_out_and_deleted(h: &Harness, target: Target, answer: &Answer, case: &str) {
    let deleted = answer
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("wos-session=;") && c.contains("Max-Age=0"));
    assert!(deleted, "{case}: deleted: {:?}", answer.set_cookies());
    match target {
        Target::OpenPage => {
            assert_eq!(answer.status, StatusCode::OK, "{case}");
            assert_eq!(answer.json()["email"], serde_json::Value::Null, "{case}");
        }
        Target::ProtectedPage => {
            assert_eq!(answer.status, StatusCode::TEMPORARY_REDIRECT, "{case}");
            assert!(
                answer.location().starts_with(h.emulator.base_url()),
                "{case}: {}",
                answer.location()
            );
        }
        Target::ServerFn => {
            assert_eq!(answer.status, StatusCode::OK, "{case}");
            assert_eq!(answer.json(), serde_json::Value::Null, "{case}");
        }
        Target::LeptosPage => {
            assert_eq!(answer.status, StatusCode::OK, "{case}");
            assert!(
                answer.body.contains("signed out"),
                "{case}: {}",
                answer.body
            );
        }
        Target::SignOut => {
            assert_eq!(answer.status, StatusCode::SEE_OTHER, "{case}");
            assert_eq!(answer.location(), "/", "{case}");
        }
        _ => unreachable!("{case}"),
    }
}
