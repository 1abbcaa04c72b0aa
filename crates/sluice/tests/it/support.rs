//! Test harness: real `sluice` processes, real backends on 127.0.0.1, raw TCP clients.
//! Readiness is polled with bounded deadlines; nothing synchronises by sleeping.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEADLINE: Duration = Duration::from_secs(10);

/// A port free at the time of the call (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

pub fn tempdir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "sluice-it-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).expect("tempdir");
    d
}

pub fn sluice_bin() -> &'static str {
    env!("CARGO_BIN_EXE_sluice")
}

/// Polls `f` until it returns Some or the deadline passes.
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::yield_now();
        // A short park keeps the poll from burning a core; it is not synchronisation:
        // the loop re-checks the condition.
        std::thread::park_timeout(Duration::from_millis(5));
    }
}

/// A running sluice process; killed on drop.
pub struct Sluice {
    pub child: Child,
    pub dir: PathBuf,
    pub stderr_path: PathBuf,
    pub stdout_path: PathBuf,
}

impl Sluice {
    /// Starts `sluice -db -f cfg` with the config text and waits until `port` accepts.
    pub fn start(cfg: &str, port: u16) -> Sluice {
        Self::start_with(cfg, &[port], &[])
    }

    pub fn start_with(cfg: &str, ports: &[u16], extra_args: &[&str]) -> Sluice {
        Self::start_files(cfg, ports, extra_args, &[])
    }

    /// Like `start_with`, with files (name, content) written beside the config first.
    pub fn start_files(
        cfg: &str,
        ports: &[u16],
        extra_args: &[&str],
        files: &[(&str, &str)],
    ) -> Sluice {
        let dir = tempdir();
        for (name, content) in files {
            std::fs::write(dir.join(name), content).expect("write file");
        }
        let path = dir.join("sluice.cfg");
        std::fs::write(&path, cfg).expect("write cfg");
        let stdout_path = dir.join("stdout");
        let stderr_path = dir.join("stderr");
        let child = Command::new(sluice_bin())
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .args(extra_args)
            .current_dir(&dir)
            .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
            .spawn()
            .expect("spawn sluice");
        let mut s = Sluice {
            child,
            dir,
            stderr_path,
            stdout_path,
        };
        for &p in ports {
            let ok = s.wait_listening(p);
            assert!(ok, "sluice did not listen on {p}; stderr:\n{}", s.stderr());
        }
        s
    }

    fn wait_listening(&mut self, port: u16) -> bool {
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return true;
            }
            std::thread::park_timeout(Duration::from_millis(5));
        }
        false
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// Waits until stdout (or stderr) contains `needle`.
    pub fn wait_output(&self, needle: &str) -> String {
        wait_for(&format!("output containing {needle:?}"), || {
            let all = format!("{}{}", self.stdout(), self.stderr());
            all.contains(needle).then_some(all)
        })
    }
}

impl Drop for Sluice {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `sluice -c -f FILE` in `dir`; returns (exit code, stdout+stderr).
pub fn check_config(dir: &Path, file: &Path) -> (i32, String) {
    let out = Command::new(sluice_bin())
        .arg("-c")
        .arg("-f")
        .arg(file)
        .current_dir(dir)
        .output()
        .expect("run sluice -c");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// How a test backend answers.
#[derive(Clone)]
pub enum Behaviour {
    /// `200` with `x-server: NAME` and body `hello from NAME\n`, keep-alive.
    Hello,
    /// Echoes the request body length and a checksum (`len=N sum=S`).
    EchoBody,
    /// Holds the response until the gate opens.
    Gated(Arc<Gate>),
    /// Answers with this raw response and closes.
    Raw(Vec<u8>),
    /// Answers `101 Switching Protocols` then echoes bytes.
    WebSocketEcho,
    /// Accepts and never answers.
    Silent,
}

/// A latch a test opens to let gated backends answer.
#[derive(Default)]
pub struct Gate {
    open: Mutex<bool>,
    cv: std::sync::Condvar,
    pub waiting: AtomicUsize,
}

impl Gate {
    pub fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }
    fn wait(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut g = self.open.lock().unwrap();
        while !*g {
            let (ng, _) = self.cv.wait_timeout(g, DEADLINE).unwrap();
            g = ng;
            if !*g {
                // bounded: a test that forgets to open the gate fails instead of hanging
                break;
            }
        }
    }
}

/// A real HTTP/1.1 backend on 127.0.0.1 that names itself.
pub struct Backend {
    pub name: String,
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    pub requests: Arc<AtomicUsize>,
    pub last_head: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
}

impl Backend {
    pub fn start(name: &str, behaviour: Behaviour) -> Backend {
        Self::start_on(
            TcpListener::bind("127.0.0.1:0").expect("bind backend"),
            name,
            behaviour,
        )
    }

    pub fn start_on(l: TcpListener, name: &str, behaviour: Behaviour) -> Backend {
        let addr = l.local_addr().expect("addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let last_head = Arc::new(Mutex::new(String::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, r, h, st, n) = (
            connections.clone(),
            requests.clone(),
            last_head.clone(),
            stop.clone(),
            name.to_string(),
        );
        std::thread::spawn(move || {
            for s in l.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(s) = s else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let (r, h, n, b) = (r.clone(), h.clone(), n.clone(), behaviour.clone());
                std::thread::spawn(move || serve_conn(s, &n, &b, &r, &h));
            }
        });
        Backend {
            name: name.to_string(),
            addr,
            connections,
            requests,
            last_head,
            stop,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}

pub fn read_head(r: &mut impl BufRead) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).ok()?;
        if n == 0 {
            return None;
        }
        if line == "\r\n" || line == "\n" {
            if head.is_empty() {
                continue;
            }
            return Some(head);
        }
        head.push_str(&line);
    }
}

fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads a request body per its framing; returns the bytes.
pub fn read_body(r: &mut impl BufRead, head: &str) -> Vec<u8> {
    let mut body = Vec::new();
    if header_value(head, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if size == 0 {
                // trailers until blank line
                loop {
                    let mut t = String::new();
                    if r.read_line(&mut t).unwrap_or(0) == 0 || t == "\r\n" {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0u8; size];
            if r.read_exact(&mut chunk).is_err() {
                break;
            }
            body.extend_from_slice(&chunk);
            let mut crlf = [0u8; 2];
            let _ = r.read_exact(&mut crlf);
        }
    } else if let Some(len) =
        header_value(head, "content-length").and_then(|v| v.parse::<usize>().ok())
    {
        body.resize(len, 0);
        let _ = r.read_exact(&mut body);
    }
    body
}

fn serve_conn(
    s: TcpStream,
    name: &str,
    b: &Behaviour,
    requests: &AtomicUsize,
    last: &Mutex<String>,
) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let mut w = match s.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut r = BufReader::new(s);
    loop {
        let Some(head) = read_head(&mut r) else {
            return;
        };
        requests.fetch_add(1, Ordering::SeqCst);
        *last.lock().unwrap() = head.clone();
        if header_value(&head, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            let _ = w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let body = read_body(&mut r, &head);
        let close =
            header_value(&head, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        match b {
            Behaviour::Hello | Behaviour::Gated(_) => {
                if let Behaviour::Gated(g) = b {
                    g.wait();
                }
                let text = format!("hello from {name}\n");
                let body = if head.starts_with("HEAD ") {
                    ""
                } else {
                    text.as_str()
                };
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nx-server: {name}\r\ncontent-length: {}\r\n{}\r\n{body}",
                    text.len(),
                    if close { "connection: close\r\n" } else { "" }
                );
                if w.write_all(resp.as_bytes()).is_err() || close {
                    return;
                }
            }
            Behaviour::EchoBody => {
                let sum: u64 = body.iter().map(|&x| u64::from(x)).sum();
                let text = format!("len={} sum={sum}\n", body.len());
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nx-server: {name}\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{text}\r\n0\r\n\r\n",
                    text.len()
                );
                if w.write_all(resp.as_bytes()).is_err() {
                    return;
                }
            }
            Behaviour::Raw(bytes) => {
                let _ = w.write_all(bytes);
                let _ = w.shutdown(Shutdown::Write);
                return;
            }
            Behaviour::WebSocketEcho => {
                let _ = w.write_all(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n");
                let mut buf = [0u8; 4096];
                loop {
                    match r.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if w.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
            Behaviour::Silent => {
                let mut buf = [0u8; 1];
                let _ = r.read(&mut buf);
                return;
            }
        }
    }
}

/// A parsed response from a raw client.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.head, name)
    }
    pub fn server(&self) -> String {
        self.header("x-server").unwrap_or("").to_string()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw HTTP client on one connection.
pub struct Client {
    pub r: BufReader<TcpStream>,
    pub w: TcpStream,
}

impl Client {
    pub fn connect(port: u16) -> Client {
        Self::connect_from("127.0.0.1", port)
    }

    /// Connects from a chosen loopback source address (e.g. 127.0.0.2), to test `src` rules.
    pub fn connect_from(src: &str, port: u16) -> Client {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        let from: SocketAddr = format!("{src}:0").parse().expect("source address");
        sock.bind(&from.into()).expect("bind source");
        let to: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        sock.connect(&to.into()).expect("connect to sluice");
        let s: TcpStream = sock.into();
        s.set_read_timeout(Some(DEADLINE)).expect("timeout");
        let w = s.try_clone().expect("clone");
        Client {
            r: BufReader::new(s),
            w,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).expect("send");
    }

    /// Reads one response (body per content-length / chunked / close). None on EOF first.
    pub fn read_response(&mut self) -> Option<Response> {
        self.read_response_to(false)
    }

    pub fn read_response_to(&mut self, head_request: bool) -> Option<Response> {
        read_response_from(&mut self.r, head_request)
    }

    pub fn get(&mut self, path: &str) -> Response {
        self.send(format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n").as_bytes());
        self.read_response().expect("response")
    }

    /// True when the peer closed the connection (EOF).
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.r.read(&mut b), Ok(0) | Err(_))
    }
}

/// Reads one response from any byte stream (body per content-length / chunked / close).
pub fn read_response_from(r: &mut impl BufRead, head_request: bool) -> Option<Response> {
    let head = read_head(r)?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut body = Vec::new();
    if head_request || status == 204 || status == 304 || (100..200).contains(&status) {
        // no body
    } else if header_value(&head, "transfer-encoding").is_some()
        || header_value(&head, "content-length").is_some()
    {
        body = read_body(r, &head);
    } else {
        let _ = r.read_to_end(&mut body);
    }
    Some(Response { status, head, body })
}

/// One request on a fresh connection.
pub fn get(port: u16, path: &str) -> Response {
    let mut c = Client::connect(port);
    c.send(format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n").as_bytes());
    c.read_response().expect("response")
}

/// Sends raw bytes on a fresh connection and reads one response (None when closed silently).
pub fn raw(port: u16, bytes: &[u8]) -> Option<Response> {
    let mut c = Client::connect(port);
    c.send(bytes);
    c.read_response()
}

/// HAProxy, when installed (the reference implementation), for side-by-side tests.
pub fn haproxy_bin() -> Option<PathBuf> {
    for p in [
        "/usr/sbin/haproxy",
        "/usr/local/sbin/haproxy",
        "/usr/bin/haproxy",
    ] {
        let p = PathBuf::from(p);
        if p.exists() {
            return Some(p);
        }
    }
    None
}

/// A running HAProxy with the same config; killed on drop.
pub struct Haproxy {
    child: Child,
    dir: PathBuf,
}

impl Haproxy {
    pub fn start(bin: &Path, cfg: &str, port: u16) -> Haproxy {
        let dir = tempdir();
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, cfg).expect("write cfg");
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .current_dir(&dir)
            .stdout(Stdio::from(
                std::fs::File::create(dir.join("stdout.log")).expect("haproxy stdout file"),
            ))
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn haproxy");
        let mut h = Haproxy { child, dir };
        let end = Instant::now() + DEADLINE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "haproxy did not start");
            assert!(
                h.child.try_wait().ok().flatten().is_none(),
                "haproxy exited"
            );
            std::thread::park_timeout(Duration::from_millis(5));
        }
        h
    }
}

impl Haproxy {
    /// Waits until HAProxy's stdout (`log stdout`) contains `needle`.
    pub fn wait_output(&self, needle: &str) -> String {
        let path = self.dir.join("stdout.log");
        wait_for(&format!("HAProxy output containing {needle:?}"), || {
            let all = std::fs::read_to_string(&path).unwrap_or_default();
            all.contains(needle).then_some(all)
        })
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Skips a test (printing why) when HAProxy is not installed.
#[macro_export]
macro_rules! require_haproxy {
    () => {
        match $crate::support::haproxy_bin() {
            Some(b) => b,
            None => {
                eprintln!("skipped: HAProxy is not installed (apt-get install haproxy); this test compares against it");
                return;
            }
        }
    };
}
