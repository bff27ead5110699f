"""The shipped interpolation model fine-tuned further (stage 'motion', 600 steps) with camera moves over photographs
added to its clips: real textures in motion, as many clips as wanted, where the real sample clips are two videos
(issue 41, real video). The moves are 33-frame pans and zooms cut into 9-frame clips at strides 1 and 2.

    python real_camera.py OUT [N_MOVES]   (env THREADS, default 2; about 30 min on 1 core here)"""
import dataclasses
import json
import os
import shutil
import sys

import torch
from torch.utils.data import ConcatDataset

from videoldm_ref.data import CameraMotion, ClipDataset, data_samples_dir
from videoldm_ref.interpolation import MOTION_TRAINING, slow_clips, train_interpolation

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
out, n_moves = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 150
shutil.copytree(data_samples_dir() / "checkpoints" / "interpolation", out, dirs_exist_ok=True)   # what it starts from
moves = CameraMotion(n_moves, frames=33, seed=11)
camera = [ClipDataset(moves, 9, stride=s, step=4) for s in (1, 2)]
clips = ConcatDataset([slow_clips(), *camera])
print("clips:", len(clips), "of them camera moves:", sum(map(len, camera)), flush=True)
ldm, result = train_interpolation(out, stage="motion", clips=clips, config=dataclasses.replace(MOTION_TRAINING, seed=5),
                                  ckpt_dir=out + "_ckpt", progress=False)
json.dump([round(v, 5) for v in result.history], open(os.path.join(out, "history.json"), "w"))
print("done", len(result.history), round(result.seconds), flush=True)
