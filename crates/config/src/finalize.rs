//! The checks HAProxy makes once every file is read (its `check_config_validity`): backend
//! references resolved, frontend/backend mode compatibility, duplicate server names and ids,
//! settings that need HTTP mode, missing timeouts; then the drafts become the model, with
//! each `listen` split into a frontend and a backend of the same name.

use crate::diag::{Diagnostic, Severity, Style};
use crate::keywords::{BE, FE};
use crate::model::*;
use crate::parser::draft::{Kind, ProxyDraft};
use crate::parser::Parser;

const MISSING_TIMEOUTS: &str = "While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.";

fn warn(diags: &mut Vec<Diagnostic>, msg: String) {
    diags.push(Diagnostic::global(Severity::Warning, msg));
}

fn alert(diags: &mut Vec<Diagnostic>, msg: String) {
    diags.push(Diagnostic::global(Severity::Alert, msg));
}

pub(crate) fn finalize(parser: Parser) -> (Config, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let Parser {
        global,
        defaults,
        proxies,
        userlists,
        ..
    } = parser;
    // The named defaults sections whose rules proxies use, each once.
    let mut defaults_rules: Vec<DefaultsRules> = Vec::new();
    let mut rules_index = vec![None; defaults.len()];
    for p in &proxies {
        if let Some(i) = p.defaults_rules {
            if rules_index[i].is_none() {
                rules_index[i] = Some(defaults_rules.len());
                let d = &defaults[i];
                defaults_rules.push(DefaultsRules {
                    name: d.name.clone(),
                    location: d.location.clone(),
                    rules: d.rules.clone(),
                });
            }
        }
    }
    let defaults_of = |p: &ProxyDraft| p.defaults_rules.and_then(|i| rules_index[i]);
    // Backend indices first: frontends may name a backend declared after them.
    let mut be_index = vec![None; proxies.len()];
    let mut n = 0;
    for (i, p) in proxies.iter().enumerate() {
        if p.has(BE) {
            be_index[i] = Some(n);
            n += 1;
        }
    }
    let find_backend = |name: &str| proxies.iter().position(|p| p.has(BE) && p.name == name);
    let mut config = Config {
        global,
        frontends: Vec::new(),
        backends: Vec::new(),
        userlists,
        defaults_rules,
    };
    for (i, p) in proxies.iter().enumerate() {
        if p.has(FE) {
            let default_backend = match (&p.default_backend, p.kind) {
                (Some((name, _)), _) => {
                    match find_backend(name) {
                        Some(j) => {
                            let be = &proxies[j];
                            if p.mode == Mode::Http && be.mode == Mode::Tcp {
                                alert(
                                &mut diags,
                                format!(
                                    "http {} '{}' ({}) tries to use incompatible tcp {} '{}' ({}) as its default backend (see 'mode').",
                                    p.kind.type_str(),
                                    p.name,
                                    p.location,
                                    be.kind.type_str(),
                                    be.name,
                                    be.location
                                ),
                            );
                            }
                            be_index[j]
                        }
                        None => {
                            alert(&mut diags, format!("Proxy '{}': unable to find required default_backend: '{name}'.", p.name));
                            None
                        }
                    }
                }
                (None, Kind::Listen) => be_index[i],
                (None, _) => None,
            };
            let mut fe = frontend(p, default_backend, &mut diags);
            fe.defaults_rules = defaults_of(p);
            config.frontends.push(fe);
        }
        if p.has(BE) {
            let mut be = backend(p, &mut diags);
            // A listen's rules (its defaults' included) run once, in its frontend half.
            be.defaults_rules = if p.kind == Kind::Backend {
                defaults_of(p)
            } else {
                None
            };
            config.backends.push(be);
        }
        missing_timeouts(p, &mut diags);
        if p.has(BE) {
            server_names_and_ids(p, &mut diags);
            assign_ids(config.backends.last_mut(), p);
            server_verify(config.backends.last_mut(), p, &config.global, &mut diags);
        }
    }
    // What HAProxy finds while preparing the TLS contexts, after the checks above.
    for p in &proxies {
        diags.extend(p.post_diags.iter().cloned());
    }
    (config, diags)
}

/// A server's `verify` is its own, else the global `ssl-server-verify` (HAProxy resolves it
/// after reading every file); verifying needs a CA file.
fn server_verify(
    backend: Option<&mut Backend>,
    p: &ProxyDraft,
    global: &Global,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(be) = backend else { return };
    for (srv, draft) in be.servers.iter_mut().zip(&p.servers) {
        let ssl = &mut srv.ssl;
        ssl.verify = draft.verify.unwrap_or(global.ssl_server_verify);
        if !(ssl.enabled || ssl.check_ssl) || ssl.verify == SslVerify::None || ssl.ca_file.is_some()
        {
            continue;
        }
        let what = if global.ssl_server_verify == SslVerify::Required {
            "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default."
        } else {
            "verify is enabled but no CA file specified."
        };
        diags.push(
            Diagnostic::alert(
                &srv.location,
                format!("'server {}/{}' : {what}", p.name, srv.name),
            )
            .with_style(Style::Bracket),
        );
    }
}

fn frontend(
    p: &ProxyDraft,
    default_backend: Option<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Frontend {
    let ty = p.kind.type_str();
    if p.binds.is_empty() {
        warn(diags, format!("{ty} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.", p.name));
    }
    let mut access_log = p.access_log;
    if p.mode == Mode::Tcp && matches!(access_log, AccessLog::Http | AccessLog::HttpClf) {
        let msg = format!(
            "'option httplog' not usable with {ty} '{}' (needs 'mode http'). Falling back to 'option tcplog'.",
            p.name
        );
        diags.push(Diagnostic::new(
            Severity::Warning,
            p.access_log_location.clone(),
            msg,
        ));
        access_log = AccessLog::Tcp;
    }
    if access_log != AccessLog::Default && p.logs.is_empty() {
        warn(
            diags,
            format!(
                "log format ignored for {ty} '{}' since it has no log address.",
                p.name
            ),
        );
    }
    let mut forwardfor = p.forwardfor.clone();
    if p.mode == Mode::Tcp && forwardfor.is_some() {
        warn(
            diags,
            format!(
                "'option forwardfor' ignored for {ty} '{}' as it requires HTTP mode.",
                p.name
            ),
        );
        forwardfor = None;
    }
    Frontend {
        name: p.name.clone(),
        location: p.location.clone(),
        mode: p.mode,
        binds: p.binds.clone(),
        maxconn: p.maxconn,
        timeouts: p.timeouts,
        default_backend,
        logs: p.logs.clone(),
        access_log,
        dontlognull: p.dontlognull,
        log_separate_errors: p.log_separate_errors,
        forwardfor,
        conn_mode: p.conn_mode,
        errorfiles: p.errorfiles.clone(),
        disabled: p.disabled,
        rules: p.rules.clone(),
        log_format: p.log_format.clone(),
        unique_id_format: p.unique_id_format.clone(),
        unique_id_header: p.unique_id_header.clone(),
        capture_request: p.capture_request.clone(),
        capture_response: p.capture_response.clone(),
        capture_cookie: p.capture_cookie.clone(),
        buffer_request: p.buffer_request,
        defaults_rules: None,
    }
}

fn backend(p: &ProxyDraft, diags: &mut Vec<Diagnostic>) -> Backend {
    let ty = p.kind.type_str();
    let mut balance = p.balance.clone();
    let l7 = matches!(
        balance,
        Balance::Uri { .. } | Balance::UrlParam { .. } | Balance::Hdr { .. }
    );
    if l7 && p.mode == Mode::Tcp {
        warn(diags, format!("Layer 7 hash not possible for {ty} '{}' (needs 'mode http'). Falling back to round robin.", p.name));
        balance = Balance::RoundRobin;
    }
    let mut forwardfor = p.forwardfor.clone();
    // A listen's frontend half already said it.
    if p.mode == Mode::Tcp && forwardfor.is_some() && p.kind == Kind::Backend {
        warn(
            diags,
            format!(
                "'option forwardfor' ignored for {ty} '{}' as it requires HTTP mode.",
                p.name
            ),
        );
    }
    if p.mode == Mode::Tcp {
        forwardfor = None;
    }
    if p.httpchk.is_none() && (p.check_send.is_some() || p.check_expect.is_some()) {
        warn(diags, format!("{ty} '{}' uses http-check rules without 'option httpchk', so the rules are ignored.", p.name));
    }
    Backend {
        name: p.name.clone(),
        location: p.location.clone(),
        mode: p.mode,
        balance,
        hash: p.hash,
        servers: p.servers.iter().map(|s| s.server.clone()).collect(),
        timeouts: p.timeouts,
        retries: p.retries,
        redispatch: p.redispatch,
        allbackups: p.allbackups,
        httpchk: crate::parser::check_merged(p),
        forwardfor,
        conn_mode: p.conn_mode,
        logs: p.logs.clone(),
        errorfiles: p.errorfiles.clone(),
        disabled: p.disabled,
        // A listen's rules run once, in its frontend half.
        rules: if p.kind == Kind::Backend {
            p.rules.clone()
        } else {
            Vec::new()
        },
        buffer_request: p.buffer_request,
        defaults_rules: None,
    }
}

/// HAProxy's warning: a frontend needs `timeout client`; a backend with servers needs
/// `timeout connect` and `timeout server` (in TCP mode `timeout tunnel` replaces the latter).
fn missing_timeouts(p: &ProxyDraft, diags: &mut Vec<Diagnostic>) {
    let t = &p.timeouts;
    let fe_missing = p.has(FE) && t.client.is_none();
    let be_missing = p.has(BE)
        && !p.servers.is_empty()
        && (t.connect.is_none()
            || (t.server.is_none() && (p.mode == Mode::Http || t.tunnel.is_none())));
    if fe_missing || be_missing {
        warn(
            diags,
            format!(
                "missing timeouts for {} '{}'.\n   | {MISSING_TIMEOUTS}",
                p.kind.type_str(),
                p.name
            ),
        );
    }
}

fn server_names_and_ids(p: &ProxyDraft, diags: &mut Vec<Diagnostic>) {
    for (i, s) in p.servers.iter().enumerate() {
        let srv = &s.server;
        if let Some(prev) = p.servers[..i].iter().find(|o| o.server.name == srv.name) {
            diags.push(Diagnostic::alert(
                &srv.location,
                format!(
                    "{} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                    p.kind.type_str(),
                    p.name,
                    srv.name,
                    prev.server.location.line
                ),
            ));
        }
        if !s.explicit_id {
            continue;
        }
        if let Some(prev) = p.servers[..i]
            .iter()
            .find(|o| o.explicit_id && o.server.id == srv.id)
        {
            diags.push(
                Diagnostic::alert(
                    &srv.location,
                    format!(
                        "'server {}/{}' : 'id' : custom id {} already used at {} ('server {}').",
                        p.name, srv.name, srv.id, prev.server.location, prev.server.name
                    ),
                )
                .with_style(Style::Bracket),
            );
        }
    }
}

/// Servers without `id` get the smallest ids not taken, in declaration order, as HAProxy
/// numbers them.
fn assign_ids(backend: Option<&mut Backend>, p: &ProxyDraft) {
    let Some(be) = backend else { return };
    let used: std::collections::BTreeSet<u32> = p
        .servers
        .iter()
        .filter(|s| s.explicit_id)
        .map(|s| s.server.id)
        .collect();
    let mut next = 1u32;
    for (srv, draft) in be.servers.iter_mut().zip(&p.servers) {
        if draft.explicit_id {
            continue;
        }
        while used.contains(&next) {
            next += 1;
        }
        srv.id = next;
        next += 1;
    }
}
