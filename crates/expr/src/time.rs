//! Calendar conversion and a small strftime for the `ltime`/`utime`
//! converters and `%t`-style dates (manual section 7.3.1).

use std::io::Write;

/// Broken-down UTC time.
pub(crate) struct Tm {
    pub year: i64,
    pub mon: u32,
    pub mday: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    pub wday: u32,
    pub yday: u32,
}

/// Seconds since the epoch to UTC calendar time.
pub(crate) fn gmtime(t: i64) -> Tm {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400) as u32;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    const CUM: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = CUM[(m - 1) as usize] + d - 1 + u32::from(leap && m > 2);
    Tm {
        year: y,
        mon: m,
        mday: d,
        hour: secs / 3600,
        min: secs / 60 % 60,
        sec: secs % 60,
        wday: (days + 4).rem_euclid(7) as u32,
        yday,
    }
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const LDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const LMONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// strftime in the C locale, UTC (`%z` is `+0000`).
pub(crate) fn strftime(fmt: &[u8], t: i64, out: &mut Vec<u8>) {
    let tm = gmtime(t);
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' || i + 1 >= fmt.len() {
            out.push(fmt[i]);
            i += 1;
            continue;
        }
        i += 1;
        let _ = match fmt[i] {
            b'Y' => write!(out, "{}", tm.year),
            b'y' => write!(out, "{:02}", tm.year.rem_euclid(100)),
            b'C' => write!(out, "{:02}", tm.year.div_euclid(100)),
            b'm' => write!(out, "{:02}", tm.mon),
            b'd' => write!(out, "{:02}", tm.mday),
            b'e' => write!(out, "{:2}", tm.mday),
            b'H' => write!(out, "{:02}", tm.hour),
            b'I' => write!(out, "{:02}", (tm.hour + 11) % 12 + 1),
            b'M' => write!(out, "{:02}", tm.min),
            b'S' => write!(out, "{:02}", tm.sec),
            b'p' => write!(out, "{}", if tm.hour < 12 { "AM" } else { "PM" }),
            b'j' => write!(out, "{:03}", tm.yday + 1),
            b'a' => write!(out, "{}", DAYS[tm.wday as usize]),
            b'A' => write!(out, "{}", LDAYS[tm.wday as usize]),
            b'b' | b'h' => write!(out, "{}", MONTHS[(tm.mon - 1) as usize]),
            b'B' => write!(out, "{}", LMONTHS[(tm.mon - 1) as usize]),
            b'u' => write!(out, "{}", if tm.wday == 0 { 7 } else { tm.wday }),
            b'w' => write!(out, "{}", tm.wday),
            b's' => write!(out, "{t}"),
            b'z' => write!(out, "+0000"),
            b'Z' => write!(out, "UTC"),
            b'T' => write!(out, "{:02}:{:02}:{:02}", tm.hour, tm.min, tm.sec),
            b'R' => write!(out, "{:02}:{:02}", tm.hour, tm.min),
            b'D' => write!(
                out,
                "{:02}/{:02}/{:02}",
                tm.mon,
                tm.mday,
                tm.year.rem_euclid(100)
            ),
            b'F' => write!(out, "{}-{:02}-{:02}", tm.year, tm.mon, tm.mday),
            b'c' => write!(
                out,
                "{} {} {:2} {:02}:{:02}:{:02} {}",
                DAYS[tm.wday as usize],
                MONTHS[(tm.mon - 1) as usize],
                tm.mday,
                tm.hour,
                tm.min,
                tm.sec,
                tm.year
            ),
            b'n' => writeln!(out),
            b't' => write!(out, "\t"),
            b'%' => write!(out, "%"),
            c => write!(out, "%{}", c as char),
        };
        i += 1;
    }
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let mut o = Vec::new();
        strftime(b"%Y-%m-%d %H:%M:%S %a %b %j %%", 1_700_000_000, &mut o);
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "2023-11-14 22:13:20 Tue Nov 318 %"
        );
        let mut o = Vec::new();
        strftime(b"%d/%b/%Y:%T %z", 951_782_400, &mut o);
        assert_eq!(String::from_utf8(o).unwrap(), "29/Feb/2000:00:00:00 +0000");
    }
}
