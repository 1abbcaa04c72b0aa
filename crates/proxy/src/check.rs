//! Health checks (manual 5.2 `check`, `inter`, `fastinter`, `downinter`, `rise`, `fall`,
//! `port`, `addr`; 4.2 `option httpchk`, `http-check send|expect`, `timeout check`): one task
//! per checked server on a dedicated thread, updating the balancer and logging state changes
//! in HAProxy's words.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_config::{Config, HttpCheck, HttpCheckExpect, Server};

use crate::transport::{self, Conn, HandshakeError};

use crate::runtime::{BackendRt, Runtime};

/// The result of one check, with HAProxy's reason text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub ok: bool,
    /// e.g. `Layer4 connection problem`, `Layer7 wrong status`.
    pub reason: String,
    /// e.g. `Connection refused`; HAProxy prints it as `info: "..."`.
    pub info: Option<String>,
    pub code: Option<u16>,
    pub duration: Duration,
}

/// Health counter as HAProxy keeps it: UP while `health >= rise`; a server just started (or
/// just come up) goes down at its first failure, and needs `fall` failures once fully up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    pub health: u32,
    pub rise: u32,
    pub fall: u32,
    pub up: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    WentUp,
    WentDown,
}

impl Health {
    pub fn new(rise: u32, fall: u32, up: bool) -> Health {
        let rise = rise.max(1);
        let fall = fall.max(1);
        Health {
            health: if up { rise } else { 0 },
            rise,
            fall,
            up,
        }
    }

    pub fn success(&mut self) -> Transition {
        let max = self.rise + self.fall - 1;
        if self.health < max {
            self.health += 1;
        }
        if !self.up && self.health >= self.rise {
            self.up = true;
            self.health = max;
            return Transition::WentUp;
        }
        Transition::None
    }

    pub fn failure(&mut self) -> Transition {
        if self.up {
            if self.health > self.rise {
                self.health -= 1;
                return Transition::None;
            }
            self.health = 0;
            self.up = false;
            return Transition::WentDown;
        }
        self.health = self.health.saturating_sub(1);
        Transition::None
    }

    /// The interval before the next check: `fastinter` while transitioning, `downinter`
    /// while down, `inter` otherwise.
    pub fn next_interval(&self, s: &Server) -> Duration {
        let max = self.rise + self.fall - 1;
        if !self.up && self.health == 0 {
            s.downinter.unwrap_or(s.inter)
        } else if self.health != max {
            s.fastinter.unwrap_or(s.inter)
        } else {
            s.inter
        }
    }
}

fn io_info(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The request `option httpchk` / `http-check send` sends.
pub fn http_check_request(c: &HttpCheck) -> Vec<u8> {
    let mut r = Vec::with_capacity(128);
    r.extend_from_slice(c.method.as_bytes());
    r.push(b' ');
    r.extend_from_slice(c.uri.as_bytes());
    r.push(b' ');
    r.extend_from_slice(c.version.as_bytes());
    r.extend_from_slice(b"\r\n");
    for (n, v) in &c.headers {
        r.extend_from_slice(n.as_bytes());
        r.extend_from_slice(b": ");
        r.extend_from_slice(v.as_bytes());
        r.extend_from_slice(b"\r\n");
    }
    if let Some(b) = &c.body {
        r.extend_from_slice(format!("content-length: {}\r\n", b.len()).as_bytes());
    }
    if c.version.eq_ignore_ascii_case("HTTP/1.1") {
        r.extend_from_slice(b"Connection: close\r\n");
    }
    r.extend_from_slice(b"\r\n");
    if let Some(b) = &c.body {
        r.extend_from_slice(b.as_bytes());
    }
    r
}

/// Judges an HTTP check response (status line and, for string expects, the body).
pub fn judge_http(
    resp: &[u8],
    expect: Option<&HttpCheckExpect>,
) -> (bool, String, Option<u16>, Option<String>) {
    let line_end = resp
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(resp.len());
    let line = String::from_utf8_lossy(&resp[..line_end]);
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().and_then(|c| c.parse::<u16>().ok());
    let text = parts.next().unwrap_or("").to_string();
    let Some(code) = code.filter(|_| version.starts_with("HTTP/")) else {
        return (false, "Layer7 invalid response".into(), None, None);
    };
    let body_at = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4);
    let body = body_at.map(|p| &resp[p..]).unwrap_or(b"");
    let status_ok = |ranges: &[(u16, u16)]| ranges.iter().any(|(a, b)| (*a..=*b).contains(&code));
    match expect {
        None => {
            if (200..400).contains(&code) {
                (true, "Layer7 check passed".into(), Some(code), Some(text))
            } else {
                (false, "Layer7 wrong status".into(), Some(code), Some(text))
            }
        }
        Some(HttpCheckExpect::Status { ranges, negate }) => {
            if status_ok(ranges) != *negate {
                (true, "Layer7 check passed".into(), Some(code), Some(text))
            } else {
                (false, "Layer7 wrong status".into(), Some(code), Some(text))
            }
        }
        Some(HttpCheckExpect::String { text: pat, negate }) => {
            let found = !pat.is_empty() && body.windows(pat.len()).any(|w| w == pat.as_bytes());
            if found != *negate {
                (true, "Layer7 check passed".into(), Some(code), Some(text))
            } else {
                (
                    false,
                    "Layer7 wrong status".into(),
                    Some(code),
                    Some(format!("HTTP content check did not match '{pat}'")),
                )
            }
        }
        Some(HttpCheckExpect::Rstring { regex, negate }) => {
            let found = rstring_matches(regex, body);
            if found != *negate {
                (true, "Layer7 check passed".into(), Some(code), Some(text))
            } else {
                (
                    false,
                    "Layer7 wrong status".into(),
                    Some(code),
                    Some(format!("HTTP content check did not match '{regex}'")),
                )
            }
        }
    }
}

thread_local! {
    /// `http-check expect rstring` patterns, compiled once per checker thread (the config
    /// compiler already refused the ones that do not compile).
    static RSTRINGS: std::cell::RefCell<std::collections::HashMap<String, Option<regex::bytes::Regex>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn rstring_matches(pattern: &str, body: &[u8]) -> bool {
    RSTRINGS.with(|c| {
        c.borrow_mut()
            .entry(pattern.to_string())
            .or_insert_with(|| regex::bytes::Regex::new(pattern).ok())
            .as_ref()
            .is_some_and(|r| r.is_match(body))
    })
}

/// TLS for a check: the settings and the name to open it with.
pub type CheckTls = (
    Arc<sluice_tls::rustls::ClientConfig>,
    sluice_tls::rustls::pki_types::ServerName<'static>,
);

/// Runs one check against `addr`, over TLS when `tls` is given (a TCP check then passes at
/// the end of the handshake: "Layer6 check passed").
pub async fn run_check(
    addr: SocketAddr,
    netns: Option<&crate::netns::Netns>,
    tls: Option<&CheckTls>,
    http: Option<&HttpCheck>,
    connect_t: Duration,
    read_t: Duration,
) -> CheckResult {
    let start = Instant::now();
    let fail = |reason: &str, info: Option<String>| CheckResult {
        ok: false,
        reason: reason.into(),
        info,
        code: None,
        duration: start.elapsed(),
    };
    let tcp = match tokio::time::timeout(connect_t, crate::netns::connect(addr, netns)).await {
        Err(_) => return fail("Layer4 timeout", None),
        Ok(Err(e)) => return fail("Layer4 connection problem", Some(io_info(&e))),
        Ok(Ok(s)) => s,
    };
    let mut s = match tls {
        None => Conn::Plain(tcp),
        Some((cfg, name)) => {
            let deadline = Some(start + connect_t);
            match transport::connect(tcp, cfg.clone(), name.clone(), deadline).await {
                Ok(c) => c,
                Err(HandshakeError::Timeout) => return fail("Layer6 timeout", None),
                Err(e) => return fail("Layer6 invalid response", Some(e.to_string())),
            }
        }
    };
    let Some(http) = http else {
        return CheckResult {
            ok: true,
            reason: if tls.is_some() {
                "Layer6 check passed"
            } else {
                "Layer4 check passed"
            }
            .into(),
            info: None,
            code: None,
            duration: start.elapsed(),
        };
    };
    let req = http_check_request(http);
    let needs_body = matches!(
        http.expect,
        Some(HttpCheckExpect::String { .. } | HttpCheckExpect::Rstring { .. })
    );
    let io = async {
        s.write_all(&req).await?;
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let head_done = buf.windows(4).any(|w| w == b"\r\n\r\n");
            if (head_done && !needs_body) || buf.len() > 16384 {
                break;
            }
        }
        Ok::<Vec<u8>, std::io::Error>(buf)
    };
    let resp = match tokio::time::timeout(read_t, io).await {
        Err(_) => return fail("Layer7 timeout", None),
        Ok(Err(e)) => return fail("Layer7 connection problem", Some(io_info(&e))),
        Ok(Ok(b)) => b,
    };
    if resp.is_empty() {
        return fail("Layer7 invalid response", Some("empty response".into()));
    }
    let (ok, reason, code, info) = judge_http(&resp, http.expect.as_ref());
    CheckResult {
        ok,
        reason,
        info,
        code,
        duration: start.elapsed(),
    }
}

fn describe(r: &CheckResult) -> String {
    let mut s = format!("reason: {}", r.reason);
    if let Some(code) = r.code {
        s.push_str(&format!(", code: {code}"));
    }
    if let Some(info) = &r.info {
        s.push_str(&format!(", info: \"{info}\""));
    }
    s.push_str(&format!(", check duration: {}ms", r.duration.as_millis()));
    s
}

/// Emits a state-change message to the backend's log targets and, unless quiet, stderr.
fn announce(be: &BackendRt, level: u8, msg: &str, quiet: bool) {
    if !quiet {
        let tag = if level <= 1 { "ALERT" } else { "WARNING" };
        eprintln!("[{tag}]    ({}) : {msg}", std::process::id());
    }
    if be.logger.is_enabled() {
        be.logger.log(level, msg.as_bytes());
    }
}

#[allow(clippy::too_many_arguments)]
async fn check_server(
    rt: Arc<Runtime>,
    be_id: usize,
    srv_id: usize,
    cfg_srv: Server,
    http: Option<HttpCheck>,
    timeouts: sluice_config::Timeouts,
    quiet: bool,
    first_delay: Duration,
) {
    let be = &rt.backends[be_id];
    let ip = cfg_srv.check_addr.unwrap_or(cfg_srv.addr.ip());
    let port = cfg_srv.check_port.unwrap_or(cfg_srv.addr.port());
    let addr = SocketAddr::new(ip, port);
    // Checks go over TLS with `check-ssl`, or when the server has `ssl` and checks go to
    // its own address and port (HAProxy's default).
    let ssl = &cfg_srv.ssl;
    let check_tls = ssl.check_ssl
        || (ssl.enabled && cfg_srv.check_port.is_none() && cfg_srv.check_addr.is_none());
    let tls: Option<CheckTls> = be.servers[srv_id]
        .tls
        .as_ref()
        .filter(|_| check_tls)
        .and_then(|t| {
            let cfg = t.check.clone()?;
            let name = sluice_tls::server_name(t.check_sni.as_deref(), ip);
            Some((cfg, name))
        });
    let connect_t = match timeouts.check {
        Some(_) => timeouts.connect.unwrap_or(cfg_srv.inter).min(cfg_srv.inter),
        None => timeouts.connect.unwrap_or(cfg_srv.inter).min(cfg_srv.inter),
    };
    let read_t = timeouts.check.unwrap_or(cfg_srv.inter);
    let mut health = Health::new(cfg_srv.rise, cfg_srv.fall, true);
    tokio::time::sleep(first_delay).await;
    loop {
        let netns = be.servers[srv_id].netns.as_deref();
        let r = run_check(addr, netns, tls.as_ref(), http.as_ref(), connect_t, read_t).await;
        let t = if r.ok {
            health.success()
        } else {
            health.failure()
        };
        match t {
            Transition::None => {}
            Transition::WentDown => {
                be.servers[srv_id].up.store(false, Ordering::Relaxed);
                let (active, backup, queued) = {
                    let mut st = be.lock();
                    st.lb.set_up(srv_id, false);
                    let (a, b) = st.lb.usable_count();
                    (a, b, st.waiters.len())
                };
                let msg = format!(
                    "Server {}/{} is DOWN, {}. {} active and {} backup servers left. {} sessions active, 0 requeued, {} remaining in queue.",
                    be.name, cfg_srv.name, describe(&r), active, backup,
                    be.servers[srv_id].counters.current(), queued
                );
                announce(be, 1, &msg, quiet);
                if active == 0 && backup == 0 {
                    announce(
                        be,
                        0,
                        &format!("backend '{}' has no server available!", be.name),
                        quiet,
                    );
                }
            }
            Transition::WentUp => {
                be.servers[srv_id].up.store(true, Ordering::Relaxed);
                let (active, backup, queued) = {
                    let mut st = be.lock();
                    st.lb.set_up(srv_id, true);
                    let (a, b) = st.lb.usable_count();
                    (a, b, st.waiters.len())
                };
                crate::queue::server_up(be, srv_id);
                let msg = format!(
                    "Server {}/{} is UP, {}. {} active and {} backup servers online. 0 sessions requeued, {} total in queue.",
                    be.name, cfg_srv.name, describe(&r), active, backup, queued
                );
                announce(be, 5, &msg, quiet);
            }
        }
        tokio::time::sleep(health.next_interval(&cfg_srv)).await;
    }
}

/// Starts the checker thread if any server has `check`. The thread lives as long as the
/// process (checks stop with it).
pub fn start(rt: Arc<Runtime>, cfg: &Config, quiet: bool) -> std::io::Result<()> {
    let mut jobs = Vec::new();
    for (bi, b) in cfg.backends.iter().enumerate() {
        let n = b
            .servers
            .iter()
            .filter(|s| s.check && !s.disabled)
            .count()
            .max(1) as u32;
        let mut pos = 0u32;
        for (si, s) in b.servers.iter().enumerate() {
            if !s.check || s.disabled {
                continue;
            }
            // Spread the first checks over one interval as HAProxy does, so a big farm
            // is not probed all at once.
            let first = s.inter * pos / n;
            pos += 1;
            jobs.push((bi, si, s.clone(), b.httpchk.clone(), b.timeouts, first));
        }
    }
    if jobs.is_empty() {
        return Ok(());
    }
    std::thread::Builder::new()
        .name("sluice-checks".into())
        .spawn(move || {
            let Ok(trt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                eprintln!("[ALERT] health checks: cannot start their event loop");
                return;
            };
            trt.block_on(async move {
                let mut tasks = Vec::new();
                for (bi, si, s, http, t, first) in jobs {
                    tasks.push(tokio::spawn(check_server(
                        rt.clone(),
                        bi,
                        si,
                        s,
                        http,
                        t,
                        quiet,
                        first,
                    )));
                }
                for t in tasks {
                    let _ = t.await;
                }
            });
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_server_goes_down_at_first_failure_then_needs_rise() {
        let mut h = Health::new(2, 3, true);
        assert_eq!(h.failure(), Transition::WentDown);
        assert_eq!(h.success(), Transition::None);
        assert_eq!(h.success(), Transition::WentUp);
        // Fully up now: three failures to go down.
        assert_eq!(h.failure(), Transition::None);
        assert_eq!(h.failure(), Transition::None);
        assert_eq!(h.failure(), Transition::WentDown);
    }

    #[test]
    fn http_judge_default_accepts_2xx_3xx() {
        let (ok, reason, code, _) = judge_http(b"HTTP/1.1 200 OK\r\n\r\n", None);
        assert!(ok);
        assert_eq!(reason, "Layer7 check passed");
        assert_eq!(code, Some(200));
        let (ok, reason, _, info) = judge_http(b"HTTP/1.1 503 Service Unavailable\r\n\r\n", None);
        assert!(!ok);
        assert_eq!(reason, "Layer7 wrong status");
        assert_eq!(info.as_deref(), Some("Service Unavailable"));
    }

    #[test]
    fn http_judge_expect_status_and_string() {
        let e = HttpCheckExpect::Status {
            ranges: vec![(204, 204)],
            negate: false,
        };
        assert!(!judge_http(b"HTTP/1.1 200 OK\r\n\r\n", Some(&e)).0);
        assert!(judge_http(b"HTTP/1.1 204 No Content\r\n\r\n", Some(&e)).0);
        let e = HttpCheckExpect::String {
            text: "alive".into(),
            negate: false,
        };
        assert!(judge_http(b"HTTP/1.1 200 OK\r\n\r\nI am alive", Some(&e)).0);
        assert!(!judge_http(b"HTTP/1.1 200 OK\r\n\r\nI am dead", Some(&e)).0);
        let e = HttpCheckExpect::Rstring {
            regex: "^st(a|u)te: ok".into(),
            negate: false,
        };
        assert!(judge_http(b"HTTP/1.1 200 OK\r\n\r\nstate: ok", Some(&e)).0);
    }

    #[test]
    fn httpchk_request_bytes() {
        let c = HttpCheck {
            method: "OPTIONS".into(),
            uri: "/".into(),
            version: "HTTP/1.0".into(),
            headers: vec![],
            body: None,
            expect: None,
        };
        assert_eq!(http_check_request(&c), b"OPTIONS / HTTP/1.0\r\n\r\n");
    }
}
