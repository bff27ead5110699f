"""The paper's temporal decoder table, measured with the video distances of `05b_video_distance`: held-out clips
encoded, then decoded frame by frame by the image decoder and by the video-fine-tuned temporal decoder, each set of
reconstructions measured against the clips it reconstructs (paired bootstrap).

    python tools/experiments/video_distance/decoder_table.py      # a few minutes with FEATURES=trained; I3D ~10 min

Writes nbs/results/video_distance_decoder.json.
"""
import json
import os
import time
from pathlib import Path

import torch

from videoldm_ref.autoencoder import decode_video, encode_video, load_autoencoder
from videoldm_ref.metrics import psnr
from videoldm_ref.temporal_decoder import decode_video_temporal, load_temporal_decoder
from videoldm_ref.video_metrics import compare_distances, i3d_features, video_distance_parts, video_features

NETWORKS = os.environ.get("FEATURES", "trained,i3d").split(",")
RESULTS = Path("nbs/results/video_distance_decoder.json")


def main():
    vae, decoder = load_autoencoder().eval(), load_temporal_decoder().eval()
    out = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    t0 = time.time()
    for part, (a, b) in video_distance_parts(48).items():
        truth = torch.cat([a, b])
        z = encode_video(vae, truth)
        recs = {"image decoder": decode_video(vae, z), "temporal decoder": decode_video_temporal(decoder, z)}
        entry = out.setdefault(part, {"n": len(truth)})
        entry["psnr"] = {k: psnr(v, truth).item() for k, v in recs.items()}
        for net in NETWORKS:
            fn = {"trained": video_features, "i3d": i3d_features}[net]
            feats = {k: fn(v) for k, v in recs.items()}
            entry[net] = compare_distances(fn(truth), feats, paired=True)
            print(f"{time.time() - t0:5.0f} s {part} {net}: " + ", ".join(
                f"{k} {v['fd'][0]:.3f} +- {v['fd'][1]:.3f}" for k, v in entry[net].items()), flush=True)
        RESULTS.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
