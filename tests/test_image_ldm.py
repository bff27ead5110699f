import shutil

import pytest
import torch

from videoldm_ref.autoencoder import build_vae, count_parameters
from videoldm_ref.data import MovingShapes
from videoldm_ref.diffusion import DiffusionConfig
from videoldm_ref.image_ldm import (DEMO_DIFFUSION, ImageLDM, LatentFrames, WordTextEncoder, build_unet,
                                    caption_vocabulary, ldm_loss, sample_images, sampling_settings)
from videoldm_ref.train import TrainConfig, fit


@pytest.fixture(scope="module")
def tiny_ldm():
    torch.manual_seed(0)
    return ImageLDM.build("tiny").eval()


def test_paper_sized_backbones():
    with torch.device("meta"):
        sd1, sd2 = build_unet("sd1"), build_unet("sd2")
    assert abs(count_parameters(sd2) / 865e6 - 1) < 0.01                  # the paper's 865M spatial parameters
    assert 855e6 < count_parameters(sd1) < 875e6
    assert sd2.config.use_linear_projection and not sd1.config.use_linear_projection
    with pytest.raises(ValueError, match="name: expected one of"):
        build_unet("sdxl")


def test_text_encoder_tokens_unknown_words_and_null():
    enc = WordTextEncoder(caption_vocabulary(), dim=32, max_words=6)
    ids = enc.tokenize(["a red square moving left", "a purple dragon", "one two three four five six seven"])
    assert ids.shape == (3, 6) and ids[0, 5] == 0 and (ids[0, :5] > 1).all()
    assert ids[1, 1] == 1 and ids[1, 2] == 1                              # unknown words -> <unk>
    out = enc(["a red square", ""])
    assert out.shape == (2, 6, 32) and torch.equal(out[1], enc.null)
    assert torch.allclose(enc(["a red square"])[0], out[0], atol=1e-6)    # independent of the batch
    with pytest.raises(TypeError, match="captions"):
        enc.tokenize("a red square")
    with pytest.raises(ValueError, match="vocab"):
        WordTextEncoder(["red", "green", "blue"])


def test_text_encoder_round_trip(tmp_path):
    enc = WordTextEncoder(caption_vocabulary(), dim=32)
    enc.save_pretrained(tmp_path)
    again = WordTextEncoder.from_pretrained(tmp_path)
    caps = ["a blue circle moving up", ""]
    assert torch.equal(enc(caps), again(caps))


def test_ldm_forward_save_load(tiny_ldm, tmp_path):
    x, t = torch.randn(2, 4, 8, 8), torch.tensor([10, 900])
    out = tiny_ldm(x, t, ["a red square", ""])
    assert out.shape == x.shape
    tiny_ldm.save_pretrained(tmp_path / "ldm")
    again = ImageLDM.from_pretrained(tmp_path / "ldm")
    assert torch.equal(again(x, t, ["a red square", ""]), out)
    with pytest.raises(ValueError, match="latents: expected 4 channels"):
        tiny_ldm(torch.randn(2, 3, 8, 8), t, ["a", "b"])
    with pytest.raises(ValueError, match="captions: expected 2"):
        tiny_ldm(x, t, ["only one"])
    with pytest.raises(ValueError, match="p_uncond"):
        ldm_loss(1.5)
    with pytest.raises(ValueError, match="text_encoder: expected dim 32"):
        ImageLDM(build_unet("tiny"), WordTextEncoder(caption_vocabulary(), dim=16))


def test_sampling_is_seeded_and_shaped(tiny_ldm):
    vae = build_vae("tiny").eval()
    a = sample_images(tiny_ldm, vae, ["a red square", "a green circle"], num_steps=3, generator=1)
    b = sample_images(tiny_ldm, vae, ["a red square", "a green circle"], num_steps=3, generator=1)
    assert a.shape == (2, 3, 16, 16) and torch.equal(a, b) and a.abs().max() <= 1
    with pytest.raises(TypeError, match="captions"):
        sample_images(tiny_ldm, vae, "a red square")


def test_tiny_ldm_learns_on_latent_frames():
    torch.manual_seed(0)
    vae = build_vae("tiny").eval()
    data = LatentFrames(vae, MovingShapes(8, frames=2, size=16))
    assert data[0]["latent"].shape == (4, 8, 8) and data[0]["caption"].startswith("a ")
    with pytest.raises(TypeError, match="vae"):
        LatentFrames(None, MovingShapes(2, frames=1))
    ldm = ImageLDM.build("tiny")
    collate = lambda items: dict(latent=torch.stack([i["latent"] for i in items]), caption=[i["caption"] for i in items])
    r = fit(ldm, ldm_loss(), data, TrainConfig(steps=120, batch_size=8, lr=2e-3, warmup=10, ema_decay=None),
            device="cpu", progress=False, collate_fn=collate)
    assert sum(r.history[-20:]) / 20 < 0.7 * sum(r.history[:20]) / 20


def test_diffusion_settings_are_saved_and_loaded(tmp_path):
    torch.manual_seed(0)
    ldm = ImageLDM.build("tiny", DEMO_DIFFUSION)
    ldm.save_pretrained(tmp_path / "v")
    again = ImageLDM.from_pretrained(tmp_path / "v")
    assert again.diffusion == DEMO_DIFFUSION and again.schedule.alphas_cumprod[-1] == 0
    assert (tmp_path / "v" / "scheduler" / "scheduler_config.json").is_file()
    shutil.rmtree(tmp_path / "v" / "scheduler")                        # a folder saved before schedulers were kept
    assert ImageLDM.from_pretrained(tmp_path / "v").diffusion == DiffusionConfig()
    with pytest.raises(TypeError, match="diffusion: expected a DiffusionConfig"):
        ImageLDM(ldm.unet, ldm.text_encoder, "v_prediction")
    kw = sampling_settings(ldm, 4)
    assert kw["prediction_type"] == "v_prediction" and kw["timesteps"].tolist() == [999, 749, 499, 249]
    with pytest.raises(ValueError, match="num_steps"):
        sampling_settings(ldm, 0)


def test_loss_follows_the_prediction_type():
    torch.manual_seed(0)
    eps, v = ImageLDM.build("tiny"), ImageLDM.build("tiny", DEMO_DIFFUSION)
    v.load_state_dict(eps.state_dict())
    batch = dict(latent=torch.randn(3, 4, 8, 8), caption=["a red square", "", "a blue circle"])
    le, lv = (ldm_loss(0.0)(m, batch, torch.Generator().manual_seed(1)) for m in (eps, v))
    assert torch.isfinite(le) and torch.isfinite(lv) and not torch.isclose(le, lv)
