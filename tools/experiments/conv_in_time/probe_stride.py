"""Issue 43, the stride probe: hold the noise and the caption fixed, change only `frame_stride`, and see whether the
object's pace follows it. For each model, 8-frame videos of the captions of 16 held-out MovingShapes clips at
strides 1, 0.5 and 0.25 (same seed): the mean travel along the caption's direction by frame 7 (a stride of 0.5 should
halve it), and how many pass the motion yardstick at 0.05 of the frame (`long_video_scores`' part criterion). A
model trained without strides (relative-paces: the same clips, not told their pace) is the control: the stride
reaches its relative bias too, but it never learned what it means.

    python tools/experiments/conv_in_time/probe_stride.py relative-strided [relative-paces absolute ...]

Writes build/conv_in_time/probe_NAME.json; collect.py puts them in nbs/results/conv_in_time.json."""
import json
import sys
from pathlib import Path

import numpy as np
import torch

from videoldm_ref.autoencoder import load_autoencoder
from videoldm_ref.data import DIRECTIONS, MovingShapes
from videoldm_ref.keyframes import load_keyframes, sample_video
from videoldm_ref.metrics import motion_check, parse_caption

STRIDES, N, SEED, STEPS = (1.0, 0.5, 0.25), 16, 1000, 20


def travel(video: torch.Tensor, caption: str) -> float:
    "How far the object got along the caption's direction by the last frame, from the first (NaN if lost)."
    m = motion_check(video, caption, min_travel=0.05)
    dy, dx = DIRECTIONS[parse_caption(caption)[2]]
    along = m.centroids[:, 0] * dy + m.centroids[:, 1] * dx
    return float(along[-1] - along[0])


if __name__ == "__main__":
    torch.set_num_threads(1)
    root, vae = Path("build/conv_in_time"), load_autoencoder()
    data = MovingShapes(N, frames=8, seed=SEED)
    captions = [data[i]["caption"] for i in range(N)]
    for name in sys.argv[1:]:
        model = load_keyframes() if name == "absolute" else load_keyframes(root / name)     # absolute: the shipped
        out = dict(model=name, n=N, num_steps=STEPS, strides={})
        for s in STRIDES:
            with torch.no_grad():
                videos = sample_video(model, vae, captions, frames=8, num_steps=STEPS, generator=SEED,
                                      frame_stride=s)
            t = [travel(v, c) for v, c in zip(videos, captions)]
            out["strides"][str(s)] = dict(travel=float(np.nanmean(t)), lost=int(np.isnan(t).sum()),
                                          passed=float(np.mean([motion_check(v, c, min_travel=0.05).passed
                                                                for v, c in zip(videos, captions)])))
            print(name, s, out["strides"][str(s)], flush=True)
        (root / f"probe_{name}.json").write_text(json.dumps(out, indent=1))
