import pytest
import torch

from videoldm_ref.autoencoder import build_vae, downsampling_factor, load_autoencoder
from videoldm_ref.image_ldm import ImageLDM
from videoldm_ref.keyframes import (LatentClips, VideoLDM, keyframe_clips, load_keyframes, sample_video,
                                    video_ldm_loss)
from videoldm_ref.metrics import temporal_consistency


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    image = ImageLDM.build("tiny").eval()
    return image, VideoLDM.from_image_ldm(image).eval()


def test_starts_as_the_image_ldm_and_trains_only_temporal_layers(tiny):
    image, video = tiny
    x, t = torch.randn(2, 4, 3, 8, 8), torch.tensor([5, 900])
    caps = ["a red circle", "a blue square"]
    with torch.no_grad():
        ref = torch.stack([image(x[:, :, f], t, caps) for f in range(3)], 2)
        assert (video(x, t, caps) - ref).abs().max() <= 1e-5
    trainable = [n for n, p in video.named_parameters() if p.requires_grad]
    assert trainable and all(n.startswith("unet.") and (".temporal." in n or ".blend." in n) for n in trainable)
    # the image LDM's own weights are copied, not shared: training the video model cannot change it
    assert all(a.data_ptr() != b.data_ptr() for a, b in zip(video.unet.spatial_state_dict().values(),
                                                             image.unet.state_dict().values()))


def test_loss_reaches_only_temporal_parameters(tiny):
    _, video = tiny
    video.train()
    batch = dict(latent=torch.randn(2, 4, 3, 8, 8), caption=["a red circle", ""])
    loss = video_ldm_loss()(video, batch, torch.Generator().manual_seed(0))
    loss.backward()
    assert all((p.grad is not None) == p.requires_grad for p in video.parameters())
    video.zero_grad(set_to_none=True)
    video.eval()


def test_sampling_shapes_seeds_and_image_only_at_init(tiny):
    _, video = tiny
    vae = build_vae("tiny").eval()
    a = sample_video(video, vae, ["a red circle"], frames=3, num_steps=3, generator=0, latent_size=8)
    b = sample_video(video, vae, ["a red circle"], frames=3, num_steps=3, generator=0, latent_size=8, image_only=True)
    f = downsampling_factor(vae)
    assert a.shape == (1, 3, 3, 8 * f, 8 * f)
    assert torch.allclose(a, b, atol=1e-5)                              # temporal layers start as the identity
    assert torch.equal(a, sample_video(video, vae, ["a red circle"], frames=3, num_steps=3, generator=0,
                                       latent_size=8))
    with pytest.raises(TypeError, match="captions"):
        sample_video(video, vae, "a red circle")
    with pytest.raises(ValueError, match="captions"):
        video(torch.randn(2, 4, 3, 8, 8), torch.tensor([1, 2]), ["one caption"])


def test_save_and_load_temporal_round_trip(tiny, tmp_path):
    image, video = tiny
    with torch.no_grad():
        for p in video.unet.temporal_parameters():
            p.add_(0.02 * torch.randn_like(p))
    video.save_temporal(tmp_path / "kf")
    again = VideoLDM.from_temporal(tmp_path / "kf", image)
    x, t = torch.randn(1, 4, 3, 8, 8), torch.tensor([300])
    with torch.no_grad():
        assert torch.equal(again(x, t, ["a red circle"]), video(x, t, ["a red circle"]))
    with pytest.raises(FileNotFoundError, match="path"):
        VideoLDM.from_temporal(tmp_path / "missing", image)


def test_clips_splits_and_latents():
    train, held = keyframe_clips("train", n_synthetic=4), keyframe_clips("heldout", n_synthetic=40)
    assert train[0]["video"].shape == (3, 8, 64, 64) and train[0]["caption"]
    real = train.datasets[1]
    assert len(real) > 20 and all(real[i]["caption"] == "" for i in range(3))
    assert not torch.equal(train[0]["video"], held[0]["video"])
    latents = LatentClips(load_autoencoder(), torch.utils.data.Subset(train, [0, 5]))
    assert latents[0]["latent"].shape == (4, 8, 16, 16) and len(latents) == 2
    with pytest.raises(ValueError, match="split"):
        keyframe_clips("test")
    with pytest.raises(TypeError, match="vae"):
        LatentClips(None, train)


def test_shipped_keyframe_model_makes_coherent_videos():
    ldm, vae = load_keyframes(), load_autoencoder()
    caps = ["a red circle moving right", "a white triangle moving down"]
    before = sample_video(ldm, vae, caps, image_only=True, generator=3, num_steps=15)
    after = sample_video(ldm, vae, caps, generator=3, num_steps=15)
    assert temporal_consistency(after) < 0.5 * temporal_consistency(before)
