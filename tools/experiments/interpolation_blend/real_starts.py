"""The shipped interpolation model, one pass on the real held-out clips of 13's table (up to 50 a part), with its
sampling started from the motion blend noised to each step t0 given (its default: `RESIDUAL_START`).

    python real_starts.py OUT.json T0 ...   (env THREADS, default 2; MODEL: another saved interpolation model)"""
import json
import os
import sys
import time

import torch
from torch.utils.data import Subset

from common import load_autoencoder
from videoldm_ref.interpolation import RESIDUAL_START, heldout_parts, interpolation_metrics, load_interpolation

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
out_path, starts = sys.argv[1], [int(s) for s in sys.argv[2:]] or [RESIDUAL_START]
vae, ldm = load_autoencoder(), load_interpolation(os.environ.get("MODEL")).eval()
parts = {k: Subset(p, range(min(50, len(p)))) for k, p in heldout_parts().items() if k.startswith("real")}
out = {}
for t0 in starts:
    tick = time.time()
    out[str(t0)] = interpolation_metrics(ldm, vae, parts, start=t0)
    out[str(t0)]["seconds"] = round(time.time() - tick)
    print(t0, out[str(t0)], flush=True)
    json.dump(out, open(out_path, "w"), indent=1)
