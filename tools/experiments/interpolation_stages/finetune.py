# fine-tune the interpolation model at SRC for STEPS steps on its clips plus slow bouncing shapes (the second pass's regime)
import dataclasses, sys, time, torch
from torch.utils.data import ConcatDataset
from videoldm_ref.interpolation import train_interpolation, INTERPOLATION_TRAINING, interpolation_clips, load_interpolation
from videoldm_ref.context import BouncingShapes
torch.set_num_threads(2)
src, out, ckpt, steps, minutes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
base = interpolation_clips()
slow = BouncingShapes(2000, frames=9, seed=7, speed=(0.002, 0.01))
print("clips", len(base), "+ slow", len(slow), flush=True)
cfg = dataclasses.replace(INTERPOLATION_TRAINING, steps=steps, seed=1, ema_decay=0.995)
t = time.time()
ldm, res = train_interpolation(out, base=load_interpolation(src), config=cfg, clips=base if "control" in out else ConcatDataset([base, slow]),
                               ckpt_dir=ckpt, progress=True, time_limit=minutes * 60)
print("done", round(time.time() - t), "steps", len(res.history), "last loss", sum(res.history[-100:]) / 100, flush=True)
