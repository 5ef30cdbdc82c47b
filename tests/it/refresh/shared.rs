//! Two replicas of one app (two `AuthKit` instances, two routers) on one emulator,
//! sharing refresh coordination through a real `redis-server` (Debian's package) that
//! each test starts on a free loopback port and always stops.
#![cfg(feature = "redis")]

use crate::support::redis_server::RedisServer;
use crate::support::*;
use authkit_leptos::testing::EmulatorConfig as _;
use authkit_leptos::{AuthKit, RedisRefreshStore};
use axum::body::Body;
use axum::Router;
use http::{header, Request, Response};
use http_body_util::BodyExt as _;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt as _;

/// Replica A is the harness's app (it signs users in); replica B is a second `AuthKit`
/// with the same configuration on the same emulator.
struct Replicas {
    a: Harness,
    b: Router,
}

fn replica_app(kit: &AuthKit) -> Router {
    test_routes().merge(kit.routes()).layer(
        kit.layer()
            .matcher(["/", "/dashboard/:path*"])
            .expect("patterns compile"),
    )
}

async fn replicas(redis: &RedisServer) -> Replicas {
    replicas_with_urls(&redis.url(), &redis.url()).await
}

/// Replicas whose stores reach Redis at `url_a` and `url_b` (another Redis user, say).
async fn replicas_with_urls(url_a: &str, url_b: &str) -> Replicas {
    let (emulator, _) = emulator_and_kit(&Options::default()).await;
    let kit = |url: &str| {
        let config = emulator
            .config_builder()
            .redirect_uri(REDIRECT_URI)
            .cookie_password(PASSWORD)
            .http_timeout(Duration::from_secs(5))
            .build()
            .expect("valid config");
        AuthKit::builder(config)
            .refresh_store(RedisRefreshStore::open(url).expect("a valid URL"))
            .build()
            .expect("authkit builds")
    };
    let (kit_a, kit_b) = (kit(url_a), kit(url_b));
    let b = replica_app(&kit_b);
    let app = replica_app(&kit_a);
    Replicas {
        a: Harness {
            emulator,
            kit: kit_a,
            app,
            user: Options::default().auto_approve_as,
        },
        b,
    }
}

impl Replicas {
    /// GET `path` on replica A (`false`) or B (`true`) with `cookie`: the new session
    /// cookie it set (if any), whether it deleted the cookie, and the user's email.
    async fn get(&self, on_b: bool, path: &str, cookie: &str) -> Outcome {
        let request = Request::get(path)
            .header(header::COOKIE, format!("wos-session={cookie}"))
            .body(Body::empty())
            .unwrap();
        let response = if on_b {
            self.b.clone().oneshot(request).await.unwrap()
        } else {
            self.a.app.clone().oneshot(request).await.unwrap()
        };
        outcome(response).await
    }
}

#[derive(Debug)]
struct Outcome {
    set: Option<String>,
    deleted: bool,
    email: serde_json::Value,
}

async fn outcome(response: Response<Body>) -> Outcome {
    let deleted = deletes_cookie(response.headers(), "wos-session");
    let set = session_set_cookie(&response)
        .filter(|c| !c.contains("Max-Age=0"))
        .map(|c| cookie_value(&c).to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    Outcome {
        set,
        deleted,
        email: json["email"].clone(),
    }
}

/// 200 concurrent requests carrying one expired cookie, split over both replicas, all
/// at once: `who` picks the replica of request `i`.
async fn storm(r: &Arc<Replicas>, cookie: &str, who: fn(usize) -> bool) -> Vec<Outcome> {
    let cookie: Arc<str> = cookie.into();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let r = Arc::clone(r);
            let cookie = Arc::clone(&cookie);
            tokio::spawn(async move {
                let path = if i % 3 == 0 { "/" } else { "/dashboard/x" };
                r.get(who(i), path, &cookie).await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_requests_over_two_replicas_share_one_refresh() {
    let redis = RedisServer::start();
    let r = Arc::new(replicas(&redis).await);
    let cookie = r.a.expired_session().await;

    let outcomes = storm(&r, &cookie, |i| i % 2 == 1).await;

    assert_eq!(r.a.refresh_exchanges(), 1, "exactly one upstream refresh");
    let mut new_cookies = HashSet::new();
    for o in &outcomes {
        assert_eq!(o.email, "ada@example.com", "signed in: {o:?}");
        assert!(!o.deleted);
        new_cookies.insert(
            o.set
                .clone()
                .expect("every response carries the new cookie"),
        );
    }
    assert_eq!(new_cookies.len(), 1, "everyone got the same new session");
    // What is stored: digests as keys, the session sealed.
    let keys = redis.keys("authkit:refresh:*");
    assert!(
        keys.iter().any(|k| k.starts_with("authkit:refresh:done:")),
        "{keys:?}"
    );
    let old_refresh = unseal(&cookie)["refreshToken"].as_str().unwrap().to_owned();
    assert!(keys.iter().all(|k| !k.contains(&old_refresh)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_old_cookie_on_the_other_replica_gets_the_same_session_without_workos() {
    let redis = RedisServer::start();
    let r = replicas(&redis).await;
    let cookie = r.a.expired_session().await;
    let first = r.get(false, "/", &cookie).await;
    let new_cookie = first.set.clone().expect("replica A refreshed");
    assert_eq!(r.a.refresh_exchanges(), 1);

    // The browser sent this before it saw A's answer; the balancer picked B.
    let late = r.get(true, "/dashboard/x", &cookie).await;
    assert_eq!(
        late.email, "ada@example.com",
        "not signed out by invalid_grant"
    );
    assert!(!late.deleted);
    assert_eq!(
        late.set.as_deref(),
        Some(new_cookie.as_str()),
        "the same session"
    );
    assert_eq!(
        r.a.refresh_exchanges(),
        1,
        "no WorkOS call for the late request"
    );
    // The stored value is neither the cookie nor tokens in clear (sealed for whoever
    // holds the old refresh token: #23 item 1).
    let client = redis::Client::open(redis.url()).unwrap();
    let mut c = client.get_connection().unwrap();
    let key = redis.keys("authkit:refresh:done:*").pop().unwrap();
    let stored: String = redis::cmd("GET").arg(key).query(&mut c).unwrap();
    assert!(!stored.starts_with("Fe26.2*"), "not a cookie: {stored:.20}");
    assert!(!stored.contains(new_cookie.as_str()));
    let session = unseal(&new_cookie);
    assert!(!stored.contains(session["accessToken"].as_str().unwrap()));
    assert!(!stored.contains(session["refreshToken"].as_str().unwrap()));
}

/// #23 item 1: whoever can read Redis (`MONITOR`, a replica, a backup) gets nothing that
/// signs anyone in: every value stored during a two-replica refresh, sent as the session
/// cookie by a fresh client, is signed out on both replicas; the key names are not the
/// plain digests of the tokens they stand for; and the late request still got the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_redis_holds_signs_anyone_in() {
    let redis = RedisServer::start();
    let r = replicas(&redis).await;
    let cookie = r.a.expired_session().await;
    let old_refresh_token = unseal(&cookie)["refreshToken"].as_str().unwrap().to_owned();
    let first = r.get(false, "/", &cookie).await;
    let late = r.get(true, "/dashboard/x", &cookie).await;
    assert_eq!(late.email, "ada@example.com");
    assert_eq!(
        late.set, first.set,
        "the late request adopted the same session"
    );
    assert_eq!(r.a.refresh_exchanges(), 1);

    let client = redis::Client::open(redis.url()).unwrap();
    let mut c = client.get_connection().unwrap();
    let keys = redis.keys("*");
    assert!(
        keys.iter().any(|k| k.starts_with("authkit:refresh:done:")),
        "{keys:?}"
    );
    let plain_digest = {
        use aws_lc_rs::digest;
        let d = digest::digest(&digest::SHA256, old_refresh_token.as_bytes());
        d.as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    for key in &keys {
        assert!(
            !key.contains(&plain_digest),
            "{key} names the token's plain digest"
        );
        let Ok(value) = redis::cmd("GET").arg(key).query::<String>(&mut c) else {
            continue;
        };
        for on_b in [false, true] {
            let replayed = r.get(on_b, "/", &value).await;
            assert_eq!(
                replayed.email,
                serde_json::Value::Null,
                "{key}'s value signed someone in"
            );
            assert!(replayed.set.is_none(), "{key}'s value was refreshed");
        }
    }
}

/// #23 item 5: the lock holder's result is never published (its Redis user may take locks
/// but not write results: a real NOPERM on every publish, while everything else works);
/// the replica that waited on it then takes the lock, spends the token again and WorkOS
/// refuses — which is no proof the session ended, so its cookie is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_that_is_never_published_signs_the_waiter_out_nowhere() {
    use authkit_leptos::emulator::{Endpoint, Fault};
    let redis = RedisServer::start();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut admin = client.get_connection().unwrap();
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("holder")
        .arg(&["on", ">holder-password", "resetkeys", "%R~*"][..])
        .arg(&["%W~authkit:refresh:lock:*", "%W~authkit:refresh:ended:*"][..])
        .arg(&["%W~authkit:refresh:used:*", "+@all"][..])
        .query(&mut admin)
        .unwrap();
    let holder_url = redis
        .url()
        .replace("redis://", "redis://holder:holder-password@");
    let r = Arc::new(replicas_with_urls(&holder_url, &redis.url()).await);
    let cookie = r.a.expired_session().await;
    // A's exchange takes 400 ms at WorkOS: B arrives meanwhile and waits on A's lock.
    r.a.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::delay(Duration::from_millis(400)).times(1),
    );
    let holder = {
        let (r, cookie) = (Arc::clone(&r), cookie.clone());
        tokio::spawn(async move { r.get(false, "/", &cookie).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waiter = r.get(true, "/dashboard/x", &cookie).await;
    let holder = holder.await.unwrap();
    assert_eq!(holder.email, "ada@example.com");
    assert!(holder.set.is_some(), "the holder's own request is served");
    assert!(
        redis.keys("authkit:refresh:done:*").is_empty(),
        "nothing was published"
    );
    assert!(
        !waiter.deleted,
        "the waiter did not delete the cookie: {waiter:?}"
    );
    assert_eq!(
        r.a.refresh_exchanges(),
        2,
        "the waiter spent the token again"
    );
}

/// Redis paused for writes while the holder's exchange runs (reads go on, so the waiter
/// keeps polling): the holder's publish times out here but lands when the pause ends,
/// before the lock expires, and the waiter adopts it — nobody is signed out, and WorkOS
/// sees one exchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_paused_for_writes_mid_exchange_signs_nobody_out() {
    use authkit_leptos::emulator::{Endpoint, Fault};
    let redis = RedisServer::start();
    let r = Arc::new(replicas(&redis).await);
    let cookie = r.a.expired_session().await;
    r.a.emulator.inject_fault(
        Endpoint::Authenticate,
        Fault::delay(Duration::from_millis(600)).times(1),
    );
    let holder = {
        let (r, cookie) = (Arc::clone(&r), cookie.clone());
        tokio::spawn(async move { r.get(false, "/", &cookie).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waiter = {
        let (r, cookie) = (Arc::clone(&r), cookie.clone());
        tokio::spawn(async move { r.get(true, "/dashboard/x", &cookie).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let client = redis::Client::open(redis.url()).unwrap();
    let mut c = client.get_connection().unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(2_000)
        .arg("WRITE")
        .query(&mut c)
        .unwrap();
    let holder = holder.await.unwrap();
    assert_eq!(holder.email, "ada@example.com");
    let waiter = waiter.await.unwrap();
    assert!(!waiter.deleted, "{waiter:?}");
    assert_eq!(waiter.email, "ada@example.com", "adopted after the pause");
    assert_eq!(waiter.set, holder.set);
    assert_eq!(r.a.refresh_exchanges(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_refreshes_on_two_replicas_never_hands_out_a_spent_token() {
    let redis = RedisServer::start();
    let r = replicas(&redis).await;
    let emulator = &r.a.emulator;
    // S0 (expired) → S1 on A, with a token that also expires at once → S2 on B.
    emulator.set_token_ttl(Duration::ZERO);
    let s0 = r.a.sign_in().await;
    emulator.reset_counters();
    let s1 = r.get(false, "/", &s0).await.set.expect("A refreshed S0");
    emulator.set_token_ttl(Duration::from_secs(300));
    let s2 = r.get(true, "/", &s1).await.set.expect("B refreshed S1");
    assert_eq!(r.a.refresh_exchanges(), 2);

    // A late holder of S0 on A (which remembers S0 → S1 in memory) is pointed at S2.
    let late = r.get(false, "/", &s0).await;
    assert_eq!(late.email, "ada@example.com");
    assert_eq!(late.set.as_deref(), Some(s2.as_str()), "the newest session");
    // And on B.
    let late_b = r.get(true, "/", &s0).await;
    assert_eq!(late_b.set.as_deref(), Some(s2.as_str()));
    assert_eq!(r.a.refresh_exchanges(), 2, "no further WorkOS call");
    // S2's refresh token is the live one: it refreshes once it expires.
    assert_ne!(unseal(&s2)["refreshToken"], unseal(&s1)["refreshToken"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_run_signs_nobody_out_and_sharing_resumes_after_a_restart() {
    let log = capture::install();
    let mut redis = RedisServer::start();
    let r = Arc::new(replicas(&redis).await);
    // Sharing works first.
    let cookie = r.a.expired_session().await;
    let outcomes = storm(&r, &cookie, |i| i % 2 == 0).await;
    assert!(outcomes.iter().all(|o| o.email == "ada@example.com"));
    assert_eq!(r.a.refresh_exchanges(), 1);

    // Redis goes away. Each replica falls back to its own gate: they may race each other
    // (one refresh each); the loser's invalid_grant is unconfirmed, so nobody's cookie
    // is deleted.
    redis.stop();
    let cookie = r.a.expired_session().await;
    let started = Instant::now();
    let outcomes = storm(&r, &cookie, |i| i % 2 == 0).await;
    let took = started.elapsed();
    assert!(
        outcomes.iter().all(|o| !o.deleted),
        "no user signed out because the store failed"
    );
    let signed_in = outcomes
        .iter()
        .filter(|o| o.email == "ada@example.com")
        .count();
    assert!(
        signed_in >= 100,
        "at least one replica's requests are signed in: {signed_in}"
    );
    assert!(
        (1..=2).contains(&r.a.refresh_exchanges()),
        "at most one refresh per replica: {}",
        r.a.refresh_exchanges()
    );
    assert!(
        took < Duration::from_secs(20),
        "bounded waits for a dead store (took {took:?})"
    );
    assert!(
        log.lock()
            .unwrap()
            .contains("the shared refresh store is unavailable"),
        "a warning is logged"
    );

    // Redis comes back (empty, on the same port): sharing resumes at once (each
    // replica's first command after the restart reconnects and is sent again).
    redis.restart();
    let cookie = r.a.expired_session().await;
    let outcomes = storm(&r, &cookie, |i| i % 2 == 1).await;
    assert_eq!(
        r.a.refresh_exchanges(),
        1,
        "one refresh across both replicas again"
    );
    let new: HashSet<_> = outcomes.iter().map(|o| o.set.clone()).collect();
    assert_eq!(new.len(), 1);
    assert!(outcomes.iter().all(|o| o.email == "ada@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_is_down_from_the_start_only_means_the_fallback() {
    let mut redis = RedisServer::start();
    let r = replicas(&redis).await;
    redis.stop();
    let cookie = r.a.expired_session().await;
    let first = r.get(false, "/", &cookie).await;
    assert_eq!(first.email, "ada@example.com");
    // The late request on the same replica is answered by its in-process memory.
    let late = r.get(false, "/", &cookie).await;
    assert_eq!(late.set, first.set);
    assert_eq!(r.a.refresh_exchanges(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_on_one_replica_ends_the_remembered_refresh_on_the_other() {
    let redis = RedisServer::start();
    let r = replicas(&redis).await;
    let cookie = r.a.expired_session().await;
    let new = r.get(false, "/", &cookie).await.set.expect("refreshed");
    // Sign out on A with the new cookie.
    let response =
        r.a.send(
            Request::post("/auth/sign-out")
                .header(header::COOKIE, format!("wos-session={new}"))
                .header(header::ORIGIN, "http://localhost:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    // The marker is written on its own task; give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis.keys("authkit:refresh:ended:*").is_empty() {
        assert!(Instant::now() < deadline, "the sign-out reaches the store");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The old cookie on B is no longer traded for the session.
    let late = r.get(true, "/", &cookie).await;
    assert_eq!(late.email, serde_json::Value::Null, "{late:?}");
    assert!(late.set.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_stops_answering_costs_at_most_the_command_timeout() {
    let redis = RedisServer::start();
    let r = replicas(&redis).await;
    let cookie = r.a.expired_session().await;
    // Redis hangs for 3 s (a long fork, a full disk, a paused VM).
    let url = redis.url();
    let sleeper = std::thread::spawn(move || {
        let client = redis::Client::open(url).unwrap();
        let mut c = client.get_connection().unwrap();
        let _: () = redis::cmd("DEBUG")
            .arg("SLEEP")
            .arg(3)
            .query(&mut c)
            .unwrap();
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let first = r.get(false, "/", &cookie).await;
    let took = started.elapsed();
    assert_eq!(first.email, "ada@example.com", "refreshed by the fallback");
    assert!(
        took < Duration::from_millis(2500),
        "the request did not wait for the hung store: {took:?}"
    );
    sleeper.join().unwrap();
}

#[test]
fn a_bad_redis_url_is_a_start_up_error() {
    let e = RedisRefreshStore::open("127.0.0.1:6379").unwrap_err();
    assert!(e.to_string().contains("redis://"), "{e}");
}

/// A sign-in state is single-use across replicas: the callback completed on A, replayed
/// on B with the same code, state and flow cookie, is refused before any exchange (the
/// `used:` key in Redis), and nobody else is signed in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_completed_on_one_replica_is_refused_on_the_other() {
    let redis = RedisServer::start();
    let r = replicas(&redis).await;
    let flow = r.a.flow("/auth/sign-in").await;
    let callback = || {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", &flow.code)
            .append_pair("state", &flow.state)
            .finish();
        Request::get(format!("/callback?{query}"))
            .header(header::COOKIE, &flow.verifier_pair)
            .body(Body::empty())
            .unwrap()
    };
    let first = r.a.send(callback()).await;
    assert!(first.status().is_redirection(), "{}", first.status());
    assert!(session_set_cookie(&first).is_some());
    assert_eq!(redis.keys("authkit:refresh:used:*").len(), 1);
    let exchanges = r.a.authenticate_calls();

    let replay = r.b.clone().oneshot(callback()).await.unwrap();
    assert_eq!(replay.status(), http::StatusCode::BAD_REQUEST);
    assert!(session_set_cookie(&replay).is_none());
    assert!(body_text(replay).await.contains("invalid_state"));
    assert_eq!(r.a.authenticate_calls(), exchanges, "WorkOS was not asked");
}

/// `rediss://` works (#23 item 8): two replicas share a refresh through a `redis-server`
/// that only speaks TLS, its certificate issued by a CA the system trust store is pointed
/// at (`SSL_CERT_FILE`, which rustls-native-certs reads) — the late request on the other
/// replica gets the session A stored, without a second WorkOS exchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_a_refresh_over_tls() {
    let dir = std::env::temp_dir().join(format!("authkit-rediss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl from the Debian package");
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "1",
        "-subj",
        "/CN=authkit test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
    ]);
    // Read once, when the client first builds its TLS configuration (this test's process).
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.crt"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Server(
        std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", "0", "--tls-port"])
            .arg(port.to_string())
            .args([
                "--tls-cert-file",
                "server.crt",
                "--tls-key-file",
                "server.key",
            ])
            .args(["--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server from the Debian package"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("rediss://localhost:{port}");
    let r = replicas_with_urls(&url, &url).await;
    let cookie = r.a.expired_session().await;
    let first = r.a.whoami("/", Some(&cookie)).await;
    let new_cookie = cookie_value(&session_set_cookie(&first.0).expect("A refreshed")).to_owned();
    let late = r.get(true, "/dashboard/x", &cookie).await;
    assert_eq!(late.email, "ada@example.com");
    assert_eq!(
        late.set.as_deref(),
        Some(new_cookie.as_str()),
        "the session A stored"
    );
    assert_eq!(r.a.refresh_exchanges(), 1, "one WorkOS exchange for both");
    let _ = std::fs::remove_dir_all(&dir);
}
