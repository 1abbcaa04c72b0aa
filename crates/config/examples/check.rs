//! `cargo run -p sluice-config --example check -- FILE...`: prints the diagnostics the way
//! `haproxy -c -f FILE` does, to compare Sluice's reading of a configuration with HAProxy's.

use std::path::PathBuf;

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let pid = std::process::id();
    match sluice_config::load_paths(&paths) {
        Ok(l) => {
            for w in &l.warnings {
                eprintln!("{}", w.render(pid));
            }
            println!("Configuration file is valid");
        }
        Err(d) => {
            for x in &d {
                eprintln!("{}", x.render(pid));
            }
            std::process::exit(1);
        }
    }
}
