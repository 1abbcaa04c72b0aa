//! Sluice's logging: HAProxy 2.6's access-log lines (`option httplog`, `httplog clf`,
//! `tcplog`, and the `Connect from` line of frontends with neither) and a non-blocking
//! writer that frames them for each `log` target (raw, short, local, RFC 3164, RFC 5424)
//! over stdout/stderr, UDP, Unix datagram or TCP, byte-compatible with HAProxy so that
//! log parsers keyed on HAProxy's output keep working.
//!
//! The line formats and the framing were checked against the output of a real
//! HAProxy 2.6.12; the captured lines are quoted in the tests.

mod fmt;
mod logger;
mod sys;

pub use fmt::{
    format_connect, format_default, format_embryonic, format_httplog, format_httplog_clf,
    format_tcplog, push_capture, write_capture_list, write_var, LogFields, Timers,
};
pub use logger::Logger;

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
