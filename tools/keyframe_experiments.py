"""The keyframe model's recipe study: train each variant, measure it, and record the figures that notebook
`10_keyframes` prints (nbs/results/keyframes.json). Each run keeps its EMA weights every 250 steps, so the
pass-rate curve can be measured afterwards.

    python tools/keyframe_experiments.py train NAME                  # train one variant (resumes if interrupted)
    python tools/keyframe_experiments.py measure NAME [--curve [--every 500]]  # 64 held-out captions, 50 steps;
                                                        # or the curve: 32 captions, 25 steps per snapshot
    python tools/keyframe_experiments.py measure-before              # the image LDM frame by frame
    python tools/keyframe_experiments.py measure-demo                # the shipped model on make demo's caption, 32 seeds
    python tools/keyframe_experiments.py measure-old OLD_DIR         # the first recipe's models: a folder holding
        # image_ldm/ and keyframes/ from commit e040df0 (git archive e040df0 data_samples/checkpoints | tar -x ...)

Runs live in build/keyframe_runs/; the figures are merged into nbs/results/keyframes.json.
"""
from __future__ import annotations

import argparse
import json
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
from videoldm_ref.metrics import motion_check
from videoldm_ref.train import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
RUNS, RESULTS = ROOT / "build" / "keyframe_runs", ROOT / "nbs" / "results" / "keyframes.json"
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
}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def record(name: str, **fields) -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault(name, {}).update(fields)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))


def figures(m: dict) -> dict:
    return {k: [round(v[0], 4), round(v[1], 4)] for k, v in m.items() if k != "videos"}


def train(name: str) -> None:
    run = RUNS / slug(name)
    ckpt, snaps = run / "ckpt", run / "snaps"
    snaps.mkdir(parents=True, exist_ok=True)

    def keep_snapshot(step, loss):                                      # the checkpoint of step - 1 is complete
        done = ckpt / f"step-{step - 1:07d}"
        if (step - 1) % 250 == 0 and done.exists():
            shutil.copytree(done, snaps / done.name, dirs_exist_ok=True)

    keywords = dict(VARIANTS[name])
    config = TrainConfig(steps=keywords.pop("steps", 1500), batch_size=keywords.pop("batch_size", 4), lr=5e-4,
                         warmup=keywords.pop("warmup", 100), lr_schedule=keywords.pop("lr_schedule", "cosine"),
                         ema_decay=keywords.pop("ema_decay", 0.995), ckpt_every=250)
    _, result = train_keyframes(run / "model", config=config, ckpt_dir=ckpt, progress=False, on_step=keep_snapshot,
                                **keywords)
    record(name, minutes=round(result.seconds / 60, 1))


def snapshot_model(path: Path, name: str) -> VideoLDM:
    "The EMA weights of a training checkpoint of variant `name`, as a `VideoLDM` on the shipped image LDM."
    ldm = VideoLDM.from_image_ldm(load_image_ldm(), **VARIANTS[name].get("temporal_config", {}))
    weights = load_file(path / "weights.safetensors")
    key = "ema.{}" if "ema.0" in weights else None                      # runs without EMA: the weights themselves
    with torch.no_grad():
        for i, ((k, p)) in enumerate((k, p) for k, p in ldm.named_parameters() if p.requires_grad):
            p.copy_(weights[key.format(i)] if key else weights[f"model.{k}"])
    return ldm.eval()


def measure(name: str, curve: bool, every: int = 250) -> None:
    run, vae = RUNS / slug(name), load_autoencoder()
    if curve:
        points = []
        for snap in sorted((run / "snaps").glob("step-*")):
            if int(snap.name[5:]) % every:
                continue
            m = keyframe_metrics(snapshot_model(snap, name), vae, n=32, num_steps=25)
            points.append([int(snap.name[5:]), *figures(m)["pass"]])
        record(name, curve=points)
    else:
        m = keyframe_metrics(load_keyframes(run / "model"), vae)
        record(name, final=figures(m), angles=motion_angles(m["videos"]))


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
    a = p.parse_args(argv)
    if a.command == "measure-demo":                                     # make demo's caption over 32 seeds
        from videoldm_ref.cli import DEMO_CAPTION
        from videoldm_ref.keyframes import sample_video
        from videoldm_ref.metrics import motion_pass_rate
        ldm, vae = load_keyframes(), load_autoencoder()
        videos = torch.cat([sample_video(ldm, vae, [DEMO_CAPTION], generator=s) for s in range(32)])
        checks = motion_pass_rate(videos, [DEMO_CAPTION] * 32)["checks"]
        return record("make demo's caption, seeds 0 to 31", caption=DEMO_CAPTION,
                      passed=[int(m.passed) for m in checks], direction=[int(m.direction) for m in checks])
    if a.command == "measure-before":
        m = keyframe_metrics(load_keyframes(), load_autoencoder(), image_only=True)
        return record("before: the image LDM frame by frame", final=figures(m))
    if a.command == "measure-old":
        old = Path(a.name)
        m = keyframe_metrics(load_keyframes(old / "keyframes", load_image_ldm(old / "image_ldm")), load_autoencoder())
        return record("eps, scaled_linear (the first recipe)", final=figures(m))
    if a.name not in VARIANTS:
        p.error(f"name: expected one of {list(VARIANTS)}")
    train(a.name) if a.command == "train" else measure(a.name, a.curve, a.every)


if __name__ == "__main__":
    sys.exit(main())
