//! Turns configuration text into lines of words, the way HAProxy's `parse_line` does:
//! manual section 2.2 (quoting and escaping), 2.3 (environment variables, expanded only
//! inside double quotes) and 2.4 (conditional blocks `.if`/`.elif`/`.else`/`.endif` and the
//! `.diag`/`.notice`/`.warning`/`.alert` directives). Lines inside a false block never reach
//! the parser. The environment is read through a caller-provided lookup so tests stay hermetic.

use crate::cond;
use crate::diag::{Diagnostic, Severity, Style};
use crate::keywords::SECTION_NAMES;
use crate::model::Location;

/// One non-empty configuration line after quoting, escaping and expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub location: Location,
    /// The words, cut at the first empty one: HAProxy's keyword parsers stop at the first
    /// empty argument, so `server a ""  weight 3` never sees `weight`.
    pub words: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Lexed {
    pub lines: Vec<Line>,
    pub diags: Vec<Diagnostic>,
}

/// The environment lookup used for `"$VAR"` and `defined(VAR)`.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Context for one line's expansion: the environment and the pseudo-variables of section 2.3.
struct Ctx<'a> {
    env: Env<'a>,
    file: &'a str,
    line: u32,
    section: &'a str,
}

impl Ctx<'_> {
    fn var(&self, name: &str) -> Option<String> {
        match name {
            ".FILE" => Some(self.file.to_string()),
            ".LINE" => Some(self.line.to_string()),
            ".SECTION" => Some(self.section.to_string()),
            _ => (self.env)(name),
        }
    }
}

/// One open `.if` level.
struct Frame {
    /// Whether lines in the current branch are kept.
    active: bool,
    /// Whether the enclosing level is active (if not, no branch here can be).
    parent: bool,
    /// Whether a branch of this level was already taken.
    taken: bool,
    seen_else: bool,
    location: Location,
}

/// Splits the whole text into lines and applies the conditional blocks.
pub fn lex(file: &str, text: &str, env: Env<'_>) -> Lexed {
    let mut out = Lexed::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut section = String::new();
    for (idx, raw) in text.split('\n').enumerate() {
        let line_no = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        let loc = Location {
            file: file.to_string(),
            line: line_no,
        };
        let active = stack.last().is_none_or(|f| f.active);
        let ctx = Ctx {
            env,
            file,
            line: line_no,
            section: &section,
        };
        let words = match split_words(raw, &ctx) {
            Ok(w) => w,
            Err(msg) => {
                if active {
                    out.diags
                        .push(Diagnostic::alert(&loc, msg).with_style(Style::ParsingTight));
                }
                continue;
            }
        };
        let Some(first) = words.first() else { continue };
        if first.starts_with('.') {
            let handled = directive(first, &words, &loc, &mut stack, &ctx, &mut out.diags);
            if handled {
                continue;
            }
        }
        if !active {
            continue;
        }
        let words = truncate_at_empty(words);
        if words.is_empty() {
            continue;
        }
        if SECTION_NAMES.contains(&words[0].as_str()) {
            section = words.get(1).cloned().unwrap_or_else(|| words[0].clone());
        }
        out.lines.push(Line {
            location: loc,
            words,
        });
    }
    for frame in stack {
        out.diags.push(
            Diagnostic::alert(&frame.location, "non-terminated '.if' block.")
                .with_style(Style::ParsingTight),
        );
    }
    out
}

fn truncate_at_empty(mut words: Vec<String>) -> Vec<String> {
    if let Some(pos) = words.iter().position(String::is_empty) {
        words.truncate(pos);
    }
    words
}

/// Handles a `.xxx` directive; returns false when `first` is not one (it then goes to the
/// parser, which reports it as an unknown keyword like HAProxy does).
fn directive(
    first: &str,
    words: &[String],
    loc: &Location,
    stack: &mut Vec<Frame>,
    ctx: &Ctx<'_>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let active = stack.last().is_none_or(|f| f.active);
    let alert = |msg: String| Diagnostic::alert(loc, msg).with_style(Style::ParsingTight);
    let eval = |diags: &mut Vec<Diagnostic>| -> bool {
        let expr = words[1..].join(" ");
        match cond::eval(expr.trim(), ctx.env) {
            Ok(v) => v,
            Err(pos) => {
                diags.push(alert(format!(
                    "unparsable conditional expression '{expr}' in '{first}' at position {pos}",
                    expr = expr.trim()
                )));
                false
            }
        }
    };
    match first {
        ".if" => {
            // Conditions inside a dead block are not evaluated: they may use predicates
            // that only make sense where the block is live.
            let cond = active && eval(diags);
            stack.push(Frame {
                active: cond,
                parent: active,
                taken: cond,
                seen_else: false,
                location: loc.clone(),
            });
        }
        ".elif" => match stack.last_mut() {
            None => diags.push(alert("lone '.elif' with no matching '.if'.".into())),
            Some(f) if f.seen_else => {
                diags.push(alert("'.elif' after '.else' is not permitted.".into()))
            }
            Some(f) => {
                let live = f.parent && !f.taken;
                let cond = live && eval(diags);
                f.active = cond;
                f.taken |= cond;
            }
        },
        ".else" => match stack.last_mut() {
            None => diags.push(alert("lone '.else' with no matching '.if'.".into())),
            Some(f) if f.seen_else => {
                diags.push(alert("'.else' after '.else' is not permitted.".into()))
            }
            Some(f) => {
                f.active = f.parent && !f.taken;
                f.taken = true;
                f.seen_else = true;
            }
        },
        ".endif" => {
            if stack.pop().is_none() {
                diags.push(alert("lone '.endif' with no matching '.if'.".into()));
            }
        }
        ".diag" | ".notice" | ".warning" | ".alert" => {
            if !active {
                return true;
            }
            let words = truncate_at_empty(words.to_vec());
            if let Some(extra) = words.get(2) {
                diags.push(alert(format!(
                    "Unexpected argument '{extra}' for '{first}'. Use quotes if the message should contain spaces."
                )));
                return true;
            }
            let text = format!("'{}'.", words.get(1).map_or("", String::as_str));
            let severity = match first {
                ".alert" => Severity::Alert,
                ".warning" => Severity::Warning,
                // `.diag` only prints in HAProxy's diagnostic mode (-dD), which Sluice lacks.
                ".diag" => return true,
                _ => Severity::Notice,
            };
            diags.push(
                Diagnostic::new(severity, Some(loc.clone()), text).with_style(Style::ParsingTight),
            );
        }
        _ => return false,
    }
    true
}

/// A caret under (0-based) position `pos` of `line`, as HAProxy prints after a lexing error;
/// the messages themselves count from 1, as HAProxy's do.
fn point_at(line: &str, pos: usize) -> String {
    format!("  {line}\n  {}^", " ".repeat(pos))
}

/// Cuts one raw line into words (section 2.2), expanding `"$VAR"` (section 2.3).
fn split_words(raw: &str, ctx: &Ctx<'_>) -> Result<Vec<String>, String> {
    let line = raw.strip_suffix('\r').unwrap_or(raw);
    let chars: Vec<char> = line.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<(char, usize)> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            None => match c {
                ' ' | '\t' | '\r' => {
                    if in_word {
                        words.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                    i += 1;
                }
                '#' => break,
                '"' | '\'' => {
                    quote = Some((c, i));
                    in_word = true;
                    i += 1;
                }
                '\\' => {
                    i = escape(&chars, i, &mut cur).map_err(|p| hex_error(line, p))?;
                    in_word = true;
                }
                _ => {
                    cur.push(c);
                    in_word = true;
                    i += 1;
                }
            },
            Some(('\'', _)) => {
                if c == '\'' {
                    quote = None;
                } else {
                    cur.push(c);
                }
                i += 1;
            }
            Some(_) => match c {
                '"' => {
                    quote = None;
                    i += 1;
                }
                '\\' => i = escape(&chars, i, &mut cur).map_err(|p| hex_error(line, p))?,
                '$' => {
                    i = expand(&chars, i, ctx, &mut cur, &mut words).map_err(|p| {
                        format!(
                            "unmatched brace in environment variable name at position {}:\n{}",
                            p + 1,
                            point_at(line, p)
                        )
                    })?;
                }
                _ => {
                    cur.push(c);
                    i += 1;
                }
            },
        }
    }
    if let Some((_, pos)) = quote {
        return Err(format!(
            "unmatched quote at position {}:\n{}",
            pos + 1,
            point_at(line, pos)
        ));
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

fn hex_error(line: &str, pos: usize) -> String {
    format!(
        "truncated or invalid hexadecimal sequence at position {}:\n{}",
        pos + 1,
        point_at(line, pos)
    )
}

/// Handles the backslash at `chars[i]`; returns the index after the sequence, or the
/// position of a bad `\x` sequence.
fn escape(chars: &[char], i: usize, cur: &mut String) -> Result<usize, usize> {
    let Some(&n) = chars.get(i + 1) else {
        // A trailing backslash stays as it is.
        cur.push('\\');
        return Ok(i + 1);
    };
    match n {
        ' ' | '\t' | '#' | '\\' | '\'' | '"' | '$' => cur.push(n),
        'n' => cur.push('\n'),
        'r' => cur.push('\r'),
        't' => cur.push('\t'),
        'x' => {
            let hex: String = chars.iter().skip(i + 2).take(2).collect();
            let byte = if hex.len() == 2 {
                u8::from_str_radix(&hex, 16).ok()
            } else {
                None
            };
            let byte = byte.ok_or(i)?;
            cur.push(char::from(byte));
            return Ok(i + 4);
        }
        // Unknown sequences are kept verbatim so regexes like `\d` survive unquoted.
        _ => {
            cur.push('\\');
            cur.push(n);
        }
    }
    Ok(i + 2)
}

/// Expands `$NAME`, `${NAME}`, `${NAME-default}` or `${NAME[*]}` at `chars[i]` (the `$`).
/// `[*]` splits the value on blanks into several words. Returns the index after it, or the
/// position of an unterminated brace.
fn expand(
    chars: &[char],
    i: usize,
    ctx: &Ctx<'_>,
    cur: &mut String,
    words: &mut Vec<String>,
) -> Result<usize, usize> {
    let is_name = |c: char, first: bool| {
        c == '_' || c.is_ascii_alphabetic() || (!first && c.is_ascii_digit())
    };
    let (spec, next) = if chars.get(i + 1) == Some(&'{') {
        let close = chars[i + 2..].iter().position(|&c| c == '}').ok_or(i + 1)?;
        let inner: String = chars[i + 2..i + 2 + close].iter().collect();
        (inner, i + 3 + close)
    } else {
        let mut j = i + 1;
        // Pseudo-variables are the only names allowed to start with a dot.
        if chars.get(j) == Some(&'.') {
            j += 1;
        }
        while j < chars.len() && is_name(chars[j], j == i + 1) {
            j += 1;
        }
        (chars[i + 1..j].iter().collect(), j)
    };
    if spec.is_empty() {
        cur.push('$');
        return Ok(i + 1);
    }
    let (name, default, split) = if let Some(n) = spec.strip_suffix("[*]") {
        (n.to_string(), None, true)
    } else if let Some((n, d)) = spec.split_once('-') {
        (n.to_string(), Some(d.to_string()), false)
    } else {
        (spec, None, false)
    };
    let value = ctx.var(&name).or(default).unwrap_or_default();
    if split {
        let mut parts = value.split_whitespace();
        if let Some(first) = parts.next() {
            cur.push_str(first);
        }
        for p in parts {
            words.push(std::mem::take(cur));
            cur.push_str(p);
        }
    } else {
        cur.push_str(&value);
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/root".into()),
            "EMPTY" => Some(String::new()),
            "LIST" => Some("a b  c".into()),
            "PORT" => Some("8080".into()),
            _ => None,
        }
    }

    fn words(line: &str) -> Vec<String> {
        let lexed = lex("t.cfg", line, &env);
        assert!(lexed.diags.is_empty(), "{:?}", lexed.diags);
        lexed
            .lines
            .into_iter()
            .next()
            .map(|l| l.words)
            .unwrap_or_default()
    }

    #[test]
    fn quoting_and_escaping() {
        let cases: &[(&str, &[&str])] = &[
            ("  bind  :80   name x ", &["bind", ":80", "name", "x"]),
            ("log-format %t\\ %s", &["log-format", "%t %s"]),
            ("a \"b c\" 'd e'", &["a", "b c", "d e"]),
            ("a \"x\"'y'z", &["a", "xyz"]),
            ("a b#c d", &["a", "b"]),
            ("a \"#x\" '#y' \\#z", &["a", "#x", "#y", "#z"]),
            ("a \\\\ \\\" \\'", &["a", "\\", "\"", "'"]),
            ("a \\r\\n\\t", &["a", "\r\n\t"]),
            ("a \\x41\\x7e \"\\x42\"", &["a", "A~", "B"]),
            ("a '\\n' '$HOME'", &["a", "\\n", "$HOME"]),
            ("a \\d+ \"\\$\"", &["a", "\\d+", "$"]),
            ("a\tb\r", &["a", "b"]),
            ("a b \"\" c", &["a", "b"]),
        ];
        for (line, want) in cases {
            assert_eq!(words(line), *want, "{line}");
        }
    }

    #[test]
    fn environment() {
        let cases: &[(&str, &[&str])] = &[
            ("a $HOME", &["a", "$HOME"]),
            ("a \"$HOME\" \"${HOME}/x\"", &["a", "/root", "/root/x"]),
            ("a \"[${UNSET}]\"", &["a", "[]"]),
            ("a \"${UNSET-def}\" \"${EMPTY-def}\"", &["a", "def"]),
            ("a \"${LIST[*]}\" z", &["a", "a", "b", "c", "z"]),
            ("bind \"127.0.0.1:${PORT}\"", &["bind", "127.0.0.1:8080"]),
            ("a \"cost $5\"", &["a", "cost $5"]),
            ("a \"$.FILE:$.LINE\"", &["a", "t.cfg:1"]),
        ];
        for (line, want) in cases {
            assert_eq!(words(line), *want, "{line}");
        }
        let l = lex("t.cfg", "backend app\n  x \"${.SECTION}\"", &env);
        assert_eq!(l.lines[1].words, ["x", "app"]);
    }

    #[test]
    fn lexing_errors() {
        let cases = [
            (
                "a \"open",
                "unmatched quote at position 3:\n  a \"open\n    ^",
            ),
            (
                "a \"${X\"",
                "unmatched brace in environment variable name at position 5",
            ),
            (
                "a \\xZZ",
                "truncated or invalid hexadecimal sequence at position 3",
            ),
        ];
        for (line, want) in cases {
            let l = lex("t.cfg", line, &env);
            assert_eq!(l.diags.len(), 1, "{line}");
            assert!(
                l.diags[0]
                    .to_string()
                    .starts_with(&format!("parsing [t.cfg:1]: {want}")),
                "{}",
                l.diags[0]
            );
            assert!(l.lines.is_empty());
        }
    }

    fn kept(text: &str) -> (Vec<String>, Vec<String>) {
        let l = lex("t.cfg", text, &env);
        let lines = l.lines.iter().map(|l| l.words.join(" ")).collect();
        let diags = l.diags.iter().map(ToString::to_string).collect();
        (lines, diags)
    }

    #[test]
    fn conditions() {
        let cases: &[(&str, &[&str])] = &[
            (".if 1\na\n.endif\nb", &["a", "b"]),
            (".if 0\na\n.endif\nb", &["b"]),
            (".if\na\n.else\nc\n.endif", &["c"]),
            (".if defined(HOME)\na\n.endif", &["a"]),
            (
                ".if defined(NOPE)\na\n.elif defined(EMPTY)\nb\n.else\nc\n.endif",
                &["b"],
            ),
            (".if !defined(NOPE)\na\n.endif", &["a"]),
            (".if feature(OPENSSL)\na\n.else\nb\n.endif", &["b"]),
            (".if version_atleast(2.6)\na\n.endif", &["a"]),
            (".if version_atleast(2.7)\na\n.endif", &["b"; 0]),
            (
                ".if version_before(2.7) && version_atleast(2.4-dev19)\na\n.endif",
                &["a"],
            ),
            (".if 0 || (1 && defined(HOME))\na\n.endif", &["a"]),
            (".if streq(\"$EMPTY\",)\na\n.endif", &["a"]),
            (".if strneq(\"$HOME\",/root)\na\n.endif", &["b"; 0]),
            (
                ".if 1\n.if 0\na\n.else\nb\n.endif\n.else\nc\n.endif",
                &["b"],
            ),
            (".if 0\n.if 1\na\n.endif\n.else\nc\n.endif", &["c"]),
            (".if 1 # comment\na\n.endif", &["a"]),
        ];
        for (text, want) in cases {
            let (lines, diags) = kept(text);
            assert!(diags.is_empty(), "{text}: {diags:?}");
            assert_eq!(lines, *want, "{text}");
        }
    }

    #[test]
    fn condition_errors_and_messages() {
        let cases: &[(&str, &str)] = &[
            (".else", "parsing [t.cfg:1]: lone '.else' with no matching '.if'."),
            (".elif 1", "parsing [t.cfg:1]: lone '.elif' with no matching '.if'."),
            (".endif", "parsing [t.cfg:1]: lone '.endif' with no matching '.if'."),
            (".if 1\na", "parsing [t.cfg:1]: non-terminated '.if' block."),
            (".if 1\n.else\n.else\n.endif", "parsing [t.cfg:3]: '.else' after '.else' is not permitted."),
            (".if foo(1)\n.endif", "parsing [t.cfg:1]: unparsable conditional expression 'foo(1)'"),
            (".notice \"hello $HOME\"", "parsing [t.cfg:1]: 'hello /root'."),
            (".warning w", "parsing [t.cfg:1]: 'w'."),
            (".alert \"stop\"", "parsing [t.cfg:1]: 'stop'."),
            (
                ".notice a b",
                "parsing [t.cfg:1]: Unexpected argument 'b' for '.notice'. Use quotes if the message should contain spaces.",
            ),
        ];
        for (text, want) in cases {
            let (_, diags) = kept(text);
            assert_eq!(diags.len(), 1, "{text}: {diags:?}");
            assert!(diags[0].starts_with(want), "{text}: {}", diags[0]);
        }
        let l = lex(
            "t.cfg",
            ".alert x\n.warning y\n.notice z\n.diag d\n.if 0\n.alert no\n.endif",
            &env,
        );
        let sev: Vec<Severity> = l.diags.iter().map(|d| d.severity).collect();
        assert_eq!(sev, [Severity::Alert, Severity::Warning, Severity::Notice]);
    }

    #[test]
    fn locations_are_kept() {
        let l = lex("f.cfg", "# c\n\nglobal\n  daemon\n", &env);
        let locs: Vec<String> = l.lines.iter().map(|l| l.location.to_string()).collect();
        assert_eq!(locs, ["f.cfg:3", "f.cfg:4"]);
    }
}
