import pytest
import torch

from videoldm_ref.diffusion import NoiseSchedule
from videoldm_ref.toy1d import (MODES, ScalarDenoiser, TemporalAttention1D, ToyVideoModel, sample_toy, toy_metrics,
                                toy_values, toy_videos)


def test_data_marginal_and_coherence():
    g = torch.Generator().manual_seed(0)
    v = toy_values(30000, generator=g)
    nearest = torch.tensor(MODES)[(v[:, None] - torch.tensor(MODES)).abs().argmin(1)]
    assert (v - nearest).std() == pytest.approx(0.2, rel=0.05)
    videos = toy_videos(500, 8, generator=g)
    assert videos.shape == (500, 8) and videos.std(1).mean() < 0.05
    with pytest.raises(ValueError, match="frames"):
        toy_videos(2, 0)


def test_video_model_starts_as_the_image_model_and_alpha_one_is_exact():
    torch.manual_seed(0)
    image = ScalarDenoiser(hidden=32)
    video = ToyVideoModel(image)
    x, t = torch.randn(3, 5), torch.randint(0, 200, (3,))
    with torch.no_grad():
        ref = image(x.reshape(-1), t.repeat_interleave(5)).view(3, 5)
        assert torch.equal(video(x, t), ref)
        for blk in video.temporal:                                      # perturb the temporal layers
            for p in blk.parameters():
                p.add_(0.1 * torch.randn_like(p))
        assert not torch.allclose(video(x, t), ref)
        assert torch.equal(video(x, t, torch.ones(3, 5, dtype=torch.bool)), ref)


def test_only_temporal_parameters_train():
    video = ToyVideoModel(ScalarDenoiser(hidden=32))
    trainable = {n for n, p in video.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("temporal.") or n == "mix" for n in trainable)


def test_temporal_attention_mixes_frames_only_within_a_video():
    torch.manual_seed(0)
    layer = TemporalAttention1D(16)
    for p in layer.parameters():
        torch.nn.init.normal_(p, std=0.3)
    h, t_emb = torch.randn(2 * 4, 16), torch.randn(2 * 4, 32)
    out = layer(h, 4, t_emb)
    h2 = h.clone()
    h2[5] += 1.0                                                        # a frame of the second video
    out2 = layer(h2, 4, t_emb)
    assert torch.equal(out[:4], out2[:4]) and not torch.allclose(out[4:], out2[4:])
    with pytest.raises(ValueError, match="heads"):
        TemporalAttention1D(10, heads=4)


def test_sampling_is_seeded_and_metrics_are_closed_form():
    model = ToyVideoModel(ScalarDenoiser(hidden=16))
    sched = NoiseSchedule("cosine", num_steps=20)
    a, traj = sample_toy(model, sched, 4, 6, seed=3, record=True)
    assert a.shape == (4, 6) and traj.shape == (21, 4, 6) and torch.equal(traj[-1], a)
    assert torch.equal(a, sample_toy(model, sched, 4, 6, seed=3))
    ref = torch.tensor([0.0, 1.0] * 500)
    m = toy_metrics(torch.tensor([[0.0, 0.0], [1.0, 1.0]]).repeat(250, 1), ref)
    assert m["w1"] == pytest.approx(0.0, abs=1e-9) and m["spread"] == 0.0
    with pytest.raises(ValueError, match="num_videos"):
        sample_toy(model, sched, 0)
    with pytest.raises(ValueError, match="samples"):
        toy_metrics(torch.zeros(3), ref)
