"""The long-clip yardstick on the long held-out clips (113 frames, every 16th given): its floor (the truth, the
autoencoder's round trip with each decoder), the baselines (blending in pixels, blending the keyframe latents in both
passes), a deliberately broken truth (0.3 px ahead every fourth frame), and the shipped interpolation model; then the
one-pass baseline of blending the keyframe latents on the held-out parts of `13_interpolation`'s table.

    python yardstick.py N OUT_LONG.json OUT_ONE_PASS.json   (env THREADS, default 2)"""
import json
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.data import Subset

from common import (blend_keyframes, decode_video, encode_video, interpolation_scores, load_autoencoder,
                    load_interpolation, long_heldout, smoothness)
from videoldm_ref.data import DIRECTIONS
from videoldm_ref.interpolation import heldout_parts, interpolate_passes
from videoldm_ref.metrics import parse_caption
from videoldm_ref.temporal_decoder import decode_video_temporal, load_temporal_decoder

n, out_long, out_one = int(sys.argv[1]), sys.argv[2], sys.argv[3]
vae, decoder, ldm = load_autoencoder(), load_temporal_decoder(), load_interpolation(recipe="paper")
items = long_heldout()[:n]
truth, captions = torch.stack([it["video"] for it in items]), [it["caption"] for it in items]


def shifted(video: torch.Tensor, caption: str, px: float, every: int = 4) -> torch.Tensor:
    "Every `every`-th frame moved `px` pixels the caption's way (bilinear, edges repeated)."
    dy, dx = DIRECTIONS[parse_caption(caption)[2]]
    h, w = video.shape[-2:]
    theta = torch.tensor([[1.0, 0.0, -2 * px * dx / w], [0.0, 1.0, -2 * px * dy / h]])[None]
    frames = video[:, ::every].transpose(0, 1)
    grid = F.affine_grid(theta.expand(len(frames), -1, -1), frames.shape, align_corners=False)
    out = video.clone()
    out[:, ::every] = F.grid_sample(frames, grid, padding_mode="border", align_corners=False).transpose(0, 1)
    return out


rows, tick = {}, time.time()
with torch.no_grad():
    z = encode_video(vae, truth)
    keys = z[:, :, ::16]
    made = {"truth": truth,
            "truth, every 4th frame 0.3 px ahead": torch.stack([shifted(v, c, 0.3) for v, c in zip(truth, captions)]),
            "round trip, image decoder": decode_video(vae, z).clamp(-1, 1),
            "round trip, temporal decoder": decode_video_temporal(decoder, z).clamp(-1, 1),
            "blend in pixels": blend_keyframes(truth[:, :, ::16], 16),
            "blend of the keyframe latents": decode_video(vae, blend_keyframes(keys, 16)).clamp(-1, 1)}
    passes = torch.cat([interpolate_passes(ldm, keys[s:s + 8], captions[s:s + 8], num_steps=10, context_scale=2.0,
                                           generator=s) for s in range(0, n, 8)])
    made["shipped model, two passes"] = decode_video(vae, passes).clamp(-1, 1)
    made["shipped model, two passes, temporal decoder"] = decode_video_temporal(decoder, passes).clamp(-1, 1)
for name, videos in made.items():
    rows[name] = dict(smoothness(videos, truth, captions), **interpolation_scores(videos, truth, 16))
    print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in rows[name].items()}, flush=True)
json.dump(dict(clips=n, rows=rows, seconds=round(time.time() - tick)), open(out_long, "w"), indent=1)

one = {}
for name, part in heldout_parts().items():
    clips = Subset(part, range(min(50, len(part))))
    real = torch.stack([clips[i]["video"] for i in range(len(clips))])
    with torch.no_grad():
        keys = encode_video(vae, real[:, :, ::4])
        one[name] = interpolation_scores(decode_video(vae, blend_keyframes(keys)).clamp(-1, 1), real)
    print(name, one[name], flush=True)
json.dump(one, open(out_one, "w"), indent=1)
