//! `sluice -c`: the verdicts HAProxy 2.6 gives on the users' seed configurations and the
//! bundled examples, and diagnostics with file:line and hints.

use std::path::{Path, PathBuf};

use crate::support::{check_config, tempdir};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seeds_dir() -> Option<PathBuf> {
    let d = repo_root().join("../shared/seeds/configs");
    d.is_dir().then_some(d)
}

#[test]
fn seed_configs_get_haproxy_verdicts() {
    let Some(dir) = seeds_dir() else {
        eprintln!("skipped: ../shared/seeds/configs is not beside the checkout");
        return;
    };
    let ok = [
        "simple-roundrobin.cfg",
        "weighted-roundrobin.cfg",
        "source-consistent.cfg",
        "uri-consistent.cfg",
        "tcp-proxy.cfg",
        "acl-examples.cfg",
        "l7-static-dynamic.cfg",
        "path-routing.cfg",
        "basic-auth-map.cfg",
    ];
    for name in ok {
        let (code, out) = check_config(&dir, Path::new(name));
        assert_eq!(code, 0, "{name} must load: {out}");
        assert!(out.contains("Configuration file is valid"), "{name}: {out}");
    }
    let (code, out) = check_config(&dir, Path::new("random-draw.cfg"));
    assert_eq!(code, 1, "random-draw.cfg is invalid in HAProxy too");
    assert!(out.contains("parsing [random-draw.cfg:20]"), "{out}");
    assert!(
        out.contains("unknown keyword 'random' in 'backend' section"),
        "{out}"
    );
    assert!(
        out.contains("balance random(2)"),
        "hint names the valid form: {out}"
    );
}

#[test]
fn bundled_examples_are_valid() {
    let dir = repo_root().join("examples");
    for e in std::fs::read_dir(&dir).expect("examples/") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "cfg") {
            let (code, out) = check_config(&dir, &p);
            assert_eq!(code, 0, "{}: {out}", p.display());
        }
    }
}

#[test]
fn unknown_keyword_reports_file_line_and_hint() {
    let dir = tempdir();
    let f = dir.join("bad.cfg");
    std::fs::write(
        &f,
        "defaults\n    mode http\nbackend be\n    balance roundrobbin\n    sever s1 127.0.0.1:80\n",
    )
    .unwrap();
    let (code, out) = check_config(&dir, &f);
    assert_eq!(code, 1);
    assert!(out.contains("bad.cfg:4]"), "{out}");
    assert!(
        out.contains("roundrobin"),
        "did-you-mean for the algorithm: {out}"
    );
    assert!(
        out.contains("bad.cfg:5]"),
        "all errors reported, not just the first: {out}"
    );
    assert!(out.contains("'sever'"), "{out}");
}

#[test]
fn unsupported_keyword_is_refused_not_ignored() {
    let dir = tempdir();
    let f = dir.join("stick.cfg");
    std::fs::write(
        &f,
        "backend be\n    stick-table type ip size 1m\n    server s1 127.0.0.1:80\n",
    )
    .unwrap();
    let (code, out) = check_config(&dir, &f);
    assert_eq!(code, 1);
    assert!(out.contains("stick.cfg:2]"), "{out}");
    assert!(out.contains("not supported by Sluice yet"), "{out}");
}

#[test]
fn haproxy_agrees_on_seed_verdicts() {
    let hap = crate::require_haproxy!();
    let Some(dir) = seeds_dir() else {
        eprintln!("skipped: ../shared/seeds/configs is not beside the checkout");
        return;
    };
    for name in [
        "simple-roundrobin.cfg",
        "weighted-roundrobin.cfg",
        "random-draw.cfg",
        "tcp-proxy.cfg",
    ] {
        let h = std::process::Command::new(&hap)
            .args(["-c", "-f", name])
            .current_dir(&dir)
            .output()
            .unwrap();
        let (code, _) = check_config(&dir, Path::new(name));
        assert_eq!(h.status.code().unwrap_or(-1), code, "{name}");
    }
}
