//! Evaluates the conditions of `.if`/`.elif` (manual section 2.4 "Conditional blocks"):
//! `0`/`1`/empty, `!`, `&&`, `||`, parentheses, and the predicates `defined`, `feature`,
//! `streq`, `strneq`, `version_atleast`, `version_before`. `feature()` is always false: Sluice
//! has none of HAProxy's optional build features (OpenSSL, Lua, ...) yet.

use crate::lexer::Env;

/// The HAProxy version Sluice answers to in `version_atleast`/`version_before`: the one it
/// is checked against, so configurations take the same branches on both.
pub const HAPROXY_VERSION: &str = "2.6.12";

/// Evaluates `expr`; the error is the 1-based position where parsing failed.
pub fn eval(expr: &str, env: Env<'_>) -> Result<bool, usize> {
    if expr.is_empty() {
        return Ok(false);
    }
    let mut p = Parser {
        s: expr.as_bytes(),
        pos: 0,
        env,
    };
    let v = p.or().map_err(|pos| pos + 1)?;
    p.blanks();
    if p.pos != p.s.len() {
        return Err(p.pos + 1);
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    env: Env<'a>,
}

impl Parser<'_> {
    fn blanks(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.blanks();
        if self.s[self.pos..].starts_with(tok.as_bytes()) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    /// `and ('||' and)*`; every operand is parsed (so syntax errors show) even when the
    /// result is already known.
    fn or(&mut self) -> Result<bool, usize> {
        let mut v = self.and()?;
        while self.eat("||") {
            let r = self.and()?;
            v = v || r;
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<bool, usize> {
        let mut v = self.term()?;
        while self.eat("&&") {
            let r = self.term()?;
            v = v && r;
        }
        Ok(v)
    }

    fn term(&mut self) -> Result<bool, usize> {
        self.blanks();
        if self.eat("!") {
            return Ok(!self.term()?);
        }
        if self.eat("(") {
            let v = self.or()?;
            if !self.eat(")") {
                return Err(self.pos);
            }
            return Ok(v);
        }
        let start = self.pos;
        let digits = self.s[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 {
            self.pos += digits;
            return Ok(self.s[start..self.pos].iter().any(|&b| b != b'0'));
        }
        let name_len = self.s[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let name = String::from_utf8_lossy(&self.s[start..start + name_len]).into_owned();
        self.pos += name_len;
        if name.is_empty() || self.s.get(self.pos) != Some(&b'(') {
            return Err(start);
        }
        let close = self.s[self.pos..]
            .iter()
            .position(|&b| b == b')')
            .ok_or(start)?;
        let inner = String::from_utf8_lossy(&self.s[self.pos + 1..self.pos + close]).into_owned();
        self.pos += close + 1;
        let args: Vec<&str> = inner.split(',').collect();
        let arg = |i: usize| args.get(i).copied().unwrap_or("");
        let v = match (name.as_str(), args.len()) {
            ("defined", 1) => (self.env)(arg(0)).is_some(),
            ("feature", 1) => false,
            ("streq", 2) => arg(0) == arg(1),
            ("strneq", 2) => arg(0) != arg(1),
            ("version_atleast", 1) => compare_versions(HAPROXY_VERSION, arg(0)).is_ge(),
            ("version_before", 1) => compare_versions(HAPROXY_VERSION, arg(0)).is_lt(),
            _ => return Err(start),
        };
        Ok(v)
    }
}

/// Orders HAProxy version strings: dotted numbers (missing ones are 0), then `-devN` <
/// `-preN` < `-rcN` < a release (any other suffix, e.g. a distribution's `-1+deb12u4`).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    version_key(a).cmp(&version_key(b))
}

fn version_key(v: &str) -> [u64; 6] {
    let (nums, suffix) = v.split_once('-').unwrap_or((v, ""));
    let mut key = [0u64; 6];
    for (slot, part) in key.iter_mut().zip(nums.split('.').take(4)) {
        *slot = crate::units::atol(part).max(0).unsigned_abs();
    }
    let (stage, n) = if let Some(n) = suffix.strip_prefix("dev") {
        (0, n)
    } else if let Some(n) = suffix.strip_prefix("pre") {
        (1, n)
    } else if let Some(n) = suffix.strip_prefix("rc") {
        (2, n)
    } else {
        (3, "0")
    };
    key[4] = stage;
    key[5] = crate::units::atol(n).max(0).unsigned_abs();
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    fn env(name: &str) -> Option<String> {
        (name == "SET").then(String::new)
    }

    #[test]
    fn expressions() {
        let cases = [
            ("", false),
            ("0", false),
            ("1", true),
            ("42", true),
            ("!0", true),
            ("!!1", true),
            ("defined(SET)", true),
            ("defined(UNSET)", false),
            ("feature(OPENSSL)", false),
            ("!feature(LUA)", true),
            ("streq(a,a)", true),
            ("streq(a,b)", false),
            ("strneq(a,b)", true),
            ("version_atleast(2.6)", true),
            ("version_atleast(2.6.12)", true),
            ("version_atleast(2.6.13)", false),
            ("version_before(3.0)", true),
            ("1 && 0 || 1", true),
            ("0 || 1 && 0", false),
            ("(0 || 1) && !(0)", true),
        ];
        for (e, want) in cases {
            assert_eq!(eval(e, &env), Ok(want), "{e}");
        }
        for bad in ["foo(1)", "defined(a,b)", "(1", "1 &&", "1 2", "streq(a)"] {
            assert!(eval(bad, &env).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions() {
        let cases = [
            ("2.6", "2.6.0", Equal),
            ("2.4-dev19", "2.4", Less),
            ("2.4-rc1", "2.4-dev5", Greater),
            ("2.6.12-1+deb12u4", "2.6.12", Equal),
            ("2.10", "2.9", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
        }
    }
}
