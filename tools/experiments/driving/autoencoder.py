"""Issue 44: the demo autoencoder trained on for driving frames (`17_driving`, "An autoencoder for roads"), then its
round trip of 16 held-out 4-frame clips measured with the page's yardsticks beside the demo autoencoder's.

    python tools/experiments/driving/autoencoder.py [OUT.json]     (default nbs/results/driving_autoencoder.json)

Trains into build/driving_autoencoder (resumable from build/ckpt/driving_autoencoder), one CPU thread."""
import json
import sys
import time
from pathlib import Path

import torch

from videoldm_ref.autoencoder import decode_video, encode_video, load_autoencoder
from videoldm_ref.driving import DrivingScenes, detect_cars, layout_scores, scene_labels, train_driving_autoencoder
from videoldm_ref.metrics import psnr

torch.set_num_threads(1)
out = Path(sys.argv[1] if len(sys.argv) > 1 else "nbs/results/driving_autoencoder.json")
tick = time.time()
road_vae, run = train_driving_autoencoder("build/driving_autoencoder", ckpt_dir="build/ckpt/driving_autoencoder",
                                          progress=False)
seconds = time.time() - tick
trip = DrivingScenes(16, frames=4, seed=7)
items = [trip[i] for i in range(len(trip))]
truth = torch.stack([it["video"] for it in items])
record = dict(steps=len(run.history), seconds=round(seconds), loss_first_100=float(sum(run.history[:100]) / 100),
              loss_last_100=float(sum(run.history[-100:]) / 100), autoencoders={})
for name, vae in (("demo", load_autoencoder()), ("driving", road_vae.eval())):
    with torch.no_grad():
        back = decode_video(vae, encode_video(vae, truth))
    layout = layout_scores([detect_cars(back[b, :, t]) for b in range(16) for t in range(4)],
                           [it["boxes"][t] for it in items for t in range(4)])
    record["autoencoders"][name] = dict(psnr=float(psnr(back, truth).mean()), ap50=layout["ap"][0.5],
                                        ap75=layout["ap"][0.75], mean_iou=layout["mean_iou"], missing=layout["missing"],
                                        extra=layout["extra"], n_true=layout["n_true"],
                                        labels=sum(scene_labels(back[b]) == (it["time"], it["traffic"])
                                                   for b, it in enumerate(items)))
out.write_text(json.dumps(record, indent=1))
print(json.dumps(record, indent=1))
