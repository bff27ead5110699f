"""Driving scenes (`17_driving`): the synthetic road clips, their labels and boxes, and the yardsticks that judge
generated drives (the markings' flow, cars against a layout, the labels read back), each checked on the data and on
deliberately broken videos."""
import numpy as np
import pytest
import torch

from videoldm_ref.driving import (CAR_COLORS, H, SCENE, W, DrivingScenes, average_precision, car_box, detect_cars,
                                  layout_scores, marking_flow, render, scene_labels)


@pytest.fixture(scope="module")
def clips():
    data = DrivingScenes(12, frames=6, seed=11)
    return data, [data[i] for i in range(len(data))]


def test_clips_are_seeded_labelled_and_in_range(clips):
    data, items = clips
    assert torch.equal(items[3]["video"], DrivingScenes(12, frames=6, seed=11)[3]["video"])
    assert not torch.equal(items[3]["video"], DrivingScenes(12, frames=6, seed=12)[3]["video"])
    for it in items:
        assert it["video"].shape == (3, 6, H, W) and it["video"].min() >= -1 and it["video"].max() <= 1
        assert it["caption"] == f"{it['time']}, {it['traffic']}" and it["boxes"].shape == (6, len(it["colors"]), 4)
        assert len(set(it["colors"])) == len(it["colors"]) == (3 if it["traffic"] == "crowded" else len(it["colors"]))


def test_the_detector_finds_exactly_the_cars_drawn(clips):
    for it in clips[1]:
        for t in range(it["video"].shape[1]):
            found = {d["color"]: d["box"] for d in detect_cars(it["video"][:, t])}
            assert found == {c: tuple(int(v) for v in b) for c, b in zip(it["colors"], it["boxes"][t].tolist())
                             if not np.isnan(b[0])}


def test_layout_scores_on_the_data_and_on_broken_detections(clips):
    frames = [(it["video"][:, t], it["boxes"][t]) for it in clips[1] for t in range(6)]
    found, truths = [detect_cars(f) for f, _ in frames], [b for _, b in frames]
    perfect = layout_scores(found, truths)
    assert perfect["ap"] == {0.5: 1.0, 0.75: 1.0} and perfect["missing"] == perfect["extra"] == 0
    moved = layout_scores([[d | dict(box=tuple(v + 1 for v in d["box"])) for d in f] for f in found], truths)
    assert moved["ap"][0.75] < moved["ap"][0.5] <= 1 and moved["mean_iou"] < 1
    empty = layout_scores([[] for _ in found], truths)
    assert empty["ap"][0.5] == 0 and empty["missing"] == perfect["n_true"]
    with pytest.raises(ValueError, match="truths"):
        layout_scores(found, truths[:-1])


def test_average_precision_against_closed_forms():
    # ranked: miss, hit, hit of 4 boxes; precision 0, 1/2, 2/3 at recall 0, 1/4, 1/2; envelope 2/3 throughout
    assert average_precision([(0.3, True), (0.9, False), (0.5, True)], 4) == pytest.approx(1 / 3)
    assert average_precision([(0.9, True), (0.8, False), (0.7, True)], 2) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert average_precision([], 3) == 0 and np.isnan(average_precision([(1.0, False)], 0))
    with pytest.raises(ValueError, match="n_true"):
        average_precision([], -1)


def test_marking_flow_reads_the_ego_speed_and_tells_still_and_backwards(clips):
    data, items = clips
    for i in (0, 5):
        speed = data.scene(i)["speed"]
        assert (marking_flow(items[i]["video"]).median() - speed).abs() < 0.15
        assert (marking_flow(items[i]["video"].flip(1)).median() + speed).abs() < 0.15
    assert marking_flow(items[0]["video"][:, :1].repeat(1, 3, 1, 1)).abs().max() == 0


def test_scene_labels_read_the_data_and_catch_wrong_videos(clips):
    items = clips[1]
    assert all(scene_labels(it["video"]) == (it["time"], it["traffic"]) for it in items)
    day = next(it for it in items if it["time"] == "day")["video"]
    assert scene_labels((day + 1) * 0.2 - 1)[0] == "night"


def test_bad_input_is_refused_with_the_argument_named():
    for call, err, match in [
            (lambda: car_box(-1, 10.0), ValueError, "lane"), (lambda: car_box(0, 0.0), ValueError, "depth"),
            (lambda: render("dusk", []), ValueError, "time"), (lambda: render("day", [(0, 9.0, "teal")]), ValueError, "color"),
            (lambda: DrivingScenes(0), ValueError, "n"), (lambda: DrivingScenes(2, frames=0), ValueError, "frames"),
            (lambda: DrivingScenes(2)[2], IndexError, "i"),
            (lambda: detect_cars(torch.zeros(4, H, W)), ValueError, "frame"),
            (lambda: detect_cars(torch.full((3, H, W), float("nan"))), ValueError, "frame"),
            (lambda: marking_flow(torch.zeros(3, 1, H, W)), ValueError, "video"),
            (lambda: marking_flow(torch.zeros(3, 4, 64, 64)), ValueError, "video"),
            (lambda: scene_labels(torch.zeros(3, 4, 32, 64)), ValueError, "video"),
            (lambda: marking_flow(torch.zeros(3, 4, H, W), near=(16.0, 5.0)), ValueError, "near"),
            (lambda: marking_flow(torch.zeros(3, 4, H, W), step=0.0), ValueError, "step"),
            (lambda: detect_cars(torch.zeros(3, H, W), min_pixels=0), ValueError, "min_pixels")]:
        with pytest.raises(err, match=match):
            call()


def test_layouts_round_trip_paint_their_channels_and_refuse_bad_files(clips, tmp_path):
    import json
    from videoldm_ref.driving import check_labels, layout_channels, layout_of, read_layout
    item = next(it for it in clips[1] if it["traffic"] == "crowded")
    layout = layout_of(item, 2)
    (tmp_path / "l.json").write_text(json.dumps(dict(labels=f"{item['traffic']},{item['time']}", cars=layout["cars"])))
    assert read_layout(tmp_path / "l.json") == layout
    channels = layout_channels(layout["cars"])
    assert channels.shape == (len(CAR_COLORS), H, W) and channels.sum() == sum(d["score"] for d in detect_cars(item["video"][:, 2]))
    assert check_labels(" crowded , night") == ("night", "crowded")
    for text, match in [("[1, 2", "not valid JSON"), ('{"labels": ["day"]}', "labels: expected one of"),
                        ('{"labels": ["day", "empty"], "cars": [{"box": [0, 0, 4], "color": "red"}]}', "car 0: expected a box"),
                        ('{"labels": ["day", "empty"], "cars": [{"box": [0, 60, 4, 70], "color": "red"}]}', "car 0: box"),
                        ('{"labels": ["day", "empty"], "cars": [{"box": [0, 0, 4, 4]}]}', "car 0: color None")]:
        (tmp_path / "bad.json").write_text(text)
        with pytest.raises(ValueError, match=match) as e:
            read_layout(tmp_path / "bad.json")
        assert str(tmp_path / "bad.json") in str(e.value)
    with pytest.raises(FileNotFoundError):
        read_layout(tmp_path / "missing.json")
