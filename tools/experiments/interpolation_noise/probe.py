# Two passes (8 -> 113) of the shipped interpolation model on the first N long held-out clips, the starting noise of
# every window mixed with a share RHO common to its frames (`shared_noise`; no training): the object's distance from its true path,
# how even its steps are, and the notebook's figures; decoded by the image decoder and by the temporal decoder.
# usage: probe.py N RHO [RHO ...]   (env THREADS, default 2; MODEL: an interpolation checkpoint folder)
import json, os, sys, time, torch, numpy as np
from videoldm_ref.interpolation import load_interpolation, long_heldout, interpolate_passes, interpolation_scores
from videoldm_ref.autoencoder import load_autoencoder, encode_video, decode_video
from videoldm_ref.temporal_decoder import load_temporal_decoder, decode_video_temporal
from videoldm_ref.metrics import motion_check, motion_pass_rate

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
n, rhos = int(sys.argv[1]), [float(r) for r in sys.argv[2:]]
vae, dec, ldm = load_autoencoder(), load_temporal_decoder(), load_interpolation(os.environ.get("MODEL"), recipe="paper")
long = long_heldout()[:n]
truth, captions = torch.stack([it["video"] for it in long]), [it["caption"] for it in long]
STEPS, SCALE = int(os.environ.get('STEPS', 10)), float(os.environ.get('SCALE', 2.0))


def along(v, c):
    return motion_check(v, c).centroids[:, 0 if c.endswith(("up", "down")) else 1]


def path_figures(videos):
    pm = np.array([along(v, c) for v, c in zip(videos, captions)], dtype=float)
    pt = np.array([along(v, c) for v, c in zip(truth, captions)], dtype=float)
    kept = np.isfinite(pm).all(1)
    err = 64 * np.abs(pm - pt)[kept]
    sign = np.array([-1 if c.endswith(("up", "left")) else 1 for c in captions])[kept, None]
    steps = 64 * np.diff(pm[kept], axis=1) * sign
    med = np.median(steps, axis=1, keepdims=True)
    bad = ((steps < 0.5 * med) | (steps > 1.75 * med)).mean()
    rough = np.std(steps - 64 * np.diff(pt[kept], axis=1) * sign, axis=1).mean()
    lag = 64 * (pm - pt)[kept] * sign                                       # > 0: ahead of the truth
    return dict(lag_by_phase_px=[round(float(lag[:, k::16].mean()), 3) for k in range(16)], median_px=round(float(np.median(err)), 3), mean_px=round(float(err.mean()), 3),
                steps_out=round(float(bad), 3), step_noise_px=round(float(rough), 3))


out = {}
for rho in rhos:
    t0, zs = time.time(), []
    for s in range(0, n, 8):
        keys = encode_video(vae, truth[s:s + 8, :, ::16])
        zs.append(interpolate_passes(ldm, keys, captions[s:s + 8], num_steps=STEPS, context_scale=SCALE, shared_noise=rho,
                                     generator=s))
    z = torch.cat(zs)
    row = {}
    for name, videos in (("image decoder", decode_video(vae, z).clamp(-1, 1)),
                         ("temporal decoder", decode_video_temporal(dec, z))):
        m = {k: round(v, 3) for k, v in motion_pass_rate(videos, captions).items() if k != "checks"}
        row[name] = dict(path_figures(videos), motion=m,
                         scores={k: round(v, 4) for k, v in interpolation_scores(videos, truth, 16).items()})
    row["seconds"] = round(time.time() - t0)
    out[str(rho)] = row
    print(rho, json.dumps(row), flush=True)
for name, videos in (("image decoder", decode_video(vae, encode_video(vae, truth)).clamp(-1, 1)),
                     ("temporal decoder", decode_video_temporal(dec, encode_video(vae, truth)))):
    out["autoencoder, " + name] = dict(path_figures(videos), passed=motion_pass_rate(videos, captions)["passed"])
    print(name, out["autoencoder, " + name], flush=True)
if os.environ.get("OUT"):
    open(os.environ["OUT"], "w").write(json.dumps(out, indent=1))
