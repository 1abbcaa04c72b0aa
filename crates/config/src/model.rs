//! The validated configuration: defaults applied, `listen` split into a frontend and a
//! backend, backend names resolved to indices. Everything the data path needs, nothing of the
//! text it came from but the `Location` of each section (for messages at run time).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where a thing was written: `file:line`, as HAProxy prints it in `parsing [file:line]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub file: String,
    pub line: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Tcp,
    Http,
}

/// HAProxy's `timeout` keywords. `None` means "not set" (HAProxy then waits forever, and warns
/// at load for client/server/connect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub client_fin: Option<Duration>,
    pub server_fin: Option<Duration>,
    pub tunnel: Option<Duration>,
    pub http_request: Option<Duration>,
    pub http_keep_alive: Option<Duration>,
    pub queue: Option<Duration>,
    pub check: Option<Duration>,
    pub tarpit: Option<Duration>,
}

/// `log` targets (`log stdout format raw local0 [level [minlevel]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub dest: LogDest,
    pub format: LogFormat,
    /// Syslog facility number (local0 = 16).
    pub facility: u8,
    /// Maximum level sent (0 emerg .. 7 debug); HAProxy's default is 7 (all).
    pub level: u8,
    pub min_level: u8,
    /// `len` (max line length); HAProxy's default is 1024.
    pub max_len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDest {
    Stdout,
    Stderr,
    /// A UDP syslog server (`HOST:PORT`, `udp@HOST:PORT`; port 514 when omitted).
    Udp(SocketAddr),
    /// A TCP syslog server (`tcp@HOST:PORT`), octet-counted framing.
    Tcp(SocketAddr),
    /// A Unix datagram socket (`/dev/log`, `unix@/path`).
    Unix(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Rfc3164,
    Rfc5424,
    Raw,
    /// `format short`: `<PRI>` then the message.
    Short,
    /// `format local`: RFC3164 without the hostname.
    Local,
}

/// Which access-log line a proxy writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessLog {
    /// Neither `option httplog` nor `option tcplog`: HAProxy's minimal default line.
    #[default]
    Default,
    Tcp,
    Http,
    /// `option httplog clf`.
    HttpClf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub daemon: bool,
    pub nbthread: Option<usize>,
    pub maxconn: Option<u32>,
    pub pidfile: Option<PathBuf>,
    pub logs: Vec<LogTarget>,
    /// `log-send-hostname [name]`, or the machine's name when given without one.
    pub log_send_hostname: Option<String>,
    /// `log-tag` (default: the program name, `haproxy` in HAProxy; we keep `haproxy` so
    /// log pipelines keyed on it keep working).
    pub log_tag: Option<String>,
    /// `tune.bufsize` (default 16384): the largest request or response head accepted.
    pub bufsize: usize,
    /// `tune.maxrewrite` (default 1024): room kept for header edits.
    pub maxrewrite: usize,
    /// `tune.http.maxhdr` (default 101).
    pub max_headers: usize,
    pub quiet: bool,
    pub user: Option<String>,
    pub group: Option<String>,
    pub chroot: Option<PathBuf>,
    pub stats_sockets: Vec<Location>,
    /// `ca-base DIR`: prefixed to relative `ca-file`/`crl-file` paths.
    pub ca_base: Option<PathBuf>,
    /// `crt-base DIR`: prefixed to relative `crt` paths.
    pub crt_base: Option<PathBuf>,
    /// `ssl-server-verify none|required` (HAProxy's default: required): the `verify` of
    /// servers that do not set one.
    pub ssl_server_verify: SslVerify,
    /// `ssl-default-bind-ciphers|ciphersuites|curves|options`, merged into each `bind ... ssl`
    /// line when it is parsed (already applied in `Bind::ssl`).
    pub ssl_default_bind: SslDefaults,
    /// `ssl-default-server-ciphers|ciphersuites|curves|options`, merged into each TLS server
    /// when it is parsed (already applied in `Server::ssl`).
    pub ssl_default_server: SslDefaults,
    /// `tune.ssl.cachesize N`: TLS session cache entries (HAProxy's default: 20000).
    pub ssl_cachesize: Option<usize>,
    /// `tune.ssl.lifetime TIME`: how long a cached TLS session is kept (HAProxy's default: 300s).
    pub ssl_lifetime: Option<Duration>,
    /// `expose-experimental-directives`: allows HAProxy's experimental keywords
    /// (`http-request normalize-uri`).
    pub expose_experimental: bool,
}

impl Default for Global {
    /// HAProxy's defaults for the values that have one.
    fn default() -> Self {
        Global {
            daemon: false,
            nbthread: None,
            maxconn: None,
            pidfile: None,
            logs: Vec::new(),
            log_send_hostname: None,
            log_tag: None,
            bufsize: 16384,
            maxrewrite: 1024,
            max_headers: 101,
            quiet: false,
            user: None,
            group: None,
            chroot: None,
            stats_sockets: Vec::new(),
            ca_base: None,
            crt_base: None,
            ssl_server_verify: SslVerify::Required,
            ssl_default_bind: SslDefaults::default(),
            ssl_default_server: SslDefaults::default(),
            ssl_cachesize: None,
            ssl_lifetime: None,
            expose_experimental: false,
        }
    }
}

/// `ssl-min-ver`/`ssl-max-ver` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SslVersion {
    SslV3,
    TlsV10,
    TlsV11,
    TlsV12,
    TlsV13,
}

impl SslVersion {
    /// Every version, oldest first.
    pub const ALL: [SslVersion; 5] = [
        SslVersion::SslV3,
        SslVersion::TlsV10,
        SslVersion::TlsV11,
        SslVersion::TlsV12,
        SslVersion::TlsV13,
    ];

    /// The name HAProxy uses in `ssl-min-ver` and in its messages (`TLSv1.2`).
    pub fn name(self) -> &'static str {
        match self {
            SslVersion::SslV3 => "SSLv3",
            SslVersion::TlsV10 => "TLSv1.0",
            SslVersion::TlsV11 => "TLSv1.1",
            SslVersion::TlsV12 => "TLSv1.2",
            SslVersion::TlsV13 => "TLSv1.3",
        }
    }

    /// The version named exactly as HAProxy spells it (case matters, as in HAProxy).
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == s)
    }
}

impl std::fmt::Display for SslVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `verify none|optional|required`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslVerify {
    #[default]
    None,
    Optional,
    Required,
}

/// The `ssl-default-bind-*` or `ssl-default-server-*` globals (manual section 3.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SslDefaults {
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub curves: Option<String>,
    /// `ssl-min-ver`/`force-*` of the `-options` line.
    pub min_ver: Option<SslVersion>,
    /// `ssl-max-ver`/`force-*` of the `-options` line.
    pub max_ver: Option<SslVersion>,
    /// `no-sslv3` .. `no-tlsv13` of the `-options` line, in the order written.
    pub disabled: Vec<SslVersion>,
    pub no_tls_tickets: bool,
    /// Bind side only.
    pub prefer_client_ciphers: bool,
}

/// TLS settings of a `bind ... ssl` line (manual 5.1), `crt-base`/`ca-base` applied to the
/// paths and the `ssl-default-bind-*` globals merged in. `min_ver`/`max_ver` already hold
/// what `no-*`/`force-*` imply (`None`: no bound).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BindSsl {
    /// Every `crt` (file or directory), crt-base applied.
    pub crt: Vec<PathBuf>,
    /// Every `crt-list`, as written: HAProxy 2.6 applies no base to the list's own path
    /// (relative paths are relative to the working directory).
    pub crt_list: Vec<PathBuf>,
    /// Global `crt-base`, for the paths inside crt-list files.
    pub crt_base: Option<PathBuf>,
    /// Global `ca-base`, for `ca-file`/`crl-file` inside crt-list files.
    pub ca_base: Option<PathBuf>,
    /// ca-base applied.
    pub ca_file: Option<PathBuf>,
    /// ca-base applied.
    pub crl_file: Option<PathBuf>,
    pub verify: SslVerify,
    /// As written, e.g. `h2,http/1.1`.
    pub alpn: Option<String>,
    pub min_ver: Option<SslVersion>,
    pub max_ver: Option<SslVersion>,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub curves: Option<String>,
    pub ecdhe: Option<String>,
    pub strict_sni: bool,
    pub no_tls_tickets: bool,
    pub prefer_client_ciphers: bool,
    pub no_ca_names: bool,
}

/// TLS towards a server (manual 5.2), `ssl-default-server-*` and `ssl-server-verify` merged
/// in. `min_ver`/`max_ver` already hold what `no-*`/`force-*` imply (`None`: no bound).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerSsl {
    /// `ssl` (`no-ssl` turns a default-server's off).
    pub enabled: bool,
    /// The server's `verify`, else `ssl-server-verify` (HAProxy: required).
    pub verify: SslVerify,
    pub verifyhost: Option<String>,
    /// ca-base applied.
    pub ca_file: Option<PathBuf>,
    /// ca-base applied.
    pub crl_file: Option<PathBuf>,
    /// crt-base applied.
    pub crt: Option<PathBuf>,
    /// The sample expression text, e.g. `req.hdr(host)` or `str(example.com)`.
    pub sni: Option<String>,
    pub alpn: Option<String>,
    pub min_ver: Option<SslVersion>,
    pub max_ver: Option<SslVersion>,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub curves: Option<String>,
    pub no_tls_tickets: bool,
    pub no_ssl_reuse: bool,
    /// `check-ssl` (`no-check-ssl`).
    pub check_ssl: bool,
    pub check_sni: Option<String>,
    pub check_alpn: Option<String>,
}

/// How HTTP connections are managed (`option http-keep-alive|http-server-close|httpclose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpConnMode {
    /// Keep-alive on both sides, server connections reused (HAProxy's default).
    #[default]
    KeepAlive,
    /// Keep-alive with the client, a new server connection per request.
    ServerClose,
    /// Close both sides after each response.
    Close,
}

/// `option forwardfor [except NET] [header NAME] [if-none]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    /// Header name, `X-Forwarded-For` by default.
    pub header: String,
    /// Source network for which no header is added: (address, prefix length).
    pub except: Option<(std::net::IpAddr, u8)>,
    pub if_none: bool,
}

/// One listening address of a `bind` line, already expanded from port ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    Inet(SocketAddr),
    /// `fd@N`: a socket inherited from the parent process.
    Fd(i32),
    /// `unix@PATH` / an absolute path.
    Unix(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub addrs: Vec<BindAddr>,
    pub name: Option<String>,
    /// `v6only` / `v4v6`.
    pub v6only: Option<bool>,
    /// `ssl` and its options; `None` when the line has no `ssl` keyword (HAProxy then
    /// listens in clear even when `crt` and the like are given).
    pub ssl: Option<BindSsl>,
    /// `proto h2`: clients speak HTTP/2 from the first byte (prior knowledge, or h2c).
    pub proto_h2: bool,
    /// `namespace NAME`: the listening sockets are made in `/var/run/netns/NAME`.
    pub namespace: Option<String>,
    pub location: Location,
}

/// A rule keyword line (`acl`, `use_backend`, `http-request`, `http-response`, `redirect`)
/// kept as words: the rules compiler (`sluice_proxy::rules`) turns them into programs and
/// reports its errors at this location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleLine {
    pub keyword: String,
    /// All words of the line, the keyword first.
    pub words: Vec<String>,
    pub location: Location,
    /// `http-request capture <sample> len <n>`: the request capture slot the line declared
    /// (its index among the frontend's `capture_request` slots, in declaration order).
    pub capture_slot: Option<usize>,
}

/// The rules of a named `defaults` section (manual 4: "This directive is only available
/// from named defaults sections"), evaluated before those of the proxies created `from` it.
/// Its ACLs are its own: the proxies do not see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultsRules {
    pub name: String,
    pub location: Location,
    pub rules: Vec<RuleLine>,
}

/// A `frontend`, or the front half of a `listen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontend {
    pub name: String,
    pub location: Location,
    pub mode: Mode,
    pub binds: Vec<Bind>,
    /// Per-frontend `maxconn`; `None` means the global one applies.
    pub maxconn: Option<u32>,
    pub timeouts: Timeouts,
    /// Index into `Config::backends`.
    pub default_backend: Option<usize>,
    pub logs: Vec<LogTarget>,
    pub access_log: AccessLog,
    pub dontlognull: bool,
    pub log_separate_errors: bool,
    pub forwardfor: Option<ForwardFor>,
    pub conn_mode: HttpConnMode,
    /// `errorfile CODE FILE`: the whole raw HTTP response to send for CODE.
    pub errorfiles: BTreeMap<u16, Vec<u8>>,
    pub disabled: bool,
    /// Rules in file order (a `listen` keeps all of its rules here).
    pub rules: Vec<RuleLine>,
    /// `log-format STRING`, compiled by the rules compiler; it replaces the httplog/tcplog line.
    pub log_format: Option<(String, Location)>,
    /// `unique-id-format STRING` (compiled by the rules compiler).
    pub unique_id_format: Option<(String, Location)>,
    /// `unique-id-header NAME`: the request header that carries the unique id.
    pub unique_id_header: Option<String>,
    /// `capture request header NAME len N`, in order.
    pub capture_request: Vec<(String, usize)>,
    /// `capture response header NAME len N`, in order.
    pub capture_response: Vec<(String, usize)>,
    /// `capture cookie NAME len N`: the first cookie whose name starts with NAME, logged as
    /// `%CC` (request) and `%CS` (response).
    pub capture_cookie: Option<(String, usize)>,
    /// `option http-buffer-request`: wait for the request body before the rules.
    pub buffer_request: bool,
    /// Index into `Config::defaults_rules`: the rules of the `defaults` section this proxy
    /// was created from, evaluated before its own.
    pub defaults_rules: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashType {
    #[default]
    MapBased,
    Consistent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashFunction {
    #[default]
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
}

/// `hash-type METHOD [FUNCTION] [avalanche]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashSpec {
    pub kind: HashType,
    pub function: HashFunction,
    /// Whether a function was named: a bare `hash-type consistent` means sdbm with
    /// avalanche in HAProxy, a named one does not.
    pub function_given: bool,
    pub avalanche: bool,
}

/// `balance` algorithms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Balance {
    #[default]
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    /// `random` is `random(2)` in HAProxy 2.6.
    Random {
        draws: u32,
    },
    Source,
    Uri {
        whole: bool,
        len: Option<u32>,
        depth: Option<u32>,
        path_only: bool,
    },
    UrlParam {
        name: String,
    },
    Hdr {
        name: String,
        use_domain_only: bool,
    },
}

/// `option httpchk` and `http-check send`/`expect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    pub method: String,
    pub uri: String,
    pub version: String,
    /// Extra request headers (`http-check send hdr NAME VALUE`).
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub expect: Option<HttpCheckExpect>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpCheckExpect {
    /// `status CODE` or a list/range as HAProxy allows (`200-399`, `200,204`).
    Status {
        ranges: Vec<(u16, u16)>,
        negate: bool,
    },
    String {
        text: String,
        negate: bool,
    },
    /// `rstring REGEX`: kept as the source; compiled by the checker.
    Rstring {
        regex: String,
        negate: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    pub location: Location,
    /// Numeric id (`id N`, else the 1-based position as HAProxy assigns it).
    pub id: u32,
    pub addr: SocketAddr,
    pub weight: u32,
    pub check: bool,
    pub inter: Duration,
    pub fastinter: Option<Duration>,
    pub downinter: Option<Duration>,
    pub rise: u32,
    pub fall: u32,
    /// `port`: the port health checks connect to.
    pub check_port: Option<u16>,
    /// `addr`: the address health checks connect to.
    pub check_addr: Option<std::net::IpAddr>,
    pub backup: bool,
    /// 0 = unlimited.
    pub maxconn: u32,
    /// 0 = unlimited.
    pub maxqueue: u32,
    pub disabled: bool,
    pub ssl: ServerSsl,
    /// `proto h2`: speak HTTP/2 to the server (h2c in clear, or h2 over `ssl`).
    pub proto_h2: bool,
    /// `namespace NAME`: connections to the server (and its checks) are opened in the
    /// network namespace `/var/run/netns/NAME`.
    pub namespace: Option<String>,
}

/// A `backend`, or the back half of a `listen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub name: String,
    pub location: Location,
    pub mode: Mode,
    pub balance: Balance,
    pub hash: HashSpec,
    pub servers: Vec<Server>,
    pub timeouts: Timeouts,
    /// `retries` (default 3).
    pub retries: u32,
    /// `option redispatch [N]`: `Some(interval)`, HAProxy's default interval is 1.
    pub redispatch: Option<i32>,
    pub allbackups: bool,
    pub httpchk: Option<HttpCheck>,
    pub forwardfor: Option<ForwardFor>,
    pub conn_mode: HttpConnMode,
    pub logs: Vec<LogTarget>,
    pub errorfiles: BTreeMap<u16, Vec<u8>>,
    pub disabled: bool,
    /// Rules of a `backend` section, in file order.
    pub rules: Vec<RuleLine>,
    /// `option http-buffer-request`.
    pub buffer_request: bool,
    /// Index into `Config::defaults_rules` (see [`Frontend::defaults_rules`]).
    pub defaults_rules: Option<usize>,
}

/// One `user` line of a `userlist` (manual section 3.4 "Userlists").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserlistUser {
    pub name: String,
    /// The crypt(3) hash (`password`), or the clear text (`insecure-password`).
    pub password: String,
    pub insecure: bool,
    /// Groups named on the user line (`groups G1,G2`).
    pub groups: Vec<String>,
}

/// One `group` line of a `userlist`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserlistGroup {
    pub name: String,
    /// Users named on the group line (`users U1,U2`).
    pub users: Vec<String>,
}

/// A `userlist NAME` section: kept for the rules (`http_auth`) that use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Userlist {
    pub name: String,
    pub location: Location,
    pub users: Vec<UserlistUser>,
    pub groups: Vec<UserlistGroup>,
}

/// The whole validated configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    pub global: Global,
    pub frontends: Vec<Frontend>,
    pub backends: Vec<Backend>,
    pub userlists: Vec<Userlist>,
    /// Rules of the named `defaults` sections that proxies were created from.
    pub defaults_rules: Vec<DefaultsRules>,
}

impl Config {
    pub fn backend_index(&self, name: &str) -> Option<usize> {
        self.backends.iter().position(|b| b.name == name)
    }
}
