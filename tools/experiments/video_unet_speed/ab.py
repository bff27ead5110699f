"""Issue 45: what running the time-only temporal convolutions as 2D convolutions buys (`_time_conv`, 08), measured
as the VideoUNet's ratio to diffusers' video UNet (`benchmark_video_unet`) with Conv3d and with `_time_conv`,
alternated in one process, ROUNDS times (timings on a shared machine vary from run to run; the ratios less so).
    python tools/experiments/video_unet_speed/ab.py [ROUNDS] [OUT.json]   (THREADS, default 2)"""
import json
import os
import sys

import torch

import videoldm_ref.temporal as temporal
from videoldm_ref.video_unet import benchmark_video_unet

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
out = sys.argv[2] if len(sys.argv) > 2 else "nbs/results/video_unet_ab.json"
ways = {"Conv3d": lambda conv, v: conv(v), "_time_conv": temporal._time_conv}
rows = []
for r in range(rounds):
    for name, conv in ways.items():
        temporal._time_conv = conv
        for t in (8, 16):
            b = benchmark_video_unet(frames=t, repeats=5)
            rows.append(dict(round=r, way=name, frames=t, ratio_to_svd=b["ratio_to_svd"], **b["seconds"]))
            print(rows[-1], flush=True)
temporal._time_conv = ways["_time_conv"]
json.dump(dict(threads=torch.get_num_threads(), rows=rows), open(out, "w"), indent=1)
