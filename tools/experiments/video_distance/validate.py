"""The corruption curves of `05b_video_distance`: features of two held-out halves of each part (shapes, camera moves,
real clips), and of the second half under every corruption at three strengths, for one feature network.

    FEATURES=i3d python tools/experiments/video_distance/validate.py       # ~1 h on one thread
    FEATURES=trained python ...    FEATURES=frame python ...

Writes the features to build/video_distance/FEATURES.safetensors (resumable: sets already there are skipped) and the
distances with bootstrap standard errors to nbs/results/video_distance_FEATURES.json.
"""
import json
import os
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from videoldm_ref.metrics import frame_features
from videoldm_ref.video_metrics import (CORRUPTIONS, TEMPORAL_CORRUPTIONS, bootstrap_distance, compare_distances, corrupt,
                                        i3d_features, video_distance_parts, video_features)

FEATURES = os.environ.get("FEATURES", "i3d")
STRENGTHS = (0.25, 0.5, 1.0)
N, SIZES, N_BOOT = 48, (8, 16, 32), 100
OUT = Path("build/video_distance") / f"{FEATURES}.safetensors"
RESULTS = Path("nbs/results") / f"video_distance_{FEATURES}.json"


def features(videos: torch.Tensor) -> torch.Tensor:
    if FEATURES == "frame":                    # the project's frame FD: every frame a row, their order lost
        return frame_features(videos).double()
    return {"i3d": i3d_features, "trained": video_features}[FEATURES](videos)


def main():
    torch.manual_seed(0)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    feats = load_file(str(OUT)) if OUT.exists() else {}
    parts = video_distance_parts(N)
    t0 = time.time()
    for part, (a, b) in parts.items():
        sets = {"a": a, "b": b}
        for kind in CORRUPTIONS:
            if kind == "reverse" and part != "real":
                continue                      # only real clips have a direction of time
            for s in STRENGTHS:
                sets[f"{kind}@{s}"] = corrupt(b, kind, s, seed=1)
        for name, videos in sets.items():
            key = f"{part}/{name}"
            if key not in feats:
                feats[key] = features(videos).contiguous()
                save_file(feats, str(OUT))
                print(f"{time.time() - t0:7.0f} s  {key}", flush=True)
    results = {}
    for part in parts:
        a, b = feats[f"{part}/a"], feats[f"{part}/b"]
        r = results[part] = {"n": len(parts[part][0])}
        r["halves"] = bootstrap_distance(a, b, n_boot=N_BOOT)
        r["halves_by_n"] = {n: bootstrap_distance(a, b, n=n * len(a) // r["n"], n_boot=N_BOOT) for n in SIZES}
        for kind in CORRUPTIONS:
            if f"{part}/{kind}@1.0" not in feats:
                continue
            sets = {"0": b} | {str(s): feats[f"{part}/{kind}@{s}"] for s in STRENGTHS}
            r[kind] = compare_distances(a, sets, n_boot=N_BOOT)    # each corrupted set matched to its clean half
            r[kind].pop("0")
    RESULTS.write_text(json.dumps(dict(features=FEATURES, strengths=STRENGTHS, temporal=TEMPORAL_CORRUPTIONS,
                                       results=results), indent=1))
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
