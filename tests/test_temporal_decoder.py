import pytest
import torch
from torch.func import functional_call

from videoldm_ref.autoencoder import build_vae, decode_video, load_autoencoder
from videoldm_ref.data import MovingShapes
from videoldm_ref.temporal_decoder import (DecoderGAN, EncodedClips, TemporalDecoder, VideoDiscriminator,
                                           adaptive_weight, clip_features, decode_video_temporal, decoder_clips,
                                           load_temporal_decoder, temporal_decoder_loss, train_temporal_decoder)
from videoldm_ref.train import TrainConfig


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    vae = build_vae("tiny").eval()
    return vae, TemporalDecoder.from_autoencoder(vae).eval()


def perturb(decoder, std=0.1):
    with torch.no_grad():
        for p in decoder.new_parameters():
            p.add_(std * torch.randn_like(p))


def test_starts_as_the_image_decoder_and_alpha_one_stays_it(tiny):
    vae, decoder = tiny
    z = torch.randn(2, 4, 5, 8, 8)
    with torch.no_grad():
        ref = decode_video(vae, z, chunk_size=100)
        assert (decoder(z).clamp(-1, 1) - ref).abs().max() <= 1e-5
        perturb(decoder)
        assert (decoder(z).clamp(-1, 1) - ref).abs().max() > 1e-3
        ones = torch.ones(2, 5, dtype=torch.bool)
        assert (decoder(z, ones).clamp(-1, 1) - ref).abs().max() <= 1e-5


def test_image_weights_load_strictly_and_encoder_keys_are_ignored(tiny):
    vae, decoder = tiny
    sd = vae.state_dict()
    assert any(k.startswith("encoder.") for k in sd)
    decoder.load_image_decoder(sd)
    broken = {k: v for k, v in sd.items() if k != "decoder.conv_out.weight"}
    with pytest.raises(ValueError, match="missing"):
        decoder.load_image_decoder(broken)
    with pytest.raises(TypeError, match="vae"):
        TemporalDecoder.from_autoencoder(torch.nn.Linear(1, 1))


@pytest.mark.parametrize("t,chunk", [(30, 4), (13, 16), (29, 7)])
def test_chunked_decoding_equals_whole_video(tiny, t, chunk):
    _, decoder = tiny
    perturb(decoder)
    z = torch.randn(2, 4, t, 8, 8)
    with torch.no_grad():
        whole = decoder(z).clamp(-1, 1)
    assert (decode_video_temporal(decoder, z, chunk_size=chunk) - whole).abs().max() < 1e-5
    # too little overlap: no longer equal, and refused
    with pytest.raises(ValueError, match="overlap"):
        decode_video_temporal(decoder, z, chunk_size=chunk, overlap=decoder.temporal_radius - 1)


def test_chunks_bound_the_decoder_batch(tiny):
    _, decoder = tiny
    seen = []
    handle = decoder.decoder.register_forward_pre_hook(lambda m, a: seen.append(a[0].shape[0]))
    decode_video_temporal(decoder, torch.randn(1, 4, 64, 8, 8), chunk_size=4)
    handle.remove()
    assert max(seen) == 4 + 2 * decoder.temporal_radius


def test_bad_latents(tiny):
    _, decoder = tiny
    with pytest.raises(ValueError, match="latents"):
        decoder(torch.randn(1, 3, 2, 8, 8))
    with pytest.raises(ValueError, match="latents"):
        decode_video_temporal(decoder, torch.randn(1, 3, 2, 8, 8))
    with pytest.raises(ValueError, match="chunk_size"):
        decode_video_temporal(decoder, torch.randn(1, 4, 2, 8, 8), chunk_size=0)


def test_save_load_round_trip(tiny, tmp_path):
    _, decoder = tiny
    perturb(decoder)
    decoder.save_pretrained(tmp_path)
    loaded = TemporalDecoder.from_pretrained(tmp_path, low_cpu_mem_usage=False).eval()
    z = torch.randn(1, 4, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(loaded(z), decoder(z))


def test_discriminator_judges_patches_of_clips():
    d = VideoDiscriminator(8, 3)
    out = d(torch.randn(2, 3, 6, 32, 32))
    assert out.shape == (2, 1, 6, 4, 4)
    # a change in one frame reaches only nearby frames' logits: it looks at short clips, not single frames
    x = torch.randn(1, 3, 12, 32, 32)
    x2 = x.clone()
    x2[:, :, 0] += 1
    with torch.no_grad():
        diff = (d(x2) - d(x)).abs().flatten(3).amax(-1)[0, 0]
    assert diff[1] > 0 and diff[-1] == 0


def test_image_discriminator_judges_frames_alone():
    d = VideoDiscriminator(8, 3, time_kernel=1)
    x = torch.randn(1, 3, 6, 32, 32)
    x2 = x.clone()
    x2[:, :, 2] += 1
    with torch.no_grad():
        changed = (d(x2) - d(x)).abs().flatten(3).amax(-1)[0, 0] > 0
    assert changed.tolist() == [False, False, True, False, False, False]
    with pytest.raises(ValueError, match="time_kernel"):
        VideoDiscriminator(time_kernel=2)
    with pytest.raises(ValueError, match="channels"):
        VideoDiscriminator(channels=0)


def test_loss_trains_both_discriminators(tiny):
    vae, decoder = tiny
    gan = DecoderGAN(decoder.train(), VideoDiscriminator(8, 2), VideoDiscriminator(8, 2, time_kernel=1))
    assert len(gan.discriminators) == 2
    with pytest.raises(TypeError, match="decoder"):
        DecoderGAN(vae, VideoDiscriminator(8, 2))
    with pytest.raises(TypeError, match="^discriminator"):
        DecoderGAN(decoder, None)
    with pytest.raises(TypeError, match="image_discriminator"):
        DecoderGAN(decoder, VideoDiscriminator(8, 2), torch.nn.Linear(1, 1))
    with pytest.raises(TypeError, match="image_discriminator"):
        train_temporal_decoder("unused", image_discriminator="yes")
    with pytest.raises(TypeError, match="clips"):
        train_temporal_decoder("unused", clips=[torch.zeros(3, 4, 16, 16)])
    batch = dict(video=torch.rand(2, 3, 4, 16, 16) * 2 - 1, latent=torch.randn(2, 4, 4, 8, 8))
    temporal_decoder_loss(crop=None)(gan, batch, None).backward()
    for d in gan.discriminators:  # (the last bias gets +1 and -1 from the two hinge terms: zero, rightly)
        assert all(p.grad is not None and p.grad.abs().max() > 0 for n, p in d.named_parameters() if "weight" in n)


def test_adaptive_weight_and_gradient_routing(tiny):
    vae, decoder = tiny
    gan = DecoderGAN(decoder.train(), VideoDiscriminator(8, 2))
    w = torch.nn.Parameter(torch.ones(3))
    assert adaptive_weight((2 * w).sum(), (4 * w).sum(), w).item() == pytest.approx(0.5, rel=1e-3)
    batch = dict(video=torch.rand(2, 3, 4, 16, 16) * 2 - 1, latent=torch.randn(2, 4, 4, 8, 8))
    temporal_decoder_loss(crop=4)(gan, batch, torch.Generator().manual_seed(0)).backward()
    assert all(p.grad is not None for p in gan.parameters())
    gan.zero_grad(set_to_none=True)
    rec = gan.decoder(batch["latent"])
    frozen = {k: v.detach() for k, v in gan.discriminator.named_parameters()}
    (-functional_call(gan.discriminator, frozen, (rec,)).mean()).backward()
    assert all(p.grad is None for p in gan.discriminator.parameters())


def test_clip_features_and_data_splits():
    v = torch.rand(3, 3, 5, 16, 16) * 2 - 1
    f = clip_features(v)
    assert f.shape[0] == 3 and torch.equal(clip_features(v[:, :, :, :, :]), f)
    still = v[:, :, :1].expand(-1, -1, 5, -1, -1)
    assert clip_features(still)[:, f.shape[1] // 2:].abs().max() < 1e-6  # a still clip: zero motion features
    train, held = decoder_clips("train", n_synthetic=2), decoder_clips("heldout")
    assert train[0]["video"].shape == (3, 8, 64, 64) and len(held) >= 10
    real_only = decoder_clips("train", n_synthetic=0)
    assert len(train) == len(real_only) + 4 and len(real_only.datasets) == 1
    dense = decoder_clips("heldout", step=1)          # every window of the held-out frames; every 8th is a held-out clip
    assert len(dense) > 7 * len(held) and torch.equal(dense[8]["video"], held[1]["video"])
    with pytest.raises(ValueError, match="step"):
        decoder_clips("heldout", step=0)
    with pytest.raises(ValueError, match="split"):
        decoder_clips("valid")
    with pytest.raises(ValueError, match="n_synthetic"):
        decoder_clips("train", n_synthetic=-1)
    for bad in (dict(diff_weight=-1.0), dict(disc_weight=-0.1), dict(crop=0)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            temporal_decoder_loss(**bad)
    with pytest.raises(TypeError, match="vae"):
        EncodedClips(None, held)


def test_a_decoder_of_a_loaded_autoencoder_saves(tmp_path):
    decoder = TemporalDecoder.from_autoencoder(load_autoencoder())      # its config names the folder it came from
    decoder.save_pretrained(tmp_path)
    assert TemporalDecoder.from_pretrained(tmp_path, low_cpu_mem_usage=False).temporal_radius == decoder.temporal_radius


def test_train_on_given_clips_saves_a_loadable_decoder(tmp_path):
    torch.manual_seed(0)
    vae = build_vae("tiny").eval()
    cfg = TrainConfig(steps=2, batch_size=2, lr=1e-3, warmup=1, ema_decay=None, ckpt_every=1)
    clips = MovingShapes(4, frames=4, size=32, seed=0)
    decoder, result = train_temporal_decoder(tmp_path / "dec", vae=vae, config=cfg, clips=clips, progress=False)
    assert len(result.history) == 2 and torch.isfinite(torch.tensor(result.history)).all()
    assert decoder.out_temporal.weight.abs().max() > 0                      # the zero-initialised conv has moved
    z = torch.randn(1, vae.config.latent_channels, 4, 8, 8)
    with torch.no_grad():
        assert torch.equal(load_temporal_decoder(tmp_path / "dec")(z), decoder(z))
