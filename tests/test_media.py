import numpy as np
import pytest
import torch

from videoldm_ref.data import load_sample_clip
from videoldm_ref.media import (_test_pattern, frame_slider, frames_grid, from_uint8, read_video, show_video,
                                tile_videos, to_uint8, write_video, VideoWriter)
from videoldm_ref.metrics import psnr


@pytest.fixture(scope="module")
def clip():
    v, _ = load_sample_clip("bigbuckbunny_64x128", max_frames=20)
    return v


def test_uint8_round_trip_is_exact_to_8_bits():
    v = torch.rand(3, 5, 6, 7) * 2 - 1
    assert (from_uint8(to_uint8(v)) - v).abs().max() <= 1 / 127.5 + 1e-6
    frames = np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3), dtype=np.uint8)
    assert np.array_equal(to_uint8(from_uint8(frames)), frames)
    with pytest.raises(ValueError, match="frames: expected a uint8 array"):
        from_uint8(frames.astype(np.float32))


def test_mp4_round_trip_keeps_frames_size_and_quality(tmp_path, clip):
    path = write_video(clip, tmp_path / "clip.mp4", fps=25)
    back, fps = read_video(path)
    assert back.shape == clip.shape
    assert fps == pytest.approx(25)
    assert psnr(back, clip) >= 35


def test_mp4_fractional_fps_and_odd_sizes(tmp_path):
    v = _test_pattern(frames=6, h=33, w=47)
    back, fps = read_video(write_video(v, tmp_path / "odd.mp4", fps=1.875))
    assert fps == pytest.approx(1.875)
    assert back.shape == (3, 6, 34, 48)                      # padded to even sizes by repeating the edge
    assert psnr(back[:, :, :33, :47], v) >= 30
    assert torch.allclose(back[:, :, 33], back[:, :, 32], atol=0.1)


def test_gif_round_trip(tmp_path, clip):
    back, fps = read_video(write_video(clip, tmp_path / "clip.gif", fps=10))
    assert back.shape == clip.shape
    assert fps == pytest.approx(10, rel=0.05)
    assert psnr(back, clip) >= 22


def test_grey_videos_are_written_as_rgb(tmp_path):
    grey = torch.linspace(-1, 1, 16).view(1, 1, 1, 16).expand(1, 4, 16, 16).contiguous()
    back, _ = read_video(write_video(grey, tmp_path / "grey.mp4"))
    assert back.shape == (3, 4, 16, 16)
    assert psnr(back, grey.expand(3, -1, -1, -1)) >= 35


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path, clip, monkeypatch):
    target = tmp_path / "out.mp4"
    write_video(clip, target)
    before = target.read_bytes()
    import videoldm_ref.media as media

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(media, "_write_mp4", broken)
    with pytest.raises(RuntimeError):
        write_video(clip * 0, target)
    assert target.read_bytes() == before                     # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_video_writer_streams_and_keeps_what_it_wrote_when_cut_short(tmp_path, clip):
    with VideoWriter(tmp_path / "whole.mp4", fps=25) as out:
        for chunk in clip.split(3, dim=1):
            out.write(chunk)
    whole, fps = read_video(tmp_path / "whole.mp4")
    expected, _ = read_video(write_video(clip, tmp_path / "ref.mp4", fps=25))
    assert fps == 25 and torch.equal(whole, expected)          # chunked = one call, to the last bit
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(tmp_path / "cut.mp4") as out:
            out.write(clip[:, :5])
            raise RuntimeError("boom")
    kept, _ = read_video(tmp_path / "cut.partial.mp4")
    assert kept.shape[1] == 5 and not (tmp_path / "cut.mp4").exists()
    assert torch.equal(kept, expected[:, :5]) or psnr(kept, expected[:, :5]) > 40


def test_read_video_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        read_video(tmp_path / "missing.mp4")
    (tmp_path / "text.mp4").write_text("hello")
    with pytest.raises(ValueError, match="text.mp4"):
        read_video(tmp_path / "text.mp4")
    (tmp_path / "empty.gif").write_bytes(b"")
    with pytest.raises(ValueError, match="empty.gif"):
        read_video(tmp_path / "empty.gif")
    with pytest.raises(ValueError, match="path: expected a file"):
        read_video(tmp_path)
    with pytest.raises(ValueError, match="max_frames"):
        read_video(tmp_path / "text.mp4", max_frames=0)


def test_write_video_bad_inputs(tmp_path, clip):
    with pytest.raises(ValueError, match="path: expected a .mp4 or .gif"):
        write_video(clip, tmp_path / "a.webm")
    with pytest.raises(ValueError, match="video: expected 1 or 3 channels"):
        write_video(clip[:2], tmp_path / "a.mp4")
    with pytest.raises(ValueError, match="video: expected a video"):
        write_video(clip.unsqueeze(0), tmp_path / "a.mp4")
    with pytest.raises(ValueError, match="video: expected values in"):
        write_video((clip + 1) * 127.5, tmp_path / "a.mp4")
    with pytest.raises(ValueError, match="fps"):
        write_video(clip, tmp_path / "a.mp4", fps=0)
    assert not any(tmp_path.iterdir())


def test_read_max_frames(clip, tmp_path):
    back, _ = read_video(write_video(clip, tmp_path / "c.mp4"), max_frames=7)
    assert back.shape[1] == 7


def test_frames_grid_shape_and_png(tmp_path, clip):
    fig = frames_grid([clip, clip[:, :5]], n_frames=4, titles=["a", "b"], path=tmp_path / "g.png")
    assert len(fig.axes) == 8
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="titles: expected 2"):
        frames_grid([clip, clip], titles=["only one"])
    with pytest.raises(TypeError, match="videos"):
        frames_grid([])


def test_show_video_returns_an_animation(clip):
    html = show_video([clip[:, :3], clip[:, :2]], fps=4, titles=["x", "y"])
    assert "<script" in html.data and html.data.count("data:image/jpeg") == 3      # one frame per step, JPEG
    png = show_video([clip[:, :3], clip[:, :2]], fps=4, frame_format="png")
    assert png.data.count("data:image/png") == 3 and len(html.data) < len(png.data)
    with pytest.raises(ValueError, match="frame_format"):
        show_video(clip, frame_format="gif")


def test_frame_slider_follows_the_slider(clip):
    box = frame_slider(clip[:, :4], scale=2)
    slider, image = box.children
    first = image.value
    slider.value = 3
    assert image.value != first
    assert image.value == frame_slider(clip[:, 3:4], scale=2).children[1].value


def test_tile_videos_places_each_video(clip):
    small = clip[:, :5, :32, :32]
    t = tile_videos([clip, small], ncols=1, pad=2, fill=-1)
    assert t.shape == (3, 20, 2 * (64 + 2) + 2, 128 + 4)
    assert torch.equal(t[:, :, 2:66, 2:130], clip)
    y, x = 2 + 66 + 16, 2 + 48                                # centred in its cell
    assert torch.equal(t[:, :5, y:y + 32, x:x + 32], small)
    assert torch.equal(t[:, 10, y:y + 32, x:x + 32], small[:, -1])   # holds its last frame


def test_read_video_transforms_chunk_by_chunk(tmp_path):
    path = write_video(_test_pattern(20, 48, 64), tmp_path / "big.mp4", fps=25)
    whole, _ = read_video(path)
    seen = []
    small, fps = read_video(path, transform=lambda v: seen.append(tuple(v.shape)) or v[:, :, ::4, ::4], chunk=8)
    assert seen == [(3, 8, 48, 64), (3, 8, 48, 64), (3, 4, 48, 64)] and fps == 25
    assert torch.equal(small, whole[:, :, ::4, ::4])                         # the same as transforming the whole
    assert torch.equal(read_video(path, chunk=3)[0], whole)                   # the chunk size changes nothing else
    assert read_video(path, max_frames=9, chunk=4)[0].shape[1] == 9
    with pytest.raises(ValueError, match="chunk"):
        read_video(path, chunk=0)
    with pytest.raises(TypeError, match="transform"):
        read_video(path, transform="small")
