"""Issue 43, convolutional in time: the shipped keyframe model's temporal layers, continued for `--steps` steps (the
benchmark: 200 for each) with each way of placing frames (`frame_position`: absolute, relative, rotary, none). Only the position layers
change: the absolute sinusoid's MLP is dropped, a relative bias starts at zero, rotary has no weights.

    python tools/experiments/conv_in_time/finetune.py POSITION [--steps 400]

Writes build/conv_in_time/POSITION (temporal layers, fp16) and resumes from build/conv_in_time/ckpt_POSITION."""
import argparse
import json
import time
from pathlib import Path

import torch

from videoldm_ref.data import data_samples_dir
from videoldm_ref.keyframes import KEYFRAME_TEMPORAL, train_keyframes
from videoldm_ref.temporal import POSITIONS
from videoldm_ref.train import TrainConfig

FINETUNE = dict(batch_size=32, lr=2e-4, warmup=50, lr_schedule="constant", ema_decay=0.995, ckpt_every=50)

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("position", choices=POSITIONS)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--n-clips", type=int, default=4000)
    a = p.parse_args()
    torch.set_num_threads(1)
    root = Path("build/conv_in_time")
    t0, losses = time.time(), []
    _, result = train_keyframes(root / a.position, config=TrainConfig(steps=a.steps, **FINETUNE),
                                temporal_config=dict(KEYFRAME_TEMPORAL, frame_position=a.position),
                                init=data_samples_dir() / "checkpoints" / "keyframes", n_clips=a.n_clips,
                                ckpt_dir=root / f"ckpt_{a.position}", progress=False,
                                on_step=lambda s, l: print(f"step {s} loss {l:.4f} {time.time() - t0:.0f}s", flush=True)
                                if s % 10 == 0 else None)
    log = root / "training.json"
    runs = json.loads(log.read_text()) if log.exists() else {}
    runs[a.position] = dict(steps=a.steps, seconds=round(time.time() - t0), recipe=FINETUNE, n_clips=a.n_clips,
                            seed=0, init="data_samples/checkpoints/keyframes",
                            loss_last_50=float(sum(result.history[-50:]) / len(result.history[-50:])))
    log.write_text(json.dumps(runs, indent=1))
