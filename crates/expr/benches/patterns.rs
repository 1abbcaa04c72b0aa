//! Pattern-set benchmark: 1,000,000 random IPv4 CIDRs loaded from a file as
//! an ACL (`src -f`) and as a map (`src,map_ip(...)`, one distinct value
//! per entry), prefix lengths /8../32 and /20../32. For each: load time,
//! memory (the structure's own count, and the process's resident memory
//! growth after loading and at its peak), and lookup time per address over
//! 1,000,000 random addresses (median and mean of batches of 1,000): of the
//! index alone (`PatRef::matches`), of the whole condition (`src` fetch,
//! for maps the `map_ip` converter with its string value, then the match),
//! and for maps of `PatRef::map_value`; then the time of one run-time `add`
//! and `del` (each rebuilds the index). Each set is measured in a fresh
//! process, so that memory freed by one does not hide the next one's. The
//! latency of one cache miss is printed before and after: a lookup in a set
//! far larger than the cache costs at least one.
//! Run: `cargo bench -p sluice-expr`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use sluice_expr::pattern::MatchKind;
use sluice_expr::{Compiler, Context, Sample};

const N: usize = 1_000_000;
const PROBES: usize = 1_000_000;
const BATCH: usize = 1_000;

/// (label, shortest prefix, map)
const SCENARIOS: [(&str, u32, bool); 4] = [
    ("/8../32", 8, false),
    ("/20../32", 20, false),
    ("/8../32", 8, true),
    ("/20../32", 20, true),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A field of /proc/self/status, in bytes (VmRSS, VmHWM).
fn status_bytes(field: &str) -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<usize>().ok())
        .unwrap_or(0)
        * 1024
}

struct Probe(std::cell::Cell<SocketAddr>);
impl sluice_expr::Txn for Probe {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.0.get())
    }
}

fn gen(rng: &mut Rng, n: usize, min_len: u32, values: bool) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(n * 26);
    for i in 0..n {
        let len = min_len + (rng.next() % u64::from(33 - min_len)) as u32;
        let a = (rng.next() as u32) & (u32::MAX << (32 - len));
        let _ = write!(out, "{}/{len}", Ipv4Addr::from(a));
        if values {
            let _ = write!(out, " v{i}");
        }
        out.push('\n');
    }
    out
}

const MIB: f64 = 1048576.0;

/// Nanoseconds per dependent random read over 64 MiB: the cost of one
/// cache miss on this machine, to read the lookup times against.
fn memory_latency() -> f64 {
    const LEN: usize = 16 << 20;
    let mut rng = Rng(0x5eed);
    // Sattolo's shuffle: one cycle through every slot.
    let mut next: Vec<u32> = (0..LEN as u32).collect();
    for i in (1..LEN).rev() {
        let j = (rng.next() % i as u64) as usize;
        next.swap(i, j);
    }
    let mut p = 0u32;
    let steps = 2_000_000;
    let t = Instant::now();
    for _ in 0..steps {
        p = next[p as usize];
    }
    std::hint::black_box(p);
    t.elapsed().as_nanos() as f64 / steps as f64
}

/// Median and mean nanoseconds per call of `f` over the probes.
fn time_lookups(probes: &[u32], mut f: impl FnMut(u32) -> bool) -> (f64, f64, usize) {
    let mut per_batch = Vec::with_capacity(probes.len() / BATCH);
    let mut hits = 0;
    let total = Instant::now();
    for chunk in probes.chunks(BATCH) {
        let t = Instant::now();
        for &p in chunk {
            hits += usize::from(f(p));
        }
        per_batch.push(t.elapsed().as_nanos() as f64 / chunk.len() as f64);
    }
    let mean = total.elapsed().as_nanos() as f64 / probes.len() as f64;
    per_batch.sort_by(f64::total_cmp);
    (per_batch[per_batch.len() / 2], mean, hits)
}

/// Load and measure one set (in a child process).
fn scenario(k: usize, f: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (label, _, is_map) = SCENARIOS[k];
    let mut rng = Rng(0x0bad_cafe_dead_beef ^ k as u64);
    let probes: Vec<u32> = (0..PROBES).map(|_| rng.next() as u32).collect();
    let mut c = Compiler::new();
    let (rss0, hwm0) = (status_bytes("VmRSS"), status_bytes("VmHWM"));
    let t = Instant::now();
    let (cond, r) = if is_map {
        let src = format!("src,map_ip({f})");
        c.compile_acl("m", &[src.as_str(), "-m", "found"])?;
        (
            c.compile_cond(&["if", "m"], Context::TcpConnection)?,
            c.registry().map(f).ok_or("not loaded")?,
        )
    } else {
        c.compile_acl("blocked", &["src", "-f", f])?;
        (
            c.compile_cond(&["if", "blocked"], Context::TcpConnection)?,
            c.registry().acl(f).ok_or("not loaded")?,
        )
    };
    let load = t.elapsed();
    let (rss1, hwm1) = (status_bytes("VmRSS"), status_bytes("VmHWM"));
    let what = if is_map { "map_ip    " } else { "acl src -f" };
    println!(
        "{what} {N} CIDRs {label:>8}: load {:.3} s; RSS +{:.1} MiB (peak +{:.1} MiB); structure {:.1} MiB (entries + index)",
        load.as_secs_f64(),
        rss1.saturating_sub(rss0) as f64 / MIB,
        hwm1.saturating_sub(hwm0.max(rss0)) as f64 / MIB,
        r.bytes() as f64 / MIB,
    );
    let txn = Probe(std::cell::Cell::new(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        1,
    )));
    let (med, mean, hits) = time_lookups(&probes, |p| {
        txn.0.set(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(p)), 1));
        cond.eval(&txn)
    });
    let (imed, imean, ihits) = time_lookups(&probes, |p| {
        let s = Sample::Ip(IpAddr::V4(Ipv4Addr::from(p)));
        matches!(r.matches(MatchKind::Ip, &s), Ok(true))
    });
    assert_eq!(hits, ihits);
    print!(
        "{what} lookup ns, median/mean: index {imed:.0}/{imean:.0}, condition {med:.0}/{mean:.0}"
    );
    if is_map {
        let (med, mean, vhits) = time_lookups(&probes, |p| {
            let s = Sample::Ip(IpAddr::V4(Ipv4Addr::from(p)));
            matches!(r.map_value(MatchKind::Ip, &s), Ok(Some(_)))
        });
        assert_eq!(hits, vhits);
        print!(", map_value {med:.0}/{mean:.0}");
    }
    println!(" ({hits} of {PROBES} addresses match)");
    let key = b"203.0.113.0/24";
    let value = is_map.then_some(&b"new"[..]);
    let t = Instant::now();
    r.add(key, value)?;
    let add = t.elapsed();
    let probe = Probe(std::cell::Cell::new("203.0.113.9:1".parse()?));
    assert!(cond.eval(&probe));
    let t = Instant::now();
    r.del(key)?;
    let del = t.elapsed();
    println!(
        "{what} run-time update (index rebuilt): add {:.3} s, del {:.3} s",
        add.as_secs_f64(),
        del.as_secs_f64()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(p) = args.iter().position(|a| a == "--scenario") {
        let k: usize = args.get(p + 1).ok_or("scenario")?.parse()?;
        return scenario(k, args.get(p + 2).ok_or("file")?);
    }
    let dir = std::env::temp_dir().join(format!("sluice-expr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let exe = std::env::current_exe()?;
    println!(
        "memory latency (dependent random reads over 64 MiB): {:.0} ns",
        memory_latency()
    );
    let mut res = Ok(());
    for (k, (_, min_len, is_map)) in SCENARIOS.into_iter().enumerate() {
        let file = dir.join(format!("set{k}"));
        std::fs::write(&file, gen(&mut rng, N, min_len, is_map))?;
        let st = std::process::Command::new(&exe)
            .arg("--scenario")
            .arg(k.to_string())
            .arg(&file)
            .status()?;
        let _ = std::fs::remove_file(&file);
        if !st.success() {
            res = Err(format!("scenario {k} failed: {st}").into());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "memory latency (dependent random reads over 64 MiB): {:.0} ns",
        memory_latency()
    );
    res
}
