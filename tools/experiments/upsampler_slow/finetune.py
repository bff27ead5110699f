"""Fine-tune the temporal layers of the video upsampler at SRC for STEPS steps: `train_upsampler(stage="slow")` on a
copy of SRC at OUT (fresh optimiser, seed 1, EMA 0.995), with slow and still clips added (`slow`) or on the video
stage's clips alone (`control`), resumable from CKPT.

    python tools/experiments/upsampler_slow/finetune.py slow|control SRC OUT CKPT STEPS MINUTES [THREADS]
"""
import dataclasses, shutil, sys, time
from pathlib import Path
import torch
from videoldm_ref.upsampler import UPSAMPLER_SLOW_TRAINING, highres_clips, train_upsampler

if __name__ == "__main__":
    mode, src, out, ckpt = sys.argv[1:5]
    steps, minutes = int(sys.argv[5]), float(sys.argv[6])
    assert mode in ("slow", "control"), mode
    torch.set_num_threads(int(sys.argv[7]) if len(sys.argv) > 7 else 2)
    if not Path(out).exists():
        shutil.copytree(src, out)
    config = dataclasses.replace(UPSAMPLER_SLOW_TRAINING, steps=steps)
    clips = highres_clips(frames=8, seed=config.seed) if mode == "control" else None
    t = time.time()
    _, r = train_upsampler(out, stage="slow", config=config, clips=clips, ckpt_dir=ckpt, progress=False,
                           time_limit=minutes * 60)
    print("done", round(time.time() - t), "s; steps", len(r.history), "last loss", sum(r.history[-100:]) / 100, flush=True)
