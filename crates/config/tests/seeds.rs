//! Loads every seed configuration users bring (`shared/seeds/configs`) and checks the verdict
//! Sluice must give today: all load but `random-draw.cfg` (invalid in HAProxy too). The
//! `layered-*` ones load here; their network namespaces are opened when the proxy prepares
//! the configuration, and must exist then, as with HAProxy.

use std::path::PathBuf;

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds/configs")
}

/// Each seed with `None` for "loads", or the texts its errors must contain.
const EXPECTED: &[(&str, Option<&[&str]>)] = &[
    ("simple-roundrobin.cfg", None),
    ("weighted-roundrobin.cfg", None),
    ("source-consistent.cfg", None),
    ("uri-consistent.cfg", None),
    ("tcp-proxy.cfg", None),
    (
        "random-draw.cfg",
        Some(&[
            "random-draw.cfg:20] : unknown keyword 'random' in 'backend' section",
            "'balance random(2)'",
        ]),
    ),
    ("layered-edge.cfg", None),
    ("layered-worker.cfg", None),
    // Rule lines load here; the rules compiler (sluice-proxy) checks them.
    ("acl-examples.cfg", None),
    ("l7-static-dynamic.cfg", None),
    ("path-routing.cfg", None),
    ("basic-auth-map.cfg", None),
];

#[test]
fn seed_verdicts() {
    let dir = seeds_dir();
    if !dir.is_dir() {
        println!("skipped: no seed folder at {}", dir.display());
        return;
    }
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_none_or(|x| x != "cfg") {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((_, expected)) = EXPECTED.iter().find(|(n, _)| *n == name) else {
            panic!("seed {name} has no expected verdict: add it to EXPECTED");
        };
        seen += 1;
        let result = sluice_config::load_paths(std::slice::from_ref(&path));
        match (expected, result) {
            (None, Ok(_)) => {}
            (None, Err(d)) => panic!("{name} should load:\n{}", render(&d)),
            (Some(_), Ok(_)) => panic!("{name} should be refused"),
            (Some(wants), Err(d)) => {
                let text = render(&d);
                for w in *wants {
                    assert!(text.contains(w), "{name}: missing {w:?} in\n{text}");
                }
            }
        }
    }
    assert_eq!(
        seen,
        EXPECTED.len(),
        "some expected seeds are missing from {}",
        dir.display()
    );
}

#[test]
fn seed_models() {
    let dir = seeds_dir();
    if !dir.is_dir() {
        println!("skipped: no seed folder at {}", dir.display());
        return;
    }
    let load = |n: &str| match sluice_config::load_paths(&[dir.join(n)]) {
        Ok(l) => l,
        Err(d) => panic!("{n}:\n{}", render(&d)),
    };
    let l = load("weighted-roundrobin.cfg");
    let weights: Vec<u32> = l.config.backends[0]
        .servers
        .iter()
        .map(|s| s.weight)
        .collect();
    assert_eq!(weights, [2, 1, 3]);
    assert!(l.warnings.is_empty());
    let l = load("simple-roundrobin.cfg");
    // HAProxy warns about the missing timeouts here too.
    assert_eq!(l.warnings.len(), 2);
    let c = load("uri-consistent.cfg").config;
    assert!(matches!(
        c.backends[0].balance,
        sluice_config::Balance::Uri { .. }
    ));
    assert_eq!(c.backends[0].hash.kind, sluice_config::HashType::Consistent);
    let c = load("tcp-proxy.cfg").config;
    assert_eq!(c.frontends[0].mode, sluice_config::Mode::Tcp);
    assert_eq!(c.frontends[0].access_log, sluice_config::AccessLog::Tcp);
}

fn render(d: &[sluice_config::Diagnostic]) -> String {
    d.iter().map(|d| d.render(0)).collect::<Vec<_>>().join("\n")
}
