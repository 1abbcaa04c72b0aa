//! A proxy section while it is being read: everything a `defaults`, `frontend`, `backend` or
//! `listen` can set, before the cross-section checks turn it into the model's `Frontend` and
//! `Backend`. A `defaults` section is a draft too; new proxies start as a copy of one
//! (manual section 4 "Proxies": settings are taken from the last or the named defaults).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::tls::Methods;
use crate::diag::Diagnostic;
use crate::keywords::{BE, DEF, FE};
use crate::model::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Defaults,
    Frontend,
    Backend,
    Listen,
}

impl Kind {
    /// The capability bits used against the keyword matrix (its "defaults" column is a
    /// capability of its own: `bind` is refused there although frontends take it).
    pub fn caps(self) -> u8 {
        match self {
            Kind::Defaults => DEF,
            Kind::Frontend => FE,
            Kind::Backend => BE,
            Kind::Listen => FE | BE,
        }
    }

    /// The section keyword, as in "unknown keyword 'x' in 'listen' section".
    pub fn section(self) -> &'static str {
        match self {
            Kind::Defaults => "defaults",
            Kind::Frontend => "frontend",
            Kind::Backend => "backend",
            Kind::Listen => "listen",
        }
    }

    /// HAProxy's `proxy_type_str`: a `listen` is called a "proxy" in messages.
    pub fn type_str(self) -> &'static str {
        match self {
            Kind::Defaults => "defaults",
            Kind::Frontend => "frontend",
            Kind::Backend => "backend",
            Kind::Listen => "proxy",
        }
    }
}

/// A server line with what the checks after parsing need to know.
#[derive(Debug, Clone)]
pub struct ServerDraft {
    pub server: Server,
    /// Whether `id` was given (others are numbered after parsing).
    pub explicit_id: bool,
    /// `verify` as written (on the line or its default-server); otherwise the global
    /// `ssl-server-verify` applies, known only once every file is read.
    pub verify: Option<SslVerify>,
}

/// What `server`/`default-server` lines set that the model keeps only in resolved form; a
/// `server` line starts from its `default-server`'s.
#[derive(Debug, Clone, Default)]
pub struct ServerExtra {
    /// `init-addr`.
    pub init_addr: Option<String>,
    /// `verify` as written.
    pub verify: Option<SslVerify>,
    /// `tls-tickets` (true) / `no-tls-tickets` (false) as written; otherwise the
    /// `ssl-default-server-options` decide.
    pub tls_tickets: Option<bool>,
    /// `no-*`, `force-*`, `ssl-min-ver`, `ssl-max-ver` as written.
    pub methods: Methods,
}

/// `http-check send` settings, merged into `option httpchk` after parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckSend {
    pub method: Option<String>,
    pub uri: Option<String>,
    pub version: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ProxyDraft {
    pub kind: Kind,
    pub name: String,
    pub location: Location,
    pub mode: Mode,
    pub binds: Vec<Bind>,
    pub maxconn: Option<u32>,
    pub timeouts: Timeouts,
    pub default_backend: Option<(String, Location)>,
    pub logs: Vec<LogTarget>,
    pub access_log: AccessLog,
    /// Where `option httplog` was set (HAProxy's fallback warning points there).
    pub access_log_location: Option<Location>,
    pub dontlognull: bool,
    pub log_separate_errors: bool,
    pub forwardfor: Option<ForwardFor>,
    pub conn_mode: HttpConnMode,
    pub errorfiles: BTreeMap<u16, Vec<u8>>,
    pub disabled: bool,
    /// Rule lines. A proxy inherits none from its defaults section but
    /// `tcp-request inspect-delay` (a setting); the section's rules stay there and run first
    /// (`defaults_rules`).
    pub rules: Vec<RuleLine>,
    /// Index into `Parser::defaults` of the section whose rules run before this proxy's.
    pub defaults_rules: Option<usize>,
    /// For a `defaults` section with rules: the capabilities (`FE`/`BE`) of the proxies
    /// created from it so far (HAProxy refuses to mix them).
    pub rules_used_by: u8,
    /// `capture cookie NAME len N`.
    pub capture_cookie: Option<(String, usize)>,
    /// `option http-buffer-request`.
    pub buffer_request: bool,
    pub log_format: Option<(String, Location)>,
    pub unique_id_format: Option<(String, Location)>,
    pub unique_id_header: Option<String>,
    pub capture_request: Vec<(String, usize)>,
    pub capture_response: Vec<(String, usize)>,
    pub balance: Balance,
    pub hash: HashSpec,
    pub servers: Vec<ServerDraft>,
    /// The `default-server` settings; each `server` line starts from a copy.
    pub default_server: Server,
    /// What `default-server` set beyond the model (`init-addr`, TLS details).
    pub default_extra: ServerExtra,
    pub retries: u32,
    pub redispatch: Option<i32>,
    pub allbackups: bool,
    pub httpchk: Option<HttpCheck>,
    pub check_send: Option<CheckSend>,
    pub check_expect: Option<HttpCheckExpect>,
    /// Messages HAProxy prints once every file is read (about `bind ... ssl` lines).
    pub post_diags: Vec<Diagnostic>,
}

fn is_inspect_delay(r: &RuleLine) -> bool {
    r.keyword == "tcp-request" && r.words.get(1).is_some_and(|w| w == "inspect-delay")
}

/// HAProxy's server defaults: weight 1, inter 2s, rise 2, fall 3.
pub fn server_template() -> Server {
    Server {
        name: String::new(),
        location: Location::default(),
        id: 0,
        addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        weight: 1,
        check: false,
        inter: Duration::from_secs(2),
        fastinter: None,
        downinter: None,
        rise: 2,
        fall: 3,
        check_port: None,
        check_addr: None,
        backup: false,
        maxconn: 0,
        maxqueue: 0,
        disabled: false,
        ssl: ServerSsl::default(),
        proto_h2: false,
        namespace: None,
    }
}

impl ProxyDraft {
    /// A section with HAProxy's built-in defaults (what an empty `defaults` resets to).
    pub fn fresh(kind: Kind, name: &str, location: &Location) -> Self {
        ProxyDraft {
            kind,
            name: name.to_string(),
            location: location.clone(),
            mode: Mode::Tcp,
            binds: Vec::new(),
            maxconn: None,
            timeouts: Timeouts::default(),
            default_backend: None,
            logs: Vec::new(),
            access_log: AccessLog::Default,
            access_log_location: None,
            dontlognull: false,
            log_separate_errors: false,
            forwardfor: None,
            conn_mode: HttpConnMode::KeepAlive,
            errorfiles: BTreeMap::new(),
            disabled: false,
            rules: Vec::new(),
            defaults_rules: None,
            rules_used_by: 0,
            capture_cookie: None,
            buffer_request: false,
            log_format: None,
            unique_id_format: None,
            unique_id_header: None,
            capture_request: Vec::new(),
            capture_response: Vec::new(),
            balance: Balance::RoundRobin,
            hash: HashSpec::default(),
            servers: Vec::new(),
            default_server: server_template(),
            default_extra: ServerExtra::default(),
            retries: 3,
            redispatch: None,
            allbackups: false,
            httpchk: None,
            check_send: None,
            check_expect: None,
            post_diags: Vec::new(),
        }
    }

    /// A new section inheriting everything a defaults section may carry; `index` is the
    /// defaults section's place in `Parser::defaults`.
    pub fn inherit(
        defaults: &ProxyDraft,
        index: usize,
        kind: Kind,
        name: &str,
        location: &Location,
    ) -> Self {
        let mut d = defaults.clone();
        d.kind = kind;
        d.name = name.to_string();
        d.location = location.clone();
        d.binds.clear();
        d.servers.clear();
        d.post_diags.clear();
        d.rules_used_by = 0;
        // `tcp-request inspect-delay` is a setting the proxy inherits; the rules stay in the
        // defaults section and run before the proxy's own.
        d.rules.retain(is_inspect_delay);
        d.defaults_rules = defaults.has_rules().then_some(index);
        d
    }

    /// Whether the section defines TCP/HTTP rules (what HAProxy checks before letting a proxy
    /// use it): `http-request`, `http-response`, `http-after-response`, `tcp-request`
    /// rules; ACLs and `tcp-request inspect-delay` do not count.
    pub fn has_rules(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.keyword != "acl" && !is_inspect_delay(r))
    }

    /// Whether the section has `tcp-request connection` or `session` rules.
    pub fn has_l4_l5_rules(&self) -> bool {
        self.rules.iter().any(|r| {
            r.keyword == "tcp-request"
                && matches!(
                    r.words.get(1).map(String::as_str),
                    Some("connection" | "session")
                )
        })
    }

    pub fn has(&self, cap: u8) -> bool {
        self.kind.caps() & cap != 0
    }
}
