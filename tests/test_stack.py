"""The Video LDM stack as one pipeline (`15_stack`): folder round trip, streaming pieces, bad input, interruptions."""
import json
import re

import pytest
import torch

from videoldm_ref.stack import (MODEL_INDEX, VideoLDMPipeline, decode_chunks, fit_frames, stack_networks,
                                stack_parameters, stage_step_costs)
from videoldm_ref.temporal_decoder import decode_video_temporal

CAPTION = "a red circle moving right"
SHORT = dict(generator=1, interpolation_passes=1, upsample=False, keyframe_steps=2, interpolation_steps=1,
             progress=False)


@pytest.fixture(scope="module")
def pipe():
    return VideoLDMPipeline.from_pretrained()


def test_the_shipped_checkpoints_load_into_one_pipeline(pipe):
    assert {type(m).__name__ for m in pipe.components.values()} == {
        "AutoencoderKL", "TemporalDecoder", "WordTextEncoder", "VideoLDM", "ContextLDM", "Upsampler"}
    assert pipe.interpolation is not pipe.prediction and pipe.device == torch.device("cpu")


def test_save_and_load_round_trip(pipe, tmp_path):
    folder = pipe.save_pretrained(tmp_path / "stack")
    index = json.loads((folder / MODEL_INDEX).read_text())
    assert index["_class_name"] == "VideoLDMPipeline" and index["upsampler"] == ["videoldm_ref.upsampler", "Upsampler"]
    again = VideoLDMPipeline.from_pretrained(folder)
    for name in pipe.components:
        a, b = getattr(pipe, name).state_dict(), getattr(again, name).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert again.upsampler.shared_noise == pipe.upsampler.shared_noise > 0          # how it samples, kept too
    assert torch.equal(pipe(CAPTION, **SHORT).frames, again(CAPTION, **SHORT).frames)
    pipe.save_pretrained(folder)                                            # a saved stack may be overwritten


def test_save_refuses_to_overwrite_another_folder(pipe, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="path"):
        pipe.save_pretrained(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_load_names_what_is_missing(tmp_path):
    (tmp_path / "keyframes").mkdir()
    with pytest.raises(FileNotFoundError, match="autoencoder"):
        VideoLDMPipeline.from_pretrained(tmp_path)


def test_frame_counts_rates_and_output_types(pipe):
    out = pipe(CAPTION, **{**SHORT, "interpolation_passes": 0})
    assert out.frames.shape == (1, 3, 8, 64, 64) and out.fps == 1.875 and set(out.timings) == {
        "keyframes", "interpolation", "decoder", "output"}
    out = pipe([CAPTION, "a blue square moving up"], output_type="np", **SHORT)
    assert out.frames.shape == (2, 29, 64, 64, 3) and out.frames.dtype.name == "uint8" and out.fps == 7.5
    wide = pipe(CAPTION, height=48, width=96, **SHORT).frames                  # another frame size, every model
    assert wide.shape == (1, 3, 29, 48, 96) and wide.isfinite().all()


def test_the_negative_prompt_changes_the_video_and_the_seed_fixes_it(pipe):
    a = pipe(CAPTION, **SHORT).frames
    assert torch.equal(a, pipe(CAPTION, **SHORT).frames)
    assert not torch.equal(a, pipe(CAPTION, negative_prompt="a red circle moving left", **SHORT).frames)


def test_decode_chunks_equals_the_whole_decode(pipe):
    z = torch.randn(1, 4, 13, 16, 16, generator=torch.Generator().manual_seed(0))
    whole = decode_video_temporal(pipe.temporal_decoder, z, chunk_size=13)
    for size in (1, 4, 13, 20):
        assert torch.allclose(torch.cat(list(decode_chunks(pipe.temporal_decoder, z, chunk_size=size)), 2), whole,
                              atol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_keyframes=0), "num_keyframes"), (dict(interpolation_passes=-1), "interpolation_passes"),
    (dict(upsampler_steps=0), "upsampler_steps"), (dict(guidance_scale=-1.0), "guidance_scale"),
    (dict(output_type="avi"), "output_type"), (dict(output_type="mp4"), "out"),
    (dict(output_type="mp4", out="x.avi"), "out"), (dict(out="x.mp4"), "out"),
    (dict(noise_level=351), "noise_level"), (dict(negative_prompt=["a", "b"]), "negative_prompt"),
    (dict(num_frames=1), "num_frames"), (dict(num_frames=114), "num_frames"), (dict(height=30), "height"),
    (dict(width=0), "width")])
def test_bad_arguments_are_refused_before_any_work(pipe, kwargs, match, monkeypatch):
    monkeypatch.setattr(VideoLDMPipeline, "keyframe_latents", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(ValueError, match=match):
        pipe(CAPTION, progress=False, **kwargs)
    with pytest.raises(TypeError, match="prompt"):
        pipe([], progress=False)


def test_an_interrupted_run_leaves_no_file_that_looks_complete(pipe, tmp_path, interrupt_on_call):
    import videoldm_ref.upsampler as upsampler
    interrupt_on_call(upsampler, "ddim_sample", 2)
    with pytest.raises(KeyboardInterrupt):
        pipe(CAPTION, generator=0, interpolation_passes=1, keyframe_steps=2, interpolation_steps=1,
             upsampler_steps=1, output_type="mp4", out=tmp_path / "v.mp4", progress=False)
    assert not (tmp_path / "v.mp4").exists() and (tmp_path / "v.partial.mp4").exists()


def test_extend_continues_a_video(pipe):
    from videoldm_ref.data import MovingShapes
    clip = MovingShapes(1, frames=8, seed=5)[0]
    chunks = list(pipe.extend(clip["video"], 10, clip["caption"], steps=2, generator=0))
    assert [c.shape[1] for c in chunks] == [6, 4] and all(c.shape[0] == 3 for c in chunks)
    with pytest.raises(ValueError, match="video"):
        pipe.extend(torch.zeros(3, 4, 32, 32), 4)
    with pytest.raises(ValueError, match="frames"):
        pipe.extend(clip["video"], 0)
    with pytest.raises(ValueError, match="given"):
        pipe.extend(clip["video"], 4, given=8, window=8)
    for bad, match in ((dict(guidance_scale=-1.0), "guidance_scale"), (dict(context_scale=-0.5), "context_scale"),
                       (dict(steps=0), "steps")):
        with pytest.raises(ValueError, match=match):                        # refused when called, not at the first frame
            pipe.extend(clip["video"], 4, **bad)


def test_num_frames_keeps_the_first_frames_from_the_keyframes_they_need(pipe, monkeypatch):
    seen = []
    interpolated = VideoLDMPipeline.interpolated
    monkeypatch.setattr(VideoLDMPipeline, "interpolated", lambda self, z, *a, **k: seen.append(z.shape[2]) or
                        interpolated(self, z, *a, **k))
    out = pipe(CAPTION, **{**SHORT, "num_frames": 10})
    assert out.frames.shape[2] == 10 and seen == [4]                        # frames 0-9 need keyframes 0, 4, 8 and 12
    assert pipe(CAPTION, **{**SHORT, "num_frames": 29}).frames.shape[2] == 29 and seen[-1] == 8


def test_the_stage_methods_check_their_arguments(pipe):
    with pytest.raises(ValueError, match="frames"):
        pipe.keyframe_latents(CAPTION, frames=1)
    with pytest.raises(ValueError, match="guidance_scale"):
        pipe.keyframe_latents(CAPTION, guidance_scale=-2)
    with pytest.raises(ValueError, match="negative_prompt"):
        pipe.keyframe_latents([CAPTION] * 2, ["x"] * 3)
    with pytest.raises(ValueError, match="z"):
        pipe.interpolated(torch.zeros(1, 3, 4, 16, 16), CAPTION)              # 3 channels, not 4
    with pytest.raises(ValueError, match="prompts"):
        pipe.interpolated(torch.zeros(2, 4, 4, 16, 16), CAPTION)
    with pytest.raises(ValueError, match="passes"):
        pipe.interpolated(torch.zeros(1, 4, 4, 16, 16), CAPTION, -1)
    z = pipe.keyframe_latents(CAPTION, frames=3, steps=2, generator=0)
    assert z.shape == (1, 4, 3, 16, 16)
    assert torch.equal(pipe.interpolated(z, CAPTION, 0), z)
    assert pipe.interpolated(z, CAPTION, 1, num_steps=1, generator=0).shape == (1, 4, 9, 16, 16)


def test_fit_frames_takes_the_central_square():
    video = -torch.ones(3, 2, 64, 128)
    video[:, :, :, 32:96] = 0.5                                             # the central square
    assert torch.equal(fit_frames(video, 64), torch.full((3, 2, 64, 64), 0.5))
    big = torch.rand(3, 2, 128, 128) * 2 - 1
    ref = torch.nn.functional.interpolate(big.transpose(0, 1), size=(64, 64), mode="bilinear", antialias=True,
                                          align_corners=False).transpose(0, 1)
    assert torch.allclose(fit_frames(big, 64), ref.clamp(-1, 1), atol=1e-6)
    with pytest.raises(ValueError, match="size"):
        fit_frames(big, 0)
    with pytest.raises(ValueError, match="video"):
        fit_frames(torch.zeros(2, 3, 8, 8), 4)


def test_interpolate_and_upsample_a_given_video(pipe):
    from videoldm_ref.data import MovingShapes
    clip = MovingShapes(1, frames=3, seed=5)[0]["video"]
    faster = torch.cat(list(pipe.interpolate_video(clip, steps=2, generator=0)), 1)
    assert faster.shape == (3, 9, 64, 64)
    assert (faster[:, ::4] - clip).abs().mean() < 0.1                      # the given frames come back
    bigger = torch.cat(list(pipe.upsample(clip[:, :2, :32, :48], steps=1, generator=0)), 1)
    assert bigger.shape == (3, 2, 128, 192)
    small = torch.nn.functional.avg_pool2d(bigger.transpose(0, 1), 4).transpose(0, 1)
    assert (small - clip[:, :2, :32, :48]).abs().mean() < 0.1              # x4 of the same picture
    for call, match in ((lambda: pipe.interpolate_video(clip[:, :1]), "2 frames"),
                        (lambda: pipe.interpolate_video(torch.zeros(3, 4, 32, 32)), "64x64"),
                        (lambda: pipe.interpolate_video(clip, steps=0), "steps"),
                        (lambda: pipe.upsample(clip, noise_level=-1), "noise_level"),
                        (lambda: pipe.upsample(clip, shared_noise=1.5), "shared_noise"),
                        (lambda: pipe.upsample(clip[:, :, :30, :31]), "multiples")):
        with pytest.raises(ValueError, match=match):
            call()


def test_upsample_starts_every_frame_from_one_noise_unless_told(pipe):
    from videoldm_ref.stack import UPSAMPLE_SHARED_NOISE
    from videoldm_ref.upsampler import upsample_video
    low = torch.rand(3, 3, 16, 16) * 2 - 1
    run = lambda **k: torch.cat(list(pipe.upsample(low, steps=1, generator=0, **k)), 1)
    by_hand = lambda s: torch.cat(list(upsample_video(pipe.upsampler, low[None], [""], window=8, overlap=2, num_steps=1,
                                                      shared_noise=s, generator=0)), 2)[0]
    assert UPSAMPLE_SHARED_NOISE == 1.0 and torch.equal(run(), by_hand(1.0))
    assert torch.equal(run(shared_noise=None), by_hand(pipe.upsampler.shared_noise))   # as it was trained
    assert not torch.allclose(run(), run(shared_noise=None))


def test_the_paper_size_stack_has_the_papers_parameter_counts():
    rows = stack_parameters("paper")
    total = sum(sum(r.values()) for r in rows.values())
    on_videos = total - rows["keyframes"]["spatial"] - rows["upsampler"]["spatial"] - sum(rows["encoder"].values())
    assert abs(total / 4.1e9 - 1) < 0.01 and abs(on_videos / 2.7e9 - 1) < 0.01
    assert rows["interpolation"]["context"] > 0 == rows["keyframes"]["context"]
    assert rows["keyframes"]["temporal"] == rows["interpolation"]["temporal"]
    with torch.device("meta"):
        nets = stack_networks("tiny")
    tiny = stack_parameters("tiny")
    assert {k: sum(v.values()) for k, v in tiny.items()} == {k: sum(p.numel() for p in n.parameters())
                                                            for k, n in nets.items()}
    with pytest.raises(ValueError, match="size"):
        stack_parameters("huge")


def test_stage_step_costs_run_every_stage_of_a_tiny_stack():
    torch.manual_seed(0)
    costs = stage_step_costs(stack_networks("tiny"), latent=(8, 8), dtype=torch.float32, repeats=1)
    assert set(costs) == {"keyframes", "interpolation", "decoder", "upsampler"}
    assert all(c["seconds"] > 0 and c["peak_gib"] != c["peak_gib"] for c in costs.values())   # no CUDA: nan
    with pytest.raises(ValueError, match="nets"):
        stage_step_costs({"keyframes": torch.nn.Linear(1, 1)})
    with pytest.raises(ValueError, match="latent"):
        stage_step_costs(stack_networks("tiny"), latent=(8, 0))


def test_extend_answers_its_context_frames(pipe):
    from videoldm_ref.data import MovingShapes
    clip = MovingShapes(1, frames=8, seed=5)[0]["video"]
    run = lambda v: torch.cat(list(pipe.extend(v, 4, "", steps=2, generator=0)), 1)
    assert torch.equal(run(clip), run(clip))                                # the noise fixed: the same frames
    moved = clip.clone()
    moved[:, -1] = clip[:, -1].roll(16, -1)                                 # the last given frame shifted
    assert (run(moved) - run(clip)).abs().mean() > 0.01                     # the continuation follows it


def _square_moving_right(steps: list[int], size: int = 64) -> torch.Tensor:
    "A red square on black that moves `steps[i]` pixels right from frame i to i+1: `(3, T, size, size)`."
    x, frames = 4, []
    for dx in [0] + steps:
        x += dx
        frame = torch.full((3, size, size), -1.0)
        frame[:, 28:36, x:x + 8] = torch.tensor([0.9, -0.8, -0.8])[:, None, None]
        frames.append(frame)
    return torch.stack(frames, 1)


def test_demo_report_says_the_run_and_measures_the_steps():
    from videoldm_ref.stack import demo_report
    record = dict(said=["stages: keyframes 1.0 s"], seconds=70.2, threads=2, frames=41, fps=30.0, peak_rss_mb=2048.0,
                  caption=CAPTION)
    even = demo_report(record, _square_moving_right([1] * 40, size=64))
    assert even.splitlines()[:2] == ["stages: keyframes 1.0 s", "41 frames at 30 fps in 70 s on 2 threads, peak RSS 2.00 GiB"]
    assert "median 1.00 px, from +1.00 to +1.00; 0 of 40 steps go backwards; step noise 0.00 px (worst 0.00)" in even
    judder = demo_report(record, _square_moving_right([3, -1] * 20, size=64))
    assert "from -1.00 to +3.00; 20 of 40 steps go backwards" in judder                # 3, -1, 3, -1: about 1 px a frame
    noise, share = re.search(r"step noise ([\d.]+) px .*?, (\d+)% of it every 4th", judder).groups()
    assert 1.8 < float(noise) < 2.2 and int(share) > 90                               # +-2 px about the mean, periodic
    assert demo_report(record).splitlines()[-1].startswith("41 frames")                # no video: the record alone
    with pytest.raises(ValueError, match="record: .* missing \\['caption'"):
        demo_report({k: v for k, v in record.items() if k != "caption"})
    with pytest.raises(TypeError, match="record"):
        demo_report([record])
    with pytest.raises(ValueError, match="video"):
        demo_report(record, torch.zeros(41, 3, 64, 64))
