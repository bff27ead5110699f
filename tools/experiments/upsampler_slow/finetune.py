"""Fine-tune the temporal layers of the video upsampler at SRC for STEPS steps: on its own clips (`control`), or with
slow and still clips added (`slow`). Fresh optimiser, seed 1, EMA 0.995, as the interpolation model's second stage.

    python tools/experiments/upsampler_slow/finetune.py slow|control SRC OUT CKPT STEPS MINUTES [THREADS]
"""
import dataclasses, sys, time
import torch
from torch.utils.data import ConcatDataset
from videoldm_ref.core import seed_everything
from videoldm_ref.train import fit
from videoldm_ref.upsampler import (VIDEO_UPSAMPLER_TRAINING, PatchClips, collate_patches, highres_clips, load_upsampler,
                                    save_upsampler, slow_highres_clips, upsampler_loss)


if __name__ == "__main__":
    mode, src, out, ckpt = sys.argv[1:5]
    steps, minutes = int(sys.argv[5]), float(sys.argv[6])
    assert mode in ("slow", "control"), mode
    torch.set_num_threads(int(sys.argv[7]) if len(sys.argv) > 7 else 2)
    cfg = dataclasses.replace(VIDEO_UPSAMPLER_TRAINING, steps=steps, seed=1, ema_decay=0.995, ckpt_every=100)
    seed_everything(cfg.seed)
    model = load_upsampler(src)
    for p in model.unet.temporal_parameters():
        p.requires_grad_(True)
    clips = highres_clips(frames=8, seed=cfg.seed)
    if mode == "slow":
        clips = ConcatDataset([clips, slow_highres_clips()])
    print(mode, "clips", len(clips), flush=True)
    data = PatchClips(clips, patch=64, seed=cfg.seed)
    t = time.time()
    r = fit(model.train(), upsampler_loss(), data, cfg, ckpt_dir=ckpt, collate_fn=collate_patches, progress=False,
            time_limit=minutes * 60)
    r.ema.copy_to([p for p in model.parameters() if p.requires_grad])
    save_upsampler(model.cpu().eval(), out)
    print("done", round(time.time() - t), "s; steps", len(r.history), "last loss", sum(r.history[-100:]) / 100, flush=True)
