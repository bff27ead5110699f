"""Two passes (8 -> 29 -> 113 frames) on the first N long held-out clips, every 16th true frame given, for a set of
ways to start sampling; the long-clip smoothness figures and the scores against the truth of each.

    python measure.py N OUT.json NAME...   (names below; env THREADS, default 2)"""
import json
import sys
import time

import torch

from common import (blend_keyframes, decode_video, encode_video, interpolate_from, interpolation_scores,
                    load_autoencoder, load_interpolation, long_heldout, smoothness)

n, out_path, names = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
vae, ldm = load_autoencoder(), load_interpolation(recipe="paper")
items = long_heldout()[:n]
truth, captions = torch.stack([it["video"] for it in items]), [it["caption"] for it in items]
keys = encode_video(vae, truth[:, :, ::16])

model = lambda **kw: (lambda z, g: interpolate_from(ldm, z, captions, generator=g, **kw))
latent_blend = lambda z, g: blend_keyframes(z)
PASSES = {                                                   # name -> (first pass, second pass)
    "round trip": None,
    "latent blend, both passes": (latent_blend, latent_blend),
    "shipped (noise, 10 steps, s=2)": (model(), model()),
    "shipped, then latent blend": (model(), latent_blend),
    "blend start t<=300, shared 0.8": (model(start="blend", t0=300, shared=0.8),) * 2,
    "blend start t<=500, shared 0.8": (model(start="blend", t0=500, shared=0.8),) * 2,
    "blend start t<=100, shared 0.8": (model(start="blend", t0=100, shared=0.8),) * 2,
    "noise, then blend start t<=300": (model(), model(start="blend", t0=300, shared=0.8)),
    "blend start t<=300, text 1": (model(start="blend", t0=300, shared=0.8, text_scale=1.0),) * 2,
}
results = json.load(open(out_path)) if __import__("os").path.exists(out_path) else {}
pixel_blend = blend_keyframes(truth[:, :, ::16], 16)
results["pixel blend"] = dict(smoothness(pixel_blend, truth, captions), **interpolation_scores(pixel_blend, truth, 16))
for name in names:
    tick, g = time.time(), torch.Generator().manual_seed(0)
    if PASSES[name] is None:
        videos = decode_video(vae, encode_video(vae, truth)).clamp(-1, 1)
    else:
        first, second = PASSES[name]
        with torch.no_grad():
            z = second(first(keys, g), g)
        videos = decode_video(vae, z).clamp(-1, 1)
    results[name] = dict(smoothness(videos, truth, captions), **interpolation_scores(videos, truth, 16),
                         seconds=round(time.time() - tick))
    print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in results[name].items()}, flush=True)
    json.dump(results, open(out_path, "w"), indent=1)
