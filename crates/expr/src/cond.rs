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

impl Cond {
    /// Whether the rule applies: true when the condition holds (`if`) or
    /// does not (`unless`). A condition without any term is false, as in
    /// HAProxy.
    pub fn eval(&self, txn: &dyn Txn) -> bool {
        let res = self
            .suites
            .iter()
            .any(|suite| suite.iter().all(|t| t.acl.eval(txn) != t.neg));
        match self.pol {
            Polarity::If => res,
            Polarity::Unless => !res,
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
