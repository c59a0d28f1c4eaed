#!/usr/bin/python3
"""python_train.py — the Python API's cost over the CLI's: ms/epoch of hood.keras' fit against
`hood train` on the same data (.npz), model, seed and batch size (bench/peers/common.py's seed
and fmnist workloads). Checks first: both runs must end with the same weights, bit for bit.
Not part of hood-bench's table. Run from the build tree:
  HOOD_LIBRARY=build/libhood.so PYTHONPATH=python bench/python_train.py --hood build/cli/hood
Usage: python_train.py [--hood PATH] [--workload seed|fmnist]... [--epochs N] [--rounds N]"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
import common  # noqa: E402


def cli_run(hood, data, tmp, w, batch, epochs):
    layers = ",".join("%d:%s" % (u, a) for u, a in w["layers"])
    hist, model = os.path.join(tmp, "h.csv"), os.path.join(tmp, "m.hood")
    subprocess.run([hood, "train", data, "-o", model, "--layers", layers, "--loss", w["loss"],
                    "--optimizer", "sgd", "--learning-rate", str(w["lr"]), "--epochs",
                    str(epochs), "--batch-size", str(batch), "--history", hist, "--verbose", "0"],
                   check=True)
    with open(hist) as f:
        secs = [float(r["seconds"]) for r in csv.DictReader(f)]
    subprocess.run([hood, "export-weights", model, "-o", os.path.join(tmp, "w.npz")], check=True)
    import numpy as np
    with np.load(os.path.join(tmp, "w.npz")) as z:
        return secs, [z[k] for k in z.files]


def python_run(x, y, w, batch, epochs):
    from hood.keras import Sequential, callbacks
    from hood.keras.layers import Dense
    from hood.keras.optimizers import SGD

    class Clock(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.secs = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.secs.append(time.perf_counter() - self.t)

    model = Sequential()
    for i, (units, act) in enumerate(w["layers"]):
        model.add(Dense(units, activation=act, **({"input_dim": w["input"]} if i == 0 else {})))
    model.compile(loss=w["loss"], optimizer=SGD(learning_rate=w["lr"]), metrics=["accuracy"])
    clock = Clock()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[clock])
    from hood._lib import lib
    ptr = model._handle.ptr
    inside = [lib.hood_model_history(ptr, i).contents.seconds
              for i in range(lib.hood_model_history_length(ptr))]
    return clock.secs, inside, model.get_weights()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hood", default=os.environ.get("HOOD", "hood"))
    ap.add_argument("--workload", action="append", choices=sorted(common.TRAIN))
    ap.add_argument("--epochs", type=int, default=0, help="per run, the first one a warm-up")
    ap.add_argument("--rounds", type=int, default=2, help="CLI and Python runs, alternated")
    a = ap.parse_args()
    import numpy as np
    # python ms/ep: wall time of an epoch seen from Python (callbacks included); in-hood: the
    # same epochs as hood measures them (hood_epoch_log.seconds, what the CLI's column is).
    print("%-7s %-5s %10s %13s %10s %7s  check" % ("work", "var", "cli ms/ep", "python ms/ep",
                                                    "in-hood", "ratio"))
    for name in a.workload or ["seed", "fmnist"]:
        w = common.TRAIN[name]
        x, y = common.train_data(name)
        epochs = a.epochs or w["epochs"]
        with tempfile.TemporaryDirectory(prefix="hood-pybench-") as tmp:
            data = os.path.join(tmp, "d.npz")
            np.savez(data, x=x, y=y.astype(np.int32))
            for variant, batch in w["variants"].items():
                cli_t, py_t, in_t, same = [], [], [], True
                for _ in range(a.rounds):
                    secs, cli_w = cli_run(a.hood, data, tmp, w, batch, epochs)
                    cli_t += secs[1:]
                    secs, inside, py_w = python_run(x, y, w, batch, epochs)
                    py_t += secs[1:]
                    in_t += inside[1:]
                    same = same and all(np.array_equal(p, c) for p, c in zip(py_w, cli_w))
                c, p = statistics.median(cli_t) * 1e3, statistics.median(py_t) * 1e3
                print("%-7s %-5s %10.2f %13.2f %10.2f %7.3f  %s" % (
                    name, variant, c, p, statistics.median(in_t) * 1e3, p / c,
                    "weights equal bit for bit" if same else "WEIGHTS DIFFER"), flush=True)


if __name__ == "__main__":
    main()
