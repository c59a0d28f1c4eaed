#!/usr/bin/python3
"""numpy_train.py — the training workloads (seed, fmnist) in NumPy, written the way the seed's
notebook does it: initialise, then per batch forward, cost, backward, update, with X stored
features x samples. float32, or NumPy's default float64 (--dtype float64) as the notebook ran.

Prints hood-bench's JSON (common.py). Not tuned: it is the baseline a NumPy user writes.
Usage: numpy_train.py [--workload seed|fmnist] [--variant b32|full|b128] [--threads N]
                      [--epochs N] [--dtype float32|float64] [--json FILE]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", default="seed", choices=sorted(common.TRAIN))
    ap.add_argument("--variant", action="append")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=0, help="including one warm-up epoch")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", default="-")
    return ap.parse_args()


def main():
    a = parse()
    common.set_threads_env(a.threads)
    import numpy as np

    w = common.TRAIN[a.workload]
    dt = np.dtype(a.dtype)
    Xr, yr = common.train_data(a.workload, dtype=a.dtype)
    # The notebook's layout: features x samples, as the transposed view of the loaded (n, d)
    # rows, so each sample stays a contiguous column (as in hood's X).
    X = Xr.T
    m = X.shape[1]
    k = w["layers"][-1][0]
    results = []
    ok_all = True
    for variant in a.variant or list(w["variants"]):
        batch = w["variants"][variant]
        epochs = a.epochs or w["epochs"]
        rng = np.random.default_rng(a.seed)
        # Keras' defaults: glorot_uniform kernels, zero biases.
        dims = [w["input"]] + [u for u, _ in w["layers"]]
        params = []
        for i in range(len(dims) - 1):
            lim = np.sqrt(6.0 / (dims[i] + dims[i + 1]))
            params.append([rng.uniform(-lim, lim, (dims[i + 1], dims[i])).astype(dt),
                           np.zeros((dims[i + 1], 1), dtype=dt)])
        acts = [act for _, act in w["layers"]]
        lr = dt.type(w["lr"])
        log = []
        for e in range(epochs):
            perm = rng.permutation(m)
            tg = tf = tb = tu = 0.0
            loss_sum = 0.0
            t_epoch, c_epoch = time.perf_counter(), time.process_time()
            for s in range(0, m, batch):
                t0 = time.perf_counter()
                idx = perm[s:s + batch]
                A = X[:, idx]
                Yb = yr[idx]
                B = A.shape[1]
                t1 = time.perf_counter()
                # forward propagation
                cache = [A]
                for (W, b), act in zip(params, acts):
                    Z = W @ A + b
                    if act == "tanh":
                        A = np.tanh(Z)
                    elif act == "relu":
                        A = np.maximum(Z, 0)
                    elif act == "sigmoid":
                        A = 1 / (1 + np.exp(-Z))
                    else:  # softmax over the k rows
                        ez = np.exp(Z - Z.max(axis=0, keepdims=True))
                        A = ez / ez.sum(axis=0, keepdims=True)
                    cache.append(A)
                # compute cost (clipped as Keras clips probabilities)
                eps = 1e-7
                P = np.clip(A, eps, 1 - eps)
                if k == 1:
                    Y = Yb.reshape(1, B).astype(dt)
                    cost = -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))
                else:
                    Y = np.zeros((k, B), dtype=dt)
                    Y[Yb, np.arange(B)] = 1
                    cost = -np.mean(np.log(P[Yb, np.arange(B)]))
                loss_sum += float(cost) * B
                t2 = time.perf_counter()
                # backward propagation: sigmoid+BCE and softmax+CCE both give dZ = (A - Y) / B
                dZ = (A - Y) / dt.type(B)
                grads = [None] * len(params)
                for i in range(len(params) - 1, -1, -1):
                    Aprev = cache[i]
                    grads[i] = (dZ @ Aprev.T, np.sum(dZ, axis=1, keepdims=True))
                    if i > 0:
                        dA = params[i][0].T @ dZ
                        if acts[i - 1] == "tanh":
                            dZ = dA * (1 - Aprev * Aprev)
                        else:  # relu
                            dZ = dA * (Aprev > 0)
                t3 = time.perf_counter()
                # update parameters
                for (W, b), (dW, db) in zip(params, grads):
                    W -= lr * dW
                    b -= lr * db
                t4 = time.perf_counter()
                tg += t1 - t0
                tf += t2 - t1
                tb += t3 - t2
                tu += t4 - t3
            secs, cpu = time.perf_counter() - t_epoch, time.process_time() - c_epoch
            log.append({"epoch": e, "seconds": secs, "loss": loss_sum / m, "gather": tg,
                        "forward": tf, "backward": tb, "update": tu, "cpu_seconds": cpu})
        losses = [r["loss"] for r in log]
        ok, what = common.loss_check(variant, losses)
        ok_all &= ok
        med = sorted(log[1:] or log, key=lambda r: r["seconds"])[len(log[1:] or log) // 2]
        split = {p: med[p] for p in ("gather", "forward", "backward", "update")}
        r = common.train_result(a.workload, variant, a.threads, batch, log, m, ok, what,
                                split)
        common.print_train(f"numpy-{'f32' if a.dtype == 'float32' else 'f64'}", r)
        results.append(r)
    mach = common.machine(a.threads, common.numpy_blas(), {"numpy": np.__version__})
    tool = "numpy-f32" if a.dtype == "float32" else "numpy-f64"
    rc = common.emit(tool, mach, results, a.json)
    return rc if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
