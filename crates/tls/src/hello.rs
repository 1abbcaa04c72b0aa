//! A ClientHello sniffer for TCP-mode routing without terminating TLS (manual 7.3.5
//! `req.ssl_sni`, `req.ssl_hello_type`, `req.ssl_ver`, `req.ssl_alpn`, `req.ssl_ec_ext`,
//! `req.ssl_st_ext`). Bounded, allocation-light, panic-free on any input. Unlike HAProxy it also
//! reassembles a ClientHello split over several records (up to [`MAX_HELLO`] bytes).

/// Largest handshake message considered (larger: [`HelloParse::NotTls`]).
pub const MAX_HELLO: usize = 64 * 1024;

/// What the first bytes of a connection are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloParse {
    /// More bytes are needed to decide (the caller waits, within `tcp-request inspect-delay`).
    Incomplete,
    /// Not a TLS handshake, or a malformed one.
    NotTls,
    /// A complete handshake message.
    Hello(Hello),
}

/// The parts of a ClientHello the `req.ssl_*` fetches return.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hello {
    /// `req.ssl_hello_type`: the handshake type (1 for a ClientHello).
    pub hello_type: u8,
    /// Version in the record header (`req.ssl_ver` when no hello version).
    pub record_version: u16,
    /// `client_version` of the ClientHello (0 for other handshake types).
    pub hello_version: u16,
    /// `req.ssl_sni`: the first host_name of the server_name extension.
    pub sni: Option<String>,
    /// `req.ssl_alpn`: the protocols offered, in order.
    pub alpn: Vec<Vec<u8>>,
    /// `req.ssl_ec_ext`: the supported_groups (elliptic curves) extension is present.
    pub has_ec_ext: bool,
    /// `req.ssl_st_ext`: the session ticket extension is present.
    pub has_session_ticket_ext: bool,
}

struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        self.take(n)
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
}

/// Parses the start of a client's byte stream.
pub fn parse_client_hello(buf: &[u8]) -> HelloParse {
    let Some(&first) = buf.first() else {
        return HelloParse::Incomplete;
    };
    if first != 0x16 {
        return HelloParse::NotTls;
    }
    if buf.len() >= 2 && buf[1] != 3 {
        return HelloParse::NotTls;
    }
    // Gather the handshake bytes from consecutive handshake records.
    let mut hs: Vec<u8> = Vec::new();
    let mut rest = buf;
    let mut record_version = 0u16;
    let mut need: Option<usize> = None;
    loop {
        if rest.len() < 5 {
            return HelloParse::Incomplete;
        }
        if rest[0] != 0x16 || rest[1] != 3 {
            return HelloParse::NotTls;
        }
        if record_version == 0 {
            record_version = u16::from_be_bytes([rest[1], rest[2]]);
        }
        let len = u16::from_be_bytes([rest[3], rest[4]]) as usize;
        if len == 0 || len > 16384 + 2048 {
            return HelloParse::NotTls;
        }
        let body = &rest[5..];
        let avail = body.len().min(len);
        hs.extend_from_slice(&body[..avail]);
        if need.is_none() && hs.len() >= 4 {
            let n = (usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]);
            if n > MAX_HELLO {
                return HelloParse::NotTls;
            }
            need = Some(n + 4);
        }
        if let Some(n) = need {
            if hs.len() >= n {
                hs.truncate(n);
                break;
            }
        }
        if avail < len {
            return HelloParse::Incomplete;
        }
        rest = &body[len..];
    }
    let mut hello = Hello {
        hello_type: hs[0],
        record_version,
        ..Hello::default()
    };
    if hello.hello_type != 1 {
        return HelloParse::Hello(hello);
    }
    match parse_body(&hs[4..], &mut hello) {
        Some(()) => HelloParse::Hello(hello),
        None => HelloParse::NotTls,
    }
}

fn parse_body(body: &[u8], h: &mut Hello) -> Option<()> {
    let mut c = Cur(body);
    h.hello_version = c.u16()?;
    c.take(32)?;
    let sid = c.vec8()?;
    if sid.len() > 32 {
        return None;
    }
    let suites = c.vec16()?;
    if suites.len() % 2 != 0 {
        return None;
    }
    c.vec8()?;
    if c.0.is_empty() {
        return Some(());
    }
    let mut exts = Cur(c.vec16()?);
    while !exts.0.is_empty() {
        let ty = exts.u16()?;
        let data = exts.vec16()?;
        match ty {
            0 => {
                let mut d = Cur(data);
                let mut list = Cur(d.vec16()?);
                while !list.0.is_empty() {
                    let kind = list.u8()?;
                    let name = list.vec16()?;
                    if kind == 0 && h.sni.is_none() {
                        h.sni = Some(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
            10 => h.has_ec_ext = true,
            16 => {
                let mut d = Cur(data);
                let mut list = Cur(d.vec16()?);
                while !list.0.is_empty() {
                    h.alpn.push(list.vec8()?.to_vec());
                }
            }
            35 => h.has_session_ticket_ext = true,
            _ => {}
        }
    }
    Some(())
}

/// Fuzz entry point: parsing must not panic, and a prefix of the input must never give a
/// different ClientHello than the whole.
pub fn fuzz_client_hello(data: &[u8]) {
    let full = parse_client_hello(data);
    let step = (data.len() / 64).max(1);
    for n in (0..data.len()).step_by(step) {
        if let HelloParse::Hello(h) = parse_client_hello(&data[..n]) {
            assert_eq!(full, HelloParse::Hello(h), "prefix {n} parsed differently");
        }
    }
}
