"""tabular_gbt: scikit-learn GradientBoostingClassifier on scikit-learn's bundled Breast Cancer Wisconsin
(Diagnostic) set; one "epoch" adds TREES_PER_EPOCH trees (warm_start). Metric: val_logloss (min) on a fixed
stratified 60/40 split. The seed drives subsampling and feature sampling.

CLI: /usr/bin/python3 bench/sweeps/tabular_gbt.py --learning_rate 0.1 --max_depth 3 --subsample 0.8 \
         --min_samples_leaf 4 --max_features 0.3 --epochs 12 --seed 0
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

TASK = "tabular_gbt"
_SPEC = _common.load_space(TASK)
SPACE = _SPEC["parameters"]
METRIC = _SPEC["metric"]
GOAL = _SPEC["goal"]
MAX_EPOCHS = _SPEC["maxEpochs"]
BUDGET_EPOCHS = _SPEC["budgetEpochs"]
TREES_PER_EPOCH = 10


def load_data():
    """Breast cancer (569 x 30, binary); fixed stratified split, 60% train / 40% val, seed-independent."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.RandomState(12345)
    tr, va = [], []
    for c in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == c))
        cut = int(round(0.6 * len(idx)))
        tr.extend(idx[:cut])
        va.extend(idx[cut:])
    tr, va = np.sort(tr), np.sort(va)
    return X[tr], y[tr], X[va], y[va]


def logloss(y, p):
    import numpy as np

    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def train(params, epochs, seed, report):
    """Trains up to `epochs` epochs (TREES_PER_EPOCH trees each); report(epoch, val_logloss) after each."""
    from sklearn.ensemble import GradientBoostingClassifier

    Xtr, ytr, Xva, yva = load_data()
    clf = GradientBoostingClassifier(
        learning_rate=float(params["learning_rate"]),
        max_depth=int(params["max_depth"]),
        subsample=float(params["subsample"]),
        min_samples_leaf=int(params["min_samples_leaf"]),
        max_features=float(params["max_features"]),
        n_estimators=TREES_PER_EPOCH,
        warm_start=True,
        random_state=seed,
    )
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(1, epochs + 1):
            clf.set_params(n_estimators=TREES_PER_EPOCH * epoch)
            clf.fit(Xtr, ytr)
            value = _common.clean(logloss(yva, clf.predict_proba(Xva)[:, 1]), GOAL)
            report(epoch, value)
            best = value if best is None else min(best, value)
    return best


if __name__ == "__main__":
    sys.exit(_common.main(TASK, train))
