# Does training the low noise steps more hold the in-between frames together? The shipped interpolation model
# fine-tuned as its slow stage was (INTERPOLATION_SLOW_TRAINING: 600 steps, a fresh optimiser, seed 1, EMA 0.995, on
# slow_clips()), with noise steps drawn uniformly (high_noise=0: twice the share of steps below 300) or, the control,
# as in training so far (high_noise=0.5: half the clips at t >= 700).
# usage: finetune_low.py OUT CKPT HIGH_NOISE [MINUTES]   (env THREADS, default 1)
import os, sys, time, torch
from videoldm_ref.interpolation import INTERPOLATION_SLOW_TRAINING, load_interpolation, slow_clips, train_interpolation

torch.set_num_threads(int(os.environ.get("THREADS", 1)))
out, ckpt, high_noise = sys.argv[1], sys.argv[2], float(sys.argv[3])
minutes = float(sys.argv[4]) if len(sys.argv) > 4 else None
t = time.time()
ldm, res = train_interpolation(out, base=load_interpolation(recipe="paper"), config=INTERPOLATION_SLOW_TRAINING, clips=slow_clips(),
                               high_noise=high_noise, ckpt_dir=ckpt, progress=False,
                               time_limit=minutes * 60 if minutes else None)
print("done", round(time.time() - t), "s, steps", len(res.history), "last loss", sum(res.history[-100:]) / 100, flush=True)
