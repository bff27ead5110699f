"""Probes of the lesson's fine-tuned backbone (build/dreambooth) with the keyframe temporal layers: 16 videos of "a red
zorp moving ...", personalisation_scores. G: text guidance (default 3);
MODE=look also saves frames.png (four videos, then the same frame by frame)."""
import torch, numpy as np, os
from videoldm_ref.text2video import personalisation_scores
from videoldm_ref.image_ldm import ImageLDM, load_image_ldm
from videoldm_ref.keyframes import load_keyframes, sample_video
from videoldm_ref.autoencoder import load_autoencoder
torch.set_num_threads(2)
vae = load_autoencoder()
tuned = ImageLDM.from_pretrained("../../../build/dreambooth")
kf = load_keyframes(image_ldm=tuned)
dirs = ["left", "right", "up", "down"]
caps = [f"a red zorp moving {dirs[i % 4]}" for i in range(16)]
mode = os.environ.get("MODE", "G=" + os.environ.get("G", "3"))
v = sample_video(kf, vae, caps, frames=8, num_steps=20, generator=0, guidance_scale=float(os.environ.get("G", 3)))
print(mode, {k: round(x, 2) for k, x in personalisation_scores(v, caps).items()})
if mode == "look":
    from videoldm_ref.media import frames_grid
    img_only = sample_video(kf, vae, caps[:4], frames=8, num_steps=20, generator=0, image_only=True)
    frames_grid(list(v[:4]) + list(img_only), n_frames=8, height=0.8, dpi=60, path="frames.png")
