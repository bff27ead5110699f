"""The lesson's fine-tuned backbone (build/dreambooth) with the keyframe temporal layers on only above step SW of the
sampler (frame by frame below it): 16 videos of "a red zorp moving ...", personalisation_scores.

    SW=0,200,400,700 python probe_switch.py"""
import torch, numpy as np, os
from videoldm_ref.text2video import personalisation_scores
from videoldm_ref.image_ldm import ImageLDM, sampling_settings
from videoldm_ref.keyframes import load_keyframes
from videoldm_ref.autoencoder import load_autoencoder, decode_video
from videoldm_ref.diffusion import ddim_sample
torch.set_num_threads(2)
vae = load_autoencoder()
tuned = ImageLDM.from_pretrained("../../../build/dreambooth")
kf = load_keyframes(image_ldm=tuned).eval()
dirs = ["left", "right", "up", "down"]
n = 16
caps = [f"a red zorp moving {dirs[i % 4]}" for i in range(n)]
cond, unc = kf.text_encoder(caps), kf.text_encoder([""] * n)
for switch in [int(s) for s in os.environ.get("SW", "300,600").split(",")]:
    def model_fn(x, t):
        flags = torch.full((n, 8), bool(t[0] < switch))
        c = kf(x, t, cond, image_only_indicator=flags); u = kf(x, t, unc, image_only_indicator=flags)
        return u + 3.0 * (c - u)
    with torch.no_grad():
        z = ddim_sample(model_fn, (n, 4, 8, 16, 16), kf.schedule, generator=torch.Generator().manual_seed(0), **sampling_settings(kf, 20))
        v = decode_video(vae, z)
    print("switch to frame by frame below t =", switch, {k: round(x, 2) for k, x in personalisation_scores(v, caps).items()}, flush=True)
