//! Native throughput of `Receiver::receive` on one core.
//!
//! ```text
//! cargo run --profile bench-native --example native
//! ```
//!
//! The `bench-native` profile is the release profile at `opt-level = 3` (the release profile
//! is tuned for wasm size). The loop decodes, verifies (signature and timestamp window) and
//! types `tests/fixtures/signed/stream_create.json` with the fixture secret at the `now` its
//! manifest entry gives, for a fixed time per round, and prints the median.
//!
//! It prints figures and never fails on them. `BENCH_ROUNDS` and `BENCH_ROUND_MS` override
//! the number and length of the rounds.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use zego_callback::{body, verify_signature, Callback, Receiver, SignedParts};

const FIXTURE: &str = "signed/stream_create.json";
const GOAL_PER_SECOND: f64 = 700_000.0;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The fixture's body, secret, content type and `now`, from the fixture manifest.
fn load_fixture() -> (Vec<u8>, String, Option<String>, i64) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let manifest: Json = serde_json::from_slice(
        &std::fs::read(dir.join("index.json")).expect("read tests/fixtures/index.json"),
    )
    .expect("tests/fixtures/index.json is JSON");
    let entry = manifest["fixtures"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["file"] == FIXTURE))
        .unwrap_or_else(|| panic!("{FIXTURE} is not in the manifest"));
    let secret = entry["secret"]
        .as_str()
        .or_else(|| manifest["secret"].as_str())
        .expect("a secret for the fixture")
        .to_owned();
    let content_type = entry["content_type"].as_str().map(str::to_owned);
    let now = entry["now"].as_i64().expect("the fixture's now");
    let body = std::fs::read(dir.join(FIXTURE)).expect("read the fixture");
    (body, secret, content_type, now)
}

/// Runs `f` for `duration`; returns (calls, elapsed). Each result is passed through
/// `black_box` so that no call is optimized away.
fn run_for<F: FnMut() -> usize>(duration: Duration, mut f: F) -> (u64, Duration) {
    const BATCH: u64 = 1_000;
    let start = Instant::now();
    let mut calls = 0u64;
    let mut sink = 0usize;
    loop {
        for _ in 0..BATCH {
            sink = sink.wrapping_add(black_box(f()));
        }
        calls += BATCH;
        let elapsed = start.elapsed();
        if elapsed >= duration {
            black_box(sink);
            return (calls, elapsed);
        }
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    }
}

/// Warms `f` up, then times it for `rounds` rounds of `round`; returns the median calls/s.
fn bench<F: FnMut() -> usize>(rounds: u64, round: Duration, verbose: bool, mut f: F) -> f64 {
    run_for(Duration::from_millis(500), &mut f);
    let rates = (0..rounds)
        .map(|i| {
            let (calls, elapsed) = run_for(round, &mut f);
            let rate = calls as f64 / elapsed.as_secs_f64();
            if verbose {
                println!(
                    "  round {}: {calls} callbacks in {:.3} s = {rate:.0}/s",
                    i + 1,
                    elapsed.as_secs_f64()
                );
            }
            rate
        })
        .collect();
    median(rates)
}

fn main() {
    let (body, secret, content_type, now) = load_fixture();
    let content_type = content_type.as_deref();
    let receiver = Receiver::new(secret.as_str()).expect("a valid secret");

    let rounds = env_or("BENCH_ROUNDS", 5).max(1);
    let round = Duration::from_millis(env_or("BENCH_ROUND_MS", 1000));

    println!(
        "zego-callback native benchmark: Receiver::receive on {FIXTURE} ({} bytes), now={now}",
        body.len()
    );
    println!(
        "one thread; {rounds} rounds x {} ms, 500 ms warm-up, median reported",
        round.as_millis()
    );
    if cfg!(debug_assertions) {
        println!("warning: debug build; run with --profile bench-native");
    }

    // The measured case: decode, verify and type, as a server does per request.
    let receive =
        || match receiver.receive(black_box(&body), black_box(content_type), black_box(now)) {
            Ok(Callback::StreamCreate(cb)) => cb.stream_id.len(),
            Ok(other) => panic!("unexpected event {}", other.event()),
            Err(e) => panic!("the fixture was refused: {e}"),
        };
    let rate = bench(rounds, round, true, receive);

    println!();
    println!("callbacks/second   {rate:.0}");
    println!("ns/callback        {:.0}", 1e9 / rate);
    println!(
        "goal               >= {GOAL_PER_SECOND:.0}/s: {}",
        if rate >= GOAL_PER_SECOND {
            "met"
        } else {
            "not met"
        }
    );

    if std::env::var_os("BENCH_NO_BREAKDOWN").is_some() {
        return;
    }

    // Informational: the steps of a receive on their own, and a plain JSON parse for scale.
    let fields = body::decode(&body, content_type).expect("the fixture decodes");
    let parts = SignedParts::from_fields(&fields).expect("the fixture is signed");
    let (timestamp, nonce, signature) = (
        parts.timestamp.to_owned(),
        parts.nonce.to_owned(),
        parts.signature.to_owned(),
    );
    let secrets = [secret.as_str()];
    type Case<'a> = (&'a str, Box<dyn FnMut() -> usize + 'a>);
    let cases: Vec<Case> = vec![
        (
            "body::decode (JSON into fields)",
            Box::new(|| body::decode(black_box(&body), content_type).map_or(0, |f| f.len())),
        ),
        (
            "Receiver::verify_fields (decoded fields)",
            Box::new(|| usize::from(receiver.verify_fields(black_box(&fields), now).is_ok())),
        ),
        (
            "verify_signature alone (SHA-1, compare)",
            Box::new(|| {
                verify_signature(
                    black_box(&secrets),
                    black_box(&timestamp),
                    black_box(&nonce),
                    black_box(&signature),
                )
                .map_or(0, usize::from)
            }),
        ),
        (
            "fields.clone() (for the next row)",
            Box::new(|| black_box(&fields).clone().len()),
        ),
        (
            "fields.clone() + Callback::from_fields",
            Box::new(|| {
                Callback::from_fields(black_box(&fields).clone()).map_or(0, |c| c.event().len())
            }),
        ),
        (
            "zego_callback::parse (decode + type, no verify)",
            Box::new(|| {
                zego_callback::parse(black_box(&body), content_type).map_or(0, |c| c.event().len())
            }),
        ),
        (
            "serde_json::from_slice::<Value> (scale only)",
            Box::new(|| {
                serde_json::from_slice::<Json>(black_box(&body))
                    .map_or(0, |v| v.as_object().map_or(0, |o| o.len()))
            }),
        ),
    ];
    let breakdown_rounds = rounds.min(3);
    let breakdown_round = round / 2;
    println!();
    println!(
        "breakdown (informational; {breakdown_rounds} rounds x {} ms each, median):",
        breakdown_round.as_millis()
    );
    for (name, f) in cases {
        let rate = bench(breakdown_rounds, breakdown_round, false, f);
        println!("  {name:<50} {:>12.0}/s {:>8.0} ns", rate, 1e9 / rate);
    }
}
