"""The shipped interpolation model fine-tuned further (stage 'motion', 600 steps) with sprites over photographs added
to its clips: patches cut from scikit-image's photographs, with soft elliptical edges, gliding in straight lines over
another photograph whose window may pan slowly. Real textures, things moving across a background and passing in
front of each other, as the held-out real clips have them, where the camera moves (real_camera.py) move every pixel
the same way (issue 41, real video). The videos are 33 frames, cut into 9-frame clips at strides 1 and 2, as there.

    python real_sprites.py OUT [N_VIDEOS]   (env THREADS, default 2; about 30 min on 1 core here)"""
import dataclasses
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import ConcatDataset, Dataset

from videoldm_ref.data import SCENES, ClipDataset, _scene_image, data_samples_dir
from videoldm_ref.interpolation import MOTION_TRAINING, slow_clips, train_interpolation


def _place(patch: torch.Tensor, ys: np.ndarray, xs: np.ndarray, size: int) -> torch.Tensor:
    """`patch (C, h, w)` drawn on a `size x size` canvas of zeros with its top-left corner at `(ys[t], xs[t])`
    (sub-pixel, bilinear) for each frame `t`: `(T, C, size, size)`."""
    c, h, w = patch.shape
    grid = torch.arange(size, dtype=torch.float32)
    gy = (2 * (grid[None, :] - torch.as_tensor(ys, dtype=torch.float32)[:, None]) + 1) / h - 1   # (T, size)
    gx = (2 * (grid[None, :] - torch.as_tensor(xs, dtype=torch.float32)[:, None]) + 1) / w - 1
    g = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), -1)               # (T, size, size, 2)
    return F.grid_sample(patch.expand(len(ys), -1, -1, -1), g, mode="bilinear", padding_mode="zeros",
                         align_corners=False)


class SpriteMotion(Dataset):
    """`n` videos of `frames` frames at `size x size`: one to three photograph patches moving over a photograph.
    Item `i` depends only on `(seed, i)`; items are dicts with `video (3, frames, size, size)` in [-1, 1], `caption`,
    `fps`."""

    def __init__(self, n: int, *, frames: int = 33, size: int = 64, seed: int = 0, fps: float = 25.0):
        self.n, self.frames, self.size, self.seed, self.fps = n, frames, size, seed, fps
        self.names = list(SCENES)
        self.images = {k: _scene_image(k, 3 * size) for k in self.names}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        rng, s, t = np.random.default_rng([self.seed, i]), self.size, np.arange(self.frames)
        back = self.names[rng.integers(len(self.names))]
        img = self.images[back]
        H, W = img.shape[-2:]
        v = rng.uniform(-0.4, 0.4, 2) * (rng.random() < 0.5)              # half of them pan slowly
        y0, x0 = rng.uniform(0.4 * s, H - 1.4 * s), rng.uniform(0.4 * s, W - 1.4 * s)
        video = _place(img, -(y0 + v[0] * t), -(x0 + v[1] * t), s)        # the background window
        for _ in range(rng.integers(1, 4)):
            src = self.images[self.names[rng.integers(len(self.names))]]
            h, w = (int(rng.uniform(0.15, 0.45) * s) for _ in range(2))
            py, px = rng.integers(0, src.shape[-2] - h), rng.integers(0, src.shape[-1] - w)
            yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
            alpha = (4 * (1 - (yy ** 2 + xx ** 2))).clamp(0, 1)[None]     # an ellipse, its edge soft
            speed, angle = rng.uniform(0.2, 1.5), rng.uniform(0, 2 * np.pi)
            cy, cx = rng.uniform(0, s - h), rng.uniform(0, s - w)
            ys, xs = cy + speed * np.sin(angle) * (t - t.mean()), cx + speed * np.cos(angle) * (t - t.mean())
            layer = _place(torch.cat([src[:, py:py + h, px:px + w] * alpha, alpha]), ys, xs, s)
            video = video * (1 - layer[:, 3:]) + layer[:, :3]
        return dict(video=video.transpose(0, 1).clamp(-1, 1), caption=f"things moving over {SCENES[back]}",
                    fps=self.fps)


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("THREADS", 2)))
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 150
    shutil.copytree(data_samples_dir() / "checkpoints" / "interpolation", out, dirs_exist_ok=True)
    sprites = SpriteMotion(n, seed=13)
    parts = [ClipDataset(sprites, 9, stride=s, step=4) for s in (1, 2)]
    clips = ConcatDataset([slow_clips(), *parts])
    print("clips:", len(clips), "of them sprites:", sum(map(len, parts)), flush=True)
    ldm, result = train_interpolation(out, stage="motion", clips=clips,
                                      config=dataclasses.replace(MOTION_TRAINING, seed=5),
                                      ckpt_dir=out + "_ckpt", progress=False)
    json.dump([round(v, 5) for v in result.history], open(os.path.join(out, "history.json"), "w"))
    print("done", len(result.history), round(result.seconds), flush=True)
