import numpy as np
import pytest
import torch
from scipy import linalg

from videoldm_ref.data import data_samples_dir, load_sample_clip
from videoldm_ref.metrics import frame_features, frechet_distance
from videoldm_ref.video_metrics import (CORRUPTIONS, FEATURE_TASKS, VideoFeatureNet, bootstrap_distance,
                                        compare_distances, corrupt, feature_loss, frechet_video_distance, i3d_features,
                                        load_video_features, save_video_features, scramble, video_distance_parts,
                                        video_features)


@pytest.fixture(scope="module")
def clips():
    video, _ = load_sample_clip("bikes_64x64", max_frames=40)
    return torch.stack([video[:, i:i + 16] for i in range(0, 24, 4)])             # (6, 3, 16, 64, 64)


def test_frame_distance_cannot_see_order_and_the_trained_one_can(clips):
    shuffled = clips[:, :, torch.randperm(16, generator=torch.Generator().manual_seed(0))]
    a, b = clips[:3], clips[3:]
    assert frechet_distance(frame_features(a), frame_features(b)) == pytest.approx(
        frechet_distance(frame_features(a), frame_features(shuffled[3:])), rel=1e-7)    # rows summed in another order
    fa, fb = video_features(clips), video_features(shuffled)
    assert ((fa - fb).norm(dim=1) / fa.norm(dim=1) > 0.05).all()


def test_bootstrap_matches_the_distance_and_shrinks_with_more_videos():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 3)), rng.normal(0.5, 1, size=(400, 3))
    value, se = bootstrap_distance(a, b, n_boot=50)
    assert value == frechet_distance(a, b) and 0 < se < value
    small = bootstrap_distance(a, b, n_boot=50, n=25)[1]
    assert small > 2 * se                                      # 16 times fewer videos: about 4 times the error
    with pytest.raises(ValueError, match="n: expected"):
        bootstrap_distance(a, b, n=1)


def test_frechet_distance_matches_scipy_closed_form():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 4)), rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4))
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * linalg.sqrtm(ca @ cb).real)
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corruptions_keep_shape_and_range_and_vanish_at_zero(clips, kind):
    out = corrupt(clips, kind, 0.5, seed=3)
    assert out.shape == clips.shape and out.min() >= -1 and out.max() <= 1
    assert torch.equal(corrupt(clips, kind, 0.0, seed=3), clips)
    assert torch.equal(out, corrupt(clips, kind, 0.5, seed=3))                    # a function of the seed


def test_temporal_corruptions_keep_the_frames(clips):
    frames = lambda v: sorted(map(tuple, v.transpose(0, 1).flatten(1)[:, ::97].tolist()))
    full = corrupt(clips, "shuffle", 1.0, seed=0)
    assert all(frames(v) == frames(c) for v, c in zip(full, clips)) and not torch.equal(full, clips)
    assert torch.equal(corrupt(clips, "reverse", 1.0), clips.flip(2))
    assert (corrupt(clips, "freeze", 1.0) == clips[:, :, :1]).all()
    drop = corrupt(clips, "drop", 1.0, seed=0)                  # 4 frames replaced by their next one
    same_as_next = (drop[:, :, :-1] == drop[:, :, 1:]).flatten(3).all(3).all(1)
    assert (same_as_next.sum(1) >= 3).all()


@pytest.mark.parametrize("args,match", [(("blur", 1.5), "strength"), (("smear", 0.5), "kind")])
def test_corrupt_bad_input(clips, args, match):
    with pytest.raises(ValueError, match=match):
        corrupt(clips, *args)


@pytest.mark.parametrize("make,match", [
    (lambda v: v[:1], "videos_a: expected at least 2 videos"),
    (lambda v: v.transpose(1, 2), "videos_a: expected 3 channels"),
    (lambda v: v * 255, r"videos_a: expected values in \[-1, 1\]"),
    (lambda v: v.masked_fill(v > 0.9, float("nan")), "videos_a: contains NaN"),
    (lambda v: v[:, :, :8], "videos_a: expected videos of at least 16 frames")])
def test_frechet_video_distance_bad_input(clips, make, match):
    with pytest.raises(ValueError, match=match):
        frechet_video_distance(make(clips), clips, network="trained")
    with pytest.raises(ValueError, match="network"):
        frechet_video_distance(clips, clips, network="inception")


def test_frechet_video_distance_of_a_set_with_itself_is_zero(clips):
    assert abs(frechet_video_distance(clips, clips, network="trained")) < 1e-4     # features of size ~10


def test_scramble_labels_what_it_did(clips):
    out, order = scramble(clips.repeat(4, 1, 1, 1, 1), torch.Generator().manual_seed(0))
    src = clips.repeat(4, 1, 1, 1, 1)
    assert set(order.tolist()) == {0, 1, 2}
    for v, s, o in zip(out, src, order.tolist()):
        if o == 0:
            assert torch.equal(v, s)
        elif o == 1:
            assert not torch.equal(v, s)
        else:
            assert torch.equal(v[:, -1], v[:, -4]) and not torch.equal(v, s)


def test_feature_loss_trains_every_head():
    model = VideoFeatureNet()
    batch = dict(video=torch.rand(4, 3, 16, 64, 64) * 2 - 1, source=torch.tensor([0, 0, 1, 2]),
                 color=torch.tensor([1, 2, -1, -1]), shape=torch.tensor([0, 1, -1, -1]),
                 direction=torch.tensor([0, 3, -1, -1]), speed=torch.tensor([0, 2, -1, -1]),
                 motion=torch.tensor([-1, -1, 4, -1]))
    feature_loss(model, batch, torch.Generator().manual_seed(1)).backward()
    assert all(model.heads[k].weight.grad is not None for k in ("source", "order", "color", "shape"))


def test_shipped_feature_network_round_trip(tmp_path, clips):
    path = data_samples_dir() / "checkpoints" / "video_features" / "video_features.safetensors"
    assert path.stat().st_size < 3e6
    model = load_video_features()
    save_video_features(model, tmp_path / "video_features.safetensors")
    again = load_video_features(tmp_path)
    assert torch.equal(video_features(clips, model=model), video_features(clips, model=again))
    assert set(FEATURE_TASKS) == set(model.heads)
    with pytest.raises(FileNotFoundError, match="path: no video feature network"):
        load_video_features(tmp_path / "missing")


def test_parts_are_disjoint_halves():
    parts = video_distance_parts(4)
    for name, (a, b) in parts.items():
        assert a.shape[1:] == (3, 16, 64, 64) and len(a) == len(b) == 4
        assert not any(torch.equal(x, y) for x in a for y in b), name


def test_compare_distances_gaps_and_their_errors():
    rng = np.random.default_rng(2)
    ref = rng.normal(size=(200, 3))
    near, far = ref + 0.1 * rng.normal(size=(200, 3)), ref + 0.5 * rng.normal(size=(200, 3))
    table = compare_distances(ref, {"near": near, "far": far, "near again": near}, paired=True, n_boot=50)
    assert table["near"]["gap"] == (0.0, 0.0) and table["near again"]["gap"][0] == 0.0
    assert table["far"]["fd"][0] == pytest.approx(frechet_distance(ref, far))
    assert table["far"]["gap"][0] > 2 * table["far"]["gap"][1] > 0
    with pytest.raises(ValueError, match="candidates: paired sets need 200 rows"):
        compare_distances(ref, {"short": near[:100]}, paired=True)
    with pytest.raises(ValueError, match="candidates: expected at least one"):
        compare_distances(ref, {})


def test_i3d_features_bad_input(clips):
    "Checked before I3D is loaded or run."
    with pytest.raises(ValueError, match="videos: expected videos of at least 16 frames"):
        i3d_features(clips[:, :, :12])
    with pytest.raises(ValueError, match="features"):
        i3d_features(clips, features="penultimate")
    with pytest.raises(ValueError, match="frames"):
        i3d_features(clips, frames=4)
