"""The residual interpolation model (13, "A residual over the blend") measured as the paper's was: two passes on the
long held-out clips with the long-clip yardstick and the scores against the truth (image and temporal decoder), and
one pass on the held-out parts of 13's table (real at 25 and 6.25 fps, shapes); the tracks of the first clips for
the picture of position against frame.

    python residual.py CKPT N OUT.json [TEXT_SCALE ...]

env: THREADS (default 2); ONE_PASS=0: two passes only; STEPS, SHARED, START, BLEND: interpolate's num_steps (10),
shared_noise (0), start and blend (the model's own); BACKBONE: an image LDM folder to put under the model (default: the
shipped one; real_backbone.py writes one). CKPT: a folder that save_interpolation wrote, or a checkpoint
folder of fit (its EMA weights), or 'untrained': the blend itself."""
from pathlib import Path
import json
import os
import sys
import time

import numpy as np
import torch
from torch.utils.data import Subset

from common import blend_keyframes, decode_video, encode_video, interpolation_scores, load_autoencoder, long_heldout, smoothness
from videoldm_ref.context import load_prediction
from videoldm_ref.interpolation import (heldout_parts, interpolate_passes, interpolation_metrics, interpolation_model,
                                        load_interpolation)
from videoldm_ref.metrics import object_track
from videoldm_ref.temporal_decoder import decode_video_temporal, load_temporal_decoder

ckpt, n, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
scales = [float(s) for s in sys.argv[4:]] or [1.0]
vae, decoder = load_autoencoder(), load_temporal_decoder()


def from_fit_checkpoint(folder: str):
    "A residual model with the EMA weights of a `fit` checkpoint folder (`weights.safetensors`: `model.*`, `ema.i`)."
    from safetensors.torch import load_file
    ldm = interpolation_model(load_interpolation(recipe="paper"), residual=True)
    tensors = load_file(Path(folder) / "weights.safetensors")
    trained = [p for p in ldm.parameters() if p.requires_grad]
    assert all(f"ema.{i}" in tensors for i in range(len(trained)))
    with torch.no_grad():
        for i, p in enumerate(trained):
            p.copy_(tensors[f"ema.{i}"])
    return ldm


if "BACKBONE" in os.environ:
    from videoldm_ref.image_ldm import load_image_ldm
    assert ckpt not in ("untrained",) and not (Path(ckpt) / "state.json").is_file(), "BACKBONE: a saved model only"
    ldm = load_interpolation(ckpt, base=load_prediction(image_ldm=load_image_ldm(os.environ["BACKBONE"]))).eval()
else:
    ldm = (interpolation_model(load_interpolation(recipe="paper"), residual=True) if ckpt == "untrained"
           else from_fit_checkpoint(ckpt) if (Path(ckpt) / "state.json").is_file() else load_interpolation(ckpt)).eval()
ldm.requires_grad_(False)
SAMPLING = dict(num_steps=int(os.environ.get("STEPS", 10)), shared_noise=float(os.environ.get("SHARED", 0)),
                start=int(os.environ["START"]) if "START" in os.environ else None,   # interpolate's defaults
                blend=os.environ.get("BLEND"))                                        # None: the model's own
items = long_heldout()[:n]
truth, captions = torch.stack([it["video"] for it in items]), [it["caption"] for it in items]
out = dict(checkpoint=ckpt, clips=n, sampling=SAMPLING, rows={}, one_pass={}, tracks={})
with torch.no_grad():
    keys = encode_video(vae, truth[:, :, ::16])
    for scale in scales:
        tick = time.time()
        z = torch.cat([interpolate_passes(ldm, keys[s:s + 8], captions[s:s + 8], text_scale=scale, generator=s, vae=vae,
                                          **SAMPLING) for s in range(0, n, 8)])
        seconds = round(time.time() - tick)
        for dec, videos in (("", decode_video(vae, z).clamp(-1, 1)),
                            (", temporal decoder", decode_video_temporal(decoder, z).clamp(-1, 1))):
            name = f"residual, text {scale:g}, two passes{dec}"
            out["rows"][name] = dict(smoothness(videos, truth, captions), **interpolation_scores(videos, truth, 16),
                                     seconds=seconds)
            print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in out["rows"][name].items()}, flush=True)
            if scale == scales[0] and dec:
                latent_blend = decode_video_temporal(decoder, blend_keyframes(keys[:4], 16)).clamp(-1, 1)
                made = {"truth": truth, "blend in pixels": blend_keyframes(truth[:4, :, ::16], 16),
                        "blend of the keyframe latents": latent_blend, "residual": videos}
                out["tracks"] = {k: [object_track(v, c).tolist() for v, c in zip(m[:4], captions[:4])]
                                 for k, m in made.items()}     # px along the caption's way, temporal decoder
        json.dump(out, open(out_path, "w"), indent=1)
    if os.environ.get("ONE_PASS", "1") != "0":
        parts = {k: Subset(p, range(min(50, len(p)))) for k, p in heldout_parts().items()}
        out["one_pass"] = interpolation_metrics(ldm, vae, parts, text_scale=scales[0], **SAMPLING)
        print(out["one_pass"], flush=True)
json.dump(out, open(out_path, "w"), indent=1)
