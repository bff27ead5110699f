"""The paper's upsampler comparison, measured with the video distances of `05b_video_distance` and with the warping
error along the known camera path (`14_upsampler`): held-out 256x256 clips of 16 frames downsampled 4x and brought
back by bicubic, the image upsampler (frame by frame) and the video upsampler (windows of 8, 2 shared), as
`measure_upsamplers` runs them (4 DDIM steps, noise level 20, seed 0 + clip). Each set is measured against the clips
it restores (paired bootstrap over clips).

    python tools/experiments/video_distance/upsampler_table.py sample    # N=32: 35 min on one thread
    python tools/experiments/video_distance/upsampler_table.py sample 1  # the video upsampler, one noise: 25 min
    python tools/experiments/video_distance/upsampler_table.py measure   # I3D on every set: 13 min

Clips: 32 camera moves and 32 bouncing shapes (other seeds than training), and the real ones: every 16-frame window
of the held-out last 30% of both excerpts starting at an even frame (8 a clip, 16 in all; they overlap, so their
errors are too small). Keeps the outputs in build/video_distance/upsampler_*.safetensors (fp16) and writes
nbs/results/video_distance_upsampler.json.
"""
import json
import os
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from videoldm_ref.data import ClipDataset, VideoList, load_sample_clip
from videoldm_ref.metrics import flicker, psnr
from videoldm_ref.upsampler import (_upsampler_methods, bicubic, downsample, highres_clips, load_upsampler,
                                    upsample_video, warping_error)
from videoldm_ref.video_metrics import compare_distances, i3d_features, video_features

N, FRAMES = int(os.environ.get("N", 32)), 16
METHODS = ("bicubic", "image upsampler", "video, overlap 2")
EXTRA = ["video, shared noise 1"]                          # what `sample 1` writes, where it has
RESULTS = Path("nbs/results/video_distance_upsampler.json")
VIDEOS = Path("build/video_distance")


def _mean_se(x: torch.Tensor) -> list:
    return [x.mean().item(), x.std().item() / len(x) ** 0.5]


def _file(part: str, method: str) -> Path:
    return VIDEOS / f"upsampler_{part}_{method}.safetensors".replace(" ", "_").replace(",", "")


def parts() -> dict:
    "part -> (clips (N, 3, 16, 256, 256), captions, camera paths or None)."
    _, camera, shapes = highres_clips("heldout", frames=FRAMES, n_synthetic=10 * N).datasets
    real = []
    for name in ("bigbuckbunny_256x256", "bikes_256x256"):
        video, fps = load_sample_clip(name)
        real.append(video[:, int(0.7 * video.shape[1]):])
    real = ClipDataset(VideoList(real, fps=fps), FRAMES, step=2)
    out = {}
    for part, ds in (("real", real), ("camera moves", camera), ("bouncing shapes", shapes)):
        items = [ds[i] for i in range(min(N, len(ds)))]
        paths = torch.stack([camera.path(i) for i in range(len(items))]) if part == "camera moves" else None
        out[part] = (torch.stack([it["video"] for it in items]), [it["caption"] for it in items], paths)
    return out


@torch.no_grad()
def sample(shared: float | None = None) -> None:
    """The image and the video upsampler on every part; with `shared`, the video upsampler alone, sampling with that
    fraction of its noise shared by all frames (the model's own: 0.8)."""
    image_ups, video_ups = load_upsampler(video=False).eval(), load_upsampler().eval()
    sampling = dict(num_steps=4, noise_level=20)
    methods = {k: fn for k, (fn, _) in _upsampler_methods(image_ups, video_ups, 8, sampling).items()}
    if shared is not None:
        name = f"video, shared noise {shared:g}"
        methods = {name: lambda low, caps, g: torch.cat(list(upsample_video(
            video_ups, low, caps, window=8, overlap=2, generator=g, shared_noise=shared, **sampling)), 2)}
    VIDEOS.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    for part, (truth, caps, _) in parts().items():
        low = downsample(truth)
        for name in (METHODS[1:] if shared is None else methods):
            fn = methods[name]
            out = torch.cat([fn(low[i:i + 1], caps[i:i + 1], i) for i in range(len(truth))])
            save_file({"videos": out.half().contiguous()}, str(_file(part, name)))
            print(f"{time.time() - t0:5.0f} s {part}, {name}: {len(out)} clips", flush=True)


def measure() -> None:
    out = {"n": {}, "frames": FRAMES, "num_steps": 4, "noise_level": 20}
    for part, (truth, caps, paths) in parts().items():
        low = downsample(truth)
        extra = [m for m in EXTRA if _file(part, m).exists()]
        videos = {name: load_file(str(_file(part, name)))["videos"].float() for name in [*METHODS[1:], *extra]}
        videos["bicubic"] = bicubic(low)                    # last: gaps are to the image upsampler, the first
        entry = out.setdefault(part, {})
        out["n"][part] = len(truth)
        entry["psnr"] = {k: psnr(v, truth).item() for k, v in videos.items()}
        entry["flicker"] = {k: flicker(v, truth).item() for k, v in videos.items()}
        clip_flicker = {k: flicker(v, truth, reduction="none") for k, v in videos.items()}
        entry["flicker gap to bicubic"] = {k: _mean_se(v - clip_flicker["bicubic"]) for k, v in clip_flicker.items()
                                           if k != "bicubic"}
        if paths is not None:
            per_clip = {k: warping_error(v, paths, reduction="none") for k, v in {"truth": truth, **videos}.items()}
            entry["warping error"] = {k: _mean_se(v) for k, v in per_clip.items()}
            entry["warping error gap to the image upsampler"] = {k: _mean_se(v - per_clip["image upsampler"])
                                                                 for k, v in per_clip.items() if k.startswith("video")}
        for net, fn in (("i3d", i3d_features), ("trained", video_features)):
            entry[net] = compare_distances(fn(truth), {k: fn(v) for k, v in videos.items()}, paired=True)
            print(part, net, json.dumps(entry[net]), flush=True)
        print(part, json.dumps({k: v for k, v in entry.items() if k not in ("i3d", "trained")}), flush=True)
        RESULTS.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    if sys.argv[1] == "sample":
        sample(float(sys.argv[2]) if len(sys.argv) > 2 else None)
    else:
        measure()
