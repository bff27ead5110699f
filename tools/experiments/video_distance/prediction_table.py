"""The paper's context-guidance comparison, measured with the video distances of `05b_video_distance`: the shipped
prediction model rolls out 3 windows (20 frames, 20 DDIM steps, as `12_context` does) from the first 2 frames of
held-out bouncing-shape clips, with context guidance s = 1 (none) and s = 2 (the lesson's), and each set is measured
against the true clips (paired bootstrap over the starts: both rollouts start from the same frames).

    python tools/experiments/video_distance/prediction_table.py sample 1    # N=32: about 25 min on one thread
    python tools/experiments/video_distance/prediction_table.py sample 2    # (the two can run side by side)
    python tools/experiments/video_distance/prediction_table.py measure

Keeps the rollouts in build/video_distance/prediction_s*.safetensors and writes
nbs/results/video_distance_prediction.json.
"""
import json
import os
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from videoldm_ref.autoencoder import load_autoencoder
from videoldm_ref.context import heldout_starts, load_prediction, rollout_metrics
from videoldm_ref.video_metrics import compare_distances, i3d_features, video_features

N, STEPS = int(os.environ.get("N", 32)), 20
RESULTS = Path("nbs/results/video_distance_prediction.json")
VIDEOS = Path("build/video_distance")


def sample(scale: float) -> None:
    ldm, vae = load_prediction().eval(), load_autoencoder().eval()
    t0 = time.time()
    m = rollout_metrics(ldm, vae, n=N, batch=8, num_steps=STEPS, given=2, context_scale=scale)
    VIDEOS.mkdir(parents=True, exist_ok=True)
    save_file({"videos": m.pop("videos").contiguous()}, str(VIDEOS / f"prediction_s{scale:g}.safetensors"))
    print(f"{time.time() - t0:.0f} s, s={scale:g}: {m}", flush=True)


def measure() -> None:
    truth = torch.stack([it["video"] for it in heldout_starts(N, 20)])
    videos = {f"s={s}": load_file(str(VIDEOS / f"prediction_s{s}.safetensors"))["videos"] for s in ("1", "2")}
    out = {"n": N, "frames": truth.shape[2], "num_steps": STEPS}
    for net, fn in (("trained", video_features), ("i3d", i3d_features)):
        out[net] = compare_distances(fn(truth), {k: fn(v) for k, v in videos.items()}, paired=True)
        print(net, json.dumps(out[net]), flush=True)
    RESULTS.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    if sys.argv[1] == "sample":
        sample(float(sys.argv[2]))
    else:
        measure()
