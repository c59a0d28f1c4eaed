#!/usr/bin/env bash
# test_metrics.sh — TAP tests of --metrics (train and evaluate), evaluate --confusion-matrix
# and train --class-weight: figures cross-checked with NumPy from `hood predict`'s
# probabilities, class names in the matrix, the weighted loss, usage errors and --help.
# Usage: HOOD=/path/to/hood tests/cli/test_metrics.sh   (NumPy cross-checks use
# /usr/bin/python3 and are skipped without it)
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-metrics-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"
# shellcheck source=run.sh
. "$(dirname "$0")/run.sh"
PY=/usr/bin/python3
HAVE_NUMPY=0
if [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null; then HAVE_NUMPY=1; fi

# 120 rows of two features, label x1 + x2/3 > 0.3 (binary), and a 3-class label by x1; a
# "# hood:" line names the binary classes. Deterministic (awk's arithmetic, no RNG).
awk 'BEGIN { for (i = 0; i < 120; i++) { a = sin(i * 1.7) ; b = cos(i * 2.3);
             printf "%.6f,%.6f,%d\n", a, b, (a + b / 3 > 0.3) } }' >"$T/b_rows.csv"
{ echo "# hood: class_names=neg,pos"; cat "$T/b_rows.csv"; } >"$T/b.csv"
awk 'BEGIN { for (i = 0; i < 120; i++) { a = sin(i * 1.7); b = cos(i * 2.3);
             printf "%.6f,%.6f,%d\n", a, b, (a > -0.4) + (a > 0.4) } }' >"$T/c.csv"
FIT=(--epochs 6 --verbose 0 --seed 3 --learning-rate 0.05)

run "$HOOD" train "$T/b.csv" -o "$T/b.hood" --layers 4:tanh,1:sigmoid "${FIT[@]}"
check "a binary model trains" test "$rc" -eq 0
run "$HOOD" train "$T/c.csv" -o "$T/c.hood" --layers 6:tanh,3:softmax "${FIT[@]}"
check "a 3-class model trains" test "$rc" -eq 0

# ---- evaluate --metrics ----------------------------------------------------------------------
run "$HOOD" evaluate "$T/b.hood" "$T/b.csv" --metrics accuracy,precision,recall,auc
check "evaluate --metrics: the line carries precision, recall and auc" \
    grep -Eq '^loss: [0-9.]+ - accuracy: [0-9.]+ - precision: [0-9.]+ - recall: [0-9.]+ - auc: [0-9.]+$' "$T/out"

# Keras' definitions recomputed by NumPy from hood predict's probabilities: thresholds 0.5,
# AUC over 200 thresholds (ROC, trapezoids), each output value one binary problem.
cat >"$T/check.py" <<'PYEOF'
import json, sys
import numpy as np
probs = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
rows = np.loadtxt(sys.argv[2], delimiter=",", ndmin=2, comments="#")
got = json.load(open(sys.argv[3]))
y = rows[:, -1].astype(int)
units = probs.shape[1]
truth = (y[:, None] == 1) if units == 1 else np.eye(units)[y].astype(bool)
p = probs.ravel(); t = truth.ravel()
pos = p > 0.5
prec = (pos & t).sum() / max((pos).sum(), 1); rec = (pos & t).sum() / max(t.sum(), 1)
th = np.array([-1e-7] + [(i + 1) / 199 for i in range(198)] + [1 + 1e-7])
tp = np.array([(p > x)[t].sum() for x in th], float); fp = np.array([(p > x)[~t].sum() for x in th], float)
tpr, fpr = tp / max(t.sum(), 1), fp / max((~t).sum(), 1)
auc = float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))
pred_cls = (probs[:, 0] > 0.5).astype(int) if units == 1 else probs.argmax(1)
k = max(units, 2)
cm = np.zeros((k, k), int)
for a, b in zip(y, pred_cls): cm[a, b] += 1
ok = (abs(got["precision"] - prec) < 1e-6 and abs(got["recall"] - rec) < 1e-6 and
      abs(got["auc"] - auc) < 1e-6 and got["confusion_matrix"] == cm.tolist())
f1 = [2 * cm[c, c] / (cm[c].sum() + cm[:, c].sum()) if cm[c].sum() + cm[:, c].sum() else 0 for c in range(k)]
ok = ok and all(abs(r["f1-score"] - f) < 1e-6 for r, f in zip(got["report"], f1))
print("ok" if ok else "mismatch %s %s %s %s %s" % (prec, rec, auc, cm.tolist(), f1))
PYEOF
for m in b c; do
    run "$HOOD" evaluate "$T/$m.hood" "$T/$m.csv" --metrics precision,recall,auc --confusion-matrix --json
    cp "$T/out" "$T/$m.json"
    if [ "$HAVE_NUMPY" = 0 ]; then
        skip "$m: evaluate --json metrics equal NumPy's Keras definitions" "no NumPy"
        continue
    fi
    "$HOOD" predict "$T/$m.hood" "$T/$m.csv" -o "$T/$m.pred.csv" >/dev/null 2>"$T/err"
    # the predictions file: one row per sample, the probabilities last (units of them)
    units=$([ "$m" = b ] && echo 1 || echo 3)
    grep -v '^[#a-z]' "$T/$m.pred.csv" | awk -F, -v u="$units" \
        '{ s = ""; for (i = NF - u + 1; i <= NF; i++) s = s (s == "" ? "" : ",") $i; print s }' \
        >"$T/$m.probs"
    r=$("$PY" "$T/check.py" "$T/$m.probs" "$T/$m.csv" "$T/$m.json" 2>&1)
    check "$m: evaluate --json precision/recall/auc/matrix/F1 equal NumPy's Keras definitions" \
        test "$r" = ok
    [ "$r" = ok ] || echo "#   $r"
done

# ---- --confusion-matrix -----------------------------------------------------------------------
run "$HOOD" evaluate "$T/b.hood" "$T/b.csv" --confusion-matrix
check "--confusion-matrix names the model's classes" \
    grep -Eq '^ +neg +[0-9]+ +[0-9]+$' "$T/out"
check "--confusion-matrix prints the report's averages and support" \
    grep -Eq '^ *weighted avg( +[0-9.]+){3} +120$' "$T/out"
total=$(grep -E '^ +(neg|pos) +[0-9]+ +[0-9]+$' "$T/out" | awk '{ s += $2 + $3 } END { print s }')
check "the matrix counts every sample once" test "$total" = 120
run "$HOOD" evaluate "$T/c.hood" "$T/c.csv" --confusion-matrix
check "a model without names labels the classes 0, 1, 2" grep -Eq '^ +2( +[0-9]+){3}$' "$T/out"

# ---- train --metrics ------------------------------------------------------------------------
run "$HOOD" train "$T/b.csv" -o "$T/m.hood" --layers 4:tanh,1:sigmoid --epochs 2 --verbose 2 \
    --seed 3 --validation-split 0.25 --metrics precision,auc --history "$T/h.csv"
check "train --metrics: epoch lines carry precision, auc and their val_ forms" \
    grep -Eq '^Epoch 2/2 .* - precision: [0-9.]+ - auc: [0-9.]+ - val_accuracy: .* - val_precision: [0-9.]+ - val_auc: [0-9.]+$' "$T/out"
check "--history gains the metric columns" \
    grep -q '^epoch,loss,accuracy,val_loss,val_accuracy,seconds,precision,auc,val_precision,val_auc,learning_rate$' "$T/h.csv"
val_auc=$(tail -n 1 "$T/out" | sed 's/.*val_auc: //')
run "$HOOD" evaluate "$T/m.hood" "$T/b.csv" --validation-split 0.25 --subset validation --metrics auc
check "the last epoch's val_auc is evaluate's auc on the held-out rows" \
    grep -q -- "- auc: $val_auc\$" "$T/out"

# ---- --class-weight ---------------------------------------------------------------------------
# One full batch: the first epoch's loss is at the initial weights, so weights 2:2 double it
# and 1:1 change nothing.
CW=(--layers 4:tanh,1:sigmoid --epochs 1 --batch-size 120 --verbose 0 --seed 5)
loss_of() { awk -F, 'NR == 2 { print $2 }' "$1"; }
"$HOOD" train "$T/b.csv" -o "$T/w0.hood" "${CW[@]}" --history "$T/w0.csv" 2>"$T/err"
"$HOOD" train "$T/b.csv" -o "$T/w1.hood" "${CW[@]}" --history "$T/w1.csv" --class-weight 0:1,1:1
"$HOOD" train "$T/b.csv" -o "$T/w2.hood" "${CW[@]}" --history "$T/w2.csv" --class-weight 0:2,1:2
check "--class-weight 0:1,1:1 is the unweighted loss" test "$(loss_of "$T/w0.csv")" = "$(loss_of "$T/w1.csv")"
check "--class-weight 0:2,1:2 doubles the loss" \
    awk -v a="$(loss_of "$T/w0.csv")" -v b="$(loss_of "$T/w2.csv")" \
    'BEGIN { d = b - 2 * a; exit !(d < 1e-5 && d > -1e-5 && a > 0) }'
# balanced: n / (2 * count) per class; the weighted loss equals it by hand from the counts
"$HOOD" train "$T/b.csv" -o "$T/wb.hood" "${CW[@]}" --history "$T/wb.csv" --class-weight balanced
n1=$(awk -F, '{ s += $3 } END { print s }' "$T/b_rows.csv")
w0=$(awk -v p="$n1" 'BEGIN { print 120 / (2 * (120 - p)) }')
w1=$(awk -v p="$n1" 'BEGIN { print 120 / (2 * p) }')
"$HOOD" train "$T/b.csv" -o "$T/wh.hood" "${CW[@]}" --history "$T/wh.csv" --class-weight "0:$w0,1:$w1"
check "--class-weight balanced = n_samples / (n_classes * count) per class" \
    awk -v a="$(loss_of "$T/wb.csv")" -v b="$(loss_of "$T/wh.csv")" \
    'BEGIN { d = a - b; exit !(d < 1e-5 && d > -1e-5) }'
check "and differs from the unweighted loss (the classes are unbalanced)" \
    test "$(loss_of "$T/wb.csv")" != "$(loss_of "$T/w0.csv")"

# ---- bad values ---------------------------------------------------------------------------------
run "$HOOD" evaluate "$T/b.hood" "$T/b.csv" --metrics accuracy,f2
check "an unknown metric is a usage error naming it" \
    test "$rc" -eq 2 -a -n "$(grep -- "unknown metric 'f2'" "$T/err")"
run "$HOOD" train "$T/b.csv" -o "$T/x.hood" "${CW[@]}" --class-weight 0:x
check "a bad --class-weight names the item" test "$rc" -ne 0 -a -n "$(grep -- "got '0:x'" "$T/err")"
run "$HOOD" train "$T/b.csv" -o "$T/x.hood" "${CW[@]}" --class-weight 0:1,5:2
check "a class beyond the model's is an error" err_has "class 5, but the model has 2 classes"
awk -F, '$3 == 0' "$T/b_rows.csv" >"$T/zeros.csv"
run "$HOOD" train "$T/zeros.csv" -o "$T/x.hood" "${CW[@]}" --class-weight balanced
check "balanced with a class without samples is an error naming it" err_has "class 1 has no samples"
check "nothing was written by the failed runs" test ! -e "$T/x.hood"

# ---- help -----------------------------------------------------------------------------------------
run "$HOOD" train --help
check "train --help documents --metrics and --class-weight" \
    test -n "$(grep -- '--metrics LIST' "$T/out")" -a -n "$(grep -- '--class-weight' "$T/out")"
run "$HOOD" evaluate --help
check "evaluate --help documents --metrics and --confusion-matrix" \
    test -n "$(grep -- '--metrics LIST' "$T/out")" -a -n "$(grep -- '--confusion-matrix' "$T/out")"

echo "1..$n"
