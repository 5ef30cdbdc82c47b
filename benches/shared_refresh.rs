//! What the shared refresh store (Redis) adds, measured side by side in one run against
//! the in-process gate alone:
//!
//! - `refresh/*`: one request carrying an expired session through the router, which
//!   refreshes it against the emulator over loopback (the exchange, the new token's
//!   verification, sealing) — with the store this adds its round trips (look up, lock,
//!   publish, unlock, the chain check);
//! - `signed_in/*`: a request with a valid session, which never touches the store;
//! - `storm/*` (P3): 200 concurrent requests carrying one expired session, through one
//!   router (in-process gate) and split over two replicas sharing Redis: the time to serve
//!   all 200, each iteration checking exactly 1 upstream refresh and 1 new cookie.
//!
//! Each side gets a fresh expired session per iteration (signed in outside the timing).
//! A `redis-server` (Debian's package) is started on a free loopback port and stopped at
//! the end. Run: `cargo bench --bench shared_refresh --features testing,redis`.

mod support;

use authkit_test_support::redis_server;

use authkit_leptos::emulator::Emulator;
use authkit_leptos::{testing, Auth, AuthKit, RedisRefreshStore, Secret};
use axum::body::Body;
use axum::routing::get;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{header, Request};
use redis_server::RedisServer;
use std::time::Duration;
use tower::ServiceExt as _;

struct Replica {
    kit: AuthKit,
    app: axum::Router,
}

fn replica(emulator: &Emulator, store: Option<RedisRefreshStore>, password: &Secret) -> Replica {
    let mut builder = AuthKit::builder(support::config(emulator, password.clone()));
    if let Some(store) = store {
        builder = builder.refresh_store(store);
    }
    let kit = builder.build().unwrap();
    let page = |auth: Auth| async move {
        format!(
            "<html><body><h1>Dashboard of {}</h1></body></html>",
            auth.user.map(|u| u.email).unwrap_or_default()
        )
    };
    let app = axum::Router::new()
        .route("/dashboard", get(page))
        .merge(kit.routes())
        .layer(kit.layer().matcher(["/dashboard"]).unwrap());
    Replica { kit, app }
}

fn request(cookie: &str) -> Request<Body> {
    Request::get("/dashboard")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = support::runtime();
    let redis = RedisServer::start();
    let emulator = rt.block_on(support::demo_emulator());
    let url = redis.url();
    let password = Secret::random_cookie_password();
    let store = || Some(RedisRefreshStore::open(&url).unwrap());
    let sides = [
        ("in_process", replica(&emulator, None, &password)),
        ("shared_redis", replica(&emulator, store(), &password)),
    ];
    // The second replica of the shared side (same password, same Redis).
    let replica_b = replica(&emulator, store(), &password);
    let sign_in = |r: &Replica| {
        rt.block_on(testing::sign_in(&r.app, &r.kit, "ada@example.com"))
            .unwrap()
            .header()
    };

    let mut group = c.benchmark_group("refresh");
    group.sample_size(30);
    for (name, side) in &sides {
        group.bench_function(*name, |b| {
            b.iter_batched(
                || {
                    emulator.set_token_ttl(Duration::ZERO);
                    let cookie = sign_in(side);
                    emulator.set_token_ttl(Duration::from_secs(300));
                    cookie
                },
                |cookie| {
                    let response = rt.block_on(side.app.clone().oneshot(request(&cookie)));
                    let response = response.unwrap();
                    assert!(response.headers().contains_key(header::SET_COOKIE));
                    response
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    let expired = |side: &Replica| {
        emulator.set_token_ttl(Duration::ZERO);
        let cookie = sign_in(side);
        emulator.set_token_ttl(Duration::from_secs(300));
        emulator.reset_counters();
        cookie
    };
    let mut group = c.benchmark_group("storm");
    group.sample_size(10);
    for (name, replicas) in [
        ("in_process_200", vec![&sides[0].1]),
        ("two_replicas_redis_200", vec![&sides[1].1, &replica_b]),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || expired(replicas[0]),
                |cookie| {
                    let cookie: std::sync::Arc<str> = cookie.into();
                    let new_cookies = rt.block_on(async {
                        let tasks: Vec<_> = (0..200)
                            .map(|i| {
                                let app = replicas[i % replicas.len()].app.clone();
                                let cookie = std::sync::Arc::clone(&cookie);
                                tokio::spawn(async move {
                                    let response = app.oneshot(request(&cookie)).await.unwrap();
                                    response.headers()[header::SET_COOKIE].clone()
                                })
                            })
                            .collect();
                        let mut set = std::collections::HashSet::new();
                        for t in tasks {
                            set.insert(t.await.unwrap());
                        }
                        set
                    });
                    assert_eq!(new_cookies.len(), 1, "one new session for all 200");
                    assert_eq!(
                        emulator
                            .counters()
                            .grant(authkit_leptos::emulator::GrantType::RefreshToken),
                        1,
                        "exactly one upstream refresh"
                    );
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("signed_in");
    for (name, side) in &sides {
        let cookie = sign_in(side);
        group.bench_function(*name, |b| {
            b.iter(|| {
                rt.block_on(side.app.clone().oneshot(request(&cookie)))
                    .unwrap()
            })
        });
    }
    group.finish();
    drop(redis);
}

criterion_group!(benches, bench);
criterion_main!(benches);
