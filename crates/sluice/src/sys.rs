//! Process-level system calls: daemonizing and signal waiting. Every `unsafe` of the binary
//! lives here.

use std::io;

/// Forks into the background: returns Ok(true) in the child (which carries on), Ok(false) in
/// the parent (which should exit). The child starts a new session and gets /dev/null as
/// standard streams, as HAProxy's `daemon` does. Must run before any thread is started.
pub fn daemonize() -> io::Result<bool> {
    // SAFETY: called while the process is single-threaded (before workers start), so fork
    // duplicates no other thread's state.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid > 0 {
        return Ok(false);
    }
    // SAFETY: setsid has no memory effects; failure only means we already lead a session.
    unsafe {
        libc::setsid();
    }
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    use std::os::fd::AsRawFd;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors with a valid open descriptor.
        unsafe {
            libc::dup2(null.as_raw_fd(), fd);
        }
    }
    Ok(true)
}

pub enum Signal {
    /// SIGUSR1: finish sessions, then exit.
    SoftStop,
    /// SIGTERM / SIGINT: exit now.
    HardStop,
    Other,
}

fn stop_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset/sigaddset initialise it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks the stop signals in this thread and every thread it starts afterwards.
pub fn block_signals() -> io::Result<()> {
    let set = stop_set();
    // SAFETY: `set` is initialised; a null old-set pointer is allowed.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    // SIGPIPE: a peer closing mid-write must be an EPIPE error, not the end of the process
    // (Rust's runtime already ignores it; keep it explicit).
    Ok(())
}

/// Waits for one of the blocked stop signals.
pub fn wait_signal() -> Signal {
    let set = stop_set();
    let mut sig: libc::c_int = 0;
    // SAFETY: `set` is initialised and `sig` is a valid out pointer.
    let r = unsafe { libc::sigwait(&set, &mut sig) };
    if r != 0 {
        return Signal::Other;
    }
    match sig {
        libc::SIGUSR1 => Signal::SoftStop,
        libc::SIGTERM | libc::SIGINT => Signal::HardStop,
        _ => Signal::Other,
    }
}
