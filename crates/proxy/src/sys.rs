//! The few system calls std does not wrap; every `unsafe` block of the crate lives here.

use std::os::fd::{FromRawFd, OwnedFd};

/// Duplicates an inherited descriptor (`fd@N`) with close-on-exec set.
pub fn dup_cloexec(fd: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) on any integer is memory-safe; an invalid descriptor
    // yields -1 and errno, which we turn into an error.
    let r = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `r` is a fresh descriptor returned to us, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// Enters the network namespace open at `fd` for the calling thread.
pub fn setns_net(fd: &OwnedFd) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: setns on a descriptor we own only changes this thread's namespace; a wrong
    // descriptor yields -1 and errno.
    let r = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Wraps an owned descriptor as a TCP listener.
pub fn listener_from_owned(fd: OwnedFd) -> std::net::TcpListener {
    std::net::TcpListener::from(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dup_of_a_listener_accepts_on_the_same_port() {
        use std::os::fd::AsRawFd;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let d = listener_from_owned(dup_cloexec(l.as_raw_fd()).unwrap());
        assert_eq!(d.local_addr().unwrap().port(), port);
        assert!(dup_cloexec(-1).is_err());
    }
}
