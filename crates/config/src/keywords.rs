//! The keyword tables of HAProxy 2.6 (manual section 3 "Global parameters" list, section 4.1
//! "Proxy keywords matrix", 5.1 bind options, 5.2 server options): which sections accept a
//! keyword, so that a keyword HAProxy knows but Sluice lacks is refused as "not supported by
//! Sluice yet" while a typo is refused as "unknown keyword" with a suggestion.

/// Section keywords (also used for `.SECTION` and for suggestions).
pub const SECTION_NAMES: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "peers",
    "resolvers",
    "mailers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "fcgi-app",
];

/// Capability bits, as in the matrix columns: a `listen` has both FE and BE.
pub const DEF: u8 = 1;
pub const FE: u8 = 2;
pub const BE: u8 = 4;
const DFB: u8 = DEF | FE | BE;
const DF: u8 = DEF | FE;
const DB: u8 = DEF | BE;

/// Every first word a proxy section accepts in HAProxy 2.6, with the sections allowing it.
pub const PROXY_KEYWORDS: &[(&str, u8)] = &[
    ("acl", DFB),
    ("backlog", DF),
    ("balance", DB),
    ("bind", FE),
    ("bind-process", DFB),
    ("capture", FE),
    ("clitcpka-cnt", DF),
    ("clitcpka-idle", DF),
    ("clitcpka-intvl", DF),
    ("compression", DFB),
    ("cookie", DB),
    ("declare", FE),
    ("default-server", DB),
    ("default_backend", DF),
    ("description", FE | BE),
    ("disabled", DFB),
    ("dispatch", BE),
    ("email-alert", DFB),
    ("enabled", DFB),
    ("error-log-format", DF),
    ("errorfile", DFB),
    ("errorfiles", DFB),
    ("errorloc", DFB),
    ("errorloc302", DFB),
    ("errorloc303", DFB),
    ("external-check", DB),
    ("filter", FE | BE),
    ("force-persist", BE),
    ("fullconn", DB),
    ("hash-balance-factor", DB),
    ("hash-type", DB),
    ("http-after-response", DFB),
    ("http-check", DB),
    ("http-error", DFB),
    ("http-request", DFB),
    ("http-response", DFB),
    ("http-reuse", DB),
    ("http-send-name-header", DB),
    ("id", FE | BE),
    ("ignore-persist", BE),
    ("load-server-state-from-file", DB),
    ("log", DFB),
    ("log-format", DF),
    ("log-format-sd", DF),
    ("log-tag", DFB),
    ("max-keep-alive-queue", DB),
    ("max-session-srv-conns", DF),
    ("maxconn", DF),
    ("mode", DFB),
    ("monitor", FE),
    ("monitor-uri", DF),
    ("option", DFB),
    ("persist", DB),
    ("rate-limit", DF),
    ("redirect", FE | BE),
    ("retries", DB),
    ("retry-on", DB),
    ("server", BE),
    ("server-state-file-name", DB),
    ("server-template", BE),
    ("source", DB),
    ("srvtcpka-cnt", DB),
    ("srvtcpka-idle", DB),
    ("srvtcpka-intvl", DB),
    ("stats", DFB),
    ("stick", BE),
    ("stick-table", FE | BE),
    ("tcp-check", DB),
    ("tcp-request", DFB),
    ("tcp-response", DB),
    ("timeout", DFB),
    ("transparent", DB),
    ("unique-id-format", DF),
    ("unique-id-header", DF),
    ("use-fcgi-app", BE),
    ("use-server", BE),
    ("use_backend", FE),
];

pub fn proxy_keyword_caps(kw: &str) -> Option<u8> {
    PROXY_KEYWORDS
        .iter()
        .find(|(k, _)| *k == kw)
        .map(|(_, c)| *c)
}

/// `option` names of HAProxy 2.6 with the sections allowing them and whether `no option X`
/// is accepted (the "(*)" marks of the matrix).
pub const OPTIONS: &[(&str, u8, bool)] = &[
    ("abortonclose", DB, true),
    ("accept-invalid-http-request", DF, true),
    ("accept-invalid-http-response", DB, true),
    ("allbackups", DB, true),
    ("checkcache", DB, true),
    ("clitcpka", DF, true),
    ("contstats", DF, true),
    ("disable-h2-upgrade", DF, true),
    ("dontlog-normal", DF, true),
    ("dontlognull", DF, true),
    ("external-check", DB, false),
    ("forwardfor", DFB, false),
    ("h1-case-adjust-bogus-client", DF, true),
    ("h1-case-adjust-bogus-server", DB, true),
    ("http-buffer-request", DFB, true),
    ("http-ignore-probes", DF, true),
    ("http-keep-alive", DFB, true),
    ("http-no-delay", DFB, true),
    ("http-pretend-keepalive", DB, true),
    ("http-restrict-req-hdr-names", DFB, false),
    ("http-server-close", DFB, true),
    ("http-use-proxy-header", DF, true),
    ("httpchk", DB, false),
    ("httpclose", DFB, true),
    ("httplog", DF, false),
    ("httpslog", DF, false),
    ("idle-close-on-response", DF, true),
    ("independent-streams", DFB, true),
    ("ldap-check", DB, false),
    ("log-health-checks", DB, true),
    ("log-separate-errors", DF, true),
    ("logasap", DF, true),
    ("mysql-check", DB, false),
    ("nolinger", DFB, true),
    ("originalto", DFB, false),
    ("persist", DB, true),
    ("pgsql-check", DB, false),
    ("prefer-last-server", DB, true),
    ("redis-check", DB, false),
    ("redispatch", DB, true),
    ("smtpchk", DB, false),
    ("socket-stats", DF, true),
    ("splice-auto", DFB, true),
    ("splice-request", DFB, true),
    ("splice-response", DFB, true),
    ("spop-check", DB, false),
    ("srvtcpka", DB, true),
    ("ssl-hello-chk", DB, false),
    ("tcp-check", DB, false),
    ("tcp-smart-accept", DF, true),
    ("tcp-smart-connect", DB, true),
    ("tcpka", DFB, true),
    ("tcplog", DFB, false),
    ("transparent", DB, true),
];

pub fn option_info(name: &str) -> Option<(u8, bool)> {
    OPTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, c, neg)| (*c, *neg))
}

/// Keywords of the `global` section in HAProxy 2.6.
pub const GLOBAL_KEYWORDS: &[&str] = &[
    "51degrees-cache-size",
    "51degrees-data-file",
    "51degrees-property-name-list",
    "51degrees-property-separator",
    "busy-polling",
    "ca-base",
    "chroot",
    "close-spread-time",
    "cluster-secret",
    "cpu-map",
    "crt-base",
    "daemon",
    "default-path",
    "description",
    "deviceatlas-json-file",
    "deviceatlas-log-level",
    "deviceatlas-properties-cookie",
    "deviceatlas-separator",
    "expose-experimental-directives",
    "external-check",
    "fd-hard-limit",
    "gid",
    "grace",
    "group",
    "h1-accept-payload-with-any-method",
    "h1-case-adjust",
    "h1-case-adjust-file",
    "h2-workaround-bogus-websocket-clients",
    "hard-stop-after",
    "httpclient.resolvers.id",
    "httpclient.resolvers.prefer",
    "httpclient.ssl.ca-file",
    "httpclient.ssl.verify",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "issuers-chain-path",
    "localpeer",
    "log",
    "log-send-hostname",
    "log-tag",
    "lua-load",
    "lua-load-per-thread",
    "lua-prepend-path",
    "master-worker",
    "max-spread-checks",
    "maxcompcpuusage",
    "maxcomprate",
    "maxconn",
    "maxconnrate",
    "maxpipes",
    "maxsessrate",
    "maxsslconn",
    "maxsslrate",
    "maxzlibmem",
    "mworker-max-reloads",
    "nbproc",
    "nbthread",
    "no-memory-trimming",
    "node",
    "noepoll",
    "noevports",
    "nogetaddrinfo",
    "nokqueue",
    "nopoll",
    "noreuseport",
    "nosplice",
    "numa-cpu-mapping",
    "pidfile",
    "pp2-never-send-local",
    "presetenv",
    "profiling.memory",
    "profiling.tasks",
    "quiet",
    "resetenv",
    "server-state-base",
    "server-state-file",
    "set-dumpable",
    "set-var",
    "setenv",
    "spread-checks",
    "ssl-default-bind-ciphers",
    "ssl-default-bind-ciphersuites",
    "ssl-default-bind-curves",
    "ssl-default-bind-options",
    "ssl-default-server-ciphers",
    "ssl-default-server-ciphersuites",
    // HAProxy 2.8's; Sluice takes it as later HAProxy versions do.
    "ssl-default-server-curves",
    "ssl-default-server-options",
    "ssl-dh-param-file",
    "ssl-engine",
    "ssl-mode-async",
    "ssl-propquery",
    "ssl-provider",
    "ssl-provider-path",
    "ssl-server-verify",
    "ssl-skip-self-issued-ca",
    "stats",
    "strict-limits",
    "thread-group",
    "thread-groups",
    "tune.buffers.limit",
    "tune.buffers.reserve",
    "tune.bufsize",
    "tune.comp.maxlevel",
    "tune.fail-alloc",
    "tune.fd.edge-triggered",
    "tune.h2.header-table-size",
    "tune.h2.initial-window-size",
    "tune.h2.max-concurrent-streams",
    "tune.http.cookielen",
    "tune.http.logurilen",
    "tune.http.maxhdr",
    "tune.idle-pool.shared",
    "tune.idletimer",
    "tune.lua.forced-yield",
    "tune.lua.maxmem",
    "tune.lua.service-timeout",
    "tune.lua.session-timeout",
    "tune.lua.task-timeout",
    "tune.maxaccept",
    "tune.maxpollevents",
    "tune.maxrewrite",
    "tune.pattern.cache-size",
    "tune.peers.max-updates-at-once",
    "tune.pipesize",
    "tune.pool-high-fd-ratio",
    "tune.pool-low-fd-ratio",
    "tune.quic.frontend.conn-tx-buffers.limit",
    "tune.quic.frontend.max-idle-timeout",
    "tune.quic.frontend.max-streams-bidi",
    "tune.quic.retry-threshold",
    "tune.rcvbuf.client",
    "tune.rcvbuf.server",
    "tune.recv_enough",
    "tune.runqueue-depth",
    "tune.sched.low-latency",
    "tune.sndbuf.client",
    "tune.sndbuf.server",
    "tune.ssl.cachesize",
    "tune.ssl.capture-buffer-size",
    "tune.ssl.capture-cipherlist-size",
    "tune.ssl.default-dh-param",
    "tune.ssl.force-private-cache",
    "tune.ssl.hard-maxrecord",
    "tune.ssl.keylog",
    "tune.ssl.lifetime",
    "tune.ssl.maxrecord",
    "tune.ssl.ssl-ctx-cache-size",
    "tune.vars.global-max-size",
    "tune.vars.proc-max-size",
    "tune.vars.reqres-max-size",
    "tune.vars.sess-max-size",
    "tune.vars.txn-max-size",
    "tune.zlib.memlevel",
    "tune.zlib.windowsize",
    "uid",
    "ulimit-n",
    "unix-bind",
    "unsetenv",
    "user",
    "wurfl-cache-size",
    "wurfl-data-file",
    "wurfl-information-list",
    "wurfl-information-list-separator",
    "zero-warning",
];

/// `server`/`default-server` options of HAProxy 2.6 (manual section 5.2).
pub const SERVER_KEYWORDS: &[&str] = &[
    "addr",
    "agent-addr",
    "agent-check",
    "agent-inter",
    "agent-port",
    "agent-send",
    "allow-0rtt",
    "alpn",
    "backup",
    "ca-file",
    "check",
    "check-alpn",
    "check-proto",
    "check-send-proxy",
    "check-sni",
    "check-ssl",
    "check-via-socks4",
    "ciphers",
    "ciphersuites",
    "cookie",
    "crl-file",
    "crt",
    // HAProxy 2.8's; Sluice takes it as later HAProxy versions do.
    "curves",
    "disabled",
    "downinter",
    "enabled",
    "error-limit",
    "fall",
    "fastinter",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "id",
    "init-addr",
    "inter",
    "log-proto",
    "max-reuse",
    "maxconn",
    "maxqueue",
    "minconn",
    "namespace",
    "no-agent-check",
    "no-backup",
    "no-check",
    "no-check-ssl",
    "no-send-proxy",
    "no-send-proxy-v2",
    "no-send-proxy-v2-ssl",
    "no-send-proxy-v2-ssl-cn",
    "no-ssl",
    "no-ssl-reuse",
    "no-sslv3",
    "no-tfo",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-verifyhost",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-conn-name",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "port",
    "proto",
    "redir",
    "resolve-net",
    "resolve-opts",
    "resolve-prefer",
    "resolvers",
    "rise",
    "send-proxy",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "set-proxy-v2-tlv-fmt",
    "slowstart",
    "sni",
    "socks4",
    "source",
    "ssl",
    "ssl-max-ver",
    "ssl-min-ver",
    "ssl-reuse",
    "stick",
    "tcp-ut",
    "tfo",
    "tls-tickets",
    "track",
    "usesrc",
    "verify",
    "verifyhost",
    "weight",
    "ws",
];

/// `bind` options of HAProxy 2.6 (manual section 5.1).
pub const BIND_KEYWORDS: &[&str] = &[
    "accept-netscaler-cip",
    "accept-proxy",
    "allow-0rtt",
    "alpn",
    "backlog",
    "ca-file",
    "ca-ignore-err",
    "ca-sign-file",
    "ca-sign-pass",
    "ca-verify-file",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "crt-ignore-err",
    "crt-list",
    "curves",
    "defer-accept",
    "ecdhe",
    "expose-fd",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "generate-certificates",
    "gid",
    "group",
    "id",
    "interface",
    "level",
    "maxconn",
    "mode",
    "mss",
    "name",
    "namespace",
    "nbconn",
    "nice",
    "no-ca-names",
    "no-sslv3",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "npn",
    "prefer-client-ciphers",
    "process",
    "proto",
    "quic-cc-algo",
    "quic-force-retry",
    "severity-output",
    "ssl",
    "ssl-max-ver",
    "ssl-min-ver",
    "strict-sni",
    "tcp-ut",
    "tfo",
    "thread",
    "tls-ticket-keys",
    "transparent",
    "uid",
    "user",
    "v4v6",
    "v6only",
    "verify",
];

/// A short pointer shown after "not supported by Sluice yet" for the keywords users are
/// most likely to bring, so they know what to do meanwhile.
pub fn unsupported_hint(kw: &str) -> Option<&'static str> {
    Some(match kw {
        "tcp-response" => "response inspection in TCP mode is not implemented yet",
        "stats" | "monitor-uri" | "monitor" => {
            "the statistics page, socket and monitor URI are not implemented yet"
        }
        "send-proxy-v2-ssl"
        | "send-proxy-v2-ssl-cn"
        | "no-send-proxy-v2-ssl"
        | "no-send-proxy-v2-ssl-cn" => "the PROXY protocol is not implemented yet",
        _ if is_tls_keyword(kw) => "Sluice's TLS does not implement this setting yet",
        "cookie" | "stick" | "stick-table" => {
            "persistence is not implemented yet; 'balance source' gives client affinity"
        }
        "namespace" => {
            "network namespaces are not implemented here; run Sluice inside the namespace instead"
        }
        "abortonclose" => "Sluice does not abort queued requests on client close yet",
        "accept-proxy" | "send-proxy" | "send-proxy-v2" => {
            "the PROXY protocol is not implemented yet"
        }
        "error-log-format" => {
            "connection errors such as failed TLS handshakes are logged in HAProxy's default format"
        }
        _ => return None,
    })
}

/// TLS keywords of HAProxy 2.6 that Sluice's TLS does not implement (the others are parsed).
fn is_tls_keyword(kw: &str) -> bool {
    kw.starts_with("ssl-")
        || kw.starts_with("tune.ssl.")
        || kw.starts_with("httpclient.ssl.")
        || matches!(
            kw,
            "allow-0rtt"
                | "ca-ignore-err"
                | "ca-sign-file"
                | "ca-sign-pass"
                | "ca-verify-file"
                | "crt-ignore-err"
                | "generate-certificates"
                | "issuers-chain-path"
                | "maxsslconn"
                | "maxsslrate"
                | "no-verifyhost"
                | "tls-ticket-keys"
        )
}

/// The "not supported by Sluice yet" message for `what` (e.g. `'acl'`), with a hint.
pub fn unsupported(what: &str, hint_key: &str) -> String {
    match unsupported_hint(hint_key) {
        Some(h) => format!("{what} is not supported by Sluice yet ({h})."),
        None => format!("{what} is not supported by Sluice yet."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        // Sorted tables make duplicates and omissions easy to spot in review.
        let names: Vec<&str> = PROXY_KEYWORDS.iter().map(|(k, _)| *k).collect();
        for w in names.windows(2) {
            assert!(w[0] < w[1], "{w:?}");
        }
        for w in GLOBAL_KEYWORDS.windows(2) {
            assert!(w[0] < w[1], "{w:?}");
        }
        for w in OPTIONS.windows(2) {
            assert!(w[0].0 < w[1].0, "{:?}", (w[0].0, w[1].0));
        }
    }

    #[test]
    fn matrix_lookups() {
        assert_eq!(proxy_keyword_caps("bind"), Some(FE));
        assert_eq!(proxy_keyword_caps("balance"), Some(DEF | BE));
        assert_eq!(proxy_keyword_caps("nope"), None);
        assert_eq!(option_info("httplog"), Some((DEF | FE, false)));
        assert_eq!(option_info("redispatch"), Some((DEF | BE, true)));
        assert!(unsupported("'acl'", "acl").contains("not supported by Sluice yet"));
        assert!(
            unsupported("'generate-certificates'", "generate-certificates")
                .contains("(Sluice's TLS does not implement this setting yet)")
        );
        assert!(unsupported("'ssl-engine'", "ssl-engine").contains("Sluice's TLS"));
        assert!(!unsupported("'cookie'", "cookie").contains("TLS"));
    }
}
