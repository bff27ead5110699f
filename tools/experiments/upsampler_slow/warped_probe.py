"""An oracle probe for the camera moves: the image upsampler (and the video upsampler at PATH) started from noise
whose shared part is pinned to the photograph rather than to the screen: one noise field over the photograph,
sampled through each frame's true camera window (nearest cell), mixed 80/20 with each frame's own noise. Against the
same mix with the shared part fixed on the screen (`mixed_noise`) and independent noise; the held-out camera moves
of `heldout_highres()`, 16 frames in one call; PSNR and flicker against the truth by motion, written to OUT.

    python tools/experiments/upsampler_slow/warped_probe.py OUT PATH [THREADS]
"""
import json, sys
import numpy as np
import torch
import torch.nn.functional as F
from videoldm_ref.data import _camera_path
from videoldm_ref.upsampler import (downsample, heldout_highres, highres_clips, load_upsampler, mixed_noise,
                                    upsample_clip, upsampler_scores)


def camera_window(ds, i: int) -> torch.Tensor:
    "The `(frames, 2, 3)` camera path of item `i` of the CameraMotion `ds`, drawn as its `__getitem__` draws it."
    rng = np.random.default_rng([ds.seed, i])
    scene, motion = rng.choice(ds.scenes), rng.choice(("pan left", "pan right", "pan up", "pan down", "zoom in",
                                                       "zoom out"))
    return _camera_path(rng, str(motion), ds.frames, ds.size, ds._image(scene).shape[-2:])


def pinned_noise(theta: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    "`(1, 3, T, size, size)`: one noise field over the photograph seen through each frame's window (nearest cell)."
    cells = int(round(size / float(theta[:, 0, 0].min())))         # one cell a pixel where the window is smallest
    field = torch.randn(1, 3, cells, cells, generator=generator)
    grid = F.affine_grid(theta, (theta.shape[0], 3, size, size), align_corners=False)
    frames = F.grid_sample(field.expand(theta.shape[0], -1, -1, -1), grid, mode="nearest", align_corners=False)
    return frames.transpose(0, 1)[None]


if __name__ == "__main__":
    out_path, path = sys.argv[1:3]
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    models = {"image": load_upsampler(video=False), "video": load_upsampler(path)}
    camera = highres_clips("heldout", frames=16).datasets[1]
    items = heldout_highres()["camera moves"]
    rows, rho = {}, 0.8
    with torch.no_grad():
        for i, it in enumerate(items):
            truth = it["video"][None]
            assert torch.equal(truth[0], camera[i]["video"])
            low, g = downsample(truth), torch.Generator().manual_seed(i)
            own = torch.randn(truth.shape, generator=g)
            starts = {"independent": own,
                      "shared on the screen": mixed_noise(truth.shape, rho, torch.Generator().manual_seed(i)),
                      "shared on the photograph": rho**0.5 * pinned_noise(camera_window(camera, i), 256, g)
                      + (1 - rho)**0.5 * own}
            for m_name, m in models.items():
                for s_name, x_T in starts.items():
                    out = upsample_clip(m, low, [it["caption"]], generator=100 + i, x_T=x_T, num_steps=4,
                                        noise_level=20)
                    key = f"{m_name}, {s_name}"
                    rows.setdefault(key, []).append(dict(motion=camera[i]["motion"], **upsampler_scores(out, truth)))
            print(i, camera[i]["motion"], {k: round(v[-1]["flicker"], 4) for k, v in rows.items()}, flush=True)
    for k, v in rows.items():
        print(f"{k:34s} PSNR {np.mean([r['psnr'] for r in v]):6.2f} flicker {np.mean([r['flicker'] for r in v]):.4f}")
    with open(out_path, "w") as f:
        json.dump(rows, f, indent=1)
