#!/usr/bin/python3
"""ingest_torchvision.py — the same ingest with torchvision: ImageFolder (Grayscale, Resize,
ToTensor) read through a DataLoader into one float32 matrix. Workers: none with 1 thread, else
one per thread (DataLoader's processes); torch.set_num_threads equals hood's thread count.

Prints hood-bench's JSON (common.py). Usage: ingest_torchvision.py [--workload W] [--dir DIR]
[--threads N] [--repeat N] [--json FILE]
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
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--json", default="-")
    a = ap.parse_args()
    common.set_threads_env(a.threads)
    import numpy as np
    import torch
    import torchvision
    from torchvision import datasets, transforms

    torch.set_num_threads(a.threads)
    w = common.INGEST[a.workload]
    root = a.dir or os.path.join(os.path.dirname(__file__), "..", "..", w["dir"])
    tf = transforms.Compose([transforms.Grayscale(), transforms.Resize((w["height"], w["width"])),
                             transforms.ToTensor()])
    workers = 0 if a.threads <= 1 else a.threads
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        ds = datasets.ImageFolder(root, transform=tf)
        dl = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=False,
                                         num_workers=workers)
        X = np.empty((len(ds), w["height"] * w["width"]), dtype=np.float32)
        labels = np.empty(len(ds), dtype=np.int64)
        j = 0
        for xb, yb in dl:
            b = xb.shape[0]
            X[j:j + b] = xb.reshape(b, -1).numpy()
            labels[j:j + b] = yb.numpy()
            j += b
        times.append(time.perf_counter() - t0)
    files = [p for p, _ in ds.samples]
    ok, what = common.ingest_check(a.workload, X, labels, files, ds.classes)
    r = common.ingest_result(a.workload, a.threads, times, len(files), X.nbytes, ok, what)
    common.print_ingest("torchvision", r)
    mach = common.machine(a.threads, "", {"torch": torch.__version__,
                                          "torchvision": torchvision.__version__})
    return common.emit("torchvision", mach, [r], a.json)


if __name__ == "__main__":
    sys.exit(main())
