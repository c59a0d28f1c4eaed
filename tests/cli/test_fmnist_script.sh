#!/usr/bin/env bash
# test_fmnist_script.sh — TAP: issue 3's Fashion-MNIST check on all 70,000 images, end to end:
# scripts/fetch-fashion-mnist turns Debian's IDX files into class folders of PNGs (Pillow), then
# `hood dataset` ingests each split at 28x28 grayscale with shuffle off, and NumPy compares the
# .npz with the IDX files: x must be the IDX bytes / 255 exactly (float32), y the IDX labels, in
# the order hood promises (class folders byte-sorted, files sorted within a class).
# tests/test_fmnist.c checks the same on 2,000 images without Python; this one covers the script
# users run and every image. Skips when dataset-fashion-mnist, NumPy or Pillow is missing.
# Usage: HOOD=/path/to/hood tests/cli/test_fmnist_script.sh   (meson sets HOOD)
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SOURCE=/usr/share/datasets/fashion-mnist
PY=/usr/bin/python3
if [ ! -d "$SOURCE" ]; then
    echo "1..0 # SKIP no dataset-fashion-mnist ($SOURCE)"
    exit 0
fi
if ! "$PY" -c 'import numpy, PIL' 2>/dev/null; then
    echo "1..0 # SKIP no python3-numpy or python3-pil for $PY"
    exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-fmnist-script.XXXXXX")
trap 'rm -rf "$T"' EXIT
export VIPS_WARNING=0

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"

if "$PY" "$ROOT/scripts/fetch-fashion-mnist" "$T/fm" >"$T/fetch.log" 2>&1; then
    pass "scripts/fetch-fashion-mnist writes the class folders"
else
    fail "scripts/fetch-fashion-mnist writes the class folders" "$(tail -3 "$T/fetch.log")"
fi

for split in test train; do
    if ! "$HOOD" dataset "$T/fm/$split" -o "$T/$split.npz" --image-size 28x28 --no-shuffle \
        --quiet >"$T/out" 2>"$T/err"; then
        fail "$split: hood dataset ingests the folders" "$(tail -3 "$T/err")"
        continue
    fi
    stem=t10k
    [ "$split" = train ] && stem=train
    if "$PY" - "$SOURCE" "$stem" "$T/$split.npz" >"$T/check" 2>&1 <<'EOF'; then
import gzip, os, sys
import numpy as np

source, stem, npz = sys.argv[1:]

def idx(name):
    for path in (os.path.join(source, name), os.path.join(source, name + ".gz")):
        if os.path.exists(path):
            with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
                data = f.read()
            ndim = data[3]
            dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
            return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)
    sys.exit(f"{name}: missing")

images = idx(f"{stem}-images-idx3-ubyte")
labels = idx(f"{stem}-labels-idx1-ubyte").astype(np.int64)
# hood's column order: class folders "<label>_<name>" byte-sorted (= label order), files
# "<index>.png" sorted within a class (= IDX order): a stable sort by label.
order = np.argsort(labels, kind="stable")
f = np.load(npz)
x, y = f["x"], f["y"]
n = len(labels)
assert x.dtype == np.float32 and x.shape == (n, 784), (x.dtype, x.shape)
assert y.dtype == np.int32 and y.shape == (n,), (y.dtype, y.shape)
want = images[order].reshape(n, 784).astype(np.float32) / 255
bad = np.flatnonzero((x != want).any(axis=1))
assert bad.size == 0, f"{bad.size} rows differ, first sample {bad[0]}"
assert (y == labels[order]).all(), "labels differ"
assert len(f["class_names"]) == 10 and str(f["class_names"][0]) == "0_T-shirt_top", f["class_names"]
print(f"{n} images exact")
EOF
        pass "$split: x = IDX bytes / 255 exactly, y = IDX labels ($(cat "$T/check"))"
    else
        fail "$split: x = IDX bytes / 255 exactly, y = IDX labels" "$(tail -3 "$T/check")"
    fi
done

echo "1..$n"
