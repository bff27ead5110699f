"""Issue 43, convolutional in time: the shipped keyframe model's temporal layers, continued for `--steps` steps (the
benchmark: 200 for each) with each way of placing frames (`frame_position`: absolute, relative, rotary, none). Only the position layers
change: the absolute sinusoid's MLP is dropped, a relative bias starts at zero, rotary has no weights.

    python tools/experiments/conv_in_time/finetune.py POSITION [--steps 400] [--paces 8,16,24,40 [--strided] --init DIR
        --name NAME]

`--paces`: the shapes clips become 8-frame windows (at a place drawn per clip) of clips of these lengths, an equal
share each; a MovingShapes clip crosses the same share of the frame whatever its length, so windows of longer clips
move more slowly, and the pace no longer follows from the clip's length. `--strided`: each window is told its pace,
as the time between its frames (`frame_stride` = 8 / the clip's length: a window of a 40-frame clip has frames 0.2
apart). `--init`: start from these temporal layers
(default: the shipped keyframe model's).

Writes build/conv_in_time/NAME (default POSITION; temporal layers, fp16) and resumes from build/conv_in_time/ckpt_NAME."""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import ConcatDataset, Dataset

import videoldm_ref.keyframes as keyframes
from videoldm_ref.data import MovingShapes, data_samples_dir
from videoldm_ref.keyframes import KEYFRAME_TEMPORAL, train_keyframes
from videoldm_ref.temporal import POSITIONS
from videoldm_ref.train import TrainConfig

FINETUNE = dict(batch_size=32, lr=2e-4, warmup=50, lr_schedule="constant", ema_decay=0.995, ckpt_every=50)


class Windows(Dataset):
    "An 8-frame window of each clip of `source`, at a place drawn from (seed, i)."

    def __init__(self, source, frames: int = 8, seed: int = 0, stride: float | None = None):
        self.source, self.frames, self.seed, self.stride = source, frames, seed, stride

    def __len__(self):
        return len(self.source)

    def __getitem__(self, i):
        item = dict(self.source[i])
        s = int(np.random.default_rng([self.seed, 7, i]).integers(0, item["video"].shape[1] - self.frames + 1))
        item |= {"video": item["video"][:, s:s + self.frames]}
        return item if self.stride is None else item | {"frame_stride": self.stride}


def paced_clips(paces, strided: bool = False):
    """keyframe_clips with its shapes replaced by 8-frame windows of clips of each length in `paces` (`strided`: each
    told its stride, 8 / the length)."""
    plain = keyframes.keyframe_clips

    def clips(split="train", *, n_synthetic=1000, frames=8, seed=0):
        real = plain(split, n_synthetic=1, frames=frames, seed=seed).datasets[1]
        n = n_synthetic // len(paces)
        shapes = [Windows(MovingShapes(n, frames=p, seed=seed + 17 * k), frames, seed, frames / p if strided else None)
                  for k, p in enumerate(paces)]
        return ConcatDataset([ConcatDataset(shapes), real])
    return clips


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("position", choices=POSITIONS)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--n-clips", type=int, default=4000)
    p.add_argument("--paces", help="comma-separated clip lengths, e.g. 8,16,24,40")
    p.add_argument("--strided", action="store_true", help="tell each window its pace (frame_stride = 8 / length)")
    p.add_argument("--init", help="temporal layers to start from (default: the shipped keyframe model)")
    p.add_argument("--name", help="output name under build/conv_in_time (default: POSITION)")
    a = p.parse_args()
    torch.set_num_threads(1)
    root, name = Path("build/conv_in_time"), a.name or a.position
    paces = [int(v) for v in a.paces.split(",")] if a.paces else None
    if paces:
        keyframes.keyframe_clips = paced_clips(paces, a.strided)
    init = Path(a.init) if a.init else data_samples_dir() / "checkpoints" / "keyframes"
    t0 = time.time()
    _, result = train_keyframes(root / name, config=TrainConfig(steps=a.steps, **FINETUNE),
                                temporal_config=dict(KEYFRAME_TEMPORAL, frame_position=a.position),
                                init=init, n_clips=a.n_clips, ckpt_dir=root / f"ckpt_{name}", progress=False,
                                on_step=lambda s, l: print(f"step {s} loss {l:.4f} {time.time() - t0:.0f}s", flush=True)
                                if s % 10 == 0 else None)
    log = root / "training.json"
    runs = json.loads(log.read_text()) if log.exists() else {}
    runs[name] = dict(steps=a.steps, seconds=round(time.time() - t0), recipe=FINETUNE, n_clips=a.n_clips,
                      seed=0, init=str(init), paces=paces, strided=a.strided, position=a.position,
                      loss_last_50=float(sum(result.history[-50:]) / len(result.history[-50:])))
    log.write_text(json.dumps(runs, indent=1))
