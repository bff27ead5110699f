"""The video upsampler (14_upsampler): the x4 layout, identity at initialisation, patches against whole frames,
windows, saving and loading, bounded memory, bad input, and the shipped model's job."""
import json

import pytest
import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import load_file, save_file
from torch import nn

from videoldm_ref.core import load_pretrained
from videoldm_ref.image_ldm import WordTextEncoder, caption_vocabulary
from videoldm_ref.upsampler import (PatchClips, Upsampler, bicubic, boundary_steps, build_upsampler_unet, downsample,
                                    highres_clips, load_upsampler, save_upsampler, upsample_clip, upsample_to_file,
                                    upsample_video, upsample_windows, warp_previous, warping_error)
from videoldm_ref.video_unet import VideoUNet, per_frame

SMALL_X4 = dict(block_out_channels=(32, 32, 64, 64), attention_head_dim=4, cross_attention_dim=32, norm_num_groups=8,
                sample_size=16)


@pytest.fixture(scope="module")
def text():
    torch.manual_seed(0)
    return WordTextEncoder(caption_vocabulary(), dim=32)


@pytest.fixture(scope="module")
def tiny(text):
    torch.manual_seed(0)
    return Upsampler(build_upsampler_unet("tiny"), text)


def test_the_x4_layout_wraps_with_its_noise_level_and_starts_as_the_image_unet():
    torch.manual_seed(0)
    image = build_upsampler_unet("sd_x4", **SMALL_X4)
    assert image.config.in_channels == 7 and image.config.num_class_embeds == 1000
    video = VideoUNet.from_unet2d(image)
    x, ctx, t, level = torch.randn(2, 7, 4, 16, 16), torch.randn(2, 3, 32), torch.tensor([5, 800]), torch.tensor([0, 350])
    with torch.no_grad():
        ref = per_frame(image, x, t, ctx, class_labels=level)
        assert (video(x, t, ctx, class_labels=level) - ref).abs().max() <= 1e-5
        other = per_frame(image, x, t, ctx, class_labels=torch.tensor([350, 0]))
    assert (other - ref).abs().max() > 1e-3                             # the label reaches every frame


def test_class_labels_are_checked():
    torch.manual_seed(0)
    x4 = VideoUNet.from_unet2d(build_upsampler_unet("sd_x4", **SMALL_X4))
    plain = VideoUNet.from_unet2d(UNet2DConditionModel(**{**SMALL_X4, "in_channels": 7, "out_channels": 4}))
    x, ctx = torch.randn(2, 7, 2, 16, 16), torch.randn(2, 3, 32)
    for model, labels, match in [(x4, None, "has a class embedding"), (plain, torch.tensor([1, 2]), "no class embedding"),
                                 (x4, torch.tensor([1, 2, 3]), r"expected a scalar or \(2,\)"),
                                 (x4, torch.tensor([-1, 2]), "integers in"), (x4, torch.tensor([1.0, 2.0]), "integers in")]:
        with pytest.raises(ValueError, match=f"class_labels: .*{match}"):
            model(x, 10, ctx, class_labels=labels)


def test_the_x4_layout_loads_strictly_from_a_local_folder(tmp_path):
    torch.manual_seed(0)
    build_upsampler_unet("sd_x4", **SMALL_X4).save_pretrained(tmp_path / "ok")
    video = VideoUNet.from_unet2d(load_pretrained(UNet2DConditionModel, tmp_path / "ok"))
    assert set(video.spatial_state_dict()) == set(load_file(tmp_path / "ok" / "diffusion_pytorch_model.safetensors"))
    new = [k for k in video.state_dict() if ".temporal." in k or ".blend." in k]
    assert len(new) + len(video.spatial_state_dict()) == len(video.state_dict())   # only temporal keys are new
    for name, edit in [("missing", lambda s: s.pop("class_embedding.weight")),
                       ("unexpected", lambda s: s.update(extra=torch.zeros(1))),
                       ("misshapen", lambda s: s.update({"conv_in.weight": torch.zeros(256, 6, 3, 3)}))]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text((tmp_path / "ok" / "config.json").read_text())
        state = load_file(tmp_path / "ok" / "diffusion_pytorch_model.safetensors")
        edit(state)
        save_file(state, tmp_path / name / "diffusion_pytorch_model.safetensors")
        with pytest.raises(ValueError, match="path"):
            load_pretrained(UNet2DConditionModel, tmp_path / name)


def test_a_crop_of_a_convolutional_upsampler_is_the_whole_frame_cropped(text):
    torch.manual_seed(0)
    model = Upsampler(build_upsampler_unet("tiny", mid_block_type=None), text)
    for name, m in list(model.unet.named_modules()):
        if isinstance(m, nn.GroupNorm):
            parent, _, child = name.rpartition(".")
            setattr(model.unet.get_submodule(parent) if parent else model.unet, child, nn.Identity())
    hr = torch.rand(1, 3, 1, 128, 128) * 2 - 1
    x, low, args = torch.randn(hr.shape), downsample(hr), (torch.tensor([300]), torch.tensor([20]), text([""]))
    with torch.no_grad():
        whole = model(x, args[0], low, args[1], args[2])
        crop = model(x[..., 32:96, 32:96], args[0], low[..., 8:24, 8:24], args[1], args[2])
    assert (crop[..., 24:40, 24:40] - whole[..., 56:72, 56:72]).abs().max() < 1e-5


def test_the_video_upsampler_starts_as_the_image_upsampler_and_trains_only_temporal_layers(tiny):
    video = tiny.to_video()
    low = torch.rand(2, 3, 5, 8, 8) * 2 - 1
    a = upsample_clip(tiny, low, num_steps=2, generator=0)
    b = upsample_clip(video, low, num_steps=2, generator=0)
    assert a.shape == (2, 3, 5, 32, 32) and (a - b).abs().max() <= 1e-5
    assert all(".temporal." in n or ".blend." in n for n, p in video.named_parameters() if p.requires_grad)
    with pytest.raises(ValueError, match="already a video upsampler"):
        video.to_video()


@pytest.mark.parametrize("frames,window,overlap", [(20, 8, 2), (113, 8, 2), (113, 8, 0), (9, 8, 7), (1, 8, 2)])
def test_windows_cover_the_video_each_sharing_overlap_frames(frames, window, overlap):
    wins = upsample_windows(frames, window, overlap)
    assert wins[0][0] == 0 and wins[-1][1] == frames and all(0 < b - a <= window for a, b in wins)
    assert all(s1 == e0 - overlap for (_, e0), (s1, _) in zip(wins, wins[1:]))
    assert all(b - a > overlap for a, b in wins[1:])                    # a window is never only shared frames


def test_upsample_video_in_windows(tiny):
    video = tiny.to_video()
    with torch.no_grad():
        for p in video.unet.temporal_parameters():
            p.add_(0.05 * torch.randn_like(p))
    low = torch.rand(1, 3, 10, 8, 8) * 2 - 1
    one = torch.cat(list(upsample_video(video, low, window=10, num_steps=2, generator=1)), 2)
    assert torch.equal(one, upsample_clip(video, low, num_steps=2, generator=1))
    chunks = {o: list(upsample_video(video, low, window=4, overlap=o, num_steps=2, generator=1)) for o in (0, 2)}
    assert [c.shape[2] for c in chunks[0]] == [4, 4, 2] and [c.shape[2] for c in chunks[2]] == [2, 2, 2, 4]
    blended, plain = (torch.cat(chunks[o], 2) for o in (2, 0))
    assert blended.shape == plain.shape == (1, 3, 10, 32, 32)
    assert torch.equal(blended[:, :, :2], plain[:, :, :2])              # the first window's own frames agree
    assert (blended[:, :, 2:4] - plain[:, :, 2:4]).abs().max() > 1e-4   # the shared frames are blended


def test_a_residual_upsampler_adds_to_bicubic(text):
    low = torch.rand(1, 3, 2, 8, 8) * 2 - 1
    residual = Upsampler(build_upsampler_unet("tiny"), text, residual=True)
    assert torch.allclose(residual.base(low, (32, 32)).clamp(-1, 1), bicubic(low))
    assert not Upsampler(build_upsampler_unet("tiny"), text).base(low, (32, 32)).any()
    latent = Upsampler(build_upsampler_unet("tiny", in_channels=28, out_channels=16), text)   # 4 channels + RGB
    assert latent.base(low, (32, 32)).shape == (low.shape[0], 4, low.shape[2], 32, 32)
    assert upsample_clip(latent, low, num_steps=1, generator=0).shape[1] == 4
    with pytest.raises(ValueError, match="residual"):
        Upsampler(build_upsampler_unet("tiny", in_channels=28, out_channels=16), text, residual=True)
    with torch.no_grad():
        residual.unet.conv_out.weight.zero_(), residual.unet.conv_out.bias.zero_()   # predicts v = 0
    out = upsample_clip(residual, low, num_steps=1, generator=0)        # one step from t = T, where abar = 0: x0 = 0
    assert torch.allclose(out, bicubic(low), atol=1e-5)


def test_detail_scale_scales_what_is_denoised_and_nothing_else(text, tmp_path):
    "The residual is denoised times detail_scale and divided back: the frames, the error's units and the file agree."
    from videoldm_ref.upsampler import clean_estimate_error
    hr, low = torch.rand(1, 3, 2, 32, 32) * 2 - 1, torch.rand(1, 3, 2, 8, 8) * 2 - 1
    torch.manual_seed(0)
    plain = Upsampler(build_upsampler_unet("tiny"), text, residual=True)
    scaled = Upsampler(build_upsampler_unet("tiny"), text, residual=True, detail_scale=10.0)
    base = plain.base(low, (32, 32))
    assert torch.allclose(scaled.target(hr, low), 10 * plain.target(hr, low))
    assert torch.allclose(scaled.finish(scaled.target(hr, low), base), hr, atol=1e-6)
    for m in (plain, scaled):
        with torch.no_grad():
            m.unet.conv_out.weight.zero_(), m.unet.conv_out.bias.zero_()           # v = 0: at t = T, x0 = 0
    batch = dict(hr=hr, low=low)
    residual = ((hr - base) ** 2).mean().item()                          # the error of x0 = 0, in the frames' units
    assert clean_estimate_error(plain, batch, 999) == pytest.approx(residual, rel=1e-5)
    assert clean_estimate_error(scaled, batch, 999) == pytest.approx(residual, rel=1e-5)
    save_upsampler(scaled, tmp_path / "s")
    assert load_upsampler(tmp_path / "s", video=False, text_encoder=text).detail_scale == 10.0
    settings = json.loads((tmp_path / "s" / "upsampler_config.json").read_text())
    del settings["detail_scale"]                                        # a folder written before detail_scale
    (tmp_path / "s" / "upsampler_config.json").write_text(json.dumps(settings))
    assert load_upsampler(tmp_path / "s", video=False, text_encoder=text).detail_scale == 1.0
    for bad in (0.0, -2.0, float("nan")):
        with pytest.raises(ValueError, match="detail_scale"):
            Upsampler(build_upsampler_unet("tiny"), text, residual=True, detail_scale=bad)
    with pytest.raises(ValueError, match="low: expected the clips, channels and frames of hr"):
        scaled.target(hr, low[:, :, :1])                                   # a frame short
    with pytest.raises(ValueError, match="hr"):
        scaled.target(hr[0], low)                                          # not a batch of clips


def _smooth_pan(paths, size=32):
    "A smooth pattern seen through `paths (B, T, 2, 3)`: `(B, 3, T, size, size)`."
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 256), torch.linspace(-1, 1, 256), indexing="ij")
    img = torch.stack([torch.sin(3 * xx + 2 * yy), torch.cos(2 * xx - 3 * yy), torch.sin(4 * xx * yy)])[None]
    b, t = paths.shape[:2]
    grid = torch.nn.functional.affine_grid(paths.flatten(0, 1), (b * t, 3, size, size), align_corners=False)
    frames = torch.nn.functional.grid_sample(img.expand(b * t, -1, -1, -1), grid, align_corners=False)
    return frames.view(b, t, 3, size, size).transpose(1, 2)


def test_warping_error_follows_the_known_camera_motion():
    t = torch.linspace(0, 1, 6)
    paths = torch.zeros(2, 6, 2, 3)
    paths[0, :, 0, 0] = paths[0, :, 1, 1] = 0.5                         # a pan right and down
    paths[0, :, 0, 2], paths[0, :, 1, 2] = 0.3 * t, 0.1 * t
    paths[1, :, 0, 0] = paths[1, :, 1, 1] = 0.6 - 0.2 * t               # a zoom in
    video = _smooth_pan(paths)
    err = warping_error(video, paths, reduction="none")
    assert err.shape == (2,) and err.max() < 2e-3                       # the motion undone: nothing left
    still = paths[:, :1].expand(-1, 6, -1, -1)                          # the wrong motion (none) leaves the change
    assert warping_error(video, still) > 20 * err.mean()
    warped, seen = warp_previous(video, paths)
    assert warped.shape == (2, 3, 5, 32, 32) and seen.shape == (2, 1, 5, 32, 32)
    assert 0.5 < seen[0].mean() < 1 and seen[1].mean() == 1             # a pan leaves an edge unseen; a zoom in none
    with pytest.raises(ValueError, match="paths"):
        warping_error(video, paths[:, :3])
    with pytest.raises(ValueError, match="videos"):
        warping_error(video[:, :, :1], paths[:, :1])
    with pytest.raises(ValueError, match="reduction"):
        warping_error(video, paths, reduction="sum")


def test_boundary_steps_mark_the_joins():
    assert boundary_steps(20, 8, 0).nonzero().flatten().tolist() == [7, 15]
    assert boundary_steps(20, 8, 2).nonzero().flatten().tolist() == [5, 6, 7, 11, 12, 13]
    assert not boundary_steps(8, 8, 2).any()


def test_save_and_load_round_trip(tiny, text, tmp_path):
    video = tiny.to_video()
    with torch.no_grad():
        for p in video.unet.temporal_parameters():
            p.add_(0.05 * torch.randn_like(p))
    save_upsampler(video, tmp_path / "v", dtype=None)
    assert json.loads((tmp_path / "v" / "upsampler_config.json").read_text())["unshuffle"] == 2
    assert "_name_or_path" not in (tmp_path / "v" / "unet" / "config.json").read_text()
    low = torch.rand(1, 3, 4, 8, 8) * 2 - 1
    back = load_upsampler(tmp_path / "v", text_encoder=text)
    assert torch.equal(upsample_clip(back, low, num_steps=2, generator=0), upsample_clip(video, low, num_steps=2, generator=0))
    image = load_upsampler(tmp_path / "v", video=False, text_encoder=text)
    assert torch.equal(upsample_clip(image, low, num_steps=2, generator=0), upsample_clip(tiny, low, num_steps=2, generator=0))
    save_upsampler(tiny, tmp_path / "i")                                # fp16 by default
    assert load_file(tmp_path / "i" / "unet" / "diffusion_pytorch_model.safetensors")["conv_in.weight"].dtype == torch.float16
    with pytest.raises(FileNotFoundError, match="image upsampler only"):
        load_upsampler(tmp_path / "i", text_encoder=text)
    with pytest.raises(FileNotFoundError, match="upsampler_config.json"):
        load_upsampler(tmp_path, text_encoder=text)


def test_bad_input(tiny, text):
    low, x, tokens = torch.rand(1, 3, 2, 8, 8), torch.randn(1, 3, 2, 32, 32), text([""])
    demo = Upsampler(build_upsampler_unet("demo"), WordTextEncoder(caption_vocabulary(), dim=64))   # sizes: 8k
    for call, match in [
        (lambda: upsample_clip(tiny, torch.rand(1, 1, 2, 8, 8)), "low: expected RGB frames"),
        (lambda: upsample_clip(demo, torch.rand(1, 3, 2, 7, 8)), "low: 7x8 frames times factor=4 give 28x32"),
        (lambda: upsample_clip(demo, torch.rand(1, 3, 2, 6, 6), factor=3), "low: 6x6 frames times factor=3"),
        (lambda: tiny(x, torch.tensor([1]), torch.rand(1, 3, 2, 8, 12), 0, tokens), "low: 8x12 frames do not scale"),
        (lambda: tiny(x, torch.tensor([1]), torch.rand(1, 3, 2, 10, 10), 0, tokens), "low: 10x10 frames do not"),
        (lambda: upsample_clip(tiny, low, noise_level=351), r"noise_level: expected levels in \[0, 350\]"),
        (lambda: upsample_clip(tiny, low, noise_level=2.5), "noise_level"),
        (lambda: upsample_clip(tiny, low, ["a", "b"]), "captions: expected 1"),
        (lambda: tiny(x[:, :, :, :18, :18], torch.tensor([1]), low, 0, tokens), "x: expected H and W divisible by 4"),
        (lambda: tiny(x, torch.tensor([1]), low[:, :, :1], 0, tokens), "low: expected"),
        (lambda: upsample_video(tiny, low, window=4, overlap=4), "overlap"),
        (lambda: upsample_to_file(tiny, torch.rand(2, 3, 2, 8, 8), "x.mp4"), "low: expected one video"),
        (lambda: Upsampler(build_upsampler_unet("tiny"), text, unshuffle=3), "unshuffle"),
        (lambda: Upsampler(build_upsampler_unet("tiny", in_channels=20), text), "unet: expected 6 input channels"),
        (lambda: Upsampler(build_upsampler_unet("tiny"), WordTextEncoder(caption_vocabulary(), dim=16)), "text_encoder"),
        (lambda: Upsampler(build_upsampler_unet("tiny"), text, max_noise_level=1000), "max_noise_level"),
        (lambda: downsample(torch.rand(1, 3, 2, 10, 10)), "video: expected H and W divisible by factor=4"),
        (lambda: PatchClips(highres_clips(frames=1, n_synthetic=1), patch=30), "patch: expected a multiple"),
    ]:
        with pytest.raises(ValueError, match=match):
            call()


def test_patches_are_aligned_with_their_low_resolution_crops():
    patches = PatchClips(highres_clips(frames=2, n_synthetic=2), patch=64, repeats=2)
    assert len(patches) == 2 * len(patches.source)
    for i in (0, 7, len(patches) - 1):
        item = patches[i]
        assert item["hr"].shape == (3, 2, 64, 64) and item["low"].shape == (3, 2, 16, 16)
        inner = (..., slice(2, -2), slice(2, -2))
        assert torch.allclose(downsample(item["hr"][None])[0][inner], item["low"][inner], atol=1e-4)


def test_upsampling_memory_does_not_grow_with_length(tiny, tmp_path):
    """Peak RSS within 10% at 8x the length (8 against 64 frames of 64x64 written to mp4)."""
    from videoldm_ref.core import peak_rss
    from videoldm_ref.media import read_video
    video = tiny.to_video()
    run = lambda n: peak_rss(upsample_to_file, video, torch.rand(1, 3, n, 16, 16) * 2 - 1, tmp_path / f"{n}.mp4",
                             num_steps=1, generator=0)
    (short, short_peak), (long, long_peak) = run(8), run(64)
    assert (short, long) == (8, 64) and read_video(tmp_path / "64.mp4")[0].shape == (3, 64, 64, 64)
    assert abs(long_peak / short_peak - 1) < 0.1


def test_an_interrupted_upsampling_keeps_the_frames_already_written(tiny, tmp_path, interrupt_on_call):
    import videoldm_ref.upsampler as upsampler
    from videoldm_ref.media import read_video
    interrupt_on_call(upsampler, "ddim_sample", 3)
    with pytest.raises(KeyboardInterrupt):
        upsample_to_file(tiny.to_video(), torch.rand(1, 3, 20, 8, 8), tmp_path / "up.mp4", window=8, overlap=2,
                         num_steps=1, generator=0)
    kept, _ = read_video(tmp_path / "up.partial.mp4")
    assert kept.shape[1] == 12 and not (tmp_path / "up.mp4").exists()  # two windows of 8, less the 2 shared each


def test_the_shipped_upsamplers_keep_to_their_input():
    "Upsampled and shrunk back, a held-out real clip comes back close to its low-res input, and at bicubic's PSNR."
    from videoldm_ref.metrics import psnr
    from videoldm_ref.upsampler import bicubic, downsample, heldout_highres, load_upsampler
    truth = heldout_highres(frames=8, n=1)["real"][0]["video"][None]
    low = downsample(truth)
    for model in (load_upsampler(video=False), load_upsampler()):
        out = upsample_clip(model, low, num_steps=2, generator=0)
        assert psnr(downsample(out), low) > 35                           # an untrained model: far below
        assert psnr(out, truth) > psnr(bicubic(low), truth) - 0.2   # trained unscaled (d772a0d): 0.44, 0.51 dB below


def test_the_slow_stage_trains_only_the_temporal_layers_of_the_video_upsampler_at_out_dir(tmp_path):
    from videoldm_ref.context import BouncingShapes
    from videoldm_ref.image_ldm import load_image_ldm
    from videoldm_ref.train import TrainConfig
    from videoldm_ref.upsampler import train_upsampler
    torch.manual_seed(0)
    save_upsampler(Upsampler(build_upsampler_unet("demo"), load_image_ldm().text_encoder).to_video(), tmp_path)
    before = load_upsampler(tmp_path).unet.state_dict()
    config = TrainConfig(steps=2, batch_size=1, lr=1e-3, warmup=0, ema_decay=None)
    train_upsampler(tmp_path, stage="slow", config=config, clips=BouncingShapes(2, frames=2, size=64), progress=False)
    after = load_upsampler(tmp_path).unet.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(".temporal." in k or ".blend." in k for k in changed)
    with pytest.raises(FileNotFoundError, match="out_dir: .* holds no video upsampler"):
        train_upsampler(tmp_path / "nothing", stage="slow", config=config)


def test_slow_clip_sources_check_their_input():
    from videoldm_ref.context import BouncingShapes
    from videoldm_ref.upsampler import FirstFrames, StillClips, slow_highres_clips, train_upsampler
    clips = BouncingShapes(2, frames=3, size=64)
    for call, error, match in [
        (lambda: FirstFrames(clips, 0), ValueError, "frames"),
        (lambda: FirstFrames(clips, 4)[0], ValueError, "frames: clip 0 of source has 3 frames"),
        (lambda: FirstFrames([1, 2], 2), TypeError, "source"),
        (lambda: StillClips("clips"), TypeError, "source"),
        (lambda: StillClips(clips)[2], IndexError, "out of range"),
        (lambda: slow_highres_clips(0), ValueError, "n"),
        (lambda: slow_highres_clips(frames=1), ValueError, "frames"),
        (lambda: train_upsampler("unused", stage="fast"), ValueError, "stage"),
    ]:
        with pytest.raises(error, match=match):
            call()
    assert torch.equal(FirstFrames(clips, 2)[1]["video"], clips[1]["video"][:, :2])


def test_clean_estimate_error_is_the_same_for_a_video_upsampler_at_initialisation_and_follows_its_seed(tiny):
    from videoldm_ref.upsampler import clean_estimate_error
    batch = dict(hr=torch.rand(2, 3, 4, 32, 32) * 2 - 1, low=torch.rand(2, 3, 4, 8, 8) * 2 - 1)
    image = clean_estimate_error(tiny, batch, 300)
    assert image > 0 and clean_estimate_error(tiny.to_video(), batch, 300) == pytest.approx(image, rel=1e-5)
    assert clean_estimate_error(tiny, batch, 300) == image != clean_estimate_error(tiny, batch, 300, seed=1)
    assert clean_estimate_error(tiny, batch, 10) < clean_estimate_error(tiny, batch, 900)   # less noise, less error
    for bad, match in [(dict(t=1000), "t: expected"), (dict(t=-1), "t: expected")]:
        with pytest.raises(ValueError, match=match):
            clean_estimate_error(tiny, batch, **bad)
    with pytest.raises(TypeError, match="model"):
        clean_estimate_error(tiny.unet, batch, 10)
    with pytest.raises(ValueError, match="batch: expected a dict with 'hr' and 'low'"):
        clean_estimate_error(tiny, {"hr": batch["hr"]}, 10)
    with pytest.raises(ValueError, match=r"batch\['hr'\]"):
        clean_estimate_error(tiny, dict(batch, hr=batch["hr"][0]), 10)
    with pytest.raises(ValueError, match=r"batch\['low'\]: expected the clips and frames"):
        clean_estimate_error(tiny, dict(batch, low=batch["low"][:, :, :2]), 10)


def test_shared_noise_is_kept_by_the_model_and_spans_every_window(tiny, text, tmp_path):
    "Frames that share all their noise and their low-res frame come out alike, across windows too; saved and loaded."
    still = (torch.rand(1, 3, 1, 8, 8) * 2 - 1).expand(-1, -1, 8, -1, -1)
    spread = lambda v: (v - v[:, :, :1]).abs().max().item()
    kw = dict(num_steps=2, noise_level=0, generator=0)
    assert spread(upsample_clip(tiny, still, **kw)) > 1                    # independent noise: frames differ
    assert spread(upsample_clip(tiny, still, shared_noise=1.0, **kw)) < 0.1  # left: the low-res input's own noise
    model = Upsampler(build_upsampler_unet("tiny"), text, shared_noise=1.0)
    model.unet.load_state_dict(tiny.unet.state_dict())
    windows = torch.cat(list(upsample_video(model, still, window=4, overlap=0, **kw)), 2)
    assert spread(windows) < 0.1                                           # the default: the model's, in each window
    video = Upsampler(VideoUNet.from_unet2d(model.unet), text, shared_noise=1.0)
    save_upsampler(video, tmp_path, dtype=None)
    assert load_upsampler(tmp_path, text_encoder=text).shared_noise == 1.0
    assert load_upsampler(tmp_path, video=False, text_encoder=text).shared_noise == 0     # frame by frame: independent
    with pytest.raises(ValueError, match="shared_noise"):
        Upsampler(build_upsampler_unet("tiny"), text, shared_noise=2)
    with pytest.raises(ValueError, match="shared_noise"):
        upsample_clip(tiny, still, shared_noise=-1, **kw)
    with pytest.raises(ValueError, match="shared_noise"):
        upsample_video(tiny, still, shared_noise=1.5, **kw)


def test_the_shared_stage_trains_with_shared_noise_and_keeps_it(tmp_path):
    from videoldm_ref.context import BouncingShapes
    from videoldm_ref.image_ldm import load_image_ldm
    from videoldm_ref.train import TrainConfig
    from videoldm_ref.upsampler import UPSAMPLER_SHARED_NOISE, train_upsampler
    torch.manual_seed(0)
    save_upsampler(Upsampler(build_upsampler_unet("demo"), load_image_ldm().text_encoder).to_video(), tmp_path)
    config = TrainConfig(steps=2, batch_size=1, lr=1e-3, warmup=0, ema_decay=None)
    clips = BouncingShapes(2, frames=2, size=64)
    model, _ = train_upsampler(tmp_path, stage="shared", config=config, clips=clips, progress=False)
    assert model.shared_noise == load_upsampler(tmp_path).shared_noise == UPSAMPLER_SHARED_NOISE > 0
    model, _ = train_upsampler(tmp_path, stage="shared", config=config, clips=clips, shared_noise=0.25, progress=False)
    assert load_upsampler(tmp_path).shared_noise == 0.25
    with pytest.raises(ValueError, match="shared_noise: only stage='shared'"):
        train_upsampler(tmp_path, stage="slow", shared_noise=0.5)
    with pytest.raises(ValueError, match="shared_noise: expected a number in"):
        train_upsampler(tmp_path, stage="shared", shared_noise=1.5)
