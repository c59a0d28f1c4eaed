#!/usr/bin/env bash
# test_pixels.sh — TAP: `hood dataset` gives Pillow's pixels by default (large JPEG, RGBA PNG,
# EXIF-rotated JPEG), the options that depart from them are kept in the model file so predict
# repeats them, bad values are usage errors, and image/labels bombs are refused quickly.
# Not the pixel arithmetic's own tests (tests/test_ingest.c) nor the photo cross-check
# (scripts/crosscheck-pillow). Needs /usr/bin/python3 with Pillow and NumPy (skips otherwise).
# Usage: HOOD=/path/to/hood tests/cli/test_pixels.sh
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
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-pixels.XXXXXX")
trap 'rm -rf "$T"' EXIT
export VIPS_WARNING=0

# Two classes of photo-like images: a 640 x 480 JPEG (shrink-on-load would take 1/8 at 30 x 20),
# an RGBA PNG with a real alpha ramp, an EXIF-rotated JPEG; plus the bombs.
"$PY" - "$T" <<'EOF'
import io, os, sys
import numpy as np
from PIL import Image
t = sys.argv[1]
rng = np.random.default_rng(7)
def photo(w, h, c):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * (3 + k) + y * (5 + k) + (x * y) % 23 * 4) % 256 for k in range(c)], -1)
    return np.clip(base + rng.integers(-20, 20, base.shape), 0, 255).astype(np.uint8)
for cls in ("a", "b"):
    os.makedirs(f"{t}/photos/{cls}")
    Image.fromarray(photo(640, 480, 3)).save(f"{t}/photos/{cls}/big.jpg", quality=90)
    rgba = Image.fromarray(photo(90, 60, 4), "RGBA")
    rgba.save(f"{t}/photos/{cls}/alpha.png")
    exif = Image.Exif(); exif[0x0112] = 6
    Image.fromarray(photo(80, 40, 3)).save(f"{t}/photos/{cls}/rotated.jpg", quality=90, exif=exif)
# bombs: a JPEG claiming 65500 x 65500, a progressive JPEG with 1100 empty scans
im = Image.fromarray(photo(16, 16, 1)[:, :, 0], "L")
os.makedirs(f"{t}/bomb/a")
b = io.BytesIO(); im.save(b, "JPEG"); d = bytearray(b.getvalue())
i = next(k for k in range(2, len(d)) if d[k] == 0xFF and d[k + 1] in (0xC0, 0xC1, 0xC2))
d[i + 5:i + 9] = b"\xff\xdc\xff\xdc"
open(f"{t}/bomb/a/huge.jpg", "wb").write(d)
os.makedirs(f"{t}/scans/a")
b = io.BytesIO(); im.save(b, "JPEG", progressive=True); d = b.getvalue()
sos = bytes([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3F, 0x00])
open(f"{t}/scans/a/scans.jpg", "wb").write(d[:-2] + sos * 1100 + b"\xff\xd9")
EOF

# compare NPZ MODE EXTRA_PY: hood's x (raw values, file order) against Pillow's.
compare() {
    "$PY" - "$T/photos" "$1" "$2" "$3" <<'EOF'
import os, sys
import numpy as np
from PIL import Image, ImageOps
root, npz, mode, how = sys.argv[1:5]
x = np.load(npz)["x"]
files = [os.path.join(root, c, f) for c in sorted(os.listdir(root))
         for f in sorted(os.listdir(os.path.join(root, c)))]
worst = 0.0
for i, f in enumerate(files):
    im = Image.open(f)
    if how == "transpose":
        im = ImageOps.exif_transpose(im)
    want = np.asarray(im.convert(mode).resize((30, 20), Image.BILINEAR), np.float32).ravel()
    worst = max(worst, float(np.abs(x[i] - want).max()))
print(worst)
EOF
}

args=(--image-size 20x30 --raw-values --no-shuffle --quiet --label-mode none)
if "$HOOD" dataset "$T/photos" -o "$T/d.npz" "${args[@]}" 2>"$T/err"; then
    w=$(compare "$T/d.npz" L plain)
    if [ "$w" = "0.0" ]; then pass "default grayscale pixels are Pillow's convert('L').resize()"
    else fail "default grayscale pixels are Pillow's convert('L').resize()" "max difference $w"; fi
else
    fail "hood dataset on photos" "$(cat "$T/err")"
fi
if "$HOOD" dataset "$T/photos" -o "$T/rgb.npz" "${args[@]}" --color-mode rgb 2>"$T/err"; then
    w=$(compare "$T/rgb.npz" RGB plain)
    if [ "$w" = "0.0" ]; then pass "default rgb pixels are Pillow's convert('RGB').resize()"
    else fail "default rgb pixels are Pillow's convert('RGB').resize()" "max difference $w"; fi
else
    fail "hood dataset --color-mode rgb" "$(cat "$T/err")"
fi
"$HOOD" dataset "$T/photos" -o "$T/t.npz" "${args[@]}" --exif-transpose 2>"$T/err"
w=$(compare "$T/t.npz" L transpose)
if [ "$w" = "0.0" ]; then pass "--exif-transpose is Pillow's exif_transpose"
else fail "--exif-transpose is Pillow's exif_transpose" "max difference $w"; fi
w=
"$HOOD" dataset "$T/photos" -o "$T/dr.npz" "${args[@]}" --jpeg-draft 2>"$T/err" &&
    w=$(compare "$T/dr.npz" L plain)
if [ -n "$w" ] && [ "$w" != "0.0" ]; then pass "--jpeg-draft changes JPEG pixels (max $w/255)"
else fail "--jpeg-draft changes JPEG pixels" "it gave Pillow's pixels"; fi

# The options go into the model and predict repeats them.
"$HOOD" train "$T/photos" -o "$T/m.hood" --image-size 20x30 --layers 2:softmax --epochs 1 \
    --label-mode categorical --loss categorical_crossentropy --jpeg-draft --exif-transpose \
    --alpha-background '#102030' >/dev/null 2>"$T/err"
if grep -aq "jpeg_draft=1 exif_transpose=1 alpha_background=1056816" "$T/m.hood"; then
    pass "the model file keeps --jpeg-draft, --exif-transpose and --alpha-background"
else
    fail "the model file keeps --jpeg-draft, --exif-transpose and --alpha-background" \
        "$(cat "$T/err")" "$(grep -a '^preprocess' "$T/m.hood")"
fi
if "$HOOD" predict "$T/m.hood" "$T/photos/a/alpha.png" >/dev/null 2>"$T/err"; then
    pass "predict reads a new image with the stored options"
else
    fail "predict reads a new image with the stored options" "$(cat "$T/err")"
fi

# Usage errors.
"$HOOD" dataset "$T/photos" -o "$T/x.npz" --alpha-background pink 2>"$T/err"
rc=$?
# (exit 1 today, as every dataset flag's bad value; 2 once the CLI makes them usage errors)
if { [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; } && grep -q -- "--alpha-background: expected none, black, white or #RRGGBB, got 'pink'" "$T/err"; then
    pass "--alpha-background with a bad colour is a usage error"
else
    fail "--alpha-background with a bad colour is a usage error" "exit $rc" "$(cat "$T/err")"
fi

# Bombs: refused from the header / marker walk, at once, under --strict, with --jpeg-draft too.
for case in "bomb:65500 x 65500 pixels is larger than" "scans:more than 1000 scans"; do
    dir=${case%%:*} want=${case#*:}
    start=$(date +%s)
    timeout 60 "$HOOD" dataset "$T/$dir" -o "$T/$dir.npz" --image-size 8x8 --strict --jpeg-draft \
        2>"$T/err"
    rc=$? secs=$(( $(date +%s) - start ))
    if [ "$rc" -eq 1 ] && grep -q "$want" "$T/err" && [ ! -e "$T/$dir.npz" ]; then
        pass "$dir bomb refused under --strict ($secs s)"
    else
        fail "$dir bomb refused under --strict" "exit $rc" "$(cat "$T/err")"
    fi
done
mkdir -p "$T/lab/a"
cp "$T/photos/a/alpha.png" "$T/lab/a/x.png"
printf 'a/x.png,16777215\n' >"$T/labels.txt"
"$HOOD" dataset "$T/lab" -o "$T/lab.npz" --image-size 8x8 --labels "$T/labels.txt" \
    --label-mode categorical 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "at most 65536 classes" "$T/err" && [ ! -e "$T/lab.npz" ]; then
    pass "a labels file asking for 16M one-hot classes is refused"
else
    fail "a labels file asking for 16M one-hot classes is refused" "exit $rc" "$(cat "$T/err")"
fi
echo "1..$n"
