//! Servers in network namespaces (`server ... namespace NAME`): connections and checks are
//! opened inside the namespace. The tests create their own namespaces (root and `ip` are
//! needed; they skip with a reason otherwise) and delete them when done.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::defaults;
use crate::support::{check_config, free_port, get, tempdir, Backend, Behaviour, Sluice};

/// A network namespace made for a test, with its loopback up; deleted on drop.
struct TestNetns {
    name: String,
}

impl TestNetns {
    fn create(name: &str) -> Option<TestNetns> {
        let ok = Command::new("ip")
            .args(["netns", "add", name])
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
        let ns = TestNetns {
            name: name.to_string(),
        };
        let up = Command::new("ip")
            .args(["-n", name, "link", "set", "lo", "up"])
            .status()
            .ok()?
            .success();
        up.then_some(ns)
    }

    /// Runs `f` on a short-lived thread that entered the namespace.
    fn run_in<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = Path::new("/var/run/netns").join(&self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                use std::os::fd::AsRawFd;
                let file = std::fs::File::open(&path).expect("namespace file");
                // SAFETY: setns changes only this short-lived thread's network namespace.
                let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            })
            .join()
            .expect("thread in the namespace")
        })
    }

    /// A listener on 127.0.0.1 inside the namespace.
    fn listen(&self, port: u16) -> TcpListener {
        self.run_in(|| TcpListener::bind(("127.0.0.1", port)).expect("bind inside the namespace"))
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Namespaces can be made here (root with `ip`), else the reason to skip.
fn can_make_namespaces() -> Result<(), &'static str> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root");
    }
    match Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("no `ip` command (iproute2)"),
    }
}

fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// The server is reached inside its namespace, not on the same address outside it, and its
/// health check runs there too.
#[test]
fn a_server_in_a_namespace_is_reached_there() {
    if let Err(why) = can_make_namespaces() {
        eprintln!("skipped: {why}");
        return;
    }
    let Some(ns) = TestNetns::create(&unique("sluice-it")) else {
        eprintln!("skipped: `ip netns add` failed (no namespace support here)");
        return;
    };
    let port = free_port();
    let inside = Backend::start_on(ns.listen(port), "inside", Behaviour::Hello);
    // The same address in the proxy's own namespace answers differently.
    let outside = TcpListener::bind(("127.0.0.1", port))
        .ok()
        .map(|l| Backend::start_on(l, "outside", Behaviour::Hello));
    let fe = free_port();
    let cfg = format!(
        "global\n    nbthread 1\n{}frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\nbackend be\n    server inside 127.0.0.1:{port} namespace {} check inter 100ms\n",
        defaults("http"),
        ns.name
    );
    let _s = Sluice::start(&cfg, fe);
    for _ in 0..3 {
        let r = get(fe, "/");
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "hello from inside\n");
    }
    assert!(inside.requests.load(Ordering::SeqCst) >= 3);
    if let Some(o) = outside {
        assert_eq!(
            o.requests.load(Ordering::SeqCst),
            0,
            "the root namespace was used"
        );
    }
}

/// `bind ... namespace`: Sluice listens inside the namespace (a client there reaches it, the
/// same address outside does not) and serves from the root namespace's backends.
#[test]
fn a_bind_in_a_namespace_listens_there() {
    if let Err(why) = can_make_namespaces() {
        eprintln!("skipped: {why}");
        return;
    }
    let Some(ns) = TestNetns::create(&unique("sluice-it")) else {
        eprintln!("skipped: `ip netns add` failed (no namespace support here)");
        return;
    };
    let be = Backend::start("root-app", Behaviour::Hello);
    let fe = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{fe} namespace {}\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        ns.name,
        crate::servers(&[&be], "")
    );
    let _s = Sluice::start_with(&cfg, &[], &[]);
    let text = ns.run_in(|| {
        crate::support::wait_for("sluice listening inside the namespace", || {
            std::net::TcpStream::connect(("127.0.0.1", fe)).ok()
        });
        get(fe, "/").text()
    });
    assert_eq!(text, "hello from root-app\n");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", fe)).is_err(),
        "the listener is in the root namespace too"
    );
}

/// A namespace that does not exist is refused at load, as HAProxy refuses it.
#[test]
fn a_missing_namespace_is_refused_at_load() {
    let dir = tempdir();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:1\n    default_backend be\nbackend be\n    server s 127.0.0.1:2 namespace sluice-no-such-namespace\n",
        defaults("http")
    );
    let f = dir.join("ns.cfg");
    std::fs::write(&f, cfg).unwrap();
    let (code, out) = check_config(&dir, &f);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(
            "ns.cfg:10] : 'server be/s' : Cannot open namespace 'sluice-no-such-namespace'."
        ),
        "{out}"
    );
    let f = dir.join("bind.cfg");
    std::fs::write(
        &f,
        "frontend f\n    mode http\n    bind 127.0.0.1:1 namespace sluice-no-such-namespace\n",
    )
    .unwrap();
    let (code, out) = check_config(&dir, &f);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("Cannot open namespace 'sluice-no-such-namespace'."),
        "{out}"
    );
    assert!(
        out.contains("bind.cfg:3] : 'bind 127.0.0.1:1' in section 'frontend' : error encountered while processing 'namespace'."),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The layered seeds (`layered-edge.cfg` in front of `layered-worker.cfg`, each server in
/// its own namespace) route `/remote` through the second proxy, the rest to the edge's own
/// server, as the blog post describes.
#[test]
fn seed_layered_edge_and_worker() {
    if let Err(why) = can_make_namespaces() {
        eprintln!("skipped: {why}");
        return;
    }
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds/configs");
    let (Ok(edge), Ok(worker)) = (
        std::fs::read_to_string(seeds.join("layered-edge.cfg")),
        std::fs::read_to_string(seeds.join("layered-worker.cfg")),
    ) else {
        eprintln!("skipped: ../shared/seeds/configs is not beside the checkout");
        return;
    };
    // The seeds name their namespaces and ports; they must be free here.
    let (Some(a), Some(b)) = (
        TestNetns::create("my-new-namespace"),
        TestNetns::create("machine-B-namespace"),
    ) else {
        eprintln!("skipped: the seeds' namespaces exist already or cannot be made");
        return;
    };
    let (Ok(_), Ok(_)) = (
        TcpListener::bind("127.0.0.1:8080"),
        TcpListener::bind("127.0.0.2:80"),
    ) else {
        eprintln!("skipped: 127.0.0.1:8080 or 127.0.0.2:80 is taken");
        return;
    };
    let on_a = Backend::start_on(a.listen(8000), "machine-A", Behaviour::Hello);
    let on_b = Backend::start_on(b.listen(8000), "machine-B", Behaviour::Hello);
    let _worker = Sluice::start_files(&worker, &[], &[], &[]);
    let _edge = Sluice::start_files(&edge, &[8080], &[], &[]);
    crate::support::wait_for("the worker on 127.0.0.2:80", || {
        std::net::TcpStream::connect("127.0.0.2:80").ok()
    });
    assert_eq!(get(8080, "/").text(), "hello from machine-A\n");
    let mut c = crate::support::Client::connect(8080);
    let r = c.get("/remote/x");
    assert_eq!(r.text(), "hello from machine-B\n");
    assert!(on_a.requests.load(Ordering::SeqCst) >= 1);
    assert!(on_b.requests.load(Ordering::SeqCst) >= 1);
}
