//! Splitting of sample expressions `fetch(arg,...),conv(arg,...)` (manual
//! section 7.3 and 7.3.1: keyword arguments between parentheses).

use crate::error::ExprError;

/// One keyword with its arguments, as written.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub name: &'a str,
    pub args: Vec<String>,
    /// For each argument k, the raw text from its separator to the closing
    /// parenthesis (for "expected ')' before '...'" messages).
    pub raw_from: Vec<&'a str>,
}

impl Call<'_> {
    /// Check the argument count; `what` is e.g. "fetch method 'x'".
    pub fn check_fetch(&self, min: usize, max: usize) -> Result<(), ExprError> {
        if self.args.len() > max {
            return Err(ExprError::new(format!(
                "fetch method '{}' : expected ')' before '{}'",
                self.name, self.raw_from[max]
            )));
        }
        if self.args.len() < min {
            return Err(ExprError::new(format!(
                "fetch method '{}' : missing arguments (got {}/{})",
                self.name,
                self.args.len(),
                min
            )));
        }
        Ok(())
    }
    /// Check a converter's argument count.
    pub fn check_conv(&self, min: usize, max: usize) -> Result<(), ExprError> {
        if self.args.len() > max {
            return Err(ExprError::new(format!(
                "invalid arg {} in converter '{}' : expected ')' before '{}'",
                max.max(1),
                self.name,
                self.raw_from[max]
            )));
        }
        if self.args.len() < min {
            return Err(ExprError::new(format!(
                "missing args for converter '{}' : expects at least {} arg(s)",
                self.name, min
            )));
        }
        Ok(())
    }
    /// Argument `i`, if given and non-empty.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args
            .get(i)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// Split `text` into the fetch call and its converter calls.
pub(crate) fn split_chain(text: &str) -> Result<Vec<Call<'_>>, ExprError> {
    let b = text.as_bytes();
    let mut calls = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && b[i] != b'(' && b[i] != b',' && b[i] != b')' {
            i += 1;
        }
        let name = &text[start..i];
        let mut call = Call {
            name,
            args: Vec::new(),
            raw_from: Vec::new(),
        };
        if i < b.len() && b[i] == b'(' {
            i += 1;
            let (args, raw, end) = parse_args(text, i).ok_or_else(|| {
                ExprError::new(format!(
                    "{} '{}' : expected ')'",
                    if calls.is_empty() {
                        "fetch method"
                    } else {
                        "converter"
                    },
                    name
                ))
            })?;
            call.args = args;
            call.raw_from = raw;
            i = end;
        }
        calls.push(call);
        if i >= b.len() {
            break;
        }
        if b[i] != b',' {
            return Err(ExprError::new(format!(
                "missing comma after '{}' before '{}'",
                name,
                &text[i..]
            )));
        }
        i += 1;
    }
    Ok(calls)
}

/// Parse arguments after '(' at `i`; returns (args, raw_from, index after ')').
fn parse_args(text: &str, mut i: usize) -> Option<(Vec<String>, Vec<&str>, usize)> {
    let b = text.as_bytes();
    let mut args = Vec::new();
    let mut raw = Vec::new();
    let mut cur = Vec::new();
    let mut arg_start = i;
    let mut quote = 0u8;
    let mut any = false;
    while i < b.len() {
        let c = b[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            } else if c == b'\\' && quote == b'"' && i + 1 < b.len() {
                i += push_escape(b[i + 1], &mut cur);
            } else {
                cur.push(c);
            }
            i += 1;
            continue;
        }
        match c {
            b'\\' if i + 1 < b.len() => {
                i += push_escape(b[i + 1], &mut cur) + 1;
                any = true;
                continue;
            }
            b'"' | b'\'' => {
                quote = c;
                any = true;
            }
            b',' | b')' => {
                if any || c == b',' || !args.is_empty() {
                    raw.push(arg_start);
                    args.push(String::from_utf8_lossy(&cur).into_owned());
                }
                cur.clear();
                any = false;
                if c == b')' {
                    let end = i + 1;
                    let raws = raw.iter().map(|&s| &text[s..end]).collect();
                    return Some((args, raws, end));
                }
                arg_start = i;
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
        i += 1;
    }
    None
}

/// HAProxy's argument escapes: `\\`, `\ `, `\"`, `\'`, `\r`, `\n`, `\t`;
/// any other backslash is kept. Returns how many extra bytes were consumed.
fn push_escape(next: u8, cur: &mut Vec<u8>) -> usize {
    match next {
        b'\\' | b' ' | b'"' | b'\'' => cur.push(next),
        b'r' => cur.push(b'\r'),
        b'n' => cur.push(b'\n'),
        b't' => cur.push(b'\t'),
        _ => {
            cur.push(b'\\');
            return 0;
        }
    }
    1
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        let c = split_chain("hdr(host,1),lower,map(a.map,\"x,y\")").unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].name, "hdr");
        assert_eq!(c[0].args, vec!["host", "1"]);
        assert_eq!(c[1].args.len(), 0);
        assert_eq!(c[2].args, vec!["a.map", "x,y"]);
        let c = split_chain(r#"regsub("(a)\"",\1\\x\ y)"#).unwrap();
        assert_eq!(c[0].args, vec!["(a)\"", "\\1\\x y"]);
        let c = split_chain("url_param(a,b,c,d)").unwrap();
        assert_eq!(
            c[0].check_fetch(0, 2).unwrap_err().msg,
            "fetch method 'url_param' : expected ')' before ',c,d)'"
        );
        let c = split_chain("path,lower(x)").unwrap();
        assert_eq!(
            c[1].check_conv(0, 0).unwrap_err().msg,
            "invalid arg 1 in converter 'lower' : expected ')' before 'x)'"
        );
        let c = split_chain("str(\"a b\"),concat('x',,\"y\")").unwrap();
        assert_eq!(c[0].args, vec!["a b"]);
        assert_eq!(c[1].args, vec!["x", "", "y"]);
        assert!(split_chain("hdr(host").is_err());
        assert_eq!(split_chain("nbsrv()").unwrap()[0].args.len(), 0);
    }
}
