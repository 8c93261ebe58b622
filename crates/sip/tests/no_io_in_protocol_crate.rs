//! The protocol crates stay sans-IO (architecture guide: "the one idea"): no async runtime in
//! their normal dependency tree, and no clock, global RNG or socket in their sources.

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

/// Crates that mean an async runtime or an event loop.
const FORBIDDEN_CRATES: &[&str] = &["tokio", "mio", "async-std", "async-io", "smol"];

/// Source text that means reading the clock, a global RNG or a socket.
const FORBIDDEN_TEXT: &[&str] = &[
    "Instant::now",
    "SystemTime::now",
    "thread_rng",
    "rand::random",
    "UdpSocket",
    "TcpStream",
    "TcpListener",
];

const PROTOCOL_CRATES: &[(&str, &str)] = &[
    ("dialtone-sip", "crates/sip/src"),
    ("dialtone-sip-message", "crates/sip-message/src"),
];

fn workspace_root() -> PathBuf {
    manifest_dir().join("../..")
}

/// The crate names in `cargo tree -p <package> -e normal`.
fn normal_dependencies(package: &str) -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree -p {package} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("cargo tree prints UTF-8");
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_async_runtime_in_the_normal_dependency_tree() {
    for (package, _) in PROTOCOL_CRATES {
        let deps = normal_dependencies(package);
        assert!(
            deps.iter().any(|d| d == package),
            "cargo tree output does not list {package} itself: {deps:?}"
        );
        let bad: Vec<_> = deps
            .iter()
            .filter(|d| FORBIDDEN_CRATES.contains(&d.as_str()))
            .collect();
        assert!(bad.is_empty(), "{package} depends on {bad:?}");
    }
}

#[test]
fn no_clock_rng_or_socket_in_protocol_sources() {
    let mut hits = Vec::new();
    for (_, dir) in PROTOCOL_CRATES {
        let mut files = Vec::new();
        rust_files(&workspace_root().join(dir), &mut files);
        assert!(!files.is_empty(), "no sources found under {dir}");
        for file in files {
            let text = fs::read_to_string(&file).expect("source is UTF-8");
            for (number, line) in text.lines().enumerate() {
                for needle in FORBIDDEN_TEXT {
                    if line.contains(needle) {
                        hits.push(format!("{}:{}: {needle}", file.display(), number + 1));
                    }
                }
            }
        }
    }
    assert!(hits.is_empty(), "sans-IO violations:\n{}", hits.join("\n"));
}
