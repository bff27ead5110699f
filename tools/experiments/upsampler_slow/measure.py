"""The video upsampler at each PATH, as `measure_upsamplers`' row "video, overlap 2" (the same held-out clips, seeds
and settings), beside the shipped image upsampler's row; prints one line per part and model, and writes OUT (json).

    python tools/experiments/upsampler_slow/measure.py OUT PATH [PATH ...]      # "shipped": the shipped upsampler

`SEED=100` in the environment draws other noise (clip i gets seed SEED + i; the notebook's table has SEED=0).
"""
import json, os, sys
import torch
from videoldm_ref.upsampler import (boundary_steps, downsample, heldout_highres, load_upsampler, upsample_clip,
                                    upsample_video, upsampler_scores)

if __name__ == "__main__":
    torch.set_num_threads(2)
    out_path, paths = sys.argv[1], sys.argv[2:]
    seed = int(os.environ.get("SEED", 0))
    image = load_upsampler(video=False)
    models = {"image upsampler": image} | {p: load_upsampler(None if p == "shipped" else p) for p in paths}
    rows = {}
    with torch.no_grad():
        for part, items in heldout_highres().items():
            truth, caps = torch.stack([it["video"] for it in items]), [it["caption"] for it in items]
            low, rows[part] = downsample(truth), {}
            for name, m in models.items():
                if name == "image upsampler":
                    out = torch.cat([upsample_clip(m, low[i:i + 1], caps[i:i + 1], generator=seed + i, num_steps=4,
                                                   noise_level=20) for i in range(len(items))])
                else:
                    out = torch.cat([torch.cat(list(upsample_video(m, low[i:i + 1], caps[i:i + 1], window=8, overlap=2,
                                                                   generator=seed + i, num_steps=4, noise_level=20)), 2)
                                     for i in range(len(items))])
                s = upsampler_scores(out, truth, boundaries=boundary_steps(truth.shape[2], 8, 2))
                rows[part][name] = s
                ratio = s["flicker"] / rows[part]["image upsampler"]["flicker"]
                print(f"{part:16s} {name:28s} PSNR {s['psnr']:6.2f} flicker {s['flicker']:.4f} (x{ratio:.3f} image)",
                      flush=True)
    with open(out_path, "w") as f:
        json.dump(rows, f, indent=1)
