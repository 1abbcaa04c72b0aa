//! Micro-benchmark of [`Lb::pick`] (HAProxy manual, section 4.2 `balance`):
//! nanoseconds per pick for roundrobin, leastconn and consistent hashing,
//! with plain `Instant` loops so that no benchmark framework is needed.
//! Run with `cargo bench -p sluice-balance`.

use sluice_balance::{hash, Algo, Lb, Pick, ServerSpec, XorShift64};
use std::hint::black_box;
use std::time::Instant;

const ITERS: u32 = 2_000_000;

fn servers(n: u32) -> Vec<ServerSpec> {
    (1..=n)
        .map(|id| ServerSpec {
            id,
            weight: 1 + id % 4,
            backup: false,
            maxconn: 0,
        })
        .collect()
}

/// Runs `ITERS` picks (after a warm-up) and prints ns per pick.
fn bench(name: &str, n: u32, algo: Algo, track_conns: bool, keyed: bool) {
    let mut lb = Lb::new(algo, &servers(n), false);
    let mut rng = XorShift64::new(42);
    let mut run = |iters: u32| {
        let mut acc = 0usize;
        for i in 0..iters {
            let key = keyed.then(|| hash::full_hash(i));
            if let Pick::Server(s) = lb.pick(black_box(key), &mut rng, None) {
                acc = acc.wrapping_add(s);
                if track_conns {
                    lb.conn_started(s);
                    lb.conn_ended(s);
                }
            }
        }
        acc
    };
    black_box(run(ITERS / 10));
    let t = Instant::now();
    black_box(run(ITERS));
    let ns = t.elapsed().as_nanos() as f64 / f64::from(ITERS);
    println!("{name:<28} {n:>4} servers  {ns:>8.1} ns/pick");
}

fn main() {
    for n in [3, 30, 300] {
        bench("roundrobin", n, Algo::RoundRobin, false, false);
        bench("leastconn (+start/end)", n, Algo::LeastConn, true, false);
        bench(
            "hash consistent",
            n,
            Algo::Hash { consistent: true },
            false,
            true,
        );
        bench(
            "hash map-based",
            n,
            Algo::Hash { consistent: false },
            false,
            true,
        );
        bench("random(2)", n, Algo::Random { draws: 2 }, false, false);
    }
}
