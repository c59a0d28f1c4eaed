#!/usr/bin/env bash
# test_bench.sh — TAP: the hood-bench harness itself, small and quick: its option errors, one
# short training run whose JSON and SVG come out whole, and the ingest workload's own check
# (it passes on a good folder; an unreadable file fails the workload with exit 1).
# Not a benchmark: nothing here is timed (figures come from scripts/bench-compare).
# Usage: HOOD_BENCH=/path/to/hood-bench tests/bench/test_bench.sh   (meson sets it; needs `vips`)
set -u

BENCH=${HOOD_BENCH:-${1:-}}
if [ -z "$BENCH" ] || [ ! -x "$BENCH" ]; then
    echo "Bail out! set HOOD_BENCH to the built hood-bench binary"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-bench-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export VIPS_WARNING=0

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"

# usage_error WHAT WORD ARGS...: hood-bench ARGS exits 2 with one stderr line containing WORD,
# and runs nothing (no "limits..." or workload line).
usage_error() {
    local what=$1 word=$2
    shift 2
    "$BENCH" "$@" >"$T/out" 2>"$T/err"
    local rc=$? lines
    lines=$(wc -l <"$T/err")
    if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -q -F -- "$word" "$T/err" && [ ! -s "$T/out" ]; then
        pass "$what"
    else
        fail "$what" "exit $rc, $lines stderr lines (want 2 and 1 naming '$word')" \
            "$(head -3 "$T/err")"
    fi
}
usage_error "--threads 2x is refused" "--threads: '2x'" --threads 2x seed
usage_error "--threads 0 is refused" "--threads: '0'" --threads 0 seed
usage_error "--epochs 1 is refused (one warm-up + one timed at least)" "--epochs: '1'" --epochs 1 seed
usage_error "--repeat -1 is refused" "--repeat: '-1'" --repeat -1 ingest-photos
usage_error "a count past 2^64 is refused" "--epochs: '99999999999999999999'" \
    --epochs 99999999999999999999 seed
usage_error "a ninth --variant is refused" "--variant: at most 8" \
    -v b32 -v b32 -v b32 -v b32 -v b32 -v b32 -v b32 -v b32 -v b32 seed
usage_error "--pixel-storage f16 is refused" "--pixel-storage: float or u8 (got 'f16')" \
    --pixel-storage f16 seed

"$BENCH" nosuch >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" = 2 ] && grep -q "unknown workload 'nosuch'" "$T/err"; then
    pass "an unknown workload is refused"
else
    fail "an unknown workload is refused" "exit $rc" "$(head -2 "$T/err")"
fi

# --- one short training run: 3 epochs of the seed's b32 ---------------------------------------
"$BENCH" --no-limits --epochs 3 --variant b32 --json "$T/seed.json" --plot "$T/seed.svg" seed \
    >"$T/out" 2>"$T/err"
rc=$?
j=$T/seed.json
if [ "$rc" = 0 ] && grep -q '"schema": "hood-bench/1"' "$j" && tail -c 3 "$j" | grep -q ']}' &&
    [ "$(grep -c '{"epoch": ' "$j")" = 3 ] && grep -q '{"epoch": 2, "seconds": ' "$j" &&
    grep -q '"name": "seed/b32", .*"kind": "train", .*"batch": 32, "samples": 1027' "$j" &&
    grep -q '"check": {"ok": true, "what": "loss [0-9.]* -> [0-9.]* (must fall)"}' "$j" &&
    ! grep -q '"name": "seed/full"' "$j"; then
    pass "seed b32: 3 epochs in the JSON (only the variant asked for), loss falls, exit 0"
else
    fail "seed b32: 3 epochs in the JSON, loss falls, exit 0" "exit $rc" "$(head -c 600 "$j" 2>&1)" \
        "$(tail -3 "$T/err")"
fi
if grep -q '^seed/b32 ' "$T/out"; then
    pass "seed b32: a table row on stdout"
else
    fail "seed b32: a table row on stdout" "$(head -5 "$T/out")"
fi
if head -c 200 "$T/seed.svg" | grep -q '<svg' && tail -c 20 "$T/seed.svg" | grep -q '</svg>'; then
    pass "seed b32: --plot writes a whole SVG"
else
    fail "seed b32: --plot writes a whole SVG" "$(head -c 200 "$T/seed.svg" 2>&1)"
fi

# --- the same run with X as 8-bit codes: the same losses, bit for bit (the check prints them) -----
"$BENCH" --no-limits --epochs 3 --variant b32 --pixel-storage u8 --json "$T/seed8.json" seed \
    >"$T/out" 2>"$T/err"
rc=$?
want=$(grep -o '"check": {[^}]*}' "$j")
got=$(grep -o '"check": {[^}]*}' "$T/seed8.json")
losses() { grep -o '"loss": [0-9.e-]*' "$1" | tr '\n' ' '; }
if [ "$rc" = 0 ] && grep -q '"x_storage": "float32"' "$j" && grep -q '"x_storage": "u8"' "$T/seed8.json" &&
    [ -n "$want" ] && [ "$want" = "$got" ] && [ "$(losses "$j")" = "$(losses "$T/seed8.json")" ]; then
    pass "seed b32 with --pixel-storage u8: x_storage u8, every epoch's loss equal to float32's"
else
    fail "seed b32 with --pixel-storage u8: the same losses as float32" "exit $rc" \
        "float32: $(losses "$j")" "u8: $(losses "$T/seed8.json")" "$(tail -3 "$T/err")"
fi

# --- the ingest workload's check, on a small folder of 300x300 images ---------------------------
P=$T/photos
made=true
for c in cat dog; do
    mkdir -p "$P/$c"
    for i in 1 2 3; do
        mean=$((70 + 40 * i)) fmt=png
        [ "$c" = dog ] && fmt=jpg
        vips gaussnoise "$T/noise.v" 300 300 --mean "$mean" --sigma 25 --seed "$i" &&
            vips cast "$T/noise.v" "$T/grey.v" uchar &&
            vips bandjoin "$T/grey.v $T/grey.v $T/grey.v" "$P/$c/$c$i.$fmt" || made=false
    done
done
if ! $made; then
    fail "making the ingest folder with vips" "vips gaussnoise/cast/bandjoin failed"
else
    "$BENCH" --repeat 1 --photos "$P" --json "$T/ingest.json" ingest-photos >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" = 0 ] &&
        grep -q '"name": "ingest-photos", .*"check": {"ok": true, "what": "22500 x 6, sum' "$T/ingest.json"; then
        pass "ingest-photos on 6 files: 22500 x 6, the check passes, exit 0"
    else
        fail "ingest-photos on 6 files: the check passes" "exit $rc" \
            "$(grep -o '"check": {[^}]*}' "$T/ingest.json" 2>&1)" "$(tail -3 "$T/err")"
    fi
    # The bench ingests strictly: an unreadable file fails the workload, named, with exit 1.
    : >"$P/dog/empty.png"
    "$BENCH" --repeat 1 --photos "$P" --json "$T/ingest2.json" ingest-photos >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" = 1 ] &&
        grep -q '"check": {"ok": false, "what": ".*/dog/empty.png: empty file (0 bytes)"}' "$T/ingest2.json"; then
        pass "ingest-photos with an unreadable file: the check fails, exit 1"
    else
        fail "ingest-photos with an unreadable file: the check fails, exit 1" "exit $rc" \
            "$(grep -o '"check": {[^}]*}' "$T/ingest2.json" 2>&1)" "$(tail -3 "$T/err")"
    fi
fi

echo "1..$n"
