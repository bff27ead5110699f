import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import videoldm_ref
from videoldm_ref.cli import main
from videoldm_ref.media import read_video


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and videoldm_ref.__version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(c in out for c in ("demo", "sample", "extend", "interpolate", "upsample", "drive", "train", "data-samples"))
    for command in ("sample", "extend", "interpolate", "upsample", "drive"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "examples:" in out and f"videoldm-ref {command} " in out


def said(capsys) -> tuple[str, list[str]]:
    "stdout, and the lines of stderr less the progress bars."
    out, err = capsys.readouterr()
    return out, [s for s in re.split(r"[\r\n]", err) if s.strip() and "%|" not in s]


def test_sample_writes_a_video_of_the_caption(tmp_path, capsys):
    out = tmp_path / "v.mp4"
    assert main(["sample", "a green square moving up", "--frames", "33", "--steps", "10", "--no-upsample",
                 "--out", str(out)]) == 0
    stdout, err = said(capsys)
    assert stdout.strip() == str(out) and err[0].startswith("stages: keyframes") and "total" in err[0]
    assert err[1].startswith("keyframes (every 16th frame): motion yardstick:") and err[2].startswith("all 33 frames")
    video, fps = read_video(out)
    assert video.shape == (3, 33, 64, 64) and fps == 30
    # a green shape on a dark background: green is the brightest channel where the picture is bright
    bright = video.mean(0) > -0.2
    assert bright.any() and video[1][bright].mean() > video[0][bright].mean()


def test_sample_seed_reaches_the_pipeline(tmp_path, monkeypatch):
    "The seed's effect on the video is tested on the pipeline (test_stack); here, that --seed reaches it."
    import videoldm_ref.cli as cli
    calls = []
    monkeypatch.setattr(cli, "sample", lambda *a, **k: calls.append(k) or Path(a[1]))
    assert main(["sample", "a green square moving up", "--seed", "1", "--out", str(tmp_path / "x.mp4")]) == 0
    assert calls[0]["seed"] == 1


def test_upsample_shared_noise_reaches_the_pipeline(tmp_path, monkeypatch):
    """Its effect is tested on the pipeline (test_stack); here, that --shared-noise reaches it, and that without it
    the pipeline's own default applies."""
    from videoldm_ref.data import data_samples_dir
    from videoldm_ref.stack import VideoLDMPipeline
    calls = []
    def upsample(self, video, *a, **k):
        calls.append(k.get("shared_noise", "the pipeline's default"))
        yield torch.zeros(3, video.shape[1], 4 * video.shape[-2], 4 * video.shape[-1])
    monkeypatch.setattr(VideoLDMPipeline, "upsample", upsample)
    clip = str(data_samples_dir() / "bikes_64x64.mp4")
    for more in ([], ["--shared-noise", "0.8"]):
        assert main(["upsample", clip, "--max-frames", "2", *more, "--out", str(tmp_path / "u.mp4")]) == 0
    assert calls == ["the pipeline's default", 0.8]


def test_sample_upsamples_by_default_and_demo_is_the_113_frame_sample(tmp_path, capsys, monkeypatch):
    assert main(["sample", "a red circle moving right", "--frames", "9", "--steps", "2", "--out",
                 str(tmp_path / "v.mp4")]) == 0
    assert read_video(tmp_path / "v.mp4")[0].shape == (3, 9, 256, 256)
    import videoldm_ref.cli as cli
    calls = []
    monkeypatch.setattr(cli, "sample", lambda *a, **k: calls.append((a, k)) or Path(a[1]))
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0 and (tmp_path / "outputs").is_dir()            # its default folder is made
    (caption, out), kw = calls[0]
    assert caption == cli.DEMO_CAPTION and out == Path("outputs/demo.mp4") and kw == dict(frames=113, seed=0, steps=20)


def test_sample_on_a_stable_diffusion_backbone(tmp_path, capsys):
    "A person's Stable Diffusion folder (a tiny random one here) and temporal layers saved for it, as a user runs it."
    from videoldm_ref.text2video import TextToVideoPipeline, tiny_stable_diffusion
    sd = tiny_stable_diffusion(tmp_path / "sd")
    pipe = TextToVideoPipeline.from_stable_diffusion(sd)
    pipe.keyframes.save_temporal(tmp_path / "layers")
    out = tmp_path / "v.mp4"
    assert main(["sample", "a cat", "--backbone", str(sd), "--temporal", str(tmp_path / "layers"), "--frames", "9",
                 "--steps", "2", "--height", "24", "--width", "32", "--out", str(out)]) == 0
    stdout, err = said(capsys)
    assert stdout.strip() == str(out) and err[0].startswith("stages: keyframes") and "upsampler" not in err[0]
    video, fps = read_video(out)
    assert video.shape == (3, 9, 24, 32) and fps == 30
    for argv, match in [(["--temporal", str(tmp_path / "layers")], "temporal: only with a Stable Diffusion backbone"),
                        (["--backbone", str(tmp_path)], "path: no model_index.json"),
                        (["--backbone", str(sd), "--height", "25"], "height: expected a multiple")]:
        assert main(["sample", "a cat", *argv, "--out", str(tmp_path / "x.mp4")]) == 2
        assert match in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists()


def test_sample_with_the_x4_upscaler_as_the_upsampler(tmp_path, capsys):
    "--upscaler puts an x4 upscaler folder (a tiny random one) behind a Stable Diffusion backbone: frames 4 times larger."
    from videoldm_ref.text2video import tiny_sd_upscaler, tiny_stable_diffusion
    sd, up, out = tiny_stable_diffusion(tmp_path / "sd"), tiny_sd_upscaler(tmp_path / "x4"), tmp_path / "v.mp4"
    assert main(["sample", "a cat", "--backbone", str(sd), "--upscaler", str(up), "--frames", "5", "--steps", "2",
                 "--height", "16", "--width", "24", "--out", str(out)]) == 0
    stdout, err = said(capsys)
    assert stdout.strip() == str(out) and "upsampler" in err[0]
    assert read_video(out)[0].shape == (3, 5, 64, 96)
    for argv, match in [(["--upscaler", str(up)], "upscaler: only with a Stable Diffusion backbone"),
                        (["--backbone", str(sd), "--upscaler", str(sd)], "not a StableDiffusionUpscalePipeline"),
                        (["--backbone", str(sd), "--upscaler-temporal", str(up)], "upscaler_temporal: temporal layers")]:
        assert main(["sample", "a cat", *argv, "--out", str(tmp_path / "x.mp4")]) == 2
        assert match in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists()


@pytest.mark.parametrize("argv, match", [
    (["sample", "a red circle moving right", "--frames", "0"], "frames: expected an integer in [2, inf], got 0"),
    (["sample", "a red circle moving right", "--steps", "0"], "steps: expected an integer in [1, inf], got 0"),
    (["sample", "a red circle moving right", "--out", "OUT/v.gif"], "out: expected a .mp4 file name"),
    (["sample", "a red circle moving right", "--out", "OUT/missing/v.mp4"], "out: the folder"),
    (["sample", "a red circle moving right", "--out", "OUT"], "out: expected a .mp4 file name"),
    (["extend", "OUT/notes.mp4", "--frames", "4", "--out", "OUT/e.mp4"], "IN: "),
    (["extend", "SAMPLE", "--frames", "-1", "--out", "OUT/e.mp4"], "frames: expected an integer in [1, inf]"),
    (["interpolate", "OUT/missing.mp4", "--out", "OUT/i.mp4"], "IN: no such file"),
    (["interpolate", "SAMPLE", "--max-frames", "0", "--out", "OUT/i.mp4"], "max_frames"),
    (["interpolate", "SAMPLE", "--max-frames", "1", "--out", "OUT/i.mp4"], "at least 2 frames"),
    (["interpolate", "SAMPLE", "--max-frames", "1", "--method", "motion-blend", "--out", "OUT/i.mp4"], "IN: expected at least 2"),
    (["upsample", "OUT", "--out", "OUT/u.mp4"], "IN: "),
    (["upsample", "SAMPLE", "--steps", "0", "--out", "OUT/u.mp4"], "steps"),
    (["upsample", "SAMPLE", "--shared-noise", "1.5", "--out", "OUT/u.mp4"], "shared_noise"),
    (["demo", "--out", "OUT/demo.avi"], "out: expected a .mp4 file name"),
    (["drive", "--boxes", "OUT/notes.mp4", "--out", "OUT/d.mp4"], "not valid JSON"),
    (["drive", "--boxes", "OUT/missing.json", "--out", "OUT/d.mp4"], "path: no such file"),
    (["drive", "--labels", "dusk,empty", "--out", "OUT/d.mp4"], "labels: expected one of"),
    (["drive", "--out", "OUT/d.mp4"], "--labels: expected labels"),
    (["drive", "--labels", "day,empty", "--seconds", "0", "--out", "OUT/d.mp4"], "--seconds"),
    (["drive", "--labels", "day,empty", "--rollouts", "0", "--out", "OUT/d.mp4"], "--rollouts"),
    (["drive", "--labels", "day,empty", "--out", "OUT/d.gif"], "out: expected a .mp4 file name"),
    (["data-samples", "--source", "OUT/missing.whl", "--out", "OUT"], "source")])
def test_bad_arguments_exit_2_with_one_line_and_no_file(tmp_path, capsys, argv, match):
    from videoldm_ref.data import data_samples_dir
    (tmp_path / "notes.mp4").write_text("not a video")
    argv = [a.replace("OUT", str(tmp_path)).replace("SAMPLE", str(data_samples_dir() / "bikes_64x64.mp4"))
            for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("videoldm-ref: error: ") and match in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]          # nothing written


def test_own_video_commands_on_a_sample_clip(tmp_path, capsys, monkeypatch):
    from videoldm_ref.data import data_samples_dir
    clip = str(data_samples_dir() / "bikes_64x128.mp4")
    assert main(["extend", clip, "--frames", "5", "--max-frames", "6", "--steps", "2", "--out", str(tmp_path / "e.mp4")]) == 0
    assert main(["interpolate", clip, "--max-frames", "3", "--steps", "2", "--out", str(tmp_path / "i.mp4")]) == 0
    assert main(["upsample", clip, "--max-frames", "2", "--steps", "1", "--out", str(tmp_path / "u.mp4")]) == 0
    (e, fe), (i, fi), (u, fu) = (read_video(tmp_path / f"{n}.mp4") for n in "eiu")
    assert e.shape == (3, 11, 64, 64) and fe == 25                            # 6 given (fitted) + 5 new
    assert i.shape == (3, 9, 64, 64) and fi == 100                            # x4 the frame rate
    assert u.shape == (3, 2, 256, 512) and fu == 25                           # x4 the size, the aspect kept
    given = read_video(clip, max_frames=6)[0][:, :, :, 32:96]                  # the central square
    assert (e[:, :6] - given).abs().mean() < 0.05
    from videoldm_ref.cli import _read_input
    from videoldm_ref.stack import fit_frames
    fitted, fps = _read_input(clip, 7, 32)                                   # fitted chunk by chunk as it is read
    assert fps == 25 and torch.allclose(fitted, fit_frames(read_video(clip, max_frames=7)[0], 32), atol=1e-6)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["upsample", clip, "--max-frames", "1", "--steps", "1"]) == 0   # the default output
    assert capsys.readouterr().out.strip() == "outputs/bikes_64x128_upsampled.mp4"
    assert (tmp_path / "outputs" / "bikes_64x128_upsampled.mp4").is_file()
    settings = json.loads((tmp_path / "outputs" / "bikes_64x128_upsampled.mp4.json").read_text())
    assert settings["settings"]["steps"] == 1                             # given
    assert main(["upsample", clip, "--max-frames", "1", "--out", "u.mp4"]) == 0  # the stack's default, recorded
    from videoldm_ref.stack import UPSAMPLER_STEPS
    assert json.loads((tmp_path / "u.mp4.json").read_text())["settings"]["steps"] == UPSAMPLER_STEPS


def test_the_command_line_starts_without_importing_the_stack():
    code = ("import sys, videoldm_ref.cli; "
            "print(sorted(m for m in ('videoldm_ref.stack', 'diffusers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"                                            # both take seconds to import


def test_an_interrupted_command_leaves_no_file_that_looks_complete(tmp_path, capsys, monkeypatch):
    from videoldm_ref.data import data_samples_dir
    from videoldm_ref.stack import VideoLDMPipeline
    def upsample(self, video, *a, **k):
        yield torch.zeros(3, 2, 4 * video.shape[-2], 4 * video.shape[-1])
        raise RuntimeError("out of memory")
    monkeypatch.setattr(VideoLDMPipeline, "upsample", upsample)
    out = tmp_path / "u.mp4"
    assert main(["upsample", str(data_samples_dir() / "bikes_64x64.mp4"), "--max-frames", "8", "--out", str(out)]) == 1
    assert capsys.readouterr().err.endswith("videoldm-ref: error: RuntimeError: out of memory\n")
    assert not out.exists() and (tmp_path / "u.partial.mp4").exists()


def test_unknown_caption_words_are_reported_in_one_line(tmp_path, capsys):
    out = tmp_path / "v.mp4"
    assert main(["sample", "a purple circle moving right", "--frames", "9", "--steps", "1", "--no-upsample",
                 "--out", str(out)]) == 0
    warning = ("videoldm-ref: warning: captions: 'a purple circle moving right': unknown words ['purple'] "
               "are read as <unk>")
    _, err = said(capsys)
    assert warning in err and out.exists()


def test_runtime_failures_exit_1_without_a_traceback(monkeypatch, capsys):
    import videoldm_ref.cli as cli
    def full_disk(*a, **k): raise OSError(28, "No space left on device")
    monkeypatch.setattr(cli, "demo", full_disk)
    assert main(["demo"]) == 1
    assert capsys.readouterr().err == "videoldm-ref: error: OSError: [Errno 28] No space left on device\n"


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "videoldm-ref"
    res = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == f"videoldm-ref {videoldm_ref.__version__}"


def test_settings_and_package_versions_agree():
    from configparser import ConfigParser
    cfg = ConfigParser()
    cfg.read(Path(videoldm_ref.__file__).parents[1] / "settings.ini")
    assert cfg["DEFAULT"]["version"] == videoldm_ref.__version__


def test_train_command_knows_every_shipped_model(capsys):
    from videoldm_ref.cli import TRAINERS
    assert set(TRAINERS) == {"autoencoder", "image-ldm", "keyframes", "temporal-decoder", "prediction", "interpolation",
                             "upsampler", "video-features", "dreambooth", "driving"}
    with pytest.raises(SystemExit):
        main(["train", "no-such-model"])
    assert "invalid choice" in capsys.readouterr().err


def test_drive_writes_the_futures_of_one_first_frame_stacked(tmp_path, capsys, monkeypatch):
    """Driving models of random weights in a folder, the file's labels replaced; then the shipped ones by default, and a
    folder that is not a driving models' one refused."""
    from videoldm_ref.autoencoder import build_vae
    from videoldm_ref.context import ContextLDM
    from videoldm_ref.driving_models import DRIVING_TEMPORAL, DrivingModels, LayoutLDM
    from videoldm_ref.keyframes import VideoLDM
    torch.manual_seed(0)
    backbone = LayoutLDM.build().eval()
    DrivingModels(build_vae("demo").eval(), backbone, ContextLDM.from_video_ldm(
        VideoLDM.from_image_ldm(backbone.without_layout(), **DRIVING_TEMPORAL), 32)).save_pretrained(tmp_path / "m")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "layout.json").write_text(json.dumps({"labels": ["day", "empty"],
                                                      "cars": [{"box": [10, 27, 30, 38], "color": "red"}]}))
    assert main(["drive", "--boxes", "layout.json", "--labels", "night,crowded", "--seconds", "0.3", "--rollouts", "2",
                 "--steps", "2", "--models", "m"]) == 0
    out = Path(capsys.readouterr().out.strip())
    video, fps = read_video(out)
    assert out.name == "drive_night_crowded.mp4" and video.shape == (3, 3, 128, 128) and fps == 10
    assert main(["drive", "--labels", "day,empty", "--seconds", "0.2", "--steps", "2", "--out", str(tmp_path / "s.mp4")]) == 0
    assert read_video(tmp_path / "s.mp4")[0].shape == (3, 2, 64, 128)                     # the shipped models
    capsys.readouterr()
    assert main(["drive", "--labels", "day,empty", "--models", str(tmp_path), "--out", str(tmp_path / "x.mp4")]) == 2
    assert "DrivingModels.save_pretrained" in capsys.readouterr().err


def test_train_dreambooth_writes_outside_the_shipped_checkpoints(tmp_path, monkeypatch, capsys):
    "The fine-tuned backbone is not shipped: by default it goes to build/dreambooth, and it runs on the CPU only."
    import videoldm_ref.cli as cli
    import videoldm_ref.text2video as t2v
    calls = []
    monkeypatch.setattr(t2v, "dreambooth", lambda out, **k: calls.append((out, k)))
    monkeypatch.chdir(tmp_path)
    assert main(["train", "dreambooth"]) == 0
    assert calls[0][0] == Path("build") / "dreambooth" and calls[0][1]["ckpt_dir"] == Path("build/ckpt/dreambooth")
    assert main(["train", "dreambooth", "--device", "cuda"]) == 2 and len(calls) == 1


def test_two_stage_training_runs_the_stages_in_order_and_stops_where_minutes_cut_one_short(tmp_path):
    from types import SimpleNamespace
    from videoldm_ref.cli import _train_stages
    calls, done = [], {"a": 3, "b": 1}                                   # b is cut short (1 of its 2 steps)

    def train(out, *, stage, ckpt_dir, device, time_limit):
        calls.append((stage, Path(ckpt_dir).name))
        return None, SimpleNamespace(history=[0.0] * done[stage])

    stages = {"a": SimpleNamespace(steps=3), "b": SimpleNamespace(steps=2), "c": SimpleNamespace(steps=1)}
    with pytest.warns(UserWarning, match="stopped at step 1 of 2"):
        result = _train_stages(train, stages, tmp_path / "m", tmp_path / "ckpt", minutes=1)
    assert calls == [("a", "a"), ("b", "b")] and len(result.history) == 1   # c waits for b to finish


def test_interpolation_training_keeps_the_paper_s_model_beside_the_motion_residual_one(tmp_path, monkeypatch):
    from types import SimpleNamespace
    import videoldm_ref.interpolation as interpolation
    from videoldm_ref.cli import _train_interpolation
    seen = []

    def train(out, *, stage, ckpt_dir, device, time_limit):               # writes which stage made the model
        seen.append(stage)
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "made_by").write_text(stage)
        steps = {"all": interpolation.INTERPOLATION_TRAINING, "slow": interpolation.INTERPOLATION_SLOW_TRAINING,
                 "residual": interpolation.RESIDUAL_TRAINING, "motion": interpolation.MOTION_TRAINING}[stage].steps
        return None, SimpleNamespace(history=[0.0] * steps)

    monkeypatch.setattr(interpolation, "train_interpolation", train)
    _train_interpolation(tmp_path / "interpolation", tmp_path / "ckpt")
    assert seen == ["all", "slow", "residual", "motion"]
    assert (tmp_path / "interpolation_paper" / "made_by").read_text() == "slow"
    assert (tmp_path / "interpolation" / "made_by").read_text() == "motion"
    # into the shipped folder (a stand-in data_samples/ here): the paper's model goes to build/, it is not shipped
    monkeypatch.setenv("VIDEOLDM_DATA_SAMPLES", str(tmp_path / "ds" / "data_samples"))
    shipped = tmp_path / "ds" / "data_samples" / "checkpoints" / "interpolation"
    _train_interpolation(shipped, tmp_path / "ckpt2")
    assert (tmp_path / "ds" / "build" / "interpolation_paper" / "made_by").read_text() == "slow"
    assert not (shipped.parent / "interpolation_paper").exists() and (shipped / "made_by").read_text() == "motion"


def test_train_device_and_minutes_are_checked_before_any_training(tmp_path, capsys):
    out = ["--out", str(tmp_path / "m")]
    assert main(["train", "keyframes", "--device", "gpu0", *out]) == 2
    assert "--device: expected a torch device" in capsys.readouterr().err
    assert main(["train", "autoencoder", "--minutes", "5", *out]) == 2
    assert "only `train keyframes`, `prediction`, `interpolation`, `upsampler`, `video-features` and `driving` take them" in \
        capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(["train", "keyframes", "--device", "cuda", *out]) == 2
        assert "CUDA is not available" in capsys.readouterr().err
    assert main(["train", "keyframes", "--minutes", "-1", *out]) == 2
    assert "--minutes" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_motion_report_gives_the_yardsticks_verdict_in_one_line():
    from videoldm_ref.cli import motion_report
    from videoldm_ref.data import MovingShapes
    clip = MovingShapes(1, frames=8, seed=5)[0]
    assert motion_report(clip["video"], clip["caption"]).startswith("motion yardstick: pass; travels")
    assert motion_report(clip["video"].flip(1), clip["caption"]).startswith("motion yardstick: fail (direction, smooth)")
    assert motion_report(clip["video"], "zoom in on a cat").startswith("motion yardstick: not judged (caption:")


@pytest.mark.parametrize("method", ["blend", "motion-blend"])
def test_interpolate_without_the_model_keeps_the_size_and_the_given_frames(tmp_path, method):
    from videoldm_ref.cli import interpolate_file
    from videoldm_ref.data import data_samples_dir
    from videoldm_ref.interpolation import blend_keyframes, motion_blend
    clip = data_samples_dir() / "bikes_64x128.mp4"
    path = interpolate_file(clip, tmp_path / "m.mp4", max_frames=11, method=method)       # two windows: 8 + 2
    made, fps = read_video(path)
    given = read_video(clip, max_frames=11)[0]
    assert made.shape == (3, 41, 64, 128) and fps == 100                       # its own size, x4 the frame rate
    assert (made[:, ::4] - given).abs().mean() < 0.03                          # the given frames (through the codec)
    whole = (motion_blend if method == "motion-blend" else blend_keyframes)(given[None], 4)[0]   # windows join
    assert (made - whole).abs().mean() < 0.03
    with pytest.raises(ValueError, match="method"):
        interpolate_file(clip, tmp_path / "x.mp4", method="cubic")
    assert not (tmp_path / "x.mp4").exists()


def test_train_driving_runs_its_three_models_in_order_each_resumable(tmp_path, monkeypatch, capsys):
    from types import SimpleNamespace
    import videoldm_ref.driving as driving
    import videoldm_ref.driving_models as dm
    calls = []

    def record(name, steps):
        def train(out, **k):
            calls.append((name, Path(out).name, Path(k["ckpt_dir"]).name))
            Path(out).mkdir(parents=True, exist_ok=True)
            return None, SimpleNamespace(history=[0.0] * steps)
        return train
    monkeypatch.setattr(driving, "train_driving_autoencoder", record("autoencoder", 1))
    monkeypatch.setattr(dm, "train_layout_ldm", record("layout", dm.LAYOUT_TRAINING.steps))
    monkeypatch.setattr(dm, "train_driving_prediction", record("prediction", dm.DRIVING_PREDICTION_TRAINING.steps))
    monkeypatch.setattr(dm, "load_driving_autoencoder", lambda path: "vae")
    monkeypatch.setattr(dm, "load_layout_ldm", lambda path: "backbone")
    assert main(["train", "driving", "--out", str(tmp_path / "driving"), "--ckpt-dir", str(tmp_path / "ckpt")]) == 0
    assert calls == [("autoencoder", "autoencoder", "autoencoder"), ("layout", "layout", "layout"),
                     ("prediction", "prediction", "prediction")]
    calls.clear()                                                     # again: the autoencoder is there, kept
    assert main(["train", "driving", "--out", str(tmp_path / "driving"), "--ckpt-dir", str(tmp_path / "ckpt")]) == 0
    assert [c[0] for c in calls] == ["layout", "prediction"]
    monkeypatch.setenv("WORLD_SIZE", "2")                          # under torchrun the CPU-only stage must be done
    assert main(["train", "driving", "--out", str(tmp_path / "fresh"), "--ckpt-dir", str(tmp_path / "ckpt")]) == 2
    assert "once without torchrun" in capsys.readouterr().err


def test_train_under_torchrun_writes_from_rank_0_alone(tmp_path, monkeypatch, capsys):
    "Rank 1 of two trains into a scratch folder that is removed; rank 0 into the folder asked for."
    import videoldm_ref.cli as cli
    seen = []

    def fake(out, **k):
        Path(out).mkdir(parents=True)
        (Path(out) / "weights").write_text("w")
        seen.append(Path(out))
    monkeypatch.setitem(cli.TRAINERS, "autoencoder", fake)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert main(["train", "autoencoder", "--out", str(tmp_path / "ae"), "--ckpt-dir", str(tmp_path / "c")]) == 0
    assert not (tmp_path / "ae").exists() and seen[0].name == "ae" and not seen[0].exists()
    monkeypatch.setenv("RANK", "0")
    assert main(["train", "autoencoder", "--out", str(tmp_path / "ae"), "--ckpt-dir", str(tmp_path / "c")]) == 0
    assert seen[1] == tmp_path / "ae" and (tmp_path / "ae" / "weights").exists()


def test_every_video_has_a_sidecar_with_its_settings_and_model_fingerprints(tmp_path, capsys):
    from videoldm_ref.cli import fingerprint
    from videoldm_ref.data import data_samples_dir
    clip = str(data_samples_dir() / "bikes_64x64.mp4")
    assert main(["upsample", clip, "--max-frames", "2", "--steps", "1", "--seed", "4", "--out", str(tmp_path / "u.mp4")]) == 0
    record = json.loads((tmp_path / "u.mp4.json").read_text())
    assert record["command"] == "upsample" and record["settings"]["seed"] == 4 and record["settings"]["src"] == clip
    assert record["models"] == {"upsampler": fingerprint(data_samples_dir() / "checkpoints" / "upsampler")}
    assert main(["interpolate", clip, "--max-frames", "3", "--method", "blend", "--out", str(tmp_path / "b.mp4")]) == 0
    assert json.loads((tmp_path / "b.mp4.json").read_text())["models"] == {}          # no model: no fingerprint
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "w.safetensors").write_bytes(b"abc")
    first = fingerprint(tmp_path / "copy")
    (tmp_path / "copy" / "w.safetensors").write_bytes(b"abd")
    assert fingerprint(tmp_path / "copy") != first and len(first) == 16


def test_the_file_commands_show_a_progress_bar_of_the_frames_written_that_can_be_switched_off(tmp_path, capsys):
    from videoldm_ref.cli import _write
    chunks = lambda: (torch.zeros(3, 2, 16, 16) for _ in range(3))
    assert _write(chunks(), tmp_path / "a.mp4", 30, total=6) == 6
    err = capsys.readouterr().err
    assert "a.mp4" in err and "0/6" in err and "frame" in err                  # text on stderr, as in a terminal
    assert _write(chunks(), tmp_path / "b.mp4", 30, total=6, progress=False) == 6
    assert capsys.readouterr().err == ""
