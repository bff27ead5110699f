"""`make demo`'s stack and settings (the shipped checkpoints, 8 keyframes, 113 frames, 256x256) on its caption with
seeds 0..N-1: the long-clip yardstick of each video against its own moving average (no truth exists) and the motion
yardstick's verdict. Frames are taken from the pipeline as tensors, not through the mp4 encoder.

    python demo_seeds.py N OUT.json [FIRST]   (env THREADS, default 2)

With FIRST, seeds FIRST..N-1 are run and added to the rows already in OUT.json (a run continued)."""
import json
import os
import sys
import time

import numpy as np
import torch

from videoldm_ref.cli import DEMO_CAPTION, motion_report
from videoldm_ref.metrics import object_track, step_smoothness
from videoldm_ref.stack import VideoLDMPipeline

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
n, out_path, first = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0
rows = [r for r in json.load(open(out_path))["rows"] if r["seed"] < first] if first else []
assert [r["seed"] for r in rows] == list(range(first)), "OUT.json: expected the rows of seeds 0..FIRST-1"
pipe = VideoLDMPipeline.from_pretrained()
for seed in range(first, n):
    tick = time.time()
    video = pipe(DEMO_CAPTION, generator=seed, keyframe_steps=20, progress=False).frames[0].clamp(-1, 1)
    r = step_smoothness(video, DEMO_CAPTION)
    rows.append(dict(seed=seed, step_noise=float(r.step_noise), worst=float(r.worst), backward=int(r.backward),
                     periodic=float(r.periodic), median_step=float(np.median(r.steps)) if np.isfinite(r.steps).all() else None,
                     motion=motion_report(video, DEMO_CAPTION), track=np.round(object_track(video, DEMO_CAPTION), 3).tolist(),
                     seconds=round(time.time() - tick, 1)))
    print({k: v for k, v in rows[-1].items() if k != "track"}, flush=True)
    json.dump(dict(caption=DEMO_CAPTION, rows=rows), open(out_path, "w"), indent=1)
