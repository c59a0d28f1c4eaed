#!/usr/bin/env bash
# test_keras_cli.sh — TAP tests of what a Keras user also expects from `hood` (issue 13):
# learning-rate schedules against Keras' formulas, ModelCheckpoint(save_best_only) as
# --save-best, learning curves as an SVG (train --plot, hood plot), friendlier parsing (blanks,
# hints, usage errors exit 2, hood help CMD, swapped operands), one-class folders and the
# class list of hood dataset.
# Usage: HOOD=/path/to/hood tests/cli/test_keras_cli.sh  (the data is made with
# /usr/bin/python3 + NumPy + Pillow; skipped without them)
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
PY=/usr/bin/python3
if [ ! -x "$PY" ] || ! "$PY" -c 'import numpy, PIL' 2>/dev/null; then
    echo "1..0 # SKIP needs /usr/bin/python3 with NumPy and Pillow to make the data"
    exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-keras-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export VIPS_WARNING=0

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"
# shellcheck source=run.sh
. "$(dirname "$0")/run.sh"

# 200 rows of 4 features, a label from the first two; two 8x8 image classes and a one-class
# folder.
"$PY" - "$T" <<'PYEOF'
import sys, os
import numpy as np
from PIL import Image
t = sys.argv[1]
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 4))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
np.savetxt(os.path.join(t, "d.csv"), np.column_stack([X, y]), delimiter=",", fmt="%.6f")
for c, base in (("cat", 40), ("dog", 200)):
    for sub in ("img", "one") if c == "cat" else ("img",):
        os.makedirs(os.path.join(t, sub, c), exist_ok=True)
        for i in range(6):
            a = (base + rng.integers(-30, 30, (8, 8))).clip(0, 255).astype("uint8")
            Image.fromarray(a, "L").save(os.path.join(t, sub, c, "%d.png" % i))
PYEOF
D=$T/d.csv
TRAIN=(train "$D" --layers 8:relu,1:sigmoid --verbose 0)

# check_rates CSV KIND ARGS...: the learning_rate column equals Keras' formula at each epoch's
# end (step = optimizer steps done; 160 training rows / batch 32 = 5 steps per epoch).
check_rates() {
    "$PY" - "$@" <<'PYEOF'
import sys, csv, math
path, kind, args = sys.argv[1], sys.argv[2], [float(a) for a in sys.argv[3:]]
rows = list(csv.DictReader(open(path)))
lr0, steps_per_epoch = 0.001, 5
def keras(step):
    if kind == "exponential":      # ExponentialDecay(lr0, decay_steps, rate), staircase=False
        decay_steps, rate = args
        return lr0 * rate ** (step / decay_steps)
    decay_steps, alpha = args      # CosineDecay(lr0, decay_steps, alpha)
    s = min(step, decay_steps)
    return lr0 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)
ok = len(rows) == 6
for r in rows:
    want = keras((int(r["epoch"]) + 1) * steps_per_epoch)
    got = float(r["learning_rate"])
    if abs(got - want) > 1e-6 * want + 1e-12:
        print("# epoch %s: learning_rate %r, Keras %r" % (r["epoch"], got, want))
        ok = False
sys.exit(0 if ok else 1)
PYEOF
}

# ---- learning-rate schedules ------------------------------------------------------------------
run "$HOOD" "${TRAIN[@]}" -o "$T/e.hood" --epochs 6 --validation-split 0.2 \
    --lr-schedule exponential:7:0.5 --history "$T/e.csv"
check "--lr-schedule exponential: the history's learning_rate is Keras' ExponentialDecay" \
    eval '[ $rc -eq 0 ] && check_rates "$T/e.csv" exponential 7 0.5'
run "$HOOD" "${TRAIN[@]}" -o "$T/c.hood" --epochs 6 --validation-split 0.2 \
    --lr-schedule cosine:20:0.1 --history "$T/c.csv"
check "--lr-schedule cosine: Keras' CosineDecay, past decay_steps it stays at alpha" \
    eval '[ $rc -eq 0 ] && check_rates "$T/c.csv" cosine 20 0.1'
run "$HOOD" "${TRAIN[@]}" -o "$T/c.hood" --epochs 2 --validation-split 0.2 \
    --lr-schedule exponential:5:0.5 --verbose 2
check "a schedule shows the rate in the epoch lines" \
    eval '[ $rc -eq 0 ] && out_has "^Epoch 1/2 .* - learning_rate: 5.0000e-04$" &&
          out_has "^Epoch 2/2 .* - learning_rate: 2.5000e-04$"'
# ReduceLROnPlateau: with a rate too small to move the loss, it halves after each PATIENCE
# epochs without an improvement of 1e-4 (Keras' min_delta).
run "$HOOD" "${TRAIN[@]}" -o "$T/p.hood" --epochs 6 --optimizer sgd --learning-rate 1e-9 \
    --monitor loss --reduce-lr-on-plateau 0.5:1 --history "$T/p.csv"
check "--reduce-lr-on-plateau 0.5:1: the rate halves after every epoch without improvement" \
    eval '[ $rc -eq 0 ] && "$PY" -c "
import csv, sys
r = [float(x[\"learning_rate\"]) for x in csv.DictReader(open(\"$T/p.csv\"))]
want = [1e-9 * 0.5 ** max(0, e - 1) for e in range(6)]
sys.exit(0 if all(abs(a - b) <= 1e-6 * b for a, b in zip(r, want)) and len(r) == 6 else 1)"'
run "$HOOD" "${TRAIN[@]}" -o "$T/x.hood" --lr-schedule linear:3
check "a bad --lr-schedule is a usage error" eval '[ $rc -eq 2 ] && err_has "exponential:DECAY_STEPS"'
run "$HOOD" "${TRAIN[@]}" -o "$T/x.hood" --reduce-lr-on-plateau 0.5:2
check "--reduce-lr-on-plateau on val_loss without validation data is a usage error" \
    eval '[ $rc -eq 2 ] && err_has "needs validation data"'

# ---- --save-best --------------------------------------------------------------------------------
run "$HOOD" "${TRAIN[@]}" -o "$T/b.hood" --epochs 12 --optimizer sgd --learning-rate 3 \
    --validation-split 0.3 --save-best --history "$T/b.csv"
"$HOOD" info "$T/b.hood" >"$T/info" 2>&1
best=$("$PY" -c "
import csv
r = list(csv.DictReader(open('$T/b.csv')))
v = [float(x['val_loss']) for x in r]
print(v.index(min(v)) + 1)" 2>/dev/null)
check "--save-best: -o holds the epoch of the least val_loss and hood info says so" \
    eval '[ $rc -eq 0 ] && grep -q "from the end of epoch $best (the best epoch" "$T/info"'
# the file's model is that epoch's: evaluating it on the held-out rows gives that val_loss
tail -n 60 "$D" >"$T/val.csv"
run "$HOOD" evaluate "$T/b.hood" "$T/val.csv" --json
check "--save-best: evaluate on the validation rows gives the best epoch's val_loss" \
    eval '[ $rc -eq 0 ] && "$PY" -c "
import csv, json, sys
r = list(csv.DictReader(open(\"$T/b.csv\")))
got = json.load(open(\"$T/out\"))[\"loss\"]
sys.exit(0 if abs(float(r[$best - 1][\"val_loss\"]) - got) < 1e-5 else 1)"'
run "$HOOD" "${TRAIN[@]}" -o "$T/x.hood" --save-best
check "--save-best monitoring val_loss without validation data is a usage error" \
    eval '[ $rc -eq 2 ] && err_has "save-best monitors val_loss, which needs validation data"'

# ---- learning curves ---------------------------------------------------------------------------
run "$HOOD" "${TRAIN[@]}" -o "$T/s.hood" --epochs 4 --validation-split 0.2 --plot "$T/s.svg"
check "train --plot writes an SVG with both panels, axes and a legend" \
    eval '[ $rc -eq 0 ] && grep -q "<svg" "$T/s.svg" && grep -q ">Loss<" "$T/s.svg" &&
          grep -q ">Accuracy<" "$T/s.svg" && grep -q ">val_loss<" "$T/s.svg" &&
          grep -q ">epoch<" "$T/s.svg" && [ "$(grep -c "<polyline" "$T/s.svg")" -eq 4 ]'
check "the SVG is well-formed XML" "$PY" -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$T/s.svg"
run "$HOOD" plot "$T/b.csv" -o "$T/b.svg"
check "hood plot HISTORY.csv -o CURVES.svg" \
    eval '[ $rc -eq 0 ] && [ "$(grep -c "<polyline" "$T/b.svg")" -eq 4 ] && ! ls "$T"/b.svg.tmp* 2>/dev/null'
printf 'epoch,loss\n0,abc\n' >"$T/bad.csv"
run "$HOOD" plot "$T/bad.csv" -o "$T/bad.svg"
check "hood plot: a bad cell names the file and line, nothing written" \
    eval '[ $rc -eq 1 ] && err_has "bad.csv: line 2" && [ ! -e "$T/bad.svg" ]'

# ---- friendlier parsing -------------------------------------------------------------------------
run "$HOOD" train "$D" -o "$T/l.hood" --layers "10:tanh, 1:sigmoid" --verbose 0
check "--layers \"10:tanh, 1:sigmoid\" (blanks) is accepted" eval '[ $rc -eq 0 ]'
run "$HOOD" train "$D" -o "$T/l.hood" --layers "10tanh,1:sigmoid"
check "--layers 10tanh: did you mean 10:tanh? (exit 2)" eval '[ $rc -eq 2 ] && err_has "did you mean 10:tanh?"'
run "$HOOD" train "$D" -o "$T/l.hood" --bogus
check "an unknown option says so" eval '[ $rc -eq 2 ] && err_has "unknown option --bogus"'
run "$HOOD" train "$D" -o "$T/l.hood" --layers
check "a missing value says so" eval '[ $rc -eq 2 ] && err_has "option --layers needs a value"'
bad=""
for f in "--alpha-background x" "--color-mode foo" "--image-size 0x3" "--threads -1" "--seed x"; do
    # shellcheck disable=SC2086
    "$HOOD" dataset "$T/img" -o "$T/o.npz" $f >/dev/null 2>&1
    a=$?
    # shellcheck disable=SC2086
    "$HOOD" train "$T/img" -o "$T/o.hood" --layers 2:softmax $f >/dev/null 2>&1
    b=$?
    [ $a -eq 2 ] && [ $b -eq 2 ] || bad="$bad [$f: dataset $a, train $b]"
done
"$HOOD" train "$D" -o "$T/o.hood" --layers 2:softmax --epochs x >/dev/null 2>&1 || a=$?
"$HOOD" evaluate "$T/l.hood" "$D" --batch-size 0 >/dev/null 2>&1 || b=$?
"$HOOD" predict "$T/l.hood" "$D" --top 0 >/dev/null 2>&1 || c=$?
[ "$a$b$c" = 222 ] || bad="$bad [train $a, evaluate $b, predict $c]"
check "every bad value is a usage error (exit 2)" eval '[ -z "$bad" ] || { echo "# $bad"; false; }'
"$HOOD" train --help >"$T/h1"
run "$HOOD" help train
check "hood help train = hood train --help" eval '[ $rc -eq 0 ] && cmp -s "$T/out" "$T/h1"'
run "$HOOD" predict "$D" "$T/l.hood"
check "hood predict DATA MODEL hints the order" \
    eval '[ $rc -eq 2 ] && err_has "did you mean: hood predict $T/l.hood $D?"'
run "$HOOD" evaluate "$D" "$T/l.hood"
check "hood evaluate DATA MODEL hints the order" \
    eval '[ $rc -eq 2 ] && err_has "did you mean: hood evaluate $T/l.hood $D?"'

# ---- one class, class names ---------------------------------------------------------------------
run "$HOOD" dataset "$T/one" -o "$T/one.npz" --image-size 8x8
check "a one-class folder is a warning naming the class" \
    eval '[ $rc -eq 0 ] && err_has "found 1 class: cat" && err_has "needs at least 2"'
run "$HOOD" dataset "$T/one" -o "$T/one.npz" --image-size 8x8 --label-mode binary
check "a one-class folder with --label-mode binary is an error naming the folder" \
    eval '[ $rc -eq 1 ] && err_has "one: label_mode binary needs exactly 2 classes" && err_has ": cat"'
run "$HOOD" dataset "$T/img" -o "$T/two.npz" --image-size 8x8
check "hood dataset prints 'Classes: 0 cat, 1 dog'" eval '[ $rc -eq 0 ] && out_has "^Classes: 0 cat, 1 dog$"'

# ---- hood train --init-weights W.npz --epochs 0: given weights packaged into a model ----------
# Keras' np.savez("w.npz", *model.get_weights()) names them arr_0, arr_1, ...: read by position.
run "$HOOD" train "$T/d.csv" -o "$T/src.hood" --layers 3:tanh,1:sigmoid --epochs 1 --verbose 0
run "$HOOD" export-weights "$T/src.hood" -o "$T/w.npz"
"$PY" -c 'import numpy as np, sys
w = np.load(sys.argv[1]); np.savez(sys.argv[2], *[w[k] * 2 for k in w.files])' "$T/w.npz" "$T/k.npz"
run "$HOOD" train "$T/d.csv" -o "$T/pk.hood" --layers 3:tanh,1:sigmoid --init-weights "$T/k.npz" \
    --epochs 0
pk_rc=$rc
run "$HOOD" export-weights "$T/pk.hood" -o "$T/pk.npz"
check "--epochs 0 --init-weights packages Keras' arr_0.. weights untrained, bit for bit" \
    eval '[ $pk_rc -eq 0 ] && [ $rc -eq 0 ] && "$PY" -c "import numpy as np, sys
k = np.load(sys.argv[1]); p = np.load(sys.argv[2])
sys.exit(0 if [a.tobytes() for a in (k[n] for n in k.files)] == [p[n].tobytes() for n in p.files] else 1)" "$T/k.npz" "$T/pk.npz"'
"$PY" -c 'import numpy as np, sys
w = np.load(sys.argv[1]); np.savez(sys.argv[2], *[w[k] for k in w.files], np.zeros(3))' "$T/w.npz" "$T/k5.npz"
run "$HOOD" train "$T/d.csv" -o "$T/pk5.hood" --layers 3:tanh,1:sigmoid --init-weights "$T/k5.npz" \
    --epochs 0
check "an extra arr_N is refused, naming it" eval '[ $rc -ne 0 ] && err_has "arr_4" && [ ! -e "$T/pk5.hood" ]'

# ---- --no-optimizer-state: the model for inference, without Adam's moments ------------------
run "$HOOD" train "$T/d.csv" -o "$T/full.hood" --layers 16:relu,1:sigmoid --optimizer adam \
    --epochs 2 --verbose 0
run "$HOOD" train "$T/d.csv" -o "$T/lean.hood" --layers 16:relu,1:sigmoid --optimizer adam \
    --epochs 2 --verbose 0 --no-optimizer-state
lean_rc=$rc
"$HOOD" evaluate "$T/full.hood" "$T/d.csv" --json >"$T/full.json" 2>/dev/null
"$HOOD" evaluate "$T/lean.hood" "$T/d.csv" --json >"$T/lean.json" 2>/dev/null
# 97 weights, Adam keeps 2 floats each: the file is 776 bytes smaller (give or take a header digit)
check "--no-optimizer-state: the same model, 2 x 97 floats smaller" \
    eval '[ $lean_rc -eq 0 ] && cmp -s "$T/full.json" "$T/lean.json" &&
          d=$(($(stat -c %s "$T/full.hood") - $(stat -c %s "$T/lean.hood"))) &&
          [ "$d" -ge 770 ] && [ "$d" -le 790 ]'

echo "1..$n"
