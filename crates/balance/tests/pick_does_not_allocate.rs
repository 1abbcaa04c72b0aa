//! `Lb::pick` runs on every request, so it must not touch the allocator
//! (HAProxy manual, section 4.2 `balance`: all algorithms). A counting global
//! allocator checks it for every algorithm, including the saturated-server
//! and redispatch paths.

use sluice_balance::{hash, Algo, Lb, Pick, ServerSpec, XorShift64};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; only bumps a thread-local counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.with(|a| a.set(a.get() + 1));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn pick_never_allocates() {
    let specs: Vec<ServerSpec> = (1..=8)
        .map(|id| ServerSpec {
            id,
            weight: id,
            backup: id > 6,
            maxconn: 2,
        })
        .collect();
    for algo in [
        Algo::RoundRobin,
        Algo::StaticRr,
        Algo::LeastConn,
        Algo::First,
        Algo::Random { draws: 3 },
        Algo::Hash { consistent: false },
        Algo::Hash { consistent: true },
    ] {
        let mut lb = Lb::new(algo, &specs, true);
        lb.set_up(2, false);
        let mut rng = XorShift64::new(9);
        COUNTING.with(|c| c.set(true));
        for i in 0..2000u32 {
            let key = (i % 3 != 0).then(|| hash::full_hash(i));
            let avoid = (i % 5 == 0).then_some((i as usize) % 8);
            match lb.pick(key, &mut rng, avoid) {
                // keep servers saturating and draining so the full-server
                // paths run too
                Pick::Server(s) if i % 4 != 0 => lb.conn_started(s),
                _ => {
                    let s = (i as usize) % 8;
                    if lb.cur_conns(s) > 0 {
                        lb.conn_ended(s);
                    }
                }
            }
        }
        COUNTING.with(|c| c.set(false));
        assert_eq!(
            ALLOCS.with(Cell::get),
            0,
            "{algo:?} allocated while picking"
        );
    }
}
