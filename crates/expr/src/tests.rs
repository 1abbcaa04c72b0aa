//! Crate tests: a small in-memory `Txn`, table-driven checks of fetches,
//! matchers, flags, converters, conditions, errors and the seed configurations.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::logformat::{LogOpts, LogVars};
use crate::{Compiler, Context, Password, Sample, Txn, User, Userlist, VarScope};

#[derive(Default)]
struct T {
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
    method: Option<Vec<u8>>,
    uri: Option<Vec<u8>>,
    ver: Option<Vec<u8>>,
    req: Vec<(Vec<u8>, Vec<u8>)>,
    res: Vec<(Vec<u8>, Vec<u8>)>,
    status: Option<u16>,
    body: Option<Vec<u8>>,
    vars: RefCell<HashMap<(VarScope, String), Sample<'static>>>,
}

impl T {
    fn get(uri: &str) -> T {
        T::req("GET", uri)
    }
    fn req(m: &str, uri: &str) -> T {
        T {
            method: Some(m.into()),
            uri: Some(uri.into()),
            ver: Some(b"HTTP/1.1".to_vec()),
            src: Some("10.0.0.1:40000".parse().unwrap()),
            dst: Some("127.0.0.1:8080".parse().unwrap()),
            ..T::default()
        }
    }
    fn h(mut self, n: &str, v: &str) -> T {
        self.req.push((n.into(), v.into()));
        self
    }
    fn src(mut self, s: &str) -> T {
        self.src = Some(s.parse().unwrap());
        self
    }
    fn var(self, n: &str, v: Sample<'static>) -> T {
        let (s, name) = VarScope::parse(n).unwrap();
        self.vars.borrow_mut().insert((s, name.to_string()), v);
        self
    }
}

impl Txn for T {
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
    fn method(&self) -> Option<&[u8]> {
        self.method.as_deref()
    }
    fn uri(&self) -> Option<&[u8]> {
        self.uri.as_deref()
    }
    fn version(&self) -> Option<&[u8]> {
        self.ver.as_deref()
    }
    fn req_header_count(&self) -> usize {
        self.req.len()
    }
    fn req_header(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.req.get(i).map(|(n, v)| (&n[..], &v[..]))
    }
    fn status(&self) -> Option<u16> {
        self.status
    }
    fn res_header_count(&self) -> usize {
        self.res.len()
    }
    fn res_header(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.res.get(i).map(|(n, v)| (&n[..], &v[..]))
    }
    fn req_body(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }
    fn var(&self, s: VarScope, n: &str) -> Option<Sample<'static>> {
        self.vars.borrow().get(&(s, n.to_string())).cloned()
    }
    fn set_var(&self, s: VarScope, n: &str, v: Sample<'static>) {
        self.vars.borrow_mut().insert((s, n.to_string()), v);
    }
    fn fe_conn(&self) -> Option<i64> {
        Some(7)
    }
    fn be_conn(&self, b: Option<&str>) -> Option<i64> {
        Some(if b == Some("app") { 3 } else { 1 })
    }
    fn nbsrv(&self, b: Option<&str>) -> Option<i64> {
        Some(if b == Some("app") { 2 } else { 0 })
    }
    fn srv_is_up(&self, b: &str, s: &str) -> Option<bool> {
        Some(b == "app" && s == "s1")
    }
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }
    fn rand(&self) -> u32 {
        0x8000_0000
    }
    fn unique_id(&self) -> Option<&[u8]> {
        Some(b"uid-1")
    }
}

fn tmpdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "sluice-expr-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// Compile `acl x <def>` and evaluate it.
fn acl(c: &mut Compiler, def: &str, t: &T) -> bool {
    c.clear_acls();
    c.compile_acl("x", &words(def))
        .unwrap_or_else(|e| panic!("{def}: {e}"));
    c.acl("x").unwrap().eval(t)
}

fn expr(c: &Compiler, e: &str, t: &T) -> Option<String> {
    let mut out = Vec::new();
    let ex = c
        .compile_expr(e, Context::HttpRequest)
        .unwrap_or_else(|err| panic!("{e}: {err}"));
    ex.eval_into(t, &mut out)
        .then(|| String::from_utf8_lossy(&out).into_owned())
}

fn auth(user: &str, pass: &str) -> String {
    let mut o = Vec::new();
    crate::codec::base64_encode(format!("{user}:{pass}").as_bytes(), &mut o);
    format!("Basic {}", String::from_utf8(o).unwrap())
}

fn compiler_with_users() -> Compiler {
    let mut c = Compiler::new();
    c.add_userlist(Userlist::new(
        "mycredentials",
        vec![
            User {
                name: "vip".into(),
                password: Password::Insecure("ipaygoodmoneyforthis".into()),
                groups: vec![],
            },
            User {
                name: "john".into(),
                password: Password::Insecure("somePassword".into()),
                groups: vec!["staff".into()],
            },
            User {
                name: "h".into(),
                password: Password::Hashed("$1$saltsalt$hBWP4gG4jIXv1jZkVaG4g0".into()),
                groups: vec![],
            },
        ],
        vec![("admins".into(), vec!["vip".into()])],
    ));
    c
}

#[test]
fn fetches() {
    let c = compiler_with_users();
    let t = T::get("/static/img.png?a=1&b=two&a=3")
        .h("Host", "www.example.com")
        .h("X-List", "a, b,\"c,d\"")
        .h("x-list", "e")
        .h("Cookie", "SID=abc; lang=fr")
        .h("Cookie", "SID=def")
        .h("Authorization", &auth("john", "somePassword"))
        .var("txn.who", Sample::string(b"bob".to_vec()));
    let cases: &[(&str, Option<&str>)] = &[
        ("src", Some("10.0.0.1")),
        ("src_port", Some("40000")),
        ("dst", Some("127.0.0.1")),
        ("dst_port", Some("8080")),
        ("path", Some("/static/img.png")),
        ("pathq", Some("/static/img.png?a=1&b=two&a=3")),
        ("base", Some("www.example.com/static/img.png")),
        ("url", Some("/static/img.png?a=1&b=two&a=3")),
        ("query", Some("a=1&b=two&a=3")),
        ("url_param(b)", Some("two")),
        ("url_param(a)", Some("1")),
        ("url_param(zz)", None),
        ("method", Some("GET")),
        ("req.ver", Some("1.1")),
        ("hdr(host)", Some("www.example.com")),
        ("req.hdr(x-list)", Some("e")),
        ("req.hdr(x-list,1)", Some("a")),
        ("req.hdr(x-list,3)", Some("\"c,d\"")),
        ("req.hdr(x-list,-2)", Some("\"c,d\"")),
        ("req.hdr(x-list,9)", None),
        ("req.fhdr(x-list,1)", Some("a, b,\"c,d\"")),
        ("hdr_cnt(x-list)", Some("4")),
        ("req.fhdr_cnt(x-list)", Some("2")),
        ("hdr_cnt(nope)", Some("0")),
        ("req.cook(SID)", Some("abc")),
        ("cook(lang)", Some("fr")),
        ("req.cook_cnt(SID)", Some("2")),
        ("http_auth(mycredentials)", Some("1")),
        ("http_auth_group(mycredentials)", Some("john")),
        ("http_auth_user", Some("john")),
        ("http_auth_type", Some("basic")),
        ("var(txn.who)", Some("bob")),
        ("var(txn.none)", None),
        ("var(txn.none,dflt)", Some("dflt")),
        ("nbsrv(app)", Some("2")),
        ("be_conn(app)", Some("3")),
        ("fe_conn", Some("7")),
        ("srv_is_up(app/s1)", Some("1")),
        ("srv_is_up(app/s2)", Some("0")),
        ("always_true", Some("1")),
        ("always_false", Some("0")),
        ("rand(10)", Some("5")),
        ("date", Some("1700000000")),
        ("date(10)", Some("1700000010")),
        ("unique-id", Some("uid-1")),
        ("str(hello)", Some("hello")),
        ("int(-42)", Some("-42")),
        ("ipv4(192.168.0.1)", Some("192.168.0.1")),
        ("bool(1)", Some("1")),
        ("req.body", None),
        ("req.len", Some("0")),
    ];
    for (e, want) in cases {
        assert_eq!(expr(&c, e, &t).as_deref(), *want, "{e}");
    }
    let mut t = T::req("POST", "http://h.example:81/p/q?x#frag");
    t.body = Some(b"hello world".to_vec());
    t.status = Some(503);
    t.res.push((b"Server".to_vec(), b"nginx".to_vec()));
    assert_eq!(expr(&c, "path", &t).as_deref(), Some("/p/q"));
    assert_eq!(expr(&c, "req.body", &t).as_deref(), Some("hello world"));
    assert_eq!(expr(&c, "req.body_len", &t).as_deref(), Some("11"));
    assert_eq!(expr(&c, "req.payload(6,5)", &t).as_deref(), Some("world"));
    assert_eq!(expr(&c, "payload(6,0)", &t).as_deref(), Some("world"));
    assert_eq!(expr(&c, "req.len", &t).as_deref(), Some("11"));
    t.body = Some(b"user=bob&Pass=s3cret&flag&empty=".to_vec());
    for (e, want) in [
        ("req.body_param(user)", Some("bob")),
        ("req.body_param(pass)", None),
        ("req.body_param(pass,i)", Some("s3cret")),
        ("req.body_param(empty)", Some("")),
        ("req.body_param(flag)", Some("")),
        ("req.body_param", Some("bob")),
    ] {
        assert_eq!(expr(&c, e, &t).as_deref(), want, "{e}");
    }
    assert!(c
        .compile_expr("req.body_param(x,z)", Context::HttpRequest)
        .is_err());
    let ex = c.compile_expr("status", Context::HttpResponse).unwrap();
    assert_eq!(ex.eval(&t), Some(Sample::Int(503)));
    let ex = c
        .compile_expr("res.hdr(server)", Context::HttpResponse)
        .unwrap();
    assert_eq!(ex.eval(&t), Some(Sample::str(b"nginx")));
    // Bad credentials.
    let t = T::get("/").h("Authorization", &auth("john", "bad"));
    assert_eq!(
        expr(&c, "http_auth(mycredentials)", &t).as_deref(),
        Some("0")
    );
    assert_eq!(expr(&c, "http_auth_group(mycredentials)", &t), None);
}

#[test]
fn converters() {
    let d = tmpdir();
    std::fs::write(d.join("m.map"), "# comment\n/api api\n/api/v2 api2\n\n").unwrap();
    std::fs::write(d.join("ip.map"), "10.0.0.0/8 ten\n10.1.0.0/16 ten-one\n").unwrap();
    std::fs::write(d.join("i.map"), "1:10 small\n11: big\n").unwrap();
    std::fs::write(d.join("n.map"), "www.example.com 5\n").unwrap();
    let mut c = compiler_with_users();
    let mut reg = crate::PatternRegistry::default();
    reg.set_base_dir(Some(d.clone()));
    let reg = std::sync::Arc::new(reg);
    let mut c2 = Compiler::with_registry(reg);
    std::mem::swap(&mut c, &mut c2);
    let t = T::get("/Api/V2/Users?q=1")
        .h("Host", "WWW.Example.com")
        .h(
            "X-Json",
            r#"{"user":{"id":42,"name":"bob","ok":true,"f":1.5}}"#,
        )
        .var("txn.k", Sample::string(b"abc".to_vec()))
        .var("txn.n", Sample::Int(3));
    let cases: &[(&str, Option<&str>)] = &[
        ("path,lower", Some("/api/v2/users")),
        ("path,upper", Some("/API/V2/USERS")),
        ("path,lower,map_beg(m.map)", Some("api2")),
        ("path,map_beg(m.map,none)", Some("none")),
        ("path,map_beg(m.map)", None),
        ("str(/api),map(m.map)", Some("api")),
        ("str(/api/x),map_str(m.map,dflt)", Some("dflt")),
        ("str(10.1.2.3),map_ip(ip.map)", Some("ten-one")),
        ("src,map_ip(ip.map)", Some("ten")),
        ("int(5),map_int(i.map)", Some("small")),
        ("int(50),map_int(i.map)", Some("big")),
        ("hdr(host),lower,map_str_int(n.map,0),add(1)", Some("6")),
        ("str(/x/api),map_end(m.map)", Some("api")),
        ("str(/x/api/v2/y),map_sub(m.map)", Some("api")),
        ("str(/x/api/v2/y),map_reg(m.map)", Some("api")),
        ("path,regsub(/V2/,/V3/)", Some("/Api/V3/Users")),
        ("path,regsub(/v2/,/v3/,i)", Some("/Api/v3/Users")),
        ("str(aaa),regsub(a,b,g)", Some("bbb")),
        ("str(aaa),regsub(a,b)", Some("baa")),
        ("str(abc),regsub(\"(b)(c)\",\\2\\1)", Some("acb")),
        ("str(hello),base64", Some("aGVsbG8=")),
        ("str(aGVsbG8=),b64dec", Some("hello")),
        ("str(a),concat(<,txn.k,>)", Some("a<abc>")),
        ("str(a:b:c),field(2,:)", Some("b")),
        ("str(a:b:c),field(-1,:)", Some("c")),
        ("str(a:b:c),field(2,:,0)", Some("b:c")),
        ("str(a  b c),word(2,\" \")", Some("b")),
        ("src,ipmask(24)", Some("10.0.0.0")),
        (
            "ipv4(192.168.77.9),ipmask(255.255.0.0)",
            Some("192.168.0.0"),
        ),
        ("str(AB),hex", Some("4142")),
        ("str(ff),hex2i", Some("255")),
        ("str(a%20b+c),url_dec", Some("a b+c")),
        ("str(a%20b+c),url_dec(1)", Some("a b c")),
        ("str(a b/),url_enc", Some("a%20b%2F")),
        ("str(a\\\"b),json", Some("a\\\"b")),
        ("str(123456789),crc32", Some("3421780262")),
        ("str(abc),djb2", Some("193485963")),
        ("str(abc),sdbm", Some("807794786")),
        (
            "str(abc),sha1,hex",
            Some("A9993E364706816ABA3E25717850C26C9CD0D89D"),
        ),
        (
            "str(abc),sha2,hex",
            Some("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
        ),
        (
            "str(abc),digest(md5),hex",
            Some("900150983CD24FB0D6963F7D28E17F72"),
        ),
        (
            "str(what do ya want for nothing?),hmac(sha256,SmVmZQ==),hex",
            Some("5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"),
        ),
        ("str(abcdef),bytes(2,3)", Some("cde")),
        ("str(abcdef),bytes(4)", Some("ef")),
        ("str(abcdef),length", Some("6")),
        ("int(7),add(3)", Some("10")),
        ("int(7),sub(txn.n)", Some("4")),
        ("int(7),mul(2)", Some("14")),
        ("int(7),div(2)", Some("3")),
        ("int(7),div(0)", Some("9223372036854775807")),
        ("int(7),mod(4)", Some("3")),
        ("int(7),mod(0)", Some("0")),
        ("int(7),neg", Some("-7")),
        ("int(6),and(3)", Some("2")),
        ("int(6),or(3)", Some("7")),
        ("int(6),xor(3)", Some("5")),
        ("int(2),bool", Some("1")),
        ("int(0),not", Some("1")),
        ("int(3),odd", Some("1")),
        ("str(abc),strcmp(txn.k)", Some("0")),
        ("str(abd),strcmp(txn.k)", Some("1")),
        ("str(abc),secure_memcmp(txn.k)", Some("1")),
        (
            "int(1700000000),utime(%Y-%m-%dT%H:%M:%S)",
            Some("2023-11-14T22:13:20"),
        ),
        ("int(1700000000),ltime(%d/%b/%Y,3600)", Some("14/Nov/2023")),
        ("always_true,iif(yes,no)", Some("yes")),
        ("always_false,iif(yes,no)", Some("no")),
        ("req.fhdr(x-json),json_query('$.user.name')", Some("bob")),
        (
            "req.fhdr(x-json),json_query('$.user.id','int'),add(1)",
            Some("43"),
        ),
        ("req.fhdr(x-json),json_query('$.user.f')", Some("1.5")),
        ("req.fhdr(x-json),json_query('$.user.ok')", Some("1")),
        ("req.fhdr(x-json),json_query('$.nope')", None),
        ("str(xxabcxx),ltrim(x)", Some("abcxx")),
        ("str(xxabcxx),rtrim(x)", Some("xxabc")),
        ("str(ab),set-var(txn.copy),upper", Some("AB")),
        ("var(txn.copy)", Some("ab")),
    ];
    for (e, want) in cases {
        assert_eq!(expr(&c, e, &t).as_deref(), *want, "{e}");
    }
}

#[test]
fn matchers_and_flags() {
    let d = tmpdir();
    std::fs::write(
        d.join("paths.lst"),
        "# static things\n/static\n\n  /assets  \n",
    )
    .unwrap();
    std::fs::write(d.join("nets.lst"), "192.168.0.0/16\n2001:db8::/32\n").unwrap();
    let mut reg = crate::PatternRegistry::default();
    reg.set_base_dir(Some(d));
    let mut c = Compiler::with_registry(std::sync::Arc::new(reg));
    let t = T::get("/Static/img.png?x=1")
        .h("Host", "www.example.com")
        .h("User-Agent", "Mozilla/5.0 (iPhone) Mobile Safari")
        .h("Content-Length", "12")
        .h("X-Fwd", "1.2.3.4, 10.9.8.7")
        .h("Cookie", "a=1; b=2");
    let cases: &[(&str, bool)] = &[
        ("path /Static/img.png", true),
        ("path /static/img.png", false),
        ("path -i /static/img.png", true),
        ("path_beg /Static", true),
        ("path_beg /static", false),
        ("path_beg -i /static", true),
        ("path_beg /a /b /Sta", true),
        ("path_end .png", true),
        ("path_end .jpg .gif", false),
        ("path_sub img", true),
        ("path_dir Static", true),
        ("path_dir stat", false),
        ("path_reg ^/S.*\\.png$", true),
        ("path_reg -i ^/s.*\\.PNG$", true),
        ("path_len 15", true),
        ("path_len gt 20", false),
        ("path_len 10:20", true),
        ("path -m beg /St", true),
        ("path -m len lt 16", true),
        ("path -m found", true),
        ("query -m found", true),
        ("url_param(y) -m found", false),
        ("path -m str -i -- /STATIC/IMG.PNG", true),
        ("path_beg -i -f paths.lst", true),
        ("path_beg -f paths.lst", false),
        ("url_beg /Static", true),
        ("url_sub x=1", true),
        ("url_param(x) 1", true),
        ("urlp(x) 1", true),
        ("urlp_val(x) 1", true),
        ("base_beg www.example.com/Static", true),
        ("base_dom example", true),
        ("hdr(host) www.example.com", true),
        ("hdr(host) -i WWW.EXAMPLE.COM", true),
        ("hdr_beg(host) www.", true),
        ("hdr_end(host) .com", true),
        ("hdr_dom(host) example.com", true),
        ("hdr_dom(host) ample.com", false),
        ("hdr_sub(user-agent) Mobile", true),
        ("req.hdr(User-Agent) -i -m sub mobile", true),
        ("hdr_len(host) 15", true),
        ("hdr_val(content-length) gt 10", true),
        ("hdr_val(content-length) lt 10", false),
        ("hdr_cnt(x-fwd) eq 2", true),
        ("hdr_cnt(x-fwd) ge 3", false),
        ("hdr_cnt(x-fwd) 1:2", true),
        ("hdr_ip(x-fwd) 10.0.0.0/8", true),
        ("hdr_ip(x-fwd,1) 10.0.0.0/8", false),
        ("hdr_ip(x-fwd,-1) 10.0.0.0/8", true),
        ("hdr(x-fwd) 1.2.3.4", true),
        ("fhdr(x-fwd) 1.2.3.4", false),
        ("hdr(x-none) -m found", false),
        ("cook(b) 2", true),
        ("cook_val(a) 1", true),
        ("cook_beg(a) 2", false),
        ("src 10.0.0.1", true),
        ("src 10.0.0.0/8", true),
        ("src 192.168.1.0/24", false),
        ("src 10.0.0.0/255.0.0.0", true),
        ("src -f nets.lst", false),
        ("src ::ffff:10.0.0.1", true),
        ("src_port gt 1024", true),
        ("src_port lt 1024", false),
        ("src_port 39000:41000", true),
        ("src_port ge 40000 le 39999", true),
        ("src -m str 10.0.0.1", true),
        ("src -m int 167772161", true),
        ("dst_port 8080", true),
        ("method GET", true),
        ("method get", false),
        ("method -i get", true),
        ("req.ver 1.1", true),
        ("always_true", true),
        ("always_false", false),
        ("always_false -m found", true),
        ("always_true -m bool", true),
        ("str(12) -m int 12", true),
        ("str(abc) -m int 12", false),
        ("str(10.1.2.3) -m ip 10.0.0.0/8", true),
        ("str(hello) -m bin 68656C6C6F", true),
        ("path,lower /static/img.png", true),
        ("path,lower,length 15", true),
        ("var(txn.none) -m found", false),
        ("path_beg", false),
        ("int(5) 1 3 5", true),
        ("int(5) gt 5", false),
        ("int(-5) lt 0", true),
        ("src 1.2.3.4 10.0.0.1", true),
    ];
    for (def, want) in cases {
        assert_eq!(acl(&mut c, def, &t), *want, "acl x {def}");
    }
    let t6 = T::get("/").src("[2001:db8::5]:443");
    assert!(acl(&mut c, "src -f nets.lst", &t6));
    assert!(acl(&mut c, "src 2001:db8::/32", &t6));
    assert!(!acl(&mut c, "src 10.0.0.0/8", &t6));
    let t4 = T::get("/").src("192.168.3.4:1");
    assert!(acl(&mut c, "src -f nets.lst", &t4));
}

#[test]
fn predefined_acls() {
    let c = Compiler::new();
    let eval = |cond: &str, t: &T| {
        c.compile_cond(&words(cond), Context::HttpRequest)
            .unwrap_or_else(|e| panic!("{cond}: {e}"))
            .eval(t)
    };
    let mut get = T::get("/x").h("Content-Length", "3").src("127.0.0.1:1");
    assert!(eval("if TRUE", &get));
    assert!(!eval("if FALSE", &get));
    assert!(eval("if HTTP", &get));
    assert!(eval("if HTTP_1.1", &get));
    assert!(!eval("if HTTP_1.0", &get));
    assert!(eval("if HTTP_CONTENT", &get));
    assert!(eval("if HTTP_URL_SLASH", &get));
    assert!(!eval("if HTTP_URL_ABS", &get));
    assert!(!eval("if HTTP_URL_STAR", &get));
    assert!(eval("if LOCALHOST", &get));
    assert!(eval("if METH_GET", &get));
    assert!(eval("if METH_GET", &T::req("HEAD", "/")));
    assert!(!eval("if METH_HEAD", &get));
    for m in ["CONNECT", "DELETE", "OPTIONS", "POST", "PUT", "TRACE"] {
        assert!(eval(&format!("if METH_{m}"), &T::req(m, "/")), "{m}");
        assert!(!eval(&format!("if METH_{m}"), &get), "{m}");
    }
    assert!(!eval("if RDP_COOKIE", &get));
    assert!(!eval("if REQ_CONTENT", &get));
    get.body = Some(b"abc".to_vec());
    assert!(eval("if REQ_CONTENT", &get));
    assert!(eval("if WAIT_END", &get));
    assert!(eval("if HTTP_URL_ABS", &T::get("http://x/y")));
    assert!(eval("if HTTP_URL_STAR", &T::req("OPTIONS", "*")));
}

#[test]
fn conditions() {
    let mut c = Compiler::new();
    c.compile_acl("a", &["path_beg", "/a"]).unwrap();
    c.compile_acl("b", &["method", "POST"]).unwrap();
    c.compile_acl("multi", &["path", "/x"]).unwrap();
    c.compile_acl("multi", &["path", "/y"]).unwrap();
    let ev = |s: &str, t: &T| {
        c.compile_cond(&words(s), Context::HttpRequest)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .eval(t)
    };
    let pa = T::req("POST", "/a");
    let ga = T::get("/a");
    let pz = T::req("POST", "/z");
    let cases: &[(&str, &T, bool)] = &[
        ("if a b", &pa, true),
        ("if a b", &ga, false),
        ("if a !b", &ga, true),
        ("if a ! b", &ga, true),
        ("if !!a", &ga, true),
        ("if a || b", &pz, true),
        ("if a or b", &pz, true),
        ("if a OR b", &ga, true),
        ("unless a", &ga, false),
        ("unless a", &pz, true),
        ("if { path_beg /a } b", &pa, true),
        ("if !{ path_beg /a }", &pz, true),
        ("if a !b || b !a", &pz, true),
        ("if a !b || b !a", &pa, false),
        ("if multi", &T::get("/y"), true),
        ("if multi", &T::get("/x"), true),
        ("if multi", &T::get("/z"), false),
        ("if { always_true } ||", &ga, true),
        ("if", &ga, false),
        ("unless", &ga, true),
        ("if { hdr(x) -m found } || a", &ga, true),
        ("if !{ hdr(x) -m found }", &ga, true),
    ];
    for (s, t, want) in cases {
        assert_eq!(ev(s, t), *want, "{s}");
    }
    let cond = c
        .compile_cond(&words("if a !b || { src 1.2.3.4 }"), Context::HttpRequest)
        .unwrap();
    assert_eq!(cond.acl_names(), vec!["a", "b", "anonymous"]);
}

#[test]
fn seed_acl_examples() {
    let mut c = Compiler::new();
    let rq = Context::HttpRequest;
    c.compile_acl("is_static", &["path_beg", "/static"])
        .unwrap();
    let cond = c.compile_cond(&["if", "is_static"], rq).unwrap();
    assert!(cond.eval(&T::get("/static/app.js")));
    assert!(!cond.eval(&T::get("/index.html")));

    c.clear_acls();
    c.compile_acl("block_ip", &["src", "192.168.1.0/24"])
        .unwrap();
    let cond = c.compile_cond(&["if", "block_ip"], rq).unwrap();
    assert!(cond.eval(&T::get("/").src("192.168.1.77:5555")));
    assert!(!cond.eval(&T::get("/").src("192.168.2.1:5555")));

    c.clear_acls();
    c.compile_acl("is_post_method", &["method", "POST"])
        .unwrap();
    let cond = c.compile_cond(&["if", "is_post_method"], rq).unwrap();
    assert!(cond.eval(&T::req("POST", "/")));
    assert!(!cond.eval(&T::get("/")));

    c.clear_acls();
    c.compile_acl(
        "is_mobile_user_agent",
        &["req.hdr(User-Agent)", "-i", "-m", "sub", "Mobile"],
    )
    .unwrap();
    let cond = c.compile_cond(&["if", "is_mobile_user_agent"], rq).unwrap();
    assert!(cond.eval(&T::get("/").h(
        "User-Agent",
        "Mozilla/5.0 (Linux; Android 10) MOBILE Safari"
    )));
    assert!(!cond.eval(&T::get("/").h("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")));
    assert!(!cond.eval(&T::get("/")));

    c.clear_acls();
    c.compile_acl("is_admin_path", &["path_beg", "/admin"])
        .unwrap();
    c.compile_acl("is_internal_network", &["src", "192.168.10.0/24"])
        .unwrap();
    let cond = c
        .compile_cond(&["if", "is_admin_path", "!is_internal_network"], rq)
        .unwrap();
    assert!(cond.eval(&T::get("/admin/users").src("10.1.1.1:1")));
    assert!(!cond.eval(&T::get("/admin/users").src("192.168.10.5:1")));
    assert!(!cond.eval(&T::get("/public").src("10.1.1.1:1")));

    c.clear_acls();
    c.compile_acl("is_post_method", &["method", "POST"])
        .unwrap();
    c.compile_acl("is_submit_path", &["path_beg", "/submit"])
        .unwrap();
    let cond = c
        .compile_cond(&["if", "is_post_method", "is_submit_path"], rq)
        .unwrap();
    assert!(cond.eval(&T::req("POST", "/submit/form")));
    assert!(!cond.eval(&T::get("/submit/form")));
    assert!(!cond.eval(&T::req("POST", "/other")));

    // path-routing.cfg
    c.clear_acls();
    c.compile_acl("is_app3", &["path_beg", "/app3"]).unwrap();
    c.compile_acl("is_app4", &["path_beg", "/app4"]).unwrap();
    let c3 = c.compile_cond(&["if", "is_app3"], rq).unwrap();
    let c4 = c.compile_cond(&["if", "is_app4"], rq).unwrap();
    assert!(c3.eval(&T::get("/app3/x")) && !c4.eval(&T::get("/app3/x")));
    assert!(c4.eval(&T::get("/app4")) && !c3.eval(&T::get("/app4")));
    assert!(!c3.eval(&T::get("/")) && !c4.eval(&T::get("/")));
}

struct NoVars;
impl LogVars for NoVars {
    fn write_var(&self, name: &str, _o: LogOpts, out: &mut Vec<u8>) -> bool {
        match name {
            "ci" => out.extend_from_slice(b"10.0.0.1"),
            "cp" => out.extend_from_slice(b"40000"),
            "r" => out.extend_from_slice(b"GET / HTTP/1.1"),
            _ => return false,
        }
        true
    }
}

#[test]
fn seed_basic_auth_map() {
    let d = tmpdir();
    std::fs::write(d.join("deluxe.map"), "vip deluxe\n").unwrap();
    let mut reg = crate::PatternRegistry::default();
    reg.set_base_dir(Some(d));
    let mut c = Compiler::with_registry(std::sync::Arc::new(reg));
    c.add_userlist(Userlist::new(
        "mycredentials",
        vec![
            User {
                name: "vip".into(),
                password: Password::Insecure("ipaygoodmoneyforthis".into()),
                groups: vec![],
            },
            User {
                name: "john".into(),
                password: Password::Insecure("somePassword".into()),
                groups: vec![],
            },
        ],
        vec![],
    ));
    let auth_rule = c
        .compile_cond(
            &words("unless { http_auth(mycredentials) }"),
            Context::HttpRequest,
        )
        .unwrap();
    let lf = c
        .compile_log_format_in(
            "%[http_auth_group(mycredentials),map(deluxe.map,default)]",
            Context::HttpRequest,
        )
        .unwrap();
    let render = |t: &T| {
        let mut o = Vec::new();
        lf.render(t, &NoVars, &mut o);
        String::from_utf8(o).unwrap()
    };
    let vip = T::get("/").h("Authorization", &auth("vip", "ipaygoodmoneyforthis"));
    let john = T::get("/").h("Authorization", &auth("john", "somePassword"));
    let bad = T::get("/").h("Authorization", &auth("vip", "nope"));
    let anon = T::get("/");
    assert!(!auth_rule.eval(&vip));
    assert!(!auth_rule.eval(&john));
    assert!(auth_rule.eval(&bad));
    assert!(auth_rule.eval(&anon));
    assert_eq!(render(&vip), "deluxe");
    assert_eq!(render(&john), "default");
    assert_eq!(
        render(&anon),
        "",
        "a missing value in a rule argument is empty, as in HAProxy"
    );
    // The map store is shared and updatable at run time.
    let m = c.registry().map("deluxe.map").unwrap();
    m.add(b"john", Some(b"deluxe")).unwrap();
    assert_eq!(render(&john), "deluxe");
    assert!(m.set(b"john", b"silver").unwrap());
    assert_eq!(render(&john), "silver");
    assert!(m.del(b"john").unwrap());
    assert!(!m.del(b"john").unwrap());
    assert_eq!(render(&john), "default");
    m.replace([(&b"john"[..], Some(&b"gold"[..]))]).unwrap();
    assert_eq!(render(&john), "gold");
    assert_eq!(render(&vip), "default");
    m.clear().unwrap();
    assert_eq!(render(&john), "default");
}

#[test]
fn auth_groups_and_hashes() {
    let mut c = compiler_with_users();
    let vip = T::get("/").h("Authorization", &auth("vip", "ipaygoodmoneyforthis"));
    let john = T::get("/").h("Authorization", &auth("john", "somePassword"));
    assert!(acl(&mut c, "http_auth_group(mycredentials) admins", &vip));
    assert!(!acl(&mut c, "http_auth_group(mycredentials) admins", &john));
    assert!(acl(
        &mut c,
        "http_auth_group(mycredentials) admins staff",
        &john
    ));
    let h = T::get("/").h("Authorization", &auth("h", "ipaygoodmoneyforthis"));
    assert!(acl(&mut c, "http_auth(mycredentials)", &h));
    assert!(acl(&mut c, "http_auth(mycredentials)", &h));
    assert!(!acl(
        &mut c,
        "http_auth(mycredentials)",
        &T::get("/").h("Authorization", &auth("h", "x"))
    ));
    assert_eq!(c.userlist("mycredentials").unwrap().cached(), 2);
}

#[test]
fn pattern_files_shared_and_updated() {
    let d = tmpdir();
    std::fs::write(d.join("bad.lst"), "10.0.0.0/8\n").unwrap();
    let mut reg = crate::PatternRegistry::default();
    reg.set_base_dir(Some(d));
    let mut c = Compiler::with_registry(std::sync::Arc::new(reg));
    c.compile_acl("one", &["src", "-f", "bad.lst"]).unwrap();
    c.compile_acl("two", &["src", "-f", "bad.lst"]).unwrap();
    c.compile_acl("str", &["path", "-f", "bad.lst"]).unwrap();
    let one = c
        .compile_cond(&["if", "one"], Context::HttpRequest)
        .unwrap();
    let two = c
        .compile_cond(&["if", "two"], Context::HttpRequest)
        .unwrap();
    let t = T::get("/").src("172.16.0.1:1");
    assert!(!one.eval(&t) && !two.eval(&t));
    let r = c.registry().acl("bad.lst").unwrap();
    r.add(b"172.16.0.0/12", None).unwrap();
    assert!(one.eval(&t) && two.eval(&t));
    assert_eq!(r.len(), 2);
    // An invalid entry for one of the users leaves everything unchanged.
    assert!(r.add(b"not-an-ip", None).is_err());
    assert_eq!(r.len(), 2);
    assert!(r.del(b"172.16.0.0/12").unwrap());
    assert!(!one.eval(&t));
    assert!(one.eval(&T::get("/").src("10.2.3.4:1")));
}

#[test]
fn log_format() {
    let c = Compiler::new();
    let lf = c
        .compile_log_format(
            "%ci:%cp [%{+Q}r] %[src] %[date,add(1)] %Tw 100%% %{+Q}[str(a\\\"b)] %{+E}[str(x]y)]",
        )
        .unwrap();
    let mut o = Vec::new();
    lf.render(&T::get("/"), &NoVars, &mut o);
    assert_eq!(
        String::from_utf8(o).unwrap(),
        "10.0.0.1:40000 [\"GET / HTTP/1.1\"] 10.0.0.1 1700000001 - 100% \"a\"b\" x\\]y"
    );
    assert!(c.compile_log_format("static").unwrap().is_const());
    let lf = c
        .compile_log_format_in("%[path] %[req.hdr(host)]", Context::HttpRequest)
        .unwrap();
    let mut o = Vec::new();
    lf.render(&T::get("/p").h("host", "h"), &NoVars, &mut o);
    assert_eq!(o, b"/p h");
}

#[test]
fn errors() {
    let mut c = compiler_with_users();
    c.compile_acl("r", &["res.hdr(x)", "1"]).unwrap();
    let acl_err = |c: &mut Compiler, w: &str| c.compile_acl("e", &words(w)).unwrap_err().msg;
    let cases: &[(&str, &str)] = &[
        ("foo_bar 1", "unknown fetch method 'foo_bar' in ACL expression 'foo_bar'"),
        ("path,foo 1", "ACL keyword 'path' : unknown converter 'foo'"),
        ("path,lower(x) 1", "ACL keyword 'path' : invalid arg 1 in converter 'lower' : expected ')' before 'x)'"),
        ("path,lower,map(x,y,z) /a", "ACL keyword 'path' : invalid arg 2 in converter 'map' : expected ')' before ',z)'"),
        ("path,map(/nonexist.map) /x", "ACL keyword 'path' : invalid args in converter 'map' : failed to open pattern file </nonexist.map>"),
        ("url_param(a,b,c,d) /a", "fetch method 'url_param' : expected ')' before ',c,d)' in ACL expression 'url_param(a,b,c,d)'"),
        ("hdr(host", "ACL keyword 'hdr' : fetch method 'hdr' : expected ')'"),
        ("path -m xyz 1", "unknown matching method 'xyz' when parsing ACL expression"),
        ("src_port abc", "'abc' is not a number"),
        ("src_port 1:x", "'1:x' is not a valid number range"),
        ("hdr_cnt(host) gt 1x", "'1x' is neither a number nor a supported operator"),
        ("src 1.2.3.4.5", "'1.2.3.4.5' is not a valid IPv4 or IPv6 address"),
        ("path -f /nonexist", "failed to open pattern file </nonexist>"),
        ("path -x /x", "'-x' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"),
        ("path -m reg (", "regex '(' is invalid (error=unclosed group)"),
        ("http_auth(nouser)", "unable to find userlist 'nouser' referenced in arg 1 of ACL keyword 'http_auth'"),
        ("", "missing fetch method in ACL expression ''"),
    ];
    for (w, msg) in cases {
        assert_eq!(acl_err(&mut c, w), *msg, "acl e {w}");
    }
    assert_eq!(
        c.compile_acl("1$x", &["path", "/"]).unwrap_err().msg,
        "character '$' is not permitted in acl name '1$x'"
    );
    let cond_err = |w: &str, ctx: Context| c.compile_cond(&words(w), ctx).unwrap_err();
    let e = cond_err("if nope", Context::HttpRequest);
    assert_eq!(e.msg, "no such ACL : 'nope'");
    assert_eq!(e.hint.as_deref(), Some("known ACLs: r"));
    assert_eq!(
        cond_err("if R", Context::HttpRequest).hint.as_deref(),
        Some("did you mean 'r'?")
    );
    assert_eq!(
        cond_err("if { path 1", Context::HttpRequest).msg,
        "missing closing '}' in condition"
    );
    assert_eq!(
        cond_err("if { path /a } }", Context::HttpRequest).msg,
        "no such ACL : '}'"
    );
    assert_eq!(
        cond_err("if {  }", Context::HttpRequest).msg,
        "missing fetch method in ACL expression ''"
    );
    assert_eq!(
        cond_err("when x", Context::HttpRequest).msg,
        "expects 'if' or 'unless' followed by a condition but found 'when'"
    );
    assert_eq!(
        cond_err("if r", Context::HttpRequest).msg,
        "acl 'r' will never match because it only involves keywords that are incompatible with 'frontend http-request header rule'"
    );
    assert_eq!(
        cond_err("if { res.hdr(x) 1 }", Context::HttpRequest).msg,
        "anonymous acl will never match because it uses keyword 'res.hdr' which is incompatible with 'frontend http-request header rule'"
    );
    assert_eq!(
        cond_err("if { path /x }", Context::HttpResponse).msg,
        "anonymous acl will never match because it uses keyword 'path' which is incompatible with 'frontend http-response header rule'"
    );
    assert_eq!(
        cond_err("if { path /x }", Context::TcpConnection).msg,
        "anonymous acl will never match because it uses keyword 'path' which is incompatible with 'frontend tcp-request connection rule'"
    );
    assert!(c
        .compile_cond(&words("if { src 10.0.0.0/8 }"), Context::TcpConnection)
        .is_ok());
    assert!(c
        .compile_cond(&words("if r"), Context::HttpResponse)
        .is_ok());
    let ee = |t: &str, ctx| c.compile_expr(t, ctx).unwrap_err();
    assert_eq!(
        ee("foo", Context::HttpRequest).msg,
        "unknown fetch method 'foo'"
    );
    assert_eq!(
        ee("lower", Context::HttpRequest).hint.as_deref(),
        Some("'lower' is a converter: write it after a fetch, as 'fetch,lower'")
    );
    assert_eq!(
        ee("path,nope", Context::HttpRequest).msg,
        "unknown converter 'nope'"
    );
    assert_eq!(
        ee("res.hdr(x)", Context::HttpRequest).msg,
        "fetch method 'res.hdr' extracts information from 'HTTP response headers', none of which is available here"
    );
    assert_eq!(
        ee("var(foo)", Context::HttpRequest).msg,
        "fetch method 'var' : invalid variable name 'foo'"
    );
    assert_eq!(
        ee("path,field(0,/)", Context::HttpRequest).msg,
        "invalid arg 1 in converter 'field' : index must be different from 0"
    );
    let le = |t: &str| c.compile_log_format(t).unwrap_err().msg;
    assert_eq!(le("%ci %zz"), "no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'");
    assert_eq!(le("%ci 50% x"), "unexpected variable name near ' ' at position 7 line : '%ci 50% x'. Maybe you want to write a single '%', use the syntax '%%'");
    assert_eq!(
        le("%[foo]"),
        "failed to parse sample expression <foo> : unknown fetch method 'foo'"
    );
    assert_eq!(le("x%"), "truncated line after '%'");
    assert_eq!(le("%[path]"), "sample fetch <path> may not be reliably used here because it needs 'HTTP request headers' which is not available here");
}
