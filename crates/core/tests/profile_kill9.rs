//! `kill -9` during repeated profile saves: the profile file (and its backup) always parse afterwards.
//!
//! The test re-runs this test binary as a child (`--ignored --exact saver_child`) that saves profiles in a tight
//! loop, SIGKILLs it at a random moment, checks the files, and repeats 20 times on the same directory.
#![cfg(unix)]

use dialtone_core::profile::{Profile, ProfileStore};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const DIR_ENV: &str = "DIALTONE_TEST_SAVER_DIR";
const READY: &str = "saver-ready";
const ROUNDS: usize = 20;

fn profile(slot: u64, iteration: u64) -> Profile {
    Profile {
        id: format!("slot-{slot}"),
        name: format!("iteration {iteration}"),
        server_url: "127.0.0.1:5060".into(),
        login: format!("user{slot}"),
        // Varying sizes so the file length changes from save to save.
        display_name: "x".repeat(((iteration * 37) % 1500) as usize),
        ..Profile::default()
    }
}

fn iteration_of(p: &Profile) -> u64 {
    p.name
        .strip_prefix("iteration ")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The child: saves forever until killed.
#[test]
#[ignore = "child process of kill9_during_repeated_saves_leaves_parsable_files, which runs it"]
fn saver_child() {
    let dir =
        std::env::var(DIR_ENV).expect("run by kill9_during_repeated_saves_leaves_parsable_files");
    let dir = Path::new(&dir);
    let mut store = ProfileStore::open(dir).expect("child opens the store");
    let mut iteration = store.list().iter().map(iteration_of).max().unwrap_or(0);
    let mut ready = false;
    loop {
        iteration += 1;
        store
            .save(profile(iteration % 150, iteration))
            .expect("save");
        if !ready {
            std::fs::write(dir.join(READY), b"").expect("write ready marker");
            ready = true;
        }
    }
}

/// A small xorshift generator; the seed is printed so a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn kill9_during_repeated_saves_leaves_parsable_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = std::env::current_exe().expect("test binary path");
    let seed = std::env::var("DIALTONE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    println!("seed {seed} (set DIALTONE_TEST_SEED to repeat)");
    let mut rng = Rng(seed);
    let mut previous = Vec::new();
    for round in 0..ROUNDS {
        let _ = std::fs::remove_file(dir.path().join(READY));
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "saver_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the saver");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !dir.path().join(READY).exists() {
            if let Some(status) = child.try_wait().expect("poll child") {
                panic!("round {round}: saver exited before saving: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: saver never saved"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_micros(rng.below(60_000)));
        child.kill().expect("SIGKILL the saver");
        let status = child.wait().expect("reap the saver");
        assert_eq!(
            status.signal(),
            Some(9),
            "round {round}: the saver died by itself: {status}"
        );

        let bytes = std::fs::read(dir.path().join("profiles.json")).expect("profiles.json exists");
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("round {round}: profiles.json does not parse after kill -9: {e}")
        });
        assert!(
            json["profiles"].as_array().is_some_and(|a| !a.is_empty()),
            "round {round}"
        );
        let backup = std::fs::read(dir.path().join("profiles.json.bak")).unwrap_or_default();
        if !backup.is_empty() {
            serde_json::from_slice::<serde_json::Value>(&backup).unwrap_or_else(|e| {
                panic!("round {round}: the backup does not parse after kill -9: {e}")
            });
        }
        let store = ProfileStore::open(dir.path()).expect("store opens");
        assert!(
            store.recovery().is_none(),
            "round {round}: {:?}",
            store.recovery()
        );
        assert_ne!(bytes, previous, "round {round}: the saver made progress");
        previous = bytes;
    }
    // Opening the store removed the temporary files the killed savers left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
