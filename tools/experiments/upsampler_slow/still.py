"""The still-clip probe of 14_upsampler for any video upsampler: its clean-estimate gain over the shipped image
upsampler on held-out patch clips, moving and frozen, and both sampled (4 DDIM steps, seed 0).

    python tools/experiments/upsampler_slow/still.py [PATH]     # default: the shipped video upsampler
"""
import sys
import torch
from videoldm_ref.metrics import flicker, psnr
from videoldm_ref.upsampler import (PatchClips, clean_estimate_error, collate_patches, downsample, heldout_highres,
                                    highres_clips, load_upsampler, upsample_clip)

if __name__ == "__main__":
    torch.set_num_threads(2)
    img = load_upsampler(video=False)
    vid = load_upsampler(sys.argv[1] if len(sys.argv) > 1 else None)
    held = PatchClips(highres_clips("heldout", frames=8), patch=64, seed=5)
    batch = collate_patches([held[i * 7 % len(held)] for i in range(12)])
    frozen = batch | {k: batch[k][:, :, :1].expand_as(batch[k]).clone() for k in ("hr", "low")}
    for name, b in (("moving", batch), ("static", frozen)):
        gain = {t: 1 - clean_estimate_error(vid, b, t) / clean_estimate_error(img, b, t) for t in (50, 150, 300, 500, 700)}
        print(name, "clean-estimate gain", {t: f"{100 * g:.1f}%" for t, g in gain.items()}, flush=True)
    parts = heldout_highres(frames=8, n=3)
    truth = torch.stack([it["video"] for it in parts["real"][:2] + parts["camera moves"][:2] + parts["bouncing shapes"][:2]])
    for name, tr in (("moving", truth), ("static", truth[:, :, :1].expand_as(truth).clone())):
        for label, m in (("image", img), ("video", vid)):
            with torch.no_grad():
                o = upsample_clip(m, downsample(tr), num_steps=4, generator=0)
            print(f"{name} {label}: PSNR {psnr(o, tr).item():.2f} flicker {flicker(o, tr).item():.4f}", flush=True)
