"""The shipped interpolation model's trained layers fine-tuned (stage 'motion', 300 steps, its default clips) on top of
the backbone that real_backbone.py wrote, so that they work with its spatial layers (issue 41, real video).

    python real_backbone_motion.py BACKBONE OUT [CKPT]   (env THREADS, default 2; 17 min on 1 core here)"""
import dataclasses
import json
import os
import shutil
import sys

import torch

from videoldm_ref.context import load_prediction
from videoldm_ref.data import data_samples_dir
from videoldm_ref.image_ldm import load_image_ldm
from videoldm_ref.interpolation import MOTION_TRAINING, train_interpolation

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
backbone, out = sys.argv[1], sys.argv[2]
ckpt = sys.argv[3] if len(sys.argv) > 3 else out + "_ckpt"
shutil.copytree(data_samples_dir() / "checkpoints" / "interpolation", out, dirs_exist_ok=True)   # what it starts from
config = dataclasses.replace(MOTION_TRAINING, steps=300, seed=4, ckpt_every=50)
ldm, result = train_interpolation(out, stage="motion", base=load_prediction(image_ldm=load_image_ldm(backbone)),
                                  config=config, ckpt_dir=ckpt, progress=False)
json.dump([round(v, 5) for v in result.history], open(os.path.join(out, "history.json"), "w"))
print("done", len(result.history), round(result.seconds), flush=True)
