//! Sluice's rule language (HAProxy manual sections 7 "Using ACLs and fetching
//! samples" and 8.2.4 "Custom log format"): sample fetches, converters, ACL
//! matchers, pattern sets and maps, conditions and log-format strings, compiled
//! once into programs evaluated against a [`Txn`].

pub mod acl;
mod args;
pub mod codec;
mod compiler;
pub mod cond;
pub mod conv;
mod crypt;
mod error;
pub mod expr;
pub mod fetch;
mod json;
pub mod logformat;
pub mod pattern;
pub mod sample;
mod time;
pub mod txn;
pub mod userlist;

pub use acl::Acl;
pub use compiler::Compiler;
pub use cond::{Cond, Polarity};
pub use error::{Context, ExprError};
pub use expr::Expr;
pub use logformat::{LogFormat, LogVars};
pub use pattern::{PatRef, PatternRegistry};
pub use sample::Sample;
pub use txn::{Txn, VarScope};
pub use userlist::{Password, User, Userlist};

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_tls;
