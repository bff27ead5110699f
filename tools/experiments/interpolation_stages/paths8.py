# two passes (8 -> 113) on the first N long held-out clips: path distance and the notebook's figures
import json, sys, time, torch, numpy as np
from videoldm_ref.interpolation import load_interpolation, long_heldout, two_pass_metrics
from videoldm_ref.autoencoder import load_autoencoder
from videoldm_ref.metrics import motion_check
torch.set_num_threads(2)
path, n = sys.argv[1], int(sys.argv[2])
t = time.time()
vae, ldm, long = load_autoencoder(), load_interpolation(path), long_heldout()[:n]
m = two_pass_metrics(ldm, vae, long, num_steps=10, context_scale=2.0)
along = lambda v, c: motion_check(v, c).centroids[:, 0 if c.endswith(("up", "down")) else 1]
pm = np.array([along(v, it["caption"]) for v, it in zip(m["videos"], long)], dtype=float)
pt = np.array([along(it["video"], it["caption"]) for it in long], dtype=float)
kept = np.isfinite(pm).all(1)
err = np.abs(pm - pt)[kept]
phase = [round(float(np.median(err[:, k::16])) * 64, 2) for k in range(16)]
print(path, f"n={n} kept {kept.sum()} median dist {64 * np.median(err):.3f} px, mean {64 * err.mean():.3f} px;",
      "phase px", phase, m["motion"], {k: round(v, 4) for k, v in m["scores"].items()}, round(time.time() - t), "s", flush=True)
