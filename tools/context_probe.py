"""Measure a context model while it trains: the EMA weights of the newest checkpoint in a `fit` checkpoint folder
(copied first, so the running training can go on), scored by `rollout_metrics` (held-out bouncing starts, 3 windows,
20 DDIM steps), and a grid of 4 rollouts saved beside the numbers.

    python tools/context_probe.py build/ckpt/prediction                 # n=8, S=2, no context guidance
    python tools/context_probe.py build/ckpt/prediction --n 16 --runs 2,1.0 2,2.0 1,2.0   # S,scale pairs
    python tools/context_probe.py build/ckpt/interpolation --interpolation --n 16 --steps 20   # against blending

With `--interpolation`, the first `n` held-out clips of each kind (`heldout_parts`) are scored by
`interpolation_metrics` beside linear blending, at the context scale of each of `--runs` (S is ignored).
"""
import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch

from videoldm_ref.autoencoder import decode_video, encode_video, load_autoencoder
from torch.utils.data import Subset

from videoldm_ref.context import ContextLDM, rollout_metrics
from videoldm_ref.interpolation import (blend_keyframes, heldout_parts, interpolation_metrics, interpolation_model,
                                        interpolation_scores)
from videoldm_ref.keyframes import load_keyframes
from videoldm_ref.media import frames_grid
from videoldm_ref.train import read_checkpoint


def load_ema(ckpt_dir: Path, context_width: int = 64, interpolation: bool = False) -> tuple[ContextLDM, dict]:
    """The context model of the shipped keyframe model (with `interpolation`, `interpolation_model()`) with the EMA
    weights of the newest checkpoint in `ckpt_dir`."""
    with tempfile.TemporaryDirectory() as tmp:
        name = json.loads((ckpt_dir / "latest.json").read_text())["checkpoint"]
        shutil.copytree(ckpt_dir / name, Path(tmp) / name)
        (Path(tmp) / "latest.json").write_text(json.dumps({"checkpoint": name}))
        tensors, state = read_checkpoint(tmp)
    if interpolation:
        ldm = interpolation_model()                                      # as train_interpolation
    else:
        ldm = ContextLDM.from_video_ldm(load_keyframes(), context_width)
        ldm.unet.freeze_spatial()                                        # as train_context: the EMA follows these
    ldm.load_state_dict({k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")})
    with torch.no_grad():
        for i, p in enumerate(p for p in ldm.parameters() if p.requires_grad):
            p.copy_(tensors[f"ema.{i}"])
    return ldm.eval(), state


def probe_interpolation(ldm: ContextLDM, vae, n: int, num_steps: int, context_scale: float = 1.0):
    "Print the model's `interpolation_scores` and blending's on the first `n` held-out clips of each kind."
    parts = {name: Subset(part, range(min(n, len(part)))) for name, part in heldout_parts().items()}
    t = time.time()
    scores = interpolation_metrics(ldm, vae, parts, num_steps=num_steps, context_scale=context_scale)
    print(f"context scale {context_scale}:")
    for name, part in parts.items():
        truth = torch.stack([part[i]["video"] for i in range(len(part))])
        blend = interpolation_scores(blend_keyframes(truth[:, :, ::4]), truth)
        floor = interpolation_scores(decode_video(vae, encode_video(vae, truth)).clamp(-1, 1), truth)
        for method, s in (("model", scores[name]), ("blend", blend), ("ae", floor)):
            print(f"{name:16s} {len(part):3d} {method:6s} psnr {s['psnr']:5.2f} moving {s['psnr_moving']:5.2f} "
                  f"flicker {s['flicker']:.4f}", flush=True)
    print(f"{time.time() - t:.0f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ckpt_dir", type=Path)
    ap.add_argument("--n", type=int, default=8, help="held-out starts (default: %(default)s)")
    ap.add_argument("--runs", nargs="*", default=["2,1.0"], help="S,context_scale pairs (default: 2,1.0)")
    ap.add_argument("--interpolation", action="store_true", help="score interpolation against blending instead")
    ap.add_argument("--steps", type=int, default=20, help="DDIM steps (default: %(default)s)")
    args = ap.parse_args()
    ldm, state = load_ema(args.ckpt_dir, interpolation=args.interpolation)
    vae = load_autoencoder()
    print(f"step {state['step']}, loss (last 100) {sum(state['history'][-100:]) / 100:.4f}", flush=True)
    if args.interpolation:
        return [probe_interpolation(ldm, vae, args.n, args.steps, float(run.split(",")[-1])) for run in args.runs]
    for run in args.runs:
        given, scale = run.split(",")
        t = time.time()
        m = rollout_metrics(ldm, vae, n=args.n, batch=args.n, num_steps=args.steps, given=int(given),
                            context_scale=float(scale))
        print(f"S={given} s={scale}:", {k: v for k, v in m.items() if k != "videos"}, f"{time.time() - t:.0f} s",
              flush=True)
        path = args.ckpt_dir.parent / f"probe_{args.ckpt_dir.name}_{state['step']}_S{given}_s{scale}.png"
        frames_grid(m["videos"][:4], n_frames=20).savefig(path)
        print("grid:", path)


if __name__ == "__main__":
    main()
