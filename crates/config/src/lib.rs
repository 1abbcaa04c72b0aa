//! HAProxy configuration language: text -> sections and keywords (with `file:line`) -> the
//! validated [`model::Config`]. Implements the parts of HAProxy's `doc/configuration.txt`
//! sections 2 (quoting, environment, conditions) and 3-4 (global, defaults, frontend, backend,
//! listen, userlist) that Sluice supports; everything else is refused with a diagnostic worded
//! like HAProxy 2.6's, or "not supported by Sluice yet" for HAProxy features Sluice lacks.

pub mod cond;
pub mod diag;
mod finalize;
pub mod keywords;
pub mod lexer;
pub mod model;
mod parser;
pub mod units;

use std::path::{Path, PathBuf};

pub use diag::{Diagnostic, Severity, Style};
pub use model::*;

/// A configuration that loaded, with the warnings and notices HAProxy would print.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

/// Loads files and directories (a directory contributes its `*.cfg` files in lexical order,
/// as HAProxy's `-f DIR` does), with the process environment. On error, every diagnostic
/// (alerts, warnings, notices) comes back in order.
pub fn load_paths(paths: &[PathBuf]) -> Result<Loaded, Vec<Diagnostic>> {
    let env = |name: &str| std::env::var(name).ok();
    let mut diags = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        match read_path(path, &mut files) {
            Ok(()) => {}
            Err(e) => diags.push(Diagnostic::global(
                Severity::Alert,
                format!(
                    "Cannot open configuration file/directory {} : {}",
                    path.display(),
                    io_text(&e)
                ),
            )),
        }
    }
    load_files(files, &env, diags)
}

/// Loads one configuration given as text; `file_name` is what messages call it.
pub fn load_str(
    file_name: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, Vec<Diagnostic>> {
    load_files(
        vec![(file_name.to_string(), text.to_string())],
        env,
        Vec::new(),
    )
}

/// For fuzzing: any bytes, lossily decoded, must give diagnostics and never a panic.
pub fn fuzz_parse(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let _ = load_str("fuzz.cfg", &text, &|_| None);
}

/// The OS error text without Rust's " (os error N)", as C's strerror() prints it.
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn read_path(path: &Path, files: &mut Vec<(String, String)>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut names: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "cfg"))
            .collect();
        names.sort();
        for p in names {
            read_path(&p, files)?;
        }
        return Ok(());
    }
    let bytes = std::fs::read(path)?;
    files.push((
        path.display().to_string(),
        String::from_utf8_lossy(&bytes).into_owned(),
    ));
    Ok(())
}

fn load_files(
    files: Vec<(String, String)>,
    env: &dyn Fn(&str) -> Option<String>,
    mut diags: Vec<Diagnostic>,
) -> Result<Loaded, Vec<Diagnostic>> {
    let mut parser = parser::Parser::new();
    for (name, text) in &files {
        parser.start_file();
        let lexed = lexer::lex(name, text, env);
        for line in &lexed.lines {
            parser.line(line);
        }
        // Lexing and parsing problems of one file, in line order (stable: same-line
        // messages keep the order they were found in).
        let mut file_diags = lexed.diags;
        file_diags.append(&mut parser.diags);
        file_diags.sort_by_key(|d| d.location.as_ref().map_or(0, |l| l.line));
        diags.append(&mut file_diags);
    }
    let (config, mut post) = finalize::finalize(parser);
    diags.append(&mut post);
    if diags.iter().any(Diagnostic::is_error) {
        Err(diags)
    } else {
        Ok(Loaded {
            config,
            warnings: diags,
        })
    }
}

#[cfg(test)]
mod tests;
