"""What fewer DDIM steps cost the two slow stages of `make demo` (issue 45), each on its own yardstick, the rest fixed:
    python measure.py interpolation|upsampler STEPS... [--out ../../../nbs/results/stack_steps.json]
interpolation: the shipped residual model, two passes on 8 long held-out clips (13's long-clip yardstick, temporal
decoder: step noise, backward steps; PSNR and flicker against the truth) and one pass on 8 held-out bouncing clips
(PSNR on moving pixels, flicker). upsampler: the shipped video upsampler on 2 real and 2 bouncing held-out 16-frame
clips (PSNR, flicker against the truth; sharpness: the frames' mean
absolute Laplacian over the truth's, 1 for as much fine detail). Rows merge into OUT under "<stage> (shipped models)"; seconds are on the
THREADS (default 2) threads of this machine."""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import Subset

sys.path.insert(0, str(Path(__file__).parents[1] / "interpolation_blend"))
from common import smoothness                                    # 13's long-clip figures, as residual.py takes them
from videoldm_ref.autoencoder import encode_video, load_autoencoder
from videoldm_ref.interpolation import (heldout_parts, interpolate_passes, interpolation_metrics, interpolation_scores,
                                        load_interpolation, long_heldout)
from videoldm_ref.stack import VideoLDMPipeline
from videoldm_ref.temporal_decoder import decode_video_temporal, load_temporal_decoder
from videoldm_ref.upsampler import downsample, heldout_highres, upsampler_scores

torch.set_num_threads(int(os.environ.get("THREADS", 2)))


def detail(videos: torch.Tensor) -> float:
    "Mean absolute Laplacian of the frames: how much fine detail they hold (PSNR and flicker do not see it)."
    x = videos.transpose(1, 2).flatten(0, 1)                                          # (B T, 3, H, W)
    lap = 4 * x[..., 1:-1, 1:-1] - x[..., :-2, 1:-1] - x[..., 2:, 1:-1] - x[..., 1:-1, :-2] - x[..., 1:-1, 2:]
    return lap.abs().mean().item()
p = argparse.ArgumentParser()
p.add_argument("stage", choices=["interpolation", "upsampler"])
p.add_argument("steps", type=int, nargs="+")
p.add_argument("--out", default=str(Path(__file__).parents[3] / "nbs/results/stack_steps.json"))
args = p.parse_args()
rows = {}
with torch.no_grad():
    if args.stage == "interpolation":
        vae, decoder, ldm = load_autoencoder(), load_temporal_decoder(), load_interpolation().eval()
        items = long_heldout()[:8]
        truth, captions = torch.stack([it["video"] for it in items]), [it["caption"] for it in items]
        keys = encode_video(vae, truth[:, :, ::16])
        shapes = {"bouncing shapes": Subset(heldout_parts()["bouncing shapes"], range(8))}
        for steps in args.steps:
            tick = time.perf_counter()
            z = interpolate_passes(ldm, keys, captions, num_steps=steps, generator=0, vae=vae)
            seconds = time.perf_counter() - tick
            videos = decode_video_temporal(decoder, z).clamp(-1, 1)
            one = interpolation_metrics(ldm, vae, shapes, num_steps=steps)["bouncing shapes"]
            rows[steps] = dict(two_passes=dict(smoothness(videos, truth, captions), **interpolation_scores(videos, truth, 16),
                                               seconds=seconds), one_pass=one)
            print(steps, rows[steps], flush=True)
    else:
        pipe = VideoLDMPipeline.from_pretrained()
        clips = heldout_highres(frames=16, n=2)
        truth = torch.stack([it["video"] for it in clips["real"][:2] + clips["bouncing shapes"]])
        for steps in args.steps:
            tick = time.perf_counter()
            up = torch.cat([torch.cat(list(pipe.upsample(v, steps=steps, generator=0)), 1)[None] for v in downsample(truth)])
            rows[steps] = dict(upsampler_scores(up, truth), seconds=time.perf_counter() - tick,
                               sharpness=detail(up) / detail(truth))
            print(steps, rows[steps], flush=True)
out = Path(args.out)
study = json.loads(out.read_text()) if out.exists() else {}
study.setdefault(f"{args.stage} (shipped models)", {}).update({str(k): v for k, v in rows.items()})
study[f"{args.stage} (shipped models)"] = dict(sorted(study[f"{args.stage} (shipped models)"].items(), key=lambda kv: int(kv[0])))
out.write_text(json.dumps(study, indent=1))
