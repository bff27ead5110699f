"""Does the keyframe model use the direction word? The v-loss on 32 held-out clips with their own caption against
the caption with the opposite direction, at fixed noise and several steps t: the gap (opposite minus own) is what
knowing the direction is worth to the model. With `--train N --t-min T`, first train fresh temporal layers for N
steps on clips noised to t >= T only (batch 8, constant lr 5e-4), measuring every 100 steps: the probe that found
the direction word can be learned at high noise (nbs/experiments/keyframes_study.ipynb).

    python tools/direction_gap.py shipped                                  # the shipped keyframe model
    python tools/direction_gap.py '{"attention_position": true}' --train 400 --t-min 900
    python tools/direction_gap.py '{}' --train 400 --t-min 900

Results are merged into nbs/results/keyframes.json under "direction gap: ...".
"""
import argparse
import json
import sys
import time

import torch

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from keyframe_experiments import record                                # noqa: E402
from videoldm_ref.autoencoder import load_autoencoder                 # noqa: E402
from videoldm_ref.data import MovingShapes                             # noqa: E402
from videoldm_ref.diffusion import diffusion_loss                      # noqa: E402
from videoldm_ref.image_ldm import load_image_ldm                      # noqa: E402
from videoldm_ref.keyframes import LatentClips, VideoLDM, load_keyframes  # noqa: E402

OPPOSITE = {"right": "left", "left": "right", "up": "down", "down": "up"}
STEPS_T = (990, 900, 800, 600, 300)


def opposite(caption: str) -> str:
    *rest, direction = caption.split()
    return " ".join(rest + [OPPOSITE[direction]])


@torch.no_grad()
def loss_gap(ldm: VideoLDM, x0: torch.Tensor, captions: list[str], noise: torch.Tensor) -> dict:
    "For each t of STEPS_T: (v-loss with the own captions, v-loss with the opposite ones minus it)."
    was_training, out = ldm.training, {}
    ldm.eval()
    for t in STEPS_T:
        tt = torch.full((len(x0),), t)
        own, opp = (diffusion_loss(lambda x, s: ldm(x, s, ldm.text_encoder(cs)), x0, ldm.schedule, t=tt, noise=noise,
                                   prediction_type=ldm.diffusion.prediction_type).item()
                    for cs in (captions, [opposite(c) for c in captions]))
        out[t] = [round(own, 4), round(opp - own, 4)]
    ldm.train(was_training)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="'shipped', or the temporal settings of fresh layers as JSON")
    p.add_argument("--train", type=int, default=0, help="steps of training at high noise first")
    p.add_argument("--t-min", type=int, default=900)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    vae, image_ldm = load_autoencoder(), load_image_ldm()
    held = LatentClips(vae, MovingShapes(32, frames=8, seed=1000))
    noise = torch.randn(held.latents.shape, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)                                                # the fresh layers' initial weights
    ldm = load_keyframes(image_ldm=image_ldm) if a.model == "shipped" else \
        VideoLDM.from_image_ldm(image_ldm, **json.loads(a.model))
    curve = [[0, loss_gap(ldm, held.latents, held.captions, noise)]]
    print(curve[-1], flush=True)
    if a.train:
        train = LatentClips(vae, MovingShapes(1000, frames=8, seed=0))
        params = [q for q in ldm.parameters() if q.requires_grad]
        opt = torch.optim.AdamW(params, 5e-4, weight_decay=0.0)
        g, t0 = torch.Generator().manual_seed(1), time.time()
        ldm.train()
        for step in range(1, a.train + 1):
            idx = torch.randint(0, len(train), (8,), generator=g)
            captions = [train.captions[i] for i in idx.tolist()]
            drop = (torch.rand(8, generator=g) < 0.1).tolist()
            with torch.no_grad():
                context = ldm.text_encoder(["" if d else c for c, d in zip(captions, drop)])
            t = torch.randint(a.t_min, ldm.schedule.num_steps, (8,), generator=g)
            loss = diffusion_loss(lambda x, s: ldm(x, s, context), train.latents[idx], ldm.schedule, t=t,
                                  generator=g, prediction_type=ldm.diffusion.prediction_type)
            loss.backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step(); opt.zero_grad()
            if step % 100 == 0:
                curve.append([step, loss_gap(ldm, held.latents, held.captions, noise)])
                print(f"{(time.time() - t0) / step:.2f} s/step", curve[-1], flush=True)
    name = "shipped" if a.model == "shipped" else f"fresh {a.model}, {a.train} steps at t >= {a.t_min}, seeded"
    record(f"direction gap: {name}", gap_curve=curve)


if __name__ == "__main__":
    main()
