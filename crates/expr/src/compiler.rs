//! The compiler of one proxy's rules (manual section 7: ACLs are declared
//! per proxy, pattern files and userlists are shared by the configuration).

use std::collections::HashMap;
use std::sync::Arc;

use crate::acl::{self, Acl};
use crate::cond::{Cond, Polarity, Term};
use crate::error::{err, Context, ExprError};
use crate::expr::Expr;
use crate::fetch::Env;
use crate::logformat::LogFormat;
use crate::pattern::PatternRegistry;
use crate::userlist::Userlist;

/// Holds a proxy's ACLs, the shared pattern registry and the userlists.
#[derive(Debug, Default)]
pub struct Compiler {
    acls: HashMap<String, Arc<Acl>>,
    registry: Arc<PatternRegistry>,
    userlists: HashMap<String, Arc<Userlist>>,
}

impl Compiler {
    /// A compiler with its own registry (relative files from the current directory).
    pub fn new() -> Self {
        Self::default()
    }

    /// A compiler sharing `registry` (use one per configuration so every
    /// proxy naming a file shares its store).
    pub fn with_registry(registry: Arc<PatternRegistry>) -> Self {
        Compiler {
            registry,
            ..Self::default()
        }
    }

    /// The pattern registry (run-time updates of ACL files and maps).
    pub fn registry(&self) -> &Arc<PatternRegistry> {
        &self.registry
    }

    /// Declare a userlist.
    pub fn add_userlist(&mut self, ul: Userlist) -> Arc<Userlist> {
        let ul = Arc::new(ul);
        self.userlists.insert(ul.name.clone(), ul.clone());
        ul
    }

    /// A declared userlist.
    pub fn userlist(&self, name: &str) -> Option<Arc<Userlist>> {
        self.userlists.get(name).cloned()
    }

    /// Forget the ACLs (start of a new proxy section), keeping files and userlists.
    pub fn clear_acls(&mut self) {
        self.acls.clear();
    }

    /// An ACL defined so far.
    pub fn acl(&self, name: &str) -> Option<Arc<Acl>> {
        self.acls.get(name).cloned()
    }

    fn env(&self) -> Env<'_> {
        Env {
            userlists: &self.userlists,
            registry: &self.registry,
        }
    }

    /// `acl <name> <words...>`: lines with the same name are OR'ed.
    pub fn compile_acl(&mut self, name: &str, words: &[&str]) -> Result<(), ExprError> {
        acl::check_name(name)?;
        let e = Arc::new(acl::parse_expr(words, &self.env())?);
        let mut exprs = self
            .acls
            .get(name)
            .map(|a| a.exprs.clone())
            .unwrap_or_default();
        exprs.push(e);
        self.acls.insert(
            name.to_string(),
            Arc::new(Acl {
                name: name.to_string(),
                exprs,
            }),
        );
        Ok(())
    }

    fn named(&self, word: &str) -> Result<Arc<Acl>, ExprError> {
        if let Some(a) = self.acls.get(word) {
            return Ok(a.clone());
        }
        match acl::predefined(word) {
            Some(words) => {
                let e = acl::parse_expr(words, &self.env())?;
                Ok(Arc::new(Acl {
                    name: word.to_string(),
                    exprs: vec![Arc::new(e)],
                }))
            }
            None => {
                let mut known: Vec<&str> = self.acls.keys().map(String::as_str).collect();
                known.sort_unstable();
                let e = ExprError::new(format!("no such ACL : '{word}'"));
                Err(match known.iter().find(|k| k.eq_ignore_ascii_case(word)) {
                    Some(k) => e.with_hint(format!("did you mean '{k}'?")),
                    None if known.is_empty() => {
                        e.with_hint("declare it with an 'acl' line before using it")
                    }
                    None => e.with_hint(format!("known ACLs: {}", known.join(", "))),
                })
            }
        }
    }

    /// Compile `if|unless <condition>` (the first word must be `if` or `unless`).
    pub fn compile_cond(&self, words: &[&str], ctx: Context) -> Result<Cond, ExprError> {
        let (pol, words) = match words.split_first() {
            Some((&"if", rest)) => (Polarity::If, rest),
            Some((&"unless", rest)) => (Polarity::Unless, rest),
            Some((w, _)) => {
                return err(format!(
                    "expects 'if' or 'unless' followed by a condition but found '{w}'"
                ))
            }
            None => return err("expects 'if' or 'unless' followed by a condition"),
        };
        let mut suites: Vec<Vec<Term>> = Vec::new();
        let mut cur: Option<Vec<Term>> = None;
        let mut neg = false;
        let mut i = 0;
        while i < words.len() {
            let mut w = words[i];
            while let Some(r) = w.strip_prefix('!') {
                neg = !neg;
                w = r;
            }
            if w.is_empty() {
                i += 1;
                continue;
            }
            if w == "||" || w.eq_ignore_ascii_case("or") {
                if let Some(s) = cur.take() {
                    suites.push(s);
                }
                neg = false;
                i += 1;
                continue;
            }
            let acl = if w == "{" {
                let Some(end) = words[i + 1..]
                    .iter()
                    .position(|x| *x == "}")
                    .map(|p| p + i + 1)
                else {
                    return err("missing closing '}' in condition");
                };
                let e = acl::parse_expr(&words[i + 1..end], &self.env())?;
                let a = Arc::new(Acl {
                    name: "anonymous".to_string(),
                    exprs: vec![Arc::new(e)],
                });
                if !a.usable_in(ctx) {
                    return err(format!(
                        "anonymous acl will never match because it uses keyword '{}' which is incompatible with '{}'",
                        a.unusable_keyword(ctx).unwrap_or(""),
                        ctx.rule_name()
                    ));
                }
                i = end;
                a
            } else {
                let a = self.named(w)?;
                if !a.usable_in(ctx) {
                    return err(format!(
                        "acl '{w}' will never match because it only involves keywords that are incompatible with '{}'",
                        ctx.rule_name()
                    ));
                }
                a
            };
            cur.get_or_insert_with(Vec::new).push(Term { acl, neg });
            neg = false;
            i += 1;
        }
        if let Some(s) = cur {
            suites.push(s);
        }
        Ok(Cond { pol, suites })
    }

    /// Compile a sample expression (`fetch,conv(...)`) usable in `ctx`.
    pub fn compile_expr(&self, text: &str, ctx: Context) -> Result<Expr, ExprError> {
        let e = Expr::compile(text, &self.env(), false)?;
        e.check_context(ctx)?;
        Ok(e)
    }

    /// Compile a `log-format` string (evaluated at log time).
    pub fn compile_log_format(&self, text: &str) -> Result<LogFormat, ExprError> {
        self.compile_log_format_in(text, Context::Log)
    }

    /// Compile a log-format string used as a rule argument in `ctx`
    /// (e.g. `http-request set-header X %[src]`, `use_backend %[...]`).
    pub fn compile_log_format_in(&self, text: &str, ctx: Context) -> Result<LogFormat, ExprError> {
        let env = self.env();
        LogFormat::parse(text, &|t| {
            let e = Expr::compile(t, &env, false)?;
            if !e.usable_in(ctx) {
                return Err(ExprError::new(format!(
                    "sample fetch <{t}> may not be reliably used here because it needs '{}' which is not available here",
                    crate::error::src::names(e.fetch.uses)
                )));
            }
            Ok(e)
        })
        .map(|mut f| {
            f.mandatory = ctx == Context::Log;
            f
        })
        .map_err(|e| {
            if e.msg.starts_with("failed to parse sample expression <") && e.msg.contains("may not be reliably used") {
                ExprError { msg: e.msg.split_once(" : ").map(|x| x.1.to_string()).unwrap_or(e.msg), hint: e.hint }
            } else {
                e
            }
        })
    }
}
