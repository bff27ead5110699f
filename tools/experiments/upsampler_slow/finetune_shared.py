"""Fine-tune the temporal layers of the video upsampler at SRC for STEPS steps with a fraction RHO of the diffusion
noise's variance shared by all frames of a clip: `train_upsampler(stage="shared")` on a copy of SRC at OUT (fresh
optimiser, seed 1, EMA 0.995, the slow stage's clips), resumable from CKPT.

    python tools/experiments/upsampler_slow/finetune_shared.py RHO SRC OUT CKPT STEPS MINUTES [THREADS]
"""
import dataclasses, shutil, sys, time
from pathlib import Path
import torch
from videoldm_ref.upsampler import UPSAMPLER_SHARED_TRAINING, train_upsampler

if __name__ == "__main__":
    rho, src, out, ckpt = float(sys.argv[1]), *sys.argv[2:5]
    steps, minutes = int(sys.argv[5]), float(sys.argv[6])
    torch.set_num_threads(int(sys.argv[7]) if len(sys.argv) > 7 else 2)
    if not Path(out).exists():
        shutil.copytree(src, out)
    t = time.time()
    _, r = train_upsampler(out, stage="shared", config=dataclasses.replace(UPSAMPLER_SHARED_TRAINING, steps=steps),
                           shared_noise=rho, ckpt_dir=ckpt, progress=False, time_limit=minutes * 60)
    print("done", round(time.time() - t), "s; steps", len(r.history), "last loss", sum(r.history[-100:]) / 100, flush=True)
