"""The video upsampler at each PATH (sampled with its own `shared_noise`), as `measure_upsamplers`' row "video,
overlap 2", beside the shipped image upsampler with independent noise and with each RHO of shared noise ("" for
none); one line per part and model, all written to OUT (json). PATH `shipped`: the shipped upsampler.

    python tools/experiments/upsampler_slow/measure.py OUT RHO[,RHO...] PATH [PATH ...]

`SEED=100` in the environment draws other noise (clip i gets seed SEED + i; the notebook's table has SEED=0);
`THREADS` sets torch's threads (default 2); `STEPS` the DDIM steps (default 4, the notebook's); `IMAGE`
the folder of the image upsampler (default the shipped one).
"""
import json, os, sys
import torch
from videoldm_ref.metrics import frechet_distance
from videoldm_ref.upsampler import (_pieces, boundary_steps, clip_features, downsample, heldout_highres, load_upsampler,
                                    upsample_clip, upsample_video, upsampler_scores)

if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("THREADS", 2)))
    seed, steps = int(os.environ.get("SEED", 0)), int(os.environ.get("STEPS", 4))
    out_path, rhos, paths = sys.argv[1], [float(r) for r in sys.argv[2].split(",") if r], sys.argv[3:]
    image = load_upsampler(os.environ.get("IMAGE") or None, video=False)
    runs = {"image upsampler": (image, 0.0)} | {f"image, shared noise {r}": (image, r) for r in rhos}
    runs |= {p: (load_upsampler(None if p == "shipped" else p), None) for p in paths}
    rows = {}
    with torch.no_grad():
        for part, items in heldout_highres().items():
            truth, caps = torch.stack([it["video"] for it in items]), [it["caption"] for it in items]
            low, rows[part] = downsample(truth), {}
            for name, (m, rho) in runs.items():
                if name.startswith("image"):
                    out = torch.cat([upsample_clip(m, low[i:i + 1], caps[i:i + 1], generator=seed + i,
                                                   num_steps=steps, noise_level=20, shared_noise=rho) for i in range(len(items))])
                else:
                    out = torch.cat([torch.cat(list(upsample_video(m, low[i:i + 1], caps[i:i + 1], window=8, overlap=2,
                                                                   generator=seed + i, num_steps=steps, noise_level=20)), 2)
                                     for i in range(len(items))])
                s = upsampler_scores(out, truth, boundaries=boundary_steps(truth.shape[2], 8, 2))
                s["fd"] = frechet_distance(clip_features(_pieces(out)), clip_features(_pieces(truth)))
                rows[part][name] = s
                ratio = s["flicker"] / rows[part]["image upsampler"]["flicker"]
                print(f"{part:16s} {name:28s} PSNR {s['psnr']:6.2f} flicker {s['flicker']:.4f} (x{ratio:.3f} image) "
                      f"fd {s['fd']:.4f}", flush=True)
    with open(out_path, "w") as f:
        json.dump(rows, f, indent=1)
