"""common.py — what every peer shares with hood-bench: the JSON schema, the machine facts,
the workloads' data (the synthetic seed set, generated exactly as bench/data.c does; the
Fashion-MNIST IDX files), the exact FLOP count and the statistics.

Not a benchmark by itself. Keep the data generator and the FLOP formula in step with
bench/data.c and bench/train.c: the comparison is only fair if both sides do the same work.
"""
import gzip
import json
import math
import os
import platform
import resource
import statistics
import sys

SCHEMA = "hood-bench/1"
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"

# The training workloads: layers as (units, activation); loss; batch sizes by variant name.
TRAIN = {
    "seed": {"input": 150 * 150, "layers": [(10, "tanh"), (1, "sigmoid")],
             "loss": "binary_crossentropy", "lr": 0.01, "samples": 1027,
             "variants": {"b32": 32, "full": 1027}, "epochs": 11},
    "fmnist": {"input": 784, "layers": [(256, "relu"), (128, "relu"), (10, "softmax")],
               "loss": "sparse_categorical_crossentropy", "lr": 0.01, "samples": 60000,
               "variants": {"b32": 32, "b128": 128}, "epochs": 4},
    # conv 32 3x3 relu, maxpool 2, conv 64 3x3 relu, maxpool 2, flatten, dropout 0.5, dense 128
    # relu, dense 10 softmax on 28x28x1 (bench/train.c's "cnn"; hood-bench runs it by name only)
    "cnn": {"input": 784, "conv": (32, 64), "layers": [(128, "relu"), (10, "softmax")],
            "loss": "sparse_categorical_crossentropy", "lr": 0.01, "samples": 60000,
            "variants": {"b32": 32, "b128": 128}, "epochs": 3},
}

# Source geometry of the ingest workloads: "MB/s decoded" counts the source pixels at full
# size (width x height x bands) on every side, whatever shrink-on-load a decoder uses.
INGEST = {
    "ingest-photos": {"height": 150, "width": 150, "src_bytes": 300 * 300 * 3,
                      "dir": "data/photos"},
    "ingest-fmnist": {"height": 28, "width": 28, "src_bytes": 28 * 28,
                      "dir": "data/fashion-mnist/train"},
}


def set_threads_env(threads):
    """BLAS threads for NumPy (and torch's BLAS): must run before numpy is imported."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


# --- the synthetic seed data (bench/data.c does the same arithmetic in C) -------------------
MASK64 = (1 << 64) - 1


class SplitMix64:
    """splitmix64: tiny, portable, and identical in C; one stream per sample."""

    def __init__(self, state):
        self.s = state & MASK64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)


SEED_DATA_SEED = 0x5EED


def seed_data(n=1027, side=150, dtype="float32"):
    """X (n, side*side) in [0,1] as 8-bit levels / 255, y (n,) in {0,1}.

    Since the Horses-or-Humans set is not available, each sample is a smooth random image (three
    separable cosine waves) plus a class pattern: class 0 horizontal stripes, class 1 a Gaussian
    blob at a random place. Row-major pixels, like an ingested 150x150 grayscale image.
    """
    import numpy as np
    t = np.arange(side, dtype=np.float64) / side
    X = np.empty((n, side * side), dtype=np.float64)
    y = np.empty(n, dtype=np.int32)
    for j in range(n):
        r = SplitMix64(SEED_DATA_SEED + (j << 32))
        label = r.next() >> 63
        img = np.full((side, side), 0.5)
        for _ in range(3):
            fx, fy = 1.0 + 4.0 * r.uniform(), 1.0 + 4.0 * r.uniform()
            px, py = 2.0 * math.pi * r.uniform(), 2.0 * math.pi * r.uniform()
            a = 0.1 + 0.1 * r.uniform()
            cx = np.cos(2.0 * math.pi * fx * t + px)
            cy = np.cos(2.0 * math.pi * fy * t + py)
            img += a * np.outer(cy, cx)  # rows vary with y, columns with x
        c = 0.15 + 0.1 * r.uniform()
        bx, by = 0.3 + 0.4 * r.uniform(), 0.3 + 0.4 * r.uniform()
        if label == 0:
            img += c * np.cos(2.0 * math.pi * 8.0 * t)[:, None]
        else:
            gx = np.exp(-((t - bx) ** 2) / (2 * 0.15 * 0.15))
            gy = np.exp(-((t - by) ** 2) / (2 * 0.15 * 0.15))
            img += c * np.outer(gy, gx)
        img = np.floor(np.clip(img, 0.0, 1.0) * 255.0 + 0.5)
        X[j] = img.reshape(-1)
        y[j] = label
    if dtype == "float64":
        return X / 255.0, y  # NumPy's default type, as the seed's notebook computes
    return X.astype(np.float32) / np.float32(255.0), y  # bit-equal to (float)k / 255.0f


def fmnist_data(dtype="float32"):
    """The 60,000 training images (n, 784) as bytes / 255, labels (n,) int32."""
    import numpy as np
    with gzip.open(os.path.join(FMNIST_DIR, "train-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    if int.from_bytes(raw[0:4], "big") != 2051:
        sys.exit("fmnist: bad IDX magic in train-images")
    n = int.from_bytes(raw[4:8], "big")
    X = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 784)
    with gzip.open(os.path.join(FMNIST_DIR, "train-labels-idx1-ubyte.gz")) as f:
        lab = f.read()
    y = np.frombuffer(lab, dtype=np.uint8, offset=8).astype(np.int32)
    X = X.astype(np.float32) / np.float32(255.0)
    return (X.astype(np.float64) if dtype == "float64" else X), y


def train_data(workload, dtype="float32"):
    return seed_data(dtype=dtype) if workload == "seed" else fmnist_data(dtype=dtype)


def flops_per_epoch(workload, samples):
    """Exact FLOPs of one epoch's matrix products: per layer forward 2*in*out*B, backward
    2*in*out*B for dW, and 2*in*out*B for dX except the first layer (it needs no dX)."""
    w = TRAIN[workload]
    if "conv" in w:  # as bench/train.c's cnn_flops_per_sample
        f1, f2 = w["conv"]
        c1, c2 = 2 * 26 * 26 * f1 * 9, 2 * 11 * 11 * f2 * 9 * f1
        d1, d2 = 2 * 25 * f2 * w["layers"][0][0], 2 * w["layers"][0][0] * w["layers"][1][0]
        return (2 * c1 + 3 * (c2 + d1 + d2)) * samples
    dims = [w["input"]] + [u for u, _ in w["layers"]]
    total = 0
    for i in range(len(dims) - 1):
        per = 2 * dims[i] * dims[i + 1] * samples
        total += per * (3 if i > 0 else 2)
    return total


def loss_check(variant, losses):
    """The result check before any timing counts (bench/train.c applies the same rule).

    Mini-batch runs: every epoch loss finite and the last below the first. Full batch takes one
    SGD step per epoch, and at lr 0.01 on 22,500 all-positive inputs plain gradient descent
    oscillates (seen with NumPy, PyTorch and every init seed tried), so there the check is only
    that the losses are finite and training moved them."""
    finite = all(math.isfinite(v) for v in losses)
    if variant == "full":
        ok = finite and len(set(losses)) > 1
        return ok, f"full batch: finite, loss {losses[0]:.4f} -> {losses[-1]:.4f}"
    ok = finite and losses[-1] < losses[0]
    return ok, f"loss {losses[0]:.4f} -> {losses[-1]:.4f} (must fall)"


# --- ingest: the folder scan and the result check -------------------------------------------
IMAGE_EXTS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def scan(root):
    """Keras' order: class folders sorted, files sorted inside each; labels by folder index."""
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    files, labels = [], []
    for k, c in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, c))):
            if f.lower().endswith(IMAGE_EXTS):
                files.append(os.path.join(root, c, f))
                labels.append(k)
    return classes, files, labels


def fmnist_idx_sum():
    """Sum of the training IDX bytes / 255, what any correct 28x28 ingest of them must give."""
    import numpy as np
    with gzip.open(os.path.join(FMNIST_DIR, "train-images-idx3-ubyte.gz")) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return int(raw.sum(dtype=np.int64)) / 255.0, raw.size // 784


def ingest_check(workload, X, labels, files, classes):
    """Shape, label counts and value range; for Fashion-MNIST the exact sum of the IDX bytes;
    for the photos every 100th column's mean against Pillow's full-size luma mean (a resize
    keeps the mean to within ~1 %; a wrong file, channel or scale does not)."""
    import numpy as np
    w = INGEST[workload]
    d = w["height"] * w["width"]
    n = len(files)
    problems = []
    if X.shape != (n, d):
        problems.append(f"shape {X.shape} != ({n}, {d})")
    counts = np.bincount(np.asarray(labels), minlength=len(classes))
    if n == 0 or counts.min() == 0:
        problems.append(f"label counts {counts.tolist()}")
    if not np.isfinite(X).all() or X.min() < 0 or X.max() > 1:
        problems.append("values outside [0, 1]")
    total = float(X.sum(dtype=np.float64))
    what = f"{n} x {d}, classes {counts.tolist()}, sum {total:.1f}"
    if workload == "ingest-fmnist":
        ref, ref_n = fmnist_idx_sum()
        if n == ref_n and abs(total - ref) > 1e-6 * ref:
            problems.append(f"sum {total:.3f} != IDX sum {ref:.3f}")
        what += f" (IDX sum {ref:.1f})"
    else:
        from PIL import Image
        worst = 0.0
        for j in range(0, n, 100):
            full = np.asarray(Image.open(files[j]).convert("L"), dtype=np.float64).mean() / 255
            worst = max(worst, abs(float(X[j].mean(dtype=np.float64)) - full))
        if worst > 0.02:
            problems.append(f"column mean differs from the full-size luma mean by {worst:.3f}")
        what += f", max |column mean - full-size mean| {worst:.4f}"
    return not problems, "; ".join(problems) or what


def ingest_result(workload, threads, times, n, matrix_bytes, check_ok, check_what):
    st = stats(times)
    src = INGEST[workload]["src_bytes"] * n
    return {
        "name": workload, "workload": workload, "kind": "ingest", "threads": threads,
        "images": n, "seconds": st, "images_per_s": n / st["median"],
        "mb_per_s": src / st["median"] / 1e6, "matrix_mb": matrix_bytes / 1e6,
        "peak_rss_mb": peak_rss_mb(), "check": {"ok": bool(check_ok), "what": check_what},
    }


def print_ingest(tool, r):
    sys.stderr.write(
        f"{tool:>14} {r['name']:<14} thr {r['threads']} {r['images']} images  median "
        f"{r['seconds']['median']:.3f} s  {r['images_per_s']:8.0f} images/s "
        f"{r['mb_per_s']:7.1f} MB/s  peak RSS {r['peak_rss_mb']:.0f} MB "
        f"(matrix {r['matrix_mb']:.0f})  {'ok' if r['check']['ok'] else 'CHECK FAILED'}\n")


# --- statistics, memory, machine -----------------------------------------------------------
def stats(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(threads, blas="", versions=None):
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "blas": blas,
        "blas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "blis_arch_type": os.environ.get("BLIS_ARCH_TYPE", ""),
        "threads": threads,
        "loadavg": round(os.getloadavg()[0], 2),
        "versions": dict({"python": platform.python_version()}, **(versions or {})),
    }


def numpy_blas():
    import numpy as np
    try:
        cfg = np.__config__.blas_opt_info
        return "NumPy BLAS: " + ",".join(cfg.get("libraries", []))
    except AttributeError:
        return "NumPy BLAS"


def train_result(workload, variant, threads, batch, epochs, samples, check_ok, check_what,
                 split=None):
    """epochs: list of {"epoch", "seconds", "loss", ...}; the first one is the warm-up."""
    timed = [e["seconds"] for e in epochs[1:]] or [epochs[0]["seconds"]]
    st = stats(timed)
    flops = flops_per_epoch(workload, samples)
    res = {
        "name": f"{workload}/{variant}", "workload": workload, "variant": variant,
        "kind": "train", "threads": threads, "batch": batch, "samples": samples,
        "warmup_epochs": 1, "epochs": epochs, "epoch_seconds": st,
        "epoch_cpu_seconds": stats([e["cpu_seconds"] for e in epochs[1:]] or
                                   [epochs[0]["cpu_seconds"]]),
        "samples_per_s": samples / st["median"], "flops_per_epoch": flops,
        "gflops": flops / st["median"] / 1e9, "peak_rss_mb": peak_rss_mb(),
        "check": {"ok": bool(check_ok), "what": check_what},
    }
    if split:
        res["split"] = split
    return res


def emit(tool, mach, results, path):
    doc = {"schema": SCHEMA, "tool": tool, "machine": mach, "results": results}
    text = json.dumps(doc, indent=1)
    if path and path != "-":
        with open(path, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0 if all(r.get("check", {}).get("ok", True) for r in results) else 1


def print_train(tool, r):
    st = r["epoch_seconds"]
    sys.stderr.write(
        f"{tool:>14} {r['name']:<12} thr {r['threads']} epoch ms min {st['min']*1e3:8.1f} "
        f"median {st['median']*1e3:8.1f} max {st['max']*1e3:8.1f}  {r['gflops']:6.1f} GFLOP/s "
        f" loss {r['epochs'][0]['loss']:.4f} -> {r['epochs'][-1]['loss']:.4f}"
        f"  {'ok' if r['check']['ok'] else 'CHECK FAILED'}\n")
