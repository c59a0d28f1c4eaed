#!/usr/bin/env bash
# test_kill_resume.sh — TAP: `hood train --checkpoint` survives kill -9 at any moment. Runs are
# SIGKILLed at random delays (fixed seed) — again and again, many landing inside a checkpoint
# write — and resumed with --resume until they finish; the final weights must be bit-identical
# to an uninterrupted run, and after every kill the checkpoint must be absent or a valid model.
# Also SIGINT -> exit 130 and SIGTERM -> exit 143 with a valid checkpoint that resumes to the
# same weights. Not a test of the checkpoint's contents (tests/test_model_file.c does that).
# Usage: HOOD=/path/to/hood tests/cli/test_kill_resume.sh   (meson sets HOOD)
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-kill-resume.XXXXXX")
pid=
# Never leave a training run behind, whatever stops this script.
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; exec 9>&-; rm -rf "$T"' EXIT
RANDOM=6 # the kill delays are drawn from a fixed seed

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"
note() { echo "# $*"; }
ms() { echo $(($(date +%s%N) / 1000000)); }

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
start=$(ms)
"${TRAIN[@]}" -o "$T/refck.hood" --checkpoint "$T/refck.ck" 2>"$T/err"
rc=$?
duration=$(($(ms) - start))
"$HOOD" export-weights "$T/refck.hood" -o "$T/refck.npz" 2>/dev/null
if [ "$rc" -eq 0 ] && cmp -s "$T/ref.npz" "$T/refck.npz"; then
    pass "checkpointing every epoch does not change the weights ($EPOCHS epochs, ${duration} ms)"
else
    fail "checkpointing every epoch does not change the weights" "exit $rc"
fi
run_ms=$duration # the real length, for the signal cases below; the kill chains use a floor
[ "$duration" -lt 500 ] && duration=500

# ---- kill -9 and resume --------------------------------------------------------------------

# valid FILE: absent, or a model file hood reads.
valid() { [ ! -e "$1" ] || "$HOOD" info "$1" >/dev/null 2>&1; }

# nap MS: sleeps without a fork (read's timeout on a fifo nobody writes), so polling loops stay
# cheap on a loaded machine.
mkfifo "$T/never"
exec 9<>"$T/never"
nap() { read -r -t "$((${1} / 1000)).$(printf '%03d' $((${1} % 1000)))" -u 9 _; }
rand() { echo $(((RANDOM * 32768 + RANDOM) % ($1 + 1))); }

# in_write PID DIR: PID holds a checkpoint temporary of DIR open: an unnamed one (O_TMPFILE,
# "/proc/PID/fd/N -> DIR/#123 (deleted)") or, on file systems without it, "ck.hood.tmp.*".
in_write() {
    local fd target
    for fd in /proc/"$1"/fd/*; do
        target=$(readlink "$fd" 2>/dev/null) || continue
        case $target in "$2"/\#* | "$2"/ck.hood.tmp.*) return 0 ;; esac
    done
    return 1
}

# chain NAME MODE KILLS A B: trains in folder NAME with --checkpoint; KILLS times SIGKILLs the
# run and starts it again (--resume once a checkpoint exists), then lets it finish. MODE says
# when a kill comes:
#   start  A + random(B) ms after the run started (anywhere: loading, training, writing);
#   epoch  random(B) ms after the run has written its first checkpoint (training under way);
#   write  the moment the run holds a checkpoint temporary open (inside a checkpoint write).
# Sets chain_ok, chain_kills, chain_in_write (kills that hit a write: the run held a temporary
# open, or a named one was left behind) and chain_problem.
chain() {
    local dir=$T/$1 mode=$2 kills=$3 a=$4 b=$5 k=0 rc
    mkdir -p "$dir"
    chain_ok=0 chain_kills=0 chain_in_write=0 chain_problem=
    local ck=$dir/ck.hood out=$dir/model.hood
    while :; do
        local args=(-o "$out" --checkpoint "$ck")
        [ -e "$ck" ] && args+=(--resume "$ck")
        touch "$dir/started"
        "${TRAIN[@]}" "${args[@]}" >/dev/null 2>"$dir/err" &
        pid=$!
        if [ "$k" -lt "$kills" ]; then
            local waited=0 limit=$((duration * 2 / 5))
            case $mode in
            start) nap $((a + $(rand "$b"))) ;;
            epoch)
                while ! [ "$ck" -nt "$dir/started" ] && [ "$waited" -lt "$limit" ] &&
                    kill -0 "$pid" 2>/dev/null; do
                    nap 5
                    waited=$((waited + 5))
                done
                nap "$(rand "$b")"
                ;;
            write)
                while ! in_write "$pid" "$dir" && [ "$waited" -lt "$limit" ] &&
                    kill -0 "$pid" 2>/dev/null; do
                    nap 1
                    waited=$((waited + 1))
                done
                ;;
            esac
            local hit=0
            in_write "$pid" "$dir" && hit=1
            if kill -9 "$pid" 2>/dev/null; then
                wait "$pid" 2>/dev/null
                pid=
                k=$((k + 1))
                chain_kills=$k
                if [ "$hit" -eq 1 ] || compgen -G "$dir/ck.hood.tmp.*" >/dev/null; then
                    chain_in_write=$((chain_in_write + 1))
                    # A user's folder would keep these (nothing can clean up after SIGKILL);
                    # here they are removed so the next kill's are seen.
                    rm -f "$dir"/ck.hood.tmp.*
                fi
                if ! valid "$ck"; then
                    chain_problem="after kill $k: the checkpoint is not a valid model"
                    cp "$ck" "$T/broken-checkpoint.hood"
                    return
                fi
                if ! valid "$out"; then
                    chain_problem="after kill $k: the output is not a valid model"
                    return
                fi
                continue
            fi
        fi
        wait "$pid"
        rc=$?
        pid=
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

in_write_total=0 kills_total=0
chain_case() {
    local desc=$1 name=$2 mode=$3 kills=$4 a=$5 b=$6 try
    # A run can be faster than the measured one (the load of a shared machine changes); when it
    # ended before the kill, nothing was tested: try again (fresh folder) with half the delay.
    for try in 1 2 3; do
        rm -rf "${T:?}/$name"
        chain "$name" "$mode" "$kills" "$a" "$b"
        [ "$chain_ok" -eq 1 ] && [ "$chain_kills" -eq 0 ] || break
        a=$((a / 2)) b=$((b / 2))
    done
    set -- "$name"
    in_write_total=$((in_write_total + chain_in_write))
    kills_total=$((kills_total + chain_kills))
    note "$1: $chain_kills kills, $chain_in_write inside a checkpoint write"
    if [ "$chain_ok" -eq 1 ] && [ "$chain_kills" -eq 0 ]; then
        fail "$desc" "the run ended before the kill: nothing was tested"
    elif [ "$chain_ok" -eq 1 ]; then
        pass "$desc: $chain_kills x SIGKILL + --resume = the uninterrupted weights, bit for bit"
    else
        fail "$desc" "$chain_problem"
    fi
}
# Delays scale with the checkpointed run's duration (sanitizer builds, a loaded machine).
# Percentages of the real run length: a floored length would put a "late" kill after the end.
pct() { echo $((run_ms * $1 / 100)); }
epoch_ms=$((duration / EPOCHS))
chain_case "one kill early in the run (loading or first epochs)" early start 1 "$(pct 2)" "$(pct 20)"
chain_case "one kill late in the run" late start 1 "$(pct 40)" "$(pct 30)"
chain_case "eight kills in quick succession, at random points of training" random epoch 8 0 $((3 * epoch_ms))
chain_case "five kills inside checkpoint writes" writes write 5 0 0
if [ "$in_write_total" -ge 3 ]; then
    pass "$in_write_total of $kills_total kills landed inside a checkpoint write"
else
    fail "at least 3 kills landed inside a checkpoint write" \
        "$in_write_total of $kills_total kills hit a checkpoint write"
fi

# ---- SIGINT and SIGTERM --------------------------------------------------------------------

# signal_case SIG WANT: starts a run, waits for its first checkpoint (training is under way),
# sends SIG, expects exit WANT with a valid checkpoint, no model and no temporary; then
# resumes to the end and compares with the uninterrupted weights.
signal_case() {
    local sig=$1 want=$2 dir=$T/sig$1 rc waited=0
    mkdir -p "$dir"
    local ck=$dir/ck.hood
    "${TRAIN[@]}" -o "$dir/model.hood" --checkpoint "$ck" >/dev/null 2>"$dir/err" &
    pid=$!
    # Poll every 5 ms without forking, then signal within the first sixth of the run: on a quiet
    # machine the whole run takes a few hundred ms, and a fixed delay would let it finish first.
    while [ ! -e "$ck" ] && [ "$waited" -lt 6000 ] && kill -0 "$pid" 2>/dev/null; do
        nap 5
        waited=$((waited + 1))
    done
    nap "$(rand $((run_ms / 6)))"
    kill -s "$sig" "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    pid=
    local problems=()
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
