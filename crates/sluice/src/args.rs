//! HAProxy's command-line flags (management guide 3 "Starting HAProxy"), plus `--threads N`
//! (an explicit worker count, overriding `nbthread`, for benchmarks).

use std::path::PathBuf;

pub const USAGE: &str = "Usage : sluice [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -c ] [ -q ] [ -p <pidfile> ] [ -N <maxconn> ] [ --threads <n> ]
        -v displays version ; -vv shows known build options.
        -d enters debug mode (foreground) ; -db only disables background mode.
        -D goes daemon ; -p writes pids of all children to this file
        -c check mode : only check config files and exit
        -q quiet mode : don't display messages
        -N sets the default, per-proxy maximum # of connections
        --threads sets the number of worker threads (overrides nbthread)";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub files: Vec<PathBuf>,
    pub check: bool,
    pub foreground: bool,
    pub daemon: bool,
    pub quiet: bool,
    pub pidfile: Option<PathBuf>,
    pub maxconn: Option<u32>,
    pub threads: Option<usize>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ParseOutcome {
    Run(Args),
    /// `-v` (false) or `-vv` (true).
    Version(bool),
    Usage(String),
}

/// Flags HAProxy has that Sluice does not implement yet: refused, never ignored.
const NOT_YET: &[&str] = &[
    "-W", "-Ws", "-S", "-sf", "-st", "-x", "-C", "-L", "-n", "-m", "-dM", "-dr", "-dV",
];

pub fn parse(argv: impl IntoIterator<Item = String>) -> ParseOutcome {
    let mut a = Args::default();
    let mut it = argv.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("'{name}' requires an argument"))
        };
        match arg.as_str() {
            "-v" => return ParseOutcome::Version(false),
            "-vv" => return ParseOutcome::Version(true),
            "-c" => a.check = true,
            "-d" | "-db" => a.foreground = true,
            "-D" => a.daemon = true,
            "-q" => a.quiet = true,
            "-f" => match value("-f") {
                Ok(v) => a.files.push(PathBuf::from(v)),
                Err(e) => return ParseOutcome::Usage(e),
            },
            "-p" => match value("-p") {
                Ok(v) => a.pidfile = Some(PathBuf::from(v)),
                Err(e) => return ParseOutcome::Usage(e),
            },
            "-N" => match value("-N").and_then(|v| {
                v.parse::<u32>()
                    .map_err(|_| format!("'-N' expects a number, not '{v}'"))
            }) {
                Ok(n) => a.maxconn = Some(n),
                Err(e) => return ParseOutcome::Usage(e),
            },
            "--threads" => match value("--threads").and_then(|v| {
                v.parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("'--threads' expects a number >= 1, not '{v}'"))
            }) {
                Ok(n) => a.threads = Some(n),
                Err(e) => return ParseOutcome::Usage(e),
            },
            "--" => {
                a.files.extend(it.by_ref().map(PathBuf::from));
            }
            other if NOT_YET.contains(&other) => {
                return ParseOutcome::Usage(format!(
                    "option '{other}' is not supported by Sluice yet"
                ));
            }
            other if other.starts_with("-f") && other.len() > 2 => {
                a.files.push(PathBuf::from(&other[2..]))
            }
            other => return ParseOutcome::Usage(format!("unknown option '{other}'")),
        }
    }
    if a.files.is_empty() {
        return ParseOutcome::Usage("No configuration file specified (use -f).".into());
    }
    ParseOutcome::Run(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ParseOutcome {
        parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn haproxy_flags_parse() {
        let ParseOutcome::Run(a) = p("-f a.cfg -f dir -c -db -q -p /tmp/x.pid -N 100 --threads 2")
        else {
            panic!("should parse");
        };
        assert_eq!(a.files, vec![PathBuf::from("a.cfg"), PathBuf::from("dir")]);
        assert!(a.check && a.foreground && a.quiet);
        assert_eq!(a.pidfile, Some(PathBuf::from("/tmp/x.pid")));
        assert_eq!(a.maxconn, Some(100));
        assert_eq!(a.threads, Some(2));
    }

    #[test]
    fn version_flags() {
        assert_eq!(p("-v"), ParseOutcome::Version(false));
        assert_eq!(p("-vv"), ParseOutcome::Version(true));
    }

    #[test]
    fn unsupported_and_unknown_flags_are_refused() {
        assert!(
            matches!(p("-f a -W"), ParseOutcome::Usage(m) if m.contains("not supported by Sluice yet"))
        );
        assert!(matches!(p("-f a -Z"), ParseOutcome::Usage(m) if m.contains("unknown option")));
        assert!(matches!(p("-c"), ParseOutcome::Usage(m) if m.contains("No configuration file")));
        assert!(matches!(p("-f a --threads 0"), ParseOutcome::Usage(_)));
    }
}
