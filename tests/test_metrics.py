import numpy as np
import pytest
import torch
from scipy import linalg
from skimage.metrics import peak_signal_noise_ratio

from videoldm_ref.data import load_sample_clip
from videoldm_ref.metrics import flicker, frame_features, frechet_distance, psnr, temporal_consistency


@pytest.fixture(scope="module")
def clip():
    return load_sample_clip("bikes_64x64", max_frames=24)[0]


def noisy(v, sigma=0.1, seed=0):
    return (v + sigma * torch.randn(v.shape, generator=torch.Generator().manual_seed(seed))).clamp(-1, 1)


def test_psnr_matches_scikit_image(clip):
    n = noisy(clip)
    ref = peak_signal_noise_ratio(((clip + 1) / 2).numpy(), ((n + 1) / 2).numpy(), data_range=1.0)
    assert psnr(n, clip).item() == pytest.approx(ref, abs=1e-3)


def test_psnr_per_video_and_closed_form():
    a = torch.zeros(2, 3, 2, 4, 4)
    b = a.clone()
    b[0] += 0.2                                                         # MSE 0.04 -> 10 log10(4 / 0.04) = 20 dB
    per = psnr(b, a, reduction="none")
    assert per.shape == (2,) and per[0].item() == pytest.approx(20, abs=1e-4) and per[1].isinf()
    with pytest.raises(ValueError, match="target: expected the shape"):
        psnr(a, a[:1])
    with pytest.raises(ValueError, match="reduction"):
        psnr(a, a, reduction="sum")


def test_noise_flickers_more_than_the_clean_clip(clip):
    n = noisy(clip, 0.08)
    assert temporal_consistency(n) > 2 * temporal_consistency(clip)
    assert flicker(n, clip) > 0.05
    assert flicker(clip, clip) == 0


def test_flicker_ignores_errors_constant_in_time(clip):
    assert flicker((clip * 0.5 + 0.2), clip * 0.5) < 1e-6
    assert psnr(clip * 0.5 + 0.2, clip * 0.5) < 30                      # while PSNR sees the error


def test_temporal_consistency_closed_form():
    v = torch.arange(4.0).view(1, 4, 1, 1).expand(2, 4, 3, 3) * 0.1   # each frame 0.1 brighter
    assert temporal_consistency(v).item() == pytest.approx(0.1)
    batch = torch.stack([v, v * 2])
    assert torch.allclose(temporal_consistency(batch, reduction="none"), torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="at least 2 frames"):
        temporal_consistency(v[:, :1])
    with pytest.raises(ValueError, match="video: expected a video"):
        temporal_consistency(v[0])


def scipy_fd(a, b):
    mu_a, mu_b, ca, cb = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca + cb - 2 * linalg.sqrtm(ca @ cb).real))


@pytest.mark.parametrize("seed, dim", [(0, 8), (1, 32), (2, 64)])
def test_frechet_distance_matches_scipy_sqrtm(seed, dim):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((400, dim)) @ rng.standard_normal((dim, dim))
    b = rng.standard_normal((300, dim)) @ rng.standard_normal((dim, dim)) * 0.7 + rng.standard_normal(dim)
    ours, ref = frechet_distance(a, b), scipy_fd(a, b)
    assert abs(ours - ref) / abs(ref) <= 1e-4
    assert frechet_distance(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(ours)


def test_frechet_distance_closed_form_and_symmetry():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20000, 2))
    b = a * 2 + 1                                                       # N(1, 4 I) against N(0, I)
    # |mu|^2 = 2; tr(I + 4I - 2 * 2I) = 2 * 1 = 2  ->  4
    assert frechet_distance(a, b) == pytest.approx(4.0, rel=2e-2)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)
    assert abs(frechet_distance(a, a)) < 1e-8


def test_frechet_distance_bad_inputs():
    with pytest.raises(ValueError, match="feats_b: expected 3 features"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="feats_a: expected features"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(TypeError, match="feats_a"):
        frechet_distance([[1, 2]], np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((3, 2), np.nan), np.zeros((5, 2)))


def test_frame_features_tell_the_clips_apart(clip):
    other = load_sample_clip("bigbuckbunny_64x64", max_frames=24)[0]
    fa, fb = frame_features(clip.unsqueeze(0)), frame_features(other.unsqueeze(0))
    assert fa.shape == (24, 60)
    assert torch.equal(fa, frame_features(clip.transpose(0, 1)))       # videos or a batch of frames
    assert frechet_distance(fa[:12], fa[12:]) < frechet_distance(fa, fb)
    with pytest.raises(ValueError, match="frames: expected 4 or 5 dimensions"):
        frame_features(clip[0])


# --- the motion yardstick -------------------------------------------------------------------------------------------
from videoldm_ref.data import COLORS, MovingShapes
from videoldm_ref.metrics import MOTION_CHECKS, color_objects, tell_shape, motion_check, motion_pass_rate, parse_caption


@pytest.fixture(scope="module")
def shapes():
    data = MovingShapes(24, frames=8, seed=77)
    items = [data[i] for i in range(len(data))]
    return torch.stack([it["video"] for it in items]), [it["caption"] for it in items]


def test_yardstick_passes_every_data_clip(shapes):
    videos, captions = shapes
    r = motion_pass_rate(videos, captions)
    assert r["passed"] == 1.0 and all(r[k] == 1.0 for k in MOTION_CHECKS) and len(r["checks"]) == len(videos)
    assert all(0.15 <= m.travel <= 1 for m in r["checks"])


@pytest.mark.parametrize("break_it, failing", [
    (lambda v: v.flip(1), "direction"),                                  # played backwards
    (lambda v: torch.cat([v[:, :4], v[:, 3:-1]], 1), "smooth"),          # a frame shown twice
    (lambda v: v[:, [0, 1, 2, 3, 5, 4, 6, 7]], "smooth"),                # two frames swapped
    (lambda v: torch.cat([v[:, :3], v[:, 3:4, :2, :2].mean((2, 3), keepdim=True).expand(-1, -1, 64, 64),
                          v[:, 4:]], 1), "one_object"),                  # the object erased from a frame
    (lambda v: (v + torch.linspace(0, 0.3, 8).view(1, 8, 1, 1)).clamp(-1, 1), "background"),  # the scene brightens
])
def test_yardstick_fails_broken_clips(shapes, break_it, failing):
    videos, captions = shapes
    checks = [motion_check(break_it(v), c) for v, c in zip(videos, captions)]
    assert not any(m.passed for m in checks) and not any(getattr(m, failing) for m in checks)


def test_yardstick_sees_a_second_object_and_the_wrong_shape(shapes):
    videos, captions = shapes
    v, cap = videos[0].clone(), captions[0]
    color, shape, direction = parse_caption(cap)
    labels, areas = color_objects(v[:, 0], color)
    assert len(areas) == 1 and labels.max() == 1
    rolled = v.roll((32, 32), dims=(2, 3))                              # the same object, half a frame away
    is_obj = ((rolled - torch.tensor(COLORS[color]).view(3, 1, 1, 1)) ** 2).sum(0) < 0.36
    twice = torch.where(is_obj, rolled, v)
    assert max(motion_check(twice, cap).counts) >= 2 and not motion_check(twice, cap).one_object
    other = next(s for s in ("square", "circle", "triangle") if s != shape)
    assert not motion_check(v, cap.replace(shape, other)).shape
    square = -torch.ones(1, 20, 20).numpy()[0] < 0
    square[:5], square[-5:], square[:, :5], square[:, -5:] = False, False, False, False
    assert tell_shape(square) == "square" and tell_shape(np.ones((8, 8), bool)) is None   # touching the edge: not told


def test_yardstick_rejects_bad_input(shapes):
    videos, captions = shapes
    v = videos[0]
    for bad, match in [("a pink circle moving up", "caption: unknown colour"), ("a red circle moving sideways",
                       "caption: unknown direction"), ("zoom in on a cat", "caption: expected 'a COLOR"),
                       ("a red hexagon moving up", "caption: unknown shape")]:
        with pytest.raises(ValueError, match=match):
            motion_check(v, bad)
    with pytest.raises(TypeError, match="caption"):
        motion_check(v, 3)
    with pytest.raises(ValueError, match="video: expected a video"):
        motion_check(v[:, 0], captions[0])
    with pytest.raises(ValueError, match="video: expected values in"):
        motion_check((v + 1) * 127.5, captions[0])
    with pytest.raises(ValueError, match="video: expected 3 channels"):
        motion_check(v[:1], captions[0])
    with pytest.raises(ValueError, match="video: expected at least 3 frames"):
        motion_check(v[:, :2], captions[0])
    with pytest.raises(ValueError, match="min_travel"):
        motion_check(v, captions[0], min_travel=2)
    with pytest.raises(ValueError, match="captions: expected a list of 24"):
        motion_pass_rate(videos, captions[:3])
    with pytest.raises(ValueError, match="videos: expected a video"):
        motion_pass_rate(v, captions[:1])
    with pytest.raises(ValueError, match="color: expected one of"):
        color_objects(v[:, 0], "pink")
    with pytest.raises(ValueError, match="frame: expected"):
        color_objects(v[:2, 0], "red")


def _long_clip(offsets=None, frames: int = 113, speed: float = 0.25) -> torch.Tensor:
    from videoldm_ref.data import _draw_clip
    x = 16 + speed * np.arange(frames) + (0 if offsets is None else offsets)
    return _draw_clip("square", "blue", [(30.0, float(c)) for c in x], 5.0, 64, torch.full((3, 1, 1), -0.8))


def test_step_smoothness_has_a_floor_and_sees_a_judder_at_its_period():
    from videoldm_ref.metrics import step_smoothness
    caption, truth = "a blue square moving right", _long_clip()
    assert step_smoothness(truth, caption, truth).worst == 0
    alone = step_smoothness(truth, caption)                                       # no truth: the moving average
    assert alone.step_noise < 0.02 and alone.backward == 0
    for period in (3, 4):
        offsets = np.zeros(113)
        offsets[::period] = 0.4
        judder = step_smoothness(_long_clip(offsets), caption, truth, period=period)
        assert judder.periodic > 0.9 and judder.backward > 100 // period
        other = step_smoothness(_long_clip(offsets), caption, truth, period=7)     # the wrong period: not there
        assert other.periodic < 0.2
    drift = step_smoothness(_long_clip(np.linspace(0, 3, 113)), caption, truth)     # even, only faster: no judder
    assert drift.step_noise < 0.02 and drift.backward == 0


def test_step_smoothness_refuses_bad_input_and_says_nan_without_one_object():
    from videoldm_ref.metrics import step_smoothness
    caption, truth = "a blue square moving right", _long_clip()
    with pytest.raises(ValueError, match="video: expected at least 32"):
        step_smoothness(truth[:, :31], caption)
    with pytest.raises(ValueError, match="truth: expected the shape"):
        step_smoothness(truth, caption, truth[:, 1:])
    with pytest.raises(ValueError, match="caption"):
        step_smoothness(truth, "zoom in")
    gone = truth.clone()
    gone[:, 40] = -0.8                                                             # the object missing in one frame
    s = step_smoothness(gone, caption)
    assert np.isnan(s.step_noise) and np.isnan(s.worst)
