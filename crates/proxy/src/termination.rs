//! HAProxy's session termination state (manual 8.5): two letters, who ended the session and
//! in which phase, written as `%ts` (tcplog) or `%tsc` (httplog, two more cookie letters).

/// The phase a session was in when it ended (the second letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermPhase {
    /// `R`: waiting for the complete request.
    Request,
    /// `Q`: waiting in a queue for a server slot.
    Queue,
    /// `C`: waiting for the connection to the server.
    Connect,
    /// `H`: waiting for the complete response headers.
    Header,
    /// `D`: transferring data.
    Data,
    /// `L`: sending the last data to the client.
    Last,
    /// `-`: finished normally.
    None,
}

/// Termination state: `who` is `-` (normal), `C`/`c` client abort/timeout, `S`/`s` server
/// abort/timeout, `P` proxy, `R` resource, `I` internal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub who: u8,
    pub phase: TermPhase,
}

impl Term {
    pub fn new(who: u8, phase: TermPhase) -> Term {
        Term { who, phase }
    }

    pub fn normal() -> Term {
        Term {
            who: b'-',
            phase: TermPhase::None,
        }
    }

    /// The four bytes of `%tsc` (cookie letters are always `--`: no persistence cookies yet).
    pub fn bytes(&self) -> [u8; 4] {
        let p = match self.phase {
            TermPhase::Request => b'R',
            TermPhase::Queue => b'Q',
            TermPhase::Connect => b'C',
            TermPhase::Header => b'H',
            TermPhase::Data => b'D',
            TermPhase::Last => b'L',
            TermPhase::None => b'-',
        };
        [self.who, p, b'-', b'-']
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timeout_waiting_headers_reads_sh() {
        assert_eq!(&Term::new(b's', TermPhase::Header).bytes(), b"sH--");
        assert_eq!(&Term::normal().bytes(), b"----");
        assert_eq!(&Term::new(b'C', TermPhase::Request).bytes(), b"CR--");
    }
}
