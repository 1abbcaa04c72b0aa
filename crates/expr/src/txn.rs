//! The transaction as rules see it (manual section 7.3 fetches read from it):
//! addresses, TLS facts, request line, headers, status, body, variables, counters, time.

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::sample::Sample;

/// Variable scopes (manual section 2.8 / `set-var`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VarScope {
    /// `proc.`: process-wide.
    Proc,
    /// `sess.`: the session (connection).
    Sess,
    /// `txn.`: the transaction.
    Txn,
    /// `req.`: request processing only.
    Req,
    /// `res.`: response processing only.
    Res,
}

impl VarScope {
    /// Split `scope.name`; `None` when the scope is unknown.
    pub fn parse(full: &str) -> Option<(VarScope, &str)> {
        let (s, n) = full.split_once('.')?;
        let scope = match s {
            "proc" => VarScope::Proc,
            "sess" => VarScope::Sess,
            "txn" => VarScope::Txn,
            "req" => VarScope::Req,
            "res" => VarScope::Res,
            _ => return None,
        };
        if n.is_empty() {
            return None;
        }
        Some((scope, n))
    }
}

/// What a rule can read from a stream. Every method has a "not available"
/// default so a proxy only implements what it has. Byte slices borrow from
/// the implementor so evaluation does not copy.
pub trait Txn {
    /// Client address (`src`, `src_port`).
    fn src(&self) -> Option<SocketAddr> {
        None
    }
    /// Local address the client connected to (`dst`, `dst_port`).
    fn dst(&self) -> Option<SocketAddr> {
        None
    }
    /// Request method, e.g. `GET`.
    fn method(&self) -> Option<&[u8]> {
        None
    }
    /// Request target as received (origin form `/p?q` or absolute form).
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    /// Protocol token of the request line, e.g. `HTTP/1.1`.
    fn version(&self) -> Option<&[u8]> {
        None
    }
    /// Number of request header lines.
    fn req_header_count(&self) -> usize {
        0
    }
    /// Request header line `idx` (name, value), in arrival order.
    fn req_header(&self, _idx: usize) -> Option<(&[u8], &[u8])> {
        None
    }
    /// Response status code.
    fn status(&self) -> Option<u16> {
        None
    }
    /// Number of response header lines.
    fn res_header_count(&self) -> usize {
        0
    }
    /// Response header line `idx`.
    fn res_header(&self, _idx: usize) -> Option<(&[u8], &[u8])> {
        None
    }
    /// The buffered request body, when buffered (`option http-buffer-request`).
    fn req_body(&self) -> Option<&[u8]> {
        None
    }
    /// The raw request buffer contents (TCP inspection); defaults to the body.
    fn req_payload(&self) -> Option<&[u8]> {
        self.req_body()
    }
    /// Whether [`req_payload`](Txn::req_payload) is final: no more request bytes will be
    /// waited for (HAProxy's `SMP_OPT_FINAL`). `tcp-request content` inspection returns
    /// `false` while the `inspect-delay` runs, the buffer is not full and the client has not
    /// closed; then `wait_end` has no sample yet and payload fetches that lack bytes
    /// (`req.len`, `req.payload`, `req.ssl_*` on a partial ClientHello) make
    /// [`Cond::eval_partial`](crate::Cond::eval_partial) answer "undecided". Everywhere
    /// else the default `true` applies.
    fn payload_final(&self) -> bool {
        true
    }
    /// TLS facts of the client connection, when it arrived on a `bind ... ssl` line (`ssl_fc*`, `ssl_c_*`).
    fn ssl_client(&self) -> Option<&sluice_tls::ConnInfo> {
        None
    }
    /// Read a variable.
    fn var(&self, _scope: VarScope, _name: &str) -> Option<Sample<'static>> {
        None
    }
    /// Set a variable (implementors use interior mutability).
    fn set_var(&self, _scope: VarScope, _name: &str, _value: Sample<'static>) {}
    /// Connections on the frontend.
    fn fe_conn(&self) -> Option<i64> {
        None
    }
    /// Connections on a backend (`None`: the current one).
    fn be_conn(&self, _backend: Option<&str>) -> Option<i64> {
        None
    }
    /// Usable servers of a backend (`None`: the current one).
    fn nbsrv(&self, _backend: Option<&str>) -> Option<i64> {
        None
    }
    /// Whether a server is up.
    fn srv_is_up(&self, _backend: &str, _server: &str) -> Option<bool> {
        None
    }
    /// Current time (injectable for tests).
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    /// A random 32-bit number.
    fn rand(&self) -> u32 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x9e37_79b9);
        h.finish() as u32
    }
    /// The request's unique id (`unique-id-format`).
    fn unique_id(&self) -> Option<&[u8]> {
        None
    }
}
