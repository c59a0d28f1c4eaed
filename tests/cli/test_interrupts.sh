#!/usr/bin/env bash
# test_interrupts.sh — TAP: `hood` stopped by SIGINT/SIGTERM in every phase keeps what it can
# and leaves nothing half-written (issue 13 defect 5, issue 17 family 2), and the hand-offs
# around training: the fit settings a checkpoint keeps for --resume, early stopping's report
# (13.6), evaluate's held-out split (13.8), non-finite weights and class names on load and
# resume (17.5). Signals are sent once a state is seen (a line on stderr, a temporary on disk),
# never after a fixed delay, and every wait is bounded, so a hang fails a case, never CI.
# Usage: HOOD=/path/to/hood tests/cli/test_interrupts.sh   (meson sets HOOD; images need Pillow)
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-interrupts.XXXXXX")
pid=
MAIN=$BASHPID
# Only the script itself cleans up: a background subshell signalled before its exec runs the
# EXIT trap too.
trap '[ "$BASHPID" = "$MAIN" ] || exit; [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
export VIPS_WARNING=0

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"
PY=/usr/bin/python3
have_pil=0
"$PY" -c 'import PIL, numpy' 2>/dev/null && have_pil=1

# wait_for SECONDS COMMAND...: polls COMMAND every 20 ms until it succeeds (0) or the process
# $pid is gone or SECONDS pass (1).
wait_for() {
    local limit=$(($1 * 50)) i=0
    shift
    while [ "$i" -lt "$limit" ]; do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || { "$@"; return; }
        sleep 0.02
        i=$((i + 1))
    done
    return 1
}
# finish SECONDS: waits for $pid to end within SECONDS (then SIGKILLs it); sets rc (124 when it
# had to be killed).
finish() {
    local limit=$(($1 * 50)) i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt "$limit" ]; do
        sleep 0.02
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rc=124
    else
        wait "$pid"
        rc=$?
    fi
    pid=
}
# execd: $pid runs hood (not the shell forked to start it), so a signal reaches hood; with HOOD
# a valgrind wrapper, hood runs inside valgrind's memcheck process.
execd() {
    local exe
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
    [[ $exe == *hood* || $exe == *memcheck* ]]
}
temps() { ls -a "$1" | grep '\.tmp' | tr '\n' ' '; }
# writing PID DIR OUT: PID holds an output temporary of DIR open: an unnamed O_TMPFILE
# ("DIR/#123 (deleted)" under /proc/PID/fd) or, where the file system has none, OUT.tmp.*.
writing() {
    ls -l "/proc/$1/fd" 2>/dev/null | grep -q -F "$2/#" || compgen -G "$3.tmp*" >/dev/null
}
grep_err() { grep -q "$2" "$1" 2>/dev/null; }

# 4000 samples of 64 features, y = 1 when the even columns outweigh the odd ones (fixed LCG).
awk -v rows=4000 -v d=64 'BEGIN {
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
head -300 "$T/data.csv" >"$T/small.csv"
sed -n 3001,3400p "$T/data.csv" >"$T/val.csv"
LONG=("$HOOD" train "$T/data.csv" --layers 256:relu,1:sigmoid --epochs 100000 --verbose 2)

# ---- 13.5: SIGINT/SIGTERM mid-training without --checkpoint keeps the model in -o -----------

# stop_training SIG WANT: a long run, signalled once its second epoch line is out.
stop_training() {
    local sig=$1 want=$2 d=$T/train$1
    mkdir -p "$d"
    "${LONG[@]}" -o "$d/m.hood" >"$d/out" 2>"$d/err" &
    pid=$!
    wait_for 120 grep_err "$d/out" "^Epoch 2/"
    kill -s "$sig" "$pid"
    finish 60
    local problems=()
    [ "$rc" -ne "$want" ] && problems+=("exit $rc, wanted $want: $(head -c 300 "$d/err" | tr '\n' '|')")
    "$HOOD" info "$d/m.hood" >"$d/info" 2>&1 || problems+=("no valid model in -o")
    grep -q "(interrupted)" "$d/info" || problems+=("hood info does not say interrupted")
    [ -n "$(temps "$d")" ] && problems+=("temporaries left: $(temps "$d")")
    local cmd
    cmd=$(sed -n 's/^hood train: resume with: //p' "$d/err")
    [ -z "$cmd" ] && problems+=("no resume command printed")
    if [ ${#problems[@]} -eq 0 ]; then
        pass "SIG$sig mid-training, no --checkpoint: exit $want, the model as of the last batch in -o, marked interrupted"
    else
        fail "SIG$sig mid-training, no --checkpoint: exit $want, the model in -o" "${problems[@]}"
    fi
    resume_cmd=$cmd
}
stop_training INT 130
# The printed command resumes (here asking for one epoch past the one the signal stopped, so it
# ends whatever epoch the signal reached on a fast or a busy machine).
stopped_in=$(sed -n 's/^hood train: stopped by SIGINT in epoch \([0-9]*\)\/.*/\1/p' "$T/trainINT/err")
if [ -n "${resume_cmd:-}" ] && [ -n "$stopped_in" ]; then
    want_epochs=$((stopped_in + 1))
    eval "${resume_cmd/hood /$HOOD } --epochs $want_epochs --verbose 0" >/dev/null 2>"$T/resume.err"
    rc=$?
    if [ "$rc" -eq 0 ] && "$HOOD" info "$T/trainINT/m.hood" | grep -q "epochs done: $want_epochs)"; then
        pass "the printed resume command runs and finishes the model"
    else
        fail "the printed resume command runs and finishes the model" "exit $rc: $(head -c 300 "$T/resume.err")"
    fi
else
    fail "the printed resume command runs and finishes the model" "no command printed"
fi
stop_training TERM 143

# With --checkpoint, the work goes there and -o keeps its old bytes.
d=$T/ck
mkdir -p "$d"
echo precious >"$d/m.hood"
"${LONG[@]}" -o "$d/m.hood" --checkpoint "$d/ck.hood" >"$d/out" 2>"$d/err" &
pid=$!
wait_for 120 grep_err "$d/out" "^Epoch 2/"
kill -INT "$pid"
finish 60
if [ "$rc" -eq 130 ] && [ "$(cat "$d/m.hood")" = precious ] && "$HOOD" info "$d/ck.hood" >/dev/null 2>&1 &&
    [ -z "$(temps "$d")" ]; then
    pass "SIGINT with --checkpoint: the checkpoint keeps the work, -o is untouched"
else
    fail "SIGINT with --checkpoint: the checkpoint keeps the work, -o is untouched" "exit $rc" \
        "$(head -c 300 "$d/err" | tr '\n' '|')" "temporaries: $(temps "$d")"
fi

# ---- 13.5: a checkpoint keeps every fit setting: --resume FILE needs no flag repeated -------

FIT=(--layers 32:relu,1:sigmoid --batch-size 16 --optimizer adam --learning-rate 0.005 --seed 3
    --no-shuffle --threads 1)
"$HOOD" train "$T/small.csv" "${FIT[@]}" --epochs 40 --verbose 0 -o "$T/ref.hood" 2>"$T/err" &&
    "$HOOD" export-weights "$T/ref.hood" -o "$T/ref.npz" 2>>"$T/err"
d=$T/settings
mkdir -p "$d"
"$HOOD" train "$T/small.csv" "${FIT[@]}" --epochs 40 --verbose 2 -o "$d/m.hood" \
    --checkpoint "$d/ck.hood" >"$d/out" 2>"$d/err" &
pid=$!
wait_for 60 grep_err "$d/out" "^Epoch 2/"
kill -INT "$pid"
finish 60
ck_rc=$rc
"$HOOD" train "$T/small.csv" --resume "$d/ck.hood" -o "$d/m.hood" --verbose 0 2>"$d/err2"
rc=$?
"$HOOD" export-weights "$d/m.hood" -o "$d/final.npz" 2>/dev/null
if [ "$ck_rc" -eq 130 ] && [ "$rc" -eq 0 ] && cmp -s "$d/final.npz" "$T/ref.npz"; then
    pass "--resume FILE alone repeats batch size, optimizer, learning rate, seed, shuffle, epochs: the uninterrupted weights"
elif [ "$ck_rc" -eq 0 ]; then
    skip "--resume FILE alone repeats the fit settings" "the run ended before the signal"
else
    fail "--resume FILE alone repeats the fit settings" "stop exit $ck_rc, resume exit $rc" \
        "$(head -c 300 "$d/err2" | tr '\n' '|')"
fi
"$HOOD" train "$T/small.csv" --resume "$d/ck.hood" -o "$d/x.hood" --batch-size 64 2>"$d/err3"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "64" "$d/err3" && grep -q "16" "$d/err3" && [ ! -e "$d/x.hood" ]; then
    pass "a flag that conflicts with the checkpoint is a usage error naming both values"
else
    fail "a flag that conflicts with the checkpoint is a usage error naming both values" \
        "exit $rc: $(head -c 300 "$d/err3" | tr '\n' '|')"
fi

# ---- 17.2: every phase of hood dataset and hood train, SIGINT/SIGTERM -------------------------

if [ "$have_pil" -eq 1 ]; then
    # One 6000 x 6000 PNG (48 KB on disk, 36 M pixels to inflate) linked 400 times: decoding
    # the folder on one thread takes far longer than the bounds below (about 1 min here).
    mkdir -p "$T/big/a" "$T/big/b" "$T/img/a" "$T/img/b" "$T/img/c"
    "$PY" - "$T" <<'EOF'
import sys
from PIL import Image
import numpy as np
t = sys.argv[1]
Image.new("L", (6000, 6000), 128).save(f"{t}/big/a/0.png")
Image.new("L", (6000, 6000), 30).save(f"{t}/big/b/0.png")
rng = np.random.default_rng(1)
for c, k in (("a", 0), ("b", 1), ("c", 2)):
    for i in range(40):
        base = 60 + 70 * k
        px = np.clip(rng.normal(base, 30, (12, 12)), 0, 255).astype(np.uint8)
        Image.fromarray(px, "L").save(f"{t}/img/{c}/{i}.png")
EOF
    for c in a b; do
        for i in $(seq 1 199); do ln "$T/big/$c/0.png" "$T/big/$c/$i.png"; done
    done
fi

# decode_case CMD SIG WANT ARGS...: signals CMD once its "Found N files" line is out, during
# decoding; it must end within 20 s (the whole decode takes minutes), exit WANT, and write
# nothing.
decode_case() {
    local cmd=$1 sig=$2 want=$3 d=$T/dec$1$2
    shift 3
    mkdir -p "$d"
    echo precious >"$d/out.npz"
    "$HOOD" "$cmd" "$T/big" --threads 1 --image-size 8x8 "$@" -o "$d/out.npz" >/dev/null 2>"$d/err" &
    pid=$!
    wait_for 60 grep_err "$d/err" "^Found"
    kill -s "$sig" "$pid"
    finish 20
    if [ "$rc" -eq "$want" ] && [ "$(cat "$d/out.npz")" = precious ] && [ -z "$(temps "$d")" ]; then
        pass "hood $cmd: SIG$sig while decoding stops at once (exit $want), nothing written"
    else
        fail "hood $cmd: SIG$sig while decoding stops at once (exit $want), nothing written" \
            "exit $rc (124: still decoding 20 s after the signal)" \
            "$(head -c 300 "$d/err" | tr '\n' '|')" "temporaries: $(temps "$d")"
    fi
}
# write_case SIG WANT: hood dataset signalled while its temporary output exists (120 small
# images upscaled to 400 x 400: a 100 MB CSV being written): exit WANT, the old output
# byte-identical, no temporary.
write_case() {
    local sig=$1 want=$2 d=$T/write$1
    mkdir -p "$d"
    echo precious >"$d/out.csv"
    "$HOOD" dataset "$T/img" --image-size 400x400 -o "$d/out.csv" >/dev/null 2>"$d/err" &
    pid=$!
    wait_for 120 writing "$pid" "$d" "$d/out.csv"
    kill -s "$sig" "$pid"
    finish 30
    if [ "$rc" -eq "$want" ] && [ "$(cat "$d/out.csv")" = precious ] && [ -z "$(temps "$d")" ]; then
        pass "hood dataset: SIG$sig while writing: exit $want, the old output as it was, no temporary"
    else
        fail "hood dataset: SIG$sig while writing: exit $want, the old output, no temporary" \
            "exit $rc" "$(head -c 300 "$d/err" | tr '\n' '|')" "left: $(temps "$d")"
    fi
}
if [ "$have_pil" -eq 1 ]; then
    decode_case train INT 130 --layers 1:sigmoid
    decode_case train TERM 143 --layers 1:sigmoid
    decode_case dataset INT 130
    write_case TERM 143
    write_case INT 130
else
    for c in "train decoding" "dataset decoding" "dataset writing"; do
        skip "SIGINT/SIGTERM while $c" "no Pillow/NumPy for /usr/bin/python3"
    done
fi

# Reading a CSV: exit at once, nothing written.
awk 'BEGIN { for (j = 0; j < 6; j++) system("cat '"$T"'/data.csv") }' >"$T/big.csv"
d=$T/readcsv
mkdir -p "$d"
"$HOOD" train "$T/big.csv" --layers 1:sigmoid -o "$d/m.hood" >/dev/null 2>"$d/err" &
pid=$!
wait_for 10 execd
kill -TERM "$pid" # anywhere in reading (or startup)
finish 30
if [ "$rc" -eq 143 ] && [ ! -e "$d/m.hood" ] && [ -z "$(temps "$d")" ]; then
    pass "hood train: SIGTERM while reading a CSV: exit 143, nothing written"
else
    fail "hood train: SIGTERM while reading a CSV: exit 143, nothing written" "exit $rc" \
        "$(head -c 300 "$d/err" | tr '\n' '|')"
fi

# ---- 13.6: early stopping is reported, and hood info names the epoch whose weights it holds --

d=$T/early
mkdir -p "$d"
"$HOOD" train "$T/small.csv" --layers 64:relu,1:sigmoid --epochs 200 --verbose 2 \
    --validation-data "$T/val.csv" --early-stopping 3 --restore-best --learning-rate 0.01 \
    -o "$d/m.hood" >"$d/out" 2>"$d/err"
rc=$?
stopped=$(sed -n 's/^Epoch \([0-9]*\): early stopping$/\1/p' "$d/out")
best=$(sed -n 's/^Restoring model weights from the end of the best epoch: \([0-9]*\)\.$/\1/p' "$d/out")
if [ "$rc" -eq 0 ] && [ -n "$stopped" ] && [ -n "$best" ] && [ "$best" -lt "$stopped" ]; then
    pass "early stopping prints Keras' lines (epoch $stopped: early stopping; best epoch $best)"
else
    fail "early stopping prints Keras' lines" "exit $rc: $(tail -3 "$d/out" | tr '\n' '|')"
fi
"$HOOD" evaluate "$d/m.hood" "$T/val.csv" >"$d/eval" 2>&1
ev=$(sed -n 's/^loss: \([0-9.]*\) .*/\1/p' "$d/eval")
"$HOOD" info "$d/m.hood" >"$d/info" 2>&1
held=$(sed -n 's/^Weights: *from the end of epoch \([0-9]*\).*val_loss \([0-9.]*\).*/\1 \2/p' "$d/info")
if [ -n "$best" ] && [ -n "$ev" ] && [ "$held" = "$best $ev" ]; then
    pass "hood info: the weights are epoch $best's, val_loss $ev as hood evaluate gives"
else
    fail "hood info names the restored epoch and its val_loss equals hood evaluate's" \
        "info: '$held', best '$best', evaluate loss '$ev'"
fi
"$HOOD" train "$T/small.csv" --layers 1:sigmoid --early-stopping 2 -o "$d/x.hood" 2>"$d/err2"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "val_loss" "$d/err2" && [ ! -e "$d/x.hood" ]; then
    pass "--early-stopping monitoring val_loss without validation data is a usage error"
else
    fail "--early-stopping monitoring val_loss without validation data is a usage error" "exit $rc"
fi

# ---- 13.8: evaluate scores exactly the held-out files --------------------------------------

if [ "$have_pil" -eq 1 ]; then
    d=$T/heldout
    mkdir -p "$d"
    S=(--validation-split 0.3 --seed 11)
    "$HOOD" dataset "$T/img" --image-size 12x12 "${S[@]}" --subset validation -o "$d/val.npz" \
        --quiet >/dev/null 2>"$d/err" &&
        "$HOOD" train "$T/img" --image-size 12x12 "${S[@]}" --layers 3:softmax --epochs 3 \
            --verbose 0 -o "$d/m.hood" 2>>"$d/err" &&
        "$HOOD" evaluate "$d/m.hood" "$d/val.npz" --json >"$d/a" 2>>"$d/err"
    "$HOOD" evaluate "$d/m.hood" "$T/img" "${S[@]}" --subset validation --json --quiet >"$d/b" 2>>"$d/err"
    "$HOOD" evaluate "$d/m.hood" "$T/img" --json --quiet >"$d/all" 2>>"$d/err"
    if [ -s "$d/a" ] && cmp -s "$d/a" "$d/b" && grep -q '"samples": 36' "$d/b"; then
        pass "hood evaluate --validation-split --subset validation --seed scores the 36 held-out files, as hood dataset's split"
    else
        fail "hood evaluate --subset validation scores the held-out files" \
            "dataset split: $(cat "$d/a" 2>/dev/null)" "evaluate split: $(cat "$d/b" 2>/dev/null)" \
            "all: $(cat "$d/all" 2>/dev/null)" "$(head -c 300 "$d/err" | tr '\n' '|')"
    fi
else
    skip "hood evaluate --subset validation scores the held-out files" "no Pillow/NumPy"
fi

# ---- 17.5: non-finite weights on load, class names on resume -------------------------------

d=$T/nan
mkdir -p "$d"
"$HOOD" train "$T/small.csv" --layers 4:relu,1:sigmoid --verbose 0 -o "$d/m.hood" 2>/dev/null
"$PY" - "$d/m.hood" "$d/nan.hood" <<'EOF'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
header = struct.unpack_from("<I", b, 12)[0]
struct.pack_into("<f", b, 24 + header + 4 * 5, float("nan"))
struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])) & 0xFFFFFFFF)
open(sys.argv[2], "wb").write(b)
EOF
"$HOOD" evaluate "$d/nan.hood" "$T/small.csv" >"$d/out" 2>"$d/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "nan.hood" "$d/err" && grep -q "NaN" "$d/err" && ! grep -q "loss" "$d/out"; then
    pass "a model file with a NaN weight is refused on load, naming the file"
else
    fail "a model file with a NaN weight is refused on load" "exit $rc: $(cat "$d/out" "$d/err" | head -c 300 | tr '\n' '|')"
fi

if [ "$have_pil" -eq 1 ]; then
    d=$T/classes
    mkdir -p "$d/other/a" "$d/other/x" "$d/other/c"
    cp "$T"/img/a/*.png "$d/other/a/"
    cp "$T"/img/b/*.png "$d/other/x/"
    cp "$T"/img/c/*.png "$d/other/c/"
    "$HOOD" dataset "$T/img" --image-size 12x12 -o "$d/abc.npz" --quiet >/dev/null 2>&1
    "$HOOD" dataset "$d/other" --image-size 12x12 -o "$d/axc.npz" --quiet >/dev/null 2>&1
    "$HOOD" train "$d/abc.npz" --layers 3:softmax --epochs 1 --verbose 0 -o "$d/ck.hood" 2>/dev/null
    "$HOOD" train "$d/axc.npz" --resume "$d/ck.hood" --epochs 2 -o "$d/m.hood" 2>"$d/err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "a, b, c" "$d/err" && grep -q "a, c, x" "$d/err" && [ ! -e "$d/m.hood" ]; then
        pass "resuming on data whose class names differ is an error naming both"
    else
        fail "resuming on data whose class names differ is an error naming both" "exit $rc: $(head -c 300 "$d/err")"
    fi
    "$HOOD" train "$d/other" --resume "$d/ck.hood" --epochs 2 -o "$d/m.hood" 2>"$d/err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "a, b, c" "$d/err" && [ ! -e "$d/m.hood" ]; then
        pass "resuming on a folder whose class folders differ is an error naming both"
    else
        fail "resuming on a folder whose class folders differ is an error naming both" "exit $rc: $(head -c 300 "$d/err")"
    fi
else
    skip "resuming on data whose class names differ is an error" "no Pillow/NumPy"
fi

echo "1..$n"
exit 0
