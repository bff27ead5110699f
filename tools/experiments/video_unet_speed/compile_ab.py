"""Issue 45: eager and torch.compile (inductor, CPU) forward of our VideoUNet and of diffusers' video UNet at matched size
(`_bench_models`), best of 5 after a first (compiling) call, 2 threads: does compiling change the ratio?
    python tools/experiments/video_unet_speed/compile_ab.py FRAMES [OUT.json]   (OUT gets this length's record)"""
import json
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(2)
from videoldm_ref.video_unet import _bench_models
frames = int(sys.argv[1])
image, ours, svd = (m.eval() for m in _bench_models(frames))
x, ctx, t = torch.randn(1, 4, frames, 32, 32), torch.randn(1, 4, 64), torch.full((1,), 500)
ids = torch.zeros(1, 3)
f_ours = lambda m: m(x, t, ctx)
f_svd = lambda m: m(x.transpose(1, 2), t, ctx, added_time_ids=ids).sample
out = {}
with torch.no_grad():
    c_ours, c_svd = torch.compile(ours), torch.compile(svd)
    for name, f in (("ours compiled", lambda: f_ours(c_ours)), ("svd compiled", lambda: f_svd(c_svd))):
        t0 = time.perf_counter(); f(); out[name + " first call s"] = round(time.perf_counter() - t0, 1)
    runs = {"ours eager": lambda: f_ours(ours), "svd eager": lambda: f_svd(svd),
            "ours compiled": lambda: f_ours(c_ours), "svd compiled": lambda: f_svd(c_svd)}
    best = {k: 1e9 for k in runs}
    for _ in range(5):
        for k, f in runs.items():
            t0 = time.perf_counter(); f(); best[k] = min(best[k], time.perf_counter() - t0)
    err = (f_ours(c_ours) - f_ours(ours)).abs().max().item()
out.update({k: round(v, 4) for k, v in best.items()}, eager_ratio=round(best["ours eager"] / best["svd eager"], 3),
           compiled_ratio=round(best["ours compiled"] / best["svd compiled"], 3),
           ours_compiled_vs_svd_eager=round(best["ours compiled"] / best["svd eager"], 3), max_abs_diff=err, frames=frames)
print(json.dumps(out))
if len(sys.argv) > 2:                                                    # one record per length, kept side by side
    path = Path(sys.argv[2])
    record = json.loads(path.read_text()) if path.exists() else {}
    record.update({str(frames): out, "threads": torch.get_num_threads()})
    path.write_text(json.dumps(record, indent=1))
