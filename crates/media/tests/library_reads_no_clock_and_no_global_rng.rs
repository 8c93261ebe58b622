//! The architecture rule for protocol crates: the library never reads the clock, never
//! uses a global RNG and never touches an async runtime or sockets. Checked on the
//! source, so a regression fails here before review.

use std::fs;
use std::path::Path;

/// This package's directory: `cargo test` sets it when running the test (a binary reused from a checkout elsewhere
/// would otherwise look in that checkout); the compile-time value when run by hand.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).expect("src dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).expect("source");
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn no_clock_reads_rng_runtime_or_sockets_in_src() {
    let mut files = Vec::new();
    sources(&manifest_dir().join("src"), &mut files);
    assert!(files.len() > 10);
    let forbidden = [
        "Instant::now",
        "SystemTime::now",
        "thread_rng",
        "rand::",
        "tokio",
        "UdpSocket",
        "std::thread",
    ];
    for (path, text) in &files {
        // Unit-test modules (at the end of a file) may use a real clock.
        let library = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in library.lines().enumerate() {
            // Doc comments may show how the runtime drives the crate.
            if line.trim_start().starts_with("//") {
                continue;
            }
            for f in forbidden {
                assert!(!line.contains(f), "{path}:{}: uses {f}", n + 1);
            }
        }
    }
    let manifest = fs::read_to_string(manifest_dir().join("Cargo.toml")).expect("manifest");
    let deps = manifest
        .split("[dev-dependencies]")
        .next()
        .unwrap_or_default();
    assert!(!deps.contains("tokio"), "tokio in [dependencies]");
}
