//! Sample fetches (manual sections 7.3.2 internal states, 7.3.3 layer 4,
//! 7.3.4 layer 5 TLS, 7.3.5 layer 6 contents and 7.3.6 layer 7 HTTP): what
//! they read from a [`Txn`], their output type, and where they are usable.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use sluice_tls::{parse_client_hello, ConnInfo, HelloParse};

use crate::args::Call;
use crate::codec;
use crate::error::{err, src, ExprError};
use crate::sample::{parse_int_full, Sample, SmpType};
use crate::txn::{Txn, VarScope};
use crate::userlist::Userlist;

/// Which headers a header fetch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Req,
    Res,
}

#[derive(Debug)]
enum Kind {
    Src,
    SrcPort,
    Dst,
    DstPort,
    Path,
    PathQ,
    Base,
    Url,
    Query,
    UrlParam {
        name: Option<Vec<u8>>,
        delim: u8,
    },
    /// `req.body_param([name[,i]])`: a parameter of a form-encoded body.
    BodyParam {
        name: Option<Vec<u8>>,
        ignore_case: bool,
    },
    Method,
    ReqVer,
    ProtoHttp,
    Hdr {
        dir: Dir,
        name: Option<Vec<u8>>,
        occ: Option<i64>,
        full: bool,
    },
    HdrCnt {
        dir: Dir,
        name: Option<Vec<u8>>,
        full: bool,
    },
    Cook {
        name: Option<Vec<u8>>,
    },
    CookCnt {
        name: Option<Vec<u8>>,
    },
    HttpAuth(Arc<Userlist>),
    HttpAuthGroup(Arc<Userlist>),
    HttpAuthUser,
    HttpAuthPass,
    HttpAuthType,
    Status,
    Var {
        scope: VarScope,
        name: String,
        default: Option<Sample<'static>>,
    },
    Nbsrv(Option<String>),
    BeConn(Option<String>),
    FeConn,
    SrvIsUp {
        be: String,
        srv: String,
    },
    Const(Sample<'static>),
    Rand(Option<u64>),
    Date(i64),
    ReqBody,
    ReqBodyLen,
    ReqLen,
    Payload {
        off: usize,
        len: usize,
    },
    RdpCookieCnt,
    UniqueId,
    WaitEnd,
    /// `ssl_fc*`, `ssl_c_*` (7.3.4): facts of the client connection's TLS layer.
    Ssl(SslKind),
    /// `ssl_c_s_dn` / `ssl_c_i_dn`, whole or one entry.
    SslDn {
        issuer: bool,
        entry: Option<String>,
        occ: i64,
    },
    /// `req.ssl_*` (7.3.5): a ClientHello sniffed from the request buffer.
    Hello(HelloKind),
}

/// The argument-less TLS connection fetches.
#[derive(Debug, Clone, Copy)]
enum SslKind {
    Fc,
    FcSni,
    FcHasSni,
    FcProtocol,
    FcCipher,
    FcAlpn,
    FcIsResumed,
    FcHasCrt,
    CUsed,
    CVerify,
    CSerial,
    CSha1,
    CNotBefore,
    CNotAfter,
}

/// The ClientHello fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HelloKind {
    Sni,
    HelloType,
    Ver,
    Alpn,
    EcExt,
    StExt,
}

/// A compiled sample fetch.
#[derive(Debug)]
pub struct Fetch {
    kind: Kind,
    /// The keyword as written (for messages).
    pub(crate) name: String,
    /// Output type, which decides an ACL's default match method.
    pub(crate) out: SmpType,
    /// Information sources used (see `error::src`).
    pub(crate) uses: u16,
}

/// What compilation needs to resolve arguments.
pub(crate) struct Env<'a> {
    pub userlists: &'a HashMap<String, Arc<Userlist>>,
    pub registry: &'a crate::pattern::PatternRegistry,
}

fn opt_bytes(c: &Call<'_>, i: usize) -> Option<Vec<u8>> {
    c.arg(i).map(|s| s.as_bytes().to_vec())
}

fn int_arg(c: &Call<'_>, i: usize, what: &str) -> Result<Option<i64>, ExprError> {
    match c.arg(i) {
        None => Ok(None),
        Some(s) => match parse_int_full(s) {
            Some(v) => Ok(Some(v)),
            None => err(format!(
                "fetch method '{}' : failed to parse '{s}' as type {what} at position {}",
                c.name,
                i + 1
            )),
        },
    }
}

fn userlist(c: &Call<'_>, env: &Env<'_>) -> Result<Arc<Userlist>, ExprError> {
    let name = c.arg(0).unwrap_or("");
    env.userlists.get(name).cloned().ok_or_else(|| {
        ExprError::new(format!(
            "unable to find userlist '{name}' referenced in arg 1 of ACL keyword '{}'",
            c.name
        ))
        .with_hint("declare it in a 'userlist' section")
    })
}

/// Whether `name` is a fetch keyword.
pub(crate) fn exists(name: &str) -> bool {
    KNOWN.contains(&name)
}

const KNOWN: &[&str] = &[
    "src",
    "src_port",
    "dst",
    "dst_port",
    "path",
    "pathq",
    "base",
    "url",
    "query",
    "url_param",
    "urlp",
    "method",
    "req.ver",
    "req_ver",
    "req.proto_http",
    "hdr",
    "req.hdr",
    "fhdr",
    "req.fhdr",
    "res.hdr",
    "shdr",
    "res.fhdr",
    "hdr_cnt",
    "req.hdr_cnt",
    "fhdr_cnt",
    "req.fhdr_cnt",
    "res.hdr_cnt",
    "shdr_cnt",
    "res.fhdr_cnt",
    "cook",
    "req.cook",
    "cook_cnt",
    "req.cook_cnt",
    "http_auth",
    "http_auth_group",
    "http_auth_user",
    "http_auth_pass",
    "http_auth_type",
    "status",
    "var",
    "nbsrv",
    "be_conn",
    "fe_conn",
    "srv_is_up",
    "always_true",
    "always_false",
    "rand",
    "date",
    "req.body",
    "req.body_len",
    "req.body_param",
    "req.len",
    "req_len",
    "payload",
    "req.payload",
    "req.rdp_cookie_cnt",
    "rdp_cookie_cnt",
    "unique-id",
    "str",
    "int",
    "ipv4",
    "ipv6",
    "bool",
    "wait_end",
    "ssl_fc",
    "ssl_fc_sni",
    "ssl_fc_has_sni",
    "ssl_fc_protocol",
    "ssl_fc_cipher",
    "ssl_fc_alpn",
    "ssl_fc_is_resumed",
    "ssl_fc_has_crt",
    "ssl_c_used",
    "ssl_c_verify",
    "ssl_c_s_dn",
    "ssl_c_i_dn",
    "ssl_c_serial",
    "ssl_c_sha1",
    "ssl_c_notbefore",
    "ssl_c_notafter",
    "req.ssl_sni",
    "req_ssl_sni",
    "req.ssl_hello_type",
    "req_ssl_hello_type",
    "req.ssl_ver",
    "req_ssl_ver",
    "req.ssl_alpn",
    "req.ssl_ec_ext",
    "req.ssl_st_ext",
];

impl Fetch {
    /// Compile a fetch call.
    pub(crate) fn compile(c: &Call<'_>, env: &Env<'_>) -> Result<Fetch, ExprError> {
        use src::*;
        use SmpType as T;
        let hdr_args = |c: &Call<'_>| -> Result<(Option<Vec<u8>>, Option<i64>), ExprError> {
            c.check_fetch(0, 2)?;
            Ok((opt_bytes(c, 0), int_arg(c, 1, "integer")?))
        };
        let (kind, out, uses) = match c.name {
            "src" => (Kind::Src, T::Ip, L4),
            "src_port" => (Kind::SrcPort, T::Int, L4),
            "dst" => (Kind::Dst, T::Ip, L4),
            "dst_port" => (Kind::DstPort, T::Int, L4),
            "path" => (Kind::Path, T::Str, HRQHDR),
            "pathq" => (Kind::PathQ, T::Str, HRQHDR),
            "base" => (Kind::Base, T::Str, HRQHDR),
            "url" => (Kind::Url, T::Str, HRQHDR),
            "query" => (Kind::Query, T::Str, HRQHDR),
            "url_param" | "urlp" => {
                c.check_fetch(0, 2)?;
                let delim = c.arg(1).and_then(|d| d.bytes().next()).unwrap_or(b'&');
                (
                    Kind::UrlParam {
                        name: opt_bytes(c, 0),
                        delim,
                    },
                    T::Str,
                    HRQHDR,
                )
            }
            "method" => (Kind::Method, T::Str, HRQHDR),
            "req.ver" | "req_ver" => (Kind::ReqVer, T::Str, HRQHDR),
            "req.proto_http" => (Kind::ProtoHttp, T::Bool, HRQHDR),
            "hdr" | "req.hdr" | "fhdr" | "req.fhdr" | "res.hdr" | "shdr" | "res.fhdr" => {
                let (name, occ) = hdr_args(c)?;
                let dir = if c.name.starts_with("res") || c.name == "shdr" {
                    Dir::Res
                } else {
                    Dir::Req
                };
                let full = c.name.contains("fhdr");
                (
                    Kind::Hdr {
                        dir,
                        name,
                        occ,
                        full,
                    },
                    T::Str,
                    if dir == Dir::Res { HRSHDR } else { HRQHDR },
                )
            }
            "hdr_cnt" | "req.hdr_cnt" | "fhdr_cnt" | "req.fhdr_cnt" | "res.hdr_cnt"
            | "shdr_cnt" | "res.fhdr_cnt" => {
                c.check_fetch(0, 1)?;
                let dir = if c.name.starts_with("res") || c.name == "shdr_cnt" {
                    Dir::Res
                } else {
                    Dir::Req
                };
                let full = c.name.contains("fhdr");
                (
                    Kind::HdrCnt {
                        dir,
                        name: opt_bytes(c, 0),
                        full,
                    },
                    T::Int,
                    if dir == Dir::Res { HRSHDR } else { HRQHDR },
                )
            }
            "cook" | "req.cook" => {
                c.check_fetch(0, 1)?;
                (
                    Kind::Cook {
                        name: opt_bytes(c, 0),
                    },
                    T::Str,
                    HRQHDR,
                )
            }
            "cook_cnt" | "req.cook_cnt" => {
                c.check_fetch(0, 1)?;
                (
                    Kind::CookCnt {
                        name: opt_bytes(c, 0),
                    },
                    T::Int,
                    HRQHDR,
                )
            }
            "http_auth" | "http_auth_group" => {
                c.check_fetch(1, 1)?;
                let ul = userlist(c, env)?;
                if c.name == "http_auth" {
                    (Kind::HttpAuth(ul), T::Bool, HRQHDR)
                } else {
                    (Kind::HttpAuthGroup(ul), T::Str, HRQHDR)
                }
            }
            "http_auth_user" => (Kind::HttpAuthUser, T::Str, HRQHDR),
            "http_auth_pass" => (Kind::HttpAuthPass, T::Str, HRQHDR),
            "http_auth_type" => (Kind::HttpAuthType, T::Str, HRQHDR),
            "status" => (Kind::Status, T::Int, HRSHDR),
            "var" => {
                c.check_fetch(1, 2)?;
                let full = c.arg(0).unwrap_or("");
                let (scope, name) = VarScope::parse(full).ok_or_else(|| {
                    ExprError::new(format!(
                        "fetch method 'var' : invalid variable name '{full}'"
                    ))
                    .with_hint(
                        "a variable name starts with 'proc.', 'sess.', 'txn.', 'req.' or 'res.'",
                    )
                })?;
                let default = c.arg(1).map(|d| Sample::string(d.as_bytes().to_vec()));
                (
                    Kind::Var {
                        scope,
                        name: name.to_string(),
                        default,
                    },
                    T::Str,
                    INTERNAL,
                )
            }
            "nbsrv" => (Kind::Nbsrv(c.arg(0).map(str::to_string)), T::Int, INTERNAL),
            "be_conn" => (Kind::BeConn(c.arg(0).map(str::to_string)), T::Int, INTERNAL),
            "fe_conn" => (Kind::FeConn, T::Int, INTERNAL),
            "srv_is_up" => {
                c.check_fetch(1, 1)?;
                let a = c.arg(0).unwrap_or("");
                let (be, srv) = a.split_once('/').unwrap_or(("", a));
                (
                    Kind::SrvIsUp {
                        be: be.to_string(),
                        srv: srv.to_string(),
                    },
                    T::Bool,
                    INTERNAL,
                )
            }
            "always_true" => (Kind::Const(Sample::Bool(true)), T::Bool, INTERNAL),
            "always_false" => (Kind::Const(Sample::Bool(false)), T::Bool, INTERNAL),
            "wait_end" => (Kind::WaitEnd, T::Bool, INTERNAL),
            "rand" => {
                c.check_fetch(0, 1)?;
                (
                    Kind::Rand(int_arg(c, 0, "integer")?.map(|v| v.max(0) as u64)),
                    T::Int,
                    INTERNAL,
                )
            }
            "date" => {
                c.check_fetch(0, 2)?;
                (
                    Kind::Date(int_arg(c, 0, "integer")?.unwrap_or(0)),
                    T::Int,
                    INTERNAL,
                )
            }
            "req.body" => (Kind::ReqBody, T::Bin, HRQBODY),
            "req.body_param" => {
                c.check_fetch(0, 2)?;
                let ignore_case = match c.arg(1) {
                    None => false,
                    Some("i") => true,
                    Some(other) => {
                        return err(format!(
                            "invalid flag '{other}' for 'req.body_param' (only 'i' exists)"
                        ))
                    }
                };
                (
                    Kind::BodyParam {
                        name: opt_bytes(c, 0),
                        ignore_case,
                    },
                    T::Str,
                    HRQBODY,
                )
            }
            "req.body_len" => (Kind::ReqBodyLen, T::Int, HRQBODY),
            "req.len" | "req_len" => (Kind::ReqLen, T::Int, L6REQ),
            "payload" | "req.payload" => {
                c.check_fetch(2, 2)?;
                let off = int_arg(c, 0, "integer")?.unwrap_or(0).max(0) as usize;
                let len = int_arg(c, 1, "integer")?.unwrap_or(0).max(0) as usize;
                (Kind::Payload { off, len }, T::Bin, L6REQ)
            }
            "req.rdp_cookie_cnt" | "rdp_cookie_cnt" => (Kind::RdpCookieCnt, T::Int, L6REQ),
            "unique-id" => (Kind::UniqueId, T::Str, INTERNAL),
            "str" => {
                c.check_fetch(1, 1)?;
                (
                    Kind::Const(Sample::string(c.args[0].as_bytes().to_vec())),
                    T::Str,
                    INTERNAL,
                )
            }
            "int" => {
                c.check_fetch(1, 1)?;
                (
                    Kind::Const(Sample::Int(int_arg(c, 0, "integer")?.unwrap_or(0))),
                    T::Int,
                    INTERNAL,
                )
            }
            "ipv4" | "ipv6" => {
                c.check_fetch(1, 1)?;
                let a = c.arg(0).unwrap_or("");
                let ip: Option<IpAddr> = if c.name == "ipv4" {
                    a.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
                } else {
                    a.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
                };
                let ip = ip.ok_or_else(|| {
                    ExprError::new(format!(
                        "fetch method '{}' : failed to parse '{a}' as type {} at position 1",
                        c.name, c.name
                    ))
                })?;
                (Kind::Const(Sample::Ip(ip)), T::Ip, INTERNAL)
            }
            "bool" => {
                c.check_fetch(1, 1)?;
                let a = c.arg(0).unwrap_or("");
                let v = match a {
                    "true" => true,
                    "false" => false,
                    _ => parse_int_full(a).ok_or_else(|| ExprError::new(format!("fetch method 'bool' : failed to parse '{a}' as type boolean at position 1")))? != 0,
                };
                (Kind::Const(Sample::Bool(v)), T::Bool, INTERNAL)
            }
            "ssl_fc" | "ssl_fc_sni" | "ssl_fc_has_sni" | "ssl_fc_protocol" | "ssl_fc_cipher"
            | "ssl_fc_alpn" | "ssl_fc_is_resumed" | "ssl_fc_has_crt" | "ssl_c_used"
            | "ssl_c_verify" | "ssl_c_serial" | "ssl_c_sha1" | "ssl_c_notbefore"
            | "ssl_c_notafter" => {
                c.check_fetch(0, 0)?;
                let (k, out) = match c.name {
                    "ssl_fc" => (SslKind::Fc, T::Bool),
                    "ssl_fc_sni" => (SslKind::FcSni, T::Str),
                    "ssl_fc_has_sni" => (SslKind::FcHasSni, T::Bool),
                    "ssl_fc_protocol" => (SslKind::FcProtocol, T::Str),
                    "ssl_fc_cipher" => (SslKind::FcCipher, T::Str),
                    "ssl_fc_alpn" => (SslKind::FcAlpn, T::Str),
                    "ssl_fc_is_resumed" => (SslKind::FcIsResumed, T::Bool),
                    "ssl_fc_has_crt" => (SslKind::FcHasCrt, T::Bool),
                    "ssl_c_used" => (SslKind::CUsed, T::Bool),
                    "ssl_c_verify" => (SslKind::CVerify, T::Int),
                    "ssl_c_serial" => (SslKind::CSerial, T::Bin),
                    "ssl_c_sha1" => (SslKind::CSha1, T::Bin),
                    "ssl_c_notbefore" => (SslKind::CNotBefore, T::Str),
                    _ => (SslKind::CNotAfter, T::Str),
                };
                (Kind::Ssl(k), out, L5CLI)
            }
            "ssl_c_s_dn" | "ssl_c_i_dn" => {
                c.check_fetch(0, 3)?;
                let entry = c.arg(0).map(str::to_string);
                let occ = int_arg(c, 1, "integer")?.unwrap_or(1);
                match c.arg(2) {
                    None => {}
                    Some("rfc2253") if entry.is_none() => {
                        return Err(ExprError::new(format!(
                            "fetch method '{}' : the 'rfc2253' format is not supported by Sluice",
                            c.name
                        ))
                        .with_hint(format!(
                            "use '{}' for the one-line form (/C=../O=../CN=..) or '{}(CN)' for one entry",
                            c.name, c.name
                        )))
                    }
                    Some("rfc2253") => {}
                    Some(_) => {
                        return err(format!(
                            "fetch method '{}' : only rfc2253 or a blank value are currently supported as the format argument.",
                            c.name
                        ))
                    }
                }
                (
                    Kind::SslDn {
                        issuer: c.name == "ssl_c_i_dn",
                        entry,
                        occ,
                    },
                    T::Str,
                    L5CLI,
                )
            }
            "req.ssl_sni" | "req_ssl_sni" | "req.ssl_hello_type" | "req_ssl_hello_type"
            | "req.ssl_ver" | "req_ssl_ver" | "req.ssl_alpn" | "req.ssl_ec_ext"
            | "req.ssl_st_ext" => {
                c.check_fetch(0, 0)?;
                let (k, out) = match c.name {
                    "req.ssl_sni" | "req_ssl_sni" => (HelloKind::Sni, T::Str),
                    "req.ssl_hello_type" | "req_ssl_hello_type" => (HelloKind::HelloType, T::Int),
                    "req.ssl_ver" | "req_ssl_ver" => (HelloKind::Ver, T::Int),
                    "req.ssl_alpn" => (HelloKind::Alpn, T::Str),
                    "req.ssl_ec_ext" => (HelloKind::EcExt, T::Bool),
                    _ => (HelloKind::StExt, T::Int),
                };
                (Kind::Hello(k), out, L6REQ)
            }
            other => return err(format!("unknown fetch method '{other}'")),
        };
        Ok(Fetch {
            kind,
            name: c.name.to_string(),
            out,
            uses,
        })
    }

    /// The userlist of an `http_auth_group` fetch (its ACLs match groups).
    pub(crate) fn http_auth_group(&self) -> Option<&Arc<Userlist>> {
        match &self.kind {
            Kind::HttpAuthGroup(u) => Some(u),
            _ => None,
        }
    }

    /// Whether `req.ssl_ver` ACL patterns are dotted versions (`3.1`).
    pub(crate) fn dotted_version(&self) -> bool {
        matches!(self.kind, Kind::Hello(HelloKind::Ver))
    }

    /// Whether the answer depends on request bytes still to come, so that a miss may be
    /// worth waiting on (cheap static test before [`Fetch::may_change`]).
    pub(crate) fn payload_bound(&self) -> bool {
        self.uses & src::L6REQ != 0 || matches!(self.kind, Kind::WaitEnd)
    }

    /// Whether more request bytes could change this fetch's answer, given those received so
    /// far (HAProxy's `SMP_F_MAY_CHANGE`). Only meaningful while the payload is not final.
    pub(crate) fn may_change(&self, txn: &dyn Txn) -> bool {
        let payload = txn.req_payload().unwrap_or_default();
        match &self.kind {
            Kind::WaitEnd | Kind::ReqLen => true,
            Kind::Payload { off, len } => *len == 0 || payload.len() < off.saturating_add(*len),
            // The first line (`Cookie: mstshash=...\r\n` of an RDP connection request) is
            // not complete yet.
            Kind::RdpCookieCnt => crate::pattern::str::find(payload, b"\r\n").is_none(),
            Kind::Hello(_) => parse_client_hello(payload) == HelloParse::Incomplete,
            _ => false,
        }
    }

    /// The single value used by sample expressions (headers: last occurrence,
    /// cookies: first).
    pub fn fetch<'t>(&self, txn: &'t dyn Txn) -> Option<Sample<'t>> {
        match &self.kind {
            Kind::Hdr {
                dir,
                name,
                occ,
                full,
            } => {
                let occ = occ.filter(|&o| o != 0).unwrap_or(-1);
                nth_value(txn, *dir, name.as_deref(), *full, occ).map(Sample::str)
            }
            Kind::Cook { name } => {
                let mut r = None;
                cookies(txn, name.as_deref(), &mut |v| {
                    r = Some(v);
                    true
                });
                r.map(Sample::str)
            }
            Kind::UrlParam { name, delim } => {
                let mut r = None;
                url_params(txn, name.as_deref(), *delim, &mut |v| {
                    r = Some(v);
                    true
                });
                r.map(Sample::str)
            }
            Kind::BodyParam { name, ignore_case } => {
                let mut r = None;
                let body = txn.req_body().unwrap_or_default();
                params(body, name.as_deref(), b'&', *ignore_case, &mut |v| {
                    r = Some(v);
                    true
                });
                r.map(Sample::str)
            }
            _ => self.single(txn),
        }
    }

    /// Call `f` on every value (ACL evaluation); stops at the first `true`.
    pub fn for_each<'t>(&self, txn: &'t dyn Txn, f: &mut dyn FnMut(Sample<'t>) -> bool) -> bool {
        match &self.kind {
            Kind::Hdr {
                dir,
                name,
                occ: Some(o),
                full,
            } if *o != 0 => match nth_value(txn, *dir, name.as_deref(), *full, *o) {
                Some(v) => f(Sample::str(v)),
                None => false,
            },
            Kind::Hdr {
                dir, name, full, ..
            } => hdr_values(txn, *dir, name.as_deref(), *full, &mut |v| {
                f(Sample::str(v))
            }),
            Kind::Cook { name } => cookies(txn, name.as_deref(), &mut |v| f(Sample::str(v))),
            Kind::UrlParam { name, delim } => {
                url_params(txn, name.as_deref(), *delim, &mut |v| f(Sample::str(v)))
            }
            Kind::BodyParam { name, ignore_case } => {
                let body = txn.req_body().unwrap_or_default();
                params(body, name.as_deref(), b'&', *ignore_case, &mut |v| {
                    f(Sample::str(v))
                })
            }
            // Every protocol offered, as HAProxy iterates them (`SMP_F_NOT_LAST`).
            Kind::Hello(HelloKind::Alpn) => {
                let HelloParse::Hello(h) =
                    parse_client_hello(txn.req_payload().unwrap_or_default())
                else {
                    return false;
                };
                h.alpn.into_iter().any(|p| f(Sample::Str(Cow::Owned(p))))
            }
            _ => match self.single(txn) {
                Some(s) => f(s),
                None => false,
            },
        }
    }

    fn single<'t>(&self, txn: &'t dyn Txn) -> Option<Sample<'t>> {
        Some(match &self.kind {
            Kind::Src => Sample::Ip(txn.src()?.ip()),
            Kind::SrcPort => Sample::Int(txn.src()?.port().into()),
            Kind::Dst => Sample::Ip(txn.dst()?.ip()),
            Kind::DstPort => Sample::Int(txn.dst()?.port().into()),
            Kind::Path => Sample::str(path_of(txn.uri()?)?),
            Kind::PathQ => {
                let u = txn.uri()?;
                let p = path_of(u)?;
                let start = p.as_ptr() as usize - u.as_ptr() as usize;
                let end = u.iter().position(|&c| c == b'#').unwrap_or(u.len());
                Sample::str(&u[start..end.max(start + p.len())])
            }
            Kind::Base => {
                let p = path_of(txn.uri()?)?;
                match nth_value(txn, Dir::Req, Some(b"host"), true, 1) {
                    Some(h) => {
                        let mut v = Vec::with_capacity(h.len() + p.len());
                        v.extend_from_slice(h);
                        v.extend_from_slice(p);
                        Sample::Str(Cow::Owned(v))
                    }
                    None => Sample::str(p),
                }
            }
            Kind::Url => Sample::str(txn.uri()?),
            Kind::Query => {
                let u = txn.uri()?;
                let q = u.iter().position(|&c| c == b'?')?;
                let end = u
                    .iter()
                    .position(|&c| c == b'#')
                    .unwrap_or(u.len())
                    .max(q + 1);
                Sample::str(&u[q + 1..end])
            }
            Kind::Method => Sample::str(txn.method()?),
            Kind::ReqVer => {
                let v = txn.version()?;
                Sample::str(v.strip_prefix(b"HTTP/").unwrap_or(v))
            }
            Kind::ProtoHttp => Sample::Bool(txn.method().is_some()),
            Kind::HdrCnt { dir, name, full } => {
                let mut n = 0;
                hdr_values(txn, *dir, name.as_deref(), *full, &mut |_| {
                    n += 1;
                    false
                });
                Sample::Int(n)
            }
            Kind::CookCnt { name } => {
                let mut n = 0;
                cookies(txn, name.as_deref(), &mut |_| {
                    n += 1;
                    false
                });
                Sample::Int(n)
            }
            Kind::HttpAuth(ul) => Sample::Bool(match basic_auth(txn) {
                Some((u, p)) => ul.check(&u, &p),
                None => false,
            }),
            Kind::HttpAuthGroup(ul) => {
                let (u, p) = basic_auth(txn)?;
                if !ul.check(&u, &p) {
                    return None;
                }
                Sample::Str(Cow::Owned(u))
            }
            Kind::HttpAuthUser => Sample::Str(Cow::Owned(basic_auth(txn)?.0)),
            Kind::HttpAuthPass => Sample::Str(Cow::Owned(basic_auth(txn)?.1)),
            Kind::HttpAuthType => {
                let v = nth_value(txn, Dir::Req, Some(b"authorization"), true, 1)?;
                let scheme = v.split(|&c| c == b' ').next().unwrap_or_default();
                Sample::str(if scheme.eq_ignore_ascii_case(b"basic") {
                    b"basic"
                } else if scheme.eq_ignore_ascii_case(b"digest") {
                    b"digest"
                } else if scheme.eq_ignore_ascii_case(b"bearer") {
                    b"bearer"
                } else {
                    b"none"
                })
            }
            Kind::Status => Sample::Int(txn.status()?.into()),
            Kind::Var {
                scope,
                name,
                default,
            } => match txn.var(*scope, name) {
                Some(v) => v,
                None => default.clone()?,
            },
            Kind::Nbsrv(b) => Sample::Int(txn.nbsrv(b.as_deref())?),
            Kind::BeConn(b) => Sample::Int(txn.be_conn(b.as_deref())?),
            Kind::FeConn => Sample::Int(txn.fe_conn()?),
            Kind::SrvIsUp { be, srv } => Sample::Bool(txn.srv_is_up(be, srv)?),
            Kind::Const(s) => s.clone(),
            Kind::WaitEnd if txn.payload_final() => Sample::Bool(true),
            Kind::WaitEnd => return None,
            Kind::Ssl(k) => ssl_fetch(*k, txn.ssl_client())?,
            Kind::SslDn { issuer, entry, occ } => {
                let cert = txn.ssl_client()?.client_cert.as_ref()?;
                let dn = if *issuer {
                    &cert.issuer_dn
                } else {
                    &cert.subject_dn
                };
                match entry {
                    None => Sample::str(dn.as_bytes()),
                    Some(e) => Sample::str(dn_entry(dn, e, *occ)?.as_bytes()),
                }
            }
            Kind::Hello(k) => hello_fetch(*k, txn.req_payload().unwrap_or_default())?,
            Kind::Rand(range) => {
                let r = u64::from(txn.rand());
                Sample::Int(match range {
                    Some(n) => ((r * n) >> 32) as i64,
                    None => r as i64,
                })
            }
            Kind::Date(off) => {
                let secs = txn
                    .now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                Sample::Int(secs + off)
            }
            Kind::ReqBody => Sample::Bin(Cow::Borrowed(txn.req_body()?)),
            Kind::ReqBodyLen => Sample::Int(txn.req_body()?.len() as i64),
            Kind::ReqLen => Sample::Int(txn.req_payload().map_or(0, <[u8]>::len) as i64),
            Kind::Payload { off, len } => {
                let p = txn.req_payload()?;
                let end = if *len == 0 {
                    p.len()
                } else {
                    off.checked_add(*len)?
                };
                Sample::Bin(Cow::Borrowed(p.get(*off..end)?))
            }
            Kind::RdpCookieCnt => {
                let p = txn.req_payload().unwrap_or_default();
                Sample::Int(i64::from(
                    crate::pattern::str::find(p, b"Cookie: mstshash=").is_some(),
                ))
            }
            Kind::UniqueId => Sample::str(txn.unique_id()?),
            Kind::Hdr { .. }
            | Kind::Cook { .. }
            | Kind::UrlParam { .. }
            | Kind::BodyParam { .. } => return self.fetch(txn),
        })
    }
}

/// The path part of a request target: from the first '/' (after the
/// authority in absolute form) up to '?' or '#'.
pub(crate) fn path_of(uri: &[u8]) -> Option<&[u8]> {
    let rest = if uri.first() == Some(&b'/') {
        uri
    } else {
        let s = crate::pattern::str::find(uri, b"://")?;
        let after = &uri[s + 3..];
        let slash = after.iter().position(|&c| c == b'/')?;
        &after[slash..]
    };
    let end = rest
        .iter()
        .position(|&c| c == b'?' || c == b'#')
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

fn header(txn: &dyn Txn, dir: Dir, i: usize) -> Option<(&[u8], &[u8])> {
    match dir {
        Dir::Req => txn.req_header(i),
        Dir::Res => txn.res_header(i),
    }
}

fn header_count(txn: &dyn Txn, dir: Dir) -> usize {
    match dir {
        Dir::Req => txn.req_header_count(),
        Dir::Res => txn.res_header_count(),
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Visit values of headers named `name` (all when `None`); unless `full`,
/// lines are split on commas outside double quotes. Stops at `true`.
fn hdr_values<'t>(
    txn: &'t dyn Txn,
    dir: Dir,
    name: Option<&[u8]>,
    full: bool,
    f: &mut dyn FnMut(&'t [u8]) -> bool,
) -> bool {
    for i in 0..header_count(txn, dir) {
        let Some((n, v)) = header(txn, dir, i) else {
            continue;
        };
        if let Some(want) = name {
            if !n.eq_ignore_ascii_case(want) {
                continue;
            }
        }
        if full {
            if f(trim(v)) {
                return true;
            }
            continue;
        }
        let mut start = 0;
        let mut quoted = false;
        let mut j = 0;
        while j <= v.len() {
            let c = v.get(j).copied();
            match c {
                Some(b'"') => quoted = !quoted,
                Some(b'\\') if quoted => j += 1,
                Some(b',') | None if !quoted || c.is_none() => {
                    if f(trim(&v[start..j.min(v.len())])) {
                        return true;
                    }
                    start = j + 1;
                }
                _ => {}
            }
            j += 1;
        }
    }
    false
}

/// The `occ`-th value (1-based from the first; negative from the last).
fn nth_value<'t>(
    txn: &'t dyn Txn,
    dir: Dir,
    name: Option<&[u8]>,
    full: bool,
    occ: i64,
) -> Option<&'t [u8]> {
    let want = if occ > 0 {
        occ
    } else {
        let mut total = 0i64;
        hdr_values(txn, dir, name, full, &mut |_| {
            total += 1;
            false
        });
        total + occ + 1
    };
    if want <= 0 {
        return None;
    }
    let mut n = 0;
    let mut r = None;
    hdr_values(txn, dir, name, full, &mut |v| {
        n += 1;
        if n == want {
            r = Some(v);
            true
        } else {
            false
        }
    });
    r
}

/// Visit values of request cookies named `name` (any when `None`).
fn cookies<'t>(txn: &'t dyn Txn, name: Option<&[u8]>, f: &mut dyn FnMut(&'t [u8]) -> bool) -> bool {
    hdr_values(txn, Dir::Req, Some(b"cookie"), true, &mut |line| {
        for part in line.split(|&c| c == b';') {
            let part = trim(part);
            let (n, v) = match part.iter().position(|&c| c == b'=') {
                Some(p) => (trim(&part[..p]), trim(&part[p + 1..])),
                None => continue,
            };
            if name.is_none_or(|w| w == n) && f(v) {
                return true;
            }
        }
        false
    })
}

/// Visit values of query-string parameters named `name`.
fn url_params<'t>(
    txn: &'t dyn Txn,
    name: Option<&[u8]>,
    delim: u8,
    f: &mut dyn FnMut(&'t [u8]) -> bool,
) -> bool {
    let Some(u) = txn.uri() else { return false };
    let Some(q) = u.iter().position(|&c| c == b'?') else {
        return false;
    };
    let end = u
        .iter()
        .position(|&c| c == b'#')
        .unwrap_or(u.len())
        .max(q + 1);
    params(&u[q + 1..end], name, delim, false, f)
}

/// `name=value` pairs separated by `delim` (a query string, a form body): calls `f` on the
/// values of `name` (of every non-empty pair without a name) until it returns true.
fn params<'t>(
    text: &'t [u8],
    name: Option<&[u8]>,
    delim: u8,
    ignore_case: bool,
    f: &mut dyn FnMut(&'t [u8]) -> bool,
) -> bool {
    for part in text.split(|&c| c == delim) {
        let (n, v) = match part.iter().position(|&c| c == b'=') {
            Some(p) => (&part[..p], &part[p + 1..]),
            None => (part, &part[part.len()..]),
        };
        let hit = match name {
            None => !part.is_empty(),
            Some(w) if ignore_case => w.eq_ignore_ascii_case(n),
            Some(w) => w == n,
        };
        if hit && f(v) {
            return true;
        }
    }
    false
}

/// Decode `Authorization: Basic` credentials.
fn basic_auth(txn: &dyn Txn) -> Option<(Vec<u8>, Vec<u8>)> {
    let v = nth_value(txn, Dir::Req, Some(b"authorization"), true, 1)?;
    let sp = v.iter().position(|&c| c == b' ')?;
    if !v[..sp].eq_ignore_ascii_case(b"basic") {
        return None;
    }
    let dec = codec::base64_decode(trim(&v[sp + 1..]))?;
    let colon = dec.iter().position(|&c| c == b':')?;
    Some((dec[..colon].to_vec(), dec[colon + 1..].to_vec()))
}

/// `ssl_fc*` and the argument-less `ssl_c_*`, as `ssl_sample.c` answers them: `ssl_fc`,
/// `ssl_fc_has_sni` and `ssl_fc_is_resumed` are false on a clear connection, the others have
/// no sample there.
fn ssl_fetch(k: SslKind, tls: Option<&ConnInfo>) -> Option<Sample<'_>> {
    let cert = || tls.and_then(|t| t.client_cert.as_ref());
    Some(match k {
        SslKind::Fc => Sample::Bool(tls.is_some()),
        SslKind::FcHasSni => Sample::Bool(tls.is_some_and(|t| t.sni.is_some())),
        SslKind::FcIsResumed => Sample::Bool(tls.is_some_and(|t| t.resumed)),
        SslKind::FcSni => Sample::str(tls?.sni.as_deref()?.as_bytes()),
        SslKind::FcProtocol => Sample::str(tls?.protocol?.as_bytes()),
        SslKind::FcCipher => Sample::str(tls?.cipher?.as_bytes()),
        SslKind::FcAlpn => Sample::str(tls?.alpn.as_deref()?),
        SslKind::FcHasCrt | SslKind::CUsed => Sample::Bool(tls?.client_cert.is_some()),
        // X509_V_OK without a certificate, as SSL_get_verify_result.
        SslKind::CVerify => Sample::Int(tls?.client_cert.as_ref().map_or(0, |c| c.verify_result)),
        SslKind::CSerial => Sample::Bin(Cow::Borrowed(&cert()?.serial)),
        SslKind::CSha1 => Sample::Bin(Cow::Borrowed(&cert()?.sha1)),
        SslKind::CNotBefore => asn1_time(cert()?.not_before)?,
        SslKind::CNotAfter => asn1_time(cert()?.not_after)?,
    })
}

/// `ssl_c_notbefore` / `ssl_c_notafter`: HAProxy copies the certificate's ASN1 UTCTime
/// (`YYMMDDhhmmssZ`), or a GeneralizedTime of the 2000s less its century; other dates have no
/// sample.
fn asn1_time(t: i64) -> Option<Sample<'static>> {
    let tm = crate::time::gmtime(t);
    if !(2000..=2099).contains(&tm.year) {
        return None;
    }
    Some(Sample::string(
        format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}Z",
            tm.year - 2000,
            tm.mon,
            tm.mday,
            tm.hour,
            tm.min,
            tm.sec
        )
        .into_bytes(),
    ))
}

/// The entries of a one-line DN (`/C=FR/O=Example/CN=client`). A '/' starts a new entry only
/// when a short name or dotted OID and '=' follow, so values may hold slashes.
fn dn_entries(dn: &str) -> impl Iterator<Item = (&str, &str)> {
    let b = dn.as_bytes();
    let starts_entry = move |i: usize| {
        let rest = &b[i + 1..];
        let key = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'.')
            .count();
        key > 0 && rest.get(key) == Some(&b'=')
    };
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= b.len() || b[pos] != b'/' {
            return None;
        }
        let start = pos + 1;
        let mut end = start;
        while end < b.len() && !(b[end] == b'/' && starts_entry(end)) {
            end += 1;
        }
        pos = end;
        let (k, v) = dn[start..end].split_once('=')?;
        Some((k, v))
    })
}

/// `ssl_c_s_dn(entry,occ)`: the value of the `occ`-th entry named `entry` (case-insensitive)
/// from the beginning (positive) or the end (negative) of the DN, as `ssl_sock_get_dn_entry`.
fn dn_entry<'a>(dn: &'a str, entry: &str, occ: i64) -> Option<&'a str> {
    let mut hits = dn_entries(dn).filter(|(k, _)| k.eq_ignore_ascii_case(entry));
    let n = usize::try_from(occ.unsigned_abs()).ok()?.checked_sub(1)?;
    let v = if occ > 0 {
        hits.nth(n)
    } else {
        let all: Vec<(&str, &str)> = hits.collect();
        all.len().checked_sub(n + 1).map(|i| all[i])
    };
    v.map(|(_, v)| v)
}

/// `req.ssl_*` on the bytes received so far; `None` for an incomplete or non-TLS stream (the
/// caller learns "incomplete" from [`Fetch::may_change`]).
fn hello_fetch(k: HelloKind, payload: &[u8]) -> Option<Sample<'static>> {
    let HelloParse::Hello(h) = parse_client_hello(payload) else {
        return None;
    };
    Some(match k {
        HelloKind::HelloType => Sample::Int(h.hello_type.into()),
        // Major * 65536 + minor of the ClientHello's client_version (the record's for other
        // handshake messages): 0x30003 for TLS 1.2 and 1.3.
        HelloKind::Ver => {
            let v = if h.hello_type == 1 {
                h.hello_version
            } else {
                h.record_version
            };
            Sample::Int((i64::from(v >> 8) << 16) | i64::from(v & 0xff))
        }
        HelloKind::Sni => Sample::string(h.sni?.into_bytes()),
        HelloKind::Alpn => Sample::string(h.alpn.into_iter().next()?),
        // True or no sample, as HAProxy.
        HelloKind::EcExt => Sample::Bool(h.has_ec_ext.then_some(true)?),
        HelloKind::StExt => Sample::Int(h.has_session_ticket_ext.into()),
    })
}
