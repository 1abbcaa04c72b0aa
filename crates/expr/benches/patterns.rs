//! Pattern-set benchmark: 1,000,000 random CIDRs (/8../32, IPv4) loaded from
//! a file as an ACL (`src -f`) and as a map (`map_ip`), with load time,
//! memory and lookup time printed. Run: `cargo bench -p sluice-expr`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use sluice_expr::pattern::MatchKind;
use sluice_expr::{Compiler, Sample};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn rss_bytes() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = s
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

struct Probe(std::cell::Cell<std::net::SocketAddr>);
impl sluice_expr::Txn for Probe {
    fn src(&self) -> Option<std::net::SocketAddr> {
        Some(self.0.get())
    }
}

fn gen(rng: &mut Rng, n: usize, min_len: u32, values: bool) -> String {
    let mut out = String::with_capacity(n * 26);
    for i in 0..n {
        let len = min_len + (rng.next() % u64::from(33 - min_len)) as u32;
        let a = (rng.next() as u32) & (u32::MAX << (32 - len));
        out.push_str(&format!("{}/{len}", Ipv4Addr::from(a)));
        if values {
            out.push_str(&format!(" v{i}"));
        }
        out.push('\n');
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const N: usize = 1_000_000;
    let dir = std::env::temp_dir().join(format!("sluice-expr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let scenarios = [
        ("/8../32", 8u32, false),
        ("/20../32", 20, false),
        ("/8../32", 8, true),
    ];
    let probes: Vec<std::net::SocketAddr> = (0..1_000_000)
        .map(|_| std::net::SocketAddr::new(IpAddr::V4(Ipv4Addr::from(rng.next() as u32)), 1))
        .collect();
    for (k, (label, min_len, is_map)) in scenarios.into_iter().enumerate() {
        let file = dir.join(format!("set{k}"));
        std::fs::write(&file, gen(&mut rng, N, min_len, is_map))?;
        let f = file.to_string_lossy().into_owned();
        let mut c = Compiler::new();
        let rss0 = rss_bytes();
        let t = Instant::now();
        let (cond, r) = if is_map {
            c.compile_acl(
                "m",
                &[
                    "src,map_ip(".to_string() + &f + ")",
                    "-m".into(),
                    "found".into(),
                ]
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            )?;
            (
                c.compile_cond(&["if", "m"], sluice_expr::Context::TcpConnection)?,
                c.registry().map(&f).ok_or("not loaded")?,
            )
        } else {
            c.compile_acl("blocked", &["src", "-f", &f])?;
            (
                c.compile_cond(&["if", "blocked"], sluice_expr::Context::TcpConnection)?,
                c.registry().acl(&f).ok_or("not loaded")?,
            )
        };
        let load = t.elapsed();
        let rss1 = rss_bytes();
        let what = if is_map { "map_ip  " } else { "acl src -f" };
        println!(
            "{what} {N} CIDRs {label}: load {:.3} s; structure {:.1} MiB (entries + index); RSS delta {:.1} MiB",
            load.as_secs_f64(),
            r.bytes() as f64 / 1048576.0,
            rss1.saturating_sub(rss0) as f64 / 1048576.0
        );
        let txn = Probe(std::cell::Cell::new(probes[0]));
        let t = Instant::now();
        let mut hits = 0usize;
        for p in &probes {
            txn.0.set(*p);
            hits += usize::from(cond.eval(&txn));
        }
        let el = t.elapsed();
        let t2 = Instant::now();
        let mut hits2 = 0usize;
        for p in &probes {
            hits2 += usize::from(r.lookup(MatchKind::Ip, &Sample::Ip(p.ip()))?.is_some());
        }
        let el2 = t2.elapsed();
        println!(
            "{what} lookups: {:.0} ns/condition eval ({hits} hits of {}), {:.0} ns/registry lookup ({hits2} hits)",
            el.as_nanos() as f64 / probes.len() as f64,
            probes.len(),
            el2.as_nanos() as f64 / probes.len() as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
