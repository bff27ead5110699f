"""Driving models (`17b_driving_models`): the layout channels, the one backbone with and without a layout, training,
sampling a first frame and its futures, saving and loading, the futures' yardsticks and bad input; on fresh random
models (the shipped ones only where noted)."""
import json

import numpy as np
import pytest
import torch

from videoldm_ref.autoencoder import build_vae
from videoldm_ref.context import ContextLDM
from videoldm_ref.driving import CAR_COLORS, DrivingScenes, H, W, layout_of, read_layout
from videoldm_ref.driving_models import (LATENT, LAYOUT_CHANNELS, DrivingFrames, DrivingModels, LayoutLDM, drive,
                                         first_frames, flowing, heldout_layouts, labels_caption, lane_keeping,
                                         layout_latent, layout_loss, train_layout_ldm)
from videoldm_ref.keyframes import VideoLDM
from videoldm_ref.data import data_samples_dir
from videoldm_ref.train import TrainConfig, step_generator


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    layout = LayoutLDM.build().eval()
    prediction = ContextLDM.from_video_ldm(VideoLDM.from_image_ldm(layout.without_layout(), head_dim=16), 32).eval()
    return DrivingModels(build_vae("demo").eval(), layout, prediction)


def test_layout_channels_hold_each_box_area_in_its_colour():
    cars = [dict(box=[4, 30, 20, 42], color="red"), dict(box=[70, 25, 75, 29], color="cyan")]
    lat = layout_latent(cars)
    assert lat.shape == (LAYOUT_CHANNELS, *LATENT) == (7, H // 4, W // 4)
    for car in cars:                            # area in 4x4 cells: 16x12 / 16 = 12, 5x4 / 16 = 1.25
        x0, y0, x1, y1 = car["box"]
        assert lat[list(CAR_COLORS).index(car["color"])].sum().item() == pytest.approx((x1 - x0) * (y1 - y0) / 16)
    assert lat[-1].eq(1).all() and lat[:-1].sum() == pytest.approx(12 + 1.25)
    assert layout_latent([])[:-1].eq(0).all() and layout_latent([])[-1].eq(1).all() and layout_latent(None).eq(0).all()
    with pytest.raises(ValueError, match="cars"):
        layout_latent([dict(box=[0, 0, 200, 9], color="red")])


def test_without_layout_is_exactly_the_model_with_no_layout(models):
    ldm = models.layout
    z, t, labels = torch.randn(3, 4, *LATENT), torch.tensor([1, 400, 999]), ["day, empty", "night, crowded", ""]
    with torch.no_grad():
        assert torch.equal(ldm(z, t, labels), ldm.without_layout()(z, t, labels))
        lay = torch.stack([layout_latent([dict(box=[10, 30, 40, 50], color="red")])] * 3)
        assert (ldm(z, t, labels, lay) - ldm(z, t, labels)).abs().max() > 1e-4
    assert ldm.without_layout().unet.config.in_channels == 4


def test_bad_inputs_name_the_argument(models):
    ldm, z, t = models.layout, torch.randn(2, 4, *LATENT), torch.tensor([1, 2])
    with pytest.raises(ValueError, match="layout"):
        ldm(z, t, ["day, empty"] * 2, torch.zeros(2, 3, *LATENT))
    with pytest.raises(ValueError, match="latents"):
        ldm(torch.randn(2, 11, *LATENT), t, ["day, empty"] * 2)
    with pytest.raises(ValueError, match="labels"):
        labels_caption("dusk", "empty")
    with pytest.raises(ValueError, match="labels"):
        first_frames(ldm, [dict(time="day", traffic="busy")])
    with pytest.raises(TypeError, match="layouts"):
        first_frames(ldm, dict(time="day", traffic="empty"))
    with pytest.raises(ValueError, match="rollouts"):
        drive(models, dict(time="day", traffic="empty"), frames=3, rollouts=0)
    with pytest.raises(ValueError, match="layout"):
        drive(models, dict(time="day", traffic="empty", cars=[dict(box=[9, 9, 4, 12], color="red")]), frames=3)
    with pytest.raises(TypeError, match="layout"):
        drive(models, ["day", "empty"], frames=3)
    with pytest.raises(ValueError, match="guidance_scale"):
        first_frames(ldm, [dict(time="day", traffic="empty")], guidance_scale=-1.0)
    for name in ("guidance_scale", "text_scale", "context_scale"):              # refused before any model runs
        with pytest.raises(ValueError, match=name):
            drive(DrivingModels(vae=None, layout=None, prediction=None), dict(time="day", traffic="empty"), frames=3,
                  **{name: -1.0})


def test_frames_carry_their_layouts_and_the_loss_trains_the_layout_weights(models):
    scenes = DrivingScenes(3, frames=2, seed=4)
    data = DrivingFrames(models.vae, scenes)
    assert len(data) == 6 and data[3]["latent"].shape == (4, *LATENT)
    assert torch.equal(data[3]["layout"], layout_latent(layout_of(scenes[1], 1)["cars"]))
    assert data[3]["caption"] == scenes[1]["caption"]
    batch = {k: (torch.stack([data[i][k] for i in range(6)]) if k != "caption" else [data[i][k] for i in range(6)])
             for k in data[0]}
    ldm = LayoutLDM.build()
    layout_loss(p_no_layout=0.0)(ldm, batch, step_generator(0, 0)).backward()
    grad = ldm.unet.conv_in.weight.grad
    assert grad[:, 4:].abs().sum() > 0                                   # the layout channels are learned from
    ldm.zero_grad()
    layout_loss(p_no_layout=1.0)(ldm, batch, step_generator(0, 0)).backward()
    assert ldm.unet.conv_in.weight.grad[:, 4:].abs().sum() == 0            # no layout: those weights never count


def test_first_frames_are_seeded_and_follow_their_layout(models):
    layouts, truths = heldout_layouts(2)
    a = first_frames(models.layout, layouts, num_steps=3, generator=1)
    assert a.shape == (2, 4, *LATENT) and torch.equal(a, first_frames(models.layout, layouts, num_steps=3, generator=1))
    b = first_frames(models.layout, [dict(l, cars=None) for l in layouts], num_steps=3, generator=1)
    assert (a - b).abs().max() > 1e-4                                     # the layout counts
    assert len(truths) == 2 and truths[0].shape[1] == 4


def test_drive_yields_one_first_frame_then_different_futures(models):
    chunks = list(drive(models, dict(time="night", traffic="empty"), frames=10, rollouts=3, num_steps=2, generator=0))
    assert chunks[0].shape == (3, 3, 1, H, W) and sum(c.shape[2] for c in chunks) == 10
    video = torch.cat(chunks, 2)
    assert torch.equal(video[0, :, 0], video[2, :, 0])                     # one first frame for every future
    assert (video[0, :, 5:] - video[1, :, 5:]).abs().max() > 1e-3         # and futures of their own
    again = torch.cat(list(drive(models, dict(time="night", traffic="empty"), frames=10, rollouts=3, num_steps=2,
                                 generator=0)), 2)
    assert torch.equal(video, again)


def test_models_round_trip_through_a_folder(models, tmp_path):
    models.save_pretrained(tmp_path / "driving")
    back = DrivingModels.from_pretrained(tmp_path / "driving")
    for mine, theirs in ((models.vae, back.vae), (models.layout.unet, back.layout.unet),
                         (models.prediction.unet, back.prediction.unet)):
        a, b = mine.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k].half().float(), b[k]) for k in a)           # fp16 on disk, float32 back
    with pytest.raises(FileNotFoundError, match="path"):
        DrivingModels.from_pretrained(tmp_path / "nowhere")


def test_training_saves_a_model_that_loads_and_resumes(models, tmp_path):
    config = TrainConfig(steps=2, batch_size=4, warmup=1, ckpt_every=1, ema_decay=None)
    ldm, run = train_layout_ldm(tmp_path / "layout", vae=models.vae, config=config, n_clips=2, frames=2,
                                ckpt_dir=tmp_path / "ckpt", progress=False)
    assert len(run.history) == 2 and np.isfinite(run.history).all()
    back = LayoutLDM.from_pretrained(tmp_path / "layout")
    assert isinstance(back, LayoutLDM) and back.unet.config.in_channels == 4 + LAYOUT_CHANNELS
    again = train_layout_ldm(tmp_path / "layout", vae=models.vae, config=TrainConfig(**{**config.__dict__, "steps": 3}),
                             n_clips=2, frames=2, ckpt_dir=tmp_path / "ckpt", progress=False)[1]
    assert again.resumed_from == 2 and len(again.history) == 3


def test_the_futures_yardsticks_pass_the_data_and_fail_broken_drives():
    videos = [DrivingScenes(6, frames=12, seed=11)[i]["video"] for i in range(6)]
    assert all(flowing(v) == 1.0 for v in videos)
    assert all(flowing(v.flip(1)) == 0.0 and flowing(v[:, :1].expand_as(v)) == 0.0 for v in videos)
    kept = [lane_keeping(v) for v in videos]
    assert np.nanmin(kept) == 1.0 and not np.isnan(kept).all()
    mirrored = [lane_keeping(torch.stack([f.flip(-1) if k % 2 else f for k, f in enumerate(v.unbind(1))], 1))
                for v in videos]
    assert np.nanmean(mirrored) < 0.5                                      # (a car in the middle lane stays put)


def test_a_layout_file_may_take_its_labels_from_the_command(tmp_path):
    path = tmp_path / "layout.json"
    path.write_text(json.dumps({"cars": [{"box": [4, 30, 20, 42], "color": "red"}]}))
    with pytest.raises(ValueError, match="labels"):
        read_layout(path)
    assert read_layout(path, "night,crowded") == dict(time="night", traffic="crowded",
                                                      cars=[dict(box=[4.0, 30.0, 20.0, 42.0], color="red")])


def test_the_shipped_models_load_from_data_samples_in_fp16():
    "Shipped in data_samples/checkpoints/driving (what 17b's cells draw with), stored in fp16, loaded in float32."
    from safetensors import safe_open
    from videoldm_ref.driving_models import driving_dir
    shipped = DrivingModels.from_pretrained()
    assert driving_dir() == data_samples_dir() / "checkpoints" / "driving"
    for f in ("autoencoder/diffusion_pytorch_model.safetensors", "layout/unet/diffusion_pytorch_model.safetensors",
              "prediction/temporal.safetensors"):
        with safe_open(driving_dir() / f, "pt") as t:
            assert {t.get_tensor(k).dtype for k in t.keys()} == {torch.float16}, f
    assert next(shipped.layout.unet.parameters()).dtype == torch.float32
    assert isinstance(shipped.layout, LayoutLDM) and isinstance(shipped.prediction, ContextLDM)
