//! Integration tests: the real `sluice` binary against real backends on loopback.

// Test harness code: a failed expectation is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod balancing;
mod checks;
mod config_check;
mod h2;
mod http1;
mod logs;
mod netns;
mod process;
mod rules;
mod tcp;
mod tls;

/// The `defaults` most tests share.
pub fn defaults(mode: &str) -> String {
    format!(
        "defaults\n    mode {mode}\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n"
    )
}

/// `server` lines for backends: `server NAME 127.0.0.1:PORT EXTRA`.
pub fn servers(b: &[&support::Backend], extra: &str) -> String {
    b.iter()
        .map(|b| format!("    server {} {} {extra}\n", b.name, b.addr))
        .collect()
}
