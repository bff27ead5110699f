"""Shared noise without training: the image upsampler and the video upsampler at PATH (trained on independent noise)
started from noise with a fraction RHO of its variance common to all frames (`mixed_noise`), on the held-out parts,
16 frames in one `upsample_clip` call; PSNR, flicker against the truth and the Frechet distance, written to OUT.

    python tools/experiments/upsampler_slow/shared_probe.py OUT PATH [THREADS]
"""
import json, sys, time
import torch
from videoldm_ref.metrics import frechet_distance
from videoldm_ref.upsampler import (_pieces, clip_features, downsample, heldout_highres, load_upsampler, mixed_noise,
                                    upsample_clip, upsampler_scores)

if __name__ == "__main__":
    out_path, path = sys.argv[1:3]
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    models = {"image": load_upsampler(video=False), "video": load_upsampler(path)}
    rows, t0 = {}, time.time()
    with torch.no_grad():
        for part, items in heldout_highres().items():
            truth, caps = torch.stack([it["video"] for it in items]), [it["caption"] for it in items]
            low = downsample(truth)
            b, _, n, h, w = low.shape
            rows[part] = {}
            for rho in (0.0, 0.5, 0.8):
                outs = {k: [] for k in models}
                for i in range(b):
                    g = torch.Generator().manual_seed(i)
                    ind = torch.randn(1, 3, n, 4 * h, 4 * w, generator=g)
                    common = torch.randn(1, 3, 1, 4 * h, 4 * w, generator=g)
                    x_T = rho ** 0.5 * common + (1 - rho) ** 0.5 * ind
                    for k, m in models.items():
                        outs[k].append(upsample_clip(m, low[i:i + 1], caps[i:i + 1], generator=100 + i, x_T=x_T,
                                                     num_steps=4, noise_level=20))
                for k, o in outs.items():
                    o = torch.cat(o)
                    s = upsampler_scores(o, truth)
                    s["fd"] = frechet_distance(clip_features(_pieces(o)), clip_features(_pieces(truth)))
                    rows[part][f"{k} rho={rho}"] = s
                    print(f"{part:16s} {k:6s} rho={rho:.2f} PSNR {s['psnr']:6.2f} flicker {s['flicker']:.4f} "
                          f"fd {s['fd']:.4f}  ({time.time() - t0:.0f}s)", flush=True)
    with open(out_path, "w") as f:
        json.dump(rows, f, indent=1)
