#!/usr/bin/env bash
# Installs everything needed, builds Dialtone and opens its window on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
exec cargo run -p dialtone-app --bin dialtone-app
