"""Optuna baseline for the sweep benchmark: runs one task IN-PROCESS under Optuna with an epoch budget.

  /usr/bin/python3 bench/sweeps/optuna_runner.py --task digits_mlp --sampler tpe|random --seed S \
      [--budget-epochs N] [--max-epochs M] --out result.json

* Search space: the task's <task>.space.json (the file TrainQ's driver reads), mapped to
  suggest_float(log=...), suggest_int(log=...) and suggest_categorical.
* tpe:    TPESampler(seed=S) with Optuna's default settings (n_startup_trials=10, multivariate=False),
          pruner MedianPruner(n_startup_trials=5, n_warmup_steps=3, interval_steps=1): a trial is pruned at
          epoch >= 3 when its best value so far is worse than the median of the COMPLETED trials' values at
          that epoch, once >= 5 trials completed (TrainQ's median rule with graceSteps=3, minTrials=5).
* random: RandomSampler(seed=S), no pruning (optuna.pruners.NopPruner).
* Budget: epochs summed over all trials (a pruned trial counts the epochs it ran). Trials run up to
  maxEpochs; the trial that reaches the budget is cut at exactly the budget and the run ends
  (that cut trial is told to Optuna as PRUNED). Total epochs == budget exactly.
* best: the best value ANY trial reported at ANY epoch (goal-aware) — the same way TrainQ's side counts.
  bestCurve: [[epochsUsed, bestSoFar], ...], one point per improvement plus a final point at the budget.
"""
import argparse
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _common  # noqa: E402

PRUNER_STARTUP_TRIALS = 5
PRUNER_WARMUP_STEPS = 3


class _BudgetSpent(Exception):
    pass


def suggest(trial, space):
    params = {}
    for name, spec in space.items():
        t = spec["type"]
        if t == "float":
            params[name] = trial.suggest_float(name, spec["min"], spec["max"], log=bool(spec.get("log")))
        elif t == "int":
            params[name] = trial.suggest_int(name, int(spec["min"]), int(spec["max"]), log=bool(spec.get("log")))
        elif t == "fixed":
            params[name] = spec["value"]
        elif t == "choice":
            params[name] = trial.suggest_categorical(name, spec["values"])
        else:
            raise ValueError("unknown parameter type %r" % t)
    return params


def run(task, sampler_name, seed, budget=None, max_epochs=None):
    import importlib

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    mod = importlib.import_module(task)
    spec = _common.load_space(task)
    goal = spec["goal"]
    budget = int(budget or spec["budgetEpochs"])
    max_epochs = int(max_epochs or spec["maxEpochs"])
    better = (lambda a, b: a > b) if goal == "max" else (lambda a, b: a < b)

    if sampler_name == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
        pruner = optuna.pruners.MedianPruner(
            n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=PRUNER_WARMUP_STEPS, interval_steps=1)
    elif sampler_name == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
        pruner = optuna.pruners.NopPruner()
    else:
        raise SystemExit("--sampler must be tpe or random")
    study = optuna.create_study(direction="maximize" if goal == "max" else "minimize",
                                sampler=sampler, pruner=pruner)

    t0 = time.perf_counter()
    used = 0
    best = None
    curve = []
    trials = []
    while used < budget:
        trial = study.ask()
        params = suggest(trial, spec["parameters"])
        rec = {"params": params, "epochs": 0, "values": [], "state": "complete"}
        trials.append(rec)

        def report(step, value, trial=trial, rec=rec):
            nonlocal used, best
            used += 1
            rec["epochs"] = step
            rec["values"].append(value)
            if best is None or better(value, best):
                best = value
                curve.append([used, best])
            trial.report(value, step)
            if used >= budget and step < max_epochs:
                raise _BudgetSpent()
            if trial.should_prune():
                raise optuna.TrialPruned()

        try:
            mod.train(params, max_epochs, seed, report)
        except optuna.TrialPruned:
            rec["state"] = "pruned"
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            continue
        except _BudgetSpent:
            rec["state"] = "cut"
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            break
        last = rec["values"][-1] if rec["values"] else float("nan")
        study.tell(trial, last)  # the objective of a completed trial: its value at the last epoch
    if not curve or curve[-1][0] != used:
        curve.append([used, best])
    return {
        "task": task,
        "sampler": sampler_name,
        "seed": seed,
        "budgetEpochs": budget,
        "maxEpochs": max_epochs,
        "epochsUsed": used,
        "metric": spec["metric"],
        "goal": goal,
        "best": best,
        "bestCurve": curve,
        "pruner": None if sampler_name == "random" else {
            "name": "MedianPruner", "n_startup_trials": PRUNER_STARTUP_TRIALS,
            "n_warmup_steps": PRUNER_WARMUP_STEPS, "interval_steps": 1},
        "trials": trials,
        "wallSec": round(time.perf_counter() - t0, 3),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", required=True)
    ap.add_argument("--sampler", required=True, choices=["tpe", "random"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget-epochs", type=int, default=None)
    ap.add_argument("--max-epochs", type=int, default=None)
    ap.add_argument("--out", default=None, help="JSON file (default: stdout)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    res = run(a.task, a.sampler, a.seed, a.budget_epochs, a.max_epochs)
    res["processWallSec"] = round(time.perf_counter() - t0, 3)  # includes imports
    text = json.dumps(res, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
