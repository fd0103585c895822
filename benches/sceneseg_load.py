#!/usr/bin/env python3
"""Load a folder the way SceneSeg's Python data code does, and report time and peak memory.

MovieNet layout (`scenelab demo --layout movienet`): for every movie, `np.load` of each
`place_feat/<imdb>/shot_SSSS.npy` and `aud_feat/<imdb>/shot_SSSS.npy` (a `.npy` per shot, as
SceneSeg's `data/movienet.py` reads them), `pickle.load` of `cast_feat/<imdb>.pkl` and
`act_feat/<imdb>.pkl` (a dict of shot -> vector per movie), and the label file. Every shot's
vectors are held in memory, stacked per movie as float32 `[shots, d]` arrays, so the figures
compare with `scenelab bench load`, which also holds everything.

pkl layout (the challenge's files): `pickle.load` of each `tt*.pkl`.

The pkl files hold torch tensors (the challenge's format), so torch is imported for them and
tensors are turned into numpy arrays; the MovieNet dict pickles SceneLab writes hold numpy
arrays, as MovieNet's own, and need numpy alone. Peak memory is
`resource.getrusage(RUSAGE_SELF).ru_maxrss` (KiB on Linux), read after the imports (numpy,
and torch for pkl files), so the baseline of the interpreter shows.

    python3 benches/sceneseg_load.py DIR [--json OUT]
"""

import argparse
import glob
import json
import os
import pickle
import resource
import sys
import time

import numpy as np


def peak_rss_bytes():
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib if sys.platform == "darwin" else kib * 1024


def as_numpy(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def stack_shots(folder):
    files = sorted(glob.glob(os.path.join(folder, "shot_*.npy")))
    return np.stack([np.load(f) for f in files]).astype(np.float32, copy=False)


def stack_dict(path, n_shots):
    with open(path, "rb") as f:
        d = pickle.load(f)
    rows = {int(k): as_numpy(v).reshape(-1, as_numpy(v).shape[-1]).mean(0) for k, v in d.items()}
    width = len(next(iter(rows.values())))
    out = np.zeros((n_shots, width), dtype=np.float32)
    for i, r in rows.items():
        if i < n_shots:
            out[i] = r
    return out


def load_movienet(root):
    labels = sorted(glob.glob(os.path.join(root, "label*", "*.txt")))
    movies = {}
    for label in labels:
        imdb = os.path.splitext(os.path.basename(label))[0]
        with open(label) as f:
            gt = np.array([int(line.split()[1]) for line in f if line.strip()])
        place = stack_shots(os.path.join(root, "place_feat", imdb))
        n = place.shape[0]
        movies[imdb] = {
            "label": gt,
            "place": place,
            "audio": stack_shots(os.path.join(root, "aud_feat", imdb)),
            "cast": stack_dict(os.path.join(root, "cast_feat", imdb + ".pkl"), n),
            "action": stack_dict(os.path.join(root, "act_feat", imdb + ".pkl"), n),
        }
    return movies


def load_pkl(root):
    movies = {}
    for path in sorted(glob.glob(os.path.join(root, "*.pkl"))):
        with open(path, "rb") as f:
            d = pickle.load(f)
        movies[d["imdb_id"]] = {k: as_numpy(v) for k, v in d.items() if k != "imdb_id"}
    return movies


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--json")
    args = ap.parse_args()
    movienet = bool(glob.glob(os.path.join(args.dir, "label*")))
    if not movienet:
        import torch  # noqa: F401  (unpickles the torch tensors of the pkl files)
    base = peak_rss_bytes()
    start = time.perf_counter()
    movies = load_movienet(args.dir) if movienet else load_pkl(args.dir)
    seconds = time.perf_counter() - start
    shots = sum(len(m["place"]) for m in movies.values())
    held = sum(a.nbytes for m in movies.values() for a in m.values() if hasattr(a, "nbytes"))
    figures = {
        "dir": args.dir,
        "layout": "movienet" if movienet else "pkl",
        "movies": len(movies),
        "shots": shots,
        "seconds": seconds,
        "held_bytes": held,
        "peak_rss_bytes": peak_rss_bytes(),
        "baseline_rss_bytes": base,
    }
    print(
        f"python ({figures['layout']}): {len(movies)} movies, {shots} shots in {seconds:.1f} s; "
        f"arrays {held / 1e6:.0f} MB; peak RSS {figures['peak_rss_bytes'] / 1e6:.0f} MB "
        f"(interpreter with its imports: {base / 1e6:.0f} MB)"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
