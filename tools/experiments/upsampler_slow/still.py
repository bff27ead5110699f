"""The still-clip probe of 14_upsampler for any video upsampler: its clean-estimate gain over the shipped image
upsampler on held-out patch clips, moving and frozen, and both sampled (4 DDIM steps, seed 0).

    python tools/experiments/upsampler_slow/still.py [PATH]     # default: the shipped video upsampler
"""
import sys, torch
from videoldm_ref.metrics import flicker, psnr
from videoldm_ref.diffusion import q_sample
from videoldm_ref.upsampler import *
torch.set_num_threads(2)
video_dir = sys.argv[1] if len(sys.argv) > 1 else None
img = load_upsampler(video=False)
vid = load_upsampler(video_dir) if video_dir else load_upsampler()
held = PatchClips(highres_clips("heldout", frames=8), patch=64, seed=5)
batch = collate_patches([held[i * 7 % len(held)] for i in range(12)])
static = {k: (v[:, :, :1].expand_as(v).clone() if torch.is_tensor(v) else v) for k, v in batch.items()}
for name, b in (("moving", batch), ("static", static)):
    g = torch.Generator().manual_seed(0)
    level = torch.full((12,), 20)
    low = img.augment(b["low"], level, g)
    target = b["hr"] - img.base(b["low"], b["hr"].shape[-2:])
    noise, tokens = torch.randn(target.shape, generator=g), img.text_encoder([""] * 12)
    out = {}
    for t in (50, 150, 300, 500, 700):
        tt = torch.full((12,), t)
        xt, a = q_sample(target, tt, noise, img.schedule), img.schedule.alphas_cumprod[t]
        with torch.no_grad():
            err = [((a.sqrt() * xt - (1 - a).sqrt() * m(xt, tt, low, level, tokens) - target) ** 2).mean().item()
                   for m in (img, vid)]
        out[t] = f"{100 * (1 - err[1] / err[0]):.1f}%"
    print(name, "clean-estimate gain", out, flush=True)
parts = heldout_highres(frames=8, n=3)
items = parts["real"][:2] + parts["camera moves"][:2] + parts["bouncing shapes"][:2]
truth = torch.stack([it["video"] for it in items])
for name, tr in (("moving", truth), ("static", truth[:, :, :1].expand_as(truth).clone())):
    low = downsample(tr)
    for mname, m in (("image", img), ("video", vid)):
        with torch.no_grad():
            o = upsample_clip(m, low, num_steps=4, generator=0)
        print(f"{name} {mname}: PSNR {psnr(o, tr).item():.2f} flicker {flicker(o, tr).item():.4f}", flush=True)
