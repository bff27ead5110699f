"""Issue 43, convolutional in time: one way of making long videos, measured at T, 2T, 3T and 5T frames (T = 8, the
keyframe model's training length), on the captions of held-out MovingShapes clips.

    python tools/experiments/conv_in_time/measure.py VARIANT [--n 16] [--steps 20] [--lengths 8,16,24,40]

VARIANT: `absolute` (the shipped keyframe model), `relative`, `rotary`, `none` (build/conv_in_time/POSITION, from
finetune.py), any of those with `-w7` (attention only between frames at most 7 apart: no distance unseen in
training), or `rollout` (the shipped prediction model, window by window: 8 frames, the last 2 given to the next).
A model whose name has `strided` in it (finetune.py --strided) is told the held-out clips' pace: frames
8 / length apart (`frame_stride`); `absolute-strided` is the shipped model told it, untrained for it.
Writes build/conv_in_time/measure_VARIANT.json (adding to the lengths already there), with the share of 8-frame parts
passing each of the yardstick's checks; collect.py gathers them into nbs/results/conv_in_time.json."""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from videoldm_ref.autoencoder import load_autoencoder
from videoldm_ref.context import load_prediction, rollout
from videoldm_ref.data import DIRECTIONS, MovingShapes
from videoldm_ref.keyframes import load_keyframes, sample_video
from videoldm_ref.metrics import (MOTION_CHECKS, frame_features, frechet_distance, motion_check, parse_caption,
                                  temporal_consistency)
from videoldm_ref.text2video import long_video_scores

T, LENGTHS, SEED = 8, (8, 16, 24, 40), 1000


def scores(videos: torch.Tensor, captions: list[str], real: torch.Tensor) -> dict:
    "`long_video_scores` (parts of T frames, the whole), object presence, smoothness, frame quality, and the tracks."
    long = long_video_scores(videos, captions, part=T)
    whole = [motion_check(v, c) for v, c in zip(videos, captions)]
    along = []
    for m, c in zip(whole, captions):                                  # position along the caption's direction
        dy, dx = DIRECTIONS[parse_caption(c)[2]]
        p = m.centroids[:, 0] * dy + m.centroids[:, 1] * dx
        along.append([None if np.isnan(v) else round(float(v), 4) for v in p])
    parts = [motion_check(v[:, s:s + T], c, min_travel=0.05) for v, c in zip(videos, captions)
             for s in range(0, videos.shape[2] - T + 1, T)]
    return dict(passed=long["whole"], windows=long["parts"], backwards=long["backwards"],
                part_checks={k: float(np.mean([getattr(m, k) for m in parts])) for k in MOTION_CHECKS},
                one_object=float(np.mean([np.mean(np.array(m.counts) == 1) for m in whole])),
                direction=float(np.mean([m.direction for m in whole])),
                tc=float(temporal_consistency(videos)), tc_data=float(temporal_consistency(real)),
                fd=frechet_distance(frame_features(videos), frame_features(real)), tracks=along)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("variant")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--lengths", default=",".join(map(str, LENGTHS)), help="comma-separated video lengths to measure")
    a = p.parse_args()
    torch.set_num_threads(1)
    root = Path("build/conv_in_time")
    position, _, w = a.variant.partition("-w")
    vae = load_autoencoder()
    model = (load_prediction() if position == "rollout" else
             load_keyframes() if position in ("absolute", "absolute-strided") else load_keyframes(root / position))
    path = root / f"measure_{a.variant}.json"                         # lengths measured before are kept
    out = (json.loads(path.read_text()) if path.exists() else
           dict(variant=a.variant, n=a.n, num_steps=a.steps, lengths={}))
    lengths = [int(v) for v in a.lengths.split(",")]
    for frames in lengths:
        t0 = time.time()
        data = MovingShapes(a.n, frames=frames, seed=SEED)
        items = [data[i] for i in range(a.n)]
        captions, real = [it["caption"] for it in items], torch.stack([it["video"] for it in items])
        with torch.no_grad():
            if position == "rollout":
                videos = torch.cat(list(rollout(model, vae, captions, frames=frames, window=T, given=2,
                                                generator=SEED, num_steps=a.steps)), 2)
            else:
                videos = sample_video(model, vae, captions, frames=frames, num_steps=a.steps, generator=SEED,
                                      window=int(w) if w and int(w) < frames else None,
                                      frame_stride=T / frames if "strided" in position else None)
        out["lengths"][str(frames)] = dict(scores(videos, captions, real), seconds=round(time.time() - t0))
        if frames == LENGTHS[-1] and frames in lengths:
            torch.save(((videos[:4, :, ::3] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8),
                       root / f"frames_{a.variant}.pt")
        r = out["lengths"][str(frames)]
        print(f"{a.variant} {frames} frames: pass {r['passed']:.2f} windows {r['windows']:.2f} one object "
              f"{r['one_object']:.2f} tc {r['tc']:.4f} (data {r['tc_data']:.4f}) fd {r['fd']:.1f} {r['seconds']}s",
              flush=True)
    path.write_text(json.dumps(out))
