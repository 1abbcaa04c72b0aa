//! ACL definitions (manual section 7.1 "ACL basics", 7.1.1-7.1.6 and 7.4
//! "Pre-defined ACLs"): `fetch [flags] [operator] [patterns]`.

use std::sync::Arc;

use crate::cond::Tri;
use crate::error::{err, Context, ExprError};
use crate::expr::Expr;
use crate::fetch::Env;
use crate::pattern::{inline_cell, IndexCell, IndexSpec, MatchKind, OutKind};
use crate::sample::{Sample, SmpType};
use crate::txn::Txn;
use crate::userlist::Userlist;

/// One ACL line: an expression matched against patterns.
#[derive(Debug)]
pub struct AclExpr {
    expr: Expr,
    kind: MatchKind,
    sets: Vec<Arc<IndexCell>>,
    groups: Option<(Arc<Userlist>, Vec<Vec<u8>>)>,
}

impl AclExpr {
    /// Whether any value of the expression matches.
    pub fn eval(&self, txn: &dyn Txn) -> bool {
        match self.kind {
            MatchKind::Found => self.expr.for_each(txn, &mut |_| true),
            MatchKind::Bool => self.expr.for_each(txn, &mut |s| s.to_bool() == Some(true)),
            _ => {
                if let Some((ul, groups)) = &self.groups {
                    return self.expr.for_each(txn, &mut |s| {
                        let user = s.to_str();
                        groups.iter().any(|g| ul.in_group(&user, g))
                    });
                }
                self.expr.for_each(txn, &mut |s| {
                    self.sets.iter().any(|c| c.load().lookup(&s).is_some())
                })
            }
        }
    }

    /// Three-valued evaluation: a miss is [`Tri::Miss`] when request bytes still to come could
    /// change the answer (HAProxy's `ACL_TEST_MISS`).
    pub(crate) fn eval_partial(&self, txn: &dyn Txn) -> Tri {
        if self.eval(txn) {
            Tri::Pass
        } else if self.expr.fetch.payload_bound()
            && !txn.payload_final()
            && self.expr.fetch.may_change(txn)
        {
            Tri::Miss
        } else {
            Tri::Fail
        }
    }

    /// The fetch keyword, for messages.
    pub fn keyword(&self) -> &str {
        self.expr.fetch_name()
    }

    /// The match method in use.
    pub fn match_kind(&self) -> MatchKind {
        self.kind
    }
}

/// A named ACL: the lines sharing a name, OR'ed.
#[derive(Debug)]
pub struct Acl {
    /// Name (`anonymous` for `{ }` conditions).
    pub name: String,
    pub(crate) exprs: Vec<Arc<AclExpr>>,
}

impl Acl {
    /// Whether any line matches.
    pub fn eval(&self, txn: &dyn Txn) -> bool {
        self.exprs.iter().any(|e| e.eval(txn))
    }

    /// Three-valued evaluation: pass when a line passes, else miss when a line may still
    /// pass with more request bytes, else fail.
    pub(crate) fn eval_partial(&self, txn: &dyn Txn) -> Tri {
        let mut res = Tri::Fail;
        for e in &self.exprs {
            match e.eval_partial(txn) {
                Tri::Pass => return Tri::Pass,
                Tri::Miss => res = Tri::Miss,
                Tri::Fail => {}
            }
        }
        res
    }

    /// Whether at least one line is usable in `ctx`.
    pub fn usable_in(&self, ctx: Context) -> bool {
        self.exprs.iter().any(|e| e.expr.usable_in(ctx))
    }

    /// First keyword not usable in `ctx`.
    pub(crate) fn unusable_keyword(&self, ctx: Context) -> Option<&str> {
        self.exprs
            .iter()
            .find(|e| !e.expr.usable_in(ctx))
            .map(|e| e.keyword())
    }
}

/// HAProxy's ACL keywords that are a fetch plus a match method.
fn alias(kw: &str) -> Option<(&'static str, MatchKind)> {
    let (base, suffix) = kw.rsplit_once('_')?;
    let fetch = match base {
        "path" => "path",
        "url" => "url",
        "base" => "base",
        "hdr" => "hdr",
        "shdr" => "res.hdr",
        "cook" => "req.cook",
        "urlp" => "url_param",
        "ssl_fc_sni" if matches!(suffix, "end" | "reg") => "ssl_fc_sni",
        _ => return None,
    };
    let kind = match suffix {
        "beg" => MatchKind::Beg,
        "dir" => MatchKind::Dir,
        "dom" => MatchKind::Dom,
        "end" => MatchKind::End,
        "len" => MatchKind::Len,
        "reg" => MatchKind::Reg,
        "sub" => MatchKind::Sub,
        "ip" if matches!(base, "hdr" | "shdr" | "urlp") => MatchKind::Ip,
        "val" if matches!(base, "hdr" | "shdr" | "cook" | "urlp") => MatchKind::Int,
        _ => return None,
    };
    Some((fetch, kind))
}

/// Whether `name` is a valid ACL name (HAProxy's `invalid_char`).
pub(crate) fn check_name(name: &str) -> Result<(), ExprError> {
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
    {
        return err(format!(
            "character '{c}' is not permitted in acl name '{name}'"
        ));
    }
    Ok(())
}

/// Parse one ACL expression from its words.
pub(crate) fn parse_expr(words: &[&str], env: &Env<'_>) -> Result<AclExpr, ExprError> {
    let Some(&first) = words.first() else {
        return err("missing fetch method in ACL expression ''");
    };
    let head_len = first.find(['(', ',']).unwrap_or(first.len());
    let (text, forced) = match alias(&first[..head_len]) {
        Some((f, k)) => (format!("{f}{}", &first[head_len..]), Some(k)),
        None => (first.to_string(), None),
    };
    let expr = Expr::compile(&text, env, true).map_err(|e| {
        if forced.is_some() {
            ExprError {
                msg: e.msg.replace(&format!("'{text}'"), &format!("'{first}'")),
                hint: e.hint,
            }
        } else {
            e
        }
    })?;

    let mut icase = false;
    let mut kind = forced;
    let mut files: Vec<&str> = Vec::new();
    let mut as_map = false;
    let mut i = 1;
    while i < words.len() {
        let w = words[i];
        if !w.starts_with('-') {
            break;
        }
        match w {
            "-i" => icase = true,
            "-n" => {}
            "-M" => as_map = true,
            "-f" | "-m" | "-u" => {
                let Some(v) = words.get(i + 1) else {
                    return err(format!("'{w}' expects an argument"));
                };
                if w == "-f" {
                    files.push(v);
                } else if w == "-m" {
                    kind = Some(MatchKind::parse(v).ok_or_else(|| {
                        ExprError::new(format!("unknown matching method '{v}' when parsing ACL expression"))
                            .with_hint("valid methods are found, bool, int, ip, bin, len, str, sub, reg, beg, end, dir, dom")
                    })?);
                }
                i += 1;
            }
            "--" => {
                i += 1;
                break;
            }
            _ => {
                return err(format!("'{w}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"));
            }
        }
        i += 1;
    }
    let dotted: Vec<String>;
    let dotted_refs: Vec<&str>;
    let pats: &[&str] = if kind.is_none() && expr.convs.is_empty() && expr.fetch.dotted_version() {
        dotted = dotted_patterns(&words[i..])?;
        dotted_refs = dotted.iter().map(String::as_str).collect();
        &dotted_refs
    } else {
        &words[i..]
    };

    if kind.is_none() {
        if let Some(ul) = expr.fetch.http_auth_group().cloned() {
            let groups = pats.iter().map(|p| p.as_bytes().to_vec()).collect();
            return Ok(AclExpr {
                expr,
                kind: MatchKind::Str,
                sets: Vec::new(),
                groups: Some((ul, groups)),
            });
        }
    }
    let kind = kind.unwrap_or(match expr.out_type() {
        SmpType::Bool => MatchKind::Bool,
        SmpType::Int => MatchKind::Int,
        SmpType::Ip => MatchKind::Ip,
        SmpType::Bin => MatchKind::Bin,
        SmpType::Str => MatchKind::Str,
    });
    let spec = IndexSpec {
        kind,
        icase,
        out: OutKind::None,
    };
    let mut sets = Vec::new();
    if !matches!(kind, MatchKind::Found | MatchKind::Bool) {
        let inline = parse_patterns(kind, pats)?;
        if !inline.is_empty() {
            sets.push(inline_cell(spec, &inline)?);
        }
        for f in files {
            let r = env.registry.load(f, as_map)?;
            sets.push(r.cell(spec)?);
        }
    }
    Ok(AclExpr {
        expr,
        kind,
        sets,
        groups: None,
    })
}

/// `req.ssl_ver` patterns (HAProxy's `pat_parse_dotted_ver`): `MAJOR[.MINOR]` values and
/// ranges of them, rewritten as `MAJOR * 65536 + MINOR`; operators are kept.
fn dotted_patterns(pats: &[&str]) -> Result<Vec<String>, ExprError> {
    fn one(s: &str, whole: &str) -> Result<String, ExprError> {
        if s.is_empty() {
            return Ok(String::new());
        }
        let (maj, min) = s.split_once('.').unwrap_or((s, "0"));
        let part = |p: &str| {
            (!p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
                .then(|| p.parse::<i64>().ok())
                .flatten()
                .filter(|v| *v < 65536)
        };
        match (part(maj), part(min)) {
            (Some(a), Some(b)) => Ok(((a << 16) | b).to_string()),
            _ => err(format!("'{whole}' is not a dotted number")),
        }
    }
    pats.iter()
        .map(|&p| {
            if matches!(p, "eq" | "ge" | "gt" | "le" | "lt") {
                return Ok(p.to_string());
            }
            match p.split_once(':') {
                Some((a, b)) => Ok(format!("{}:{}", one(a, p)?, one(b, p)?)),
                None => one(p, p),
            }
        })
        .collect()
}

/// Parse inline patterns, applying integer operators (`eq ge gt le lt`).
fn parse_patterns(
    kind: MatchKind,
    pats: &[&str],
) -> Result<Vec<(String, Option<String>)>, ExprError> {
    let mut out = Vec::with_capacity(pats.len());
    if !kind.is_int() {
        for p in pats {
            if kind == MatchKind::Ip {
                crate::pattern::ip::parse_net(p)?;
            }
            out.push((p.to_string(), None));
        }
        return Ok(out);
    }
    let mut op = "eq";
    for &p in pats {
        if matches!(p, "eq" | "ge" | "gt" | "le" | "lt") {
            op = p;
            continue;
        }
        if op == "eq" || p.contains(':') {
            crate::pattern::parse_range(p)?;
            out.push((p.to_string(), None));
            continue;
        }
        let v = crate::sample::parse_int_full(p).ok_or_else(|| {
            ExprError::new(format!(
                "'{p}' is neither a number nor a supported operator"
            ))
        })?;
        let range = match op {
            "gt" => format!("{}:", v.saturating_add(1)),
            "ge" => format!("{v}:"),
            "lt" => format!(":{}", v.saturating_sub(1)),
            _ => format!(":{v}"),
        };
        out.push((range, None));
    }
    Ok(out)
}

/// The predefined ACLs (section 7.4), as ACL words.
pub(crate) fn predefined(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "FALSE" => &["always_false"],
        "TRUE" => &["always_true"],
        "HTTP" => &["req.proto_http"],
        "HTTP_1.0" => &["req.ver", "1.0"],
        "HTTP_1.1" => &["req.ver", "1.1"],
        "HTTP_2.0" => &["req.ver", "2.0"],
        "HTTP_CONTENT" => &["hdr_val(content-length)", "gt", "0"],
        "HTTP_URL_ABS" => &["url_reg", "^[^/:]*://"],
        "HTTP_URL_SLASH" => &["url_beg", "/"],
        "HTTP_URL_STAR" => &["url", "*"],
        "LOCALHOST" => &["src", "127.0.0.1/8", "::1"],
        "METH_CONNECT" => &["method", "CONNECT"],
        "METH_DELETE" => &["method", "DELETE"],
        "METH_GET" => &["method", "GET", "HEAD"],
        "METH_HEAD" => &["method", "HEAD"],
        "METH_OPTIONS" => &["method", "OPTIONS"],
        "METH_POST" => &["method", "POST"],
        "METH_PUT" => &["method", "PUT"],
        "METH_TRACE" => &["method", "TRACE"],
        "RDP_COOKIE" => &["req.rdp_cookie_cnt", "gt", "0"],
        "REQ_CONTENT" => &["req.len", "gt", "0"],
        "WAIT_END" => &["wait_end"],
        _ => return None,
    })
}

/// Evaluate one sample against an expression's sets (for tests/tools).
pub fn matches_sample(e: &AclExpr, s: &Sample<'_>) -> bool {
    e.sets.iter().any(|c| c.load().lookup(s).is_some())
}
