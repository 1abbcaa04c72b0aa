//! One timer for a whole wait loop: the HTTP/1 response and body loops and the byte relay
//! re-arm it lazily instead of registering a new timer on every wake-up.

use std::time::Instant;

/// One timer for a whole wait loop whose deadlines move on with activity: armed at the
/// nearest deadline and only ever moved closer. When activity has pushed the deadlines
/// later it fires early and is armed again then, instead of a timer registered and
/// cancelled on every wake-up.
pub(crate) struct WaitTimer {
    armed: Option<Instant>,
}

impl WaitTimer {
    pub(crate) fn new() -> Self {
        WaitTimer { armed: None }
    }

    /// Arms `timer` for `next` unless it is armed for that or sooner.
    pub(crate) fn arm(
        &mut self,
        timer: std::pin::Pin<&mut tokio::time::Sleep>,
        next: Option<Instant>,
    ) {
        if let Some(n) = next {
            if self.armed.is_none_or(|a| n < a) {
                timer.reset(n.into());
                self.armed = Some(n);
            }
        }
    }

    pub(crate) fn is_armed(&self) -> bool {
        self.armed.is_some()
    }

    /// The timer fired: now, to hold the deadlines against (it may have fired early).
    pub(crate) fn fired(&mut self) -> Instant {
        self.armed = None;
        Instant::now()
    }
}
