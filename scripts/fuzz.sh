#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for FUZZ_RUNS executions (default 1,000,000)
# and fails on the first crash, timeout or leak. Seeds come from the RFC 4475 corpus
# (copied into fuzz/corpus/, which git ignores).
#
#   scripts/fuzz.sh                 # all targets, 1,000,000 runs each
#   scripts/fuzz.sh uri             # one target
#   FUZZ_RUNS=100000 scripts/fuzz.sh
#
# Only stable Rust is installed: RUSTC_BOOTSTRAP=1 lets cargo-fuzz's nightly flags
# (-Z...) through. The code under test is safe Rust, so no sanitizer is used
# (`--sanitizer none`, much faster); debug assertions (overflow checks) are on.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${FUZZ_RUNS:-1000000}"
MAX_LEN="${FUZZ_MAX_LEN:-4096}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

# RFC 4475 corpus: $DIALTONE_RFC4475_DIR, or shared/ beside the repository.
CORPUS_SRC="${DIALTONE_RFC4475_DIR:-}"
if [ -z "$CORPUS_SRC" ]; then
    for c in "$ROOT/../shared/corpora/rfc4475" "$ROOT/shared/corpora/rfc4475"; do
        if [ -f "$c/wsinv.dat" ]; then CORPUS_SRC="$c"; break; fi
    done
fi
if [ -z "$CORPUS_SRC" ] || [ ! -f "$CORPUS_SRC/wsinv.dat" ]; then
    echo "fuzz.sh: RFC 4475 corpus not found; set DIALTONE_RFC4475_DIR" >&2
    exit 1
fi

seed() {
    local target="$1" dir="fuzz/corpus/$1"
    mkdir -p "$dir"
    case "$target" in
    message)
        cp "$CORPUS_SRC"/*.dat "$dir"/
        for f in "$CORPUS_SRC"/variants/*.dat; do
            [ -f "$f" ] && cp "$f" "$dir/variant-$(basename "$f")"
        done
        ;;
    uri)
        # Request-URIs and the values of address and Via header lines.
        local n=0 line
        for f in "$CORPUS_SRC"/*.dat; do
            awk 'NR == 1 { print $2 }
                 /^(To|t|From|f|Contact|m|Route|Record-Route|Via|v|CSeq)[ \t]*:/ {
                     sub(/^[^:]*:[ \t]*/, ""); print }
                 /^\r?$/ { exit }' "$f" | tr -d '\r' |
                while IFS= read -r line; do
                    [ -n "$line" ] && printf '%s' "$line" > "$dir/$(basename "$f" .dat)-$n-$RANDOM"
                    n=$((n + 1))
                done
        done
        ;;
    sdp)
        printf 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nb=AS:64\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n' > "$dir/g711"
        printf 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\na=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\na=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n' > "$dir/webrtc"
        printf 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4 WSH=64 -X\r\n' > "$dir/sdes"
        printf '%s' '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4' > "$dir/crypto"
        ;;
    rtp)
        printf '\x80\x00\x00\x01\x00\x00\x00\xa0\x12\x34\x56\x78\xff\xfe\xfd\xfc' > "$dir/pcmu"
        printf '\x90\x65\x00\x02\x00\x00\x01\x40\x12\x34\x56\x78\xbe\xde\x00\x01\x10\xaa\x00\x00\x05\x8a\x00\xa0' > "$dir/ext-dtmf"
        ;;
    srtp)
        printf '\x80\x00\x00\x01\x00\x00\x00\xa0\x12\x34\x56\x78\xff\xfe\xfd\xfc\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a' > "$dir/rtp"
        printf '\x81\xc9\x00\x07\x12\x34\x56\x78\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x80\x00\x00\x01\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a' > "$dir/srtcp"
        ;;
    rtcp)
        printf '\x81\xc8\x00\x0c\x12\x34\x56\x78\xe6\x5a\x00\x00\x00\x00\x00\x00\x00\x00\x00\xa0\x00\x00\x00\x10\x00\x00\x06\x40\x87\x65\x43\x21\x05\x00\x00\x02\x00\x00\x12\x34\x00\x00\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x81\xca\x00\x03\x12\x34\x56\x78\x01\x03abc\x00' > "$dir/sr-sdes"
        ;;
    auth_header)
        printf '%s' 'Digest realm="atlanta.example.com", nonce="84a4cc6f3082121f32b42a2187831a9e", qop="auth", algorithm=MD5' > "$dir/md5"
        printf '%s' 'Digest realm="biloxi.com", qop="auth,auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", stale=FALSE' > "$dir/sha256"
        printf '%s' 'Digest realm="x",nonce="y",algorithm=MD5-sess,domain="sip:a sip:b",userhash=true' > "$dir/sess"
        printf '%s' 'NoOneKnowsThisScheme opaque-data=here' > "$dir/unknown"
        ;;
    esac
}

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(message uri sdp rtp rtcp srtp)
    if grep -q 'pub fn parse' crates/sip/src/auth.rs 2>/dev/null; then
        TARGETS+=(auth_header)
    else
        echo "fuzz.sh: crates/sip/src/auth.rs has no Challenge::parse; skipping auth_header" >&2
    fi
fi

for t in "${TARGETS[@]}"; do
    seed "$t"
    log="fuzz/artifacts/$t.log"
    mkdir -p fuzz/artifacts
    echo "fuzz.sh: $t, $RUNS runs" >&2
    if ! cargo fuzz run --sanitizer none --debug-assertions "$t" "fuzz/corpus/$t" -- \
        -runs="$RUNS" -max_len="$MAX_LEN" -timeout=10 -rss_limit_mb=2048 -dict="$ROOT/fuzz/dict/sip.dict" \
        -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz.sh: target $t FAILED (log: $log, inputs: fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
    rate=$(grep -a 'stat::average_exec_per_sec' "$log" | awk '{print $2}' || true)
    echo "fuzz.sh: $t ok: ${execs:-?} executions, ${rate:-?} exec/s" >&2
    if [ -z "$execs" ] || [ "$execs" -lt "$RUNS" ]; then
        echo "fuzz.sh: $t ran only ${execs:-0} of $RUNS executions" >&2
        exit 1
    fi
done
