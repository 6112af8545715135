//! Claims per second into a PostgreSQL registry: `make bench` (`cargo bench --bench registry`).
//!
//! Starts a throwaway server (Debian's `postgresql` package, as the tests do), then 8 writers,
//! each on its own connection, append `TICKPROOF_BENCH_CLAIMS` claims each (default 100)
//! to one branch's chain at once, and one writer alone for comparison. Every append is a whole
//! transaction: the chain head locked, the record sealed, inserted and committed. The server
//! runs with `fsync=off` (a test server): a production server's commit latency comes on top.
//! The registry is verified at the end; the figures are printed, never asserted.
#[path = "../tests/support/pg.rs"]
mod pg;

use std::time::Instant;
use tickproof::record::{Claim, Movement};
use tickproof::store::{ClaimStore, Draft, PgStore, StoreOptions};

fn claim(serial: String) -> Claim {
    Claim {
        brand: "Seiko".into(),
        model: "SKX007".into(),
        serial,
        movement: Movement::Mechanical,
        lift_angle_deg: Some(53.0),
        purchase_date: None,
        complaint: None,
        technician: None,
        policy: None,
    }
}

fn run(url: &str, writers: usize, each: usize) -> f64 {
    let started = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let url = url.to_string();
            std::thread::spawn(move || {
                let opts = StoreOptions { branch: Some("BENCH".into()), ..StoreOptions::default() };
                let mut s = PgStore::open(&url, opts).expect("registry");
                for i in 0..each {
                    s.append_draft(Draft::open(claim(format!("W{w}-{i}"))), None).expect("append");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer");
    }
    (writers * each) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let each: usize =
        std::env::var("TICKPROOF_BENCH_CLAIMS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let server = pg::PgServer::start();
    let url = server.registry("bench");
    let one = run(&url, 1, each);
    let eight = run(&url, 8, each);
    let check =
        PgStore::open(&url, StoreOptions::default()).expect("registry").verify_chain().expect("verify");
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    println!("registry: 1 writer  x {each} claims: {one:>7.0} claims/s");
    println!(
        "registry: 8 writers x {each} claims: {eight:>7.0} claims/s (one chain, {} records verified)",
        check.records
    );
}
