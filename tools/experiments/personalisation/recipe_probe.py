"""One DreamBooth recipe on the demo image LDM, measured on images and videos (see README.md; env settings below).

    TAG=NAME TI=300 DB=900 LR=5e-5 [NINST=200] [NPRIOR=400] [PRIOR_RED=1] [SUBSET=attn1,attn2] python recipe_probe.py"""
import copy
import os
import time

import numpy as np
import torch
from torch.utils.data import Dataset

from videoldm_ref.autoencoder import decode_video, encode_video, load_autoencoder
from videoldm_ref.data import COLORS, DIRECTIONS, SHAPES
from videoldm_ref.diffusion import ddim_sample, guided
from videoldm_ref.image_ldm import ImageLDM, WordTextEncoder, ldm_loss, load_image_ldm, sample_images, sampling_settings
from videoldm_ref.metrics import color_objects
from videoldm_ref.text2video import _plus_mask
from videoldm_ref.train import TrainConfig, fit

torch.set_num_threads(int(os.environ.get("THREADS", 1)))
vae = load_autoencoder()


def images(n, color="red", seed=0, size=64):
    "The probe's concept images (its own seed stream: the lesson's `concept_images` draws others)."
    rng, out = np.random.default_rng([seed, 99]), []
    yy, xx = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    for _ in range(n):
        r = size * rng.uniform(0.12, 0.2)
        cy, cx = rng.uniform(r, size - r, 2)
        bg = -0.8 + 0.1 * torch.from_numpy(rng.uniform(-1, 1, 3)).float().view(3, 1, 1)
        m = _plus_mask(yy, xx, cy, cx, r)
        out.append(bg.expand(3, size, size) * (1 - m) + torch.tensor(COLORS[color]).view(3, 1, 1) * m)
    return torch.stack(out)


def cells(frame, color):
    labels, areas = color_objects(frame, color)
    if len(areas) != 1: return None
    m = (labels == 1).astype(float)
    ys, xs = np.nonzero(m); y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    box = m[y0:y1, x0:x1]
    h, w = box.shape; yc = [0, round(h / 3), round(2 * h / 3), h]; xc = [0, round(w / 3), round(2 * w / 3), w]
    g = np.array([[box[yc[i]:yc[i+1], xc[j]:xc[j+1]].mean() for j in range(3)] for i in range(3)])
    return g[[0, 0, 2, 2], [0, 2, 0, 2]].mean(), g[[0, 1, 1, 2], [1, 0, 2, 1]].mean()
def is_zorp(frame, color):
    c = cells(frame, color); return c is not None and c[0] < 0.2 and c[1] > 0.6
def add_word(enc, word, like):
    vocab = list(enc.config.vocab) + [word]
    new = WordTextEncoder(vocab, dim=enc.config.dim, max_words=enc.config.max_words, layers=enc.config.layers, heads=enc.config.heads)
    state = dict(enc.state_dict()); emb = state["embed.weight"]
    state["embed.weight"] = torch.cat([emb, emb[enc.index[like]][None].clone()])
    new.load_state_dict(state); return new
base = load_image_ldm()
dirs = list(DIRECTIONS)
rng = np.random.default_rng(0)
zi = encode_video(vae, images(5, seed=0).transpose(0, 1)[None])[0].transpose(0, 1)
npri = int(os.environ.get("NPRIOR", 400))
red = os.environ.get("PRIOR_RED") == "1"
pcap = [f"a {'red' if red and i % 2 else rng.choice(list(COLORS))} {rng.choice(SHAPES)} moving {rng.choice(dirs)}" for i in range(npri)]
pfile = f"prior{npri}{'red' if red else ''}.pt"
if os.path.exists(pfile): zp = torch.load(pfile)
else:
    with torch.no_grad():
        fn = guided(base, 3.0, dict(captions=base.text_encoder(pcap)), dict(captions=base.text_encoder([""] * npri)))
        zp = ddim_sample(fn, (npri, 4, 16, 16), base.schedule, generator=torch.Generator().manual_seed(0), **sampling_settings(base, 20))
    torch.save(zp, pfile)
class D(Dataset):
    def __init__(s, ninst, prior=True): s.items = [(zi[i % 5], f"a red zorp moving {dirs[(i // 5) % 4]}") for i in range(ninst)] + (list(zip(zp, pcap)) if prior else [])
    def __len__(s): return len(s.items)
    def __getitem__(s, i): return dict(latent=s.items[i][0], caption=s.items[i][1])
col = lambda items: dict(latent=torch.stack([i["latent"] for i in items]), caption=[i["caption"] for i in items])
enc = add_word(base.text_encoder, "zorp", os.environ.get("LIKE", "<unk>"))
ldm = ImageLDM(copy.deepcopy(base.unet), enc, base.diffusion)
mask = torch.zeros(len(enc.config.vocab), 1); mask[-1] = 1
enc.embed.weight.register_hook(lambda g: g * mask)
ti_steps, db_steps = int(os.environ.get("TI", 0)), int(os.environ.get("DB", 300))
tick = time.time()
if ti_steps:
    ldm.requires_grad_(False); enc.embed.weight.requires_grad_(True)
    fit(ldm, ldm_loss(), D(200, prior=False), TrainConfig(steps=ti_steps, batch_size=16, lr=float(os.environ.get("TILR", 5e-3)), warmup=10, ema_decay=None), device="cpu", progress=False, collate_fn=col)
if db_steps:
    ldm.requires_grad_(False); ldm.unet.requires_grad_(True); enc.embed.weight.requires_grad_(os.environ.get("DBEMB", "1") == "1")
    sub = os.environ.get("SUBSET")
    if sub:
        for n_, p_ in ldm.unet.named_parameters(): p_.requires_grad_(any(k in n_ for k in sub.split(",")))
        print("training", sum(p_.numel() for p_ in ldm.unet.parameters() if p_.requires_grad), flush=True)
    fit(ldm, ldm_loss(), D(int(os.environ.get("NINST", 200))), TrainConfig(steps=db_steps, batch_size=16, lr=float(os.environ.get("LR", 5e-5)), warmup=20, ema_decay=None), device="cpu", progress=False, collate_fn=col)
print("train", round(time.time() - tick), flush=True)
ldm.eval(); out = {}
for cap in ["a red zorp moving right", "a blue zorp moving up", "a red circle moving right", "a red square moving left", "a red triangle moving up", "a green square moving down"]:
    ims = sample_images(ldm, vae, [cap] * 32, num_steps=20, generator=1)
    c = cap.split()[1]
    out[cap] = (np.mean([is_zorp(im, c) for im in ims]), np.mean([cells(im, c) is not None for im in ims]))
print(os.environ.get("TAG"), {k: "%.2f/%.2f" % v for k, v in out.items()}, flush=True)

from videoldm_ref.keyframes import load_keyframes, sample_video
from videoldm_ref.text2video import personalisation_scores
kf = load_keyframes(image_ldm=ldm)
caps = [f"a red zorp moving {dirs[i % 4]}" for i in range(16)]
v = sample_video(kf, vae, caps, frames=8, num_steps=20, generator=0)
print(os.environ.get("TAG"), "video", {k: round(x, 2) for k, x in personalisation_scores(v, caps).items()}, flush=True)
