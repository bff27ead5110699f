"""Cheap sampling levers for the shipped interpolation model, one pass on 13's held-out parts (up to 50 clips a
part): the residual's gain scaled at sampling, one step (the model's clean estimate at the start), and the mean of
several samples.

    python real_levers.py OUT.json LEVER ...   (LEVER: shipped, gain0.5, onestep, mean4, ...; env THREADS, MODEL)"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.data import Subset

import videoldm_ref.interpolation as interp

from common import load_autoencoder
from videoldm_ref.autoencoder import decode_video, encode_video
from videoldm_ref.interpolation import heldout_parts, interpolate, interpolation_scores, load_interpolation

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
out_path, levers = sys.argv[1], sys.argv[2:] or ["shipped"]
vae, ldm = load_autoencoder(), load_interpolation(os.environ.get("MODEL")).eval()
gain = ldm.residual_gain.detach().clone()
parts = {k: Subset(p, range(min(50, len(p)))) for k, p in heldout_parts().items()}
out = json.load(open(out_path)) if os.path.exists(out_path) else {}


plain_x0 = interp.residual_x0


def masked_x0(tau: float):
    "`residual_x0` with the residual kept only where the window's two keyframe latents around a frame differ (by `tau`)."
    def x0(ldm, latents, t, tokens, blend):
        keys = blend[:, :, ::4]
        d = (keys[:, :, 1:] - keys[:, :, :-1]).abs().mean(1)                  # (B, N - 1, h, w)
        d = F.max_pool2d(d, 3, stride=1, padding=1)
        m = (d / tau).clamp(max=1).repeat_interleave(4, 1)
        m = torch.cat([m, m[:, -1:]], 1)[:, None]                              # (B, 1, T, h, w)
        return blend + m * (plain_x0(ldm, latents, t, tokens, blend) - blend)
    return x0


@torch.no_grad()
def run(lever: str) -> dict:
    scale, samples, sampling = 1.0, 1, {}
    if lever.startswith("gain"):
        scale = float(lever[4:])
    elif lever == "onestep":
        sampling = dict(num_steps=1)                       # the one step kept is the start itself: x0 at once
    elif lever.startswith("mean"):
        samples = int(lever[4:])
    elif lever.startswith("mask"):
        interp.residual_x0 = masked_x0(float(lever[4:]))
    elif lever != "shipped":
        raise ValueError(f"lever: unknown {lever!r}")
    ldm.residual_gain.copy_(gain * scale)
    scores = {}
    for name, part in parts.items():
        truth, videos = torch.stack([part[i]["video"] for i in range(len(part))]), []
        for s in range(0, len(part), 16):
            keys = encode_video(vae, truth[s:s + 16, :, ::4])
            captions = [part[i]["caption"] for i in range(s, s + len(keys))]
            z = sum(torch.cat(list(interpolate(ldm, keys, captions, window=keys.shape[2], generator=1000 * k + s,
                                               vae=vae, **sampling)), 2) for k in range(samples)) / samples
            videos.append(decode_video(vae, z).clamp(-1, 1))
        scores[name] = interpolation_scores(torch.cat(videos), truth)
    ldm.residual_gain.copy_(gain)
    interp.residual_x0 = plain_x0
    return scores


for lever in levers:
    tick = time.time()
    out[lever] = run(lever)
    out[lever]["seconds"] = round(time.time() - tick)
    print(lever, {k: {m: round(v, 4) for m, v in s.items()} if isinstance(s, dict) else s for k, s in out[lever].items()},
          flush=True)
    json.dump(out, open(out_path, "w"), indent=1)
