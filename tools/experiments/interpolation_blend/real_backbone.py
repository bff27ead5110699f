"""What an image backbone that has seen real frames buys (issue 41, real video): the shipped image LDM fine-tuned on
its shapes and the real training frames (the sample clips' first 70%, repeated, and the camera moves over
photographs), in the same latent space. Measured against the shipped one: its clean-latent error on the first frames
of 13's held-out clips (13's *Why the real clips fail*), its Frechet distance on the shapes (07's), and one pass of
the shipped interpolation model (temporal layers unchanged) on 13's table's clips with either backbone under it.

    python real_backbone.py STEPS OUT.json [FOLDER]   (env THREADS, default 2; CLIPS: clips a part, default 50)"""
import json
import os
import sys

import torch
from torch.utils.data import ConcatDataset, Subset

from videoldm_ref.autoencoder import encode_video, load_autoencoder
from videoldm_ref.context import load_prediction
from videoldm_ref.data import CameraMotion, MovingShapes, VideoList, load_sample_clip
from videoldm_ref.diffusion import q_sample, to_x0_eps
from videoldm_ref.image_ldm import LatentFrames, image_ldm_fd, ldm_loss, load_image_ldm
from videoldm_ref.interpolation import heldout_parts, interpolation_metrics, load_interpolation
from videoldm_ref.train import TrainConfig, fit

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
steps, out_path = int(sys.argv[1]), sys.argv[2]
folder, n_clips = sys.argv[3] if len(sys.argv) > 3 else "../../../build/real_backbone", int(os.environ.get("CLIPS", 50))
vae, shipped, tuned = load_autoencoder(), load_image_ldm(), load_image_ldm()
real = []
for name in ("bigbuckbunny_64x64", "bikes_64x64"):
    video, fps = load_sample_clip(name)
    real.append(video[:, :int(0.7 * video.shape[1])])                   # the autoencoder's training part
frames = [LatentFrames(vae, VideoList(real)), LatentFrames(vae, CameraMotion(100, frames=8, seed=0)),
          LatentFrames(vae, MovingShapes(500, frames=8, seed=0))]
data = ConcatDataset([frames[0]] * 4 + frames[1:])                   # about a fifth real frames, a seventh camera moves
print("frames: real", len(frames[0]), "x4, camera", len(frames[1]), ", shapes", len(frames[2]), flush=True)
tuned.train().requires_grad_(False)
tuned.unet.requires_grad_(True)
config = TrainConfig(steps=steps, batch_size=32, lr=1e-4, warmup=50, ema_decay=0.995, ckpt_every=100, seed=6)
result = fit(tuned, ldm_loss(), data, config, ckpt_dir=folder + "_ckpt", device="cpu", progress=False,
             collate_fn=lambda items: dict(latent=torch.stack([i["latent"] for i in items]),
                                           caption=[i["caption"] for i in items]))
if result.ema is not None:
    result.ema.copy_to([p for p in tuned.parameters() if p.requires_grad])
tuned.eval().requires_grad_(False)
tuned.save_pretrained(folder, unet_dtype=torch.float16)
out = dict(steps=steps, seconds=round(result.seconds), loss=[round(v, 5) for v in result.history], x0_error={},
           fd={}, one_pass={})
json.dump(out, open(out_path, "w"), indent=1)
parts = {k: Subset(p, range(min(n_clips, len(p)))) for k, p in heldout_parts().items()}
with torch.no_grad():
    for who, ldm in (("shipped", shipped), ("real frames too", tuned)):
        gen, out["x0_error"][who] = torch.Generator().manual_seed(0), {}
        for name, part in parts.items():
            z = encode_video(vae, torch.stack([part[i]["video"][:, :1] for i in range(len(part))]))[:, :, 0]
            captions, errors = [part[i]["caption"] for i in range(len(z))], []
            for t in (200, 500, 800):
                steps_t = torch.full((len(z),), t)
                x = q_sample(z, steps_t, torch.randn(z.shape, generator=gen), ldm.schedule)
                x0, _ = to_x0_eps(ldm(x, steps_t, captions), x, steps_t, ldm.schedule, ldm.diffusion.prediction_type)
                errors.append((((x0 - z) ** 2).mean() / z.var()).item())
            out["x0_error"][who][name] = errors
        print(who, out["x0_error"][who], flush=True)
        out["fd"][who] = image_ldm_fd(ldm, vae, n=int(os.environ.get("FD_N", 128)))
        interp = load_interpolation(base=load_prediction(image_ldm=ldm)).eval()
        out["one_pass"][who] = interpolation_metrics(interp, vae, parts)
        print(who, "FD", out["fd"][who], out["one_pass"][who], flush=True)
        json.dump(out, open(out_path, "w"), indent=1)
