"""Check that a model exported with `scenelab export-torch` scores movies in its PyTorch twin
as SceneLab does.

usage: python3 python/check_twin.py EXPORT_DIR MOVIES_DIR SCORED_DIR [--reference REF_DIR]

EXPORT_DIR: what `scenelab export-torch MODEL_DIR EXPORT_DIR` wrote.
MOVIES_DIR: the tt*.pkl movies. SCORED_DIR: what `scenelab predict MOVIES_DIR --model MODEL_DIR
--out SCORED_DIR --raw-scores` wrote. With REF_DIR (a folder holding the challenge's
evaluate_sceneseg.py), both sets of scores are evaluated on the model's test movies.
Prints the largest score difference and, with REF_DIR, both evaluations as JSON.
"""

import argparse
import glob
import json
import os
import pickle
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenelab_torch  # noqa: E402

FEATS = ["place", "cast", "action", "audio"]
PRED = "scene_transition_boundary_prediction"
GT = "scene_transition_boundary_ground_truth"


def evaluate(ref, movies, scores):
    gt = {m["imdb_id"]: m[GT].numpy().astype(bool) for m in movies}
    pr = {m["imdb_id"]: scores[m["imdb_id"]] for m in movies}
    sef = {m["imdb_id"]: m["shot_end_frame"].numpy() for m in movies}
    s = {}
    s["AP"], s["mAP"], _ = ref.calc_ap(gt, pr)
    s["Miou"], _ = ref.calc_miou(gt, pr, sef)
    s["Precision"], s["Recall"], s["F1"], *_ = ref.calc_precision_recall(gt, pr)
    return {k: float(v) for k, v in s.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("export_dir")
    p.add_argument("movies_dir")
    p.add_argument("scored_dir")
    p.add_argument("--reference")
    a = p.parse_args()
    model = scenelab_torch.load(a.export_dir)
    with open(os.path.join(a.export_dir, "config.json")) as f:
        test_ids = set(json.load(f).get("split", {}).get("test", []))
    worst, movies, twin, ours = 0.0, [], {}, {}
    for path in sorted(glob.glob(os.path.join(a.movies_dir, "tt*.pkl"))):
        with open(path, "rb") as f:
            m = pickle.load(f)
        raw = torch.cat([torch.as_tensor(m[k]).float() for k in FEATS], 1)[None]
        with torch.no_grad():
            probs = model.score(raw, [raw.shape[1]])[0].numpy()
        with open(os.path.join(a.scored_dir, os.path.basename(path)), "rb") as f:
            theirs = torch.as_tensor(pickle.load(f)[PRED]).float().numpy()
        worst = max(worst, float(abs(probs - theirs).max()))
        twin[m["imdb_id"]], ours[m["imdb_id"]] = probs, theirs
        if m["imdb_id"] in test_ids:
            movies.append(m)
    out = {"class": type(model).__name__, "movies": len(twin), "max_abs_score_difference": worst}
    if a.reference:
        sys.path.insert(0, a.reference)
        import evaluate_sceneseg as ref

        out["test_movies"] = len(movies)
        out["scenelab"] = evaluate(ref, movies, ours)
        out["twin"] = evaluate(ref, movies, twin)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
