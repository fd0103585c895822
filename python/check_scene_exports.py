"""Check `scenelab export`'s files with independent readers (run by hand, outside CI).

    python3 -m venv /tmp/otio-venv
    /tmp/otio-venv/bin/pip install opentimelineio otio-cmx3600-adapter scenedetect opencv-python-headless
    scenelab export DIR --field ground_truth --format json --fps 23.976 --out OUT/json
    scenelab export DIR --field ground_truth --format csv  --fps 23.976 --out OUT/csv
    scenelab export DIR --field ground_truth --format edl  --fps 23.976 --out OUT/edl
    /tmp/otio-venv/bin/python python/check_scene_exports.py OUT --fps 23.976

For every movie, the scenes of OUT/json/<imdb>.json (LGSS's shape) are the reference:
- OUT/edl/<imdb>.edl is read by OpenTimelineIO's cmx_3600 adapter; each clip's source range
  (start frame, duration) must be its scene's [start, end + 1) and the clips must follow each
  other on the track;
- OUT/csv/<imdb>.csv must equal, byte for byte, what PySceneDetect's own `write_scene_list`
  (include_cut_list=False) writes for those scenes at the same rate.
Prints one line per movie and a summary; exits 1 on any difference.
"""

import argparse
import io
import json
import sys
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
from scenedetect import FrameTimecode
from scenedetect.output import write_scene_list


def lgss_scenes(path):
    d = json.loads(path.read_text())
    return [(int(v["frame"][0]), int(v["frame"][1])) for _, v in sorted(d.items(), key=lambda kv: int(kv[0]))]


def otio_rate(fps):
    # OpenTimelineIO accepts an NTSC rate only as the exact fraction.
    base = round(fps * 1001 / 1000)
    if fps != int(fps) and abs(base * 1000 / 1001 - fps) < 1e-3:
        return base * 1000 / 1001
    return fps


def check_edl(path, scenes, fps):
    tl = otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=otio_rate(fps))
    clips = list(tl.find_clips())
    problems = []
    if len(clips) != len(scenes):
        problems.append(f"{len(clips)} clips for {len(scenes)} scenes")
    for k, (clip, (start, end)) in enumerate(zip(clips, scenes)):
        r = clip.source_range
        got = (round(r.start_time.value), round(r.duration.value))
        if got != (start, end + 1 - start):
            problems.append(f"clip {k}: source {got}, scene frames {start}-{end}")
        rec = clip.range_in_parent()
        if round(rec.start_time.value) != start:
            problems.append(f"clip {k}: record in {rec.start_time.value}, scene starts at {start}")
    first = clips[0].source_range if clips else None
    last = clips[-1].source_range if clips else None
    span = f"{first.start_time.value:.0f}..{last.end_time_exclusive().value:.0f}" if clips else "-"
    return len(clips), span, problems


def check_csv(path, scenes, fps):
    rate = Fraction(fps) if fps == int(fps) else fps
    scene_list = [(FrameTimecode(s, rate), FrameTimecode(e + 1, rate)) for s, e in scenes]
    buf = io.StringIO()
    write_scene_list(buf, scene_list, include_cut_list=False)
    want = buf.getvalue()
    got = path.read_text()
    if got == want:
        return []
    for i, (a, b) in enumerate(zip(got.splitlines(), want.splitlines())):
        if a != b:
            return [f"line {i + 1}: ours {a!r}, PySceneDetect {b!r}"]
    return [f"{len(got.splitlines())} lines, PySceneDetect {len(want.splitlines())}"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--fps", type=float, default=24.0)
    args = ap.parse_args()
    bad = 0
    movies = sorted((args.out / "json").glob("*.json"))
    clips_total = scenes_total = 0
    for j in movies:
        imdb = j.stem
        scenes = lgss_scenes(j)
        n, span, problems = check_edl(args.out / "edl" / f"{imdb}.edl", scenes, args.fps)
        problems += check_csv(args.out / "csv" / f"{imdb}.csv", scenes, args.fps)
        clips_total += n
        scenes_total += len(scenes)
        print(f"{imdb}: {len(scenes)} scenes, EDL read by OpenTimelineIO: {n} clips, frames {span}; "
              f"{'OK' if not problems else 'DIFFERENT: ' + '; '.join(problems[:3])}")
        bad += bool(problems)
    print(f"{len(movies)} movies, {scenes_total} scenes, {clips_total} clips; {bad} with differences")
    sys.exit(1 if bad or not movies else 0)


if __name__ == "__main__":
    main()
