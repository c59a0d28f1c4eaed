#!/usr/bin/env bash
# test_pixel_storage.sh — TAP: `--pixel-storage u8` (the default) and `float` give the same
# files from `hood dataset` and the same trained weights from `hood train`; a bad value is an
# error naming the flag; --help lists it. Not the storage itself (tests/test_pixels8.c).
# Needs /usr/bin/python3 with Pillow and NumPy to write the images (skips otherwise).
# Usage: HOOD=/path/to/hood tests/cli/test_pixel_storage.sh
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"
PY=/usr/bin/python3
if ! "$PY" -c 'import PIL, numpy' 2>/dev/null; then
    echo "1..0 # SKIP /usr/bin/python3 with Pillow and NumPy is not installed"
    exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-pixel-storage.XXXXXX")
trap 'rm -rf "$T"' EXIT
export VIPS_WARNING=0

# Three classes of 12 x 12 grey PNGs, resized to 10 x 10 (bilinear makes codes of its own).
"$PY" - "$T" <<'PYEOF'
import os, sys
import numpy as np
from PIL import Image
t = sys.argv[1]
rng = np.random.default_rng(3)
for c in range(3):
    os.makedirs(f"{t}/img/c{c}")
    for i in range(12):
        px = np.clip(rng.integers(0, 160, (12, 12)) + c * 45, 0, 255).astype(np.uint8)
        Image.fromarray(px).save(f"{t}/img/c{c}/{i:02d}.png")
PYEOF

same_files() { # DESC EXT FLAGS...
    local desc=$1 ext=$2
    shift 2
    if "$HOOD" dataset "$T/img" -o "$T/u.$ext" --image-size 10x10 --quiet "$@" 2>"$T/err" &&
        "$HOOD" dataset "$T/img" -o "$T/f.$ext" --image-size 10x10 --quiet "$@" \
            --pixel-storage float 2>>"$T/err" &&
        cmp -s "$T/u.$ext" "$T/f.$ext"; then
        pass "$desc"
    else
        fail "$desc" "$(cat "$T/err")"
    fi
}
same_files "hood dataset .npz: the same bytes from 8-bit and float storage" npz
same_files "hood dataset .csv: the same bytes from 8-bit and float storage" csv
same_files "hood dataset .npz with --raw-values: the same bytes" npz --raw-values

ok=1
for s in u8 float; do
    "$HOOD" train "$T/img" --image-size 10x10 --layers 8:relu,3:softmax --epochs 2 \
        --batch-size 5 --seed 4 --validation-split 0.2 --threads 2 --pixel-storage "$s" \
        -o "$T/m_$s.hood" --verbose 0 --quiet 2>>"$T/err" &&
        "$HOOD" export-weights "$T/m_$s.hood" -o "$T/w_$s.npz" 2>>"$T/err" || ok=0
done
if [ "$ok" -eq 1 ] && cmp -s "$T/w_u8.npz" "$T/w_float.npz"; then
    pass "hood train: the same weights from 8-bit and float storage"
else
    fail "hood train: the same weights from 8-bit and float storage" "$(cat "$T/err")"
fi

"$HOOD" dataset "$T/img" -o "$T/x.npz" --pixel-storage half 2>"$T/err"
rc=$?
if { [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; } &&
    grep -q -- "--pixel-storage: expected u8 or float, got 'half'" "$T/err"; then
    pass "--pixel-storage with a bad value is refused, naming the flag"
else
    fail "--pixel-storage with a bad value is refused, naming the flag" "exit $rc" "$(cat "$T/err")"
fi

if "$HOOD" train --help | grep -q -- "--pixel-storage KIND"; then
    pass "hood train --help lists --pixel-storage"
else
    fail "hood train --help lists --pixel-storage"
fi
echo "1..$n"
