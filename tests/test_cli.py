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
    assert "demo" in out and "data-samples" in out


def test_demo_generates_a_video_from_a_caption(tmp_path, capsys):
    out = tmp_path / "demo.mp4"
    assert main(["demo", "--out", str(out), "--steps", "10", "--caption", "a green square moving up"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    video, fps = read_video(out)
    assert video.shape == (3, 8, 256, 256) and fps == 4
    # a green shape on a dark background: green is the brightest channel where the picture is bright
    bright = video.mean(0) > -0.2
    assert bright.any() and video[1][bright].mean() > video[0][bright].mean()
    assert main(["demo", "--out", str(tmp_path / "other.mp4"), "--steps", "10", "--seed", "1"]) == 0
    assert not read_video(tmp_path / "other.mp4")[0].equal(video)


def test_bad_input_exits_2_with_a_message(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo.txt")]) == 2
    assert "out: expected a .mp4 or .gif" in capsys.readouterr().err
    (tmp_path / "folder.mp4").mkdir()
    assert main(["demo", "--out", str(tmp_path / "folder.mp4")]) == 2
    assert "which is a directory" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["demo", "--out", str(tmp_path / "file" / "demo.mp4")]) == 2   # refused before any sampling
    err = capsys.readouterr().err
    assert err.startswith("videoldm-ref: error: out: cannot make the folder") and err.count("\n") == 1
    assert main(["data-samples", "--source", str(tmp_path / "missing.whl"), "--out", str(tmp_path)]) == 2
    assert "source" in capsys.readouterr().err


def test_unknown_caption_words_are_reported_in_one_line(tmp_path, capsys):
    out = tmp_path / "v.gif"
    assert main(["demo", "--out", str(out), "--steps", "1", "--caption", "a purple circle moving right"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("videoldm-ref: warning: captions: 'a purple circle moving right': unknown words ['purple'] "
                      "are read as <unk>") and out.exists()


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
                             "upsampler"}
    with pytest.raises(SystemExit):
        main(["train", "no-such-model"])
    assert "invalid choice" in capsys.readouterr().err


def test_train_device_and_minutes_are_checked_before_any_training(tmp_path, capsys):
    out = ["--out", str(tmp_path / "m")]
    assert main(["train", "keyframes", "--device", "gpu0", *out]) == 2
    assert "--device: expected a torch device" in capsys.readouterr().err
    assert main(["train", "autoencoder", "--minutes", "5", *out]) == 2
    assert "only `train keyframes`, `prediction`, `interpolation` and `upsampler` take them" in capsys.readouterr().err
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
