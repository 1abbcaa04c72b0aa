//! Reads the lexer's lines into sections (manual sections 3 "Global parameters", 3.4
//! "Userlists" and 4 "Proxies"): tracks which section a line belongs to, creates proxies from
//! their defaults (`from NAME` or the last `defaults`), and hands each keyword to the module
//! owning it. Problems are collected, never fatal: parsing goes on with the next line.

mod addr;
mod balance;
mod bind;
mod check;
pub(crate) mod draft;
mod global;
mod log;
mod proxy;
mod server;
mod tls;
mod userlist;

use crate::diag::{did_you_mean_suffix, Diagnostic, Style};
use crate::keywords::{unsupported, GLOBAL_KEYWORDS, SECTION_NAMES};
use crate::lexer::Line;
use crate::model::{Global, Location, Userlist};
use crate::units::did_you_mean;
use draft::{Kind, ProxyDraft};

pub(crate) use check::merged as check_merged;

/// Where the lines being read go.
enum Section {
    /// Before the first section header.
    None,
    Global,
    /// Index into `Parser::defaults`.
    Defaults(usize),
    /// Index into `Parser::proxies`.
    Proxy(usize),
    Userlist(usize),
    /// A section Sluice does not implement: its lines are skipped (the header was refused).
    Skipped,
}

/// Everything read so far, across all files.
pub(crate) struct Parser {
    pub global: Global,
    pub defaults: Vec<ProxyDraft>,
    pub proxies: Vec<ProxyDraft>,
    pub userlists: Vec<Userlist>,
    pub diags: Vec<Diagnostic>,
    section: Section,
}

impl Parser {
    pub fn new() -> Self {
        Parser {
            global: crate::parser::global::default_global(),
            defaults: Vec::new(),
            proxies: Vec::new(),
            userlists: Vec::new(),
            diags: Vec::new(),
            section: Section::None,
        }
    }

    /// A new file starts outside any section, as in HAProxy.
    pub fn start_file(&mut self) {
        self.section = Section::None;
    }

    pub fn line(&mut self, line: &Line) {
        let kw = line.words[0].as_str();
        if SECTION_NAMES.contains(&kw) {
            self.header(line);
            return;
        }
        match self.section {
            Section::None => {
                self.diags.push(
                    Diagnostic::alert(
                        &line.location,
                        format!("unknown keyword '{kw}' out of section."),
                    )
                    .with_style(Style::ParsingTight),
                );
            }
            Section::Global => global::keyword(&mut self.global, line, &mut self.diags),
            Section::Defaults(i) => {
                let global = &self.global;
                proxy::keyword(&mut self.defaults[i], line, global, &mut self.diags);
            }
            Section::Proxy(i) => {
                let global = &self.global;
                proxy::keyword(&mut self.proxies[i], line, global, &mut self.diags);
            }
            Section::Userlist(i) => {
                userlist::keyword(&mut self.userlists[i], line, &mut self.diags)
            }
            Section::Skipped => {}
        }
    }

    fn header(&mut self, line: &Line) {
        let loc = &line.location;
        let kw = line.words[0].as_str();
        let kind = match kw {
            "global" => {
                if let Some(extra) = line.words.get(1) {
                    self.diags.push(Diagnostic::alert(
                        loc,
                        format!("'global' cannot handle unexpected argument '{extra}'."),
                    ));
                }
                self.section = Section::Global;
                return;
            }
            "userlist" => {
                self.section = match userlist::header(line, &self.userlists, &mut self.diags) {
                    Some(u) => {
                        self.userlists.push(u);
                        Section::Userlist(self.userlists.len() - 1)
                    }
                    None => Section::Skipped,
                };
                return;
            }
            "defaults" => Kind::Defaults,
            "frontend" => Kind::Frontend,
            "backend" => Kind::Backend,
            "listen" => Kind::Listen,
            other => {
                self.diags.push(Diagnostic::alert(
                    loc,
                    unsupported(&format!("the '{other}' section"), other),
                ));
                self.section = Section::Skipped;
                return;
            }
        };
        self.proxy_header(kind, line);
    }

    /// `defaults [NAME] [from DEFAULTS]`, `frontend|backend|listen NAME [from DEFAULTS]`.
    fn proxy_header(&mut self, kind: Kind, line: &Line) {
        let loc = &line.location;
        let kw = kind.section();
        let mut args: &[String] = &line.words[1..];
        let mut name = String::new();
        if args.first().is_some_and(|a| a != "from") || (kind != Kind::Defaults && !args.is_empty())
        {
            name = args[0].clone();
            args = &args[1..];
        }
        if name.is_empty() && kind != Kind::Defaults {
            self.diags.push(Diagnostic::alert(
                loc,
                format!("'{kw}' expects an <id> argument"),
            ));
            self.section = Section::Skipped;
            return;
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
        {
            self.diags.push(Diagnostic::alert(
                loc,
                format!("character '{bad}' is not permitted in '{kw}' name '{name}'."),
            ));
        }
        let mut from: Option<String> = None;
        if args.first().is_some_and(|a| a == "from") {
            match args.get(1) {
                Some(f) => from = Some(f.clone()),
                None => self.diags.push(Diagnostic::alert(
                    loc,
                    format!("'{kw}' : 'from' expects a defaults section name."),
                )),
            }
            args = &args[args.len().min(2)..];
        }
        if let Some(extra) = args.first() {
            self.diags.push(Diagnostic::alert(
                loc,
                format!("'{kw}' cannot handle unexpected argument '{extra}'."),
            ));
            if kind != Kind::Defaults && kind != Kind::Backend {
                self.diags.push(Diagnostic::alert(
                    loc,
                    "please use the 'bind' keyword for listening addresses.",
                ));
            }
        }
        let base = match &from {
            Some(f) => match self.defaults.iter().rposition(|d| d.name == *f) {
                Some(i) => Some(i),
                None => {
                    self.diags.push(Diagnostic::alert(
                        loc,
                        format!(
                            "defaults section '{f}' not found for {} '{name}'.",
                            kind.type_str()
                        ),
                    ));
                    None
                }
            },
            None => self.defaults.len().checked_sub(1),
        };
        // A `from` of a defaults section names its own parent; a plain `defaults` starts
        // from HAProxy's built-in values ("resets all settings to the documented ones").
        let mut draft = match (kind, base, &from) {
            (Kind::Defaults, _, None) | (_, None, _) => ProxyDraft::fresh(kind, &name, loc),
            (_, Some(i), _) => {
                self.check_defaults_rules(i, kind, loc);
                ProxyDraft::inherit(&self.defaults[i], i, kind, &name, loc)
            }
        };
        draft.kind = kind;
        if kind == Kind::Defaults {
            self.defaults.push(draft);
            self.section = Section::Defaults(self.defaults.len() - 1);
            return;
        }
        self.check_duplicate_name(kind, &name, loc);
        self.proxies.push(draft);
        self.section = Section::Proxy(self.proxies.len() - 1);
    }

    /// The checks HAProxy 2.6 makes when a section is created from a `defaults` section that
    /// defines TCP/HTTP rules (its `cfg_parse_listen`): such a section may seed only
    /// frontends or only backends, never a `listen` or another `defaults`, no backend when it
    /// has `tcp-request connection|session` rules, and no backend when it declares captures.
    fn check_defaults_rules(&mut self, i: usize, kind: Kind, loc: &Location) {
        use crate::keywords::{BE, FE};
        let def = &self.defaults[i];
        let at = def.location.clone();
        let mut alerts = Vec::new();
        if def.has_rules() {
            if kind == Kind::Defaults {
                alerts.push(format!("a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at {at})."));
            } else if kind == Kind::Listen {
                alerts.push("a listen section cannot inherit from a defaults section defining TCP/HTTP rules.".to_string());
            } else {
                let cap = kind.caps() & (FE | BE);
                if def.rules_used_by != 0 && def.rules_used_by != cap {
                    alerts.push(format!("frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at {at})."));
                } else if cap == BE && def.has_l4_l5_rules() {
                    alerts.push(format!("a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules (defaults section at {at})."));
                } else {
                    self.defaults[i].rules_used_by = cap;
                }
            }
        }
        let def = &self.defaults[i];
        let captures = !def.capture_request.is_empty() || !def.capture_response.is_empty();
        if captures && (kind == Kind::Defaults || kind.caps() & BE != 0) {
            // (sic: "capptures" is HAProxy's spelling)
            alerts.push(format!("backend or defaults sections cannot inherit from a defaults section defining capptures (defaults section at {at})."));
        }
        for a in alerts {
            self.diags
                .push(Diagnostic::alert(loc, a).with_style(Style::ParsingTight));
        }
    }

    /// HAProxy refuses a proxy whose name is already used by one with the same capability
    /// (a frontend and a backend may share a name). A frontend-capable newcomer is compared
    /// with frontends only, otherwise with backends, exactly as HAProxy looks them up.
    fn check_duplicate_name(&mut self, kind: Kind, name: &str, loc: &Location) {
        use crate::keywords::{BE, FE};
        let cap = if kind.caps() & FE != 0 { FE } else { BE };
        if let Some(prev) = self.proxies.iter().find(|p| p.name == name && p.has(cap)) {
            self.diags.push(
                Diagnostic::alert(
                    loc,
                    format!(
                        "{} '{name}' has the same name as {} '{name}' declared at {}.",
                        kind.type_str(),
                        prev.kind.type_str(),
                        prev.location
                    ),
                )
                .with_style(Style::ParsingCapital),
            );
        }
    }
}

/// "unknown keyword 'X' in 'S' section; did you mean 'Y' maybe ?"
pub(crate) fn unknown_keyword<'a>(
    kw: &str,
    section: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    format!(
        "unknown keyword '{kw}' in '{section}' section{}",
        did_you_mean_suffix(did_you_mean(kw, candidates))
    )
}

/// Candidates for suggestions in the global section.
pub(crate) fn global_candidates() -> impl Iterator<Item = &'static str> {
    GLOBAL_KEYWORDS
        .iter()
        .copied()
        .chain(SECTION_NAMES.iter().copied())
}
