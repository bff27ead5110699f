"""Time and peak memory of the whole stack (`VideoLDMPipeline`) writing an mp4, per number of interpolation passes.

    python tools/bench_stack.py --passes 1 2 3 [--no-upsample] [--keyframe-steps 20 ...] [--out rows.json]

Each run is a fresh process (so its peak RSS is its own): 8 keyframes -> (8 - 1) 4^p + 1 frames -> 256x256 mp4.
Prints seconds per stage and the peak RSS, and the ratio of each peak to the first one's."""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def one(args) -> dict:
    from videoldm_ref.stack import VideoLDMPipeline
    pipe = VideoLDMPipeline.from_pretrained()
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        out = pipe(args.caption, generator=0, interpolation_passes=args.one, upsample=not args.no_upsample,
                   keyframe_steps=args.keyframe_steps, interpolation_steps=args.interpolation_steps,
                   upsampler_steps=args.upsampler_steps, output_type="mp4", out=f"{d}/v.mp4", progress=False)
        total = time.perf_counter() - t
    return dict(passes=args.one, frames=(8 - 1) * 4**args.one + 1, seconds=total, timings=out.timings,
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--passes", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)            # a child run
    p.add_argument("--no-upsample", action="store_true")
    p.add_argument("--caption", default="a red circle moving right")
    p.add_argument("--keyframe-steps", type=int, default=20)
    p.add_argument("--interpolation-steps", type=int, default=10)
    p.add_argument("--upsampler-steps", type=int, default=4)
    p.add_argument("--out", help="also write the rows to this json file")
    a = p.parse_args()
    if a.one is not None:
        print(json.dumps(one(a)))
        return
    rows = []
    for passes in a.passes:
        cmd = [sys.executable, __file__, "--one", str(passes), "--caption", a.caption,
               "--keyframe-steps", str(a.keyframe_steps), "--interpolation-steps", str(a.interpolation_steps),
               "--upsampler-steps", str(a.upsampler_steps)] + (["--no-upsample"] if a.no_upsample else [])
        rows.append(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1]))
        r = rows[-1]
        stages = ", ".join(f"{k} {v:.0f} s" for k, v in r["timings"].items())
        print(f"{r['frames']:4d} frames: {r['seconds']:6.0f} s ({stages}); peak RSS {r['peak_rss_mb']:.0f} MB "
              f"({r['peak_rss_mb'] / rows[0]['peak_rss_mb']:.3f} x the first)", flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(dict(rows=rows, threads=os.environ.get("OMP_NUM_THREADS")), f, indent=1)


if __name__ == "__main__":
    main()
