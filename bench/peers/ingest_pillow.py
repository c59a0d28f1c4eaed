#!/usr/bin/python3
"""ingest_pillow.py — the seed's ingest loop in Pillow: for every file of every class folder,
open, convert('L'), resize, np.asarray, append; then one float32 matrix / 255. One process,
one thread, as the seed's notebook ran it.

Prints hood-bench's JSON (common.py). Usage: ingest_pillow.py [--workload ingest-photos|
ingest-fmnist] [--dir DIR] [--repeat N] [--json FILE]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", default="ingest-photos", choices=sorted(common.INGEST))
    ap.add_argument("--dir")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1, help="recorded only: the loop is serial")
    ap.add_argument("--json", default="-")
    a = ap.parse_args()
    common.set_threads_env(1)
    import numpy as np
    import PIL
    from PIL import Image

    w = common.INGEST[a.workload]
    root = a.dir or os.path.join(os.path.dirname(__file__), "..", "..", w["dir"])
    size = (w["width"], w["height"])
    times = []
    for _ in range(a.repeat):
        X = None
        t0 = time.perf_counter()
        classes, files, labels = common.scan(root)
        data = []
        for path in files:
            img = Image.open(path).convert("L").resize(size)
            data.append(np.asarray(img))
        X = np.asarray(data, dtype=np.float32).reshape(len(files), -1) / np.float32(255.0)
        times.append(time.perf_counter() - t0)
        del data
    ok, what = common.ingest_check(a.workload, X, labels, files, classes)
    r = common.ingest_result(a.workload, 1, times, len(files), X.nbytes, ok, what)
    common.print_ingest("pillow", r)
    mach = common.machine(1, "", {"pillow": PIL.__version__, "numpy": np.__version__})
    return common.emit("pillow", mach, [r], a.json)


if __name__ == "__main__":
    sys.exit(main())
