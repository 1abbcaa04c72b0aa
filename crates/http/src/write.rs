//! Rebuilding heads for the other side, the way HAProxy 2.6 emits HTTP/1 from its HTX form.
//!
//! Observed on 2.6.12 (raw sockets on both sides): header names go out lower-cased (no
//! `h1-case-adjust` by default), `name: value` with the value trimmed and obs-folds turned into
//! spaces, the start line rebuilt with single spaces and the version as `HTTP/1.0` or
//! `HTTP/1.1` (`HTTP/2.0` from a client goes out as `HTTP/1.1`), a response with no reason
//! keeps the space after the code. `Connection` loses its `close` and `keep-alive` tokens
//! (other tokens stay; the header goes when nothing is left), `Keep-Alive` and
//! `Proxy-Connection` pass unchanged, and the mux's own `connection:` header comes after every
//! other header. 204 and sub-200 responses lose `content-length`/`transfer-encoding`.

use crate::chars::{eq_lower, is_crlf, is_lws};
use crate::parse::next_element_end;
use crate::{ConnHeader, Header, RequestHead, ResponseHead, Span};

/// Writes the request head to send to the server into `out` (appended).
pub fn write_request_head(
    buf: &[u8],
    head: &RequestHead,
    conn: ConnHeader,
    extra: &[(&[u8], &[u8])],
    out: &mut Vec<u8>,
) {
    write_request_head_with(buf, head, None, None, conn, extra, out);
}

/// [`write_request_head`] with the method and/or the target replaced (rules such as
/// `set-method`, `set-path`, `set-uri` rewrite the start line).
pub fn write_request_head_with(
    buf: &[u8],
    head: &RequestHead,
    method: Option<&[u8]>,
    uri: Option<&[u8]>,
    conn: ConnHeader,
    extra: &[(&[u8], &[u8])],
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(method.unwrap_or_else(|| head.method_span.of(buf)));
    out.push(b' ');
    match uri {
        Some(u) => out.extend_from_slice(u),
        None => push_cut(out, buf, head.uri, head.uri_cut),
    }
    out.push(b' ');
    out.extend_from_slice(head.version.as_bytes());
    out.extend_from_slice(b"\r\n");
    let host = head.host;
    let upgrade_kept = write_headers(
        buf,
        &head.headers,
        head.folded,
        out,
        |h, out| {
            if let (Some(sub), true) = (head.host_out, Some(h.value) == host) {
                push_value(out, sub.of(buf), head.folded);
                true
            } else {
                false
            }
        },
        |_| false,
    );
    finish(conn, upgrade_kept, extra, out);
}

/// Writes the response head to send to the client into `out` (appended).
pub fn write_response_head(
    buf: &[u8],
    head: &ResponseHead,
    conn: ConnHeader,
    extra: &[(&[u8], &[u8])],
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(head.version.as_bytes());
    out.push(b' ');
    out.extend_from_slice(head.code.of(buf));
    out.push(b' ');
    out.extend_from_slice(head.reason.of(buf));
    out.extend_from_slice(b"\r\n");
    // Such responses have no body, and HAProxy does not announce one.
    let bodyless = head.status < 200 || head.status == 204;
    let upgrade_kept = write_headers(
        buf,
        &head.headers,
        head.folded,
        out,
        |_, _| false,
        |name| {
            bodyless && (eq_lower(name, b"content-length") || eq_lower(name, b"transfer-encoding"))
        },
    );
    finish(conn, upgrade_kept, extra, out);
}

/// Writes the header lines; returns whether a forwarded `Connection` keeps `upgrade`.
/// `special` may write a value itself (returning true); `skip` drops a header by name.
/// `folded`: some value spans an obs-fold (see [`push_value`]).
fn write_headers(
    buf: &[u8],
    headers: &[Header],
    folded: bool,
    out: &mut Vec<u8>,
    mut special: impl FnMut(&Header, &mut Vec<u8>) -> bool,
    skip: impl Fn(&[u8]) -> bool,
) -> bool {
    let mut upgrade_kept = false;
    for h in headers {
        let name = h.name.of(buf);
        if skip(name) {
            continue;
        }
        let value = h.value.of(buf);
        if eq_lower(name, b"connection") {
            let mark = out.len();
            push_lower(out, name);
            out.extend_from_slice(b": ");
            let vstart = out.len();
            upgrade_kept |= clean_connection(value, folded, out);
            if out.len() == vstart {
                // Only close/keep-alive were there: the header goes.
                out.truncate(mark);
            } else {
                out.extend_from_slice(b"\r\n");
            }
            continue;
        }
        push_lower(out, name);
        out.extend_from_slice(b": ");
        if !special(h, out) {
            push_value(out, value, folded);
        }
        out.extend_from_slice(b"\r\n");
    }
    upgrade_kept
}

/// Extra headers, then the mux's `connection:` header, then the blank line.
fn finish(conn: ConnHeader, upgrade_kept: bool, extra: &[(&[u8], &[u8])], out: &mut Vec<u8>) {
    for (n, v) in extra {
        push_lower(out, n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    match conn {
        ConnHeader::Omit => {}
        ConnHeader::Close => out.extend_from_slice(b"connection: close\r\n"),
        ConnHeader::KeepAlive => out.extend_from_slice(b"connection: keep-alive\r\n"),
        ConnHeader::Upgrade if upgrade_kept => {}
        ConnHeader::Upgrade => out.extend_from_slice(b"connection: upgrade\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// `h1_parse_connection_header` with `H1_MF_CLEAN_CONN_HDR`: drops `close` and `keep-alive`.
/// While nothing was dropped the original text is kept as is (up to the end of the last kept
/// element); after a drop, kept elements are appended joined by a bare `,`. Returns whether
/// `upgrade` is among the kept tokens.
fn clean_connection(v: &[u8], folded: bool, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let mut untouched = true;
    let mut upgrade = false;
    let mut i = 0;
    while i < v.len() {
        if v.get(i).is_some_and(|&c| is_lws(c)) {
            i += 1;
            continue;
        }
        let end = next_element_end(v, i);
        let raw = v.get(i..end).unwrap_or(&[]);
        let mut wl = raw.len();
        while wl > 0 && raw.get(wl - 1).is_some_and(|&c| is_lws(c)) {
            wl -= 1;
        }
        let word = raw.get(..wl).unwrap_or(&[]);
        if word.eq_ignore_ascii_case(b"close") || word.eq_ignore_ascii_case(b"keep-alive") {
            untouched = false;
        } else {
            upgrade |= word.eq_ignore_ascii_case(b"upgrade");
            if untouched {
                out.truncate(start);
                push_value(out, v.get(..end).unwrap_or(&[]), folded);
            } else {
                if out.len() > start {
                    out.push(b',');
                }
                push_value(out, word, folded);
            }
        }
        i = end + 1;
    }
    upgrade
}

/// Header name, lower-cased as HAProxy's HTX stores it: copied whole, then folded in place
/// (a byte-by-byte mapping copy costs several times more).
fn push_lower(out: &mut Vec<u8>, name: &[u8]) {
    let start = out.len();
    out.extend_from_slice(name);
    if let Some(copied) = out.get_mut(start..) {
        copied.make_ascii_lowercase();
    }
}

/// Header value with obs-fold CR/LF bytes replaced by spaces (HAProxy rewrites them in place
/// while parsing). `folded` says whether the head had any fold at all; without one, the
/// value is copied as is.
fn push_value(out: &mut Vec<u8>, v: &[u8], folded: bool) {
    if folded && v.iter().any(|&c| is_crlf(c)) {
        out.extend(v.iter().map(|&c| if is_crlf(c) { b' ' } else { c }));
    } else {
        out.extend_from_slice(v);
    }
}

/// `span` with the `cut` bytes left out (a URI: the parser let no CR/LF into it).
fn push_cut(out: &mut Vec<u8>, buf: &[u8], span: Span, cut: Option<Span>) {
    match cut {
        Some(c) if c.start >= span.start && c.end <= span.end => {
            out.extend_from_slice(
                Span {
                    start: span.start,
                    end: c.start,
                }
                .of(buf),
            );
            out.extend_from_slice(
                Span {
                    start: c.end,
                    end: span.end,
                }
                .of(buf),
            );
        }
        _ => out.extend_from_slice(span.of(buf)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::{parse_request, parse_response, Limits, Method};

    fn req_out(raw: &[u8], conn: ConnHeader, extra: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut h = RequestHead::new();
        assert_eq!(parse_request(raw, &Limits::default(), &mut h), Ok(true));
        let mut out = Vec::new();
        write_request_head(raw, &h, conn, extra, &mut out);
        out
    }

    fn resp_out(raw: &[u8], method: Method, conn: ConnHeader) -> Vec<u8> {
        let mut h = ResponseHead::new();
        assert_eq!(
            parse_response(raw, &Limits::default(), method, &mut h),
            Ok(true)
        );
        let mut out = Vec::new();
        write_response_head(raw, &h, conn, &[], &mut out);
        out
    }

    // Each expected output below is what HAProxy 2.6.12 sent to the server / client for the
    // same input.
    #[test]
    fn request_heads_match_haproxy_output() {
        let cases: &[(&[u8], ConnHeader, &[u8])] = &[
            (b"GET / HTTP/1.1\r\nHost: a\r\nX-Foo-Bar: Baz\r\n\r\n", ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\nx-foo-bar: Baz\r\n\r\n"),
            (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", ConnHeader::Omit,
             b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n"),
            (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", ConnHeader::Omit,
             b"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\n\r\n"),
            (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\n", ConnHeader::Omit,
             b"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\n\r\n"),
            (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0002\r\n\r\n", ConnHeader::Omit,
             b"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 0002\r\n\r\n"),
            (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: bar\r\n baz\r\n\r\n", ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\nfoo: bar   baz\r\n\r\n"),
            (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: bar\r\n\tbaz\r\n\r\n", ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\nfoo: bar  \tbaz\r\n\r\n"),
            (b"GET / HTTP/1.1\nHost: a\nFoo: bar\n\n", ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\nfoo: bar\r\n\r\n"),
            (b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"),
            (b"GET\t/\tHTTP/1.1\r\nHost: a\r\n\r\n", ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"),
            (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"),
            (b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"),
            (b"GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n", ConnHeader::KeepAlive,
             b"GET / HTTP/1.0\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"),
            (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"),
            (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, foo\r\nFoo: x\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n\r\n",
             ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\nconnection: foo\r\nfoo: x\r\nkeep-alive: timeout=5\r\nproxy-connection: keep-alive\r\n\r\n"),
            (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, http2-settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
             ConnHeader::Upgrade,
             b"GET / HTTP/1.1\r\nhost: a\r\nconnection: upgrade, http2-settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"),
            (b"GET / HTTP/1.1\r\nX:   \r\n\r\n", ConnHeader::Omit, b"GET / HTTP/1.1\r\nx: \r\n\r\n"),
            (b"GET / HTTP/1.1\r\nHost: a\r\nFoo: b\x00r\r\n\r\n", ConnHeader::Omit,
             b"GET / HTTP/1.1\r\nhost: a\r\nfoo: b\x00r\r\n\r\n"),
            // Scheme-based normalisation of default ports.
            (b"GET http://a:80 HTTP/1.1\r\nHost: a:80\r\n\r\n", ConnHeader::Omit,
             b"GET http://a HTTP/1.1\r\nhost: a\r\n\r\n"),
            (b"GET http://a:80/x HTTP/1.1\r\nHost: a\r\n\r\n", ConnHeader::Omit,
             b"GET http://a/x HTTP/1.1\r\nhost: a\r\n\r\n"),
            (b"GET https://a:443/x HTTP/1.1\r\nHost: a\r\n\r\n", ConnHeader::Omit,
             b"GET https://a/x HTTP/1.1\r\nhost: a\r\n\r\n"),
            (b"GET HTTP://A/x HTTP/1.1\r\nHost: a:80\r\n\r\n", ConnHeader::Omit,
             b"GET HTTP://A/x HTTP/1.1\r\nhost: a:80\r\n\r\n"),
            (b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", ConnHeader::Omit,
             b"CONNECT a:443 HTTP/1.1\r\nhost: a\r\n\r\n"),
            (b"HEAD http://a:80/x HTTP/2.0\r\nHost: A\r\n\r\n", ConnHeader::Omit,
             b"HEAD http://a/x HTTP/1.1\r\nhost: a\r\n\r\n"),
            (b"CONNECT a:8080 HTTP/1.1\r\nHost: a:8080\r\n\r\n", ConnHeader::Omit,
             b"CONNECT a:8080 HTTP/1.1\r\nhost: a:8080\r\n\r\n"),
        ];
        for (raw, conn, want) in cases {
            let got = req_out(raw, *conn, &[]);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want),
                "input {:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn extra_headers_come_before_the_connection_header() {
        let got = req_out(
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            ConnHeader::Close,
            &[(b"X-Forwarded-For", b"127.0.0.1")],
        );
        assert_eq!(
            got,
            b"GET / HTTP/1.0\r\nx-forwarded-for: 127.0.0.1\r\nconnection: close\r\n\r\n"
        );
    }

    #[test]
    fn connection_tokens_are_cleaned_like_haproxy() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"foo, bar", b"foo, bar", false),
            (b"keep-alive, foo", b"foo", false),
            (b"foo, keep-alive, bar", b"foo,bar", false),
            (b"Upgrade", b"Upgrade", true),
            (b"close", b"", false),
            (b"close, Upgrade, x", b"Upgrade,x", true),
        ];
        for (v, want, up) in cases {
            let mut out = Vec::new();
            assert_eq!(clean_connection(v, false, &mut out), *up, "{v:?}");
            assert_eq!(&out, want, "{:?}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn response_heads_match_haproxy_output() {
        let cases: &[(&[u8], Method, ConnHeader, &[u8])] = &[
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Mixed: A\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-mixed: A\r\n\r\n"),
            (b"HTTP/1.1 200 OK\r\nX: 1\r\n\r\n", Method::Get, ConnHeader::Close,
             b"HTTP/1.1 200 OK\r\nx: 1\r\nconnection: close\r\n\r\n"),
            (b"HTTP/1.0 200 OK\r\nX: 1\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.0 200 OK\r\nx: 1\r\n\r\n"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
            (b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\n"),
            (b"HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"),
            (b"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"),
            (b"HTTP/1.1 099 OK\r\nContent-Length: 2\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 099 OK\r\n\r\n"),
            (b"HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 204 No Content\r\n\r\n"),
            (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 304 Not Modified\r\ncontent-length: 2\r\n\r\n"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive, foo\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=5\r\nconnection: foo\r\n\r\n"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", Method::Get, ConnHeader::KeepAlive,
             b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n"),
            (b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 200 OK\r\nx: a   b\r\ncontent-length: 2\r\n\r\n"),
            (b"\r\nHTTP/1.1 200 OK\nContent-Length: 2\n\n", Method::Get, ConnHeader::Omit,
             b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"),
        ];
        for (raw, m, conn, want) in cases {
            let got = resp_out(raw, *m, *conn);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want),
                "input {:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn upgrade_conn_header_not_duplicated() {
        let got = req_out(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            ConnHeader::Upgrade, &[]);
        assert_eq!(got, b"GET / HTTP/1.1\r\nhost: a\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".as_slice());
        let got = req_out(
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            ConnHeader::Upgrade,
            &[],
        );
        assert_eq!(
            got,
            b"GET / HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\n\r\n".as_slice()
        );
    }
}

#[cfg(test)]
mod with_tests {
    use super::*;
    use crate::{parse_request, Limits};

    #[test]
    fn start_line_overrides_replace_method_and_target_only() {
        let raw = b"GET /old?q=1 HTTP/1.1\r\nHost: a\r\n\r\n";
        let mut head = RequestHead::new();
        assert_eq!(parse_request(raw, &Limits::default(), &mut head), Ok(true));
        let mut out = Vec::new();
        write_request_head_with(
            raw,
            &head,
            Some(b"POST"),
            Some(b"/new"),
            ConnHeader::Omit,
            &[],
            &mut out,
        );
        assert_eq!(out, b"POST /new HTTP/1.1\r\nhost: a\r\n\r\n".to_vec());
    }
}
