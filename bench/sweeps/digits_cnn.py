"""digits_cnn: a small PyTorch CNN (conv3x3(c) - ReLU - conv3x3(c) - ReLU - maxpool2 - linear) on
scikit-learn's bundled 8x8 digits, mini-batches of 32, one thread. Metric: val_acc (max) on the same fixed
stratified 70/30 split as digits_mlp. `momentum` is SGD's momentum, or Adam's beta1 when optimizer=adam.

CLI: /usr/bin/python3 bench/sweeps/digits_cnn.py --lr 0.01 --momentum 0.9 --weight_decay 1e-4 \
         --channels 16 --optimizer sgd --epochs 8 --seed 0
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402
from digits_mlp import load_data  # noqa: E402  (same fixed split)

TASK = "digits_cnn"
_SPEC = _common.load_space(TASK)
SPACE = _SPEC["parameters"]
METRIC = _SPEC["metric"]
GOAL = _SPEC["goal"]
MAX_EPOCHS = _SPEC["maxEpochs"]
BUDGET_EPOCHS = _SPEC["budgetEpochs"]
BATCH = 32


def train(params, epochs, seed, report):
    """Trains up to `epochs` epochs; report(epoch, val_acc) after each. Deterministic (1 thread, seeded)."""
    import torch
    import torch.nn as nn

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)  # denormals made some Adam runs 10-30x slower per epoch
    torch.manual_seed(seed)
    Xtr, ytr, Xva, yva = load_data()
    mean = float(Xtr.mean())
    xtr = torch.tensor(Xtr - mean, dtype=torch.float32).reshape(-1, 1, 8, 8)
    xva = torch.tensor(Xva - mean, dtype=torch.float32).reshape(-1, 1, 8, 8)
    ytr_t = torch.tensor(ytr, dtype=torch.long)
    yva_t = torch.tensor(yva, dtype=torch.long)

    c = int(params["channels"])
    model = nn.Sequential(
        nn.Conv2d(1, c, 3, padding=1), nn.ReLU(),
        nn.Conv2d(c, c, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(c * 16, 10),
    )
    lr, mom, wd = float(params["lr"]), float(params["momentum"]), float(params["weight_decay"])
    if params["optimizer"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(mom, 0.999), weight_decay=wd)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom, weight_decay=wd)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    n = xtr.shape[0]
    best = None
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr_t[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = float((model(xva).argmax(1) == yva_t).float().mean())
        value = _common.clean(acc, GOAL)
        report(epoch, value)
        best = value if best is None else max(best, value)
    return best


if __name__ == "__main__":
    sys.exit(_common.main(TASK, train))
