"""Which flow, and which way round (the interpolation study, "Blending along the motion"): one pass in pixels on the
held-out parts of 13's table (real at 25 and 6.25 fps, shapes; 50 clips each, every 4th true frame given), the
in-between frames carried along scikit-image's flow, one way (both frames warped along the flow at the earlier
keyframe) or both ways (`motion_blend`: the flow at the in-between frame from the two flows), against the linear blend.

    python flow_variants.py OUT.json          (env THREADS, default 2)"""
import json
import os
import sys
import time

import torch
from skimage.registration import optical_flow_ilk, optical_flow_tvl1
from torch.utils.data import Subset

import videoldm_ref.interpolation as interpolation
from videoldm_ref.interpolation import blend_keyframes, heldout_parts, interpolation_scores, motion_blend, warp

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
FLOWS = {"Lucas-Kanade": lambda a, b: optical_flow_ilk(a, b, radius=7),
         "Lucas-Kanade, Gaussian window": lambda a, b: optical_flow_ilk(a, b, radius=7, gaussian=True),
         "TV-L1": optical_flow_tvl1}


def flow_with(method):
    "`interpolation.optical_flow` with another scikit-image flow."
    def flow(source, target, radius=7):
        grey = lambda x: x.float().mean(1).numpy()
        return torch.stack([torch.from_numpy(method(a, b)) for a, b in zip(grey(source), grey(target))]).to(source.dtype)
    return flow


def one_way(keys, every=4):
    "Both keyframes warped along the flow at the earlier one: `a(p - s F(p))` and `b(p + (1 - s) F(p))`."
    out = [keys[:, :, :1]]
    for i in range(keys.shape[2] - 1):
        a, b = keys[:, :, i], keys[:, :, i + 1]
        f = interpolation.optical_flow(a, b)
        out += [((1 - j / every) * warp(a, -j / every * f) + j / every * warp(b, (1 - j / every) * f))[:, :, None]
                for j in range(1, every)] + [b[:, :, None]]
    return torch.cat(out, 2)


out, shipped = {}, interpolation.optical_flow
for name, part in heldout_parts().items():
    part = Subset(part, range(min(50, len(part))))
    truth = torch.stack([part[i]["video"] for i in range(len(part))])
    keys, out[name] = truth[:, :, ::4], {"linear blend": interpolation_scores(blend_keyframes(truth[:, :, ::4]), truth)}
    for flow_name, method in FLOWS.items():
        interpolation.optical_flow = flow_with(method)
        for way, fn in (("one way", one_way), ("both ways", motion_blend)):
            tick = time.time()
            scores = interpolation_scores(fn(keys).clamp(-1, 1), truth)
            out[name][f"{flow_name}, {way}"] = dict(scores, seconds=round(time.time() - tick, 1))
        interpolation.optical_flow = shipped
    print(name, {k: round(v["psnr_moving"], 2) for k, v in out[name].items()}, flush=True)
json.dump(out, open(sys.argv[1], "w"), indent=1)
