#!/usr/bin/env bash
# Benchmark (not a test): CPU time per relayed RTP packet and per call through Dialtone's relay, against rtpengine
# (userspace forwarding) and Kamailio measured in the same run; prints a table of figures and ratios (method:
# docs/relay.md, "Benchmark"). Everything runs on 127.0.0.1. Options go to the benchmark, e.g.
#   scripts/bench-relay.sh --calls 2000 --rate 100 --rtp-calls 50 --seconds 20
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# rtpengine is only needed here, so it is installed here rather than in setup.sh (it pulls in ffmpeg libraries).
if ! command -v rtpengine >/dev/null 2>&1; then
  echo "bench-relay: installing rtpengine-daemon"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends rtpengine-daemon
fi
# The package may start a system service on install; the benchmark runs its own instance.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now rtpengine-daemon >/dev/null 2>&1 || true; fi
for tool in kamailio sipp; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench-relay: $tool is missing; run scripts/setup.sh" >&2; exit 1; }
done

# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
# Optimised builds: the relay as users run it, and the load generator.
cargo build --release -p dialtone-core --bin dialtone --example bench_relay
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/examples/bench_relay" --dialtone "$target/release/dialtone" --rtpengine "$(command -v rtpengine)" "$@"
