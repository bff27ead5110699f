"""Probes of the lesson's fine-tuned backbone (build/dreambooth) with the keyframe temporal layers: 16 videos of "a red
zorp moving ...", personalisation_scores. MODE=class_to_temporal: the temporal layers read "circle" for "zorp"; G: text
guidance (default 3); MODE=look also saves frames.png (four videos, then the same frame by frame)."""
import torch, numpy as np, os
from videoldm_ref.text2video import personalisation_scores
from videoldm_ref.image_ldm import ImageLDM, load_image_ldm
from videoldm_ref.keyframes import load_keyframes, sample_video
from videoldm_ref.autoencoder import load_autoencoder
from videoldm_ref.video_unet import FrameContext
torch.set_num_threads(2)
vae = load_autoencoder()
tuned = ImageLDM.from_pretrained("../../../build/dreambooth")
kf = load_keyframes(image_ldm=tuned)
dirs = ["left", "right", "up", "down"]
caps = [f"a red zorp moving {dirs[i % 4]}" for i in range(16)]
mode = os.environ.get("MODE")
if mode == "class_to_temporal":
    enc = kf.text_encoder
    zorp_emb = enc(caps); circle_emb = enc([c.replace("zorp", "circle") for c in caps])
    table = {zorp_emb.data_ptr(): circle_emb}
    class Ctx(FrameContext):
        @property
        def context(self): return self._ctx
        @context.setter
        def context(self, v): self._ctx = table.get(v.data_ptr() if v is not None else None, v)
    kf.unet.frames.__class__ = Ctx
    kf.unet.frames._ctx = None
    orig = enc.forward
    enc.forward = lambda c: zorp_emb if list(c) == caps else orig(c)
v = sample_video(kf, vae, caps, frames=8, num_steps=20, generator=0, guidance_scale=float(os.environ.get("G", 3)))
print(mode, {k: round(x, 2) for k, x in personalisation_scores(v, caps).items()})
from videoldm_ref.media import frames_grid
img_only = sample_video(kf, vae, caps[:4], frames=8, num_steps=20, generator=0, image_only=True)
frames_grid(list(v[:4]) + list(img_only), n_frames=8, height=0.8, dpi=60, path="frames.png")
