"""The shipped interpolation model fine-tuned further (stage 'motion', 600 steps) on a mix with half real clips: its
default clips with the real ones repeated 24 times instead of 6 (issue 41, real video).

    python real_mix.py OUT [CKPT]   (env THREADS, default 2; 28 min on 1 core here)"""
import dataclasses
import json
import os
import shutil
import sys

import torch
from torch.utils.data import ConcatDataset

from videoldm_ref.context import BouncingShapes
from videoldm_ref.data import data_samples_dir
from videoldm_ref.interpolation import MOTION_TRAINING, SLOW_SPEED, interpolation_clips, train_interpolation

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
out = sys.argv[1]
ckpt = sys.argv[2] if len(sys.argv) > 2 else out + "_ckpt"
shutil.copytree(data_samples_dir() / "checkpoints" / "interpolation", out, dirs_exist_ok=True)   # what it starts from
clips = ConcatDataset([interpolation_clips(real_repeats=24), BouncingShapes(2000, frames=9, seed=7, speed=SLOW_SPEED)])
ldm, result = train_interpolation(out, stage="motion", clips=clips, config=dataclasses.replace(MOTION_TRAINING, seed=4),
                                  ckpt_dir=ckpt, progress=False)
json.dump([round(v, 5) for v in result.history], open(os.path.join(out, "history.json"), "w"))
print("done", len(result.history), round(result.seconds), flush=True)
