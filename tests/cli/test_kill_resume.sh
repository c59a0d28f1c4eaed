#!/usr/bin/env bash
# test_kill_resume.sh — TAP: `hood train --checkpoint` survives kill -9 at any moment. Runs are
# SIGKILLed at random moments (fixed seed) — again and again, in the middle of training steps
# and inside checkpoint writes — and resumed with --resume until they finish; the final weights
# must be bit-identical to an uninterrupted run, and after every kill the checkpoint must be
# absent or a valid model. Also SIGINT -> exit 130 and SIGTERM -> exit 143 with a valid
# checkpoint that resumes to the same weights. Not a test of the checkpoint's contents
# (tests/test_model_file.c does that).
# The moments are exact, not timed, so the suite means the same on any machine under any load:
# the test-only shim tests/kill_at.c (LD_PRELOAD) signals the run just before its Nth sgemm
# (inside a training step) or as it syncs or links a checkpoint's temporary. Only the first
# case, a kill while the run is still starting, is timed (any moment of the start is right).
# Usage: HOOD=/path/to/hood HOOD_KILL_AT_SHIM=/path/to/libkill_at.so tests/cli/test_kill_resume.sh
# (meson sets both)
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
SHIM=${HOOD_KILL_AT_SHIM:-}
if [ -z "$SHIM" ] || [ ! -r "$SHIM" ]; then
    echo "Bail out! set HOOD_KILL_AT_SHIM to the built tests/libkill_at.so"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-kill-resume.XXXXXX")
pid=
# Never leave a training run behind, whatever stops this script.
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; exec 9>&-; rm -rf "$T"' EXIT
RANDOM=6 # the kill moments are drawn from a fixed seed

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"
note() { echo "# $*"; }
rand() { echo $(((RANDOM * 32768 + RANDOM) % ($1 + 1))); }

# shimmed POINT N SIGNAL CMD...: runs CMD under the shim, which sends SIGNAL (KILL, INT, TERM)
# to it at its Nth POINT moment (sgemm, fsync, link; N = 0: never, and the count is logged to
# $SHIM_LOG at exit). ASan checks that its runtime loads first; the shim loads before it.
SHIM_LOG=
shimmed() {
    local point=$1 n=$2 sig=$3
    shift 3
    LD_PRELOAD=$SHIM HOOD_TEST_KILL_AT=$point:$n HOOD_TEST_SIGNAL=$sig HOOD_TEST_KILL_LOG=$SHIM_LOG \
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "$@"
}

# 512 samples of 64 features, y = 1 when the even columns outweigh the odd ones (fixed LCG).
awk -v rows=512 -v d=64 'BEGIN {
    s = 99
    for (j = 0; j < rows; j++) {
        line = ""; a = 0; b = 0
        for (i = 0; i < d; i++) {
            s = (s * 1103515245 + 12345) % 2147483648
            v = (s % 1000) / 1000
            if (i % 2 == 0) a += v; else b += v
            line = line sprintf("%.3f,", v)
        }
        print line (a > b ? 1 : 0)
    }
}' >"$T/data.csv"

# Short epochs (16 batches) and a 200 KB checkpoint written (and fsynced) after every one, so
# writes are frequent targets. Adam, so the optimizer's moments and step count must survive
# too; shuffling, so the per-epoch order and the position inside an epoch must.
EPOCHS=60
TRAIN=("$HOOD" train "$T/data.csv" --layers 256:relu,1:sigmoid --optimizer adam
    --batch-size 32 --seed 5 --verbose 0 --epochs "$EPOCHS")

# ---- the uninterrupted runs ----------------------------------------------------------------

"${TRAIN[@]}" -o "$T/ref.hood" 2>"$T/err" &&
    "$HOOD" export-weights "$T/ref.hood" -o "$T/ref.npz" 2>>"$T/err"
if [ ! -s "$T/ref.npz" ]; then
    echo "Bail out! the uninterrupted run failed: $(head -c 300 "$T/err" | tr '\n' '|')"
    exit 1
fi
# The checkpointed run also counts its sgemm calls: the kill moments below are drawn from them.
SHIM_LOG=$T/count.log
shimmed sgemm 0 KILL "${TRAIN[@]}" -o "$T/refck.hood" --checkpoint "$T/refck.ck" 2>"$T/err"
rc=$?
"$HOOD" export-weights "$T/refck.hood" -o "$T/refck.npz" 2>/dev/null
if [ "$rc" -eq 0 ] && cmp -s "$T/ref.npz" "$T/refck.npz"; then
    pass "checkpointing every epoch does not change the weights ($EPOCHS epochs)"
else
    fail "checkpointing every epoch does not change the weights" "exit $rc"
fi
calls=$(awk '$1 == "sgemm" { print $2 }' "$T/count.log" 2>/dev/null)
if ! [ "${calls:-0}" -ge "$EPOCHS" ] 2>/dev/null; then
    echo "Bail out! the shim counted no sgemm calls ('$(cat "$T/count.log" 2>/dev/null)')"
    exit 1
fi
per_epoch=$((calls / EPOCHS))
note "$calls sgemm calls in $EPOCHS epochs ($per_epoch per epoch)"

# ---- kill -9 and resume --------------------------------------------------------------------

# valid FILE: absent, or a model file hood reads.
valid() { [ ! -e "$1" ] || "$HOOD" info "$1" >/dev/null 2>&1; }

# after_kill DIR: after the chain's k-th kill the checkpoint and the output are each absent
# or a valid model; else sets chain_problem and fails.
after_kill() {
    if ! valid "$1/ck.hood"; then
        chain_problem="after kill $k: the checkpoint is not a valid model"
        cp "$1/ck.hood" "$T/broken-checkpoint.hood"
        return 1
    fi
    if ! valid "$1/model.hood"; then
        chain_problem="after kill $k: the output is not a valid model"
        return 1
    fi
    # A user's folder would keep a named temporary (nothing cleans up after SIGKILL where
    # O_TMPFILE is missing); here they are removed so the next kill's are seen.
    rm -f "$1"/ck.hood.tmp.*
}

# kill_once DIR MODE N ARGS...: one run of training that is SIGKILLed: MODE start, N ms after
# it started (timed: loading or the first steps, whichever it is in); sgemm, just before its
# Nth sgemm (inside a training step); write, as it syncs (even kills) or links (odd kills) the
# temporary of its Nth checkpoint. Fails, setting chain_problem, when the run was not killed
# there. Called by chain, whose locals (k, chain_*) it updates.
kill_once() {
    local d=$1 mode=$2 n=$3 rc landed point=sgemm
    shift 3
    rm -f "$d/kill.log"
    SHIM_LOG=$d/kill.log
    case $mode in
    start)
        "${TRAIN[@]}" "$@" >/dev/null 2>"$d/err" &
        pid=$!
        read -r -t "$((n / 1000)).$(printf '%03d' $((n % 1000)))" -u 9 _
        kill -9 "$pid" 2>/dev/null
        wait "$pid"
        rc=$?
        pid=
        landed="start"
        ;;
    *)
        [ "$mode" = write ] && { point=fsync; [ $((k % 2)) -eq 1 ] && point=link; }
        shimmed "$point" "$n" KILL "${TRAIN[@]}" "$@" >/dev/null 2>"$d/err"
        rc=$?
        landed=$(cat "$d/kill.log" 2>/dev/null)
        ;;
    esac
    local where_ok=0
    case $mode:$landed in
    start:start | sgemm:"sgemm "*) where_ok=1 ;;
    write:"$point $d/"\#*" (deleted)" | write:"$point $d/ck.hood.tmp."*)
        where_ok=1
        chain_in_write=$((chain_in_write + 1))
        ;;
    esac
    if [ "$rc" -ne 137 ] || [ "$where_ok" -ne 1 ]; then
        chain_problem="kill $((k + 1)) ($mode $n) did not land: exit $rc, shim log '$landed': "
        chain_problem+=$(head -c 200 "$d/err" | tr '\n' '|')
        return 1
    fi
    k=$((k + 1))
    chain_kills=$k
    after_kill "$d"
}

# chain NAME MODE KILLS A B: trains in folder NAME with --checkpoint; KILLS times kills the run
# (kill_once MODE, at moment A + random(B)) and starts it again (--resume once a checkpoint
# exists), then lets it finish and compares the final weights with the uninterrupted run's.
# Sets chain_ok, chain_kills, chain_in_write and chain_problem.
chain() {
    local dir=$T/$1 mode=$2 kills=$3 a=$4 b=$5 k=0 rc
    mkdir -p "$dir"
    chain_ok=0 chain_kills=0 chain_in_write=0 chain_problem=
    local ck=$dir/ck.hood out=$dir/model.hood
    while :; do
        local args=(-o "$out" --checkpoint "$ck")
        [ -e "$ck" ] && args+=(--resume "$ck")
        if [ "$k" -lt "$kills" ]; then
            kill_once "$dir" "$mode" $((a + $(rand "$b"))) "${args[@]}" || return
            continue
        fi
        "${TRAIN[@]}" "${args[@]}" >/dev/null 2>"$dir/err"
        rc=$?
        if [ "$rc" -ne 0 ]; then
            chain_problem="the last run exited $rc: $(head -c 300 "$dir/err" | tr '\n' '|')"
            return
        fi
        break
    done
    "$HOOD" export-weights "$out" -o "$dir/final.npz" 2>"$dir/err"
    if cmp -s "$dir/final.npz" "$T/ref.npz"; then
        chain_ok=1
    else
        chain_problem="after $chain_kills kills the final weights differ from the uninterrupted run"
    fi
}

chain_case() {
    local desc=$1
    shift
    chain "$@"
    note "$1: $chain_kills kills, $chain_in_write inside a checkpoint write"
    if [ "$chain_ok" -eq 1 ]; then
        pass "$desc: $chain_kills x SIGKILL + --resume = the uninterrupted weights, bit for bit"
    else
        fail "$desc" "$chain_problem"
    fi
}

# A fifo nobody writes: `read -t` on it sleeps without a fork.
mkfifo "$T/never"
exec 9<>"$T/never"

# Loading and the first steps take far longer than 20 ms on any machine.
chain_case "one kill while the run starts (loading or first steps)" early start 1 0 20
chain_case "one kill late in the run (40-70 % of its steps)" late sgemm 1 \
    $((calls * 40 / 100)) $((calls * 30 / 100))
chain_case "eight kills in quick succession, at random steps of training" random sgemm 8 \
    1 $((3 * per_epoch))
chain_case "five kills inside checkpoint writes (at the sync or the link)" writes write 5 1 3

# ---- SIGINT and SIGTERM --------------------------------------------------------------------

# signal_case SIG WANT: a run gets SIG (from the shim, just before an sgemm between epochs 2
# and 10: training under way), expects exit WANT with a valid checkpoint, no model and no
# temporary; then resumes to the end and compares with the uninterrupted weights.
signal_case() {
    local sig=$1 want=$2 dir=$T/sig$1 rc
    mkdir -p "$dir"
    local ck=$dir/ck.hood
    SHIM_LOG=$dir/kill.log
    shimmed sgemm $((2 * per_epoch + $(rand $((8 * per_epoch))))) "$sig" \
        "${TRAIN[@]}" -o "$dir/model.hood" --checkpoint "$ck" >/dev/null 2>"$dir/err"
    rc=$?
    local problems=()
    [ -s "$dir/kill.log" ] || problems+=("the shim sent no SIG$sig")
    [ "$rc" -ne "$want" ] && problems+=("exit $rc, wanted $want")
    grep -q "stopped by SIG$sig" "$dir/err" ||
        problems+=("no 'stopped by SIG$sig' message: $(head -c 200 "$dir/err" | tr '\n' '|')")
    valid "$ck" && [ -e "$ck" ] || problems+=("no valid checkpoint")
    [ -e "$dir/model.hood" ] && problems+=("a model was written by a stopped run")
    ls "$dir" | grep -q '\.tmp\.' && problems+=("a temporary was left: $(ls "$dir" | tr '\n' ' ')")
    if [ ${#problems[@]} -eq 0 ]; then
        pass "SIG$sig: exit $want after the batch, a valid checkpoint, no model, no temporary"
    else
        fail "SIG$sig: exit $want after the batch, a valid checkpoint, no model, no temporary" \
            "${problems[@]}"
    fi
    "${TRAIN[@]}" -o "$dir/model.hood" --checkpoint "$ck" --resume "$ck" >/dev/null 2>"$dir/err"
    rc=$?
    "$HOOD" export-weights "$dir/model.hood" -o "$dir/final.npz" 2>/dev/null
    if [ "$rc" -eq 0 ] && cmp -s "$dir/final.npz" "$T/ref.npz"; then
        pass "SIG$sig + --resume = the uninterrupted weights, bit for bit"
    else
        fail "SIG$sig + --resume = the uninterrupted weights, bit for bit" "exit $rc" \
            "$(head -c 300 "$dir/err" | tr '\n' '|')"
    fi
}
signal_case INT 130
signal_case TERM 143

echo "1..$n"
exit 0
