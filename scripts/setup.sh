#!/usr/bin/env bash
# Installs everything Dialtone needs to build, run and test on Debian/Ubuntu.
# Idempotent: safe to run again; skips what is already there.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PKGS=(
  # build: Tauri 2 on Linux (WebKitGTK 4.1) and C code in crates
  build-essential pkg-config file curl ca-certificates
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev
  # window tests: headless X, the WebKit WebDriver, screenshots, a session bus
  xvfb webkit2gtk-driver imagemagick dbus dbus-x11 xauth
  # codecs built from source by crates: libopus (cmake), Speex bindings (bindgen needs libclang)
  cmake clang libclang-dev
  # audio: a real PulseAudio server with virtual devices for the device tests; ALSA headers for cpal
  pulseaudio pulseaudio-utils libasound2-plugins libasound2-dev
  # passwords: a real Secret Service (gnome-keyring) on a private session bus
  dbus-daemon gnome-keyring libsecret-tools
  # SIP interop peers
  kamailio kamailio-websocket-modules kamailio-tls-modules sip-tester baresip-core
  # tools used by the test scripts
  iproute2 procps python3 openssl
  # OS-integration window tests: a fake notification server and tray on the app's session bus (tests/notify/)
  python3-dbus python3-gi
  # click-to-call: the OS link handler (xdg-mime registers Dialtone for sip:/tel:/..., xdg-open follows a link,
  # update-desktop-database refreshes the MIME cache)
  xdg-utils desktop-file-utils
  # browser tests: headless Chromium driven by playwright-core (node), RTP counters in a test netns
  chromium nftables
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Node.js for the browser test harness: many machines already have a Node.js of their own (with npm inside);
# Debian's separate npm package conflicts with those, so install Debian's only when there is no node/npm at all.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
# Kamailio's Debian package starts a system service on install; we never use it.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true; fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; installing rustup toolchain"
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
rustup component add clippy rustfmt >/dev/null 2>&1 || true

# tauri-driver: the WebDriver bridge for the window test.
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked
fi
# Browser tests: playwright-core (drives /usr/bin/chromium, never downloads a browser), JsSIP and
# esbuild (the page's committed JsSIP bundle is rebuilt with `npm run bundle`), pinned by the lock file.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -d "$here/tests/browser/node_modules/playwright-core" ]; then
  echo "setup: installing the browser test packages (tests/browser)"
  (cd "$here/tests/browser" && npm ci --no-audit --no-fund)
fi
echo "setup: done"
