//! `balance` and `hash-type` (manual section 4.2): the algorithms Sluice implements, with
//! HAProxy's error texts; `rdp-cookie` and `hash <expr>` are refused as not supported yet.

use super::draft::ProxyDraft;
use crate::diag::did_you_mean_suffix;
use crate::keywords::unsupported;
use crate::model::{Balance, HashFunction, HashSpec, HashType};
use crate::units::did_you_mean;

const ALGORITHMS: &[&str] = &[
    "roundrobin",
    "static-rr",
    "leastconn",
    "first",
    "source",
    "random",
    "uri",
    "url_param",
    "hdr",
    "rdp-cookie",
];

/// `balance ...` (the words after `balance`).
pub fn balance(p: &mut ProxyDraft, args: &[String]) -> Result<(), String> {
    let Some(algo) = args.first().map(String::as_str) else {
        // HAProxy takes a bare `balance` as round robin.
        p.balance = Balance::RoundRobin;
        return Ok(());
    };
    p.balance = match algo {
        "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "leastconn" => Balance::LeastConn,
        "first" => Balance::First,
        "source" => Balance::Source,
        "random" => Balance::Random { draws: 2 },
        _ if algo.starts_with("random(") => Balance::Random {
            draws: random_draws(algo)?,
        },
        "uri" => uri(&args[1..])?,
        "url_param" => {
            let Some(name) = args.get(1) else {
                return Err("balance url_param requires an URL parameter name.".into());
            };
            if let Some(extra) = args.get(2) {
                return Err(unsupported(
                    &format!("'balance url_param {name} {extra}'"),
                    "",
                ));
            }
            Balance::UrlParam { name: name.clone() }
        }
        _ if algo.starts_with("hdr(") && algo.ends_with(')') => {
            let name = &algo[4..algo.len() - 1];
            if name.is_empty() {
                return Err("balance hdr() requires an http header field name.".into());
            }
            let use_domain_only = match args.get(1).map(String::as_str) {
                None => false,
                Some("use_domain_only") => true,
                Some(other) => {
                    return Err(format!(
                        "balance {algo} only accepts 'use_domain_only' modifier (got '{other}')."
                    ));
                }
            };
            Balance::Hdr {
                name: name.to_string(),
                use_domain_only,
            }
        }
        _ if algo == "hash" || algo.starts_with("rdp-cookie") => {
            return Err(unsupported(&format!("'balance {algo}'"), ""));
        }
        _ => {
            // HAProxy's sentence, whose final period gives way to the suggestion if any.
            let mut hint = did_you_mean_suffix(did_you_mean(algo, ALGORITHMS.iter().copied()));
            if hint.is_empty() {
                hint.push('.');
            }
            return Err(format!(
                "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options{hint}"
            ));
        }
    };
    Ok(())
}

/// `random(N)`: N draws, at least 1.
fn random_draws(algo: &str) -> Result<u32, String> {
    let inner = &algo["random(".len()..];
    let digits = inner.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &inner[digits..];
    if rest != ")" {
        let c = rest.chars().next().unwrap_or(' ');
        return Err(format!(
            "balance random : unexpected character '{c}' after argument."
        ));
    }
    match inner[..digits].parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("balance random : number of draws must be at least 1.".into()),
    }
}

/// `uri [whole] [len N] [depth N] [path-only]`.
fn uri(args: &[String]) -> Result<Balance, String> {
    let (mut whole, mut len, mut depth, mut path_only) = (false, None, None, false);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "whole" => whole = true,
            "path-only" => path_only = true,
            kw @ ("len" | "depth") => {
                let v = args.get(i + 1).map_or("", String::as_str);
                let n = crate::units::strict_u64(v)
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("balance uri : '{kw}' expects a positive integer (got '{v}')."))?;
                if kw == "len" {
                    len = Some(n);
                } else {
                    depth = Some(n);
                }
                i += 1;
            }
            other => {
                return Err(format!(
                    "balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '{other}')."
                ))
            }
        }
        i += 1;
    }
    Ok(Balance::Uri {
        whole,
        len,
        depth,
        path_only,
    })
}

/// `hash-type map-based|consistent [sdbm|djb2|wt6|crc32] [avalanche]`.
pub fn hash_type(p: &mut ProxyDraft, args: &[String]) -> Result<(), String> {
    let kind = match args.first().map(String::as_str) {
        Some("map-based") => HashType::MapBased,
        Some("consistent") => HashType::Consistent,
        _ => return Err("'hash-type' only supports 'consistent' and 'map-based'.".into()),
    };
    let mut spec = HashSpec {
        kind,
        ..HashSpec::default()
    };
    if let Some(f) = args.get(1) {
        spec.function =
            match f.as_str() {
                "sdbm" => HashFunction::Sdbm,
                "djb2" => HashFunction::Djb2,
                "wt6" => HashFunction::Wt6,
                "crc32" => HashFunction::Crc32,
                _ => return Err(
                    "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions."
                        .into(),
                ),
            };
        spec.function_given = true;
    }
    if let Some(m) = args.get(2) {
        if m != "avalanche" {
            return Err(
                "'hash-type' only supports 'avalanche' as a modifier for hash functions.".into(),
            );
        }
        spec.avalanche = true;
    }
    p.hash = spec;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Location;
    use crate::parser::draft::Kind;

    fn w(s: &str) -> Vec<String> {
        s.split(' ')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    }

    fn run(s: &str) -> Result<Balance, String> {
        let mut p = ProxyDraft::fresh(Kind::Backend, "b", &Location::default());
        p.balance = Balance::LeastConn;
        balance(&mut p, &w(s)).map(|()| p.balance)
    }

    #[test]
    fn algorithms() {
        let uri = |whole, len, depth, path_only| Balance::Uri {
            whole,
            len,
            depth,
            path_only,
        };
        let cases = [
            ("", Balance::RoundRobin),
            ("roundrobin", Balance::RoundRobin),
            ("static-rr", Balance::StaticRr),
            ("leastconn", Balance::LeastConn),
            ("first", Balance::First),
            ("source", Balance::Source),
            ("random", Balance::Random { draws: 2 }),
            ("random(5)", Balance::Random { draws: 5 }),
            ("uri", uri(false, None, None, false)),
            (
                "uri whole len 10 depth 2 path-only",
                uri(true, Some(10), Some(2), true),
            ),
            ("url_param uid", Balance::UrlParam { name: "uid".into() }),
            (
                "hdr(host)",
                Balance::Hdr {
                    name: "host".into(),
                    use_domain_only: false,
                },
            ),
            (
                "hdr(Host) use_domain_only",
                Balance::Hdr {
                    name: "Host".into(),
                    use_domain_only: true,
                },
            ),
        ];
        for (s, want) in cases {
            assert_eq!(run(s), Ok(want), "{s}");
        }
    }

    #[test]
    fn algorithm_errors() {
        let cases = [
            ("random(0)", "balance random : number of draws must be at least 1."),
            ("random(x)", "balance random : unexpected character 'x' after argument."),
            ("uri len", "balance uri : 'len' expects a positive integer (got '')."),
            ("uri foo", "balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got 'foo')."),
            ("url_param", "balance url_param requires an URL parameter name."),
            ("hdr(host) foo", "balance hdr(host) only accepts 'use_domain_only' modifier (got 'foo')."),
            ("hdr()", "balance hdr() requires an http header field name."),
            ("hdr", "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options."),
            ("roundrobn", "options; did you mean 'roundrobin' maybe ?"),
            ("rdp-cookie", "'balance rdp-cookie' is not supported by Sluice yet."),
            ("url_param x check_post", "not supported by Sluice yet"),
        ];
        for (s, want) in cases {
            let r = run(s);
            assert!(r.as_ref().is_err_and(|e| e.contains(want)), "{s}: {r:?}");
        }
    }

    #[test]
    fn hash_types() {
        let spec = |kind, function, function_given, avalanche| HashSpec {
            kind,
            function,
            function_given,
            avalanche,
        };
        let cases = [
            (
                "map-based",
                spec(HashType::MapBased, HashFunction::Sdbm, false, false),
            ),
            (
                "consistent",
                spec(HashType::Consistent, HashFunction::Sdbm, false, false),
            ),
            (
                "consistent djb2",
                spec(HashType::Consistent, HashFunction::Djb2, true, false),
            ),
            (
                "consistent wt6 avalanche",
                spec(HashType::Consistent, HashFunction::Wt6, true, true),
            ),
            (
                "map-based crc32",
                spec(HashType::MapBased, HashFunction::Crc32, true, false),
            ),
        ];
        for (s, want) in cases {
            let mut p = ProxyDraft::fresh(Kind::Backend, "b", &Location::default());
            assert_eq!(hash_type(&mut p, &w(s)), Ok(()), "{s}");
            assert_eq!(p.hash, want, "{s}");
        }
        let errs = [
            (
                "",
                "'hash-type' only supports 'consistent' and 'map-based'.",
            ),
            (
                "foo",
                "'hash-type' only supports 'consistent' and 'map-based'.",
            ),
            (
                "consistent foo",
                "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.",
            ),
            (
                "consistent sdbm bar",
                "'hash-type' only supports 'avalanche' as a modifier for hash functions.",
            ),
        ];
        for (s, want) in errs {
            let mut p = ProxyDraft::fresh(Kind::Backend, "b", &Location::default());
            assert_eq!(hash_type(&mut p, &w(s)), Err(want.to_string()), "{s}");
        }
    }
}
