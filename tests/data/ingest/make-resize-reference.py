#!/usr/bin/python3
"""make-resize-reference.py — writes resize-reference.txt, the Pillow reference that
tests/test_ingest.c compares hood's resampling kernels against.

The source is a 37 x 29 RGB image given by a formula (test_ingest.c builds the same pixels):
    v(x, y, c) = (7x + 13y + 101c + 9 * ((x * y) % 17)) % 256
Each case: the image (converted with Pillow's convert('L') for grayscale), optionally
centre-cropped or padded to the target aspect ratio as Keras' smart_resize does, resized with
Image.resize(size, FILTER). Output lines:
    case <name> <gray|rgb> <filter> <width> <height> <none|crop|pad>
    <width*height*channels integers, HWC row-major>
Run: /usr/bin/python3 tests/data/ingest/make-resize-reference.py  (Debian's python3-pil)
"""
import os

import numpy as np
from PIL import Image

W0, H0 = 37, 29
FILTERS = {
    "nearest": Image.NEAREST,
    "bilinear": Image.BILINEAR,
    "bicubic": Image.BICUBIC,
    "lanczos3": Image.LANCZOS,
    "area": Image.BOX,
}


def source():
    y, x, c = np.mgrid[0:H0, 0:W0, 0:3]
    v = (7 * x + 13 * y + 101 * c + 9 * ((x * y) % 17)) % 256
    return Image.fromarray(v.astype(np.uint8), "RGB")


def prepare(img, w, h, geometry):
    iw, ih = img.size
    if geometry == "crop":
        ch = min(ih, int(iw * h / w))
        cw = min(iw, int(ih * w / h))
        y0, x0 = int((ih - ch) / 2), int((iw - cw) / 2)
        return img.crop((x0, y0, x0 + cw, y0 + ch))
    if geometry == "pad":
        ph = max(ih, int(iw * h / w))
        pw = max(iw, int(ih * w / h))
        canvas = Image.new(img.mode, (pw, ph))
        canvas.paste(img, (int((pw - iw) / 2), int((ph - ih) / 2)))
        return canvas
    return img


def main():
    cases = []
    for name in FILTERS:
        cases.append(("gray", name, 15, 11, "none"))  # downscale, non-integer factors
        cases.append(("gray", name, 45, 35, "none"))  # upscale
        cases.append(("rgb", name, 15, 11, "none"))
    cases.append(("gray", "bilinear", 16, 16, "crop"))
    cases.append(("gray", "bilinear", 16, 16, "pad"))
    cases.append(("rgb", "bicubic", 12, 20, "crop"))
    src = source()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resize-reference.txt")
    with open(out, "w") as f:
        for mode, name, w, h, geometry in cases:
            img = src.convert("L") if mode == "gray" else src
            res = prepare(img, w, h, geometry).resize((w, h), FILTERS[name])
            values = np.asarray(res).reshape(-1)
            f.write(f"case {mode}-{name}-{w}x{h}-{geometry} {mode} {name} {w} {h} {geometry}\n")
            f.write(" ".join(str(int(v)) for v in values) + "\n")


if __name__ == "__main__":
    main()
