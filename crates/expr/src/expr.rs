//! Sample expressions: a fetch followed by converters (manual section 7.3
//! "Fetching samples" and 7.3.1), as used in `%[...]` and rule arguments.

use crate::args::split_chain;
use crate::conv::{self, Conv};
use crate::error::{err, src, Context, ExprError};
use crate::fetch::{self, Env, Fetch};
use crate::sample::{Sample, SmpType};
use crate::txn::Txn;

/// A compiled sample expression.
#[derive(Debug)]
pub struct Expr {
    pub(crate) fetch: Fetch,
    pub(crate) convs: Vec<Conv>,
    text: String,
}

impl Expr {
    /// Compile `text`; `acl` selects HAProxy's ACL wording of errors.
    pub(crate) fn compile(text: &str, env: &Env<'_>, acl: bool) -> Result<Expr, ExprError> {
        let fetch_name = text.split(['(', ',']).next().unwrap_or("");
        let in_acl = |e: ExprError| {
            if acl && !e.msg.starts_with("unable to find userlist") {
                ExprError {
                    msg: format!("{} in ACL expression '{text}'", e.msg),
                    hint: e.hint,
                }
            } else {
                e
            }
        };
        let calls = split_chain(text).map_err(|e| {
            if acl {
                e.prefix(&format!("ACL keyword '{fetch_name}' : "))
            } else {
                e
            }
        })?;
        let Some((first, rest)) = calls.split_first() else {
            return err("missing fetch method");
        };
        if first.name.is_empty() {
            return Err(in_acl(ExprError::new("missing fetch method")));
        }
        if !fetch::exists(first.name) {
            let e = ExprError::new(format!("unknown fetch method '{}'", first.name));
            let e = match conv::exists(first.name) {
                true => e.with_hint(format!(
                    "'{}' is a converter: write it after a fetch, as 'fetch,{}'",
                    first.name, first.name
                )),
                false => e,
            };
            return Err(in_acl(e));
        }
        let fetch = Fetch::compile(first, env).map_err(in_acl)?;
        let mut convs = Vec::with_capacity(rest.len());
        for c in rest {
            let cv = Conv::compile(c, env).map_err(|e| {
                if acl {
                    e.prefix(&format!("ACL keyword '{fetch_name}' : "))
                } else {
                    e
                }
            })?;
            convs.push(cv);
        }
        Ok(Expr {
            fetch,
            convs,
            text: text.to_string(),
        })
    }

    /// Check the fetch is usable in `ctx`, in HAProxy's words.
    pub(crate) fn check_context(&self, ctx: Context) -> Result<(), ExprError> {
        if self.fetch.uses & ctx.available() == 0 {
            return err(format!(
                "fetch method '{}' extracts information from '{}', none of which is available here",
                self.fetch.name,
                src::names(self.fetch.uses)
            ));
        }
        Ok(())
    }

    /// Whether the fetch is usable in `ctx`.
    pub fn usable_in(&self, ctx: Context) -> bool {
        self.fetch.uses & ctx.available() != 0
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The fetch keyword.
    pub fn fetch_name(&self) -> &str {
        &self.fetch.name
    }

    /// Output type after converters.
    pub fn out_type(&self) -> SmpType {
        self.convs.iter().fold(self.fetch.out, |t, c| c.out_type(t))
    }

    /// Evaluate to one sample (headers: last occurrence).
    pub fn eval<'t>(&self, txn: &'t dyn Txn) -> Option<Sample<'t>> {
        let mut s = self.fetch.fetch(txn)?;
        for c in &self.convs {
            s = c.apply(s, txn)?;
        }
        Some(s)
    }

    /// Evaluate and append the string form to `out`; false when no sample.
    pub fn eval_into(&self, txn: &dyn Txn, out: &mut Vec<u8>) -> bool {
        match self.eval(txn) {
            Some(s) => {
                s.write_to(out);
                true
            }
            None => false,
        }
    }

    /// ACL evaluation: every value of the fetch through the converters;
    /// stops when `f` returns true.
    pub(crate) fn for_each<'t>(
        &self,
        txn: &'t dyn Txn,
        f: &mut dyn FnMut(Sample<'t>) -> bool,
    ) -> bool {
        if self.convs.is_empty() {
            return self.fetch.for_each(txn, f);
        }
        self.fetch.for_each(txn, &mut |s| {
            let mut s = s;
            for c in &self.convs {
                match c.apply(s, txn) {
                    Some(n) => s = n,
                    None => return false,
                }
            }
            f(s)
        })
    }
}
