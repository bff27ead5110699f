# 13's one-pass table (s=2, 20 DDIM steps, the notebook's 113 held-out clips) with the starting noise of every window
# mixed with a share RHO common to its frames (`shared_noise`). usage: one_pass.py OUT RHO [RHO ...]   (env THREADS, default 2)
import json, os, sys, time, torch
from torch.utils.data import Subset
from videoldm_ref.interpolation import load_interpolation, heldout_parts, interpolation_metrics
from videoldm_ref.autoencoder import load_autoencoder

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
out_path, rhos = sys.argv[1], [float(r) for r in sys.argv[2:]]
vae, ldm = load_autoencoder(), load_interpolation(recipe="paper")
measured = {name: Subset(part, range(min(50, len(part)))) for name, part in heldout_parts().items()}
out = {}
for rho in rhos:
    t0 = time.time()
    out[f"s=2, shared {rho:g}"] = interpolation_metrics(ldm, vae, measured, num_steps=20, context_scale=2.0,
                                                        shared_noise=rho)
    print(rho, json.dumps(out[f"s=2, shared {rho:g}"]), round(time.time() - t0), "s", flush=True)
    open(out_path, "w").write(json.dumps(out, indent=1))
