#!/usr/bin/env bash
# Installs everything needed, then runs the whole Dialtone test suite: formatting, lints, unit and interop tests
# (real Kamailio/SIPp, the real window under Xvfb), and a short fuzz run of every parser.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export PATH="$HOME/.cargo/bin:$PATH"

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace --no-fail-fast
if [ -f scripts/fuzz.sh ]; then
  echo "== fuzz (short run of every target)"
  bash scripts/fuzz.sh
fi
echo "== all tests passed"
