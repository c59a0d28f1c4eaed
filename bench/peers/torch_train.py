#!/usr/bin/python3
"""torch_train.py — the training workloads (seed, fmnist, cnn) in PyTorch on the CPU, written the
plain way: nn.Sequential of nn.Linear (cnn: nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Dropout
before them, NCHW, PyTorch's own CPU convolutions) with Keras' default init (glorot_uniform
kernels, zero biases), the fused logits losses, torch.optim.SGD, a shuffled index gather per
batch.

torch.set_num_threads equals hood's thread count. Prints hood-bench's JSON (common.py).
Usage: torch_train.py [--workload seed|fmnist|cnn] [--variant V] [--threads N] [--epochs N]
                      [--samples N] [--json F]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", default="seed", choices=sorted(common.TRAIN))
    ap.add_argument("--variant", action="append")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=0, help="including one warm-up epoch")
    ap.add_argument("--samples", type=int, default=0,
                    help="fmnist, cnn: the first N training samples only (hood-bench --samples)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", default="-")
    a = ap.parse_args()
    common.set_threads_env(a.threads)
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(a.threads)
    w = common.TRAIN[a.workload]
    Xn, yn = common.train_data(a.workload)
    if a.samples > 0 and a.workload != "seed":
        Xn, yn = Xn[:a.samples], yn[:a.samples]
    X = torch.from_numpy(Xn)  # (n, d) float32: the same bytes as hood's d x n column-major X
    if "conv" in w:
        X = X.reshape(-1, 1, 28, 28).contiguous()  # one channel: HWC and CHW are the same bytes
    k = w["layers"][-1][0]
    y = torch.from_numpy(yn.astype(np.float32)).reshape(-1, 1) if k == 1 \
        else torch.from_numpy(yn.astype(np.int64))
    n = X.shape[0]
    acts = {"tanh": nn.Tanh, "relu": nn.ReLU}
    results = []
    ok_all = True
    for variant in a.variant or list(w["variants"]):
        batch = w["variants"][variant]
        epochs = a.epochs or w["epochs"]
        torch.manual_seed(a.seed)
        layers = []
        d = w["input"]
        if "conv" in w:
            c = 1
            for f in w["conv"]:
                conv = nn.Conv2d(c, f, 3)
                nn.init.xavier_uniform_(conv.weight)  # fan_in 9c, fan_out 9f: Keras' glorot
                nn.init.zeros_(conv.bias)
                layers += [conv, nn.ReLU(), nn.MaxPool2d(2)]
                c = f
            layers += [nn.Flatten(), nn.Dropout(0.5)]
            d = 5 * 5 * c
        for units, act in w["layers"]:
            lin = nn.Linear(d, units)
            nn.init.xavier_uniform_(lin.weight)  # = Keras' glorot_uniform
            nn.init.zeros_(lin.bias)
            layers.append(lin)
            if act in acts:
                layers.append(acts[act]())
            d = units
        model = nn.Sequential(*layers)  # the output activation lives in the fused loss
        loss_fn = nn.BCEWithLogitsLoss() if k == 1 else nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=w["lr"])
        log = []
        for e in range(epochs):
            perm = torch.randperm(n)
            tg = tf = tb = tu = 0.0
            loss_sum = 0.0
            t_epoch, c_epoch = time.perf_counter(), time.process_time()
            for s in range(0, n, batch):
                t0 = time.perf_counter()
                idx = perm[s:s + batch]
                xb = X[idx]  # index_select is 30x slower here (torch 1.13, Debian)
                yb = y[idx]
                t1 = time.perf_counter()
                loss = loss_fn(model(xb), yb)
                t2 = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                t3 = time.perf_counter()
                opt.step()
                t4 = time.perf_counter()
                loss_sum += loss.item() * xb.shape[0]
                tg += t1 - t0
                tf += t2 - t1
                tb += t3 - t2
                tu += t4 - t3
            secs, cpu = time.perf_counter() - t_epoch, time.process_time() - c_epoch
            log.append({"epoch": e, "seconds": secs, "loss": loss_sum / n, "gather": tg,
                        "forward": tf, "backward": tb, "update": tu, "cpu_seconds": cpu})
        losses = [r["loss"] for r in log]
        ok, what = common.loss_check(variant, losses)
        ok_all &= ok
        timed = log[1:] or log
        med = sorted(timed, key=lambda r: r["seconds"])[len(timed) // 2]
        split = {p: med[p] for p in ("gather", "forward", "backward", "update")}
        r = common.train_result(a.workload, variant, a.threads, batch, log, n, ok, what,
                                split)
        common.print_train("torch", r)
        results.append(r)
    cfg = torch.__config__.show()
    blas = next((ln.strip() for ln in cfg.splitlines() if "BLAS_INFO" in ln), "torch")
    mach = common.machine(a.threads, blas, {"torch": torch.__version__,
                                            "numpy": np.__version__})
    rc = common.emit("torch", mach, results, a.json)
    return rc if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
