//! Diagnostics: every problem found while loading, with its severity and `file:line`, printed
//! the way HAProxy 2.6 prints them (`[ALERT]    (PID) : config : parsing [file:line] : msg`).
//! Loading never stops at the first problem, so a user sees all of them at once.

use crate::model::Location;

/// HAProxy's message levels. `Alert` is fatal: the configuration is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Alert,
    Warning,
    Notice,
}

/// How the location is written before the message. HAProxy is not uniform here (keyword
/// parsers print `parsing [f:l] : `, server parsing prints `[f:l] : `, section headers print
/// `Parsing [f:l]: `, `.notice`-style directives print `parsing [f:l]: `) and users grep for
/// these lines, so each diagnostic keeps the style of the HAProxy message it mirrors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// `parsing [file:line] : msg`
    #[default]
    Parsing,
    /// `parsing [file:line]: msg`
    ParsingTight,
    /// `Parsing [file:line]: msg`
    ParsingCapital,
    /// `[file:line] : msg`
    Bracket,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Option<Location>,
    pub message: String,
    pub style: Style,
}

impl Diagnostic {
    pub fn alert(loc: &Location, message: impl Into<String>) -> Self {
        Self::new(Severity::Alert, Some(loc.clone()), message)
    }

    pub fn warning(loc: &Location, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, Some(loc.clone()), message)
    }

    /// A message about the whole configuration (post-parse checks), with no `parsing [..]`.
    pub fn global(severity: Severity, message: impl Into<String>) -> Self {
        Self::new(severity, None, message)
    }

    pub fn new(severity: Severity, location: Option<Location>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            location,
            message: message.into(),
            style: Style::Parsing,
        }
    }

    pub fn with_style(mut self, style: Style) -> Self {
        self.style = style;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Alert
    }

    /// The full line HAProxy would print on stderr, e.g.
    /// `[ALERT]    (1234) : config : parsing [a.cfg:3] : unknown keyword 'x' in 'global' section`.
    pub fn render(&self, pid: u32) -> String {
        let tag = match self.severity {
            Severity::Alert => "[ALERT]    ",
            Severity::Warning => "[WARNING]  ",
            Severity::Notice => "[NOTICE]   ",
        };
        format!("{tag}({pid}) : config : {self}")
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            None => f.write_str(&self.message),
            Some(loc) => match self.style {
                Style::Parsing => write!(f, "parsing [{loc}] : {}", self.message),
                Style::ParsingTight => write!(f, "parsing [{loc}]: {}", self.message),
                Style::ParsingCapital => write!(f, "Parsing [{loc}]: {}", self.message),
                Style::Bracket => write!(f, "[{loc}] : {}", self.message),
            },
        }
    }
}

/// The suffix HAProxy appends to "unknown keyword" errors.
pub fn did_you_mean_suffix(suggestion: Option<&str>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean '{s}' maybe ?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_haproxy() {
        let loc = Location {
            file: "a.cfg".into(),
            line: 3,
        };
        let cases = [
            (
                Diagnostic::alert(&loc, "boom"),
                "[ALERT]    (7) : config : parsing [a.cfg:3] : boom",
            ),
            (
                Diagnostic::warning(&loc, "hm"),
                "[WARNING]  (7) : config : parsing [a.cfg:3] : hm",
            ),
            (
                Diagnostic::alert(&loc, "x").with_style(Style::Bracket),
                "[ALERT]    (7) : config : [a.cfg:3] : x",
            ),
            (
                Diagnostic::new(Severity::Notice, Some(loc.clone()), "'n'.")
                    .with_style(Style::ParsingTight),
                "[NOTICE]   (7) : config : parsing [a.cfg:3]: 'n'.",
            ),
            (
                Diagnostic::alert(&loc, "dup").with_style(Style::ParsingCapital),
                "[ALERT]    (7) : config : Parsing [a.cfg:3]: dup",
            ),
            (
                Diagnostic::global(Severity::Alert, "whole"),
                "[ALERT]    (7) : config : whole",
            ),
        ];
        for (d, want) in cases {
            assert_eq!(d.render(7), want);
        }
    }
}
