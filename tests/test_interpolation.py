"""Interpolation (13_interpolation): masks, windows over long inputs, keyframes kept exactly, training clips."""
import math

import pytest
import torch

from videoldm_ref.autoencoder import build_vae
from videoldm_ref.context import ContextLDM
from videoldm_ref.image_ldm import ImageLDM
from videoldm_ref.interpolation import (blend_keyframes, interpolate, interpolate_passes, interpolate_to_file,
                                        interpolation_clips, interpolation_masks, interpolation_metrics,
                                        interpolation_model, interpolation_scores, interpolation_windows,
                                        repeat_keyframes, two_pass_metrics)
from videoldm_ref.keyframes import VideoLDM


@pytest.mark.parametrize("n,window", [(2, 3), (3, 3), (4, 3), (8, 3), (29, 3), (10, 4), (113, 5)])
def test_windows_fill_every_pair_once_with_the_trained_length(n, window):
    wins = interpolation_windows(n, window)
    filled = [k for s, first in wins for k in range(first, min(s + window, n))]
    assert filled == list(range(1, n))
    assert all(s + window <= n for s, _ in wins) if n >= window else wins == [(0, 1)]   # the trained length


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return ContextLDM.from_video_ldm(VideoLDM.from_image_ldm(ImageLDM.build("tiny")), context_width=8).eval()


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_interpolate_gives_4n_minus_3_frames_and_keeps_the_keyframes(tiny, n):
    keys = torch.randn(1, 4, n, 8, 8)
    out = torch.cat(list(interpolate(tiny, keys, ["a red circle moving right"], num_steps=1, generator=0)), 2)
    assert out.shape == (1, 4, (n - 1) * 4 + 1, 8, 8) and torch.equal(out[:, :, ::4], keys)


def test_twice_goes_8_29_113(tiny):
    keys = torch.randn(1, 4, 8, 8, 8)
    once = torch.cat(list(interpolate(tiny, keys, ["a"], num_steps=1, generator=0)), 2)
    twice = torch.cat(list(interpolate(tiny, once, ["a"], num_steps=1, generator=0)), 2)
    assert (once.shape[2], twice.shape[2]) == (29, 113) and torch.equal(twice[:, :, ::16], keys)


def test_shared_noise_starts_every_window_from_noise_its_frames_share(tiny, monkeypatch):
    import videoldm_ref.interpolation as interpolation
    starts, ddim = [], interpolation.ddim_sample
    monkeypatch.setattr(interpolation, "ddim_sample", lambda *a, x_T, **kw: starts.append(x_T) or ddim(*a, x_T=x_T, **kw))
    keys = torch.randn(2, 4, 5, 8, 8)
    run = lambda **kw: torch.cat(list(interpolate(tiny, keys, ["a", "a"], num_steps=1, generator=0, **kw)), 2)
    plain, none = run(), run(shared_noise=0.0)
    assert torch.equal(plain, none)                                     # 0: the independent noise drawn before
    assert torch.equal(starts[0], torch.randn(starts[0].shape, generator=torch.Generator().manual_seed(0)))
    starts.clear()
    assert not torch.equal(run(shared_noise=1.0), plain) and len(starts) == 2        # two windows over 5 keyframes
    assert all(torch.equal(x, x[:, :, :1].expand_as(x)) and x.std() > 0.5 for x in starts)


def test_masks_and_clips():
    m = interpolation_masks(p_none=0.0)(3, 9)
    assert m[0].nonzero().flatten().tolist() == [0, 4, 8] and m.all(0).sum() == 3
    assert not interpolation_masks(p_none=1.0)(3, 9).any()
    clips = interpolation_clips("heldout", n_synthetic=20)
    assert all(clips[i]["video"].shape == (3, 9, 64, 64) for i in (0, len(clips) - 1))
    once, thrice = (interpolation_clips(n_synthetic=20, real_repeats=k) for k in (1, 3))
    for a, b in zip(once.datasets[:2], thrice.datasets[:2]):               # the real parts, three times over
        assert len(b) == 3 * len(a) and torch.equal(b[len(a)]["video"], a[0]["video"])
    assert len(thrice.datasets[2]) == len(once.datasets[2]) == 20            # the shapes once
    assert len(interpolation_clips("heldout", n_synthetic=20, real_repeats=3)) == len(clips)   # held out: once


@pytest.mark.parametrize("call,exc,match", [
    (lambda m: interpolation_masks(every=1), ValueError, "every"),
    (lambda m: interpolation_masks(p_none=1.5), ValueError, "p_none"),
    (lambda m: interpolation_masks()(2, 8), ValueError, "frames"),
    (lambda m: interpolation_windows(1), ValueError, "keyframes"),
    (lambda m: interpolation_windows(5, window=1), ValueError, "window"),
    (lambda m: next(interpolate("ldm", torch.zeros(1, 4, 3, 8, 8), ["a"])), TypeError, "ldm"),
    (lambda m: next(interpolate(m, torch.zeros(1, 4, 8, 8), ["a"])), ValueError, "keyframes"),
    (lambda m: interpolate(m, torch.zeros(1, 4, 1, 8, 8), ["a"]), ValueError, "keyframes: expected at least 2"),
    (lambda m: interpolate(m, torch.full((1, 4, 3, 8, 8), float("nan")), ["a"]), ValueError, "keyframes: expected finite"),
    (lambda m: interpolate(m, torch.zeros(1, 4, 3, 8, 8), ["a"], shared_noise=1.5), ValueError, "shared_noise"),
    (lambda m: interpolation_clips("test"), ValueError, "split"),
    (lambda m: interpolation_clips(real_repeats=0), ValueError, "real_repeats"),
    (lambda m: interpolation_metrics(m, "vae"), TypeError, "vae"),
    (lambda m: interpolation_metrics(m, build_vae("tiny"), batch=0), ValueError, "batch"),
    (lambda m: interpolation_metrics(m, build_vae("tiny"), every=0), ValueError, "every"),
])
def test_bad_input_is_refused_by_name(tiny, call, exc, match):
    with pytest.raises(exc, match=match):
        call(tiny)


def test_baselines_keep_the_keyframes_and_the_scores_know_the_truth():
    g = torch.Generator().manual_seed(0)
    truth = torch.rand(2, 3, 9, 16, 16, generator=g) * 2 - 1
    keys = truth[:, :, ::4]
    for fill in (blend_keyframes, repeat_keyframes):
        video = fill(keys)
        assert video.shape == truth.shape and torch.equal(video[:, :, ::4], keys)
    assert torch.allclose(blend_keyframes(keys)[:, :, 1], 0.75 * keys[:, :, 0] + 0.25 * keys[:, :, 1], atol=1e-6)
    assert torch.equal(repeat_keyframes(keys)[:, :, 1], keys[:, :, 0])
    assert torch.equal(repeat_keyframes(keys)[:, :, 2], keys[:, :, 1])
    perfect = interpolation_scores(truth, truth)
    assert perfect["psnr"] == perfect["psnr_moving"] == float("inf") and perfect["flicker"] == 0
    off = truth.clone()
    off[:, :, 1] += 0.1                                           # one in-between frame of six off by 0.1
    s = interpolation_scores(off, truth)
    assert abs(s["psnr"] - 10 * math.log10(4 / (0.01 / 6))) < 1e-6
    off[:, :, 4] += 0.5                                           # a keyframe is not scored in PSNR
    assert interpolation_scores(off, truth)["psnr"] == s["psnr"]


@pytest.mark.parametrize("call,match", [
    (lambda: blend_keyframes(torch.zeros(1, 3, 1, 4, 4)), "keyframes"),
    (lambda: repeat_keyframes(torch.zeros(1, 3, 2, 4, 4), every=0), "every"),
    (lambda: interpolation_scores(torch.zeros(1, 3, 9, 4, 4), torch.zeros(1, 3, 8, 4, 4)), "truth"),
    (lambda: interpolation_scores(torch.zeros(1, 3, 8, 4, 4), torch.zeros(1, 3, 8, 4, 4)), "truth"),
])
def test_baselines_refuse_bad_input_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_interpolation_metrics_scores_each_part_with_a_progress_bar_that_can_be_switched_off(tiny, capsys):
    from videoldm_ref.context import BouncingShapes
    parts = {"a": BouncingShapes(3, frames=9, size=16), "b": BouncingShapes(2, frames=5, size=16, seed=1)}
    scores = interpolation_metrics(tiny, build_vae("tiny"), parts, batch=2, num_steps=1)
    assert list(scores) == ["a", "b"] and all(0 < s["moving"] < 1 and s["flicker"] > 0 for s in scores.values())
    err = capsys.readouterr().err                                         # the bar, 5 clips in all
    assert "interpolation:" in err and "/5 [" in err        # its last refresh may be cleared before it is drawn
    interpolation_metrics(tiny, build_vae("tiny"), parts, batch=2, num_steps=1, progress=False)
    assert capsys.readouterr().err == ""


def test_interpolation_holds_nothing_it_has_handed_on(tiny):
    import gc
    import weakref
    handed = []
    for chunk in interpolate(tiny, torch.randn(1, 4, 12, 8, 8), ["a red circle moving right"], num_steps=1, generator=0):
        handed.append(weakref.ref(chunk))
        del chunk
        gc.collect()
        assert all(r() is None for r in handed)               # every chunk is gone once the caller drops it
    assert len(handed) == 1 + len(interpolation_windows(12))


def test_interpolation_peak_memory_does_not_grow_with_length(tiny, tmp_path):
    """Peak RSS within 10% at 9x the length (13 against 113 frames of 64x64 written to mp4). At this size it only
    catches gross growth; the test above is the sharp one."""
    from videoldm_ref.core import peak_rss
    from videoldm_ref.interpolation import interpolate_to_file
    from videoldm_ref.media import read_video
    vae = build_vae("demo")
    run = lambda n: peak_rss(interpolate_to_file, tiny, vae, torch.randn(1, 4, n, 16, 16), "a red circle moving right",
                             tmp_path / f"{n}.mp4", num_steps=1, generator=0)
    (short, short_peak), (long, long_peak) = run(4), run(29)
    assert (short, long) == (13, 113) and read_video(tmp_path / "29.mp4")[0].shape[1] == 113
    assert abs(long_peak / short_peak - 1) < 0.1


def test_an_interrupted_interpolation_keeps_the_frames_already_written(tiny, tmp_path, interrupt_on_call):
    import videoldm_ref.interpolation as interpolation
    from videoldm_ref.media import read_video
    interrupt_on_call(interpolation, "ddim_sample", 3)
    with pytest.raises(KeyboardInterrupt):
        interpolation.interpolate_to_file(tiny, build_vae("tiny"), torch.randn(1, 4, 8, 8, 8), "a", tmp_path / "x4.mp4",
                                          num_steps=1, generator=0)
    kept, _ = read_video(tmp_path / "x4.partial.mp4")
    assert kept.shape[1] == 1 + 8 + 8 and not (tmp_path / "x4.mp4").exists()   # the first keyframe, two windows


def test_interpolation_checkpoints_round_trip_and_refuse_what_does_not_fit(tmp_path):
    from videoldm_ref.interpolation import interpolation_model, load_interpolation, save_interpolation
    torch.manual_seed(0)
    base = ContextLDM.from_video_ldm(VideoLDM.from_image_ldm(ImageLDM.build("tiny")), context_width=8)
    ldm = interpolation_model(base)
    trained = {k for k, p in ldm.unet.named_parameters() if p.requires_grad}
    assert trained and not any(".resnets." in k and ".temporal." in k for k in trained)
    with torch.no_grad():
        for p in ldm.parameters():
            if p.requires_grad:
                p.add_(1.0)                                         # tell the trained weights from the base's
    save_interpolation(ldm, tmp_path / "interp")
    again = load_interpolation(tmp_path / "interp", base=base)
    for (k, p), q in zip(ldm.unet.named_parameters(), again.unet.parameters()):
        assert torch.equal(p.half(), q.half()), k                    # trained ones loaded, the rest the base's
    assert not any(p.requires_grad for p in again.parameters())
    with pytest.raises(ValueError, match="do not fit"):
        load_interpolation(tmp_path / "interp", base=ContextLDM.from_video_ldm(VideoLDM.from_image_ldm(
            ImageLDM.build("tiny")), context_width=16))
    with pytest.raises(FileNotFoundError, match="path"):
        load_interpolation(tmp_path)
    with pytest.raises(ValueError, match="ldm: trains no parameters"):
        save_interpolation(again, tmp_path / "none")


from videoldm_ref.interpolation import slow_clips, train_interpolation  # noqa: E402


@pytest.mark.parametrize("call,exc,match", [
    (lambda m: interpolate_passes(m, torch.zeros(1, 4, 3, 8, 8), ["a"], passes=0), ValueError, "passes"),
    (lambda m: two_pass_metrics(m, "vae", []), TypeError, "vae"),
    (lambda m: interpolate_to_file(m, build_vae("tiny"), torch.zeros(2, 4, 3, 8, 8), "a", "x.mp4"), ValueError,
     "keyframes"),
    (lambda m: interpolate_to_file(m, build_vae("tiny"), torch.zeros(1, 4, 3, 8, 8), "a", "x.gif"), ValueError, "path"),
    (lambda m: interpolation_model("prediction"), TypeError, "base"),
    (lambda m: slow_clips(n_slow=0), ValueError, "n_slow"),
    (lambda m: slow_clips(every=1), ValueError, "every"),
    (lambda m: train_interpolation("unused", stage="fast"), ValueError, "stage"),
])
def test_more_bad_input_is_refused_by_name(tiny, call, exc, match):
    with pytest.raises(exc, match=match):
        call(tiny)


def test_the_paper_s_recipe_is_restored_by_a_make_target_from_the_commit_that_shipped_it(tmp_path, monkeypatch):
    """Not shipped (the driving models took its room): load_interpolation(recipe='paper') says how to get it, and
    `make interpolation-paper` takes it from PAPER_COMMIT, which holds it."""
    import re
    import subprocess
    from pathlib import Path
    from videoldm_ref.interpolation import PAPER_COMMIT, load_interpolation, paper_interpolation_dir
    monkeypatch.setenv("VIDEOLDM_DATA_SAMPLES", str(tmp_path / "data_samples"))
    assert paper_interpolation_dir() == tmp_path / "build" / "interpolation_paper"
    with pytest.raises(FileNotFoundError, match="make interpolation-paper"):
        load_interpolation(recipe="paper")
    root = Path(__file__).parents[1]
    assert re.search(rf"^PAPER_COMMIT := {PAPER_COMMIT}$", (root / "Makefile").read_text(), re.M)
    if (root / ".git").exists():                                           # a clone, with its history
        for name in ("interpolation.safetensors", "interpolation.json"):
            spec = f"{PAPER_COMMIT}:data_samples/checkpoints/interpolation_paper/{name}"
            assert subprocess.run(["git", "cat-file", "-e", spec], cwd=root).returncode == 0, spec


# A residual over the blend (13, "A residual over the blend")
from videoldm_ref.interpolation import (RESIDUAL_START, is_residual, load_interpolation, residual_guided,  # noqa: E402
                                        residual_loss, residual_x0, save_interpolation)


@pytest.fixture(scope="module")
def residual(tiny):
    return interpolation_model(tiny, residual=True).eval()


@pytest.mark.parametrize("n", [2, 3, 8])
def test_an_untrained_residual_model_is_the_blend_whatever_its_unet_says(residual, n):
    keys = torch.randn(2, 4, n, 8, 8)
    for scale in (1.0, 3.0):
        z = torch.cat(list(interpolate(residual, keys, ["a", "a red circle"], num_steps=10, text_scale=scale, generator=0)), 2)
        assert torch.allclose(z, blend_keyframes(keys), atol=1e-4) and torch.equal(z[:, :, ::4], keys)
    assert residual.residual_gain.shape == (4,) and not residual.residual_gain.any()


def test_a_residual_model_samples_from_the_noised_blend_and_its_gain_shows(residual, monkeypatch):
    import videoldm_ref.interpolation as interpolation
    seen, ddim = [], interpolation.ddim_sample
    monkeypatch.setattr(interpolation, "ddim_sample",
                        lambda *a, x_T, timesteps, **kw: seen.append(timesteps) or ddim(*a, x_T=x_T, timesteps=timesteps, **kw))
    keys = torch.randn(1, 4, 3, 8, 8)
    with torch.no_grad():
        residual.residual_gain.fill_(0.5)
    try:
        z = torch.cat(list(interpolate(residual, keys, ["a"], num_steps=10, text_scale=1.0, generator=0)), 2)
        again = torch.cat(list(interpolate(residual, keys, ["a"], num_steps=10, text_scale=1.0, start=99, generator=0)), 2)
    finally:
        with torch.no_grad():
            residual.residual_gain.zero_()
    assert int(seen[0][0]) <= RESIDUAL_START and int(seen[0][-1]) < 100 and int(seen[1][0]) <= 99 and len(seen[1]) == 1
    assert not torch.allclose(z, blend_keyframes(keys), atol=1e-3)       # a gain lets the UNet's residual through
    assert torch.equal(z[:, :, ::4], keys) and not torch.equal(z, again)


def test_the_paper_s_model_can_start_from_the_noised_blend(tiny, monkeypatch):
    import videoldm_ref.interpolation as interpolation
    starts, ddim = [], interpolation.ddim_sample
    monkeypatch.setattr(interpolation, "ddim_sample", lambda *a, x_T, **kw: starts.append(x_T) or ddim(*a, x_T=x_T, **kw))
    keys = torch.randn(1, 4, 3, 8, 8)
    list(interpolate(tiny, keys, ["a"], num_steps=10, start=150, generator=0))       # steps 900, 800, ..., 100, 0
    from videoldm_ref.diffusion import q_sample
    noise = torch.randn(starts[0].shape, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(starts[0], q_sample(blend_keyframes(keys), torch.tensor([100]), noise, tiny.schedule))


def test_the_residual_loss_trains_only_the_gain_at_first_and_is_zero_for_a_linear_clip(residual):
    from videoldm_ref.keyframes import _collate
    clip = torch.randn(2, 4, 3, 8, 8)
    linear = blend_keyframes(clip[:, :, [0, 2]], 4)                     # (2, 4, 5, 8, 8): already a blend
    batch = _collate([dict(latent=v, caption="a") for v in linear])
    model = interpolation_model(residual, residual=True)
    loss = residual_loss(p_uncond=0.0)(model, batch, torch.Generator().manual_seed(0))
    assert loss.item() == 0.0                                           # the blend is the truth: nothing to learn
    batch = _collate([dict(latent=torch.randn(4, 5, 8, 8), caption="a") for _ in range(2)])
    residual_loss()(model, batch, torch.Generator().manual_seed(0)).backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    assert grads["residual_gain"].abs().sum() > 0
    assert all(g is None or not g.any() for n, g in grads.items() if n != "residual_gain")


def test_residual_checkpoints_round_trip_and_say_what_they_are(residual, tmp_path, tiny):
    import json
    model = interpolation_model(residual)                               # a residual base stays residual
    with torch.no_grad():
        model.residual_gain.copy_(torch.tensor([0.1, -0.2, 0.3, -0.4]))
    save_interpolation(model, tmp_path / "r")
    again = load_interpolation(tmp_path / "r", base=tiny)
    assert is_residual(again) and json.loads((tmp_path / "r" / "interpolation.json").read_text())["residual"]
    assert torch.equal(again.residual_gain, model.residual_gain.half().float())
    save_interpolation(interpolation_model(tiny), tmp_path / "p")
    assert not is_residual(load_interpolation(tmp_path / "p", base=tiny))
    (tmp_path / "p" / "interpolation.json").write_text(json.dumps(dict(base="prediction", residual=True)))
    with pytest.raises(ValueError, match="path: .* lack a residual_gain"):
        load_interpolation(tmp_path / "p", base=tiny)


@pytest.mark.parametrize("call,exc,match", [
    (lambda m, r: interpolate(r, torch.zeros(1, 4, 3, 8, 8), ["a"], start=0), ValueError, "start"),
    (lambda m, r: interpolate(r, torch.zeros(1, 4, 3, 8, 8), ["a"], start=1000), ValueError, "start"),
    (lambda m, r: interpolate(m, torch.zeros(1, 4, 3, 8, 8), ["a"], start=2.5), TypeError, "start"),
    (lambda m, r: interpolate(r, torch.zeros(1, 4, 3, 8, 9), ["a"], start=10 ** 6), ValueError, "start"),
    (lambda m, r: interpolation_model(m, residual="yes"), TypeError, "residual"),
    (lambda m, r: interpolate(m, torch.zeros(1, 3, 3, 8, 8), ["a"]), ValueError, "keyframes: expected latents of 4"),
    (lambda m, r: load_interpolation(recipe="mine"), ValueError, "recipe"),
    (lambda m, r: residual_x0(m, torch.zeros(1, 4, 5, 8, 8), torch.zeros(1), ["a"], torch.zeros(1, 4, 5, 8, 8)),
     ValueError, "ldm: not a residual"),
    (lambda m, r: residual_guided(r, "a", torch.zeros(1, 4, 5, 8, 8)), ValueError, "captions"),
    (lambda m, r: residual_x0(r, torch.zeros(1, 4, 5, 8, 8), torch.zeros(1, dtype=torch.long), r.text_encoder(["a"]),
                              torch.zeros(1, 4, 9, 8, 8)), ValueError, "blend: expected the shape of latents"),
    (lambda m, r: residual_guided(r, ["a"], torch.zeros(1, 4, 5, 8, 8), text_scale=-1), ValueError, "text_scale"),
    (lambda m, r: residual_loss(every=1), ValueError, "every"),
    (lambda m, r: residual_loss(snr_cap=0), ValueError, "snr_cap"),
    (lambda m, r: residual_loss(max_t=-1), ValueError, "max_t"),
    (lambda m, r: residual_loss()(r, dict(latent=torch.zeros(1, 4, 6, 8, 8), caption=["a"]), None), ValueError, "batch"),
    (lambda m, r: train_interpolation("nowhere", stage="residual", base=m, progress=False), FileNotFoundError, "out_dir"),
])
def test_residual_bad_input_is_refused_by_name(tiny, residual, call, exc, match):
    with pytest.raises(exc, match=match):
        call(tiny, residual)


def test_the_shipped_model_refines_the_motion_blend_and_beats_the_linear_one():
    """The shipped interpolation model is the residual over the motion blend (fp16, its gains open), and on 8
    held-out bouncing clips, one pass at its own settings, its in-between frames are closer to the truth on the moving
    pixels than the linear blend of the keyframe latents, by more than 2 dB (13: the motion blend alone +5.24 dB on
    50 clips). At the stack's steps (`INTERPOLATION_STEPS`; 15's steps study: one pass scores the same at 20 and 50)."""
    from safetensors import safe_open
    from torch.utils.data import Subset
    from videoldm_ref.autoencoder import decode_video, encode_video, load_autoencoder
    from videoldm_ref.data import data_samples_dir
    from videoldm_ref.interpolation import heldout_parts, model_blend
    with safe_open(data_samples_dir() / "checkpoints" / "interpolation" / "interpolation.safetensors", "pt") as f:
        assert "residual_gain" in f.keys() and all(f.get_tensor(k).dtype == torch.float16 for k in f.keys())
    model, vae = load_interpolation(), load_autoencoder()
    assert is_residual(model) and model_blend(model) == "motion" and model.residual_gain.abs().min() > 0.01
    shapes = Subset(heldout_parts()["bouncing shapes"], range(8))
    from videoldm_ref.stack import INTERPOLATION_STEPS
    ours = interpolation_metrics(model, vae, {"shapes": shapes}, num_steps=INTERPOLATION_STEPS)["shapes"]
    truth = torch.stack([shapes[i]["video"] for i in range(8)])
    with torch.no_grad():
        latent_blend = decode_video(vae, blend_keyframes(encode_video(vae, truth[:, :, ::4]))).clamp(-1, 1)
    assert ours["psnr_moving"] > interpolation_scores(latent_blend, truth)["psnr_moving"] + 2


# Blending along the motion (13, "Blending along the motion")
from videoldm_ref.interpolation import (MOTION_TRAINING, blend_latents, model_blend, motion_blend,  # noqa: E402
                                        motion_blend_latents, optical_flow, warp)


def _blob(cy: float, cx: float, size: int = 32, r: float = 4.0) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing="ij")
    return (2 * torch.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * r * r)) - 1)[None].expand(3, -1, -1)


def test_optical_flow_finds_a_known_shift_and_warp_agrees_with_scipy():
    import numpy as np
    from scipy import ndimage
    flow = optical_flow(torch.stack([_blob(14, 16), _blob(10, 10)]), torch.stack([_blob(15.5, 14), _blob(10, 13)]))
    assert torch.allclose(flow[0, :, 14, 16], torch.tensor([1.5, -2.0]), atol=0.05)
    assert torch.allclose(flow[1, :, 10, 10], torch.tensor([0.0, 3.0]), atol=0.05)
    frames, flow = torch.randn(2, 3, 9, 11), 3 * torch.randn(2, 2, 9, 11)
    ys, xs = np.mgrid[0:9, 0:11]
    for b in range(2):
        at = [np.clip(ys + flow[b, 0].numpy(), 0, 8), np.clip(xs + flow[b, 1].numpy(), 0, 10)]
        ref = np.stack([ndimage.map_coordinates(f.numpy(), at, order=1) for f in frames[b]])
        assert np.allclose(warp(frames, flow)[b].numpy(), ref, atol=1e-5)
    assert torch.allclose(warp(frames, torch.zeros(2, 2, 9, 11)), frames, atol=1e-6)


def test_the_motion_blend_carries_an_object_whole_where_the_linear_blend_fades_it():
    keys = torch.stack([_blob(16, 8), _blob(16, 24)], 1)[None]                   # 16 px to the right
    moved, faded = motion_blend(keys, 4), blend_keyframes(keys, 4)
    assert moved.shape == (1, 3, 5, 32, 32) and torch.equal(moved[:, :, ::4], keys)
    assert moved[0, 0, 1:4].amax((-1, -2)).min() > 0.95 and faded[0, 0, 2].max() < 0.05      # blob: 1, ground: -1
    peak_x = [int(moved[0, 0, i].amax(0).argmax()) for i in range(5)]
    assert peak_x == [8, 12, 16, 20, 24]                                            # a straight path, 4 px a frame
    still = torch.stack([_blob(16, 8)] * 3, 1)[None]
    assert torch.allclose(motion_blend(still, 4), still[:, :, :1].expand(-1, -1, 9, -1, -1), atol=1e-5)


def test_motion_blended_latents_keep_the_keyframes_exactly():
    vae = build_vae("tiny")
    keys = torch.randn(2, 4, 3, 8, 8)
    z = motion_blend_latents(vae, keys, 4)
    assert z.shape == (2, 4, 9, 8, 8) and torch.allclose(z[:, :, ::4], keys, atol=1e-5)
    assert torch.equal(blend_latents(keys, 4, blend="motion", vae=vae), z)
    assert torch.equal(blend_latents(keys, 4), blend_keyframes(keys, 4))


def test_a_residual_model_over_the_motion_blend_is_that_blend_untrained_and_says_so(tiny, tmp_path):
    vae = build_vae("tiny")
    model = interpolation_model(tiny, residual=True, blend="motion").eval()
    assert model_blend(model) == "motion" and model_blend(tiny) == "linear"
    keys = torch.randn(1, 4, 3, 8, 8)
    z = torch.cat(list(interpolate(model, keys, ["a"], num_steps=4, vae=vae, generator=0)), 2)
    assert torch.allclose(z, motion_blend_latents(vae, keys, 4), atol=1e-4)
    linear = torch.cat(list(interpolate(model, keys, ["a"], num_steps=4, blend="linear", generator=0)), 2)
    assert torch.allclose(linear, blend_keyframes(keys), atol=1e-4)                  # `blend` overrides the model's
    save_interpolation(model, tmp_path / "m")
    assert model_blend(load_interpolation(tmp_path / "m", base=tiny)) == "motion"
    assert model_blend(interpolation_model(model)) == "motion"                       # kept from a residual base
    assert model_blend(interpolation_model(model, blend="linear")) == "linear"


def test_the_residual_loss_over_the_motion_blend_is_zero_for_a_clip_that_is_that_blend(residual):
    from videoldm_ref.keyframes import _collate
    vae = build_vae("tiny")
    clip = motion_blend_latents(vae, torch.randn(2, 4, 2, 8, 8), 4)                 # (2, 4, 5, 8, 8)
    batch = _collate([dict(latent=v, caption="a") for v in clip])
    model = interpolation_model(residual, residual=True, blend="motion")
    assert residual_loss(p_uncond=0.0, blend="motion", vae=vae)(model, batch, torch.Generator().manual_seed(0)).item() < 1e-9
    assert residual_loss(p_uncond=0.0)(model, batch, torch.Generator().manual_seed(0)).item() > 1e-4   # not a linear blend
    assert MOTION_TRAINING.steps > 0


@pytest.mark.parametrize("call,exc,match", [
    (lambda m, r: interpolate(r, torch.zeros(1, 4, 3, 8, 8), ["a"], blend="cubic"), ValueError, "blend"),
    (lambda m, r: interpolate(r, torch.zeros(1, 4, 3, 8, 8), ["a"], blend="motion"), TypeError, "vae"),
    (lambda m, r: interpolation_model(m, blend="motion"), ValueError, "blend: only a residual model"),
    (lambda m, r: interpolation_model(m, residual=True, blend="cubic"), ValueError, "blend"),
    (lambda m, r: residual_loss(blend="motion"), TypeError, "vae"),
    (lambda m, r: blend_latents(torch.zeros(1, 4, 3, 8, 8), blend="motion"), TypeError, "vae"),
    (lambda m, r: motion_blend(torch.zeros(1, 3, 1, 8, 8)), ValueError, "keyframes: expected at least 2"),
    (lambda m, r: motion_blend(torch.zeros(1, 3, 2, 8, 8), radius=0), ValueError, "radius"),
    (lambda m, r: optical_flow(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 9)), ValueError, "target"),
    (lambda m, r: optical_flow(torch.full((1, 3, 8, 8), float("nan")), torch.zeros(1, 3, 8, 8)), ValueError, "source"),
    (lambda m, r: warp(torch.zeros(1, 3, 8, 8), torch.zeros(1, 2, 8, 9)), ValueError, "flow"),
    (lambda m, r: warp(torch.zeros(1, 3, 8, 8), torch.full((1, 2, 8, 8), float("inf"))), ValueError, "flow"),
    (lambda m, r: train_interpolation("nowhere", stage="motion", base=m, progress=False), FileNotFoundError, "out_dir"),
    (lambda m, r: train_interpolation("nowhere", stage="blend", base=m, progress=False), ValueError, "stage"),
])
def test_motion_blend_bad_input_is_refused_by_name(tiny, residual, call, exc, match):
    with pytest.raises(exc, match=match):
        call(tiny, residual)
