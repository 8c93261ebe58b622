//! The relay crate stays sans-IO (architecture guide: "the one idea"): no async runtime in its
//! normal dependency tree, and no clock, global RNG or socket in its sources.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// This package's directory: `cargo test` sets it when running the test (a binary reused from a checkout elsewhere
/// would otherwise look in that checkout); the compile-time value when run by hand.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

const FORBIDDEN_CRATES: &[&str] = &["tokio", "mio", "async-std", "async-io", "smol"];

const FORBIDDEN_TEXT: &[&str] = &[
    "Instant::now",
    "SystemTime::now",
    "thread_rng",
    "rand::random",
    "UdpSocket",
    "TcpStream",
    "TcpListener",
];

fn crate_root() -> PathBuf {
    manifest_dir()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_async_runtime_in_the_normal_dependency_tree() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            "dialtone-relay",
        ])
        .current_dir(crate_root())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("UTF-8");
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"dialtone-relay"), "{crates:?}");
    let bad: Vec<_> = crates
        .iter()
        .filter(|c| FORBIDDEN_CRATES.contains(c))
        .collect();
    assert!(bad.is_empty(), "dialtone-relay depends on {bad:?}");
}

#[test]
fn no_clock_rng_or_socket_in_the_sources() {
    let mut files = Vec::new();
    rust_files(&crate_root().join("src"), &mut files);
    assert!(files.len() > 10, "sources found: {files:?}");
    let mut hits = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("UTF-8 source");
        for (number, line) in text.lines().enumerate() {
            // Unit-test modules (kept at the bottom of a file) are not shipped code: they may
            // take a base instant from the clock like the integration tests do.
            if line == "#[cfg(test)]" {
                break;
            }
            // Doc examples may show where the runtime's clock comes from.
            if line.trim_start().starts_with("//") {
                continue;
            }
            for needle in FORBIDDEN_TEXT {
                if line.contains(needle) {
                    hits.push(format!("{}:{}: {needle}", file.display(), number + 1));
                }
            }
        }
    }
    assert!(hits.is_empty(), "sans-IO violations:\n{}", hits.join("\n"));
}
