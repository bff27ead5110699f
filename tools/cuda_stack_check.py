"""The shipped stack on a CUDA GPU against the same stack on the CPU: same caption, same seed.

    python tools/cuda_stack_check.py [--frames 29] [--out build/cuda/cuda_stack.json]

The noise comes from a CPU generator either way, so the two runs differ only by arithmetic (TF32 and kernel order
on the GPU): prints the PSNR between the two videos, each stage's seconds on both devices, and the 113-frame demo's
seconds on the GPU, and writes them to `--out`."""
import argparse
import json
import sys
import time
from pathlib import Path

import torch


def run(pipe, caption: str, frames: int) -> tuple[torch.Tensor, dict]:
    out = pipe(caption, generator=0, num_frames=frames, output_type="pt", progress=False)
    if pipe.device.type == "cuda":
        torch.cuda.synchronize()
    return out.frames.float().cpu(), {k: round(v, 2) for k, v in out.timings.items()}


def main(argv=None) -> int:
    from videoldm_ref.metrics import psnr
    from videoldm_ref.stack import VideoLDMPipeline
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--caption", default="a red square moving right")
    p.add_argument("--frames", type=int, default=29)
    p.add_argument("--out", type=Path, default=Path("build/cuda/cuda_stack.json"))
    a = p.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device here", file=sys.stderr)
        return 2
    pipe = VideoLDMPipeline.from_pretrained()
    cpu, cpu_times = run(pipe, a.caption, a.frames)
    pipe.to("cuda")
    run(pipe, a.caption, 9)                                                  # warm-up: kernels, allocator
    gpu, gpu_times = run(pipe, a.caption, a.frames)
    torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    _, demo_times = run(pipe, a.caption, 113)
    result = dict(device=torch.cuda.get_device_name(), caption=a.caption, frames=a.frames,
                  psnr_gpu_vs_cpu=round(float(psnr(gpu, cpu)), 2), max_abs_diff=round(float((gpu - cpu).abs().max()), 4),
                  cpu_seconds=cpu_times, gpu_seconds=gpu_times, demo_113_gpu_seconds=demo_times,
                  demo_113_gpu_total=round(time.perf_counter() - t, 2),
                  demo_113_peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2),
                  cpu_threads=torch.get_num_threads())
    print(json.dumps(result, indent=1))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
