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
    TARGETS=(message uri)
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
