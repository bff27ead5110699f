"""Shared pieces of the blend-start experiments (issue 41): the long held-out clips, their true keyframe latents,
the long-clip smoothness figures, and the two-pass interpolation with a choice of where sampling starts."""
import os

import numpy as np
import torch

from videoldm_ref.autoencoder import decode_video, encode_video, load_autoencoder
from videoldm_ref.context import context_guided, interpolation_mask
from videoldm_ref.diffusion import ddim_sample, mixed_noise, q_sample
from videoldm_ref.image_ldm import sampling_settings
from videoldm_ref.interpolation import (blend_keyframes, interpolation_scores, interpolation_windows, load_interpolation,
                                        long_heldout)
from videoldm_ref.metrics import step_smoothness

torch.set_num_threads(int(os.environ.get("THREADS", 2)))


def smoothness(videos, truth, captions, period: int = 4) -> dict:
    "`metrics.step_smoothness` against the truth, over clips: mean step noise and worst error, backward steps, share."
    rows = [step_smoothness(v, c, t, period=period) for v, t, c in zip(videos, truth, captions)]
    kept = [r for r in rows if np.isfinite(r.step_noise)]
    return dict(step_noise_px=float(np.mean([r.step_noise for r in kept])), worst_px=float(np.mean([r.worst for r in kept])),
                backward=sum(r.backward for r in rows), periodic=float(np.mean([r.periodic for r in kept])),
                tracked=len(kept), clips=len(rows))


def interpolate_from(ldm, keys, captions, *, start: str = "noise", t0: int = 999, shared: float = 0.0,
                     num_steps: int = 10, text_scale: float = 3.0, context_scale: float = 2.0, generator=None):
    "One pass x4, window by window; `start='blend'` begins DDIM at the last step <= `t0` from the noised latent blend."
    b, c, n, h, w = keys.shape
    settings = sampling_settings(ldm, num_steps)
    out = [keys[:, :, :1]]
    for s, first in interpolation_windows(n, 3):
        k = keys[:, :, s:s + 3]
        ctx = torch.zeros(b, c, (k.shape[2] - 1) * 4 + 1, h, w)
        ctx[:, :, ::4] = k
        mask = interpolation_mask(b, k.shape[2], 4)
        fn = context_guided(ldm, captions, ctx, mask, text_scale=text_scale, context_scale=context_scale)
        noise = mixed_noise(ctx.shape, shared, generator)
        ts = settings["timesteps"]
        if start == "blend":
            ts = ts[ts <= t0]
            x = q_sample(blend_keyframes(k), torch.full((b,), int(ts[0])), noise, ldm.schedule)
        else:
            x = noise
        z = ddim_sample(fn, ctx.shape, ldm.schedule, x_T=x, timesteps=ts, prediction_type=settings["prediction_type"],
                        generator=generator)
        z[:, :, ::4] = k
        out.append(z[:, :, (first - s - 1) * 4 + 1:])
    return torch.cat(out, 2)
