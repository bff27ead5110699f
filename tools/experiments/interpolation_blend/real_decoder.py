"""What a decoder trained on real frames buys (issue 41, real video): the shipped autoencoder's decoder fine-tuned on
the real training frames (the sample clips' first 70% and the camera moves over photographs), its encoder frozen, so
the latent space every latent model works in stays the same. Measured before and after: reconstruction PSNR of the
held-out frames (06's), and one pass of the latent blend and the motion blend of the latents on the real clips of
13's table (up to 50 a part), decoded by each decoder.

    python real_decoder.py STEPS OUT.json [FOLDER]   (env THREADS, default 2; CLIPS: clips a part, default 50; FOLDER: where
the decoder is saved)"""
import copy
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch.utils.data import ConcatDataset, Subset

from videoldm_ref.autoencoder import (autoencoder_frames, decode_video, encode_video, load_autoencoder,
                                      save_pretrained_atomic)
from videoldm_ref.interpolation import (blend_keyframes, heldout_parts, interpolation_scores, motion_blend,
                                        motion_blend_latents)
from videoldm_ref.metrics import psnr
from videoldm_ref.train import TrainConfig, fit

torch.set_num_threads(int(os.environ.get("THREADS", 2)))
steps, out_path = int(sys.argv[1]), sys.argv[2]
folder = sys.argv[3] if len(sys.argv) > 3 else "../../../build/real_decoder"
shipped = load_autoencoder()
vae = copy.deepcopy(shipped).train()
vae.requires_grad_(False)
for part in (vae.decoder, vae.post_quant_conv):
    part.requires_grad_(True)
train = autoencoder_frames("train").datasets
data = ConcatDataset([train[0], train[2]])                    # real clips, camera moves over photographs


def loss_fn(model, batch, generator, crop=32):
    x = batch["image"]
    y0, x0 = (int(v) for v in torch.randint(0, x.shape[-1] - crop + 1, (2,), generator=generator))
    x = x[..., y0:y0 + crop, x0:x0 + crop]
    with torch.no_grad():
        z = model.encode(x).latent_dist.sample(generator=generator)
    return F.l1_loss(model.decode(z).sample, x)


config = TrainConfig(steps=steps, batch_size=16, lr=2e-4, warmup=50, ema_decay=None, ckpt_every=250, seed=5)
result = fit(vae, loss_fn, data, config, ckpt_dir=folder + "_ckpt", device="cpu", progress=False)
vae.eval()
save_pretrained_atomic(vae, folder)
out = dict(steps=steps, frames=len(data), seconds=round(result.seconds), loss=result.history[-100:], reconstruction={},
           one_pass={})
held = autoencoder_frames("heldout").datasets
with torch.no_grad():
    for name, part in (("real", held[0]), ("shapes", held[1]), ("camera moves", held[2])):
        x = torch.stack([part[i]["image"] for i in range(len(part))])
        out["reconstruction"][name] = {who: psnr(m.decode(m.encode(x).latent_dist.mode()).sample.clamp(-1, 1), x).item()
                                       for who, m in (("shipped", shipped), ("real decoder", vae))}
    print(out["reconstruction"], flush=True)
    for name, part in heldout_parts().items():
        if not name.startswith("real"):
            continue
        truth = torch.stack([part[i]["video"] for i in range(min(int(os.environ.get("CLIPS", 50)), len(part)))])
        keys = encode_video(shipped, truth[:, :, ::4])
        rows = {"blend in pixels": blend_keyframes(truth[:, :, ::4], 4),
                "motion blend in pixels": motion_blend(truth[:, :, ::4], 4)}
        for who, m in (("shipped", shipped), ("real decoder", vae)):
            rows[f"latent blend, {who}"] = decode_video(m, blend_keyframes(keys, 4)).clamp(-1, 1)
            rows[f"motion blend of the latents, {who}"] = decode_video(m, motion_blend_latents(m, keys, 4)).clamp(-1, 1)
            rows[f"round trip, {who}"] = decode_video(m, encode_video(shipped, truth)).clamp(-1, 1)
        out["one_pass"][name] = {k: interpolation_scores(v, truth, 4) for k, v in rows.items()}
        print(name, {k: round(v["psnr_moving"], 2) for k, v in out["one_pass"][name].items()}, flush=True)
json.dump(out, open(out_path, "w"), indent=1)
