"""Issue 44: the shipped driving models (`17b_driving_models`) measured with `17_driving`'s yardsticks.

    python tools/experiments/driving/models.py PART [PART ...]    PART: first labels futures long fvd

Each part adds its record to nbs/results/driving_models.json (one CPU thread; minutes a part, `long` about ten):
  first    64 held-out layouts (DrivingScenes seed 3, first frames): the cars the detector finds in the drawn frame
           against the boxes asked for, beside the same frames drawn by the data and through the driving autoencoder
  guidance the same 64 layouts drawn at text-and-layout guidance 1, 2, 3, 5 and 7.5 (the default is 2; it was 3)
  labels   16 videos of 16 frames from the labels alone (4 per pair): the labels read back, sky brightness, cars seen
  futures  6 held-out layouts, 3 futures each, 16 frames: how far apart the futures are, frame by frame, and whether
           each keeps flowing and keeps its lanes
  long     one rollout of 3 minutes at 10 fps (1800 frames, 10 DDIM steps a window): per window its time, this
           process's resident memory and the frames' statistics, beside the data's range
  fvd1     the labelled drives of `fvd` again with label guidance 1 (first frame and rollout) instead of the defaults
  fvd      the trained-network video distance (05b) of 32 16-frame drives from labels alone (10 DDIM steps) against 32
           held-out real clips, beside the same model told no labels, and real against real
20 DDIM steps unless said; first frames at `first_frames`' guidance (2), rollouts at text guidance 3."""
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from videoldm_ref.autoencoder import decode_video, encode_video
from videoldm_ref.context import rollout
from videoldm_ref.diffusion import ddim_sample
from videoldm_ref.driving import TIMES, TRAFFIC, DrivingScenes, detect_cars, layout_scores, scene_labels
from videoldm_ref.driving_models import (LATENT, DrivingModels, drive, first_frames, flowing, heldout_layouts,
                                         labels_caption, lane_keeping, load_driving_autoencoder,
                                         load_driving_prediction, load_layout_ldm)
from videoldm_ref.image_ldm import sampling_settings
from videoldm_ref.video_metrics import frechet_video_distance

torch.set_num_threads(1)
OUT = Path("nbs/results/driving_models.json")


class _Shipped:
    "The shipped driving models, each loaded when first asked for (`first` and `guidance` need no prediction model)."

    def __getattr__(self, name):
        if name == "vae":
            self.vae = load_driving_autoencoder()
        elif name == "layout":
            self.layout = load_layout_ldm()
        elif name == "all":
            self.all = DrivingModels(self.vae, self.layout, load_driving_prediction(backbone=self.layout))
        elif name == "prediction":
            self.prediction = self.all.prediction
        else:
            raise AttributeError(name)
        return getattr(self, name)


models = _Shipped()


def rss() -> int:
    return 1024 * int(next(l for l in Path("/proc/self/status").read_text().splitlines()
                           if l.startswith("VmRSS:")).split()[1])


def layout_record(frames, truths):
    s = layout_scores([detect_cars(f) for f in frames], truths)
    return dict(ap50=s["ap"][0.5], ap75=s["ap"][0.75], mean_iou=s["mean_iou"], missing=s["missing"],
                extra=s["extra"], n_true=s["n_true"])


def part_first():
    layouts, truths = heldout_layouts(64)
    real = torch.stack([it["video"][:, 0] for it in (DrivingScenes(64, frames=1, seed=3)[i] for i in range(64))])
    trip = decode_video(models.vae, encode_video(models.vae, real[:, :, None]))[:, :, 0]
    drawn = decode_video(models.vae, first_frames(models.layout, layouts, generator=0)[:, :, None])[:, :, 0]
    out = {name: layout_record(f, truths) for name, f in (("real", real), ("round trip", trip), ("drawn", drawn))}
    out["drawn"]["time_read_back"] = float(np.mean([scene_labels(f[:, None])[0] == l["time"]
                                                    for f, l in zip(drawn, layouts)]))
    out["ratio_ap50"] = out["drawn"]["ap50"] / out["real"]["ap50"]
    out["ratio_ap50_round_trip"] = out["drawn"]["ap50"] / out["round trip"]["ap50"]
    return out


def part_guidance():
    layouts, truths = heldout_layouts(64)
    out = {}
    for scale in (1.0, 2.0, 3.0, 5.0, 7.5):
        drawn = decode_video(models.vae, first_frames(models.layout, layouts, guidance_scale=scale,
                                                      generator=0)[:, :, None])[:, :, 0]
        out[str(scale)] = layout_record(drawn, truths)
    return out


def videos_from_labels(pairs, frames, seed, unlabelled=False, steps=20, scale=3.0, first_scale=None):
    "One video per (time, traffic): a first frame from the labels alone (or nothing), rolled out."
    out = []
    for s in range(0, len(pairs), 16):
        part = pairs[s:s + 16]
        if unlabelled:
            ldm = models.layout
            model_fn = lambda x, t: ldm(x, t, ldm.text_encoder([""] * len(x)))
            z0 = ddim_sample(model_fn, (len(part), 4, *LATENT), ldm.schedule, generator=torch.Generator().manual_seed(seed + s),
                             **sampling_settings(ldm, steps))
            captions = [""] * len(part)
        else:
            z0 = first_frames(models.layout, [dict(time=a, traffic=b) for a, b in part], generator=seed + s,
                              num_steps=steps, **({} if first_scale is None else dict(guidance_scale=first_scale)))
            captions = [labels_caption(a, b) for a, b in part]
        start = z0[:, :, None]
        new = torch.cat(list(rollout(models.prediction, models.vae, captions, frames=frames - 1, start=start,
                                     generator=seed + s, num_steps=steps, text_scale=scale)), 2)
        out.append(torch.cat([decode_video(models.vae, start), new], 2))
    return torch.cat(out)


def part_labels():
    pairs = [(a, b) for a in TIMES for b in TRAFFIC for _ in range(4)]
    videos = videos_from_labels(pairs, 16, seed=100)
    read = [scene_labels(v) for v in videos]
    real = DrivingScenes(64, frames=16, seed=12)
    real = [real[i] for i in range(64)]
    def summary(vids, labels):
        sky = {t: float(np.mean([v[:, :, :22].mean().item() for v, l in zip(vids, labels) if l[0] == t])) for t in TIMES}
        cars = {c: float(np.mean([np.mean([len(detect_cars(f)) for f in v.unbind(1)]) for v, l in zip(vids, labels)
                                  if l[1] == c])) for c in TRAFFIC}
        return dict(sky=sky, cars=cars)
    return dict(n=len(pairs), time_read_back=float(np.mean([r[0] == p[0] for r, p in zip(read, pairs)])),
                traffic_read_back=float(np.mean([r[1] == p[1] for r, p in zip(read, pairs)])),
                drawn=summary(videos, pairs),
                real=summary([it["video"] for it in real], [(it["time"], it["traffic"]) for it in real]),
                real_read_back=float(np.mean([scene_labels(it["video"]) == (it["time"], it["traffic"]) for it in real])))


def part_futures():
    layouts, _ = heldout_layouts(6, seed=4)
    spread, lanes, flows = [], [], []
    for k, layout in enumerate(layouts):
        v = torch.cat(list(drive(models.all, layout, frames=16, rollouts=3, generator=200 + k)), 2)
        pair = [(v[a] - v[b]).abs().mean(dim=(0, 2, 3)) for a in range(3) for b in range(a + 1, 3)]
        spread.append(torch.stack(pair).mean(0))
        lanes += [lane_keeping(f) for f in v]
        flows += [flowing(f) for f in v]
    real = DrivingScenes(32, frames=16, seed=13)
    real = [real[i]["video"] for i in range(32)]
    return dict(spread=torch.stack(spread).mean(0).tolist(), lane_keeping=float(np.nanmean(lanes)),
                flowing=float(np.mean(flows)), real_lane_keeping=float(np.nanmean([lane_keeping(v) for v in real])),
                real_flowing=float(np.mean([flowing(v) for v in real])), n_layouts=len(layouts), rollouts=3)


def part_long(seconds=180, fps=10):
    "The frames are judged 100 at a time and dropped, so that the memory measured is the rollout's, not the record's."
    layout = heldout_layouts(1, seed=5)[0][0]
    stats = dict(frames=seconds * fps, mean=[], std=[], window_seconds=[], rss_mb=[], finite=True, flowing=[],
                 lane_keeping=[])
    tick, held = time.perf_counter(), []
    for chunk in drive(models.all, layout, frames=seconds * fps, generator=7, num_steps=10):
        stats["window_seconds"].append(time.perf_counter() - tick)
        stats["finite"] &= bool(chunk.isfinite().all())
        v = chunk[0].nan_to_num()
        stats["mean"] += v.mean(dim=(0, 2, 3)).tolist()
        stats["std"] += v.transpose(0, 1).flatten(1).std(1).tolist()
        held.append(v)
        while sum(h.shape[1] for h in held) >= 100:
            video = torch.cat(held, 1)
            stats["flowing"].append(flowing(video[:, :100]))
            stats["lane_keeping"].append(lane_keeping(video[:, :100]))
            held = [video[:, 100:]]
        stats["rss_mb"].append(rss() / 2**20)
        tick = time.perf_counter()
    real = DrivingScenes(64, frames=16, seed=14)
    frames = torch.cat([real[i]["video"] for i in range(64)], 1).transpose(0, 1).flatten(1)
    stats["real_mean_range"] = [float(frames.mean(1).min()), float(frames.mean(1).max())]
    stats["real_std_range"] = [float(frames.std(1).min()), float(frames.std(1).max())]
    stats["layout"] = layout
    return stats


def part_fvd(n=32):
    rng = np.random.default_rng(0)
    pairs = [(TIMES[rng.integers(2)], TRAFFIC[rng.integers(2)]) for _ in range(n)]
    labelled = videos_from_labels(pairs, 16, seed=300, steps=10)
    unlabelled = videos_from_labels(pairs, 16, seed=300, unlabelled=True, steps=10)
    real_a = torch.stack([DrivingScenes(n, frames=16, seed=15)[i]["video"] for i in range(n)])
    real_b = torch.stack([DrivingScenes(n, frames=16, seed=16)[i]["video"] for i in range(n)])
    fvd = lambda a, b: frechet_video_distance(a, b, network="trained")
    return dict(n=n, labelled=fvd(labelled, real_a), unlabelled=fvd(unlabelled, real_a), real=fvd(real_b, real_a),
                unlabelled_time_read_back=float(np.mean([scene_labels(v)[0] == p[0] for v, p in zip(unlabelled, pairs)])))


def part_fvd1(n=32):
    rng = np.random.default_rng(0)
    pairs = [(TIMES[rng.integers(2)], TRAFFIC[rng.integers(2)]) for _ in range(n)]
    labelled = videos_from_labels(pairs, 16, seed=300, steps=10, scale=1.0, first_scale=1.0)
    real_a = torch.stack([DrivingScenes(n, frames=16, seed=15)[i]["video"] for i in range(n)])
    read = [scene_labels(v) for v in labelled]
    return dict(n=n, labelled=frechet_video_distance(labelled, real_a, network="trained"),
                time_read_back=float(np.mean([r[0] == p[0] for r, p in zip(read, pairs)])),
                traffic_read_back=float(np.mean([r[1] == p[1] for r, p in zip(read, pairs)])))


for part in sys.argv[1:]:
    tick = time.time()
    result = globals()[f"part_{part}"]()
    result["seconds"] = round(time.time() - tick)
    record = json.loads(OUT.read_text()) if OUT.exists() else {}      # read again: two parts may run side by side
    record[part] = result
    OUT.with_suffix(".tmp").write_text(json.dumps(record, indent=1))
    OUT.with_suffix(".tmp").replace(OUT)
    print(part, json.dumps({k: v for k, v in result.items() if not isinstance(v, list)}), flush=True)
