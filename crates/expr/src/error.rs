//! Errors in HAProxy's wording (manual section 7) and rule contexts
//! (which stage of processing a rule runs in, section 7.3 "usable in").

use std::fmt;

/// A compile error: `msg` is HAProxy's wording, `hint` an optional advice.
/// The configuration layer prefixes `file:line`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ExprError {
    /// The message, as HAProxy words it.
    pub msg: String,
    /// An optional hint on how to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

impl ExprError {
    /// An error without a hint.
    pub fn new(msg: impl Into<String>) -> Self {
        ExprError {
            msg: msg.into(),
            hint: None,
        }
    }
    /// Attach a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// Prefix the message (keeping the hint).
    pub(crate) fn prefix(mut self, p: &str) -> Self {
        self.msg = format!("{p}{}", self.msg);
        self
    }
}

pub(crate) fn err<T>(msg: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError::new(msg))
}

/// Where a sample's information comes from (HAProxy's `SMP_USE_*`), as bits.
pub(crate) mod src {
    pub const INTERNAL: u16 = 1;
    pub const L4: u16 = 2;
    pub const L6REQ: u16 = 4;
    pub const HRQHDR: u16 = 8;
    pub const HRQBODY: u16 = 16;
    pub const HRSHDR: u16 = 32;
    pub const HRSBODY: u16 = 64;
    pub const TXFIN: u16 = 128;
    /// The client-side connection's transport layer (TLS): HAProxy's `SMP_USE_L5CLI`, known
    /// once the handshake is done, so from `tcp-request session` on.
    pub const L5CLI: u16 = 256;

    /// HAProxy's names of the sources, for messages.
    pub fn names(mask: u16) -> String {
        const N: [(u16, &str); 9] = [
            (INTERNAL, "internal"),
            (L4, "layer 4 client connection"),
            (L5CLI, "client-side connection"),
            (L6REQ, "request buffer contents"),
            (HRQHDR, "HTTP request headers"),
            (HRQBODY, "HTTP request body"),
            (HRSHDR, "HTTP response headers"),
            (HRSBODY, "HTTP response body"),
            (TXFIN, "transaction end"),
        ];
        let v: Vec<&str> = N
            .iter()
            .filter(|(b, _)| mask & b != 0)
            .map(|(_, n)| *n)
            .collect();
        v.join(", ")
    }
}

/// The processing stage a rule is evaluated at; decides which fetches are usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// `tcp-request connection` rules: only layer-4 information.
    TcpConnection,
    /// `tcp-request session` rules: layer 4 and, after the TLS handshake, the client-side
    /// connection (`ssl_fc*`, `ssl_c_*`); no buffer contents.
    TcpSession,
    /// `tcp-request content` rules: layer 4, request buffer, and HTTP request in HTTP mode.
    TcpContent,
    /// `http-request` rules, `use_backend`, `redirect`...
    HttpRequest,
    /// `http-response` rules.
    HttpResponse,
    /// `http-after-response` rules.
    HttpAfterResponse,
    /// `log-format` strings, evaluated at the end of the transaction: as in
    /// HAProxy, HTTP headers are gone by then (use the `%X` variables).
    Log,
}

impl Context {
    /// The bits of [`src`] available in this context.
    pub(crate) fn available(self) -> u16 {
        use src::*;
        match self {
            Context::TcpConnection => INTERNAL | L4,
            Context::TcpSession => INTERNAL | L4 | L5CLI,
            Context::TcpContent => INTERNAL | L4 | L5CLI | L6REQ | HRQHDR | HRQBODY,
            Context::HttpRequest => INTERNAL | L4 | L5CLI | L6REQ | HRQHDR | HRQBODY,
            Context::HttpResponse => INTERNAL | L4 | L5CLI | HRSHDR | HRSBODY,
            Context::HttpAfterResponse => INTERNAL | L4 | L5CLI | HRSHDR | TXFIN,
            Context::Log => INTERNAL | L4 | L5CLI | TXFIN,
        }
    }
    /// HAProxy's name of the rule kind, for "incompatible with" messages.
    pub fn rule_name(self) -> &'static str {
        match self {
            Context::TcpConnection => "frontend tcp-request connection rule",
            Context::TcpSession => "frontend tcp-request session rule",
            Context::TcpContent => "frontend tcp-request content rule",
            Context::HttpRequest => "frontend http-request header rule",
            Context::HttpResponse => "frontend http-response header rule",
            Context::HttpAfterResponse => "frontend http-after-response rule",
            Context::Log => "log-format",
        }
    }
}
