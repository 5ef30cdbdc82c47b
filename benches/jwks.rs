//! P4: the JWKS cache under load, on a movable clock (BENCHMARKS.md).
//!
//! 1. Steady load: 4 tasks verify a real emulator token without pause while the clock
//!    moves through 5 cache periods (10 minutes each): fetches per cache period.
//! 2. A burst of 9,000 tokens with unknown `kid`s over 3 cooldown periods (30 s each):
//!    fetches per cooldown.
//! 3. Latency: 20,000 verifications of a known token with no fetch running, then the same
//!    while a refetch that takes 2 s is in flight (stale-while-revalidate): the ratio.
//!
//! Counts are checked (the run fails if a target is missed); times are printed.
//! Run: `cargo bench --bench jwks --features testing` (scripts/bench.sh runs it).

mod support;

use authkit_leptos::jwt::{Clock, TokenVerifier};
use authkit_leptos::{testing, AuthKit, Secret, Session};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Monotonic time the bench moves by hand; wall time stays real (tokens stay valid).
struct MovableClock {
    start: Instant,
    offset_ms: AtomicU64,
}

impl MovableClock {
    fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for MovableClock {
    fn now(&self) -> Instant {
        self.start + Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }
    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The key set, served from memory: fetches counted, optionally slow.
struct Source {
    jwks: serde_json::Value,
    fetches: AtomicUsize,
    delay_ms: AtomicU64,
    in_flight: AtomicBool,
}

fn verifier(source: &Arc<Source>, clock: &Arc<MovableClock>) -> TokenVerifier {
    let source = Arc::clone(source);
    TokenVerifier::builder(move || {
        let source = Arc::clone(&source);
        async move {
            source.fetches.fetch_add(1, Ordering::SeqCst);
            source.in_flight.store(true, Ordering::SeqCst);
            let delay = source.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            source.in_flight.store(false, Ordering::SeqCst);
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(source.jwks.clone())
        }
    })
    .clock(Arc::clone(clock) as Arc<dyn Clock>)
    .build()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here takes arguments.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let emulator = support::demo_emulator().await;
    let kit = AuthKit::new(support::config(&emulator, Secret::random_cookie_password())).unwrap();
    let app = axum::Router::new().merge(kit.routes());
    let cookie = testing::sign_in(&app, &kit, "ada@example.com")
        .await
        .unwrap();
    let token = Session::unseal(cookie.value(), kit.config().passwords())
        .unwrap()
        .access_token;
    let jwks = support::jwks(&emulator).await;
    let new_source = || {
        Arc::new(Source {
            jwks: jwks.clone(),
            fetches: AtomicUsize::new(0),
            delay_ms: AtomicU64::new(0),
            in_flight: AtomicBool::new(false),
        })
    };
    let new_clock = || {
        Arc::new(MovableClock {
            start: Instant::now(),
            offset_ms: AtomicU64::new(0),
        })
    };

    // ---- 1. steady load across 5 cache periods.
    let (source, clock) = (new_source(), new_clock());
    let v = verifier(&source, &clock);
    v.verify(&token).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let verified = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (v, token, stop, verified) = (
                v.clone(),
                token.clone(),
                Arc::clone(&stop),
                Arc::clone(&verified),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    v.verify(&token).await.unwrap();
                    verified.fetch_add(1, Ordering::Relaxed);
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let periods = 5;
    for _ in 0..periods {
        tokio::time::sleep(Duration::from_millis(100)).await;
        clock.advance(Duration::from_secs(600));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let fetches = source.fetches.load(Ordering::SeqCst);
    println!(
        "P4 steady: {} verifications over {periods} cache periods, {fetches} JWKS fetches \
         (1 at start + {} = {:.2} per period)",
        verified.load(Ordering::Relaxed),
        fetches - 1,
        (fetches - 1) as f64 / periods as f64
    );
    assert_eq!(fetches, 1 + periods, "one fetch per cache period");

    // ---- 2. a burst of unknown kids over 3 cooldown periods.
    let (source, clock) = (new_source(), new_clock());
    let v = verifier(&source, &clock);
    v.verify(&token).await.unwrap();
    let (_, payload_sig) = token.split_once('.').unwrap();
    use base64::Engine as _;
    let cooldowns = 3;
    let per_period = 3_000;
    for period in 0..cooldowns {
        let tasks: Vec<_> = (0..per_period)
            .map(|i| {
                let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
                    r#"{{"alg":"RS256","kid":"attacker-{period}-{i}","typ":"JWT"}}"#
                ));
                let forged = format!("{header}.{payload_sig}");
                let v = v.clone();
                tokio::spawn(async move { v.verify(&forged).await.is_err() })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap(), "unknown kids are refused");
        }
        clock.advance(Duration::from_secs(30));
    }
    let fetches = source.fetches.load(Ordering::SeqCst) - 1;
    println!(
        "P4 burst: {} tokens with unknown kids over {cooldowns} cooldown periods, {fetches} \
         JWKS refetches ({:.2} per cooldown)",
        cooldowns * per_period,
        fetches as f64 / cooldowns as f64
    );
    assert!(fetches <= cooldowns, "at most one refetch per cooldown");

    // ---- 3. latency with and without a refetch in flight.
    let (source, clock) = (new_source(), new_clock());
    let v = verifier(&source, &clock);
    v.verify(&token).await.unwrap();
    let n = 20_000;
    let time = |label: &'static str| {
        let v = v.clone();
        let token = token.clone();
        async move {
            let start = Instant::now();
            for _ in 0..n {
                v.verify(&token).await.unwrap();
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
            println!("P4 latency {label}: {us:.2} µs per verification (mean of {n})");
            us
        }
    };
    let quiet = time("no refetch").await;
    source.delay_ms.store(2_000, Ordering::SeqCst);
    clock.advance(Duration::from_secs(601));
    v.verify(&token).await.unwrap(); // starts the background refetch
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(
        source.in_flight.load(Ordering::SeqCst),
        "a refetch is in flight"
    );
    let busy = time("refetch in flight").await;
    assert!(
        source.in_flight.load(Ordering::SeqCst),
        "the refetch was in flight for the whole measurement"
    );
    println!(
        "P4 latency ratio: {:.2} (refetch in flight / none)",
        busy / quiet
    );
}
