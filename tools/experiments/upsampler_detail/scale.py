"""The image upsampler trained from scratch with its residual scaled by SCALE before diffusion (`detail_scale`;
1 is the shipped recipe), STEPS steps of `IMAGE_UPSAMPLER_TRAINING` otherwise unchanged, saved to OUT_DIR
(resumable from CKPT); then sampled with 4 and with 1 DDIM step, independent noise, on `heldout_highres()`:
PSNR, flicker against the truth and the Frechet distance, beside bicubic, written to OUT_DIR/scores.json.

    python tools/experiments/upsampler_mean/scale.py SCALE OUT_DIR CKPT STEPS [THREADS]
"""
import dataclasses, json, os, sys
from pathlib import Path
import torch
from videoldm_ref import upsampler as U
from videoldm_ref.metrics import frechet_distance


def scores(model, steps_list=(4, 1), seed=0) -> dict:
    rows = {}
    with torch.no_grad():
        for part, items in U.heldout_highres().items():
            truth, caps = torch.stack([it["video"] for it in items]), [it["caption"] for it in items]
            low, rows[part] = U.downsample(truth), {}
            outs = {"bicubic": U.bicubic(low)}
            for n in steps_list:
                outs[f"{n} steps"] = torch.cat([U.upsample_clip(model, low[i:i + 1], caps[i:i + 1], generator=seed + i,
                                                                num_steps=n, noise_level=20) for i in range(len(items))])
            for name, out in outs.items():
                s = U.upsampler_scores(out, truth)
                s["fd"] = frechet_distance(U.clip_features(U._pieces(out)), U.clip_features(U._pieces(truth)))
                rows[part][name] = s
                print(f"{part:16s} {name:8s} PSNR {s['psnr']:6.2f} flicker {s['flicker']:.4f} fd {s['fd']:.4f}", flush=True)
    return rows


if __name__ == "__main__":
    scale, out_dir, ckpt, steps = float(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    torch.set_num_threads(int(sys.argv[5]) if len(sys.argv) > 5 else 2)
    U.UPSAMPLER_SETTINGS["demo"] = dict(U.UPSAMPLER_SETTINGS["demo"], detail_scale=scale,
                                        max_noise_level=int(os.environ.get("MAX_LEVEL", 350)))
    config = dataclasses.replace(U.IMAGE_UPSAMPLER_TRAINING, steps=steps)
    model, result = U.train_upsampler(out_dir, stage="image", config=config, ckpt_dir=ckpt, progress=False)
    rows = scores(model)
    (out_dir / "scores.json").write_text(json.dumps(dict(rows=rows, history=result.history, seconds=result.seconds), indent=1, default=float))
