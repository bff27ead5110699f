# Where the wobble of two passes comes from: pass 1 alone (true keyframes every 16th frame -> 29 frames, judged
# against every 4th true frame) and pass 2 alone (true keyframes every 4th frame -> 113), on the first N long
# held-out clips. usage: passes.py N [OUT]   (env THREADS, default 2)
import json, os, sys, time, torch, numpy as np
from videoldm_ref.interpolation import load_interpolation, long_heldout, interpolate_passes
from videoldm_ref.autoencoder import load_autoencoder, encode_video, decode_video
from videoldm_ref.metrics import motion_check, motion_pass_rate

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
n = int(sys.argv[1])
vae, ldm, long = load_autoencoder(), load_interpolation(recipe="paper"), long_heldout()[:n]
truth, captions = torch.stack([it["video"] for it in long]), [it["caption"] for it in long]


def figures(videos, ref):
    along = lambda v, c: motion_check(v, c).centroids[:, 0 if c.endswith(("up", "down")) else 1]
    pm = np.array([along(v, c) for v, c in zip(videos, captions)], dtype=float)
    pt = np.array([along(v, c) for v, c in zip(ref, captions)], dtype=float)
    sign = np.array([-1 if c.endswith(("up", "left")) else 1 for c in captions])[:, None]
    steps, true_steps = 64 * np.diff(pm, axis=1) * sign, 64 * np.diff(pt, axis=1) * sign
    return dict(true_step_px=round(float(np.median(true_steps)), 3), median_px=round(float(np.median(64 * abs(pm - pt))), 3),
                step_noise_px=round(float(np.std(steps - true_steps, axis=1).mean()), 3),
                smooth=motion_pass_rate(videos, captions)["smooth"])


out = {}
for name, every, ref in (("pass 1 from true keyframes (16 apart)", 16, truth[:, :, ::4]),
                         ("pass 2 from true keyframes (4 apart)", 4, truth)):
    t0 = time.time()
    keys = encode_video(vae, truth[:, :, ::every])
    z = torch.cat([interpolate_passes(ldm, keys[s:s + 8], captions[s:s + 8], passes=1, num_steps=10,
                                      context_scale=2.0, generator=s) for s in range(0, n, 8)])
    out[name] = figures(decode_video(vae, z).clamp(-1, 1), ref)
    print(name, out[name], round(time.time() - t0), "s", flush=True)
out["autoencoder, every 4th frame"] = figures(decode_video(vae, encode_video(vae, truth[:, :, ::4])).clamp(-1, 1),
                                              truth[:, :, ::4])
print(out)
if len(sys.argv) > 2:
    open(sys.argv[2], "w").write(json.dumps(out, indent=1))
