//! `sluice-demo`: the quick start. Starts three small HTTP servers on 127.0.0.1:8081-8083
//! that name themselves, runs Sluice in-process with `examples/quickstart.cfg`, sends a few
//! requests through it to show the 2:1:3 weighted round robin, then keeps serving until
//! interrupted so you can try `curl -i http://127.0.0.1:8080/`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;

fn serve(name: String, l: TcpListener) {
    for s in l.incoming().flatten() {
        let name = name.clone();
        std::thread::spawn(move || {
            let Ok(w) = s.try_clone() else { return };
            let mut w = w;
            let mut r = BufReader::new(s);
            loop {
                let mut line = String::new();
                let mut head_lines = 0;
                let mut close = false;
                loop {
                    line.clear();
                    match r.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == "\r\n" || line == "\n" {
                        break;
                    }
                    head_lines += 1;
                    if line.to_ascii_lowercase().starts_with("connection: close") {
                        close = true;
                    }
                }
                if head_lines == 0 {
                    continue;
                }
                let body = format!("hello from {name}\n");
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-server: {name}\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if w.write_all(resp.as_bytes()).is_err() || close {
                    return;
                }
            }
        });
    }
}

fn fetch(port: u16) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.write_all(b"GET / HTTP/1.1\r\nhost: demo\r\nconnection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out.lines().last().unwrap_or("").to_string())
}

fn main() -> anyhow::Result<()> {
    let cfg_path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("examples/quickstart.cfg"));
    for (i, port) in [8081u16, 8082, 8083].iter().enumerate() {
        let l = TcpListener::bind(("127.0.0.1", *port))
            .map_err(|e| anyhow::anyhow!("demo server on 127.0.0.1:{port}: {e}"))?;
        let name = format!("app{}", i + 1);
        std::thread::spawn(move || serve(name, l));
    }
    let loaded = sluice_config::load_paths(std::slice::from_ref(&cfg_path)).map_err(|d| {
        anyhow::anyhow!(
            "{}",
            d.iter()
                .map(|x| x.render(std::process::id()))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    let threads = loaded.config.global.nbthread.unwrap_or(1);
    let running = sluice_proxy::start(&loaded.config, threads, false)?;
    eprintln!(
        "Sluice is listening on 127.0.0.1:8080 ({}), balancing over app1:app2:app3 weighted 2:1:3.",
        cfg_path.display()
    );
    eprintln!("Twelve requests through it:");
    for _ in 0..12 {
        eprintln!("  {}", fetch(8080)?);
    }
    eprintln!("Try: curl -i http://127.0.0.1:8080/   (Ctrl-C to stop)");
    running.join();
    Ok(())
}
