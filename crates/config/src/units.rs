//! Numbers in the configuration: durations (manual section 2.5 "Time format"), sizes with
//! `k`/`m`/`g` suffixes, C `atol`-style integers (HAProxy reads many keywords with `atol`, so
//! `maxconn 12abc` means 12 there and must mean 12 here), and the "did you mean" helper.

use std::time::Duration;

/// Why a duration did not parse; each maps to one of HAProxy's `parse_time_err` messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    Empty,
    /// The first character that is neither a digit nor a valid unit.
    BadChar(char),
    /// Over 2^31-1 ms (HAProxy's timers are signed 32-bit milliseconds).
    Overflow,
}

/// Largest value HAProxy's millisecond timers hold.
pub const MAX_TIMER_MS: u64 = 2_147_483_647;

/// Parses `10`, `10ms`, `1500us`, `5s`, `2m`, `1h`, `1d`; a bare number is milliseconds.
/// Microseconds round up to the next millisecond, as HAProxy does for millisecond timers.
pub fn parse_time(s: &str) -> Result<Duration, TimeError> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if s.is_empty() {
        return Err(TimeError::Empty);
    }
    if digits == 0 {
        return Err(TimeError::BadChar(s.chars().next().unwrap_or(' ')));
    }
    let (num, unit) = s.split_at(digits);
    let value: u64 = num.parse().map_err(|_| TimeError::Overflow)?;
    let ms = match unit {
        "" | "ms" => Some(value),
        "us" => Some(value.div_ceil(1000)),
        "s" => value.checked_mul(1000),
        "m" => value.checked_mul(60_000),
        "h" => value.checked_mul(3_600_000),
        "d" => value.checked_mul(86_400_000),
        _ => {
            // Point at the first character that cannot start or continue a unit.
            let bad = bad_unit_char(unit);
            return Err(TimeError::BadChar(bad));
        }
    };
    match ms {
        Some(ms) if ms <= MAX_TIMER_MS => Ok(Duration::from_millis(ms)),
        _ => Err(TimeError::Overflow),
    }
}

pub(crate) fn bad_unit_char(unit: &str) -> char {
    let mut chars = unit.chars();
    let first = chars.next().unwrap_or(' ');
    let known_start = matches!(first, 'u' | 'm' | 's' | 'h' | 'd');
    if !known_start {
        return first;
    }
    // `us`/`ms` take one more letter; anything after a complete unit is the culprit.
    let rest: Vec<char> = unit.chars().collect();
    let unit_len = match (first, rest.get(1)) {
        ('u', Some('s')) | ('m', Some('s')) => 2,
        ('u', _) => return rest.get(1).copied().unwrap_or(' '),
        _ => 1,
    };
    rest.get(unit_len).copied().unwrap_or(' ')
}

/// The text HAProxy prints for a bad duration given to `what` (e.g. `timeout client`).
pub fn time_error_message(err: &TimeError, arg: &str, what: &str) -> String {
    match err {
        TimeError::Empty => format!("'{what}' expects an integer value (in milliseconds)"),
        TimeError::BadChar(c) => format!("unexpected character '{c}' in '{what}'"),
        TimeError::Overflow => format!(
            "timer overflow in argument '{arg}' to '{what}' (maximum value is 2147483647 ms or ~24.8 days)"
        ),
    }
}

/// Parses a size: digits with an optional `k`, `m` or `g` suffix (powers of 1024).
pub fn parse_size(s: &str) -> Option<u64> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (num, unit) = s.split_at(digits);
    let value: u64 = num.parse().ok()?;
    let mult: u64 = match unit {
        "" => 1,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" => 1 << 30,
        _ => return None,
    };
    value.checked_mul(mult)
}

/// C's `atol`: optional blanks and sign, then as many digits as there are; 0 when none.
/// Saturates instead of overflowing.
pub fn atol(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in rest.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}

/// A strict unsigned integer (all digits, no sign), for keywords HAProxy checks strictly.
pub fn strict_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Optimal-string-alignment edit distance (insert, delete, substitute, swap neighbours).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The closest candidate to `word`, if close enough to be a plausible typo: at most a third
/// of the word's length (at least 1, at most 3) edits away. Ties go to the first candidate.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let d = edit_distance(word, c);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let ok = [
            ("0", 0),
            ("5000", 5000),
            ("5000ms", 5000),
            ("1500us", 2),
            ("1us", 1),
            ("5s", 5000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("1d", 86_400_000),
            ("24d", 2_073_600_000),
        ];
        for (s, ms) in ok {
            assert_eq!(parse_time(s), Ok(Duration::from_millis(ms)), "{s}");
        }
        let bad = [
            ("", TimeError::Empty),
            ("x", TimeError::BadChar('x')),
            ("1x", TimeError::BadChar('x')),
            ("10sx", TimeError::BadChar('x')),
            ("10msx", TimeError::BadChar('x')),
            ("10ux", TimeError::BadChar('x')),
            ("25d", TimeError::Overflow),
            ("99999999999", TimeError::Overflow),
            ("99999999999999999999999", TimeError::Overflow),
        ];
        for (s, e) in bad {
            assert_eq!(parse_time(s), Err(e), "{s}");
        }
        assert_eq!(
            time_error_message(&TimeError::BadChar('x'), "1x", "timeout client"),
            "unexpected character 'x' in 'timeout client'"
        );
    }

    #[test]
    fn sizes() {
        let cases = [
            ("16384", Some(16384)),
            ("16k", Some(16384)),
            ("1K", Some(1024)),
            ("2m", Some(2 << 20)),
            ("1g", Some(1 << 30)),
            ("", None),
            ("k", None),
            ("1t", None),
        ];
        for (s, v) in cases {
            assert_eq!(parse_size(s), v, "{s}");
        }
    }

    #[test]
    fn atol_like_c() {
        let cases = [
            ("12", 12),
            ("12abc", 12),
            ("abc", 0),
            ("", 0),
            ("-3", -3),
            ("  +7x", 7),
        ];
        for (s, v) in cases {
            assert_eq!(atol(s), v, "{s}");
        }
    }

    #[test]
    fn suggestions() {
        let kws = ["option", "balance", "bind", "mode", "node"];
        assert_eq!(did_you_mean("optoin", kws), Some("option"));
        assert_eq!(did_you_mean("balanse", kws), Some("balance"));
        assert_eq!(did_you_mean("frobnicate", kws), None);
        assert_eq!(did_you_mean("mdoe", kws), Some("mode"));
    }
}
