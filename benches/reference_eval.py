"""The reference evaluator on the movies of `cargo bench --bench eval`, for a side-by-side time.

    SCENELAB_EVAL_DUMP=/tmp/movies.json cargo bench --bench eval
    python3 benches/reference_eval.py /tmp/movies.json REF_DIR

REF_DIR holds the challenge's evaluate_sceneseg.py (github.com/eluv-io/elv-ml-challenge).
Needs numpy and scikit-learn; outside CI. Times, on one core as Python runs it:
- the reference metrics at 0.5 (calc_ap, calc_miou, calc_precision_recall), median of 5 runs;
- what a notebook does for what `report` gives: those, plus sklearn's precision-recall curve
  per movie and pooled, plus calc_miou and calc_precision_recall at each of 101 thresholds.
Then checks that the totals equal SceneLab's, bit for bit.
"""

import json
import statistics
import sys
import time

import numpy as np
from sklearn.metrics import precision_recall_curve


def main():
    dump_path, ref_dir = sys.argv[1], sys.argv[2]
    sys.path.insert(0, ref_dir)
    import evaluate_sceneseg as ref

    with open(dump_path) as f:
        dump = json.load(f)
    gt, pr, sef = {}, {}, {}
    for m in dump["movies"]:
        gt[m["imdb_id"]] = np.array(m["gt"], dtype=bool)
        pr[m["imdb_id"]] = np.array(m["scores"], dtype=np.float32)
        sef[m["imdb_id"]] = np.array(m["shot_end_frame"], dtype=np.int64)

    def reference_at(threshold):
        s = {}
        s["AP"], s["mAP"], _ = ref.calc_ap(gt, pr)
        s["Miou"], _ = ref.calc_miou(gt, pr, sef, threshold=threshold)
        s["Precision"], s["Recall"], s["F1"], *_ = ref.calc_precision_recall(
            gt, pr, threshold=threshold
        )
        return s

    def notebook_report():
        reference_at(0.5)
        for k in gt:
            precision_recall_curve(gt[k], pr[k])
        precision_recall_curve(
            np.concatenate(list(gt.values())), np.concatenate(list(pr.values()))
        )
        for t in np.arange(101, dtype=np.float32) / np.float32(100):
            ref.calc_miou(gt, pr, sef, threshold=t)
            ref.calc_precision_recall(gt, pr, threshold=t)

    def timed(f, runs):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            f()
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1e3

    shots = sum(len(v) + 1 for v in gt.values()) // len(gt)
    print(f"reference: {len(gt)} movies x {shots} shots")
    print(f"{'step':<48} {'median ms':>11}")
    print(f"{'evaluate_sceneseg.py metrics at 0.5 (5 runs)':<48} {timed(lambda: reference_at(0.5), 5):>11.1f}")
    print(f"{'same + PR curves + 101-threshold sweep (1 run)':<48} {timed(notebook_report, 1):>11.1f}")

    ours = dump["scenelab"]
    theirs = {k: float(v) for k, v in reference_at(0.5).items()}
    same = all(
        (np.isnan(theirs[k]) and ours[k] is None) or theirs[k] == ours[k] for k in theirs
    )
    print("totals bit-identical to SceneLab's:", same)
    if not same:
        print("reference:", theirs, "\nscenelab: ", ours)
        sys.exit(1)


if __name__ == "__main__":
    main()
