//! Process behaviour: `-D` with `-p`, `-f DIR`, soft stop on SIGUSR1.

use std::process::Command;

use crate::support::{
    free_port, get, sluice_bin, tempdir, wait_for, Backend, Behaviour, Client, Sluice,
};
use crate::{defaults, servers};

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .map(|s| s.success());
    assert_eq!(ok.ok(), Some(true), "kill {sig} {pid}");
}

#[test]
fn daemon_mode_writes_the_pidfile_and_serves() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let dir = tempdir();
    let cfg = dir.join("d.cfg");
    let pidfile = dir.join("sluice.pid");
    std::fs::write(
        &cfg,
        format!(
            "{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n{}",
            defaults("http"),
            servers(&[&b], "")
        ),
    )
    .unwrap();
    let status = Command::new(sluice_bin())
        .arg("-D")
        .arg("-p")
        .arg(&pidfile)
        .arg("-f")
        .arg(&cfg)
        .status()
        .unwrap();
    assert!(status.success(), "the parent returns 0 once the child runs");
    let pid: u32 = wait_for("the pidfile", || {
        std::fs::read_to_string(&pidfile).ok()?.trim().parse().ok()
    });
    wait_for("the daemon to answer", || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .ok()
            .map(|_| ())
    });
    assert_eq!(get(port, "/").server(), "s1");
    signal(pid, "-TERM");
    wait_for("the daemon to exit", || {
        (!std::path::Path::new(&format!("/proc/{pid}")).exists()).then_some(())
    });
}

#[test]
fn config_directory_loads_its_files_in_order() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let dir = tempdir();
    std::fs::write(dir.join("10-defaults.cfg"), defaults("http")).unwrap();
    std::fs::write(
        dir.join("20-proxies.cfg"),
        format!(
            "frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n{}",
            servers(&[&b], "")
        ),
    )
    .unwrap();
    let mut child = Command::new(sluice_bin())
        .args(["-db", "-q", "-f"])
        .arg(&dir)
        .spawn()
        .unwrap();
    wait_for("listening", || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .ok()
            .map(|_| ())
    });
    assert_eq!(get(port, "/").server(), "s1");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn sigusr1_soft_stop_finishes_and_exits() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n{}",
        defaults("http"),
        servers(&[&b], "")
    );
    let mut s = Sluice::start(&cfg, port);
    assert_eq!(get(port, "/").status, 200);
    signal(s.child.id(), "-USR1");
    let code = wait_for("the soft stop", || s.child.try_wait().ok().flatten());
    assert!(code.success(), "exit 0 after a soft stop");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "listener closed"
    );
}

#[test]
fn soft_stop_closes_idle_keep_alive_connections_instead_of_waiting_for_their_timeout() {
    let b = Backend::start("s1", Behaviour::Hello);
    let port = free_port();
    // Idle connections would otherwise hold the stopping process for a minute.
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    timeout server 60s\n    timeout http-keep-alive 60s\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\nbackend be\n{}",
        servers(&[&b], "")
    );
    let mut s = Sluice::start(&cfg, port);
    let mut idle = Client::connect(port);
    assert_eq!(idle.get("/").status, 200);
    signal(s.child.id(), "-USR1");
    let code = wait_for("the soft stop", || s.child.try_wait().ok().flatten());
    assert!(code.success(), "exit 0 after a soft stop");
    assert!(
        idle.is_closed(),
        "the idle connection was closed, not left open"
    );
}
