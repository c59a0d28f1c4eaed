#!/usr/bin/env bash
# test_cli.sh — TAP tests of the built `hood` binary: every command's help, usage errors (exit
# 2), bad inputs (exit 1, one line naming the file, nothing written, existing files untouched),
# happy paths and round trips (save/load, export/--init-weights, checkpoint/resume, SIGTERM).
# Usage: HOOD=/path/to/hood tests/cli/test_cli.sh   (meson sets HOOD; needs `vips` for images)
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-cli-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export VIPS_WARNING=0

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"
# A failed case also shows the last command's output.
tap_fail_context() {
    echo "#   stdout: $(head -c 600 "$T/out" 2>/dev/null | tr '\n' '|')"
    echo "#   stderr: $(head -c 600 "$T/err" 2>/dev/null | tr '\n' '|')"
}

# run CMD...: runs it with stdout/stderr captured; sets rc.
run() {
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
}

# expect_rc DESC RC CMD...
expect_rc() {
    local desc=$1 want=$2
    shift 2
    run "$@"
    if [ "$rc" -eq "$want" ]; then pass "$desc"; else fail "$desc" "exit $rc, wanted $want"; fi
}

# expect_usage DESC CMD...: exit 2, a message and a hint to --help on stderr, nothing on stdout.
expect_usage() {
    local desc=$1
    shift
    run "$@"
    if [ "$rc" -eq 2 ] && grep -q "^hood" "$T/err" && grep -q -- "--help" "$T/err" &&
        [ ! -s "$T/out" ]; then
        pass "$desc"
    else
        fail "$desc" "exit $rc, wanted 2 with a --help hint"
    fi
}

# expect_error DESC PATTERN CMD...: exit 1 and exactly one stderr line "hood CMD: ..." that
# contains PATTERN (fixed string: the file or option it must name).
expect_error() {
    local desc=$1 pattern=$2
    shift 2
    run "$@"
    local lines
    lines=$(wc -l <"$T/err")
    if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && grep -q "^hood [a-z-]*: " "$T/err" &&
        grep -qF -- "$pattern" "$T/err"; then
        pass "$desc"
    else
        fail "$desc" "exit $rc (wanted 1), $lines stderr lines (wanted 1) naming '$pattern'"
    fi
}

# expect_bad_value DESC PATTERN CMD...: a bad option value is a usage error (issue 13): exit 2,
# the first stderr line "hood CMD: ..." names PATTERN, nothing on stdout.
expect_bad_value() {
    local desc=$1 pattern=$2
    shift 2
    run "$@"
    if [ "$rc" -eq 2 ] && head -1 "$T/err" | grep -q "^hood [a-z-]*: " &&
        head -1 "$T/err" | grep -qF -- "$pattern" && [ ! -s "$T/out" ]; then
        pass "$desc"
    else
        fail "$desc" "exit $rc (wanted 2), first stderr line naming '$pattern'"
    fi
}

# no_leftovers DIR: no temporary files (*.tmp.*) left in DIR.
no_leftovers() {
    ! ls "$1" | grep -q '\.tmp\.'
}

# ---- fixtures ------------------------------------------------------------------------------

# A CSV of the seed's rows x1..x4,y: y = 1 when x1 + x2 > x3 + x4, values from a fixed LCG.
make_csv() { # FILE ROWS [FEATURES]
    awk -v rows="$2" -v d="${3:-4}" 'BEGIN {
        s = 12345
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
    }' >"$1"
}
make_csv "$T/train.csv" 96
make_csv "$T/small.csv" 24
make_csv "$T/wide.csv" 8 6
printf 'x' >"$T/garbage.hood"
: >"$T/empty.csv"

have_vips=0
if command -v vips >/dev/null 2>&1; then
    have_vips=1
    # Two classes of 8x8 grey ramps: "dark" (low values) and "light" (high values).
    mkdir -p "$T/img/dark" "$T/img/light" "$T/emptydir" "$T/newimg"
    vips grey "$T/ramp.v" 8 8
    for k in 0 1 2 3 4 5; do
        vips linear "$T/ramp.v" "$T/img/dark/d$k.png" 60 $((k * 6)) --uchar
        vips linear "$T/ramp.v" "$T/img/light/l$k.png" 60 $((150 + k * 6)) --uchar
    done
    vips linear "$T/ramp.v" "$T/newimg/new.png" 50 170 --uchar
fi

# ---- help and usage ------------------------------------------------------------------------

run "$HOOD" --help
if [ "$rc" -eq 0 ] && grep -q "export-weights" "$T/out"; then pass "hood --help lists the commands"; else fail "hood --help lists the commands"; fi
run "$HOOD" --version
if [ "$rc" -eq 0 ] && grep -qE '^hood [0-9]+\.[0-9]+\.[0-9]+$' "$T/out"; then pass "hood --version"; else fail "hood --version"; fi
for cmd in dataset train evaluate predict info export-weights; do
    run "$HOOD" "$cmd" --help
    if [ "$rc" -eq 0 ] && grep -q "^Usage: hood $cmd" "$T/out"; then pass "hood $cmd --help"; else fail "hood $cmd --help"; fi
done
run "$HOOD" dataset --help
if [ "$rc" -eq 0 ] && grep -q -- "--compress .*numpy.savez_compressed" "$T/out"; then
    pass "hood dataset --help documents --compress"
else
    fail "hood dataset --help documents --compress"
fi
expect_usage "dataset --compress with a .csv output" "$HOOD" dataset "$T" -o "$T/c.csv" --compress
expect_rc "hood without a command exits 2" 2 "$HOOD"
expect_usage "unknown command" "$HOOD" frobnicate
expect_usage "train: unknown option" "$HOOD" train --bogus "$T/train.csv" -o "$T/m.hood"
expect_usage "train: missing -o" "$HOOD" train "$T/train.csv" --layers 1:sigmoid
expect_usage "train: missing --layers" "$HOOD" train "$T/train.csv" -o "$T/m.hood"
expect_usage "train: option without its value" "$HOOD" train "$T/train.csv" -o "$T/m.hood" --layers
expect_usage "dataset: missing DIR" "$HOOD" dataset -o "$T/x.csv"
expect_usage "evaluate: one operand" "$HOOD" evaluate "$T/m.hood"
expect_usage "predict: no INPUT" "$HOOD" predict "$T/m.hood"
expect_usage "info: two operands" "$HOOD" info a b
expect_usage "export-weights: missing -o" "$HOOD" export-weights "$T/m.hood"

# ---- bad values (exit 2, one line naming the option) ---------------------------------------

L="--layers 8:tanh,1:sigmoid"
expect_bad_value "--epochs -1" "--epochs" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --epochs -1
expect_bad_value "--batch-size -3" "--batch-size" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --batch-size -3
expect_bad_value "--learning-rate 0" "--learning-rate" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --learning-rate 0
expect_bad_value "--learning-rate -0.1" "--learning-rate" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --learning-rate -0.1
expect_bad_value "--learning-rate abc" "--learning-rate" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --learning-rate abc
expect_bad_value "unknown activation" "swish" "$HOOD" train "$T/train.csv" -o "$T/m.hood" --layers 8:swish,1:sigmoid
expect_bad_value "zero units" "--layers" "$HOOD" train "$T/train.csv" -o "$T/m.hood" --layers 0:relu,1:sigmoid
expect_bad_value "unknown optimizer" "adagrad" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --optimizer adagrad
expect_bad_value "unknown loss" "hinge" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --loss hinge
expect_bad_value "--image-size 0x5" "--image-size" "$HOOD" dataset "$T/img" -o "$T/x.csv" --image-size 0x5
expect_bad_value "--verbose 7" "--verbose" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --verbose 7
[ -e "$T/m.hood" ] && fail "bad values leave no model file" || pass "bad values leave no model file"

# ---- bad inputs (exit 1, one line naming the file) -----------------------------------------

expect_error "dataset: missing folder" "$T/nope" "$HOOD" dataset "$T/nope" -o "$T/x.csv"
expect_error "train: missing data file" "$T/nope.csv" "$HOOD" train "$T/nope.csv" -o "$T/m.hood" $L
expect_error "train: empty CSV" "empty.csv" "$HOOD" train "$T/empty.csv" -o "$T/m.hood" $L
expect_error "evaluate: garbage model file" "garbage.hood" "$HOOD" evaluate "$T/garbage.hood" "$T/train.csv"
expect_error "info: garbage model file" "garbage.hood" "$HOOD" info "$T/garbage.hood"
expect_error "train: unwritable output" "/nonexistent/m.hood" "$HOOD" train "$T/train.csv" -o /nonexistent/m.hood $L
expect_error "dataset: unknown output format" "x.txt" "$HOOD" dataset "$T/img" -o "$T/x.txt"

# Malformed data files.
printf '0.1,0.2,0.3,0.4,1\n0.1,0.2,1\n' >"$T/ragged.csv"
printf '0.1,0.2,abc,0.4,1\n' >"$T/text.csv"
printf '0.1,nan,0.3,0.4,1\n0.2,0.2,0.3,0.4,0\n' >"$T/nan.csv"
printf 'x1,x2,x3,x4,y\n' >"$T/header.csv"
head -c 300 /dev/urandom >"$T/random.npz"
expect_error "ragged CSV names the file" "ragged.csv" "$HOOD" train "$T/ragged.csv" -o "$T/m.hood" $L
expect_error "non-numeric CSV names the file" "text.csv" "$HOOD" train "$T/text.csv" -o "$T/m.hood" $L
expect_error "NaN in a CSV names the file" "nan.csv" "$HOOD" train "$T/nan.csv" -o "$T/m.hood" $L
expect_error "header-only CSV names the file" "header.csv" "$HOOD" train "$T/header.csv" -o "$T/m.hood" $L
expect_error "random-bytes .npz names the file" "random.npz" "$HOOD" train "$T/random.npz" -o "$T/m.hood" $L
expect_error "--resume from a garbage file" "garbage.hood" "$HOOD" train "$T/train.csv" -o "$T/m.hood" --resume "$T/garbage.hood"
expect_error "--init-weights from a missing file" "nope.npz" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --init-weights "$T/nope.npz"
expect_error "--history in a missing folder" "/nonexistent/h.csv" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --history /nonexistent/h.csv
expect_error "-o names a folder" "$T" "$HOOD" train "$T/train.csv" -o "$T" $L
expect_bad_value "--momentum 1.5" "--momentum" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --momentum 1.5
expect_bad_value "--validation-split 1.5" "--validation-split" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --validation-split 1.5
expect_bad_value "--threads -1" "--threads" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --threads -1
expect_bad_value "--checkpoint-every 0" "--checkpoint-every" "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --checkpoint-every 0
expect_bad_value "--color-mode cmyk" "--color-mode" "$HOOD" dataset "$T/img" -o "$T/x.csv" --color-mode cmyk
expect_bad_value "--label-mode weird" "--label-mode" "$HOOD" dataset "$T/img" -o "$T/x.csv" --label-mode weird
expect_error "dataset: unwritable output" "/nonexistent/x.csv" "$HOOD" dataset "$T/img" -o /nonexistent/x.csv
[ -e "$T/m.hood" ] && fail "malformed inputs leave no model file" || pass "malformed inputs leave no model file"

printf '0.1,0.2,0.3,0.4,5\n0.3,0.1,0.2,0.2,0\n' >"$T/labels5.csv"
expect_error "labels beyond the softmax units name the data file" "labels5.csv: " "$HOOD" train "$T/labels5.csv" -o "$T/m.hood" --layers 3:softmax
expect_error "divergence names the data file and the epoch" "train.csv: training diverged at epoch 1" "$HOOD" train "$T/train.csv" -o "$T/m.hood" --layers 8:relu,1:linear --loss mean_squared_error --optimizer sgd --learning-rate 1000000 --verbose 0
[ -e "$T/m.hood" ] && fail "a diverged run saves nothing" || pass "a diverged run saves nothing"

# An existing output stays byte-identical when the command fails.
printf 'precious\n' >"$T/keep.hood"
cp "$T/keep.hood" "$T/keep.orig"
run "$HOOD" train "$T/empty.csv" -o "$T/keep.hood" $L
if [ "$rc" -eq 1 ] && cmp -s "$T/keep.hood" "$T/keep.orig" && no_leftovers "$T"; then
    pass "failed train leaves an existing model byte-identical, no temporaries"
else
    fail "failed train leaves an existing model byte-identical, no temporaries"
fi

# ---- train / evaluate / info on the seed's CSV rows ----------------------------------------

run "$HOOD" train "$T/train.csv" -o "$T/m.hood" $L --optimizer sgd --learning-rate 0.1 \
    --epochs 3 --batch-size 16 --verbose 0 --history "$T/hist.csv" --evaluate "$T/train.csv" --json
if [ "$rc" -eq 0 ] && [ -s "$T/m.hood" ]; then pass "train on a CSV writes the model"; else fail "train on a CSV writes the model"; fi
train_eval=$(cat "$T/out")
if [ "$(wc -l <"$T/hist.csv")" -eq 4 ] && head -1 "$T/hist.csv" | grep -q '^epoch,loss,accuracy,val_loss,val_accuracy,seconds,learning_rate$'; then
    pass "--history: a header and one row per epoch"
else
    fail "--history: a header and one row per epoch" "$(cat "$T/hist.csv" 2>/dev/null)"
fi
# One mode rule: the model (the library's writer) and the history (the CLI's wrapper of it) get
# what fopen would give under the umask.
for mask in 022 077; do
    want=$([ "$mask" = 022 ] && echo 644 || echo 600)
    (umask "$mask" && "$HOOD" train "$T/train.csv" -o "$T/mode$mask.hood" $L --epochs 1 \
        --verbose 0 --history "$T/mode$mask.csv") >"$T/out" 2>"$T/err"
    got="$(stat -c %a "$T/mode$mask.hood" 2>/dev/null) $(stat -c %a "$T/mode$mask.csv" 2>/dev/null)"
    if [ "$got" = "$want $want" ]; then
        pass "umask $mask: the model and the --history file are both $want"
    else
        fail "umask $mask: the model and the --history file are both $want" "got $got"
    fi
done
run "$HOOD" evaluate "$T/m.hood" "$T/train.csv" --json
if [ "$rc" -eq 0 ] && [ -n "$train_eval" ] && [ "$(cat "$T/out")" = "$train_eval" ]; then
    pass "train -> save -> load -> evaluate gives the same loss and accuracy (full precision)"
else
    fail "train -> save -> load -> evaluate gives the same loss and accuracy (full precision)" "train: $train_eval"
fi
run "$HOOD" evaluate "$T/m.hood" "$T/train.csv"
if [ "$rc" -eq 0 ] && grep -qE '^loss: [0-9]+\.[0-9]{4} - accuracy: [0-9]\.[0-9]{4}$' "$T/out"; then
    pass "evaluate prints 'loss: L - accuracy: A'"
else
    fail "evaluate prints 'loss: L - accuracy: A'"
fi
run "$HOOD" info "$T/m.hood"
# 4*8 + 8 + 8*1 + 1 = 49 parameters.
if [ "$rc" -eq 0 ] && grep -q "Total params: 49 " "$T/out" && grep -q "binary_crossentropy" "$T/out" &&
    grep -q "sgd" "$T/out" && grep -q "3 epochs" "$T/out"; then
    pass "info: parameter count, loss, optimizer, history"
else
    fail "info: parameter count, loss, optimizer, history"
fi
expect_error "evaluate: wrong input width names the file" "wide.csv" "$HOOD" evaluate "$T/m.hood" "$T/wide.csv"
head -c 200 "$T/m.hood" >"$T/trunc.hood"
expect_error "evaluate: truncated model file" "trunc.hood" "$HOOD" evaluate "$T/trunc.hood" "$T/train.csv"

expect_bad_value "predict --top 0" "--top" "$HOOD" predict "$T/m.hood" "$T/small.csv" --top 0
expect_bad_value "predict --format xml" "--format" "$HOOD" predict "$T/m.hood" "$T/small.csv" --format xml
cp "$T/m.hood" "$T/flip.hood"
printf '\x55' | dd of="$T/flip.hood" bs=1 seek=$(($(stat -c %s "$T/flip.hood") - 20)) conv=notrunc 2>/dev/null
expect_error "a bit-flipped model file is refused" "flip.hood" "$HOOD" predict "$T/flip.hood" "$T/small.csv"
printf 'precious\n' >"$T/keep.npz"
cp "$T/keep.npz" "$T/keep.npz.orig"
expect_error "export-weights from a garbage model" "garbage.hood" "$HOOD" export-weights "$T/garbage.hood" -o "$T/keep.npz"
cmp -s "$T/keep.npz" "$T/keep.npz.orig" && pass "... and the existing .npz is byte-identical" || fail "... and the existing .npz is byte-identical"
run "$HOOD" train "$T/train.csv" -o "$T/v.hood" $L --epochs 2 --verbose 1
if [ "$rc" -eq 0 ] && [ "$(grep -c '^Epoch [12]/2 - 3/3 - .* - accuracy: [0-9.]* - loss: [0-9.]*$' "$T/out")" -eq 2 ]; then
    pass "--verbose 1 off a terminal: one line per epoch"
else
    fail "--verbose 1 off a terminal: one line per epoch"
fi
run "$HOOD" train "$T/train.csv" -o "$T/v.hood" $L --epochs 2 --verbose 0 --validation-split 0.25 --history "$T/vh.csv"
if [ "$rc" -eq 0 ] && [ ! -s "$T/out" ] && [ "$(awk -F, 'NR > 1 && $4 != "" && $5 != ""' "$T/vh.csv" | wc -l)" -eq 2 ]; then
    pass "--verbose 0 is silent; --validation-split fills val_loss/val_accuracy"
else
    fail "--verbose 0 is silent; --validation-split fills val_loss/val_accuracy"
fi
expect_error "predict: a CSV-trained model refuses images" "was not trained on images" "$HOOD" predict "$T/m.hood" "$T/img/dark/d0.png"

# predict on CSV rows
run "$HOOD" predict "$T/m.hood" "$T/small.csv"
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 24 ] &&
    grep -qE '^.*small\.csv\[0\]: [01] \(0\.[0-9]{4}|1\.0000\)$' "$T/out"; then
    pass "predict on CSV rows: 'FILE[row]: CLASS (p)' per row"
else
    fail "predict on CSV rows: 'FILE[row]: CLASS (p)' per row"
fi
run "$HOOD" predict "$T/m.hood" "$T/small.csv" "$T/missing.png" "$T/small.csv"
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/out")" -eq 48 ] && grep -q "missing.png" "$T/err"; then
    pass "predict: an unreadable input is reported after the readable ones, exit 1"
else
    fail "predict: an unreadable input is reported after the readable ones, exit 1"
fi

if [ -w /dev/full ]; then
    "$HOOD" predict "$T/m.hood" "$T/small.csv" >/dev/full 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "cannot write to standard output" "$T/err"; then
        pass "a full stdout is an error (exit 1), not a silent success"
    else
        fail "a full stdout is an error (exit 1), not a silent success" "exit $rc"
    fi
else
    skip "a full stdout is an error" "no /dev/full"
fi

# export-weights -> --init-weights: with SGD (no optimizer state) and no shuffling, 1 epoch from
# the weights after epoch 1 is bit-for-bit the second epoch of a 2-epoch run.
S="--optimizer sgd --learning-rate 0.1 --no-shuffle --batch-size 16 --verbose 0"
run "$HOOD" train "$T/train.csv" -o "$T/e2.hood" $L $S --epochs 2
run "$HOOD" train "$T/train.csv" -o "$T/e1.hood" $L $S --epochs 1
run "$HOOD" export-weights "$T/e1.hood" -o "$T/e1.npz"
if [ "$rc" -eq 0 ] && [ -s "$T/e1.npz" ]; then pass "export-weights writes an .npz"; else fail "export-weights writes an .npz"; fi
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    if /usr/bin/python3 - "$T/e1.npz" <<'EOF'; then pass "export-weights: numpy.load sees kernel_0 (4, 8), bias_0 (8,), kernel_1 (8, 1), bias_1 (1,)"; else fail "export-weights: numpy.load sees Keras shapes"; fi
import sys, numpy as np
w = np.load(sys.argv[1])
shapes = {k: w[k].shape for k in w.files}
assert shapes == {'kernel_0': (4, 8), 'bias_0': (8,), 'kernel_1': (8, 1), 'bias_1': (1,)}, shapes
assert all(w[k].dtype == np.float32 for k in w.files)
EOF
else
    skip "export-weights: numpy.load sees Keras shapes" "no python3-numpy"
fi
run "$HOOD" train "$T/train.csv" -o "$T/r2.hood" $L $S --epochs 1 --init-weights "$T/e1.npz"
"$HOOD" export-weights "$T/e2.hood" -o "$T/e2.npz" 2>/dev/null
"$HOOD" export-weights "$T/r2.hood" -o "$T/r2.npz" 2>/dev/null
a=$("$HOOD" evaluate "$T/e2.hood" "$T/train.csv" --json 2>&1)
b=$("$HOOD" evaluate "$T/r2.hood" "$T/train.csv" --json 2>&1)
if [ "$rc" -eq 0 ] && cmp -s "$T/e2.npz" "$T/r2.npz" && [ "$a" = "$b" ]; then
    pass "export-weights -> --init-weights continues bit-identically"
else
    fail "export-weights -> --init-weights continues bit-identically" "$a" "$b"
fi
# numpy.savez_compressed loads: training on it gives the weights training on numpy.savez gives.
DATA="$(dirname "$0")/../data"
desc="train on numpy.savez_compressed data = train on numpy.savez data (weights bit-identical)"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    /usr/bin/python3 - "$T/train.csv" "$T/np_stored.npz" "$T/np_deflated.npz" <<'EOF'
import sys, numpy as np
rows = np.loadtxt(sys.argv[1], delimiter=",", dtype=np.float32)
x, y = rows[:, :4], rows[:, 4].astype(np.int32)
np.savez(sys.argv[2], x=x, y=y)
np.savez_compressed(sys.argv[3], x=x, y=y)
EOF
    run "$HOOD" train "$T/np_deflated.npz" -o "$T/npd.hood" $L $S --epochs 1
    rc_d=$rc
    run "$HOOD" train "$T/np_stored.npz" -o "$T/nps.hood" $L $S --epochs 1
    "$HOOD" export-weights "$T/npd.hood" -o "$T/npd.w.npz" 2>/dev/null
    "$HOOD" export-weights "$T/nps.hood" -o "$T/nps.w.npz" 2>/dev/null
    if [ "$rc_d" -eq 0 ] && [ "$rc" -eq 0 ] && [ -s "$T/npd.w.npz" ] && cmp -s "$T/npd.w.npz" "$T/nps.w.npz"; then
        pass "$desc"
    else
        fail "$desc" "exit $rc_d (deflated), $rc (stored)"
    fi
else
    skip "$desc" "no python3-numpy (tests/test_npy.c reads the committed savez_compressed fixture)"
fi
expect_error "a deflate bomb is refused, naming the file and member" \
    "np_bomb_overflow.npz: member x.npy: inflates beyond its declared size" \
    "$HOOD" train "$DATA/np_bomb_overflow.npz" -o "$T/bomb.hood" $L --epochs 1 --verbose 0
[ -e "$T/bomb.hood" ] && fail "... and writes no model" || pass "... and writes no model"
make_csv "$T/wide_train.csv" 16 6
expect_error "--init-weights with the wrong shapes" "e1.npz" "$HOOD" train "$T/wide_train.csv" -o "$T/bad.hood" $L --init-weights "$T/e1.npz"

# Early stopping: a min-delta no epoch can reach stops after patience + 1 epochs.
run "$HOOD" train "$T/train.csv" -o "$T/es.hood" $L --epochs 50 --validation-split 0.25 \
    --early-stopping 1 --min-delta 10 --restore-best --verbose 0 --history "$T/es.csv"
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/es.csv")" -eq 3 ]; then
    pass "--early-stopping 1 with an unreachable --min-delta stops after 2 epochs"
else
    fail "--early-stopping 1 with an unreachable --min-delta stops after 2 epochs" "$(cat "$T/es.csv" 2>/dev/null)"
fi
run "$HOOD" train "$T/train.csv" -o "$T/vd.hood" $L --epochs 1 --validation-data "$T/small.csv" --history "$T/vd.csv" --verbose 0
if [ "$rc" -eq 0 ] && [ "$(awk -F, 'NR == 2 && $4 != "" && $5 != ""' "$T/vd.csv" | wc -l)" -eq 1 ]; then
    pass "--validation-data FILE.csv fills val_loss/val_accuracy"
else
    fail "--validation-data FILE.csv fills val_loss/val_accuracy"
fi
expect_error "--validation-data of the wrong width names the file" "wide.csv" "$HOOD" train "$T/train.csv" -o "$T/vd2.hood" $L --validation-data "$T/wide.csv"

# Checkpoint + resume = one uninterrupted run (Adam: optimizer state must survive too).
A="--optimizer adam --batch-size 16 --seed 7 --verbose 0"
run "$HOOD" train "$T/train.csv" -o "$T/full.hood" $L $A --epochs 4
run "$HOOD" train "$T/train.csv" -o "$T/half.hood" $L $A --epochs 2 --checkpoint "$T/ck.hood"
ck_rc=$rc
run "$HOOD" train "$T/train.csv" -o "$T/resumed.hood" $L $A --epochs 4 --resume "$T/ck.hood"
"$HOOD" export-weights "$T/full.hood" -o "$T/full.npz" 2>/dev/null
"$HOOD" export-weights "$T/resumed.hood" -o "$T/resumed.npz" 2>/dev/null
if [ "$ck_rc" -eq 0 ] && [ "$rc" -eq 0 ] && [ -s "$T/full.npz" ] && cmp -s "$T/full.npz" "$T/resumed.npz"; then
    pass "checkpoint after 2 epochs + --resume to 4 = 4 uninterrupted epochs (weights bit-identical)"
else
    fail "checkpoint after 2 epochs + --resume to 4 = 4 uninterrupted epochs (weights bit-identical)"
fi
run "$HOOD" info "$T/resumed.hood"
if grep -q "4 epochs" "$T/out"; then pass "a resumed model keeps the whole history"; else fail "a resumed model keeps the whole history"; fi

# Signals. The reference is 12 uninterrupted epochs of 1,250 batches. The SIGTERM and SIGINT
# runs get their signal from the test-only shim tests/kill_at.c just before their 9,000th sgemm
# (about 5 per batch: inside epoch 2, after the first checkpoint), the same moment on any
# machine under any load; without the shim (HOOD_KILL_AT_SHIM) those cases are skipped.
make_csv "$T/big.csv" 10000 64
B="--layers 256:relu,1:sigmoid --optimizer adam --batch-size 8 --seed 1 --verbose 0"
"$HOOD" train "$T/big.csv" -o "$T/ref.hood" $B --epochs 12 >/dev/null 2>&1
"$HOOD" export-weights "$T/ref.hood" -o "$T/ref.npz" >/dev/null 2>&1

wait_for() { # FILE: up to 60 s
    local i
    for i in $(seq 3000); do
        [ -s "$1" ] && return 0
        sleep 0.02
    done
    return 1
}

# signalled SIG CMD...: runs CMD with SIG sent to it just before its 9,000th sgemm.
have_shim=0
[ -n "${HOOD_KILL_AT_SHIM:-}" ] && [ -r "$HOOD_KILL_AT_SHIM" ] && have_shim=1
signalled() {
    local sig=$1
    shift
    LD_PRELOAD=$HOOD_KILL_AT_SHIM HOOD_TEST_KILL_AT=sgemm:9000 HOOD_TEST_SIGNAL=$sig \
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "$@"
}

if [ "$have_shim" -eq 1 ]; then
    # SIGTERM: the batch finishes, the checkpoint is written, exit 143, no model; resuming ends
    # bit-identical to the uninterrupted run (the position inside the epoch is kept).
    signalled TERM "$HOOD" train "$T/big.csv" -o "$T/sig.hood" $B --epochs 12 \
        --checkpoint "$T/sigck.hood" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 143 ] && [ ! -e "$T/sig.hood" ] && "$HOOD" info "$T/sigck.hood" >/dev/null 2>&1 &&
        no_leftovers "$T"; then
        pass "SIGTERM during training exits 143 with a valid checkpoint and no model"
    else
        fail "SIGTERM during training exits 143 with a valid checkpoint and no model" "exit $rc"
    fi
    run "$HOOD" train "$T/big.csv" -o "$T/sigres.hood" $B --epochs 12 --resume "$T/sigck.hood"
    "$HOOD" export-weights "$T/sigres.hood" -o "$T/sigres.npz" >/dev/null 2>&1
    if [ "$rc" -eq 0 ] && [ -s "$T/ref.npz" ] && cmp -s "$T/ref.npz" "$T/sigres.npz"; then
        pass "SIGTERM mid-epoch + --resume = uninterrupted run (weights bit-identical)"
    else
        fail "SIGTERM mid-epoch + --resume = uninterrupted run (weights bit-identical)" "exit $rc"
    fi

    # SIGINT: the same, exit 130.
    signalled INT "$HOOD" train "$T/big.csv" -o "$T/int.hood" $B --epochs 12 \
        --checkpoint "$T/intck.hood" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 130 ] && [ ! -e "$T/int.hood" ] && "$HOOD" info "$T/intck.hood" >/dev/null 2>&1; then
        pass "SIGINT during training exits 130 with a valid checkpoint"
    else
        fail "SIGINT during training exits 130 with a valid checkpoint" "exit $rc"
    fi
else
    for c in "SIGTERM during training" "SIGTERM + --resume" "SIGINT during training"; do
        skip "$c" "HOOD_KILL_AT_SHIM (tests/kill_at.c) not set"
    done
fi

# SIGKILL at random moments (maybe inside a checkpoint write), three times in a row, each run
# resuming from what the last one left: the checkpoint on disk is always a whole one, and the
# final resume ends bit-identical to the uninterrupted run.
for attempt in 1 2 3; do
    resume=()
    [ -s "$T/killck.hood" ] && resume=(--resume "$T/killck.hood")
    "$HOOD" train "$T/big.csv" -o "$T/kill.hood" $B --epochs 12 --checkpoint "$T/killck.hood" \
        "${resume[@]}" >/dev/null 2>&1 &
    pid=$!
    wait_for "$T/killck.hood"
    sleep "0.0$((RANDOM % 10))"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$T"/*.tmp.* # what a killed writer (checkpoint or model) leaves; never read
done
run "$HOOD" train "$T/big.csv" -o "$T/killres.hood" $B --epochs 12 --resume "$T/killck.hood"
"$HOOD" export-weights "$T/killres.hood" -o "$T/killres.npz" >/dev/null 2>&1
if [ "$rc" -eq 0 ] && cmp -s "$T/ref.npz" "$T/killres.npz"; then
    pass "3 x SIGKILL at random moments + --resume = uninterrupted run (bit-identical)"
else
    fail "3 x SIGKILL at random moments + --resume = uninterrupted run (bit-identical)" "exit $rc"
fi

# ---- images: dataset, train on a folder, predict on files and folders ----------------------

if [ "$have_vips" -eq 1 ]; then
    run "$HOOD" dataset "$T/img" -o "$T/img.csv" --image-size 8x8 --no-shuffle --quiet
    if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/img.csv")" -eq 12 ] &&
        [ "$(head -1 "$T/img.csv" | awk -F, '{print NF}')" -eq 65 ]; then
        pass "dataset -> CSV: 12 rows of 64 pixels + label"
    else
        fail "dataset -> CSV: 12 rows of 64 pixels + label"
    fi
    run "$HOOD" dataset "$T/img" -o "$T/split.npz" --image-size 8x8 --validation-split 0.25 \
        --subset both --seed 5 --block-untrusted
    if [ "$rc" -eq 0 ] && [ -s "$T/split.train.npz" ] && [ -s "$T/split.val.npz" ] &&
        [ ! -e "$T/split.npz" ]; then
        pass "dataset --subset both writes OUT's halves .train.npz and .val.npz"
    else
        fail "dataset --subset both writes OUT's halves .train.npz and .val.npz"
    fi
    expect_error "dataset: empty folder" "emptydir" "$HOOD" dataset "$T/emptydir" -o "$T/e.csv"
    [ -e "$T/e.csv" ] && fail "an empty folder leaves no output" || pass "an empty folder leaves no output"
    expect_usage "dataset: --validation-split without --subset" "$HOOD" dataset "$T/img" -o "$T/v.npz" --subset both
    # Without shuffling a split needs no seed (Keras asks for one only when shuffling): the
    # validation half is the last quarter of the sorted files, light/l3..l5, row for row.
    run "$HOOD" dataset "$T/img" -o "$T/ns.csv" --image-size 8x8 --no-shuffle \
        --validation-split 0.25 --subset both --quiet
    if [ "$rc" -eq 0 ] && [ -s "$T/ns.val.csv" ] && [ "$(head -9 "$T/img.csv")" = "$(cat "$T/ns.train.csv")" ] &&
        [ "$(tail -3 "$T/img.csv")" = "$(cat "$T/ns.val.csv")" ]; then
        pass "dataset --no-shuffle --validation-split without --seed: the last files are validation"
    else
        fail "dataset --no-shuffle --validation-split without --seed: the last files are validation"
    fi
    run "$HOOD" train "$T/img" -o "$T/nsv.hood" --image-size 8x8 --layers 4:tanh,1:sigmoid \
        --no-shuffle --validation-split 0.25 --epochs 2 --verbose 2 --quiet
    if [ "$rc" -eq 0 ] && [ "$(grep -c 'val_accuracy: [0-9.]* - val_loss: [0-9.]*$' "$T/out")" -eq 2 ]; then
        pass "train on a folder --no-shuffle --validation-split without --seed"
    else
        fail "train on a folder --no-shuffle --validation-split without --seed"
    fi

    run "$HOOD" train "$T/img" -o "$T/img.hood" --image-size 8x8 --layers 4:tanh,1:sigmoid \
        --optimizer sgd --learning-rate 0.5 --epochs 20 --batch-size 4 --verbose 0 --quiet
    if [ "$rc" -eq 0 ]; then pass "train on an image folder"; else fail "train on an image folder"; fi
    run "$HOOD" info "$T/img.hood"
    if grep -q "8x8 grayscale" "$T/out" && grep -q "dark, light" "$T/out"; then
        pass "info: the stored preprocessing and class names"
    else
        fail "info: the stored preprocessing and class names"
    fi
    run "$HOOD" evaluate "$T/img.hood" "$T/img" --json --quiet
    if [ "$rc" -eq 0 ] && grep -q '"accuracy": 1[,}]' "$T/out"; then
        pass "evaluate on the folder: the two classes are learnt"
    else
        fail "evaluate on the folder: the two classes are learnt"
    fi
    run "$HOOD" predict "$T/img.hood" "$T/img/light/l2.png"
    one=$(cat "$T/out")
    run "$HOOD" predict "$T/img.hood" "$T/img"
    in_folder=$(grep "light/l2.png" "$T/out")
    if [ -n "$one" ] && [ "$one" = "$in_folder" ] && [ "$(wc -l <"$T/out")" -eq 12 ]; then
        pass "predict on an image = predict on it inside its folder"
    else
        fail "predict on an image = predict on it inside its folder" "$one" "$in_folder"
    fi
    # The same image as row 8 of the dataset (sorted: dark d0..d5, light l0..l5).
    "$HOOD" dataset "$T/img" -o "$T/rows.npz" --image-size 8x8 --no-shuffle --quiet
    run "$HOOD" predict "$T/img.hood" "$T/rows.npz"
    row=$(grep '^.*rows\.npz\[8\]: ' "$T/out" | sed 's/^.*: //')
    if [ -n "$row" ] && [ "${one#*: }" = "$row" ]; then
        pass "predict on an image = predict on its row of a hood dataset .npz"
    else
        fail "predict on an image = predict on its row of a hood dataset .npz" "$one" "$row"
    fi
    if echo "$one" | grep -qE 'l2\.png: light \((0\.[5-9][0-9]{3}|1\.0000)\)$'; then
        pass "predict prints 'PATH: CLASS (p)' with the class name"
    else
        fail "predict prints 'PATH: CLASS (p)' with the class name" "$one"
    fi
    run "$HOOD" predict "$T/img.hood" "$T/newimg/new.png" --format csv --block-untrusted
    if [ "$rc" -eq 0 ] && [ "$(head -1 "$T/out")" = "path,class,probability" ] &&
        grep -qE '^.*new\.png,light,[01]\.[0-9]{6}$' "$T/out"; then
        pass "predict --format csv"
    else
        fail "predict --format csv"
    fi
    printf 'not an image' >"$T/newimg/broken.png"
    run "$HOOD" predict "$T/img.hood" "$T/newimg"
    if [ "$rc" -eq 1 ] && grep -q "new.png: light" "$T/out" && grep -q "broken.png" "$T/err"; then
        pass "predict on a folder with a broken image: the good one printed, the bad one reported"
    else
        fail "predict on a folder with a broken image: the good one printed, the bad one reported"
    fi
    expect_error "dataset: a huge --image-size fails before allocating" "65535" "$HOOD" dataset "$T/img" -o "$T/huge.npz" --image-size 65535x65535 --color-mode rgba --quiet
    [ -e "$T/huge.npz" ] && fail "... and writes nothing" || pass "... and writes nothing"
    # numpy.load must open what hood writes, in every label mode: x float32 (12, 64) equal to
    # the CSV of the same run and (8x8 is the images' own size: no resampling) to the PNGs'
    # bytes / 255 as `vips csvsave` reads them (rows 0 and 11: dark/d0, light/l5), and y as
    # Keras gives it: int32 (n,), one-hot float32 (n, 2), binary float32 (n, 1), or none.
    vips csvsave "$T/img/dark/d0.png" "$T/d0.px"
    vips csvsave "$T/img/light/l5.png" "$T/l5.px"
    have_numpy=0
    /usr/bin/python3 -c 'import numpy' 2>/dev/null && have_numpy=1
    for mode in int categorical binary none; do
        desc="dataset --label-mode $mode: numpy.load reads the .npz, x = the CSV's = pixels/255, y exact"
        if [ "$have_numpy" -eq 0 ]; then
            skip "$desc" "no python3-numpy (scripts/setup --core installs it)"
            continue
        fi
        run "$HOOD" dataset "$T/img" -o "$T/lm.$mode.npz" --image-size 8x8 --label-mode "$mode" --no-shuffle --quiet
        rc_npz=$rc
        run "$HOOD" dataset "$T/img" -o "$T/lm.$mode.csv" --image-size 8x8 --label-mode "$mode" --no-shuffle --quiet
        if [ "$rc_npz" -eq 0 ] && [ "$rc" -eq 0 ] && /usr/bin/python3 - "$mode" "$T/lm.$mode.npz" \
            "$T/lm.$mode.csv" "$T/d0.px" "$T/l5.px" >"$T/out" 2>"$T/err" <<'EOF'; then
import sys, numpy as np
mode, npz, csv, d0, l5 = sys.argv[1:]
f = np.load(npz)
assert sorted(f.files) == (["preprocess", "x"] if mode == "none"
                           else ["class_names", "preprocess", "x", "y"]), f.files
assert list(f["preprocess"])[:3] == ["height=8", "width=8", "color_mode=grayscale"], f["preprocess"]
x = f["x"]
assert x.dtype == np.float32 and x.shape == (12, 64) and x.flags.c_contiguous, (x.dtype, x.shape)
rows = np.loadtxt(csv, delimiter=",", ndmin=2)
width = {"int": 1, "categorical": 2, "binary": 1, "none": 0}[mode]
assert rows.shape == (12, 64 + width), rows.shape
# The CSV prints shortest round-trip floats: back in float32 they are x, bit for bit.
assert np.array_equal(x, rows[:, :64].astype(np.float32)), "x differs from the CSV"
for r, px in ((0, d0), (11, l5)):
    u8 = np.loadtxt(px, delimiter="\t").astype(np.uint8)
    assert u8.shape == (8, 8) and u8.min() < u8.max(), u8
    assert np.array_equal(x[r], u8.reshape(-1).astype(np.float32) / 255), (r, x[r], u8)
classes = np.array([0] * 6 + [1] * 6)
if mode != "none":
    assert f["class_names"].dtype.kind == "U" and list(f["class_names"]) == ["dark", "light"]
    y = f["y"]
if mode == "int":
    assert y.dtype == np.int32 and y.shape == (12,), (y.dtype, y.shape)
    assert np.array_equal(y, classes) and np.array_equal(y, rows[:, 64]), y
elif mode == "categorical":
    assert y.dtype == np.float32 and y.shape == (12, 2), (y.dtype, y.shape)
    assert np.array_equal(y, np.eye(2, dtype=np.float32)[classes]), y
    assert np.array_equal(y, rows[:, 64:]), y
elif mode == "binary":
    assert y.dtype == np.float32 and y.shape == (12, 1), (y.dtype, y.shape)
    assert np.array_equal(y[:, 0], classes.astype(np.float32)), y
    assert np.array_equal(y, rows[:, 64:]), y
EOF
            pass "$desc"
        else
            fail "$desc" "exit $rc_npz (.npz), $rc (.csv)"
        fi
    done
    desc="dataset --compress: numpy.load reads the deflated .npz, x bit-identical to the stored run"
    if [ "$have_numpy" -eq 0 ]; then
        skip "$desc" "no python3-numpy (scripts/setup --core installs it)"
    else
        run "$HOOD" dataset "$T/img" -o "$T/st.npz" --image-size 8x8 --no-shuffle --quiet
        rc_st=$rc
        run "$HOOD" dataset "$T/img" -o "$T/df.npz" --image-size 8x8 --no-shuffle --quiet --compress
        if [ "$rc_st" -eq 0 ] && [ "$rc" -eq 0 ] && /usr/bin/python3 - "$T/st.npz" "$T/df.npz" \
            >"$T/out" 2>"$T/err" <<'EOF'; then
import sys, zipfile, numpy as np
stored, deflated = sys.argv[1:]
z = zipfile.ZipFile(deflated)
assert z.testzip() is None
assert [i.compress_type for i in z.infolist()] == [zipfile.ZIP_DEFLATED] * 4, z.infolist()
assert all(i.compress_type == zipfile.ZIP_STORED for i in zipfile.ZipFile(stored).infolist())
a, b = np.load(stored), np.load(deflated)
assert a.files == b.files, (a.files, b.files)
assert a["x"].dtype == b["x"].dtype == np.float32 and a["x"].shape == b["x"].shape == (12, 64)
assert np.array_equal(a["x"].view(np.uint32), b["x"].view(np.uint32)), "x differs"
for k in ("y", "class_names"):
    assert np.array_equal(a[k], b[k]), k
EOF
            pass "$desc"
        else
            fail "$desc" "exit $rc_st (stored), $rc (--compress)"
        fi
    fi
    # A labels file: relative paths and class indices instead of folder names (here: swapped).
    (cd "$T/img" && for f in dark/*.png; do echo "$f,1"; done; for f in light/*.png; do echo "$f,0"; done) >"$T/labels.txt"
    run "$HOOD" dataset "$T/img" -o "$T/lab.csv" --image-size 2x2 --labels "$T/labels.txt" --no-shuffle --header --quiet
    # Line 1 is the "# hood:" line (size, colour mode, ...), line 2 the header.
    if [ "$rc" -eq 0 ] && [ "$(sed -n 2p "$T/lab.csv")" = "x1,x2,x3,x4,y" ] &&
        head -1 "$T/lab.csv" | grep -q '^# hood: height=2 width=2 color_mode=grayscale ' &&
        [ "$(sed -n 3p "$T/lab.csv" | awk -F, '{print $NF}')" = "1" ] && [ "$(wc -l <"$T/lab.csv")" -eq 14 ]; then
        pass "dataset --labels FILE --header: labels from the file, a header row"
    else
        fail "dataset --labels FILE --header: labels from the file, a header row"
    fi
    # One-hot labels from a folder: the loss defaults to categorical_crossentropy.
    run "$HOOD" train "$T/img" -o "$T/cce.hood" --image-size 8x8 --label-mode categorical \
        --layers 2:softmax --epochs 1 --verbose 0 --quiet
    if [ "$rc" -eq 0 ] && "$HOOD" info "$T/cce.hood" | grep -q "Loss: *categorical_crossentropy"; then
        pass "train --label-mode categorical: the loss defaults to categorical_crossentropy"
    else
        fail "train --label-mode categorical: the loss defaults to categorical_crossentropy"
    fi
    run "$HOOD" train "$T/img" -o "$T/vd.hood" --image-size 8x8 --layers 4:tanh,1:sigmoid \
        --validation-data "$T/img" --epochs 2 --verbose 2 --quiet
    if [ "$rc" -eq 0 ] && [ "$(grep -c 'val_accuracy: [0-9.]* - val_loss: [0-9.]*$' "$T/out")" -eq 2 ]; then
        pass "train --validation-data FOLDER reports val_accuracy and val_loss per epoch"
    else
        fail "train --validation-data FOLDER reports val_accuracy and val_loss per epoch"
    fi
    # BMP goes through libvips' ImageMagick loader, which is marked untrusted.
    mkdir -p "$T/bmp/dark" "$T/bmp/light"
    cp "$T/img/dark/d0.png" "$T/bmp/dark/"
    cp "$T/img/light/l0.png" "$T/bmp/light/"
    if vips copy "$T/img/dark/d1.png" "$T/bmp/dark/d1.bmp" 2>/dev/null; then
        expect_rc "a BMP is read without --block-untrusted" 0 "$HOOD" predict "$T/img.hood" "$T/bmp/dark/d1.bmp"
        expect_error "predict --block-untrusted refuses the BMP" "d1.bmp" "$HOOD" predict "$T/img.hood" "$T/bmp/dark/d1.bmp" --block-untrusted
        expect_error "dataset --block-untrusted --strict refuses the BMP" "d1.bmp" "$HOOD" dataset "$T/bmp" -o "$T/bmp.csv" --image-size 8x8 --block-untrusted --strict --quiet
    else
        for t in "BMP read" "predict --block-untrusted" "dataset --block-untrusted"; do
            skip "$t" "this libvips cannot write BMP"
        done
    fi
    # --strict on a folder with a broken image: exit 1 naming it; an existing OUT (both halves
    # too) stays byte-identical.
    mkdir -p "$T/broken/a" "$T/broken/b"
    cp "$T/img/dark/d0.png" "$T/img/dark/d1.png" "$T/broken/a/"
    cp "$T/img/light/l0.png" "$T/broken/b/"
    printf '\x89PNG\r\n\x1a\n truncated' >"$T/broken/b/bad.png"
    printf 'old\n' >"$T/old.csv"
    printf 'old train\n' >"$T/old.train.csv"
    cp "$T/old.csv" "$T/old.csv.orig"
    cp "$T/old.train.csv" "$T/old.train.csv.orig"
    expect_error "dataset --strict names the broken image" "bad.png" "$HOOD" dataset "$T/broken" -o "$T/old.csv" --image-size 4x4 --strict --quiet
    run "$HOOD" dataset "$T/broken" -o "$T/old.csv" --image-size 4x4 --strict --quiet --validation-split 0.3 --subset both --seed 1
    if [ "$rc" -eq 1 ] && cmp -s "$T/old.csv" "$T/old.csv.orig" && cmp -s "$T/old.train.csv" "$T/old.train.csv.orig" &&
        [ ! -e "$T/old.val.csv" ] && ! ls "$T" | grep -q '^old\..*\.tmp\.'; then
        pass "a failed dataset leaves existing outputs byte-identical and no temporaries"
    else
        fail "a failed dataset leaves existing outputs byte-identical and no temporaries"
    fi
    run "$HOOD" dataset "$T/broken" -o "$T/skip.csv" --image-size 4x4
    if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/skip.csv")" -eq 3 ] && grep -q "bad.png" "$T/err"; then
        pass "without --strict a broken image is skipped and reported"
    else
        fail "without --strict a broken image is skipped and reported"
    fi
    # The Keras-style messages, without --quiet: stderr holds exactly these lines, in order.
    # expect_messages DESC LINE...: exit 0 and stderr is LINE... one for one; a LINE ending in
    # '*' is a prefix that must go on with a reason (libvips' words, not pinned here).
    expect_messages() {
        local desc=$1 got=() i=0 want why=""
        shift
        mapfile -t got <"$T/err"
        if [ "$rc" -ne 0 ]; then
            why="exit $rc"
        elif [ ${#got[@]} -ne $# ]; then
            why="${#got[@]} stderr lines, wanted $#"
        else
            for want in "$@"; do
                if [[ $want == *'*' ]]; then
                    [[ ${got[i]} == "${want%\*}"[![:space:]]* ]] || why="line $((i + 1)) does not start '${want%\*}' and give a reason"
                else
                    [ "${got[i]}" = "$want" ] || why="line $((i + 1)) is not '$want'"
                fi
                i=$((i + 1))
            done
        fi
        if [ -z "$why" ]; then pass "$desc"; else fail "$desc" "$why"; fi
    }
    run "$HOOD" dataset "$T/broken" -o "$T/msg.csv" --image-size 4x4
    expect_messages "dataset messages: Found N files belonging to K classes, the skip, the count" \
        "Found 4 files belonging to 2 classes." \
        "Skipped $T/broken/b/bad.png: *" \
        "Skipped 1 unreadable file."
    run "$HOOD" dataset "$T/broken" -o "$T/msg.npz" --image-size 4x4 --validation-split 0.5 \
        --subset both --seed 1
    expect_messages "dataset messages with --subset both: Using M files for training/validation" \
        "Found 4 files belonging to 2 classes." \
        "Using 2 files for training." \
        "Using 2 files for validation." \
        "Skipped $T/broken/b/bad.png: *" \
        "Skipped 1 unreadable file."
    # Unshuffled, the last quarter (b/l0.png) is validation: bad.png stays in training.
    run "$HOOD" dataset "$T/broken" -o "$T/msgt.csv" --image-size 4x4 --validation-split 0.25 \
        --subset training --no-shuffle
    expect_messages "dataset messages with --subset training: only the training line" \
        "Found 4 files belonging to 2 classes." \
        "Using 3 files for training." \
        "Skipped $T/broken/b/bad.png: *" \
        "Skipped 1 unreadable file."
    mkdir -p "$T/broken2"
    cp -r "$T/broken/a" "$T/broken/b" "$T/broken2/"
    : >"$T/broken2/a/zero.png"
    run "$HOOD" dataset "$T/broken2" -o "$T/msg2.csv" --image-size 4x4 --no-shuffle
    expect_messages "dataset messages: two unreadable files, in file order, 'Skipped 2 unreadable files.'" \
        "Found 5 files belonging to 2 classes." \
        "Skipped $T/broken2/a/zero.png: *" \
        "Skipped $T/broken2/b/bad.png: *" \
        "Skipped 2 unreadable files."
    # libvips' own GLib warnings on a cut PNG ("VIPS-WARNING **: not enough data") would repeat
    # the skip line between hood's lines: hood mutes them unless the user set VIPS_WARNING.
    mkdir -p "$T/noisy/a" "$T/noisy/b"
    cp "$T/img/dark/d0.png" "$T/noisy/a/"
    cp "$T/img/light/l0.png" "$T/noisy/b/"
    head -c 60 "$T/img/dark/d1.png" >"$T/noisy/a/cut.png"
    run env -u VIPS_WARNING "$HOOD" dataset "$T/noisy" -o "$T/noisy.csv" --image-size 4x4 --no-shuffle
    expect_messages "dataset messages with VIPS_WARNING unset: no libvips warnings between them" \
        "Found 3 files belonging to 2 classes." \
        "Skipped $T/noisy/a/cut.png: *" \
        "Skipped 1 unreadable file."
    # A 3-way softmax on the two folders, to exercise --top.
    run "$HOOD" train "$T/img" -o "$T/soft.hood" --image-size 8x8 --layers 3:softmax \
        --optimizer adam --epochs 2 --verbose 0 --quiet
    run "$HOOD" predict "$T/soft.hood" "$T/img/dark/d0.png" --top 2
    if [ "$rc" -eq 0 ] && grep -qE '^.*d0\.png: [a-z0-9]+ \([01]\.[0-9]{4}\), [a-z0-9]+ \([01]\.[0-9]{4}\)$' "$T/out"; then
        pass "predict --top 2"
    else
        fail "predict --top 2"
    fi
else
    for t in "dataset -> CSV" "dataset --subset both" "dataset: empty folder" "empty folder output" \
        "dataset usage" "dataset --no-shuffle split" "train --no-shuffle folder split" "train on folder" "info preprocessing" "evaluate folder" \
        "predict image = folder" "predict image = npz row" "predict format" "predict csv" \
        "numpy int" "numpy categorical" "numpy binary" "numpy none" "numpy --compress" \
        "messages" "messages --subset both" "messages --subset training" "messages plural" "messages VIPS_WARNING unset" \
        "predict broken" "predict --top"; do
        skip "$t" "no vips CLI (libvips-tools)"
    done
fi

echo "1..$n"
exit 0
