"""The table's comparison (`measure_upsamplers`, 4 DDIM steps, windows of 8 sharing 2) on more held-out clips of one
synthetic part, clip by clip, so the video / image flicker ratio gets a standard error:

    python tools/experiments/upsampler_detail/many.py OUT.json PART N [THREADS]

PART is `camera moves` or `bouncing shapes`; clips 0..N-1 of `highres_clips("heldout", frames=16)`'s part (the
table's are the first 6; clip i is sampled from seed i, as in the table, so those six agree with it)."""
import json
import sys
import time

import numpy as np
import torch

from videoldm_ref.upsampler import highres_clips, load_upsampler, measure_upsamplers

if __name__ == "__main__":
    out, part, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
    source = dict(zip(("real", "camera moves", "bouncing shapes"), highres_clips("heldout", frames=16).datasets))[part]
    image_ups, video_ups = load_upsampler(video=False), load_upsampler()
    rows, tick = [], time.time()
    for i in range(n):
        s = measure_upsamplers(image_ups, video_ups, {part: [source[i]]}, seed=i)["scores"][part]
        rows.append({m: {k: s[m][k] for k in ("psnr", "flicker")} for m in s})
        print(i, f"{rows[-1]['video, overlap 2']['flicker'] / rows[-1]['image upsampler']['flicker']:.3f}",
              f"{time.time() - tick:.0f} s", flush=True)
    mean = lambda m, k: float(np.mean([r[m][k] for r in rows]))
    per_clip = np.array([r["video, overlap 2"]["flicker"] / r["image upsampler"]["flicker"] for r in rows])
    summary = dict(part=part, clips=n, seconds=round(time.time() - tick),
                   mean={m: {k: mean(m, k) for k in ("psnr", "flicker")} for m in rows[0]},
                   ratio_of_means=mean("video, overlap 2", "flicker") / mean("image upsampler", "flicker"),
                   per_clip_ratio=dict(mean=float(per_clip.mean()), se=float(per_clip.std(ddof=1) / np.sqrt(n))),
                   rows=rows)
    json.dump(summary, open(out, "w"), indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, indent=1))
