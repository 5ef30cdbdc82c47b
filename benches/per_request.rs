//! What the AuthKit layer costs per request, measured side by side in one run:
//!
//! - `floor/*`: the cryptography a request with a valid session cannot avoid — one
//!   RSA-2048 signature verification and one iron unseal's AES-256-CBC + HMAC-SHA256 +
//!   2 × PBKDF2-SHA1 (1 iteration) on a realistic session cookie;
//! - `unseal+verify/first`: `AuthKit::unseal_session` of the cookie plus
//!   `TokenVerifier::verify` of its access token (warm JWKS cache), for a cookie the
//!   caches do not hold: two sessions alternate through caches of one entry, so every
//!   request misses, does the full check and stores its result, as a new cookie does;
//! - `unseal+verify/repeat`: the same cookie again with the default caches (two lookups,
//!   the whole-value comparisons, the time checks), as the layer does for a cookie it has
//!   seen;
//! - `node/unseal+jwtVerify` (printed, timed inside Node): the path authkit-nextjs runs per
//!   request, `unsealData` (iron-session) + `jwtVerify` (jose, JWKS in memory), on the same
//!   cookie and token, with the npm packages `tests/interop/` installs;
//! - `router/*`: a whole request through an axum router, without the layer, and with it
//!   (signed in) for a cookie seen before and, alternating two sessions through caches
//!   of one entry, for a new one;
//! - `after_refresh` (P1c, printed): the first request with the cookie a refresh on this
//!   replica just set, beside the same session sealed elsewhere (what that request cost
//!   before the handle kept its own seals: an unseal, the token already verified);
//! - `revocation` (P1b with revocations, printed): the same repeat request through the
//!   layer beside itself on a handle whose revocation list holds [`REVOKED`] other sessions
//!   (WorkOS `session.revoked` webhooks), in alternating batches: what the revocation
//!   check costs once the list is in use (#25);
//! - `big_session/*` (P5): the same requests for Mary of the demo seed, whose session
//!   (200 permissions, 50 feature flags) is split over several cookies, beside Ada's.
//!
//! Run: `cargo bench --bench per_request --features testing` (release build; `node` and
//! `tests/interop/node_modules` from scripts/setup.sh). scripts/bench.sh runs it and
//! prints the ratios.

mod support;

use authkit_leptos::emulator::Emulator;
use authkit_leptos::{testing, Auth, AuthKit, Secret, Session};
use aws_lc_rs::{cipher, digest, hmac, pbkdf2, signature};
use axum::body::Body;
use axum::routing::get;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{header, Request};
use std::hint::black_box;
use std::num::NonZeroU32;
use tower::ServiceExt as _;

struct Fixture {
    emulator: Emulator,
    authkit: AuthKit,
    /// Caches of one entry: alternating two cookies, every request is a first one.
    first_kit: AuthKit,
    with_layer: axum::Router,
    with_layer_first: axum::Router,
    /// The same app on a handle that took [`REVOKED`] `session.revoked` webhooks.
    with_layer_revoking: axum::Router,
    password: String,
    jwks: serde_json::Value,
    without_layer: axum::Router,
    cookie: String,
    /// A second sign-in of the same user (another session, token and seal).
    cookie2: String,
    big_cookie: String,
    big_cookie2: String,
    token: String,
    jwk_n: Vec<u8>,
    jwk_e: Vec<u8>,
}

fn fixture(rt: &tokio::runtime::Runtime) -> Fixture {
    rt.block_on(async {
        let emulator = support::demo_emulator().await;
        let password = Secret::random_cookie_password();
        let config = support::config(&emulator, password.clone());
        let authkit = AuthKit::new(config.clone()).unwrap();
        let revoking_kit = AuthKit::new(support::config_with_webhooks(
            &emulator,
            password,
            WEBHOOK_SECRET,
        ))
        .unwrap();
        let first_kit = AuthKit::builder(config)
            .verified_cache_entries(1)
            .build()
            .unwrap();
        let page = || async { "<html><body><h1>Dashboard</h1></body></html>" };
        let signed_in_page = |auth: Auth| async move {
            format!(
                "<html><body><h1>Dashboard of {}</h1></body></html>",
                auth.user.map(|u| u.email).unwrap_or_default()
            )
        };
        let without_layer = axum::Router::new().route("/dashboard", get(page));
        let with_layer = axum::Router::new()
            .route("/dashboard", get(signed_in_page))
            .merge(authkit.routes())
            .layer(authkit.layer().matcher(["/dashboard"]).unwrap());
        let with_layer_first = axum::Router::new()
            .route("/dashboard", get(signed_in_page))
            .merge(first_kit.routes())
            .layer(first_kit.layer().matcher(["/dashboard"]).unwrap());
        let with_layer_revoking = axum::Router::new()
            .route("/dashboard", get(signed_in_page))
            .merge(revoking_kit.routes())
            .layer(revoking_kit.layer().matcher(["/dashboard"]).unwrap());
        revoke_others(&with_layer_revoking).await;
        let sign_in = |email: &'static str| {
            let (router, kit) = (with_layer.clone(), authkit.clone());
            async move { testing::sign_in(&router, &kit, email).await.unwrap() }
        };
        let cookie = sign_in("ada@example.com").await;
        let cookie2 = sign_in("ada@example.com").await;
        let big = sign_in("mary@example.com").await;
        let big2 = sign_in("mary@example.com").await;
        assert!(big.cookie_count() >= 2, "Mary's session is split");
        assert_ne!(cookie.value(), cookie2.value(), "two sessions");
        let session = Session::unseal(cookie.value(), authkit.config().passwords()).unwrap();
        // Warm the JWKS caches.
        for kit in [&authkit, &first_kit] {
            kit.verifier().verify(&session.access_token).await.unwrap();
        }
        let jwks = support::jwks(&emulator).await;
        use base64::Engine as _;
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(v.as_str().unwrap())
                .unwrap()
        };
        let key = &jwks["keys"][0];
        let password = authkit.config().passwords().current().1.expose().to_owned();
        Fixture {
            first_kit,
            with_layer_first,
            with_layer_revoking,
            cookie2: cookie2.header(),
            big_cookie2: big2.header(),
            password,
            jwks: jwks.clone(),
            jwk_n: b64(&key["n"]),
            jwk_e: b64(&key["e"]),
            token: session.access_token.clone(),
            cookie: cookie.header(),
            big_cookie: big.header(),
            emulator,
            authkit,
            with_layer,
            without_layer,
        }
    })
}

/// How many other sessions the revoking handle's list holds.
const REVOKED: usize = 1000;
const WEBHOOK_SECRET: &str = "whsec_bench";

/// Delivers [`REVOKED`] signed `session.revoked` events for sessions nobody here holds.
async fn revoke_others(app: &axum::Router) {
    let created_at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    for i in 0..REVOKED {
        let body = serde_json::json!({
            "object": "event",
            "id": format!("event_bench_{i}"),
            "event": "session.revoked",
            "data": { "object": "session", "id": format!("session_revoked_{i}"), "user_id": format!("user_other_{i}"), "status": "revoked" },
            "created_at": created_at,
        })
        .to_string();
        let request = Request::post("/auth/webhooks")
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                "WorkOS-Signature",
                testing::sign_webhook(WEBHOOK_SECRET, body.as_bytes()),
            )
            .body(Body::from(body))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
}

fn bench(c: &mut Criterion) {
    let rt = support::runtime();
    let f = fixture(&rt);
    let sealed = f.cookie.strip_prefix("wos-session=").unwrap().to_owned();
    let passwords = f.authkit.config().passwords().clone();

    // ---- the floor: the primitives one request needs, on inputs of the real sizes.
    let (message, sig) = f.token.rsplit_once('.').unwrap();
    use base64::Engine as _;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .unwrap();
    let public = signature::RsaPublicKeyComponents {
        n: &f.jwk_n,
        e: &f.jwk_e,
    };
    let parts: Vec<&str> = sealed.trim_end_matches("~2").split('*').collect();
    let ciphertext = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[4])
        .unwrap();
    let iv = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[3])
        .unwrap();
    let password = passwords.current().1.expose().to_owned();
    let mac_base = parts[..6].join("*");
    let rsa_verify = || {
        public
            .verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                black_box(message.as_bytes()),
                black_box(&sig),
            )
            .unwrap()
    };
    // iron's key derivation: PBKDF2-SHA1, 1 iteration, 256 bits, salted by the seal.
    let iron_key = |salt: &str| {
        let mut key = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA1,
            NonZeroU32::new(1).unwrap(),
            salt.as_bytes(),
            password.as_bytes(),
            &mut key,
        );
        key
    };
    let iron_primitives = || {
        let enc_key = iron_key(parts[2]);
        let mac_key = iron_key(parts[6]);
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &mac_key),
            mac_base.as_bytes(),
        );
        let key = cipher::UnboundCipherKey::new(&cipher::AES_256, &enc_key).unwrap();
        let key = cipher::PaddedBlockDecryptingKey::cbc_pkcs7(key).unwrap();
        let mut buf = ciphertext.clone();
        let ctx = cipher::DecryptionContext::Iv128(iv.as_slice().try_into().unwrap());
        let plain = key.decrypt(&mut buf, ctx).unwrap().len();
        black_box((tag, plain, digest::SHA256.output_len()))
    };
    c.bench_function("floor/rsa2048_verify", |b| b.iter(rsa_verify));
    c.bench_function("floor/iron_primitives", |b| b.iter(iron_primitives));

    // ---- the Node peer: authkit-nextjs's per-request path, on the same cookie and token.
    let node = node_auth_path(&f, &sealed);
    println!(
        "node/unseal+jwtVerify   {:.1} µs per request (iron-session unsealData + jose jwtVerify, \
         mean of {} after {} warm-up, timed in Node)",
        node.0, node.1, NODE_WARMUP
    );

    // ---- what the crate does per request.
    let sealed2 = f.cookie2.strip_prefix("wos-session=").unwrap().to_owned();
    // `n` requests in one `block_on` (the runtime's entry is the benchmark's, not the
    // crate's cost; the criterion figures below pay it once per request).
    let mut turn = 0usize;
    let mut first = |n: u32| {
        rt.block_on(async {
            for _ in 0..n {
                turn += 1;
                let value = if turn.is_multiple_of(2) {
                    &sealed
                } else {
                    &sealed2
                };
                let session = f.first_kit.unseal_session(black_box(value)).unwrap();
                let claims = f
                    .first_kit
                    .verifier()
                    .verify(&session.access_token)
                    .await
                    .unwrap();
                black_box(claims);
            }
        })
    };
    let repeat = |n: u32| {
        rt.block_on(async {
            for _ in 0..n {
                let session = f.authkit.unseal_session(black_box(&sealed)).unwrap();
                let claims = f
                    .authkit
                    .verifier()
                    .verify(&session.access_token)
                    .await
                    .unwrap();
                black_box(claims);
            }
        })
    };
    let mut group = c.benchmark_group("unseal+verify");
    group.bench_function("first", |b| b.iter(|| first(1)));
    group.bench_function("repeat", |b| b.iter(|| repeat(1)));
    group.finish();

    // ---- P1b side by side: the floor and the crate's requests timed in alternating
    // batches, so a change in the machine's speed (a noisy VM) falls on both sides of
    // each ratio; the median over the rounds is the figure.
    let floor = |n: u32| {
        for _ in 0..n {
            rsa_verify();
            iron_primitives();
        }
    };
    let paired = paired_ratios(floor, &mut first, repeat);
    println!(
        "paired/first_over_floor   median {:.3} (p10 {:.3}, p90 {:.3}) over {} rounds of {} requests",
        paired.first.median, paired.first.p10, paired.first.p90, PAIRED_ROUNDS, PAIRED_BATCH
    );
    println!(
        "paired/repeat_over_floor  median {:.3} (p10 {:.3}, p90 {:.3}) over {} rounds of {} requests",
        paired.repeat.median, paired.repeat.p10, paired.repeat.p90, PAIRED_ROUNDS, PAIRED_BATCH
    );

    // ---- a whole request, with and without the layer.
    let request = |cookie: Option<&str>| {
        let mut r = Request::get("/dashboard").header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, c);
        }
        r.body(Body::empty()).unwrap()
    };
    let mut group = c.benchmark_group("router");
    group.bench_function("without_layer", |b| {
        b.iter(|| {
            rt.block_on(f.without_layer.clone().oneshot(request(Some(&f.cookie))))
                .unwrap()
        })
    });
    for (name, router, other) in [
        ("with_layer/repeat", &f.with_layer, &f.cookie),
        ("with_layer/first", &f.with_layer_first, &f.cookie2),
    ] {
        group.bench_function(name, |b| {
            let mut turn = 0usize;
            b.iter(|| {
                turn += 1;
                let cookie = if turn.is_multiple_of(2) {
                    &f.cookie
                } else {
                    other
                };
                let response = rt
                    .block_on(router.clone().oneshot(request(Some(cookie))))
                    .unwrap();
                assert!(
                    response.headers().get(header::SET_COOKIE).is_none(),
                    "a valid session: no refresh"
                );
                response
            })
        });
    }
    group.finish();

    // ---- P1b with revocations: the repeat request through the layer, on a handle whose
    // revocation list is unused (one atomic load) and on one holding REVOKED sessions.
    let layer_batch = |router: &axum::Router, n: u32| {
        rt.block_on(async {
            for _ in 0..n {
                let response = router
                    .clone()
                    .oneshot(request(Some(&f.cookie)))
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                black_box(response);
            }
        })
    };
    let revocation = paired_ratios(
        |n| layer_batch(&f.with_layer, n),
        |n| layer_batch(&f.with_layer_revoking, n),
        |n| layer_batch(&f.with_layer, n),
    );
    println!(
        "revocation/repeat_over_unused  median {:.3} (p10 {:.3}, p90 {:.3}); unused over itself {:.3}, over {} rounds of {} requests, {} sessions revoked",
        revocation.first.median, revocation.first.p10, revocation.first.p90,
        revocation.repeat.median, PAIRED_ROUNDS, PAIRED_BATCH, REVOKED
    );

    // ---- P1c: the first request after this replica refreshed the session.
    let (after, before, ratio) = first_request_after_refresh(&rt, &f);
    println!(
        "after_refresh/first  {:.2} µs, the same session sealed elsewhere {:.2} µs: ratio median {:.3} (p10 {:.3}, p90 {:.3}) over {} refreshes",
        after * 1e6, before * 1e6, ratio.median, ratio.p10, ratio.p90, REFRESH_ROUNDS
    );

    // ---- P5: a big session (split cookies) beside a usual one, same router, same run.
    let mut group = c.benchmark_group("big_session");
    for (name, router, cookie, other) in [
        ("usual/first", &f.with_layer_first, &f.cookie, &f.cookie2),
        (
            "big/first",
            &f.with_layer_first,
            &f.big_cookie,
            &f.big_cookie2,
        ),
        ("usual/repeat", &f.with_layer, &f.cookie, &f.cookie),
        ("big/repeat", &f.with_layer, &f.big_cookie, &f.big_cookie),
    ] {
        group.bench_function(name, |b| {
            let mut turn = 0usize;
            b.iter(|| {
                turn += 1;
                let cookie = if turn.is_multiple_of(2) {
                    cookie
                } else {
                    other
                };
                let response = rt
                    .block_on(router.clone().oneshot(request(Some(cookie))))
                    .unwrap();
                assert!(response.status().is_success());
                assert!(response.headers().get(header::SET_COOKIE).is_none());
                response
            })
        });
    }
    group.finish();
}

/// Refreshes timed by [`first_request_after_refresh`].
const REFRESH_ROUNDS: usize = 300;

/// P1c (#27 item 5): per round, a session in its refresh window (signed in with a 10 s
/// token) is refreshed by the layer (a request that gets the new cookie), then two requests
/// are timed once each, in alternating order: the new cookie (what the browser sends next),
/// and the same session sealed outside the handle (a seal its caches do not hold, its token
/// verified: what the first request after a refresh cost before the handle kept the seals it
/// makes). Returns the medians in seconds (new cookie, sealed elsewhere) and the per-round
/// ratio new ÷ elsewhere.
fn first_request_after_refresh(rt: &tokio::runtime::Runtime, f: &Fixture) -> (f64, f64, Spread) {
    use std::time::{Duration, Instant};
    let request = |value: &str| {
        Request::get("/dashboard")
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, format!("wos-session={value}"))
            .body(Body::empty())
            .unwrap()
    };
    let passwords = f.authkit.config().passwords();
    let time = |value: &str| {
        let r = request(value);
        let start = Instant::now();
        let response = rt.block_on(f.with_layer.clone().oneshot(r)).unwrap();
        let took = start.elapsed().as_secs_f64();
        assert!(response.status().is_success());
        assert!(
            response.headers().get(header::SET_COOKIE).is_none(),
            "a fresh session: no refresh"
        );
        took
    };
    let (mut afters, mut befores, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..REFRESH_ROUNDS {
        f.emulator.set_token_ttl(Duration::from_secs(10));
        let old = rt
            .block_on(testing::sign_in(
                &f.with_layer,
                &f.authkit,
                "ada@example.com",
            ))
            .unwrap();
        f.emulator.set_token_ttl(Duration::from_secs(300));
        let response = rt
            .block_on(f.with_layer.clone().oneshot(request(old.value())))
            .unwrap();
        let new = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.strip_prefix("wos-session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
            .find(|v| !v.is_empty())
            .expect("the layer refreshed the session and set its new cookie");
        let elsewhere = Session::unseal(&new, passwords)
            .unwrap()
            .seal(passwords)
            .unwrap();
        let (a, b) = if round % 2 == 0 {
            let a = time(&new);
            (a, time(&elsewhere))
        } else {
            let b = time(&elsewhere);
            (time(&new), b)
        };
        afters.push(a);
        befores.push(b);
        ratios.push(a / b);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(afters), median(befores), spread(ratios))
}

/// The median, 10th and 90th percentile of `v`.
fn spread(mut v: Vec<f64>) -> Spread {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Spread {
        median: at(0.5),
        p10: at(0.1),
        p90: at(0.9),
    }
}

/// Rounds of the side-by-side measurement, and requests per batch in a round.
const PAIRED_ROUNDS: usize = 402;
const PAIRED_BATCH: u32 = 50;

/// One ratio's distribution over the rounds.
struct Spread {
    median: f64,
    p10: f64,
    p90: f64,
}

struct Paired {
    first: Spread,
    repeat: Spread,
}

/// Times `floor`, `first` and `repeat` (each runs the number of requests it is given) in
/// batches of [`PAIRED_BATCH`], one batch each per round, in each of the six orders in
/// turn, and returns the per-round ratios to the floor.
fn paired_ratios(
    mut floor: impl FnMut(u32),
    mut first: impl FnMut(u32),
    mut repeat: impl FnMut(u32),
) -> Paired {
    use std::time::Instant;
    let mut time = |which: usize| {
        let start = Instant::now();
        match which {
            0 => floor(PAIRED_BATCH),
            1 => first(PAIRED_BATCH),
            _ => repeat(PAIRED_BATCH),
        }
        start.elapsed().as_secs_f64()
    };
    // Warm-up: caches, branch predictors, the allocator's free lists.
    for which in [0, 1, 2, 0, 1, 2] {
        time(which);
    }
    let (mut firsts, mut repeats) = (Vec::new(), Vec::new());
    for round in 0..PAIRED_ROUNDS {
        let mut took = [0.0; 3];
        let order = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ][round % 6];
        for which in order {
            took[which] = time(which);
        }
        firsts.push(took[1] / took[0]);
        repeats.push(took[2] / took[0]);
    }
    Paired {
        first: spread(firsts),
        repeat: spread(repeats),
    }
}

const NODE_WARMUP: u32 = 500;
const NODE_ITERATIONS: u32 = 3000;

/// Runs tests/interop/bench_auth.mjs on the fixture's cookie: (mean µs, iterations).
fn node_auth_path(f: &Fixture, sealed: &str) -> (f64, u32) {
    use std::io::Write as _;
    let root = support::checkout::manifest_dir();
    let root = root.as_path();
    let mut child = std::process::Command::new("node")
        .arg(root.join("tests/interop/bench_auth.mjs"))
        .current_dir(root.join("tests/interop"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node (scripts/setup.sh installs the interop packages)");
    let input = serde_json::json!({
        "cookie": sealed,
        "password": f.password,
        "jwks": f.jwks,
        "iterations": NODE_ITERATIONS,
        "warmup": NODE_WARMUP,
    });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the Node peer failed");
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let session = Session::unseal(sealed, f.authkit.config().passwords()).unwrap();
    assert_eq!(
        result["sub"],
        session.user.id.as_str(),
        "Node verified the same token"
    );
    (result["mean_us"].as_f64().unwrap(), NODE_ITERATIONS)
}

criterion_group!(benches, bench);
criterion_main!(benches);
