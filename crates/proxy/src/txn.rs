//! The HTTP transaction as rules see it: `sluice_expr::Txn` over the parsed request head (and
//! response head), borrowing the connection buffers so fetches copy nothing.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use sluice_expr::{LogVars, Sample, Txn, VarScope};
use sluice_http::{RequestHead, ResponseHead};

use crate::runtime::{FrontendRt, Runtime};

/// Variables set by rules (`txn.`, `req.`, `res.`, `sess.` scopes) and a `set-src` override,
/// kept per transaction. Mutexes only so the stream future stays `Send`; never contended.
#[derive(Default)]
pub struct TxnVars {
    vars: std::sync::Mutex<Vec<(VarScope, String, Sample<'static>)>>,
    src: std::sync::Mutex<Option<std::net::IpAddr>>,
}

impl TxnVars {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(VarScope, String, Sample<'static>)>> {
        self.vars.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn unset(&self, scope: VarScope, name: &str) {
        self.lock().retain(|(s, n, _)| !(*s == scope && n == name));
    }

    /// `http-request set-src`: the client address rules, logs and forwardfor see from now on.
    pub fn set_src(&self, ip: std::net::IpAddr) {
        *self.src.lock().unwrap_or_else(|p| p.into_inner()) = Some(ip);
    }

    /// A variable's value.
    pub fn get(&self, scope: VarScope, name: &str) -> Option<Sample<'static>> {
        self.lock()
            .iter()
            .find(|(s, n, _)| *s == scope && n == name)
            .map(|(_, _, v)| v.clone())
    }

    /// Forgets everything, for the next request of the connection (`sess` variables too:
    /// they are not kept across requests yet).
    pub fn clear(&mut self) {
        self.vars
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        *self.src.get_mut().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub fn src_override(&self) -> Option<std::net::IpAddr> {
        *self.src.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Plain references: rules build one per step over whichever head (received or edited) is
/// current, so it is `Copy`.
#[derive(Clone, Copy)]
pub struct HttpTxn<'a> {
    pub rt: &'a Runtime,
    pub fe: &'a FrontendRt,
    pub backend: Option<usize>,
    pub peer: SocketAddr,
    pub local: Option<SocketAddr>,
    pub req_buf: &'a [u8],
    pub req: &'a RequestHead,
    pub resp: Option<(&'a [u8], &'a ResponseHead)>,
    pub vars: &'a TxnVars,
    /// The unique id (`unique-id-format`), empty when none.
    pub unique_id: &'a [u8],
    /// TLS facts of the client connection.
    pub ssl: Option<&'a sluice_tls::ConnInfo>,
    /// The request body once buffered (`option http-buffer-request`, `wait-for-body`),
    /// de-chunked: what `req.body` and `req.body_len` read.
    pub req_body: Option<&'a [u8]>,
}

impl HttpTxn<'_> {
    fn backend_index(&self, name: Option<&str>) -> Option<usize> {
        match name {
            None => self.backend,
            Some(n) => self.rt.rules.backend_by_name.get(n).copied(),
        }
    }
}

impl Txn for HttpTxn<'_> {
    fn ssl_client(&self) -> Option<&sluice_tls::ConnInfo> {
        self.ssl
    }
    fn src(&self) -> Option<SocketAddr> {
        match self.vars.src_override() {
            Some(ip) => Some(SocketAddr::new(ip, self.peer.port())),
            None => Some(self.peer),
        }
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.local
    }
    fn method(&self) -> Option<&[u8]> {
        Some(self.req.method_span.of(self.req_buf))
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.req.uri.of(self.req_buf))
    }
    /// The version token as received (`HTTP/2.0` for a request that came over HTTP/2, as
    /// `req.ver` says in HAProxy), else the one the head was classified as.
    fn version(&self) -> Option<&[u8]> {
        let rest = self.req_buf.get(self.req.uri.end as usize..).unwrap_or(&[]);
        let line = rest
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .map_or(rest, |n| &rest[..n]);
        let token = line.trim_ascii();
        if token.starts_with(b"HTTP/") {
            Some(token)
        } else {
            Some(self.req.version.as_bytes())
        }
    }
    fn req_header_count(&self) -> usize {
        self.req.headers.len()
    }
    fn req_body(&self) -> Option<&[u8]> {
        self.req_body
    }
    fn req_header(&self, idx: usize) -> Option<(&[u8], &[u8])> {
        let h = self.req.headers.get(idx)?;
        Some((h.name.of(self.req_buf), h.value.of(self.req_buf)))
    }
    fn status(&self) -> Option<u16> {
        self.resp.map(|(_, r)| r.status)
    }
    fn res_header_count(&self) -> usize {
        self.resp.map_or(0, |(_, r)| r.headers.len())
    }
    fn res_header(&self, idx: usize) -> Option<(&[u8], &[u8])> {
        let (buf, r) = self.resp?;
        let h = r.headers.get(idx)?;
        Some((h.name.of(buf), h.value.of(buf)))
    }
    fn var(&self, scope: VarScope, name: &str) -> Option<Sample<'static>> {
        self.vars.get(scope, name)
    }
    fn set_var(&self, scope: VarScope, name: &str, value: Sample<'static>) {
        let mut v = self.vars.lock();
        match v.iter_mut().find(|(s, n, _)| *s == scope && n == name) {
            Some(e) => e.2 = value,
            None => v.push((scope, name.to_string(), value)),
        }
    }
    fn fe_conn(&self) -> Option<i64> {
        Some(i64::from(self.fe.counters.current()))
    }
    fn be_conn(&self, backend: Option<&str>) -> Option<i64> {
        let b = self.backend_index(backend)?;
        Some(i64::from(self.rt.backends[b].counters.current()))
    }
    fn nbsrv(&self, backend: Option<&str>) -> Option<i64> {
        let b = self.backend_index(backend)?;
        let (a, bk) = self.rt.backends[b].lock().lb.usable_count();
        Some((a + bk) as i64)
    }
    fn unique_id(&self) -> Option<&[u8]> {
        (!self.unique_id.is_empty()).then_some(self.unique_id)
    }
    fn srv_is_up(&self, backend: &str, server: &str) -> Option<bool> {
        let b = self.backend_index(Some(backend))?;
        let s = self.rt.backends[b]
            .servers
            .iter()
            .find(|s| s.name == server)?;
        Some(s.up.load(Ordering::Relaxed))
    }
}

/// `%X` variables available to rule arguments (`set-header X %[...]` mostly uses samples;
/// these cover the common address and name variables).
pub struct RuleVars<'a> {
    pub txn: &'a HttpTxn<'a>,
}

impl LogVars for RuleVars<'_> {
    fn write_var(
        &self,
        name: &str,
        opts: sluice_expr::logformat::LogOpts,
        out: &mut Vec<u8>,
    ) -> bool {
        let start = out.len();
        let ok = self.write_plain(name, out);
        if ok && opts.hex {
            crate::access_log::to_hex_in_place(out, start, name);
        }
        ok
    }
}

impl RuleVars<'_> {
    fn write_plain(&self, name: &str, out: &mut Vec<u8>) -> bool {
        use std::io::Write;
        let t = self.txn;
        match name {
            "ci" => write!(out, "{}", t.peer.ip()).is_ok(),
            "cp" => write!(out, "{}", t.peer.port()).is_ok(),
            "fi" => t.local.is_some_and(|l| write!(out, "{}", l.ip()).is_ok()),
            "fp" => t.local.is_some_and(|l| write!(out, "{}", l.port()).is_ok()),
            "f" | "ft" => {
                out.extend_from_slice(t.fe.name.as_bytes());
                true
            }
            "b" => match t.backend {
                Some(b) => {
                    out.extend_from_slice(t.rt.backends[b].name.as_bytes());
                    true
                }
                None => false,
            },
            "pid" => write!(out, "{}", std::process::id()).is_ok(),
            "ID" => {
                out.extend_from_slice(t.unique_id);
                !t.unique_id.is_empty()
            }
            // HAProxy numbers requests from 0; the counter was bumped for this one already.
            "rt" => write!(
                out,
                "{}",
                t.rt.requests_total
                    .load(Ordering::Relaxed)
                    .saturating_sub(1)
            )
            .is_ok(),
            "Ts" | "ms" => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                if name == "Ts" {
                    write!(out, "{}", now.as_secs()).is_ok()
                } else {
                    write!(out, "{:03}", now.subsec_millis()).is_ok()
                }
            }
            _ => false,
        }
    }
}

/// What `tcp-request connection` rules see: the addresses only.
/// Evaluates an expression as text (a server's `sni`); `None` when it gives no sample, an
/// empty one, or one that is not UTF-8.
pub fn eval_string(e: &sluice_expr::Expr, txn: &dyn Txn) -> Option<String> {
    let mut out = Vec::new();
    if !e.eval_into(txn, &mut out) {
        return None;
    }
    String::from_utf8(out).ok().filter(|s| !s.is_empty())
}

pub struct ConnTxn<'a> {
    pub src: SocketAddr,
    pub dst: Option<SocketAddr>,
    /// TLS facts once a `bind ... ssl` handshake is done.
    pub ssl: Option<&'a sluice_tls::ConnInfo>,
    /// The bytes received so far (`tcp-request content` inspection, `req.payload`,
    /// `req.ssl_sni`), and whether more may still come.
    pub payload: Option<&'a [u8]>,
    pub payload_final: bool,
    /// The request's variables, for a log line's `%[var(...)]`.
    pub vars: Option<&'a TxnVars>,
}

/// `%X` variables for rules that see only the connection (`use_backend %[...]` in TCP mode).
impl<'a> ConnTxn<'a> {
    /// The connection's facts, no payload inspected (final: nothing will be waited for).
    pub fn new(
        src: SocketAddr,
        dst: Option<SocketAddr>,
        ssl: Option<&'a sluice_tls::ConnInfo>,
    ) -> Self {
        ConnTxn {
            src,
            dst,
            ssl,
            payload: None,
            payload_final: true,
            vars: None,
        }
    }

    /// With the request's variables (for log lines).
    pub fn with_vars(mut self, vars: Option<&'a TxnVars>) -> Self {
        self.vars = vars;
        self
    }

    /// With the bytes received so far, and whether more may still come.
    pub fn with_payload(mut self, payload: &'a [u8], payload_final: bool) -> Self {
        self.payload = Some(payload);
        self.payload_final = payload_final;
        self
    }
}

impl LogVars for ConnTxn<'_> {
    fn write_var(
        &self,
        name: &str,
        _o: sluice_expr::logformat::LogOpts,
        out: &mut Vec<u8>,
    ) -> bool {
        use std::io::Write;
        match (name, self.dst) {
            ("ci", _) => write!(out, "{}", self.src.ip()).is_ok(),
            ("cp", _) => write!(out, "{}", self.src.port()).is_ok(),
            ("fi", Some(d)) => write!(out, "{}", d.ip()).is_ok(),
            ("fp", Some(d)) => write!(out, "{}", d.port()).is_ok(),
            _ => false,
        }
    }
}

impl Txn for ConnTxn<'_> {
    fn ssl_client(&self) -> Option<&sluice_tls::ConnInfo> {
        self.ssl
    }
    fn req_payload(&self) -> Option<&[u8]> {
        self.payload
    }
    fn payload_final(&self) -> bool {
        self.payload_final
    }
    fn var(&self, scope: VarScope, name: &str) -> Option<Sample<'static>> {
        self.vars.and_then(|v| v.get(scope, name))
    }
    fn src(&self) -> Option<SocketAddr> {
        Some(self.src)
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
}
