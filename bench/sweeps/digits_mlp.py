"""digits_mlp: scikit-learn MLPClassifier (one hidden layer, Adam) on scikit-learn's bundled 8x8 digits,
trained one epoch per partial_fit call. Metric: val_acc (max) on a fixed stratified 70/30 split.

CLI: /usr/bin/python3 bench/sweeps/digits_mlp.py --lr 0.003 --alpha 1e-4 --hidden 64 --batch_size 32 \
         --epochs 12 --seed 0
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

TASK = "digits_mlp"
_SPEC = _common.load_space(TASK)
SPACE = _SPEC["parameters"]
METRIC = _SPEC["metric"]
GOAL = _SPEC["goal"]
MAX_EPOCHS = _SPEC["maxEpochs"]
BUDGET_EPOCHS = _SPEC["budgetEpochs"]


def load_data():
    """Digits scaled to [0,1]; fixed stratified split (70% train / 30% val), independent of the seed."""
    import numpy as np
    X, y = _common.load_digits_xy()  # == sklearn.datasets.load_digits(return_X_y=True)
    X = X / 16.0
    rng = np.random.RandomState(12345)
    tr, va = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        cut = int(round(0.7 * len(idx)))
        tr.extend(idx[:cut])
        va.extend(idx[cut:])
    tr, va = np.sort(tr), np.sort(va)
    return X[tr], y[tr], X[va], y[va]


def train(params, epochs, seed, report):
    """Trains up to `epochs` epochs; calls report(epoch, val_acc) after each (1-based epochs).
    Deterministic for (params, epochs, seed); report may raise to stop."""
    import numpy as np
    from sklearn.neural_network import MLPClassifier

    Xtr, ytr, Xva, yva = load_data()
    clf = MLPClassifier(
        hidden_layer_sizes=(int(params["hidden"]),),
        solver="adam",
        learning_rate_init=float(params["lr"]),
        alpha=float(params["alpha"]),
        batch_size=int(params["batch_size"]),
        random_state=seed,
        shuffle=True,
    )
    classes = np.arange(10)
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(1, epochs + 1):
            clf.partial_fit(Xtr, ytr, classes=classes)
            acc = float(np.mean(clf.predict(Xva) == yva))
            value = _common.clean(acc, GOAL)
            report(epoch, value)
            best = value if best is None else max(best, value)
    return best


if __name__ == "__main__":
    sys.exit(_common.main(TASK, train))
