"""PyTorch peer of SceneLab's BiLSTM, for the side-by-side timing `torch_baselines.py` lacks.

Same model (2 bidirectional LSTM layers of 32 units over z-scored shot features, one logit per
shot, the output at shot i+1 scoring the boundary after shot i), same training recipe as
`scenelab bench train --models bilstm`: 4 movies per step cut into pieces of 128 shots at a
random offset, pos-weighted BCE, AdamW at 2e-3, whole movies at test time.

usage: python benches/torch_bilstm.py REFERENCE_DIR DATA_DIR [--epochs 3] [--threads 2] [--test 7]
(it imports `torch_baselines.py` from ../shared/baselines for loading, the split and scoring).
Prints one JSON line: seconds per epoch and the test scores.
"""
import argparse, json, os, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "baselines"))
import torch_baselines as tb  # noqa: E402


class BiLSTM(nn.Module):
    def __init__(self, dim, hidden=32, layers=2):
        super().__init__()
        self.lstm = nn.LSTM(dim, hidden, layers, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, 1)

    def forward(self, x):  # [B, T, D] -> [B, T]
        return self.out(self.lstm(x)[0]).squeeze(-1)


def pieces(m, rng, length=128):
    n = m["x"].shape[0]
    cuts = [0]
    nxt = int(rng.integers(0, length)) or length
    while nxt + 1 < n:
        cuts.append(nxt)
        nxt += length
    out = []
    for k, start in enumerate(cuts):
        end = cuts[k + 1] + 1 if k + 1 < len(cuts) else n
        out.append((m["x"][start:end], m["gt"][start:end - 1]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ref"); ap.add_argument("data")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--test", type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    sys.path.insert(0, a.ref)
    import evaluate_sceneseg as ref
    movies = tb.load(a.data)
    order = np.random.RandomState(42).permutation(len(movies))
    train = [movies[i] for i in order[:-a.test]]; test = [movies[i] for i in order[-a.test:]]
    allx = torch.cat([m["x"] for m in train])
    mean, std = allx.mean(0), allx.std(0).clamp_min(1e-6)
    for m in movies:
        m["x"] = (m["x"] - mean) / std
    pos = sum(m["gt"].sum() for m in train); tot = sum(len(m["gt"]) for m in train)
    pos_weight = torch.tensor((tot - pos) / pos, dtype=torch.float32)
    torch.manual_seed(0)
    model = BiLSTM(train[0]["x"].shape[1])
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    seconds = []
    for ep in range(a.epochs):
        t0 = time.time()
        rng = np.random.default_rng(ep)
        perm = rng.permutation(len(train))
        for b in range(0, len(perm), 4):
            ps = [p for i in perm[b:b + 4] for p in pieces(train[i], rng)]
            T = max(p[0].shape[0] for p in ps)
            X = torch.zeros(len(ps), T, ps[0][0].shape[1]); Y = torch.zeros(len(ps), T); M = torch.zeros(len(ps), T)
            for i, (x, y) in enumerate(ps):
                X[i, :x.shape[0]] = x
                Y[i, 1:x.shape[0]] = torch.from_numpy(y.astype(np.float32))
                M[i, 1:x.shape[0]] = 1
            loss = (F.binary_cross_entropy_with_logits(model(X), Y, reduction="none", pos_weight=pos_weight) * M).sum() / M.sum()
            opt.zero_grad(); loss.backward(); opt.step()
        seconds.append(time.time() - t0)
    with torch.no_grad():
        preds = {m["id"]: torch.sigmoid(model(m["x"][None]))[0, 1:].numpy() for m in test}
    print(json.dumps({"model": "bilstm_torch", "epochs": a.epochs,
                      "s_per_epoch": round(sum(seconds) / len(seconds), 1),
                      **tb.score(ref, test, preds)}), flush=True)


if __name__ == "__main__":
    main()
