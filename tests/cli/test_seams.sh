#!/usr/bin/env bash
# test_seams.sh — TAP tests of the hand-offs between hood's commands (issue 13, defects 1-4 and
# 9): what `hood dataset` writes, `hood train`, `evaluate` and `predict` read whole — label
# columns, headers, unlabeled rows, the preprocessing and class names, predictions as data —
# and the seed's workflow by both routes (.npz and header CSV) down to a new image.
# Usage: HOOD=/path/to/hood tests/cli/test_seams.sh   (needs `vips` for the images; NumPy
# checks use /usr/bin/python3 and are skipped without it)
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-seams-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export VIPS_WARNING=0

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"
# shellcheck source=run.sh
. "$(dirname "$0")/run.sh"
lines_out() { [ "$(wc -l <"$T/out")" -eq "$1" ]; }

if ! command -v vips >/dev/null 2>&1; then
    echo "1..0 # SKIP no vips CLI (libvips-tools) to make the images"
    exit 0
fi
PY=/usr/bin/python3
HAVE_NUMPY=0
if [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null; then HAVE_NUMPY=1; fi

# Two classes of 8x8 greyscale ramps (12 images) and a new image of neither.
mkdir -p "$T/img/dark" "$T/img/light" "$T/new"
vips grey "$T/ramp.v" 8 8
for k in 0 1 2 3 4 5; do
    vips linear "$T/ramp.v" "$T/img/dark/d$k.png" 60 $((k * 6)) --uchar
    vips linear "$T/ramp.v" "$T/img/light/l$k.png" 60 $((150 + k * 6)) --uchar
done
vips linear "$T/ramp.v" "$T/new/new.png" 50 170 --uchar
FIT=(--epochs 4 --verbose 0 --seed 3)
DS=(--image-size 8x8 --quiet)

# ---- 1: one-hot label columns are known, never read as features ----------------------------
run "$HOOD" dataset "$T/img" -o "$T/cat.csv" --label-mode categorical --header "${DS[@]}"
run "$HOOD" train "$T/cat.csv" -o "$T/cat.hood" --layers 2:softmax "${FIT[@]}"
run "$HOOD" info "$T/cat.hood"
check "1: a one-hot CSV with hood's header trains on 64 inputs, not 65" out_has "Input: *64 values"
tail -n +3 "$T/cat.csv" >"$T/cat_nohdr.csv" # the same rows, no '# hood:' line, no header
run "$HOOD" train "$T/cat_nohdr.csv" -o "$T/cat2.hood" --layers 2:softmax --label-columns 2 \
    "${FIT[@]}"
if [ "$rc" -eq 0 ]; then "$HOOD" info "$T/cat2.hood" >"$T/out" 2>"$T/err"; fi
check "1: --label-columns 2 reads a foreign one-hot CSV's last two columns as labels" \
    out_has "Input: *64 values"
run "$HOOD" evaluate "$T/cat.hood" "$T/cat_nohdr.csv" --json
check "1: evaluate resolves a headerless one-hot CSV by the model's width" out_has '"samples": 12'
awk -F, '{print $0",0"}' "$T/cat_nohdr.csv" >"$T/wide.csv" # 64 + 3 columns: no such layout
run "$HOOD" evaluate "$T/cat.hood" "$T/wide.csv"
check "1: a width the model cannot resolve is an error naming the file (exit 1)" \
    test "$rc" -eq 1 -a "$(grep -c "wide.csv" "$T/err")" -eq 1
run "$HOOD" train "$T/cat.csv" -o "$T/bad.hood" --layers 2:softmax --label-columns 1 "${FIT[@]}"
check "1: --label-columns contradicting hood's header is an error naming the file" \
    test "$rc" -eq 1 -a ! -e "$T/bad.hood" -a "$(grep -c "cat.csv.*2 label columns" "$T/err")" -eq 1

# ---- 2: every command reads the header CSVs hood writes, and takes --header ----------------
run "$HOOD" dataset "$T/img" -o "$T/int.csv" --header "${DS[@]}"
run "$HOOD" train "$T/int.csv" -o "$T/int.hood" --layers 2:softmax "${FIT[@]}"
check "2: train reads the header CSV hood dataset --header writes" test "$rc" -eq 0
run "$HOOD" evaluate "$T/int.hood" "$T/int.csv" --json
check "2: evaluate reads it, all 12 rows" out_has '"samples": 12'
{
    printf 'a%d,' $(seq 1 64)
    echo label
    tail -n +3 "$T/int.csv"
} >"$T/foreign.csv"
run "$HOOD" evaluate "$T/int.hood" "$T/foreign.csv"
check "2: a foreign header without --header is an error with the hint" \
    test "$rc" -eq 1 -a "$(grep -c -- "--header" "$T/err")" -eq 1
ok=0
"$HOOD" train "$T/foreign.csv" -o "$T/f.hood" --layers 2:softmax --header "${FIT[@]}" \
    >"$T/out" 2>"$T/err" && ok=$((ok + 1))
"$HOOD" evaluate "$T/int.hood" "$T/foreign.csv" --header --json >"$T/out" 2>"$T/err" &&
    out_has '"samples": 12' && ok=$((ok + 1))
"$HOOD" predict "$T/int.hood" "$T/foreign.csv" --header >"$T/out" 2>"$T/err" && lines_out 12 &&
    ok=$((ok + 1))
check "2: train, evaluate and predict take --header" test "$ok" -eq 3
tail -n +3 "$T/int.csv" >"$T/plain.csv"
run "$HOOD" evaluate "$T/int.hood" "$T/plain.csv" --json
check "2: a headerless CSV keeps every numeric row" out_has '"samples": 12'

# ---- 3: predict reads unlabeled rows, and labelled ones -----------------------------------
cut -d, -f1-64 "$T/plain.csv" >"$T/unlabeled.csv"
run "$HOOD" predict "$T/int.hood" "$T/unlabeled.csv"
check "3: predict reads a CSV without a label column (one line per row)" \
    test "$rc" -eq 0 -a "$(grep -c 'unlabeled.csv\[' "$T/out")" -eq 12
run "$HOOD" predict "$T/int.hood" "$T/plain.csv"
check "3: ... and one with a label column" \
    test "$rc" -eq 0 -a "$(grep -c 'plain.csv\[' "$T/out")" -eq 12
run "$HOOD" dataset "$T/img" -o "$T/nolabels.npz" --label-mode none "${DS[@]}"
run "$HOOD" predict "$T/int.hood" "$T/nolabels.npz"
check "3: ... and an .npz without y" test "$rc" -eq 0 -a "$(grep -c 'nolabels.npz\[' "$T/out")" -eq 12
run "$HOOD" predict "$T/int.hood" "$T/unlabeled.csv" --label-columns 1
check "3: --label-columns 1 on unlabeled rows: an error naming the file" \
    test "$rc" -eq 1 -a "$(grep -c "unlabeled.csv" "$T/err")" -eq 1

# ---- 4: the preprocessing and class names travel with the data ----------------------------
run "$HOOD" train "$T/img" -o "$T/folder.hood" --layers 2:softmax --image-size 8x8 "${FIT[@]}"
"$HOOD" predict "$T/folder.hood" "$T/new/new.png" >"$T/folder.pred" 2>"$T/err"
run "$HOOD" dataset "$T/img" -o "$T/d.npz" --image-size 8x8 --quiet
run "$HOOD" train "$T/d.npz" -o "$T/npz.hood" --layers 2:softmax "${FIT[@]}"
run "$HOOD" predict "$T/npz.hood" "$T/new/new.png"
check "4: seed route 1: folder -> .npz -> train -> predict new.png" \
    test "$rc" -eq 0 -a "$(grep -c '^.*new.png: \(dark\|light\) (' "$T/out")" -eq 1
check "4: ... the same line as the model trained on the folder itself" \
    cmp -s "$T/out" "$T/folder.pred"
run "$HOOD" dataset "$T/img" -o "$T/d.csv" --image-size 8x8 --header --quiet
run "$HOOD" train "$T/d.csv" -o "$T/csv.hood" --layers 2:softmax "${FIT[@]}"
run "$HOOD" predict "$T/csv.hood" "$T/new/new.png"
check "4: seed route 2: folder -> header CSV -> train -> predict new.png (same line)" \
    cmp -s "$T/out" "$T/folder.pred"
run "$HOOD" dataset "$T/img" -o "$T/small.npz" --image-size 4x4 --color-mode rgb --quiet
run "$HOOD" train "$T/small.npz" -o "$T/small.hood" --layers 2:softmax "${FIT[@]}"
run "$HOOD" info "$T/small.hood"
check "4: the model keeps the file's preprocessing and class names" \
    test "$(grep -c "4x4 rgb\|dark, light" "$T/out")" -eq 2
run "$HOOD" train "$T/d.npz" -o "$T/x.hood" --layers 2:softmax --image-size 8x8
check "4: --image-size given to train on a file is a usage error (exit 2), nothing written" \
    test "$rc" -eq 2 -a ! -e "$T/x.hood"
run "$HOOD" train "$T/plain.csv" -o "$T/plain.hood" --layers 2:softmax "${FIT[@]}"
check "4: a CSV without a header trains as before (numeric labels)" test "$rc" -eq 0

# ---- seed workflow 3: one-hot CSV and .npz give the same model, the same evaluation --------
run "$HOOD" dataset "$T/img" -o "$T/oh.npz" --label-mode categorical "${DS[@]}"
"$HOOD" train "$T/oh.npz" -o "$T/oh_npz.hood" --layers 3:relu,2:softmax "${FIT[@]}" >/dev/null 2>&1
"$HOOD" train "$T/cat.csv" -o "$T/oh_csv.hood" --layers 3:relu,2:softmax "${FIT[@]}" >/dev/null 2>&1
"$HOOD" evaluate "$T/oh_npz.hood" "$T/oh.npz" --json >"$T/e_npz" 2>&1
run "$HOOD" evaluate "$T/oh_csv.hood" "$T/cat.csv" --json
check "seed: folder -> one-hot CSV -> train -> evaluate equals the .npz route exactly" \
    test -s "$T/e_npz" -a "$(cat "$T/out")" = "$(cat "$T/e_npz")"

# ---- 9: predictions as data ---------------------------------------------------------------
run "$HOOD" predict "$T/cat.hood" "$T/cat.csv" -o "$T/p.csv"
check "9: -o p.csv: a header with the class names and one row per sample" \
    test "$rc" -eq 0 -a "$(head -1 "$T/p.csv")" = "input,class,dark,light" \
    -a "$(grep -c '^.*cat.csv\[[0-9]*\],\(dark\|light\),' "$T/p.csv")" -eq 12
run "$HOOD" predict "$T/cat.hood" "$T/new/new.png" "$T/cat.csv" -o "$T/p.json"
if [ "$HAVE_NUMPY" -eq 1 ]; then
    run "$HOOD" predict "$T/cat.hood" "$T/cat.csv" -o "$T/p.npy"
    "$HOOD" predict "$T/cat.hood" "$T/cat.csv" --format csv --top 2 >"$T/text.csv"
    check "9: -o p.npy is (n, units) float32 and matches the printed probabilities" \
        "$PY" - "$T/p.npy" "$T/text.csv" "$T/p.json" <<'PYEOF'
import json, sys
import numpy as np
p = np.load(sys.argv[1])
assert p.shape == (12, 2) and p.dtype == np.float32, (p.shape, p.dtype)
rows = [l.split(",") for l in open(sys.argv[2]).read().split("\n")[1:] if l]
names = ["dark", "light"]
for k, (path, cls, prob) in enumerate(rows):
    j = k // 2
    assert abs(p[j, names.index(cls)] - float(prob)) < 1e-6, (k, p[j], cls, prob)
doc = json.load(open(sys.argv[3]))
assert doc["units"] == 2 and doc["class_names"] == names, doc
assert len(doc["predictions"]) == 13
assert doc["predictions"][0]["input"].endswith("new.png")
for j, pred in enumerate(doc["predictions"][1:]):
    assert abs(pred["output"][0] - p[j, 0]) < 1e-6 and pred["class"] in names, pred
PYEOF
else
    skip "9: -o p.npy and -o p.json read back with NumPy" "no NumPy for /usr/bin/python3"
fi
run "$HOOD" predict "$T/cat.hood" "$T/cat.csv" -o "$T/p.txt"
check "9: -o with an unknown extension is a usage error" test "$rc" -eq 2 -a ! -e "$T/p.txt"
run "$HOOD" predict "$T/cat.hood" "$T/cat.csv"
check "9: without -o the human lines stay on stdout" \
    test "$(grep -c '^.*cat.csv\[[0-9]*\]: \(dark\|light\) (' "$T/out")" -eq 12

# ---- 10: a CNN on hood dataset's files; hood info shows its input shape and rate ----------
CNN=(--layers conv:4:3x3:relu,flatten,2:softmax "${FIT[@]}")
# x flat (12, 64), preprocess 8x8 grey; --seed 3: the file order train's folder ingest draws
run "$HOOD" dataset "$T/img" -o "$T/cnn.npz" "${DS[@]}" --seed 3
run "$HOOD" train "$T/cnn.npz" -o "$T/cnn_npz.hood" "${CNN[@]}"
check "10: folder -> .npz (flat x) -> train a conv model: the preprocess member gives 8x8x1" \
    test "$rc" -eq 0 -a -s "$T/cnn_npz.hood"
"$HOOD" train "$T/img" -o "$T/cnn_dir.hood" --image-size 8x8 "${CNN[@]}" >/dev/null 2>&1
"$HOOD" evaluate "$T/cnn_dir.hood" "$T/cnn.npz" --json >"$T/e_dir" 2>&1
run "$HOOD" evaluate "$T/cnn_npz.hood" "$T/cnn.npz" --json
check "10: ... and evaluates on it exactly as the same CNN trained on the folder itself" \
    test -s "$T/e_dir" -a "$(cat "$T/out")" = "$(cat "$T/e_dir")"
run "$HOOD" predict "$T/cnn_npz.hood" "$T/new/new.png" --format csv
"$HOOD" predict "$T/cnn_dir.hood" "$T/new/new.png" --format csv >"$T/p_dir" 2>&1
check "10: ... and predicts a new image to the same bits" \
    test -s "$T/p_dir" -a "$(cat "$T/out")" = "$(cat "$T/p_dir")"
run "$HOOD" train "$T/cat.csv" -o "$T/cnn_csv.hood" "${CNN[@]}"
check "10: a header CSV by hood dataset trains a conv model (its '# hood:' line's shape)" \
    test "$rc" -eq 0 -a -s "$T/cnn_csv.hood"
run "$HOOD" info "$T/cnn_npz.hood"
check "10: hood info shows a CNN's input shape, Keras' (8, 8, 1), and the value count" \
    out_has "^Input: *64 values per sample, image shape (8, 8, 1)$"
run "$HOOD" info "$T/plain.hood"
check "10: ... and no image shape for a model of a plain matrix" \
    test "$(grep -c "^Input: *64 values per sample$" "$T/out")" -eq 1
if [ "$HAVE_NUMPY" -eq 1 ]; then
    "$PY" -c 'import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])["x"].reshape(12, 8, 8, 1))' \
        "$T/cnn.npz" "$T/x4.npy"
    run "$HOOD" predict "$T/cnn_npz.hood" "$T/x4.npy"
    check "10: predict takes an .npy of shape (n, 8, 8, 1) with the CNN" \
        test "$rc" -eq 0 -a "$(grep -c 'x4.npy\[' "$T/out")" -eq 12
else
    skip "10: predict takes an .npy of shape (n, 8, 8, 1)" "no NumPy for /usr/bin/python3"
fi
# 12 samples, batch 4: 3 steps an epoch, 12 in all; cosine:6 reaches 0 half-way
run "$HOOD" train "$T/cnn.npz" -o "$T/cos.hood" --optimizer adam --lr-schedule cosine:6 \
    "${CNN[@]}" --batch-size 4
run "$HOOD" info "$T/cos.hood"
rate_ended() { out_has "^Optimizer: *adam (learning_rate=0, " && ! out_has "e-38" && out_has "schedule"; }
check "10: after a cosine schedule ran out, hood info prints learning_rate=0 and says why" rate_ended
run "$HOOD" train "$T/cnn.npz" -o "$T/cos2.hood" --optimizer adam --lr-schedule cosine:24 \
    "${CNN[@]}" --batch-size 4
run "$HOOD" info "$T/cos2.hood"
check "10: ... and the schedule's current rate half-way (0.001 * (1 + cos(pi / 2)) / 2)" \
    out_has "^Optimizer: *adam (learning_rate=0.0005, "

echo "1..$n"
