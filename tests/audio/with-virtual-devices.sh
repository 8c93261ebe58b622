#!/usr/bin/env bash
# Runs a command against a private PulseAudio server with virtual devices, then stops the
# server by PID. Speaker_A/Speaker_B are null sinks; Mic_A/Mic_B hear their monitors, so
# whatever is played to Speaker_X is captured from Mic_X.
#
#   tests/audio/with-virtual-devices.sh -- dialtone call ... --mic Mic_A --speaker Speaker_B
#   tests/audio/with-virtual-devices.sh -- pactl list short sources
#
# Inside the command, PULSE_SERVER points at the server (cpal's PulseAudio host, pactl,
# paplay and ALSA's `pulse` plugin all use it). The Rust tests use
# `dialtone_devices::PulseServer` instead, which does the same per test.
# Needs: pulseaudio pulseaudio-utils (and libasound2-plugins for the ALSA path).
set -euo pipefail
[ "${1:-}" = "--" ] && shift
if [ $# -eq 0 ]; then
  echo "usage: $0 -- COMMAND [ARGS...]" >&2
  exit 2
fi
for bin in pulseaudio pactl; do
  command -v "$bin" >/dev/null 2>&1 || {
    echo "$0: \`$bin\` not found: apt-get install pulseaudio pulseaudio-utils libasound2-plugins" >&2
    exit 1
  }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/dialtone-pulse.XXXXXX")
mkdir -p "$dir/run" "$dir/home"
chmod 700 "$dir/run"
printf 'autospawn = no\n' >"$dir/client.conf"
pa_pid=""
cleanup() {
  if [ -n "$pa_pid" ] && kill -0 "$pa_pid" 2>/dev/null; then
    kill -TERM "$pa_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pa_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pa_pid" 2>/dev/null || true
    wait "$pa_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

HOME="$dir/home" XDG_RUNTIME_DIR="$dir/run" XDG_CONFIG_HOME="$dir/home/.config" \
PULSE_RUNTIME_PATH="$dir/run" PULSE_STATE_PATH="$dir/state" DBUS_SESSION_BUS_ADDRESS= \
  pulseaudio -n --daemonize=no --system=false --exit-idle-time=-1 --disallow-exit \
  --use-pid-file=no --high-priority=no --realtime=no --log-target=stderr \
  --load="module-native-protocol-unix auth-anonymous=1 socket=$dir/run/native" \
  --load="module-null-sink sink_name=spk_a sink_properties=device.description=Speaker_A" \
  --load="module-null-sink sink_name=spk_b sink_properties=device.description=Speaker_B" \
  --load="module-remap-source master=spk_a.monitor source_name=mic_a source_properties=device.description=Mic_A" \
  --load="module-remap-source master=spk_b.monitor source_name=mic_b source_properties=device.description=Mic_B" \
  >"$dir/pulseaudio.log" 2>&1 &
pa_pid=$!

export PULSE_SERVER="unix:$dir/run/native" PULSE_CLIENTCONFIG="$dir/client.conf"
for _ in $(seq 100); do
  pactl info >/dev/null 2>&1 && break
  kill -0 "$pa_pid" 2>/dev/null || { cat "$dir/pulseaudio.log" >&2; exit 1; }
  sleep 0.1
done
pactl info >/dev/null || { echo "$0: pulseaudio did not start" >&2; cat "$dir/pulseaudio.log" >&2; exit 1; }
pactl set-default-sink spk_a
pactl set-default-source mic_a

status=0
"$@" || status=$?
exit "$status"
