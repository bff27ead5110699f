"""The paper's keyframe-model table, measured with the trained video distance of `05b_video_distance` (I3D needs 9
frames or more; keyframe videos have 8): videos generated for the captions of held-out bouncing-shape clips by
`keyframe_metrics` (its captions, seeds and sampler: 50 DDIM steps, guidance 3), from the image LDM frame by frame
(the shipped model with its temporal layers off), temporal attention only (the study's GPU-scale ablation, trained
by `tools/keyframe_experiments.py train "GPU scale: ablation: temporal attention only" --steps 2569`), and
attention + 3D convolutions (the shipped model); each set against the clips whose captions it was given (paired
bootstrap over captions).

    python tools/experiments/video_distance/keyframe_table.py sample image      # N=96: 17 min on one thread
    python tools/experiments/video_distance/keyframe_table.py sample attention  # 17 min
    python tools/experiments/video_distance/keyframe_table.py sample shipped    # 17 min
    python tools/experiments/video_distance/keyframe_table.py measure           # a few minutes

Keeps the videos in build/video_distance/keyframes_*.safetensors and writes nbs/results/video_distance_keyframes.json.
"""
import json
import os
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from videoldm_ref.autoencoder import load_autoencoder
from videoldm_ref.data import MovingShapes
from videoldm_ref.keyframes import keyframe_metrics, load_keyframes
from videoldm_ref.video_metrics import compare_distances, video_features

N, FRAMES, SEED = int(os.environ.get("N", 96)), 8, 1000
ABLATION = Path("build/keyframe_runs/GPU_scale__ablation__temporal_attention_only/model")
MODELS = {"image": "image LDM frame by frame", "attention": "temporal attention only",
          "shipped": "attention + 3D convolutions (shipped)"}
RESULTS = Path("nbs/results/video_distance_keyframes.json")
VIDEOS = Path("build/video_distance")


def sample(which: str) -> None:
    ldm = load_keyframes(ABLATION if which == "attention" else None).eval()
    t0 = time.time()
    m = keyframe_metrics(ldm, load_autoencoder().eval(), n=N, frames=FRAMES, seed=SEED, image_only=which == "image")
    VIDEOS.mkdir(parents=True, exist_ok=True)
    save_file({"videos": m.pop("videos").contiguous()}, str(VIDEOS / f"keyframes_{which}.safetensors"))
    print(f"{time.time() - t0:.0f} s, {which}: {m}", flush=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("motion", {})[MODELS[which]] = {k: m[k] for k in ("pass", "tc", "fd")}
    RESULTS.write_text(json.dumps(results, indent=1))


def measure() -> None:
    data = MovingShapes(N, frames=FRAMES, seed=SEED)
    truth = torch.stack([data[i]["video"] for i in range(N)])
    videos = {MODELS[k]: load_file(str(VIDEOS / f"keyframes_{k}.safetensors"))["videos"] for k in MODELS}
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.update(n=N, frames=FRAMES, num_steps=50, guidance_scale=3.0)
    fn = lambda v: video_features(v, frames=FRAMES)
    ref, feats = fn(truth), {k: fn(v) for k, v in videos.items()}
    results["trained"] = compare_distances(ref, feats, paired=True)                 # gaps to the image LDM
    ablation = {MODELS[k]: feats[MODELS[k]] for k in ("attention", "shipped")}
    results["trained_vs_attention"] = compare_distances(ref, ablation, paired=True)    # the ablation's gap
    print(json.dumps({k: results[k] for k in ("trained", "trained_vs_attention")}), flush=True)
    RESULTS.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    sample(sys.argv[2]) if sys.argv[1] == "sample" else measure()
