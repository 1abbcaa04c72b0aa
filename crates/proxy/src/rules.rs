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
    /// `capture <sample> len <n> | id <n>`: the sample, as text, into the frontend's request
    /// capture slot `slot` (ignored at run time when the frontend has no such slot).
    Capture {
        expr: Expr,
        slot: usize,
    },
    /// `set-log-level <level>|silent`.
    SetLogLevel(LogLevel),
    /// `normalize-uri <normalizer>`.
    NormalizeUri(Normalizer),
    /// `wait-for-body time <t> [at-least <bytes>]`: wait (at most `time`) for the body, or
    /// its first `at_least` bytes (0: all of it), before the next rules.
    WaitForBody {
        time: std::time::Duration,
        at_least: u64,
    },
}

/// `set-log-level`: a syslog level (0 emerg .. 7 debug), or `silent` (no log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Silent,
    Level(u8),
}

/// Syslog level names as HAProxy spells them, by number.
const LOG_LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// `http-request normalize-uri` normalizers of HAProxy 2.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalizer {
    PathMergeSlashes,
    PathStripDot,
    PathStripDotdot { full: bool },
    PercentDecodeUnreserved { strict: bool },
    PercentToUppercase { strict: bool },
    QuerySortByName,
    FragmentStrip,
    FragmentEncode,
}

/// A `tcp-request connection|session|content` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpConnAction {
    Accept,
    Reject,
}

/// An `http-response` (or `http-after-response`) action.
#[derive(Debug)]
pub enum ResAction {
    Allow,
    Deny {
        status: u16,
    },
    SetHeader(String, LogFormat),
    AddHeader(String, LogFormat),
    DelHeader(String),
    SetVar(VarScope, String, Expr),
    UnsetVar(VarScope, String),
    /// `capture <sample> id <n>`: into the frontend's response capture slot `slot`.
    Capture {
        expr: Expr,
        slot: usize,
    },
    /// `set-log-level` (`http-response` only).
    SetLogLevel(LogLevel),
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

/// Rules are shared: those of a named `defaults` section are compiled once and run, first,
/// for every proxy created from it.
pub type Rules<A> = Vec<Arc<Rule<A>>>;

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
    pub tcp_connection: Rules<TcpConnAction>,
    /// `tcp-request session`: after the TLS handshake, before any byte is read.
    pub tcp_session: Rules<TcpConnAction>,
    /// `tcp-request content`: on the first bytes, waiting up to `inspect_delay` for the
    /// conditions to be decided.
    pub tcp_content: Rules<TcpConnAction>,
    /// `tcp-request inspect-delay`.
    pub inspect_delay: Option<std::time::Duration>,
    pub http_request: Rules<ReqAction>,
    pub http_response: Rules<ResAction>,
    /// `http-after-response`: also applies to responses Sluice makes itself.
    pub http_after_response: Rules<ResAction>,
    pub use_backend: Vec<UseBackend>,
    pub use_server: Vec<UseServer>,
    /// `option http-buffer-request`: wait for the request body before the rules.
    pub buffer_request: bool,
    /// `capture cookie NAME len N` (frontends): the name prefix and the length.
    pub capture_cookie: Option<(Vec<u8>, usize)>,
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
fn first_verdict(rules: &[Arc<Rule<TcpConnAction>>], txn: &dyn sluice_expr::Txn) -> bool {
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
    /// Warnings for `-c` and the start-up output (the rules load all the same).
    pub warnings: Vec<Diagnostic>,
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
    /// How HAProxy names the section in messages: `frontend`, `backend`, `proxy` (a
    /// listen) or `defaults`.
    proxy_type: &'static str,
    /// Whether the section can declare capture slots (frontends, listens, defaults).
    fe_capable: bool,
    /// A frontend's (or listen's) number of request and response capture slots, for the
    /// `capture ... id N` checks HAProxy makes after parsing.
    slots: Option<(usize, usize)>,
}

impl Ctx<'_> {
    fn alert(&mut self, loc: &Location, msg: String) {
        self.diags.push(Diagnostic::alert(loc, msg));
    }

    /// HAProxy's wording for an action's argument errors: "error detected in frontend 'f'
    /// while parsing 'http-request capture' rule : length must be > 0."
    fn rule_error(&mut self, line: &RuleLine, action: &str, msg: &str) {
        let text = format!(
            "error detected in {} '{}' while parsing '{} {action}' rule : {msg}.",
            self.proxy_type, self.proxy, line.keyword
        );
        self.alert(&line.location, text);
    }

    /// Arguments left after an action's own: HAProxy expects the condition there.
    fn extra_args(&mut self, line: &RuleLine, action: &str, extra: &[String]) -> Option<()> {
        match extra.first() {
            None => Some(()),
            Some(w) => {
                let msg = format!(
                    "'{} {action}' expects either 'if' or 'unless' followed by a condition but found '{w}'.",
                    line.keyword
                );
                self.diags.push(
                    Diagnostic::alert(&line.location, msg)
                        .with_style(sluice_config::Style::ParsingTight),
                );
                None
            }
        }
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
        "capture" => {
            let (expr, slot) = req_capture(c, line, args)?;
            ReqAction::Capture { expr, slot }
        }
        "set-log-level" => ReqAction::SetLogLevel(log_level(c, line, args)?),
        "normalize-uri" => {
            ReqAction::NormalizeUri(normalizer(c, line, args, cond_words.is_some())?)
        }
        "wait-for-body" => wait_for_body(c, line, args)?,
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

/// `http-request capture <sample> len <n> | id <n>`, checked as HAProxy's
/// `parse_http_req_capture` and `check_http_req_capture` do.
fn req_capture(c: &mut Ctx<'_>, line: &RuleLine, args: &[String]) -> Option<(Expr, usize)> {
    if args.len() < 3 {
        c.rule_error(
            line,
            "capture",
            "expects <expression> [ 'len' <length> | id <idx> ]",
        );
        return None;
    }
    let expr = match c.compiler.compile_expr(&args[0], Context::HttpRequest) {
        Ok(e) => e,
        Err(e) => {
            c.rule_error(line, "capture", &e.to_string());
            return None;
        }
    };
    let slot = match args[1].as_str() {
        "len" => {
            if !c.fe_capable {
                let msg = format!("proxy '{}' has no frontend capability", c.proxy);
                c.rule_error(line, "capture", &msg);
                return None;
            }
            // The slot was declared while parsing, in line order with the other captures.
            let Some(slot) = line.capture_slot else {
                c.rule_error(line, "capture", "length must be > 0");
                return None;
            };
            slot
        }
        "id" => capture_id(c, line, "capture", &args[2], true)?,
        other => {
            let msg = format!("expects 'len' or 'id', found '{other}'");
            c.rule_error(line, "capture", &msg);
            return None;
        }
    };
    c.extra_args(line, "capture", &args[3..])?;
    Some((expr, slot))
}

/// `capture ... id N`: the slot number; in a frontend it must be declared (HAProxy checks
/// after parsing, naming the proxy). A backend's rule uses the slots of whichever frontend
/// the request came through, and does nothing where there is no such slot.
fn capture_id(
    c: &mut Ctx<'_>,
    line: &RuleLine,
    action: &str,
    word: &str,
    request: bool,
) -> Option<usize> {
    let Ok(id) = word.parse::<i64>() else {
        let msg = format!("cannot parse id '{word}'");
        c.rule_error(line, action, &msg);
        return None;
    };
    // A negative id names no slot: HAProxy accepts it and the rule never captures.
    let Ok(slot) = usize::try_from(id) else {
        return Some(usize::MAX);
    };
    if let Some((req, res)) = c.slots {
        let n = if request { req } else { res };
        if slot >= n {
            let which = if request { "request" } else { "response" };
            c.diags.push(Diagnostic::global(
                sluice_config::Severity::Alert,
                format!(
                    "Proxy '{}': unable to find capture id '{slot}' referenced by http-{which} capture rule.",
                    c.proxy
                ),
            ));
            return None;
        }
    }
    Some(slot)
}

/// `set-log-level <level>|silent`.
fn log_level(c: &mut Ctx<'_>, line: &RuleLine, args: &[String]) -> Option<LogLevel> {
    let level = match args {
        [w] if w == "silent" => Some(LogLevel::Silent),
        [w] => LOG_LEVELS
            .iter()
            .position(|l| l == w)
            .map(|n| LogLevel::Level(n as u8)),
        _ => None,
    };
    if level.is_none() {
        c.rule_error(
            line,
            "set-log-level",
            "expects exactly 1 argument (log level name or 'silent')",
        );
    }
    level
}

/// `normalize-uri <normalizer>`, an experimental action in HAProxy 2.6.
///
/// HAProxy 2.6's parser forgets the normalizer of `path-strip-dotdot`,
/// `percent-decode-unreserved` and `percent-to-uppercase` when their optional word is absent
/// and a condition follows: such a rule merges slashes (the first normalizer) instead. That is
/// a bug (later versions fixed it): Sluice applies the normalizer written, and warns that
/// HAProxy 2.6 would not.
fn normalizer(
    c: &mut Ctx<'_>,
    line: &RuleLine,
    args: &[String],
    has_cond: bool,
) -> Option<Normalizer> {
    use Normalizer::*;
    if !c.cfg.global.expose_experimental {
        c.alert(&line.location, "'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'".into());
        return None;
    }
    let Some(name) = args.first() else {
        c.rule_error(line, "normalize-uri", "missing argument <normalizer>");
        return None;
    };
    let opt = args.get(1).map(String::as_str);
    // (normalizer, words used) for those with an optional word.
    let with_opt = |word: &str, make: fn(bool) -> Normalizer| match opt {
        Some(w) if w == word => Ok((make(true), 2)),
        Some(w) => Err(w.to_string()),
        None => Ok((make(false), 1)),
    };
    let parsed = match name.as_str() {
        "path-merge-slashes" => Ok((PathMergeSlashes, 1)),
        "path-strip-dot" => Ok((PathStripDot, 1)),
        "query-sort-by-name" => Ok((QuerySortByName, 1)),
        "fragment-strip" => Ok((FragmentStrip, 1)),
        "fragment-encode" => Ok((FragmentEncode, 1)),
        "path-strip-dotdot" => with_opt("full", |full| PathStripDotdot { full }),
        "percent-decode-unreserved" => {
            with_opt("strict", |strict| PercentDecodeUnreserved { strict })
        }
        "percent-to-uppercase" => with_opt("strict", |strict| PercentToUppercase { strict }),
        other => {
            let msg = format!("unknown normalizer '{other}'");
            c.rule_error(line, "normalize-uri", &msg);
            return None;
        }
    };
    let (n, used) = match parsed {
        Ok(x) => x,
        Err(w) => {
            let msg = format!("unknown argument '{w}' for '{name}' normalizer");
            c.rule_error(line, "normalize-uri", &msg);
            return None;
        }
    };
    c.extra_args(line, "normalize-uri", &args[used..])?;
    let optional_word = matches!(
        name.as_str(),
        "path-strip-dotdot" | "percent-decode-unreserved" | "percent-to-uppercase"
    );
    if has_cond && used == 1 && optional_word {
        c.diags.push(Diagnostic::warning(
            &line.location,
            format!("'http-request normalize-uri {name}' followed by a condition: HAProxy 2.6 merges slashes instead (a parser bug of 2.6), Sluice applies '{name}' as written."),
        ));
    }
    Some(n)
}

/// `wait-for-body time <time> [at-least <bytes>]`.
fn wait_for_body(c: &mut Ctx<'_>, line: &RuleLine, args: &[String]) -> Option<ReqAction> {
    let mut time = None;
    let mut at_least = 0u64;
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).map(String::as_str).unwrap_or("");
        match args[i].as_str() {
            "time" => match sluice_config::units::parse_time(v) {
                Ok(d) => time = Some(d),
                Err(e) => {
                    let msg = sluice_config::units::time_error_message(&e, v, "time");
                    c.rule_error(line, "wait-for-body", &msg);
                    return None;
                }
            },
            "at-least" => match sluice_config::units::parse_size(v) {
                Some(n) => at_least = n,
                None => {
                    let msg = format!("invalid value '{v}' for 'at-least' (expects a size)");
                    c.rule_error(line, "wait-for-body", &msg);
                    return None;
                }
            },
            other => {
                let msg = format!("expects 'time' or 'at-least' but got '{other}'");
                c.rule_error(line, "wait-for-body", &msg);
                return None;
            }
        }
        i += 2;
    }
    let Some(time) = time else {
        c.rule_error(
            line,
            "wait-for-body",
            "expects 'time' <time> [ 'at-least' <bytes> ]",
        );
        return None;
    };
    Some(ReqAction::WaitForBody { time, at_least })
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

/// `http-after-response` actions of HAProxy 2.6 (no `deny`, no `set-log-level`).
const AFTER_RESPONSE_ACTIONS: &str = "'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'";

fn res_action(c: &mut Ctx<'_>, line: &RuleLine) -> Option<Rule<ResAction>> {
    let (act, cond_words) = split_cond(&line.words[1..]);
    let name = act.first().map(String::as_str).unwrap_or("");
    let args = &act[1..];
    let ctx = Context::HttpResponse;
    let after = line.keyword == "http-after-response";
    let in_2_6 = matches!(
        name,
        "add-header"
            | "allow"
            | "capture"
            | "del-header"
            | "replace-header"
            | "replace-value"
            | "set-header"
            | "set-status"
            | "strict-mode"
    ) || ["set-var(", "set-var-fmt(", "unset-var("]
        .iter()
        .any(|p| name.starts_with(p));
    if after && !in_2_6 {
        c.alert(
            &line.location,
            format!("'http-after-response' expects {AFTER_RESPONSE_ACTIONS}, but got '{name}' (HAProxy 2.6 has no such http-after-response action)."),
        );
        return None;
    }
    let action = match name {
        "allow" => ResAction::Allow,
        "capture" => {
            if args.len() < 3 {
                c.rule_error(line, "capture", "expects <expression> id <idx>");
                return None;
            }
            let expr = match c.compiler.compile_expr(&args[0], ctx) {
                Ok(e) => e,
                Err(e) => {
                    c.rule_error(line, "capture", &e.to_string());
                    return None;
                }
            };
            if args[1] != "id" {
                let msg = format!("expects 'id', found '{}'", args[1]);
                c.rule_error(line, "capture", &msg);
                return None;
            }
            let slot = capture_id(c, line, "capture", &args[2], false)?;
            c.extra_args(line, "capture", &args[3..])?;
            ResAction::Capture { expr, slot }
        }
        "set-log-level" => ResAction::SetLogLevel(log_level(c, line, args)?),
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

/// Puts a defaults section's rules before a proxy's own. A TCP proxy takes only its TCP
/// rules: HAProxy never runs the HTTP ones there, and says nothing about them.
fn inherit(own: &mut ProxyRules, d: &ProxyRules, mode_http: bool) {
    fn before<A>(own: &mut Rules<A>, d: &Rules<A>) {
        if !d.is_empty() {
            let mut all = d.clone();
            all.append(own);
            *own = all;
        }
    }
    before(&mut own.tcp_connection, &d.tcp_connection);
    before(&mut own.tcp_session, &d.tcp_session);
    before(&mut own.tcp_content, &d.tcp_content);
    if mode_http {
        before(&mut own.http_request, &d.http_request);
        before(&mut own.http_response, &d.http_response);
        before(&mut own.http_after_response, &d.http_after_response);
    }
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
                Some(TcpRequest::Connection(r)) => out.tcp_connection.push(Arc::new(r)),
                Some(TcpRequest::Session(r)) => out.tcp_session.push(Arc::new(r)),
                Some(TcpRequest::Content(r)) => out.tcp_content.push(Arc::new(r)),
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
                    out.http_request.push(Arc::new(r));
                }
            }
            "redirect" => {
                let (act, cond_words) = split_cond(&line.words[1..]);
                if let Some((r, cond)) = redirect(c, line, act, cond_words) {
                    out.http_request.push(Arc::new(Rule {
                        action: ReqAction::Redirect(r),
                        cond,
                    }));
                }
            }
            "http-response" => {
                if let Some(r) = res_action(c, line) {
                    out.http_response.push(Arc::new(r));
                }
            }
            "http-after-response" => {
                if let Some(r) = res_action(c, line) {
                    out.http_after_response.push(Arc::new(r));
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
    // Named defaults sections' rules, compiled once in their own ACL namespace.
    let defaults: Vec<ProxyRules> = cfg
        .defaults_rules
        .iter()
        .map(|d| {
            let mut c = Ctx {
                compiler: &mut compiler,
                diags: &mut diags,
                cfg,
                proxy: &d.name,
                proxy_type: "defaults",
                fe_capable: true,
                slots: None,
            };
            compile_proxy(&mut c, &d.rules, true, None, false)
        })
        .collect();
    for fe in &cfg.frontends {
        // A listen is one section: its back half has the same name and location.
        let listen = cfg
            .backend_index(&fe.name)
            .is_some_and(|b| cfg.backends[b].location == fe.location);
        let mut c = Ctx {
            compiler: &mut compiler,
            diags: &mut diags,
            cfg,
            proxy: &fe.name,
            proxy_type: if listen { "proxy" } else { "frontend" },
            fe_capable: true,
            slots: Some((fe.capture_request.len(), fe.capture_response.len())),
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
        rules.buffer_request = fe.buffer_request;
        rules.capture_cookie = fe
            .capture_cookie
            .as_ref()
            .map(|(n, l)| (n.as_bytes().to_vec(), *l));
        if let Some(d) = fe.defaults_rules.and_then(|i| defaults.get(i)) {
            inherit(&mut rules, d, fe.mode == sluice_config::Mode::Http);
        }
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
            proxy_type: "backend",
            fe_capable: false,
            slots: None,
        };
        let mut r = compile_proxy(
            &mut c,
            &be.rules,
            be.mode == sluice_config::Mode::Http,
            Some(be_index),
            true,
        );
        r.buffer_request = be.buffer_request;
        if let Some(i) = be.defaults_rules {
            let d = &cfg.defaults_rules[i];
            if let Some(dr) = defaults.get(i) {
                if !dr.tcp_content.is_empty() {
                    diags.push(Diagnostic::alert(
                        &d.location,
                        format!("'tcp-request content' rules of defaults section '{}' would run in backend '{}': 'tcp-request content' in a backend is not supported by Sluice yet (put it in the frontend).", d.name, be.name),
                    ));
                }
                inherit(&mut r, dr, be.mode == sluice_config::Mode::Http);
            }
        }
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
    if diags.iter().any(Diagnostic::is_error) {
        Err(diags)
    } else {
        out.warnings = diags;
        Ok(out)
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
            "http-after-response allow if { status 200 }",
            "http-request capture req.hdr(host) len 10",
            "http-request set-log-level silent if { path /health }",
            "http-request set-log-level err",
            "http-response set-log-level debug",
            "http-request wait-for-body time 1s at-least 1k if METH_POST",
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
                "http-request track-sc0 src",
                "not supported by Sluice yet",
            ),
            ("http-request frob", "but got 'frob'"),
            (
                "tcp-request content set-var(txn.x) src",
                "not supported by Sluice yet",
            ),
            ("tcp-request frob accept", "expects 'inspect-delay'"),
            ("tcp-request inspect-delay 5x", "unexpected character"),
            (
                "http-after-response deny",
                "but got 'deny' (HAProxy 2.6 has no such http-after-response action)",
            ),
            (
                "http-after-response set-log-level silent",
                "but got 'set-log-level'",
            ),
            (
                "http-request capture req.hdr(host)",
                "error detected in frontend 'fe' while parsing 'http-request capture' rule : expects <expression> [ 'len' <length> | id <idx> ].",
            ),
            (
                "http-request capture req.hdr(host) len 0",
                "while parsing 'http-request capture' rule : length must be > 0.",
            ),
            (
                "http-request capture req.hdr(host) size 3",
                "rule : expects 'len' or 'id', found 'size'.",
            ),
            (
                "http-request capture req.hdr(host) id x",
                "rule : cannot parse id 'x'.",
            ),
            (
                "http-response capture res.hdr(a) len 3",
                "'http-response capture' rule : expects 'id', found 'len'.",
            ),
            (
                "http-request set-log-level loud",
                "'http-request set-log-level' rule : expects exactly 1 argument (log level name or 'silent').",
            ),
            (
                "http-request normalize-uri path-merge-slashes",
                "'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'",
            ),
            (
                "http-request wait-for-body at-least 1k",
                "expects 'time' <time> [ 'at-least' <bytes> ]",
            ),
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

    const EXPERIMENTAL: &str = "global\n    expose-experimental-directives\n";

    /// HAProxy 2.6's parser drops the normalizer of the forms with an optional word when a
    /// condition follows (they merge slashes): a bug. Sluice applies what is written and warns.
    #[test]
    fn normalize_uri_forms_and_haproxys_conditional_bug() {
        use Normalizer::*;
        let cases = [
            ("path-strip-dotdot", PathStripDotdot { full: false }),
            ("path-strip-dotdot full", PathStripDotdot { full: true }),
            (
                "path-strip-dotdot full if TRUE",
                PathStripDotdot { full: true },
            ),
            ("path-strip-dotdot if TRUE", PathStripDotdot { full: false }),
            (
                "percent-decode-unreserved unless TRUE",
                PercentDecodeUnreserved { strict: false },
            ),
            (
                "percent-decode-unreserved strict if TRUE",
                PercentDecodeUnreserved { strict: true },
            ),
            ("percent-to-uppercase", PercentToUppercase { strict: false }),
            (
                "percent-to-uppercase if TRUE",
                PercentToUppercase { strict: false },
            ),
            ("query-sort-by-name if TRUE", QuerySortByName),
            ("path-strip-dot", PathStripDot),
            ("fragment-strip", FragmentStrip),
            ("fragment-encode", FragmentEncode),
        ];
        for (words, want) in cases {
            let text = format!("{EXPERIMENTAL}{HEAD}    http-request normalize-uri {words}\n");
            let loaded = sluice_config::load_str("t.cfg", &text, &|_| None).expect("loads");
            let c = compile(&loaded.config).unwrap_or_else(|d| panic!("{words}: {d:?}"));
            let bug = (words.contains(" if ") || words.contains(" unless "))
                && words.split(' ').count() == 3
                && !words.starts_with("query-sort");
            assert_eq!(
                c.warnings.len(),
                usize::from(bug),
                "{words}: {:?}",
                c.warnings
            );
            match &c.frontends[0].http_request[0].action {
                ReqAction::NormalizeUri(n) => assert_eq!(*n, want, "{words}"),
                other => panic!("{words}: {other:?}"),
            }
        }
        for (words, needle) in [
            ("frob", "unknown normalizer 'frob'"),
            ("", "missing argument <normalizer>"),
            (
                "path-strip-dotdot x",
                "unknown argument 'x' for 'path-strip-dotdot' normalizer",
            ),
            (
                "path-merge-slashes x",
                "expects either 'if' or 'unless' followed by a condition but found 'x'",
            ),
        ] {
            let text = format!("{EXPERIMENTAL}{HEAD}    http-request normalize-uri {words}\n");
            let d = compile_text(&text).expect_err(words);
            assert!(d[0].to_string().contains(needle), "{words}: {}", d[0]);
        }
    }

    #[test]
    fn capture_ids_must_name_a_declared_slot_in_frontends() {
        let text = format!(
            "{HEAD}    declare capture request len 4\n    http-request capture req.hdr(a) id 1\n"
        );
        let d = compile_text(&text).expect_err("no slot 1");
        assert_eq!(
            d[0].to_string(),
            "Proxy 'fe': unable to find capture id '1' referenced by http-request capture rule."
        );
        let text = format!("{HEAD}    declare capture request len 4\n    http-request capture req.hdr(a) id 0\n    capture response header x len 3\n    http-response capture res.hdr(b) id 0\n");
        let c = compile_text(&text).expect("slots exist");
        assert!(matches!(
            c.frontends[0].http_request[0].action,
            ReqAction::Capture { slot: 0, .. }
        ));
        // A backend's rule uses the slots of the frontend the request came through.
        let text = "defaults\n    mode http\nbackend be\n    http-request capture req.hdr(a) id 7\n    http-response capture res.hdr(a) id 3\n    server s 127.0.0.1:1\n";
        compile_text(text).expect("backends are not checked");
        let text = "defaults\n    mode http\nbackend be\n    http-request capture req.hdr(a) len 7\n    server s 127.0.0.1:1\n";
        let d = compile_text(text).expect_err("len in a backend");
        assert!(
            d[0].to_string()
                .contains("error detected in backend 'be' while parsing 'http-request capture' rule : proxy 'be' has no frontend capability."),
            "{}",
            d[0]
        );
    }

    /// A named defaults section's rules are compiled once and run first in each proxy made
    /// from it; its ACLs are its own; a TCP proxy takes only its TCP rules.
    #[test]
    fn defaults_rules_run_before_the_proxys_own() {
        let text = "defaults web\n    mode http\n    acl blocked src 10.0.0.0/8\n    http-request deny if blocked\n    http-response set-header x-d 1\n    tcp-request connection reject if { src 10.1.0.0/16 }\nfrontend fe from web\n    bind 127.0.0.1:1\n    http-request set-header x-own 1\n    default_backend be\nfrontend tcpfe from web\n    mode tcp\n    bind 127.0.0.1:2\n    default_backend tbe\ndefaults\n    mode http\nbackend be\n    server s 127.0.0.1:3\nbackend tbe\n    mode tcp\n    server s 127.0.0.1:4\n";
        let c = compile_text(text).unwrap_or_else(|d| panic!("{d:?}"));
        let fe = &c.frontends[0];
        assert_eq!(fe.http_request.len(), 2);
        assert!(matches!(fe.http_request[0].action, ReqAction::Deny { .. }));
        assert!(matches!(
            fe.http_request[1].action,
            ReqAction::SetHeader(..)
        ));
        assert_eq!(fe.http_response.len(), 1);
        assert_eq!(fe.tcp_connection.len(), 1);
        let tcp = &c.frontends[1];
        assert!(tcp.http_request.is_empty() && tcp.http_response.is_empty());
        assert_eq!(tcp.tcp_connection.len(), 1);
        // Shared, not compiled twice.
        assert!(Arc::ptr_eq(&fe.tcp_connection[0], &tcp.tcp_connection[0]));
        // The defaults' ACL is not the proxy's.
        let text = "defaults web\n    mode http\n    acl blocked src 10.0.0.0/8\n    http-request deny if blocked\nfrontend fe from web\n    bind 127.0.0.1:1\n    http-request deny if blocked\n    default_backend be\ndefaults\n    mode http\nbackend be\n    server s 127.0.0.1:3\n";
        let d = compile_text(text).expect_err("ACL of the defaults");
        assert!(d[0].to_string().contains("t.cfg:7]"), "{}", d[0]);
    }
}
