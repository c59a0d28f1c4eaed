#!/usr/bin/python3
"""csv_numpy.py — the `csv` workload in NumPy: the seed's data set (1,027 rows of 22,500 values
and the label) written with numpy.savetxt and read back with numpy.loadtxt, as the seed's
notebook stores its data set. fmt '%.9g' prints each float32 so it reads back identical, the
same promise hood's CSV makes (savetxt's default '%.18e' writes 2.5x the bytes).

Prints hood-bench's JSON (common.py). Usage: csv_numpy.py [--dir TMPDIR] [--repeat N] [--json F]
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1, help="recorded only")
    ap.add_argument("--fmt", default="%.9g")
    ap.add_argument("--json", default="-")
    a = ap.parse_args()
    common.set_threads_env(1)
    import numpy as np

    X, y = common.seed_data()
    rows = np.hstack([X, y.reshape(-1, 1).astype(np.float32)])
    path = os.path.join(a.dir, f"hood-bench-numpy-{os.getpid()}.csv")
    wt, rt = [], []
    try:
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            np.savetxt(path, rows, delimiter=",", fmt=a.fmt)
            wt.append(time.perf_counter() - t0)
            size = os.path.getsize(path)
            t0 = time.perf_counter()
            back = np.loadtxt(path, delimiter=",", dtype=np.float32)
            rt.append(time.perf_counter() - t0)
    finally:
        if os.path.exists(path):
            os.unlink(path)
    same = back.shape == rows.shape and np.array_equal(back, rows)
    what = (f"{rows.shape[0]} rows x {rows.shape[1]} columns, {size / 1e6:.1f} MB, read back "
            + ("bit-identical" if same else "DIFFERENT"))
    results = []
    for name, times in (("csv/write", wt), ("csv/read", rt)):
        st = common.stats(times)
        results.append({"name": name, "workload": "csv", "kind": "csv", "threads": 1,
                        "bytes": size, "rows": rows.shape[0], "seconds": st,
                        "mb_per_s": size / st["median"] / 1e6,
                        "peak_rss_mb": common.peak_rss_mb(),
                        "check": {"ok": bool(same), "what": what}})
        sys.stderr.write(f"  numpy-savetxt {name:<10} {size / 1e6:.1f} MB median "
                         f"{st['median']:.3f} s {size / st['median'] / 1e6:7.1f} MB/s "
                         f"{'ok' if same else 'CHECK FAILED'}\n")
    mach = common.machine(1, "", {"numpy": np.__version__})
    return common.emit("numpy-savetxt", mach, results, a.json)


if __name__ == "__main__":
    sys.exit(main())
