"""Gather build/conv_in_time/measure_*.json (measure.py), the training log (finetune.py) and the stride probes
(probe_stride.py, with the largest relative bias of each relative model over 8 frames, and how much a stride of
0.25 moves it) into nbs/results/conv_in_time.json, and frames 0, 6, ..., 36 of the first 40-frame video of
each variant into nbs/results/conv_in_time_frames.safetensors (uint8, (3, 7, 64, 64) each).

    python tools/experiments/conv_in_time/collect.py"""
import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from videoldm_ref.keyframes import load_keyframes
from videoldm_ref.temporal import TemporalAttentionBlock

ORDER = ("absolute", "absolute-w7", "relative", "relative-w7", "rotary", "rotary-w7", "none", "none-w7",
         "relative-more", "relative-more-w7", "relative-paces", "relative-paces-w7", "relative-strided",
         "relative-strided-w7", "absolute-strided", "absolute-strided-trained", "absolute-strided-trained-w7",
         "absolute-strided-half", "rollout")

if __name__ == "__main__":
    root, results = Path("build/conv_in_time"), Path("nbs/results")
    runs = {json.loads(p.read_text())["variant"]: json.loads(p.read_text()) for p in root.glob("measure_*.json")}
    variants = [v for v in ORDER if v in runs]
    training = json.loads((root / "training.json").read_text()) if (root / "training.json").exists() else {}
    for r in runs.values():                                           # tracks only at the longest length
        longest = max(r["lengths"], key=int)
        for f, s in r["lengths"].items():
            if f != longest:
                s.pop("tracks")
    probes = {json.loads(p.read_text())["model"]: json.loads(p.read_text()) for p in sorted(root.glob("probe_*.json"))}
    for name, probe in probes.items():                                # how large the relative models' bias is
        if name.startswith("relative") and (root / name).is_dir():
            blocks = [m for m in load_keyframes(root / name).modules() if isinstance(m, TemporalAttentionBlock)]
            with torch.no_grad():
                probe["max_bias"] = max(b.rel_bias(8).float().abs().max().item() for b in blocks)
                probe["max_bias_change_at_0.25"] = max((b.rel_bias(8) - b.rel_bias(8, stride=0.25)).float().abs()
                                                       .max().item() for b in blocks)
    (results / "conv_in_time.json").write_text(json.dumps(dict(variants={v: runs[v] for v in variants},
                                                               training=training, stride_probes=probes), indent=1))
    frames = {v: torch.load(root / f"frames_{v}.pt")[0, :, ::2].contiguous() for v in variants
              if (root / f"frames_{v}.pt").exists()}
    save_file(frames, results / "conv_in_time_frames.safetensors")
    (results / "conv_in_time_frames.safetensors").chmod(0o644)
    print(f"{len(variants)} variants: {', '.join(variants)}")
