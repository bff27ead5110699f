# continue the interpolation run at CKPT to STEPS (constant lr: the same run), save the model to OUT
import dataclasses, sys, time, torch
from videoldm_ref.interpolation import train_interpolation, INTERPOLATION_TRAINING
torch.set_num_threads(2)
steps, minutes, out, ckpt = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
cfg = dataclasses.replace(INTERPOLATION_TRAINING, steps=steps)
t = time.time()
ldm, res = train_interpolation(out, config=cfg, ckpt_dir=ckpt, progress=True, time_limit=minutes * 60)
print("done", round(time.time() - t), "steps", len(res.history), "last loss", sum(res.history[-100:]) / 100, flush=True)
