"""Measures what bench/sweeps/README.md states: per-epoch time, process start-up, full-trial time,
the spread of the metric over random configurations vs seed noise, and determinism.

  /usr/bin/python3 bench/sweeps/measure.py [--configs 40] [--tasks digits_mlp,tabular_gbt,digits_cnn] [--out f.json]
"""
import argparse
import importlib
import json
import os
import statistics as st
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _common  # noqa: E402


def sample(space, rng):
    import math
    p = {}
    for name, s in space.items():
        if s["type"] == "choice":
            p[name] = s["values"][rng.randint(len(s["values"]))]
        elif s.get("log"):
            v = math.exp(rng.uniform(math.log(s["min"]), math.log(s["max"])))
            p[name] = int(round(v)) if s["type"] == "int" else v
        else:
            p[name] = int(rng.randint(s["min"], s["max"] + 1)) if s["type"] == "int" else rng.uniform(s["min"], s["max"])
    return p


def run_inproc(mod, params, epochs, seed):
    times, values = [], []
    t = [time.perf_counter()]

    def report(step, v):
        now = time.perf_counter()
        times.append(now - t[0])
        values.append(v)
        t[0] = now

    t0 = time.perf_counter()
    mod.train(params, epochs, seed, report)
    return values, times, time.perf_counter() - t0


def cli_args(params, epochs, seed):
    a = []
    for k, v in params.items():
        a += ["--" + k, repr(v) if isinstance(v, float) else str(v)]
    return a + ["--epochs", str(epochs), "--seed", str(seed)]


def q(xs, f):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(f * len(xs)))]


def measure(task, n_configs):
    import numpy as np
    mod = importlib.import_module(task)
    spec = _common.load_space(task)
    goal, E = spec["goal"], spec["maxEpochs"]
    bestf = max if goal == "max" else min
    rng = np.random.RandomState(2024)
    rows = []
    run_inproc(mod, sample(spec["parameters"], rng), 1, 0)  # warm imports
    for _ in range(n_configs):
        p = sample(spec["parameters"], rng)
        vals, times, wall = run_inproc(mod, p, E, 0)
        rows.append({"params": p, "best": bestf(vals), "final": vals[-1], "epochSec": times, "trialSec": wall})
    all_ep = [t for r in rows for t in r["epochSec"][1:]]  # epoch >= 2 (epoch 1 includes data loading)
    bests = [r["best"] for r in rows]
    order = sorted(range(len(rows)), key=lambda i: bests[i], reverse=(goal == "max"))
    good, med = rows[order[0]], rows[order[len(order) // 2]]
    noise = {}
    for label, r in (("good", good), ("median", med)):
        vs = [bestf(run_inproc(mod, r["params"], E, s)[0]) for s in range(5)]
        noise[label] = {"params": r["params"], "bestBySeed": vs, "std": round(st.pstdev(vs), 5)}
    # Determinism: same (params, seed, epochs) twice.
    a = run_inproc(mod, med["params"], E, 3)[0]
    b = run_inproc(mod, med["params"], E, 3)[0]
    # Process timings (median of 3): 1 epoch, and a full trial, of the median config.
    script = os.path.join(HERE, task + ".py")

    def proc(epochs):
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, script] + cli_args(med["params"], epochs, 0),
                                 capture_output=True, text=True, check=True).stdout
            ts.append(time.perf_counter() - t0)
            assert out.count("trainq:metric") == epochs, out
        return st.median(ts)

    p1, pfull = proc(1), proc(E)
    ep_med = st.median(all_ep)
    return {
        "task": task, "metric": spec["metric"], "goal": goal, "maxEpochs": E, "budgetEpochs": spec["budgetEpochs"],
        "configs": n_configs,
        "epochSec": {"median": round(ep_med, 4), "mean": round(st.mean(all_ep), 4), "max": round(max(all_ep), 4)},
        "inprocTrialSec": {"median": round(st.median(r["trialSec"] for r in rows), 3),
                            "max": round(max(r["trialSec"] for r in rows), 3)},
        "process1EpochSec": round(p1, 3), "processStartupSec": round(p1 - ep_med, 3),
        "processFullTrialSec": round(pfull, 3),
        "bestOverRandomConfigs": {"min": min(bests), "q10": q(bests, 0.1), "q25": q(bests, 0.25),
                                  "median": q(bests, 0.5), "q75": q(bests, 0.75), "q90": q(bests, 0.9),
                                  "max": max(bests)},
        "seedNoise": noise,
        "deterministic": a == b,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", type=int, default=40)
    ap.add_argument("--tasks", default="digits_mlp,tabular_gbt,digits_cnn")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    res = []
    for t in a.tasks.split(","):
        r = measure(t, a.configs)
        res.append(r)
        print(json.dumps(r), flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
