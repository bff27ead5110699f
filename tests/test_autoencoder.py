import pytest
import torch
from diffusers import AutoencoderKL

from videoldm_ref.autoencoder import (VAE_CONFIGS, autoencoder_frames, autoencoder_loss, build_vae, count_parameters, decode_video,
                                      downsampling_factor, encode_video, largest_decoder_batch, load_autoencoder,
                                      save_pretrained_atomic)
from videoldm_ref.metrics import psnr


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return build_vae("tiny").eval()


def test_named_configs_and_paper_sizes():
    sizes = {}
    for name in VAE_CONFIGS:
        with torch.device("meta"):
            vae = build_vae(name)
        sizes[name] = (downsampling_factor(vae), count_parameters(vae))
    assert sizes["sd"][0] == 8 and 83e6 < sizes["sd"][1] < 85e6
    assert sizes["sd_x4_upscaler"][0] == 4 and sizes["demo"][0] == 4 and sizes["tiny"][0] == 2
    with pytest.raises(ValueError, match="name: expected one of"):
        build_vae("sdxl")


def test_video_encode_decode_equals_framewise_diffusers(tiny):
    video = torch.rand(2, 3, 5, 16, 16) * 2 - 1
    z = encode_video(tiny, video, chunk_size=2)
    assert z.shape == (2, 4, 5, 8, 8)
    frames = video[1].transpose(0, 1)
    ref = tiny.encode(frames).latent_dist.mode() * tiny.config.scaling_factor
    assert torch.allclose(z[1].transpose(0, 1), ref, atol=1e-5)
    out = decode_video(tiny, z, chunk_size=3)
    ref_dec = tiny.decode(ref / tiny.config.scaling_factor).sample.clamp(-1, 1)
    assert torch.allclose(out[1].transpose(0, 1), ref_dec, atol=1e-5)


def test_chunks_never_straddle_videos_and_bound_memory(tiny):
    seen = []
    h = tiny.decoder.register_forward_pre_hook(lambda m, a: seen.append(a[0].shape[0]))
    decode_video(tiny, torch.randn(3, 4, 5, 4, 4), chunk_size=4)
    h.remove()
    assert seen == [4, 1, 4, 1, 4, 1]                                  # 5 frames of each video: 4 + 1, never 4 + 4
    for t in (4, 40):
        assert largest_decoder_batch(tiny, torch.randn(1, 4, t, 4, 4), chunk_size=4) == 4


def test_sampled_latents_are_seeded(tiny):
    v = torch.rand(1, 3, 2, 16, 16) * 2 - 1
    a = encode_video(tiny, v, sample=True, generator=torch.Generator().manual_seed(1))
    b = encode_video(tiny, v, sample=True, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.allclose(a, encode_video(tiny, v))


def test_loss_settings_are_checked():
    with pytest.raises(ValueError, match="kl_weight"):
        autoencoder_loss(kl_weight=-1)
    with pytest.raises(ValueError, match="crop"):
        autoencoder_loss(crop=0)


def test_bad_inputs(tiny):
    with pytest.raises(ValueError, match="video: expected 3 channels"):
        encode_video(tiny, torch.zeros(1, 4, 2, 16, 16))
    with pytest.raises(ValueError, match="divisible"):
        encode_video(tiny, torch.zeros(1, 3, 2, 15, 16))
    with pytest.raises(ValueError, match="latents: expected 4 channels"):
        decode_video(tiny, torch.zeros(1, 3, 2, 8, 8))
    with pytest.raises(ValueError, match="by mistake"):
        decode_video(tiny, torch.zeros(1, 2, 4, 8, 8))
    with pytest.raises(ValueError, match="chunk_size"):
        decode_video(tiny, torch.zeros(1, 4, 2, 8, 8), chunk_size=0)


def test_save_load_round_trip_is_atomic(tiny, tmp_path):
    out = save_pretrained_atomic(tiny, tmp_path / "vae")
    assert save_pretrained_atomic(tiny, tmp_path / "vae") == out          # replacing an existing one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vae"]
    loaded = AutoencoderKL.from_pretrained(out).eval()
    x = torch.rand(1, 3, 1, 16, 16) * 2 - 1
    assert torch.equal(encode_video(loaded, x), encode_video(tiny, x))
    assert (out / "diffusion_pytorch_model.safetensors").exists() and not list(out.glob("*.bin"))


def test_saving_in_fp16_leaves_the_model_as_it_was(tiny, tmp_path):
    from safetensors.torch import load_file
    before = {k: v.clone() for k, v in tiny.state_dict().items()}
    out = save_pretrained_atomic(tiny, tmp_path / "half", dtype=torch.float16)
    stored = load_file(out / "diffusion_pytorch_model.safetensors")
    assert {v.dtype for v in stored.values()} == {torch.float16}
    assert all(torch.equal(tiny.state_dict()[k], v) for k, v in before.items())      # still float32, untouched
    back = load_autoencoder(out)
    assert next(back.parameters()).dtype == torch.float32
    again = save_pretrained_atomic(back, tmp_path / "again")              # a loaded model keeps no trace of where from
    assert "_name_or_path" not in (again / "config.json").read_text()
    assert all(torch.equal(back.state_dict()[k], v.half().float()) for k, v in before.items())
    with pytest.raises(TypeError, match="dtype"):
        save_pretrained_atomic(tiny, tmp_path / "x", dtype="half")


def test_heldout_frames_are_not_training_frames():
    train, held = autoencoder_frames("train", n_synthetic=4), autoencoder_frames("heldout", n_synthetic=4)
    a = torch.stack([train.datasets[0][i]["image"] for i in range(0, len(train.datasets[0]), 7)])
    b = torch.stack([held.datasets[0][i]["image"] for i in range(0, len(held.datasets[0]), 3)])
    assert torch.cdist(a.flatten(1), b.flatten(1)).min() > 0


def test_shipped_autoencoder_reconstructs_heldout_frames():
    vae = load_autoencoder()
    held = autoencoder_frames("heldout", n_synthetic=20)
    frames = torch.stack([held[i]["image"] for i in range(0, len(held), 4)])
    rec = decode_video(vae, encode_video(vae, frames.transpose(0, 1).unsqueeze(0)))[0].transpose(0, 1)
    assert psnr(rec, frames) > 24


def test_the_loss_crops_wide_frames_whole_and_square_ones_as_trained():
    "A 64x128 frame gives full 32x32 crops from anywhere on it; a square one the draw the shipped model was trained with."
    seen = []

    class Stub:
        def encode(self, x):
            seen.append(x.clone())
            raise StopIteration

    loss = autoencoder_loss(crop=32)
    wide = torch.arange(64 * 128, dtype=torch.float32).view(1, 1, 64, 128).expand(1, 3, 64, 128)
    for seed in range(40):
        with pytest.raises(StopIteration):
            loss(Stub(), dict(image=wide), torch.Generator().manual_seed(seed))
    assert all(x.shape == (1, 3, 32, 32) for x in seen)
    corners = {(int(x[0, 0, 0, 0]) // 128, int(x[0, 0, 0, 0]) % 128) for x in seen}
    assert max(y for y, _ in corners) > 16 and max(x for _, x in corners) > 64       # both ranges are used
    square = torch.arange(64 * 64, dtype=torch.float32).view(1, 1, 64, 64).expand(1, 3, 64, 64)
    with pytest.raises(StopIteration):
        loss(Stub(), dict(image=square), torch.Generator().manual_seed(3))
    y0, x0 = torch.randint(0, 33, (2,), generator=torch.Generator().manual_seed(3)).tolist()   # one draw of two, as before
    assert seen[-1].shape == (1, 3, 32, 32) and int(seen[-1][0, 0, 0, 0]) == y0 * 64 + x0
    with pytest.raises(ValueError, match="crop: 48 pixels is larger than the 40x128"):
        autoencoder_loss(crop=48)(Stub(), dict(image=torch.zeros(1, 3, 40, 128)), torch.Generator())
