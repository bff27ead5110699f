"""What the data allows: a small convolutional regressor (no diffusion, L2 loss) trained to add detail to bicubic,
given the low-resolution frame alone (K=1) or with its two neighbours (K=3), on the upsampler's training patches;
PSNR and flicker against the truth on the held-out clips of `heldout_highres()`, beside bicubic. If the one-frame
regressor beats bicubic, single frames hold detail the image upsampler could learn; if the three-frame one beats the
one-frame one, the neighbours hold more.

    python tools/experiments/upsampler_mean/regress.py OUT K STEPS [THREADS]
"""
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from videoldm_ref.upsampler import (PatchClips, bicubic, collate_patches, downsample, heldout_highres, highres_clips,
                                    upsampler_scores)


class Regressor(nn.Module):
    "`low (B, 3, K, h, w)` -> detail `(B, 3, 4h, 4w)` for the middle frame, added to its bicubic enlargement."
    def __init__(self, k: int, width: int = 64, depth: int = 6):
        super().__init__()
        self.inp = nn.Conv2d(3 * k, width, 3, padding=1)
        self.body = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1) for _ in range(depth))
        self.out = nn.Conv2d(width, 3 * 16, 3, padding=1)
        nn.init.zeros_(self.out.weight), nn.init.zeros_(self.out.bias)

    def forward(self, low):
        h = self.inp(low.flatten(1, 2))
        for conv in self.body:
            h = h + conv(F.gelu(h))
        mid = low[:, :, low.shape[2] // 2][:, :, None]
        return (bicubic(mid)[:, :, 0] + F.pixel_shuffle(self.out(F.gelu(h)), 4)).clamp(-1, 1)


def neighbours(low: torch.Tensor, k: int) -> torch.Tensor:
    "`(B, 3, T, h, w)` -> `(B T, 3, k, h, w)`: each frame with its k // 2 neighbours each side (edges repeated)."
    r, t = k // 2, low.shape[2]
    idx = torch.arange(t)[:, None] + torch.arange(-r, r + 1)[None]
    win = low[:, :, idx.clamp(0, t - 1)]                                   # (B, 3, T, k, h, w)
    return win.permute(0, 2, 1, 3, 4, 5).flatten(0, 1)


if __name__ == "__main__":
    out_path, k, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
    torch.manual_seed(0)
    net = Regressor(k)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.0)
    data = DataLoader(PatchClips(highres_clips(frames=k), patch=64), batch_size=32, shuffle=True, num_workers=0,
                      collate_fn=collate_patches, generator=torch.Generator().manual_seed(0))
    step, start, log = 0, time.time(), []
    while step < steps:
        for batch in data:
            pred = net(batch["low"])
            loss = F.mse_loss(pred, batch["hr"][:, :, k // 2])
            opt.zero_grad(), loss.backward(), opt.step()
            for g in opt.param_groups:
                g["lr"] = 1e-3 * min(1.0, 2 * (1 - step / steps))             # linear decay over the second half
            step += 1
            if step % 100 == 0:
                log.append((step, loss.item()))
                print(step, f"{loss.item():.5f}", f"{time.time() - start:.0f}s", flush=True)
            if step == steps:
                break
    rows = {}
    with torch.no_grad():
        for part, items in heldout_highres().items():
            truth = torch.stack([it["video"] for it in items])
            low = downsample(truth)
            pred = net(neighbours(low, k)).unflatten(0, (len(items), truth.shape[2])).transpose(1, 2)
            rows[part] = {"bicubic": upsampler_scores(bicubic(low), truth), f"regressor, {k} frames": upsampler_scores(pred, truth)}
            for name, s in rows[part].items():
                print(f"{part:16s} {name:22s} PSNR {s['psnr']:6.2f} flicker {s['flicker']:.4f}", flush=True)
    with open(out_path, "w") as f:
        json.dump(dict(rows=rows, log=log, seconds=time.time() - start, steps=steps), f, indent=1)
