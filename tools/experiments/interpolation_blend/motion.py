"""Blending along the motion (13, "Blending along the motion"): the motion-compensated blend against the linear one,
with no model, on the same clips as the residual model's measurements: two passes on the long held-out clips (the
long-clip yardstick and the scores against the truth, image and temporal decoder), one pass on the held-out parts of
13's table (real at 25 and 6.25 fps, shapes), each in latents (decoded by the image decoder) and in pixels.

    python motion.py N OUT.json          (env THREADS, default 2; N long clips, 16 in 13; OFFSET=0: the keyframes'
                                          re-encoding offsets left out, the keyframes put back as they were given)"""
import json
import os
import sys
import time

import torch
from torch.utils.data import Subset

from common import blend_keyframes, decode_video, encode_video, interpolation_scores, load_autoencoder, long_heldout, smoothness
from videoldm_ref.interpolation import heldout_parts, motion_blend, motion_blend_latents
from videoldm_ref.metrics import object_track
from videoldm_ref.temporal_decoder import decode_video_temporal, load_temporal_decoder

n, out_path = int(sys.argv[1]), sys.argv[2]
vae, decoder = load_autoencoder(), load_temporal_decoder()
if os.environ.get("OFFSET", "1") == "0":
    def motion_blend_latents(vae, keys, every):
        z = encode_video(vae, motion_blend(decode_video(vae, keys).clamp(-1, 1), every).clamp(-1, 1))
        z[:, :, ::every] = keys
        return z
items = long_heldout()[:n]
truth, captions = torch.stack([it["video"] for it in items]), [it["caption"] for it in items]
out = dict(clips=n, rows={}, one_pass={}, tracks={})
r4 = lambda d: {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}
with torch.no_grad():
    keys = encode_video(vae, truth[:, :, ::16])
    tick = time.time()
    z = motion_blend_latents(vae, motion_blend_latents(vae, keys, 4), 4)       # two passes, as the stack runs them
    seconds = round(time.time() - tick, 1)
    made = {"motion blend, two passes": decode_video(vae, z).clamp(-1, 1),
            "motion blend, two passes, temporal decoder": decode_video_temporal(decoder, z).clamp(-1, 1),
            "motion blend in pixels": motion_blend(truth[:, :, ::16], 16).clamp(-1, 1)}
    for name, videos in made.items():
        out["rows"][name] = dict(smoothness(videos, truth, captions), **interpolation_scores(videos, truth, 16),
                                 seconds=seconds if "pixels" not in name else None)
        print(name, r4(out["rows"][name]), flush=True)
    out["tracks"] = {"motion blend": [object_track(v, c).tolist() for v, c in
                                      zip(made["motion blend, two passes, temporal decoder"][:4], captions[:4])]}
    for part_name, part in heldout_parts().items() if os.environ.get("OFFSET", "1") != "0" else ():
        part = Subset(part, range(min(50, len(part))))
        clips = torch.stack([part[i]["video"] for i in range(len(part))])
        k = encode_video(vae, clips[:, :, ::4])
        rows = {"latent blend": decode_video(vae, blend_keyframes(k, 4)).clamp(-1, 1),
                "motion blend of the latents": decode_video(vae, motion_blend_latents(vae, k, 4)).clamp(-1, 1),
                "blend in pixels": blend_keyframes(clips[:, :, ::4], 4),
                "motion blend in pixels": motion_blend(clips[:, :, ::4], 4).clamp(-1, 1)}
        out["one_pass"][part_name] = {name: interpolation_scores(v, clips, 4) for name, v in rows.items()}
        print(part_name, {k: r4(v) for k, v in out["one_pass"][part_name].items()}, flush=True)
json.dump(out, open(out_path, "w"), indent=1)
