//! Log-format strings (manual section 8.2.4 "Custom log format"): literal
//! text, `%X` variables with `%{+Q,+X,+E}` options, `%[expr]` samples and
//! `%%`. The proxy supplies the `%X` variables through [`LogVars`].

use crate::error::{err, ExprError};
use crate::expr::Expr;
use crate::txn::Txn;

/// The variables of section 8.2.4.
const VARS: &[&str] = &[
    "o", "B", "CC", "CS", "H", "HM", "HP", "HPO", "HQ", "HU", "HV", "ID", "ST", "T", "Ta", "Tc",
    "Td", "Th", "Ti", "Tl", "Tq", "Tr", "Ts", "Tt", "Tu", "Tw", "U", "ac", "b", "bc", "bi", "bp",
    "bq", "ci", "cp", "f", "fc", "fi", "fp", "ft", "hr", "hrl", "hs", "hsl", "lc", "ms", "pid",
    "r", "rc", "rt", "s", "sc", "si", "sp", "sq", "sslc", "sslv", "t", "tr", "trg", "trl", "ts",
    "tsc",
];

/// Per-item options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogOpts {
    /// `+Q`: double-quote the value.
    pub quote: bool,
    /// `+X`: hexadecimal for numbers.
    pub hex: bool,
    /// `+E`: escape '"', '\\' and ']'.
    pub escape: bool,
}

/// Supplies the `%X` variables (the proxy knows timers, names, counters).
pub trait LogVars {
    /// Append variable `name` (e.g. `ci`, `Tr`, `r`) to `out`; false when
    /// unknown or unavailable (then `-` is written).
    fn write_var(&self, name: &str, opts: LogOpts, out: &mut Vec<u8>) -> bool;
}

/// One piece of a log-format string.
#[derive(Debug)]
pub enum LogItem {
    /// Text copied as is.
    Lit(Vec<u8>),
    /// A `%X` variable.
    Var(&'static str, LogOpts),
    /// A `%[expr]` sample.
    Expr(Box<Expr>, LogOpts),
}

/// A compiled log-format string.
#[derive(Debug)]
pub struct LogFormat {
    /// The items in order.
    pub items: Vec<LogItem>,
    /// A log line (`log-format`, `unique-id-format`): a value that is missing prints `-`.
    /// In a rule argument (`set-header`, `use_backend %[...]`, ...) it prints nothing, as in
    /// HAProxy.
    pub mandatory: bool,
}

fn parse_opts(s: &str, opts: &mut LogOpts) {
    for o in s.split(',') {
        let (on, name) = match o.as_bytes().first() {
            Some(b'+') => (true, &o[1..]),
            Some(b'-') => (false, &o[1..]),
            _ => continue,
        };
        match name {
            "Q" => opts.quote = on,
            "X" => opts.hex = on,
            "E" => opts.escape = on,
            _ => {}
        }
    }
}

impl LogFormat {
    /// Parse `text`; `compile` turns a `%[...]` body into an expression.
    pub(crate) fn parse(
        text: &str,
        compile: &dyn Fn(&str) -> Result<Expr, ExprError>,
    ) -> Result<LogFormat, ExprError> {
        let b = text.as_bytes();
        let mut items = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        // `%{+X}o` sets options for every variable after it (manual 8.2.4).
        let mut global = LogOpts::default();
        while i < b.len() {
            if b[i] != b'%' {
                lit.push(b[i]);
                i += 1;
                continue;
            }
            i += 1;
            if i >= b.len() {
                return err("truncated line after '%'");
            }
            if b[i] == b'%' {
                lit.push(b'%');
                i += 1;
                continue;
            }
            let mut opts = global;
            if b[i] == b'{' {
                let Some(end) = text[i..].find('}') else {
                    return err(format!("truncated line after '{}'", &text[i + 1..]));
                };
                parse_opts(&text[i + 1..i + end], &mut opts);
                i += end + 1;
                if i >= b.len() {
                    return err(format!("truncated line after '{}'", &text[i - end..i]));
                }
            }
            if !lit.is_empty() {
                items.push(LogItem::Lit(std::mem::take(&mut lit)));
            }
            if b[i] == b'[' {
                let start = i + 1;
                let mut depth = 0i32;
                let mut j = start;
                while j < b.len() && !(b[j] == b']' && depth == 0) {
                    match b[j] {
                        b'(' => depth += 1,
                        b')' => depth -= 1,
                        b'\\' => j += 1,
                        _ => {}
                    }
                    j += 1;
                }
                if j >= b.len() {
                    return err(format!("missing ']' after '%[' in '{text}'"));
                }
                let e = compile(&text[start..j]).map_err(|e| {
                    e.prefix(&format!(
                        "failed to parse sample expression <{}> : ",
                        &text[start..j]
                    ))
                })?;
                items.push(LogItem::Expr(Box::new(e), opts));
                i = j + 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            if i == start {
                return err(format!(
                    "unexpected variable name near '{}' at position {} line : '{text}'. Maybe you want to write a single '%', use the syntax '%%'",
                    b[i] as char,
                    i
                ));
            }
            let name = &text[start..i];
            if name == "o" {
                global = opts;
                // HAProxy's example `%{+X}o\ %ci:...` yields no leading space.
                if b.get(i) == Some(&b' ') {
                    i += 1;
                }
                continue;
            }
            match VARS.iter().find(|v| **v == name) {
                Some(v) => items.push(LogItem::Var(v, opts)),
                None => {
                    return Err(ExprError::new(format!(
                        "no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'"
                    )))
                }
            }
        }
        if !lit.is_empty() {
            items.push(LogItem::Lit(lit));
        }
        Ok(LogFormat {
            items,
            mandatory: true,
        })
    }

    /// Render the line into `out`.
    pub fn render(&self, txn: &dyn Txn, vars: &dyn LogVars, out: &mut Vec<u8>) {
        let mut tmp = Vec::new();
        for it in &self.items {
            match it {
                LogItem::Lit(l) => out.extend_from_slice(l),
                LogItem::Var(name, o) => {
                    tmp.clear();
                    let ok = vars.write_var(name, *o, &mut tmp);
                    emit(out, ok.then_some(&tmp[..]), *o, self.mandatory);
                }
                LogItem::Expr(e, o) => {
                    tmp.clear();
                    let ok = match e.eval(txn) {
                        Some(crate::sample::Sample::Int(v)) if o.hex => {
                            tmp.extend_from_slice(format!("{:X}", v).as_bytes());
                            true
                        }
                        Some(s) => {
                            s.write_to(&mut tmp);
                            true
                        }
                        None => false,
                    };
                    emit(out, ok.then_some(&tmp[..]), *o, self.mandatory);
                }
            }
        }
    }

    /// Whether the string uses no variable nor sample (a constant).
    pub fn is_const(&self) -> bool {
        self.items.iter().all(|i| matches!(i, LogItem::Lit(_)))
    }
}

fn emit(out: &mut Vec<u8>, v: Option<&[u8]>, o: LogOpts, mandatory: bool) {
    let Some(v) = v else {
        // HAProxy, in a log line: `""` for a missing quoted value, else `-`; in a rule
        // argument: nothing.
        if mandatory {
            out.extend_from_slice(if o.quote { b"\"\"" } else { b"-" });
        }
        return;
    };
    if o.quote {
        out.push(b'"');
    }
    for &c in v {
        if o.escape && matches!(c, b'"' | b'\\' | b']') {
            out.push(b'\\');
        }
        out.push(c);
    }
    if o.quote {
        out.push(b'"');
    }
}
