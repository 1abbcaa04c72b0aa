//! Rules (manual 4.2 `acl`, `use_backend`, `http-request`, `http-response`, `redirect`;
//! section 7 for ACLs): the config's rule lines compiled once with `sluice-expr` into
//! conditions and actions, and the per-request evaluation that decides what happens to a
//! request before it is forwarded.

use std::collections::HashMap;
use std::sync::Arc;

use sluice_config::{Config, Diagnostic, Location, RuleLine};
use sluice_expr::{Compiler, Cond, Context, Expr, LogFormat, Password, User, Userlist, VarScope};

/// An `http-request` action.
#[derive(Debug)]
pub enum ReqAction {
    Allow,
    Deny {
        status: u16,
    },
    Tarpit {
        status: u16,
    },
    Auth {
        realm: String,
    },
    Redirect(Redirect),
    Return(Return),
    SetHeader(String, LogFormat),
    AddHeader(String, LogFormat),
    DelHeader(String),
    /// `replace-header` (whole value) / `replace-value` (each comma-separated value).
    ReplaceHeader {
        name: String,
        regex: regex::Regex,
        fmt: LogFormat,
        per_value: bool,
    },
    SetVar(VarScope, String, Expr),
    UnsetVar(VarScope, String),
    SetMethod(LogFormat),
    SetPath(LogFormat),
    SetQuery(LogFormat),
    SetUri(LogFormat),
    /// `replace-path` / `replace-uri`: regex on the path (or whole target), `\N` references.
    ReplacePath(regex::Regex, LogFormat),
    ReplaceUri(regex::Regex, LogFormat),
    SetSrc(Expr),
    /// `reject` / `silent-drop`: close without answering.
    Reject,
}

/// A `tcp-request connection|session|content` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpConnAction {
    Accept,
    Reject,
}

/// An `http-response` action.
#[derive(Debug)]
pub enum ResAction {
    Allow,
    Deny { status: u16 },
    SetHeader(String, LogFormat),
    AddHeader(String, LogFormat),
    DelHeader(String),
    SetVar(VarScope, String, Expr),
    UnsetVar(VarScope, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

#[derive(Debug)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub value: LogFormat,
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
}

#[derive(Debug)]
pub struct Return {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: ReturnBody,
    pub headers: Vec<(String, LogFormat)>,
}

#[derive(Debug)]
pub enum ReturnBody {
    None,
    /// `string` or `file` (read at load).
    Fixed(Vec<u8>),
    /// `lf-string`.
    Format(LogFormat),
    /// `default-errorfiles` / no body: the error page of the status.
    ErrorPage,
}

#[derive(Debug)]
pub struct Rule<A> {
    pub action: A,
    pub cond: Option<Cond>,
}

impl<A> Rule<A> {
    pub fn applies(&self, txn: &dyn sluice_expr::Txn) -> bool {
        self.cond.as_ref().is_none_or(|c| c.eval(txn))
    }
}

#[derive(Debug)]
pub enum BackendTarget {
    Static(usize),
    /// `use_backend %[...]`: the name is computed per request; an unknown name falls back to
    /// the default backend, as in HAProxy.
    Dynamic(LogFormat),
}

/// `use-server NAME [if|unless cond]`: the server of the backend that takes the request.
#[derive(Debug)]
pub struct UseServer {
    pub backend: usize,
    pub server: usize,
    pub cond: Option<Cond>,
}

#[derive(Debug)]
pub struct UseBackend {
    pub target: BackendTarget,
    pub cond: Option<Cond>,
}

/// The compiled rules of one proxy half.
#[derive(Debug, Default)]
pub struct ProxyRules {
    /// `log-format`: replaces the httplog/tcplog line.
    pub log_format: Option<LogFormat>,
    /// `unique-id-format`: the request's unique id (`%ID`, `unique-id`, `unique-id-header`).
    pub unique_id: Option<LogFormat>,
    pub tcp_connection: Vec<Rule<TcpConnAction>>,
    /// `tcp-request session`: after the TLS handshake, before any byte is read.
    pub tcp_session: Vec<Rule<TcpConnAction>>,
    /// `tcp-request content`: on the first bytes, waiting up to `inspect_delay` for the
    /// conditions to be decided.
    pub tcp_content: Vec<Rule<TcpConnAction>>,
    /// `tcp-request inspect-delay`.
    pub inspect_delay: Option<std::time::Duration>,
    pub http_request: Vec<Rule<ReqAction>>,
    pub http_response: Vec<Rule<ResAction>>,
    /// `http-after-response`: also applies to responses Sluice makes itself.
    pub http_after_response: Vec<Rule<ResAction>>,
    pub use_backend: Vec<UseBackend>,
    pub use_server: Vec<UseServer>,
}

impl ProxyRules {
    pub fn is_empty(&self) -> bool {
        self.http_request.is_empty()
            && self.http_response.is_empty()
            && self.http_after_response.is_empty()
            && self.use_backend.is_empty()
            && self.use_server.is_empty()
    }

    /// `tcp-request connection` verdict for a new connection: false to drop it.
    pub fn accept_connection(&self, txn: &dyn sluice_expr::Txn) -> bool {
        first_verdict(&self.tcp_connection, txn)
    }

    /// `tcp-request session` verdict once the handshake is done: false to drop it.
    pub fn accept_session(&self, txn: &dyn sluice_expr::Txn) -> bool {
        first_verdict(&self.tcp_session, txn)
    }

    /// `tcp-request content` verdict on what was received so far: `None` while a condition
    /// needs more bytes (the caller waits, within `inspect-delay`), else whether to go on.
    /// The first rule whose condition holds decides; none means accept.
    pub fn content_verdict(&self, txn: &dyn sluice_expr::Txn) -> Option<bool> {
        for r in &self.tcp_content {
            let applies = match &r.cond {
                None => true,
                Some(c) => c.eval_partial(txn)?,
            };
            if applies {
                return Some(r.action == TcpConnAction::Accept);
            }
        }
        Some(true)
    }
}

/// The action of the first rule whose condition holds; accept when none does.
fn first_verdict(rules: &[Rule<TcpConnAction>], txn: &dyn sluice_expr::Txn) -> bool {
    rules
        .iter()
        .find(|r| r.applies(txn))
        .is_none_or(|r| r.action == TcpConnAction::Accept)
}

/// Rules of every frontend and backend, indexed like `Config::frontends`/`backends`.
#[derive(Debug, Default)]
pub struct CompiledRules {
    pub frontends: Vec<ProxyRules>,
    pub backends: Vec<ProxyRules>,
    /// Backend index by name, for dynamic `use_backend`.
    pub backend_by_name: HashMap<String, usize>,
    /// Per backend, per server: the `sni` expression of a `server ... ssl`.
    pub server_sni: Vec<Vec<Option<sluice_expr::Expr>>>,
}

fn userlist_of(u: &sluice_config::Userlist) -> Userlist {
    let users = u
        .users
        .iter()
        .map(|x| User {
            name: x.name.clone(),
            password: if x.insecure {
                Password::Insecure(x.password.clone())
            } else {
                Password::Hashed(x.password.clone())
            },
            groups: x.groups.clone(),
        })
        .collect();
    let groups = u
        .groups
        .iter()
        .map(|g| (g.name.clone(), g.users.clone()))
        .collect();
    Userlist::new(u.name.clone(), users, groups)
}

/// Splits `ACTION args... [if|unless cond...]`.
fn split_cond(words: &[String]) -> (&[String], Option<&[String]>) {
    match words.iter().position(|w| w == "if" || w == "unless") {
        Some(i) => (&words[..i], Some(&words[i..])),
        None => (words, None),
    }
}

fn strs(w: &[String]) -> Vec<&str> {
    w.iter().map(String::as_str).collect()
}

struct Ctx<'a> {
    compiler: &'a mut Compiler,
    diags: &'a mut Vec<Diagnostic>,
    cfg: &'a Config,
    proxy: &'a str,
}

impl Ctx<'_> {
    fn alert(&mut self, loc: &Location, msg: String) {
        self.diags.push(Diagnostic::alert(loc, msg));
    }

    fn cond(
        &mut self,
        line: &RuleLine,
        words: Option<&[String]>,
        ctx: Context,
    ) -> Result<Option<Cond>, ()> {
        let Some(words) = words else { return Ok(None) };
        match self.compiler.compile_cond(&strs(words), ctx) {
            Ok(c) => Ok(Some(c)),
            Err(e) => {
                self.alert(
                    &line.location,
                    format!(
                        "error detected while parsing an '{}' condition : {e}.",
                        line.keyword
                    ),
                );
                Err(())
            }
        }
    }

    fn format(&mut self, line: &RuleLine, text: &str, ctx: Context) -> Result<LogFormat, ()> {
        match self.compiler.compile_log_format_in(text, ctx) {
            Ok(f) => Ok(f),
            Err(e) => {
                self.alert(&line.location, format!("'{}' : {e}", line.keyword));
                Err(())
            }
        }
    }
}

fn status_arg(words: &[String], key: &str, default: u16) -> Result<u16, String> {
    match words.iter().position(|w| w == key) {
        None => Ok(default),
        Some(i) => words
            .get(i + 1)
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|s| (200..600).contains(s))
            .ok_or_else(|| format!("'{key}' expects a valid HTTP status code")),
    }
}

/// HAProxy actions Sluice recognises but does not implement yet.
const REQ_NOT_YET: &[&str] = &[
    "set-pathq",
    "replace-pathq",
    "set-log-level",
    "capture",
    "normalize-uri",
    "wait-for-body",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "sc-inc-gpc0",
    "set-map",
    "del-map",
    "add-acl",
    "del-acl",
    "use-service",
    "set-nice",
    "set-tos",
    "set-mark",
    "early-hint",
    "cache-use",
    "do-resolve",
    "set-timeout",
    "strict-mode",
    "disable-l7-retry",
    "send-spoe-group",
    "set-dst",
    "set-dst-port",
    "set-src-port",
    "set-bandwidth-limit",
];

/// `set-var(scope.name)` / `unset-var(scope.name)`: the variable in parentheses.
fn var_of(c: &mut Ctx<'_>, line: &RuleLine, word: &str) -> Option<(VarScope, String)> {
    let inner = word
        .split_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap_or("");
    match VarScope::parse(inner) {
        Some((scope, name)) => Some((scope, name.to_string())),
        None => {
            c.alert(
                &line.location,
                format!("'{} {word}' : invalid variable name '{inner}'; expects 'proc', 'sess', 'txn', 'req' or 'res' followed by a name.", line.keyword),
            );
            None
        }
    }
}

fn regex_arg(c: &mut Ctx<'_>, line: &RuleLine, re: &str) -> Option<regex::Regex> {
    match regex::Regex::new(re) {
        Ok(r) => Some(r),
        Err(e) => {
            c.alert(
                &line.location,
                format!("'{}' : regex '{re}' does not compile: {e}.", line.keyword),
            );
            None
        }
    }
}

fn expr_arg(c: &mut Ctx<'_>, line: &RuleLine, text: &str, ctx: Context) -> Option<Expr> {
    match c.compiler.compile_expr(text, ctx) {
        Ok(e) => Some(e),
        Err(e) => {
            c.alert(&line.location, format!("'{}' : {e}.", line.keyword));
            None
        }
    }
}

fn req_action(c: &mut Ctx<'_>, line: &RuleLine) -> Option<Rule<ReqAction>> {
    let (act, cond_words) = split_cond(&line.words[1..]);
    let Some(name) = act.first().map(String::as_str) else {
        c.alert(&line.location, "'http-request' expects an action.".into());
        return None;
    };
    let args = &act[1..];
    let ctx = Context::HttpRequest;
    let action = match name {
        "allow" => ReqAction::Allow,
        "deny" | "tarpit" => {
            let status = match status_arg(args, "deny_status", 403) {
                Ok(s) => s,
                Err(e) => {
                    c.alert(&line.location, format!("'http-request {name}' : {e}"));
                    return None;
                }
            };
            if name == "deny" {
                ReqAction::Deny { status }
            } else {
                ReqAction::Tarpit { status }
            }
        }
        "auth" => {
            let realm = match args.iter().position(|w| w == "realm") {
                Some(i) => args.get(i + 1).cloned().unwrap_or_default(),
                None => c.proxy.to_string(),
            };
            ReqAction::Auth { realm }
        }
        "redirect" => {
            return redirect(c, line, args, cond_words).map(|(r, cond)| Rule {
                action: ReqAction::Redirect(r),
                cond,
            })
        }
        "return" => {
            let r = ret(c, line, args)?;
            ReqAction::Return(r)
        }
        "set-header" | "add-header" => {
            let (Some(hname), Some(fmt)) = (args.first(), args.get(1)) else {
                c.alert(
                    &line.location,
                    format!("'http-request {name}' expects exactly 2 arguments."),
                );
                return None;
            };
            let f = c.format(line, fmt, ctx).ok()?;
            if name == "set-header" {
                ReqAction::SetHeader(hname.clone(), f)
            } else {
                ReqAction::AddHeader(hname.clone(), f)
            }
        }
        "del-header" => {
            let Some(hname) = args.first() else {
                c.alert(
                    &line.location,
                    "'http-request del-header' expects at least 1 argument.".into(),
                );
                return None;
            };
            if args.len() > 1 {
                c.alert(
                    &line.location,
                    "'http-request del-header' with '-m' is not supported by Sluice yet.".into(),
                );
                return None;
            }
            ReqAction::DelHeader(hname.clone())
        }
        "replace-header" | "replace-value" => {
            let (Some(h), Some(re), Some(fmt)) = (args.first(), args.get(1), args.get(2)) else {
                c.alert(
                    &line.location,
                    format!("'http-request {name}' expects exactly 3 arguments."),
                );
                return None;
            };
            let regex = regex_arg(c, line, re)?;
            let fmt = c.format(line, fmt, ctx).ok()?;
            ReqAction::ReplaceHeader {
                name: h.clone(),
                regex,
                fmt,
                per_value: name == "replace-value",
            }
        }
        "set-method" | "set-path" | "set-query" | "set-uri" => {
            let Some(f) = args.first() else {
                c.alert(
                    &line.location,
                    format!("'http-request {name}' expects exactly 1 argument."),
                );
                return None;
            };
            let f = c.format(line, f, ctx).ok()?;
            match name {
                "set-method" => ReqAction::SetMethod(f),
                "set-path" => ReqAction::SetPath(f),
                "set-query" => ReqAction::SetQuery(f),
                _ => ReqAction::SetUri(f),
            }
        }
        "replace-path" | "replace-uri" => {
            let (Some(re), Some(fmt)) = (args.first(), args.get(1)) else {
                c.alert(
                    &line.location,
                    format!("'http-request {name}' expects exactly 2 arguments."),
                );
                return None;
            };
            let regex = regex_arg(c, line, re)?;
            let fmt = c.format(line, fmt, ctx).ok()?;
            if name == "replace-path" {
                ReqAction::ReplacePath(regex, fmt)
            } else {
                ReqAction::ReplaceUri(regex, fmt)
            }
        }
        "set-src" => {
            let Some(e) = args.first() else {
                c.alert(
                    &line.location,
                    "'http-request set-src' expects an expression.".into(),
                );
                return None;
            };
            ReqAction::SetSrc(expr_arg(c, line, e, ctx)?)
        }
        "reject" | "silent-drop" => ReqAction::Reject,
        v if v.starts_with("set-var(") => {
            let (scope, var) = var_of(c, line, v)?;
            let Some(e) = args.first() else {
                c.alert(
                    &line.location,
                    format!("'http-request {v}' expects a sample expression."),
                );
                return None;
            };
            ReqAction::SetVar(scope, var, expr_arg(c, line, e, ctx)?)
        }
        v if v.starts_with("unset-var(") => {
            let (scope, var) = var_of(c, line, v)?;
            ReqAction::UnsetVar(scope, var)
        }
        other if REQ_NOT_YET.contains(&other) => {
            c.alert(
                &line.location,
                format!("'http-request {other}' is not supported by Sluice yet."),
            );
            return None;
        }
        other => {
            c.alert(
                &line.location,
                format!("'http-request' expects 'allow', 'deny', 'tarpit', 'auth', 'redirect', 'return', 'set-header', 'add-header', 'del-header', ... but got '{other}'."),
            );
            return None;
        }
    };
    let cond = c.cond(line, cond_words, ctx).ok()?;
    Some(Rule { action, cond })
}

fn redirect(
    c: &mut Ctx<'_>,
    line: &RuleLine,
    args: &[String],
    cond_words: Option<&[String]>,
) -> Option<(Redirect, Option<Cond>)> {
    let (kind, value) = match (args.first().map(String::as_str), args.get(1)) {
        (Some("location"), Some(v)) => (RedirectKind::Location, v),
        (Some("prefix"), Some(v)) => (RedirectKind::Prefix, v),
        (Some("scheme"), Some(v)) => (RedirectKind::Scheme, v),
        _ => {
            c.alert(
                &line.location,
                format!(
                    "'{}': expects 'location', 'prefix' or 'scheme' followed by a value.",
                    line.keyword
                ),
            );
            return None;
        }
    };
    let mut code = 302u16;
    let mut drop_query = false;
    let mut append_slash = false;
    let mut i = 2;
    while i < args.len() {
        match args[i].as_str() {
            "code" => {
                match args
                    .get(i + 1)
                    .and_then(|s| s.parse::<u16>().ok())
                    .filter(|c| [301, 302, 303, 307, 308].contains(c))
                {
                    Some(n) => code = n,
                    None => {
                        c.alert(&line.location, format!("'{}': unsupported HTTP code '{}' (expects 301, 302, 303, 307 or 308).", line.keyword, args.get(i + 1).map_or("", |s| s.as_str())));
                        return None;
                    }
                }
                i += 2;
            }
            "drop-query" => {
                drop_query = true;
                i += 1;
            }
            "append-slash" => {
                append_slash = true;
                i += 1;
            }
            other => {
                c.alert(
                    &line.location,
                    format!(
                        "'{}' option '{other}' is not supported by Sluice yet.",
                        line.keyword
                    ),
                );
                return None;
            }
        }
    }
    let value = c.format(line, value, Context::HttpRequest).ok()?;
    let cond = c.cond(line, cond_words, Context::HttpRequest).ok()?;
    Some((
        Redirect {
            kind,
            value,
            code,
            drop_query,
            append_slash,
        },
        cond,
    ))
}

fn ret(c: &mut Ctx<'_>, line: &RuleLine, args: &[String]) -> Option<Return> {
    let mut r = Return {
        status: 200,
        content_type: None,
        body: ReturnBody::None,
        headers: Vec::new(),
    };
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1);
        match (args[i].as_str(), v) {
            ("status", Some(s)) => match s.parse::<u16>().ok().filter(|s| (200..600).contains(s)) {
                Some(s) => r.status = s,
                None => {
                    c.alert(
                        &line.location,
                        format!("'http-request return' : invalid status code '{s}'."),
                    );
                    return None;
                }
            },
            ("content-type", Some(t)) => r.content_type = Some(t.clone()),
            ("string", Some(t)) => r.body = ReturnBody::Fixed(t.clone().into_bytes()),
            ("lf-string", Some(t)) => {
                r.body = ReturnBody::Format(c.format(line, t, Context::HttpRequest).ok()?)
            }
            ("file", Some(p)) => match std::fs::read(p) {
                Ok(b) => r.body = ReturnBody::Fixed(b),
                Err(e) => {
                    c.alert(
                        &line.location,
                        format!("'http-request return' : failed to read file '{p}' ({e})."),
                    );
                    return None;
                }
            },
            ("hdr", Some(n)) => {
                let Some(f) = args.get(i + 2) else {
                    c.alert(
                        &line.location,
                        "'http-request return' : 'hdr' expects a name and a value.".into(),
                    );
                    return None;
                };
                let f = c.format(line, f, Context::HttpRequest).ok()?;
                r.headers.push((n.clone(), f));
                i += 1;
            }
            ("default-errorfiles", _) => {
                r.body = ReturnBody::ErrorPage;
                i += 1;
                continue;
            }
            (other, _) => {
                c.alert(
                    &line.location,
                    format!("'http-request return' : unknown or incomplete argument '{other}'."),
                );
                return None;
            }
        }
        i += 2;
    }
    if !matches!(r.body, ReturnBody::None | ReturnBody::ErrorPage) && r.content_type.is_none() {
        c.alert(
            &line.location,
            "'http-request return' : a 'content-type' is required with a body.".into(),
        );
        return None;
    }
    Some(r)
}

fn res_action(c: &mut Ctx<'_>, line: &RuleLine) -> Option<Rule<ResAction>> {
    let (act, cond_words) = split_cond(&line.words[1..]);
    let name = act.first().map(String::as_str).unwrap_or("");
    let args = &act[1..];
    let ctx = Context::HttpResponse;
    let action = match name {
        "allow" => ResAction::Allow,
        "deny" => match status_arg(args, "deny_status", 502) {
            Ok(status) => ResAction::Deny { status },
            Err(e) => {
                c.alert(&line.location, format!("'{} deny' : {e}", line.keyword));
                return None;
            }
        },
        "set-header" | "add-header" => {
            let (Some(hname), Some(fmt)) = (args.first(), args.get(1)) else {
                c.alert(
                    &line.location,
                    format!("'{} {name}' expects exactly 2 arguments.", line.keyword),
                );
                return None;
            };
            let f = c.format(line, fmt, ctx).ok()?;
            if name == "set-header" {
                ResAction::SetHeader(hname.clone(), f)
            } else {
                ResAction::AddHeader(hname.clone(), f)
            }
        }
        "del-header" if args.len() == 1 => ResAction::DelHeader(args[0].clone()),
        v if v.starts_with("set-var(") => {
            let (scope, var) = var_of(c, line, v)?;
            let Some(e) = args.first() else {
                c.alert(
                    &line.location,
                    format!("'{} {v}' expects a sample expression.", line.keyword),
                );
                return None;
            };
            ResAction::SetVar(scope, var, expr_arg(c, line, e, ctx)?)
        }
        v if v.starts_with("unset-var(") => {
            let (scope, var) = var_of(c, line, v)?;
            ResAction::UnsetVar(scope, var)
        }
        other => {
            c.alert(
                &line.location,
                format!("'{} {other}' is not supported by Sluice yet.", line.keyword),
            );
            return None;
        }
    };
    let cond = c.cond(line, cond_words, ctx).ok()?;
    Some(Rule { action, cond })
}

/// Where a `tcp-request` line goes.
enum TcpRequest {
    Connection(Rule<TcpConnAction>),
    Session(Rule<TcpConnAction>),
    Content(Rule<TcpConnAction>),
    InspectDelay(std::time::Duration),
}

/// `tcp-request inspect-delay TIME` and `tcp-request connection|session|content
/// accept|reject [cond]`; other actions are not there yet.
fn tcp_request(c: &mut Ctx<'_>, line: &RuleLine, in_backend: bool) -> Option<TcpRequest> {
    let stage = line.words.get(1).map(String::as_str).unwrap_or("");
    if stage == "inspect-delay" {
        let Some(t) = line.words.get(2) else {
            c.alert(
                &line.location,
                "'tcp-request inspect-delay' expects a timeout value.".into(),
            );
            return None;
        };
        return match sluice_config::units::parse_time(t) {
            Ok(d) => Some(TcpRequest::InspectDelay(d)),
            Err(e) => {
                let msg =
                    sluice_config::units::time_error_message(&e, t, "tcp-request inspect-delay");
                c.alert(&line.location, format!("{msg}."));
                None
            }
        };
    }
    let ctx = match stage {
        "connection" => Context::TcpConnection,
        "session" => Context::TcpSession,
        "content" => Context::TcpContent,
        _ => {
            c.alert(&line.location, format!("'tcp-request' expects 'inspect-delay', 'connection', 'session' or 'content', got '{stage}'."));
            return None;
        }
    };
    if in_backend {
        c.alert(&line.location, format!("'tcp-request {stage}' in a backend is not supported by Sluice yet (put it in the frontend)."));
        return None;
    }
    let (act, cond_words) = split_cond(&line.words[2..]);
    let action = match act.first().map(String::as_str) {
        Some("accept") => TcpConnAction::Accept,
        Some("reject") => TcpConnAction::Reject,
        other => {
            c.alert(&line.location, format!("'tcp-request {stage} {}' is not supported by Sluice yet (only 'accept' and 'reject').", other.unwrap_or("")));
            return None;
        }
    };
    let cond = c.cond(line, cond_words, ctx).ok()?;
    let rule = Rule { action, cond };
    Some(match stage {
        "connection" => TcpRequest::Connection(rule),
        "session" => TcpRequest::Session(rule),
        _ => TcpRequest::Content(rule),
    })
}

fn use_backend(c: &mut Ctx<'_>, line: &RuleLine, mode_http: bool) -> Option<UseBackend> {
    let ctx = if mode_http {
        Context::HttpRequest
    } else {
        Context::TcpContent
    };
    let (target, cond_words) = split_cond(&line.words[1..]);
    let Some(name) = target.first() else {
        c.alert(
            &line.location,
            "'use_backend' expects a backend name.".into(),
        );
        return None;
    };
    let target = if name.contains("%[") {
        BackendTarget::Dynamic(c.format(line, name, ctx).ok()?)
    } else {
        match c.cfg.backend_index(name) {
            Some(i) => BackendTarget::Static(i),
            None => {
                c.alert(
                    &line.location,
                    format!("unable to find required use_backend: '{name}'."),
                );
                return None;
            }
        }
    };
    let cond = c.cond(line, cond_words, ctx).ok()?;
    Some(UseBackend { target, cond })
}

/// `use-server` names a server of the section's own backend (a `listen`'s back half).
fn use_server(
    c: &mut Ctx<'_>,
    line: &RuleLine,
    own_backend: Option<usize>,
    mode_http: bool,
) -> Option<UseServer> {
    let ctx = if mode_http {
        Context::HttpRequest
    } else {
        Context::TcpContent
    };
    let (target, cond_words) = split_cond(&line.words[1..]);
    let Some(name) = target.first() else {
        c.alert(&line.location, "'use-server' expects a server name.".into());
        return None;
    };
    let Some(b) = own_backend else {
        c.alert(
            &line.location,
            "'use-server' is only allowed in a backend or a listen section.".into(),
        );
        return None;
    };
    let be = &c.cfg.backends[b];
    let Some(server) = be.servers.iter().position(|s| &s.name == name) else {
        c.alert(
            &line.location,
            format!(
                "unable to find server '{name}' referenced in a 'use-server' rule of backend '{}'.",
                be.name
            ),
        );
        return None;
    };
    let cond = c.cond(line, cond_words, ctx).ok()?;
    Some(UseServer {
        backend: b,
        server,
        cond,
    })
}

fn compile_proxy(
    c: &mut Ctx<'_>,
    rules: &[RuleLine],
    mode_http: bool,
    own_backend: Option<usize>,
    in_backend: bool,
) -> ProxyRules {
    c.compiler.clear_acls();
    let mut out = ProxyRules::default();
    for line in rules {
        match line.keyword.as_str() {
            "acl" => {
                let Some(name) = line.words.get(1) else {
                    c.alert(
                        &line.location,
                        "'acl' expects an ACL name and a criterion.".into(),
                    );
                    continue;
                };
                if let Err(e) = c.compiler.compile_acl(name, &strs(&line.words[2..])) {
                    c.alert(
                        &line.location,
                        format!("error detected while parsing ACL '{name}' : {e}."),
                    );
                }
            }
            "tcp-request" => match tcp_request(c, line, in_backend) {
                Some(TcpRequest::Connection(r)) => out.tcp_connection.push(r),
                Some(TcpRequest::Session(r)) => out.tcp_session.push(r),
                Some(TcpRequest::Content(r)) => out.tcp_content.push(r),
                Some(TcpRequest::InspectDelay(d)) => out.inspect_delay = Some(d),
                None => {}
            },
            "http-request" | "redirect" | "http-response" | "http-after-response" if !mode_http => {
                c.alert(
                    &line.location,
                    format!(
                        "'{}' requires 'mode http' (not supported in a TCP proxy).",
                        line.keyword
                    ),
                );
            }
            "http-request" => {
                if let Some(r) = req_action(c, line) {
                    out.http_request.push(r);
                }
            }
            "redirect" => {
                let (act, cond_words) = split_cond(&line.words[1..]);
                if let Some((r, cond)) = redirect(c, line, act, cond_words) {
                    out.http_request.push(Rule {
                        action: ReqAction::Redirect(r),
                        cond,
                    });
                }
            }
            "http-response" => {
                if let Some(r) = res_action(c, line) {
                    out.http_response.push(r);
                }
            }
            "http-after-response" => {
                let action = line.words.get(1).map(String::as_str).unwrap_or("");
                if matches!(action, "deny" | "allow") {
                    c.alert(&line.location, format!("'http-after-response {action}' is not supported by Sluice yet (only header and variable actions)."));
                } else if let Some(r) = res_action(c, line) {
                    out.http_after_response.push(r);
                }
            }
            "use_backend" => {
                if let Some(u) = use_backend(c, line, mode_http) {
                    out.use_backend.push(u);
                }
            }
            "use-server" => {
                if let Some(u) = use_server(c, line, own_backend, mode_http) {
                    out.use_server.push(u);
                }
            }
            other => c.alert(
                &line.location,
                format!("'{other}' is not supported by Sluice yet."),
            ),
        }
    }
    out
}

/// Compiles every proxy's rules; all errors are reported, with their `file:line`.
pub fn compile(cfg: &Config) -> Result<CompiledRules, Vec<Diagnostic>> {
    let mut compiler = Compiler::new();
    for u in &cfg.userlists {
        compiler.add_userlist(userlist_of(u));
    }
    let mut diags = Vec::new();
    let mut out = CompiledRules {
        backend_by_name: cfg
            .backends
            .iter()
            .enumerate()
            .map(|(i, b)| (b.name.clone(), i))
            .collect(),
        ..CompiledRules::default()
    };
    for fe in &cfg.frontends {
        let mut c = Ctx {
            compiler: &mut compiler,
            diags: &mut diags,
            cfg,
            proxy: &fe.name,
        };
        let log_format = fe.log_format.as_ref().and_then(|(text, loc)| {
            match c.compiler.compile_log_format(text) {
                Ok(f) => Some(f),
                Err(e) => {
                    c.alert(loc, format!("'log-format' : {e}."));
                    None
                }
            }
        });
        // A listen's rules live in its front half; its own backend has the same name.
        let own = cfg.backend_index(&fe.name);
        let mut rules = compile_proxy(
            &mut c,
            &fe.rules,
            fe.mode == sluice_config::Mode::Http,
            own,
            false,
        );
        rules.log_format = log_format;
        rules.unique_id = fe.unique_id_format.as_ref().and_then(|(text, loc)| {
            match compiler.compile_log_format(text) {
                Ok(f) => Some(f),
                Err(e) => {
                    diags.push(Diagnostic::alert(loc, format!("'unique-id-format' : {e}.")));
                    None
                }
            }
        });
        out.frontends.push(rules);
    }
    for (be_index, be) in cfg.backends.iter().enumerate() {
        // `http-check expect rstring` is compiled by the checker; refuse a bad one at load.
        if let Some(sluice_config::HttpCheckExpect::Rstring { regex, .. }) =
            be.httpchk.as_ref().and_then(|h| h.expect.as_ref())
        {
            if let Err(e) = regex::bytes::Regex::new(regex) {
                diags.push(Diagnostic::alert(
                    &be.location,
                    format!("backend '{}': 'http-check expect rstring' : regex '{regex}' does not compile: {e}.", be.name),
                ));
            }
        }
        let mut c = Ctx {
            compiler: &mut compiler,
            diags: &mut diags,
            cfg,
            proxy: &be.name,
        };
        let r = compile_proxy(
            &mut c,
            &be.rules,
            be.mode == sluice_config::Mode::Http,
            Some(be_index),
            true,
        );
        if !r.use_backend.is_empty() {
            // The keyword matrix already refuses it; keep the invariant explicit.
            diags.push(Diagnostic::alert(
                &be.location,
                "'use_backend' is not allowed in a backend.".to_string(),
            ));
        }
        out.backends.push(r);
        // `server ... sni EXPR`: evaluated on the request (HTTP) or the connection (TCP).
        let sni_ctx = if be.mode == sluice_config::Mode::Http {
            Context::HttpRequest
        } else {
            Context::TcpContent
        };
        let sni = be
            .servers
            .iter()
            .map(|srv| {
                let text = srv.ssl.sni.as_deref().filter(|_| srv.ssl.enabled)?;
                match compiler.compile_expr(text, sni_ctx) {
                    Ok(e) => Some(e),
                    Err(e) => {
                        diags.push(Diagnostic::alert(
                            &srv.location,
                            format!("'server {}/{}' : 'sni' : {e}.", be.name, srv.name),
                        ));
                        None
                    }
                }
            })
            .collect();
        out.server_sni.push(sni);
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

/// Shared, immutable compiled rules.
pub type SharedRules = Arc<CompiledRules>;

#[cfg(test)]
mod tests {
    use super::*;

    fn compile_text(text: &str) -> Result<CompiledRules, Vec<Diagnostic>> {
        let loaded = sluice_config::load_str("t.cfg", text, &|_| None).expect("config loads");
        compile(&loaded.config)
    }

    const HEAD: &str = "defaults\n    mode http\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\nbackend be\n    server s 127.0.0.1:1\nfrontend fe\n    bind 127.0.0.1:1\n    default_backend be\n";

    #[test]
    fn every_supported_action_compiles() {
        let rules = [
            "http-request allow if TRUE",
            "http-request deny deny_status 429",
            "http-request tarpit",
            "http-request auth realm x",
            "http-request redirect location /x code 308",
            "http-request redirect prefix /p drop-query append-slash",
            "http-request redirect scheme https",
            "http-request return status 200 content-type text/plain string ok hdr x-a b",
            "http-request set-header X-A %[src]",
            "http-request add-header X-B b",
            "http-request del-header X-C",
            "http-request replace-header X-D ^a(.*) b\\1",
            "http-request replace-value X-E ^a b",
            "http-request set-var(txn.a) req.hdr(host)",
            "http-request unset-var(txn.a)",
            "http-request set-method GET",
            "http-request set-path /x",
            "http-request set-query a=1",
            "http-request set-uri /y",
            "http-request replace-path ^/old(.*) /new\\1",
            "http-request replace-uri ^(.*)$ \\1",
            "http-request set-src hdr(x-ip)",
            "http-request reject if { src 10.0.0.0/8 }",
            "http-response set-header X-F f",
            "http-response add-header X-G g",
            "http-response del-header X-H",
            "http-response deny if { status 500 }",
            "http-response set-var(txn.s) status",
            "http-after-response set-header X-I i",
            "http-after-response del-header X-J",
            "redirect scheme https if !{ path_beg /x }",
            "tcp-request connection reject if { src 10.0.0.1 }",
            "tcp-request inspect-delay 5s",
            "tcp-request session reject if { ssl_fc_sni -i bad.example }",
            "tcp-request content reject unless { req.ssl_hello_type 1 }",
            "use_backend be if { path_beg /be }",
            "use_backend %[req.hdr(host),lower]",
        ];
        for r in rules {
            let text = format!("{HEAD}    {r}\n");
            let c = compile_text(&text).unwrap_or_else(|d| panic!("{r}: {d:?}"));
            let f = &c.frontends[0];
            assert!(
                !f.is_empty()
                    || !f.tcp_connection.is_empty()
                    || !f.tcp_session.is_empty()
                    || !f.tcp_content.is_empty()
                    || f.inspect_delay.is_some(),
                "{r}"
            );
        }
    }

    #[test]
    fn use_server_names_a_server_of_its_own_backend() {
        let ok = "defaults\n    mode http\nbackend be\n    use-server s2 if { req.hdr(x-pin) s2 }\n    server s1 127.0.0.1:1\n    server s2 127.0.0.1:2\n";
        let c = compile_text(ok).expect("compiles");
        assert_eq!(c.backends[0].use_server[0].server, 1);
        let listen = "defaults\n    mode http\nlisten web\n    bind 127.0.0.1:1\n    use-server s1 if TRUE\n    server s1 127.0.0.1:2\n";
        let c = compile_text(listen).expect("compiles");
        assert_eq!(c.frontends[0].use_server[0].backend, 0);
        let bad =
            "defaults\n    mode http\nbackend be\n    use-server nope\n    server s1 127.0.0.1:1\n";
        let d = compile_text(bad).expect_err("unknown server");
        assert!(d[0].to_string().contains("t.cfg:4]"), "{}", d[0]);
        assert!(
            d[0].to_string().contains("unable to find server 'nope'"),
            "{}",
            d[0]
        );
    }

    #[test]
    fn a_check_regex_that_does_not_compile_is_refused_at_load() {
        let text = "defaults\n    mode http\nbackend be\n    option httpchk\n    http-check expect rstring (\n    server s 127.0.0.1:1 check\n";
        let d = compile_text(text).expect_err("bad regex");
        assert!(d[0].to_string().contains("does not compile"), "{}", d[0]);
    }

    #[test]
    fn unsupported_and_wrong_rules_name_file_and_line() {
        for (rule, needle) in [
            (
                "http-request capture req.hdr(host) len 10",
                "not supported by Sluice yet",
            ),
            ("http-request frob", "but got 'frob'"),
            ("tcp-request content set-var(txn.x) src", "not supported by Sluice yet"),
            ("tcp-request frob accept", "expects 'inspect-delay'"),
            ("tcp-request inspect-delay 5x", "unexpected character"),
            ("http-after-response deny", "not supported by Sluice yet"),
            ("http-request set-var(nope.x) src", "invalid variable name"),
            ("http-request replace-path ( /x", "does not compile"),
            (
                "use_backend missing",
                "unable to find required use_backend: 'missing'",
            ),
            (
                "acl a nosuchfetch x",
                "error detected while parsing ACL 'a'",
            ),
        ] {
            let text = format!("{HEAD}    {rule}\n");
            let d = compile_text(&text).expect_err(rule);
            let msg = d[0].to_string();
            assert!(msg.contains("t.cfg:11]"), "{rule}: {msg}");
            assert!(msg.contains(needle), "{rule}: {msg}");
        }
    }
}
