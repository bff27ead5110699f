import numpy as np
import pytest
import torch

from videoldm_ref.core import (check_choice, check_float, check_int, check_path, check_tensor, check_video,
                               default_device, default_dtype, frames_to_video, make_generator, seed_everything,
                               video_to_frames)


def video(*shape):
    return torch.rand(*shape) * 2 - 1


def test_fold_unfold_round_trip_keeps_frames_of_a_video_together():
    v = video(3, 4, 5, 6, 7)
    f = video_to_frames(v)
    assert f.shape == (15, 4, 6, 7)
    assert torch.equal(f[1 * 5 + 3], v[1, :, 3])
    assert torch.equal(frames_to_video(f, 5), v)


def test_frames_to_video_rejects_a_partial_video():
    with pytest.raises(ValueError, match="num_frames=4"):
        frames_to_video(torch.zeros(10, 3, 2, 2), 4)
    with pytest.raises(ValueError, match="num_frames"):
        frames_to_video(torch.zeros(10, 3, 2, 2), 0)


def test_check_video_accepts_both_layouts_and_returns_the_input():
    for v in (video(3, 4, 8, 8), video(2, 3, 4, 8, 8)):
        assert check_video(v, channels=3, frames=4) is v


@pytest.mark.parametrize("bad, kwargs, error, match", [
    (video(2, 4, 3, 8, 8), dict(channels=3), ValueError, "by mistake"),
    (video(2, 3, 4, 8, 8), dict(channels=4), ValueError, "expected 4 channels"),
    (video(2, 3, 4, 8, 8), dict(frames=5), ValueError, "expected 5 frames"),
    (video(3, 4, 8, 8), dict(batched=True), ValueError, r"\(B, C, T, H, W\)"),
    (video(4, 8, 8), {}, ValueError, "3 dimensions"),
    (video(3, 4, 8, 8) * 200, {}, ValueError, "values in"),
    (torch.full((3, 2, 4, 4), float("nan")), {}, ValueError, "NaN"),
    (torch.zeros(3, 4, 8, 8, dtype=torch.uint8), {}, ValueError, "floating point"),
    (torch.zeros(3, 0, 8, 8), {}, ValueError, "non-empty"),
    (np.zeros((3, 4, 8, 8)), {}, TypeError, "torch.Tensor"),
])
def test_check_video_names_the_argument_and_the_problem(bad, kwargs, error, match):
    with pytest.raises(error, match=match) as e:
        check_video(bad, "my_clip", **kwargs)
    assert str(e.value).startswith("my_clip:")


def test_value_range_none_skips_the_range_check():
    latents = torch.randn(1, 4, 2, 8, 8) * 5
    assert check_video(latents, "latents", value_range=None) is latents


def test_scalar_checks():
    assert check_int(np.int64(3), "n", min=1) == 3
    for bad in (True, 2.0, "2"):
        with pytest.raises(TypeError, match="n:"):
            check_int(bad, "n")
    with pytest.raises(ValueError, match=r"n: expected an integer in \[1, 4\], got 5"):
        check_int(5, "n", min=1, max=4)
    with pytest.raises(ValueError, match="fps"):
        check_float(0, "fps", min=0, open_min=True)
    with pytest.raises(ValueError, match="fps"):
        check_float(float("inf"), "fps")
    with pytest.raises(ValueError, match="mode: expected one of"):
        check_choice("c", "mode", ["a", "b"])
    with pytest.raises(ValueError, match="x: expected 2 dimensions"):
        check_tensor(torch.zeros(3), "x", ndim=2)


def test_check_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights: .*nope"):
        check_path(tmp_path / "nope", "weights")
    with pytest.raises(ValueError, match="expected a file"):
        check_path(tmp_path, "weights", is_dir=False)
    with pytest.raises(TypeError, match="weights"):
        check_path(3, "weights")
    assert check_path(tmp_path / "new", must_exist=False) == tmp_path / "new"


def test_seeding_is_reproducible():
    g = seed_everything(123)
    a = (torch.randn(4, generator=g), torch.randn(4), np.random.rand(2))
    g = seed_everything(123)
    b = (torch.randn(4, generator=g), torch.randn(4), np.random.rand(2))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and np.array_equal(a[2], b[2])
    assert make_generator(None) is None
    g = torch.Generator()
    assert make_generator(g) is g
    assert torch.equal(torch.rand(3, generator=make_generator(5)), torch.rand(3, generator=make_generator(5)))
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)


def test_device_and_dtype_on_this_machine():
    dev = default_device()
    assert isinstance(dev, torch.device)
    assert default_dtype("cpu") == torch.float32
    if not torch.cuda.is_available():
        assert dev.type in ("cpu", "mps")


def test_peak_rss_sees_an_allocation_and_reports_a_failing_call():
    from videoldm_ref.core import peak_rss
    (out_small, small), (out_big, big) = peak_rss(torch.ones, 1), peak_rss(torch.ones, 2**25)   # 128 MiB of float32
    assert out_small.shape == (1,) and out_big.shape == (2**25,) and bool((out_big == 1).all())
    assert 0.95 * 2**27 < big - small < 1.5 * 2**27
    with pytest.raises(RuntimeError, match="failed in its process"):
        peak_rss(torch.ones, -1)
