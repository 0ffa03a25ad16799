"""Shared helpers for the sweep-benchmark tasks: the search space (read from <task>.space.json, the same
file TrainQ's driver reads), CLI parsing and the `trainq:metric` report line."""
import json
import math
import os
import sys

# One thread per trial (the benchmark runs trials side by side on 2 cores); must precede numpy's import.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

HERE = os.path.dirname(os.path.abspath(__file__))


def load_digits_xy():
    """scikit-learn's bundled digits (1797 x 64, values 0..16) read straight from the file that
    sklearn.datasets.load_digits reads, without importing scikit-learn (saves ~0.4 s per process)."""
    import importlib.util

    import numpy as np

    root = os.path.dirname(importlib.util.find_spec("sklearn").origin)
    data = np.loadtxt(os.path.join(root, "datasets", "data", "digits.csv.gz"), delimiter=",")
    return data[:, :-1], data[:, -1].astype(int)


def load_space(task):
    """The task's sweep definition: {"metric","goal","maxEpochs","budgetEpochs","parameters":{...}}."""
    with open(os.path.join(HERE, task + ".space.json")) as f:
        return json.load(f)


def coerce(name, spec, raw):
    """A CLI string as the parameter's value (int, float or the matching choice value)."""
    kind = spec["type"]
    if kind == "fixed":
        return spec["value"]
    if kind == "float":
        v = float(raw)
    elif kind == "int":
        v = int(round(float(raw)))
    elif kind == "choice":
        for cand in spec["values"]:
            if str(cand) == raw:
                return cand
            if isinstance(cand, (int, float)) and not isinstance(cand, bool):
                try:
                    if float(raw) == float(cand):
                        return cand
                except ValueError:
                    pass
        raise SystemExit("--%s: %r is not one of %r" % (name, raw, spec["values"]))
    else:
        raise SystemExit("unknown parameter type %r" % kind)
    if not (spec["min"] <= v <= spec["max"]):
        # Out-of-range values are clamped, never rejected: a strategy at the edge must not fail a trial.
        v = min(max(v, spec["min"]), spec["max"])
    return v


def parse_cli(space, argv=None):
    """`--<param> value ... --epochs E --seed S` -> (params, epochs, seed). Missing params: error."""
    argv = list(sys.argv[1:] if argv is None else argv)
    raw = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("--"):
            raise SystemExit("unexpected argument %r" % a)
        if "=" in a:
            k, v = a[2:].split("=", 1)
            i += 1
        else:
            if i + 1 >= len(argv):
                raise SystemExit("%s needs a value" % a)
            k, v = a[2:], argv[i + 1]
            i += 2
        raw[k] = v
    params = {}
    for name, spec in space["parameters"].items():
        if spec["type"] == "fixed" and name not in raw:
            params[name] = spec["value"]
            continue
        if name not in raw:
            raise SystemExit("missing --%s" % name)
        params[name] = coerce(name, spec, raw.pop(name))
    epochs = int(raw.pop("epochs", space["maxEpochs"]))
    seed = int(raw.pop("seed", 0))
    if raw:
        raise SystemExit("unknown flags: %s" % ", ".join("--" + k for k in raw))
    return params, epochs, seed


def clean(value, goal):
    """Rounded to 6 decimals (what the CLI prints, so both harnesses see the same numbers); a NaN/inf
    (diverged run) becomes the worst finite value for the goal's metric family."""
    if value is None or not math.isfinite(value):
        return 0.0 if goal == "max" else 1e3
    return round(float(value), 6)


def main(task, train):
    """CLI entry: prints `trainq:metric <metric>=<value> step=<epoch>` after every epoch, exits 0."""
    space = load_space(task)
    params, epochs, seed = parse_cli(space)
    metric = space["metric"]

    def report(step, value):
        sys.stdout.write("trainq:metric %s=%s step=%d\n" % (metric, repr(value), step))
        sys.stdout.flush()

    train(params, epochs, seed, report)
    return 0
