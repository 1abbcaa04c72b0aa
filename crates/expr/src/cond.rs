//! Conditions (manual section 7.2 "Using ACLs to form conditions"):
//! `if|unless` followed by ACL names, `!` negations, implicit AND, `||`/`or`,
//! and anonymous ACLs between braces.

use std::sync::Arc;

use crate::acl::Acl;
use crate::txn::Txn;

/// `if` or `unless`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// The rule applies when the condition is true.
    If,
    /// The rule applies when the condition is false.
    Unless,
}

#[derive(Debug)]
pub(crate) struct Term {
    pub acl: Arc<Acl>,
    pub neg: bool,
}

/// A compiled condition: an OR of AND-suites of (possibly negated) ACLs.
#[derive(Debug)]
pub struct Cond {
    pub(crate) pol: Polarity,
    pub(crate) suites: Vec<Vec<Term>>,
}

/// An ACL's or a condition's answer (HAProxy's `ACL_TEST_FAIL`, `ACL_TEST_MISS`,
/// `ACL_TEST_PASS`): a miss may turn into a pass once more request bytes arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    Fail,
    Miss,
    Pass,
}

impl Tri {
    fn neg(self) -> Tri {
        match self {
            Tri::Fail => Tri::Pass,
            Tri::Miss => Tri::Miss,
            Tri::Pass => Tri::Fail,
        }
    }
}

impl Cond {
    /// Whether the rule applies: true when the condition holds (`if`) or
    /// does not (`unless`). A condition without any term is false, as in
    /// HAProxy. An undecided condition (see [`Cond::eval_partial`]) does not
    /// apply; that only happens when [`Txn::payload_final`] is false.
    pub fn eval(&self, txn: &dyn Txn) -> bool {
        self.eval_partial(txn).unwrap_or(false)
    }

    /// Like [`Cond::eval`], for `tcp-request content` inspection: `None` when the
    /// condition is undecided because a fetch lacks request bytes that may still come
    /// (`wait_end`, `req.len`, `req.payload`, `req.ssl_*` on a partial ClientHello...) and
    /// no other term settles it, HAProxy's `ACL_TEST_MISS`. The caller then waits for more
    /// data and evaluates again, until [`Txn::payload_final`] turns true (inspect-delay
    /// expired, buffer full, client closed), from which point the answer is always `Some`.
    /// As in HAProxy, a negated miss stays a miss, an AND-suite stops at its first term that
    /// does not pass, and the OR of the suites passes if any suite passes.
    pub fn eval_partial(&self, txn: &dyn Txn) -> Option<bool> {
        let mut res = Tri::Fail;
        for suite in &self.suites {
            let mut s = Tri::Pass;
            for t in suite {
                let r = t.acl.eval_partial(txn);
                let r = if t.neg { r.neg() } else { r };
                if r != Tri::Pass {
                    s = r;
                    break;
                }
            }
            match s {
                Tri::Pass => {
                    res = Tri::Pass;
                    break;
                }
                Tri::Miss => res = Tri::Miss,
                Tri::Fail => {}
            }
        }
        match res {
            Tri::Miss => None,
            Tri::Pass => Some(self.pol == Polarity::If),
            Tri::Fail => Some(self.pol == Polarity::Unless),
        }
    }

    /// `if` or `unless`.
    pub fn polarity(&self) -> Polarity {
        self.pol
    }

    /// Names of the ACLs used, in order (anonymous ones as `anonymous`).
    pub fn acl_names(&self) -> Vec<&str> {
        self.suites
            .iter()
            .flatten()
            .map(|t| t.acl.name.as_str())
            .collect()
    }
}
