//! The few libc calls this crate needs, each behind a safe wrapper: broken-down local and UTC
//! time (HAProxy prints both, and std has no calendar) and a raw `write(2)` so stdout/stderr
//! lines go out as one syscall each, bypassing std's line buffering.

use std::io;

/// Broken-down time, the fields HAProxy's log dates use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Tm {
    /// Full year (2026).
    pub year: i32,
    /// 0 = January.
    pub mon: u8,
    /// 1..=31.
    pub mday: u8,
    pub hour: u8,
    pub min: u8,
    pub sec: u8,
    /// Seconds east of UTC (0 for [`utc`]).
    pub gmtoff: i32,
}

fn from_libc(t: &libc::tm) -> Tm {
    Tm {
        year: t.tm_year + 1900,
        mon: t.tm_mon.clamp(0, 11) as u8,
        mday: t.tm_mday.clamp(1, 31) as u8,
        hour: t.tm_hour.clamp(0, 23) as u8,
        min: t.tm_min.clamp(0, 59) as u8,
        // 60 is a legal leap second in `struct tm`.
        sec: t.tm_sec.clamp(0, 60) as u8,
        gmtoff: t.tm_gmtoff as i32,
    }
}

/// Local time of `secs` since the epoch, as `localtime_r` (and thus HAProxy) sees it.
pub(crate) fn local(secs: i64) -> Tm {
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: `tm` is plain old data, so all-zero is a valid value; `localtime_r` only reads
    // `t` and writes into `tm`, both live stack locals, and is the re-entrant variant (no
    // shared static result). It reads the process environment (TZ); nothing in this crate
    // calls setenv.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return utc(secs);
        }
        from_libc(&tm)
    }
}

/// UTC time of `secs` since the epoch (`%T` / `%trg` in HAProxy's formats).
pub(crate) fn utc(secs: i64) -> Tm {
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: as in `local`: zeroed POD output, re-entrant `gmtime_r` writing only into `tm`.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::gmtime_r(&t, &mut tm).is_null() {
            return Tm {
                year: 1970,
                mday: 1,
                ..Tm::default()
            };
        }
        from_libc(&tm)
    }
}

/// Writes all of `buf` to file descriptor `fd` (1 or 2), retrying on EINTR and short writes.
/// A whole line fits one `write(2)` in practice, so lines from several processes sharing the
/// terminal or pipe do not interleave (pipe writes up to PIPE_BUF are atomic).
pub(crate) fn write_fd(fd: libc::c_int, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: the pointer and length describe the live slice `buf`; `write` does not
        // retain them. An invalid `fd` only makes it return -1 (EBADF).
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_breaks_down_a_known_instant() {
        // 2026-11-23T06:30:00Z
        let t = utc(1_795_415_400);
        assert_eq!(
            t,
            Tm {
                year: 2026,
                mon: 10,
                mday: 23,
                hour: 6,
                min: 30,
                sec: 0,
                gmtoff: 0
            }
        );
    }
}
