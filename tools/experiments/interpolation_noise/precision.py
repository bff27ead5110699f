# How precisely does a model put the object where it is? The first 33 frames of the first N long held-out clips
# (slow motion: a quarter pixel a frame), in windows of 9 frames with the true keyframes 0, 4, 8: the true latents
# noised to step T (one fixed noise) and denoised (10-step DDIM schedule from T) by the frozen image model alone
# (every frame an image, text guidance 3) and by the interpolation model (keyframes given, text 3, context 2).
# Then the object's distance from its true path and the noise of its steps, at the in-between frames.
# With DRAWS=K > 1, K noises (seeds 0..K-1) and also the path averaged over them: errors that the noise makes shrink
# about as 1/sqrt(K) in the average; a model's bias stays.
# usage: precision.py N T [T ...]   (env THREADS, default 2; OUT: a json file; DRAWS, default 1; MODEL: a checkpoint)
import json, os, sys, torch, numpy as np
from videoldm_ref.interpolation import load_interpolation, long_heldout
from videoldm_ref.autoencoder import load_autoencoder, encode_video, decode_video
from videoldm_ref.context import context_guided, interpolation_mask
from videoldm_ref.diffusion import ddim_sample, q_sample
from videoldm_ref.metrics import motion_check

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
n, steps = int(sys.argv[1]), [int(t) for t in sys.argv[2:]]
vae, ldm, long = load_autoencoder(), load_interpolation(os.environ.get("MODEL"), recipe="paper"), long_heldout()[:n]
truth, captions = torch.stack([it["video"][:, :33] for it in long]), [it["caption"] for it in long]
z0 = encode_video(vae, truth)
b, c, T, h, w = z0.shape
K = int(os.environ.get("DRAWS", 1))
noises = [torch.randn(z0.shape, generator=torch.Generator().manual_seed(k)) for k in range(K)]
sign = np.array([-1 if c.endswith(("up", "left")) else 1 for c in captions])[:, None]
between = [k for k in range(T) if k % 4]


def path(videos):
    along = lambda v, c: motion_check(v, c).centroids[:, 0 if c.endswith(("up", "down")) else 1]
    return 64 * sign * np.array([along(v, c) for v, c in zip(videos, captions)], dtype=float)


true_path = path(truth)


def figures(videos=None, p=None):
    p = path(videos) if p is None else p
    err, dsteps = p - true_path, np.diff(p - true_path, axis=1)
    return dict(median_px=round(float(np.nanmedian(np.abs(err[:, between]))), 3),
                step_noise_px=round(float(np.nanmean(np.nanstd(dsteps, axis=1))), 3))


def image_fn(x, t):
    ones = torch.ones(len(x), x.shape[2], dtype=torch.bool)
    cond, empty = ldm.text_encoder(captions), ldm.text_encoder([""] * len(x))
    none = ldm(x, t, empty, image_only_indicator=ones)
    return none + 3.0 * (ldm(x, t, cond, image_only_indicator=ones) - none)


out = {"autoencoder": figures(decode_video(vae, z0).clamp(-1, 1))}
print("autoencoder", out["autoencoder"], flush=True)
full = ldm.schedule.num_steps


def denoised_path(name, t0, noise):
    "The object's path after `name` denoises the true latents noised to `t0` with `noise`, window by window."
    ts, z = torch.tensor([t for t in range(t0, -1, -max(full // 10, 1))]), z0.clone()
    for s in range(0, T - 1, 8):
        x_t = q_sample(z0[:, :, s:s + 9], torch.full((b,), t0), noise[:, :, s:s + 9], ldm.schedule)
        ctx = torch.zeros_like(x_t)
        ctx[:, :, ::4] = z0[:, :, s:s + 9:4]
        fn = image_fn if name == "image model" else context_guided(
            ldm, captions, ctx, interpolation_mask(b, 3, 4), text_scale=3.0, context_scale=2.0)
        with torch.no_grad():
            zz = ddim_sample(fn, x_t.shape, ldm.schedule, x_T=x_t, timesteps=ts,
                             prediction_type=ldm.diffusion.prediction_type)
        z[:, :, s + 1:s + 9] = zz[:, :, 1:]
        z[:, :, s:s + 9:4] = z0[:, :, s:s + 9:4]                           # the keyframes as given, for both
    return path(decode_video(vae, z).clamp(-1, 1))


for t0 in steps:
    row = {}
    for name in ("image model", "interpolation model"):
        paths = [denoised_path(name, t0, noise) for noise in noises]
        row[name] = figures(p=paths[0])
        if K > 1:
            row[name + f", mean of {K} draws"] = figures(p=np.mean(paths, axis=0))
            row[name + ", each draw"] = [figures(p=q)["step_noise_px"] for q in paths]
    out[f"from t={t0}"] = row
    print(t0, row, flush=True)
print(json.dumps(out))
if os.environ.get("OUT"):
    open(os.environ["OUT"], "w").write(json.dumps(out, indent=1))
