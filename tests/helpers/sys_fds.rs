//! Test helper: prints the fds this process holds, one `N TARGET` line each,
//! in numeric order. Opens nothing before listing, so what it prints is
//! exactly what it inherited across `exec` (minus the one directory fd the
//! listing itself uses, which is left out).

use std::io::Write;

fn main() {
    let me = format!("/proc/{}/fd", std::process::id());
    let mut fds: Vec<(i32, String)> = Vec::new();
    let entries = match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("parx-test-sys-fds: /proc/self/fd: {e}");
            std::process::exit(2);
        }
    };
    for entry in entries.flatten() {
        let Some(n) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let target = std::fs::read_link(entry.path())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "?".into());
        // The fd read_dir itself opened: it points at our own fd directory.
        if target == me {
            continue;
        }
        fds.push((n, target));
    }
    fds.sort();
    let mut out = std::io::stdout().lock();
    for (n, target) in fds {
        let _ = writeln!(out, "{n} {target}");
    }
}
