"""The keyframe model's recipe study: train each variant, measure it, and record the figures that notebook
`experiments/keyframes_study` prints (nbs/results/keyframes.json). Each run keeps its EMA weights every 250 steps, so the
pass-rate curve can be measured afterwards.

    python tools/keyframe_experiments.py train NAME                  # train one variant (resumes if interrupted)
    python tools/keyframe_experiments.py train NAME --device cuda --minutes 5   # on a GPU, for 5 minutes at most
    python tools/keyframe_experiments.py measure NAME [--no-demo] [--curve [--every 500]]  # 64 held-out captions;
                                                        # or the curve: 32 captions, 25 steps per snapshot
    python tools/keyframe_experiments.py measure-before              # the image LDM frame by frame
    python tools/keyframe_experiments.py measure-demo                # the shipped model on make demo's caption, 32 seeds
    python tools/keyframe_experiments.py measure-old OLD_DIR         # the first recipe's models: a folder holding
        # image_ldm/ and keyframes/ from commit e040df0 (git archive e040df0 data_samples/checkpoints | tar -x ...)

Runs live in build/keyframe_runs/; the figures are merged into nbs/results/keyframes.json (or the file that the
environment variable KEYFRAME_RESULTS names). The "GPU scale" variants train with a constant learning rate, so
`--steps K` reproduces the snapshot at step K of a longer run; on 2 CPU cores a step of batch 32 takes about 5 s.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from videoldm_ref.autoencoder import load_autoencoder
from videoldm_ref.data import DIRECTIONS, MovingShapes
from videoldm_ref.image_ldm import load_image_ldm
from videoldm_ref.keyframes import VideoLDM, keyframe_metrics, load_keyframes, train_keyframes
from videoldm_ref.metrics import MOTION_CHECKS, motion_check
from videoldm_ref.train import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "build" / "keyframe_runs"
RESULTS = Path(os.environ.get("KEYFRAME_RESULTS", ROOT / "nbs" / "results" / "keyframes.json"))
GPU_SCALE = dict(batch_size=32, lr=5e-4, lr_schedule="constant", warmup=200, ema_decay=0.999, steps=100_000,
                 n_clips=4000, snap_every=1000, ckpt_every=100)
VARIANTS = {                                          # name -> train_keyframes keywords (and `steps`, default 1500)
    "v, zero terminal SNR, t uniform": dict(high_noise=0.0),
    "v, zero terminal SNR, half the clips at t >= 700": dict(high_noise=0.5),
    "the same, 3,000 steps": dict(high_noise=0.5, steps=3000),
    "the same, 3x3 spatial extent in the temporal convs, 2,500 steps": dict(
        high_noise=0.5, steps=2500, temporal_config=dict(conv_spatial_kernel=3)),
    "3x3 temporal convs that also see the caption": dict(
        high_noise=0.5, temporal_config=dict(conv_spatial_kernel=3, conv_context=True)),
    "ablation: temporal attention only": dict(high_noise=0.5, temporal_config=dict(temporal_conv=False)),
    "temporal attention that knows where each pixel is": dict(high_noise=0.5,
                                                             temporal_config=dict(attention_position=True)),
    "pixel coordinates, batch 8, half the clips at t >= 900": dict(
        high_noise=0.5, high_t=900, batch_size=8, temporal_config=dict(attention_position=True)),
    "pixel coordinates, batch 8, 80% of the clips at t >= 900": dict(
        high_noise=0.8, high_t=900, batch_size=8, temporal_config=dict(attention_position=True)),
    # the probe's recipe (tools/direction_gap.py: the noisiest steps alone), meant as the first of two stages
    "stage 1: pixel coordinates, only t >= 900, 500 steps": dict(
        high_noise=1.0, high_t=900, batch_size=8, steps=500, lr_schedule="constant", warmup=0, ema_decay=None,
        temporal_config=dict(attention_position=True)),
    # GPU scale (batch 32, 4,000 clips, constant lr, EMA 0.999): the direction signal is weak (about 2% of the loss
    # at t = 990), so these test whether many more clips seen make it learnable, and which layers can use it
    "GPU scale: time-only temporal layers": dict(GPU_SCALE),
    "GPU scale: pixel coordinates": dict(GPU_SCALE, temporal_config=dict(attention_position=True)),
    "GPU scale: 3x3 temporal convs that see the caption": dict(
        GPU_SCALE, temporal_config=dict(conv_spatial_kernel=3, conv_context=True)),
    "GPU scale: pixel coordinates and 3x3 convs that see the caption": dict(
        GPU_SCALE, temporal_config=dict(attention_position=True, conv_spatial_kernel=3, conv_context=True)),
    "GPU scale: ablation: temporal attention only": dict(GPU_SCALE, temporal_config=dict(temporal_conv=False)),
}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def record(name: str, **fields) -> None:
    "Merge `fields` into the entry `name` of the results file (locked: runs in parallel may record at once)."
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results.setdefault(name, {}).update(fields)
        tmp = RESULTS.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps(results, indent=1))
        os.replace(tmp, RESULTS)


def figures(m: dict) -> dict:
    return {k: [round(v[0], 4), round(v[1], 4)] for k, v in m.items() if k != "videos"}


def train(name: str, device: str = "cpu", minutes: float | None = None, steps: int | None = None) -> None:
    run = RUNS / slug(name)
    ckpt, snaps = run / "ckpt", run / "snaps"
    snaps.mkdir(parents=True, exist_ok=True)
    keywords = dict(VARIANTS[name])
    snap_every = keywords.pop("snap_every", 250)

    def keep_snapshot(step, loss):                                      # the checkpoint of step - 1 is complete
        done = ckpt / f"step-{step - 1:07d}"
        if (step - 1) % snap_every == 0 and done.exists():
            shutil.copytree(done, snaps / done.name, dirs_exist_ok=True)
            print(f"{name}: step {step - 1}, loss {loss:.4f}", flush=True)

    default_steps = keywords.pop("steps", 1500)
    config = TrainConfig(steps=steps or default_steps, batch_size=keywords.pop("batch_size", 4),
                         lr=keywords.pop("lr", 5e-4), warmup=keywords.pop("warmup", 100),
                         lr_schedule=keywords.pop("lr_schedule", "cosine"), ema_decay=keywords.pop("ema_decay", 0.995),
                         ckpt_every=keywords.pop("ckpt_every", 250))
    keywords.setdefault("temporal_config", {})          # the study's variants: time-only layers and 1,000 clips
    keywords.setdefault("n_clips", 1000)                # unless they say otherwise (not train_keyframes' defaults)
    _, result = train_keyframes(run / "model", config=config, ckpt_dir=ckpt, progress=False, on_step=keep_snapshot,
                                device=device, time_limit=None if minutes is None else 60 * minutes, **keywords)
    where = torch.cuda.get_device_name() if torch.device(device).type == "cuda" else "CPU"
    record(name, minutes=round(result.seconds / 60, 1), device=where, steps_done=len(result.history),
           clips_seen=len(result.history) * config.batch_size,
           loss_last_500=round(sum(result.history[-500:]) / len(result.history[-500:]), 4))


def snapshot_model(path: Path, name: str) -> VideoLDM:
    "The EMA weights of a training checkpoint of variant `name`, as a `VideoLDM` on the shipped image LDM."
    ldm = VideoLDM.from_image_ldm(load_image_ldm(), **VARIANTS[name].get("temporal_config", {}))
    weights = load_file(path / "weights.safetensors")
    key = "ema.{}" if "ema.0" in weights else None                      # runs without EMA: the weights themselves
    with torch.no_grad():
        for i, ((k, p)) in enumerate((k, p) for k, p in ldm.named_parameters() if p.requires_grad):
            p.copy_(weights[key.format(i)] if key else weights[f"model.{k}"])
    return ldm.eval()


def measure(name: str, curve: bool, every: int = 250, device: str = "cpu", demo: bool = True) -> None:
    run, vae = RUNS / slug(name), load_autoencoder().to(device)
    if curve:
        points, checks = [], []
        for snap in sorted((run / "snaps").glob("step-*")):
            if int(snap.name[5:]) % every:
                continue
            m = keyframe_metrics(snapshot_model(snap, name).to(device), vae, n=32, num_steps=25)
            points.append([int(snap.name[5:]), *figures(m)["pass"]])
            checks.append([int(snap.name[5:]), {k: v[0] for k, v in figures(m).items() if k in MOTION_CHECKS}])
            record(name, curve=points, curve_checks=checks)
    else:
        ldm = load_keyframes(run / "model").to(device)
        m = keyframe_metrics(ldm, vae)
        extra = {"demo": demo_rate(ldm, vae)} if demo else {}
        record(name, final=figures(m), angles=motion_angles(m["videos"]), **extra)
        save_failures(m["videos"], RESULTS.parent / f"failures_{slug(name)}.safetensors")


def save_failures(videos: torch.Tensor, path: Path, seed: int = 1000, most: int = 8) -> None:
    """The videos of `keyframe_metrics` (captions of `MovingShapes(seed=seed)`) that fail the motion yardstick, as
    uint8 with their captions and indices, for the notebook to show; nothing when more than `most` fail."""
    from safetensors.torch import save_file
    from videoldm_ref.media import to_uint8
    data = MovingShapes(len(videos), frames=videos.shape[2], seed=seed)
    failed = [i for i in range(len(videos)) if not motion_check(videos[i], data[i]["caption"]).passed]
    if failed and len(failed) <= most:
        save_file({f"video_{i}": torch.from_numpy(to_uint8(videos[i])) for i in failed}, str(path),
                  metadata={f"caption_{i}": data[i]["caption"] for i in failed})


def demo_rate(ldm: VideoLDM, vae, seeds: int = 32) -> dict:
    "make demo's caption over `seeds` seeds: which pass the yardstick, and which move the caption's way."
    from videoldm_ref.cli import DEMO_CAPTION
    from videoldm_ref.keyframes import sample_video
    from videoldm_ref.metrics import motion_pass_rate
    videos = torch.cat([sample_video(ldm, vae, [DEMO_CAPTION], generator=s) for s in range(seeds)]).cpu()
    checks = motion_pass_rate(videos, [DEMO_CAPTION] * seeds)["checks"]
    return dict(caption=DEMO_CAPTION, passed=[int(m.passed) for m in checks],
                direction=[int(m.direction) for m in checks])


def motion_angles(videos, seed: int = 1000) -> list:
    """For each video of `keyframe_metrics` (captions of `MovingShapes(seed=seed)`), the angle in degrees between the
    object's net displacement (first to last frame where there is exactly one object) and the caption's direction;
    None where the object cannot be followed."""
    data, out = MovingShapes(len(videos), frames=videos.shape[2], seed=seed), []
    for i, video in enumerate(videos):
        item = data[i]
        c = motion_check(video, item["caption"]).centroids
        c = c[~np.isnan(c).any(1)]
        if len(c) < 2 or np.abs(c[-1] - c[0]).max() < 1e-3:
            out.append(None)
            continue
        (dy, dx), (wy, wx) = c[-1] - c[0], DIRECTIONS[item["direction"]]
        out.append(round(float(np.degrees(np.arctan2(wy * dx - wx * dy, wy * dy + wx * dx))), 1))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=("train", "measure", "measure-before", "measure-old", "measure-demo"))
    p.add_argument("name", nargs="?")
    p.add_argument("--curve", action="store_true")
    p.add_argument("--every", type=int, default=250, help="with --curve: measure the snapshots every N steps")
    p.add_argument("--device", default="cpu", help="train or measure on this device (cuda: bf16 autocast)")
    p.add_argument("--minutes", type=float, help="train: stop after this many minutes (at a checkpoint)")
    p.add_argument("--steps", type=int, help="train: this many steps instead of the variant's own")
    p.add_argument("--no-demo", action="store_true", help="measure: skip make demo's caption over 32 seeds")
    a = p.parse_args(argv)
    if a.command == "measure-demo":                                     # make demo's caption over 32 seeds
        return record("make demo's caption, seeds 0 to 31", **demo_rate(load_keyframes(), load_autoencoder()))
    if a.command == "measure-before":
        m = keyframe_metrics(load_keyframes().to(a.device), load_autoencoder().to(a.device), image_only=True)
        return record("before: the image LDM frame by frame", final=figures(m))
    if a.command == "measure-old":
        old = Path(a.name)
        m = keyframe_metrics(load_keyframes(old / "keyframes", load_image_ldm(old / "image_ldm")), load_autoencoder())
        return record("eps, scaled_linear (the first recipe)", final=figures(m))
    if a.name not in VARIANTS:
        p.error(f"name: expected one of {list(VARIANTS)}")
    if a.command == "train":
        return train(a.name, a.device, a.minutes, a.steps)
    measure(a.name, a.curve, a.every, a.device, demo=not a.no_demo)


if __name__ == "__main__":
    sys.exit(main())
