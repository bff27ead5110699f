"""Gather the runs of this folder's README into `nbs/results/upsampler_detail.json`: part -> row -> PSNR and flicker
against the truth (and the Frechet distance where measured), on the held-out clips of `heldout_highres()`.

    python tools/experiments/upsampler_detail/collect.py BUILD
"""
import json, sys
from pathlib import Path

if __name__ == "__main__":
    build = Path(sys.argv[1])
    read = lambda p: json.loads((build / p).read_text())
    table = read("table_d772a0d.json")                     # the models of commit d772a0d at 4 steps (the table)
    rows = {}
    for part in table:
        r = {"bicubic": table[part]["bicubic"]}
        name = lambda n: f"{n} step{'s' * (n > 1)}"
        for steps, src in ((4, None), (2, "steps2.json"), (1, "steps1.json")):
            got = table[part] if src is None else read(src)[part]
            r[f"unscaled image upsampler (d772a0d), {name(steps)}"] = got["image upsampler"]
            video = "video, overlap 2" if src is None else next(k for k in got if not k.startswith("image"))
            r[f"unscaled video upsampler (d772a0d), {name(steps)}"] = got[video]    # measure.py names it by its PATH
        for k in (1, 3):
            reg = read(f"regress{k}.json")
            r[f"regressor, {k} frame{'s' * (k > 1)}"] = reg["rows"][part][f"regressor, {k} frames"]
        for scale in (1, 13):
            got = read(f"img_s{scale}/scores.json")["rows"][part]
            for steps in (4, 1):
                r[f"image upsampler, 1,000 steps, detail_scale {scale}, {name(steps)}"] = got[f"{steps} steps"]
        got = read("img_s13_l50/scores.json")["rows"][part]                 # training levels in [0, 50], not shipped
        for steps in (4, 1):
            r[f"image upsampler, 1,000 steps, detail_scale 13, levels <= 50, {name(steps)}"] = got[f"{steps} steps"]
        new = read("new_steps1.json")[part]                 # the scaled upsamplers of 615b468 (image stage 5,000 steps)
        r["scaled image upsampler, 5,000 steps (615b468), 1 step"] = new["image upsampler"]
        r["scaled video upsampler, 5,000 steps (615b468), 1 step"] = new[next(k for k in new if not k.startswith("image"))]
        got = read("img_s13_15k/scores.json")["rows"][part]          # that image run on to 15,000 steps: shipped now
        for steps in (4, 1):
            r[f"scaled image upsampler, 15,000 steps (shipped), {name(steps)}"] = got[f"{steps} steps"]
        rows[part] = {name: {k: round(v, 5) for k, v in s.items() if k in ("psnr", "flicker", "fd")}
                      for name, s in r.items()}
    meta = {f"regressor, {k} frame{'s' * (k > 1)}": dict(steps=read(f"regress{k}.json")["steps"],
                                                          seconds=round(read(f"regress{k}.json")["seconds"]))
            for k in (1, 3)}
    Path("nbs/results/upsampler_detail.json").write_text(json.dumps(dict(rows=rows, training=meta), indent=1))
    for part, r in rows.items():
        for name, s in r.items():
            print(f"{part:16s} {name:58s} PSNR {s['psnr']:6.2f} flicker {s['flicker']:.4f}")
