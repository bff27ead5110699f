"""Probe an upsampler training checkpoint (its EMA weights) on held-out 256x256 clips against bicubic.

    python tools/upsampler_probe.py build/ckpt/upsampler/image [--plain] [--steps 1 4] [--out nbs/results/x.json]

`--plain`: the checkpoint is of an upsampler that denoises the frames themselves (`residual=False`)."""
import argparse
import json

import torch

from videoldm_ref.metrics import flicker, psnr
from videoldm_ref.train import read_checkpoint
from videoldm_ref.upsampler import Upsampler, bicubic, downsample, heldout_highres, upsample_clip


def load_ema(ckpt_dir: str, residual: bool) -> tuple[Upsampler, int]:
    tensors, state = read_checkpoint(ckpt_dir)
    model = Upsampler.build("demo")
    model.residual = residual
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    params = [p for p in model.parameters() if p.requires_grad]
    ema = [tensors[f"ema.{i}"] for i in range(len(params))]
    with torch.no_grad():
        for p, e in zip(params, ema):
            p.copy_(e)
    return model.eval(), state["step"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ckpt_dir")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--steps", type=int, nargs="+", default=[1, 4])
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--n", type=int, default=3)
    p.add_argument("--out")
    a = p.parse_args()
    model, step = load_ema(a.ckpt_dir, residual=not a.plain)
    rows = {}
    for part, items in heldout_highres(frames=a.frames, n=a.n).items():
        truth = torch.stack([it["video"] for it in items])
        low = downsample(truth)
        rows[part] = {"bicubic": dict(psnr=psnr(bicubic(low), truth).item(), flicker=flicker(bicubic(low), truth).item())}
        for steps in a.steps:
            out = upsample_clip(model, low, [it["caption"] for it in items], num_steps=steps, generator=0)
            rows[part][f"{steps} steps"] = dict(psnr=psnr(out, truth).item(), flicker=flicker(out, truth).item())
        for k, r in rows[part].items():
            print(f"step {step} {part:16s} {k:9s} PSNR {r['psnr']:6.2f}  flicker {r['flicker']:.4f}", flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(dict(ckpt=a.ckpt_dir, step=step, residual=not a.plain, scores=rows), f, indent=1)


if __name__ == "__main__":
    main()
