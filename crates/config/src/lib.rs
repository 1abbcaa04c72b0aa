//! HAProxy configuration language: text -> sections and keywords (with `file:line`) -> the
//! validated [`model::Config`]. Implements the parts of HAProxy's `doc/configuration.txt`
//! sections 2 (quoting, environment, conditions) and 3-4 (global, defaults, frontend, backend,
//! listen) that Sluice supports; everything else is refused with a diagnostic.

pub mod model;

pub use model::*;
