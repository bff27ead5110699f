import pytest
import torch
from diffusers import UNet2DConditionModel

from videoldm_ref.image_ldm import build_unet
from videoldm_ref.video_unet import VideoUNet, build_video_unet, from_temporal, per_frame, save_temporal

# Two diffusers layouts: convolutional proj_in/proj_out (SD 1.x) and linear (SD 2.x), attention in different blocks
CONFIGS = {
    "conv_proj": dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
                      down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                      up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                      attention_head_dim=4, norm_num_groups=8, use_linear_projection=False),
    "linear_proj": dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 32, 64),
                        layers_per_block=2, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
                        cross_attention_dim=24, attention_head_dim=(2, 4, 4), norm_num_groups=8,
                        use_linear_projection=True),
}


def make(name, seed=0, **temporal):
    torch.manual_seed(seed)
    image = UNet2DConditionModel(**CONFIGS[name]).eval()
    return image, VideoUNet.from_unet2d(image, **temporal).eval()


def inputs(name, b=2, t=5, size=8):
    g = torch.Generator().manual_seed(1)
    cfg = CONFIGS[name]
    return (torch.randn(b, 4, t, size, size, generator=g), torch.tensor([3, 700][:b]),
            torch.randn(b, 3, cfg["cross_attention_dim"], generator=g))


def perturb(video, std=0.05):
    with torch.no_grad():
        for p in video.temporal_parameters():
            p.add_(std * torch.randn_like(p))


@pytest.mark.parametrize("name", CONFIGS)
def test_init_and_alpha_one_equal_the_image_unet_per_frame(name):
    image, video = make(name)
    x, t, ctx = inputs(name)
    with torch.no_grad():
        ref = per_frame(image, x, t, ctx)
        assert (video(x, t, ctx) - ref).abs().max() <= 1e-5
        perturb(video)
        assert (video(x, t, ctx) - ref).abs().max() > 1e-3
        ones = torch.ones(2, 5, dtype=torch.bool)
        assert (video(x, t, ctx, image_only_indicator=ones) - ref).abs().max() <= 1e-5
        # mixed flags: the image-only video is still the image UNet, frame by frame
        flags = torch.tensor([[True] * 5, [False] * 5])
        out = video(x, t, ctx, image_only_indicator=flags)
        assert (out[0] - ref[0]).abs().max() <= 1e-5 and (out[1] - ref[1]).abs().max() > 1e-3


@pytest.mark.parametrize("name", CONFIGS)
def test_frames_of_one_video_interact_and_videos_do_not(name):
    _, video = make(name)
    perturb(video)
    x, t, ctx = inputs(name)
    x2 = x.clone()
    x2[0, :, 0] += 1
    with torch.no_grad():
        d = (video(x2, t, ctx) - video(x, t, ctx)).abs().flatten(3).amax(-1).amax(1)   # (B, T)
    assert d[0, 1:].min() > 0 and d[1].max() == 0


@pytest.mark.parametrize("name", CONFIGS)
def test_freeze_spatial_trains_only_temporal(name):
    _, video = make(name)
    video.freeze_spatial().train()
    trainable = [n for n, p in video.named_parameters() if p.requires_grad]
    assert trainable and all(".temporal." in n or ".blend." in n for n in trainable)
    spatial = {k: v.clone() for k, v in video.spatial_state_dict().items()}
    temporal = [p.clone() for p in video.temporal_parameters()]
    opt = torch.optim.AdamW([p for p in video.parameters() if p.requires_grad], lr=1e-2)
    x, t, ctx = inputs(name)
    video(x, t, ctx).square().mean().backward()
    opt.step()
    assert all(torch.equal(v, spatial[k]) for k, v in video.spatial_state_dict().items())
    assert any(not torch.equal(a, b) for a, b in zip(temporal, video.temporal_parameters()))


@pytest.mark.parametrize("name", CONFIGS)
def test_save_load_round_trips(name, tmp_path):
    image, video = make(name, attention_window=2)
    perturb(video)
    x, t, ctx = inputs(name)
    video.save_pretrained(tmp_path / "full")
    loaded = VideoUNet.from_pretrained(tmp_path / "full", low_cpu_mem_usage=False).eval()
    assert loaded.config.attention_window == 2
    save_temporal(video, tmp_path / "temporal")
    again = from_temporal(tmp_path / "temporal", image).eval()
    with torch.no_grad():
        assert torch.equal(loaded(x, t, ctx), video(x, t, ctx))
        assert torch.equal(again(x, t, ctx), video(x, t, ctx))


@pytest.mark.parametrize("option", [dict(conv_spatial_kernel=3), dict(conv_context=True),
                                    dict(attention_position=True)])
def test_temporal_options_start_as_the_image_unet_and_round_trip(option, tmp_path):
    image, video = make("conv_proj", **option)
    x, t, ctx = inputs("conv_proj")
    with torch.no_grad():
        assert (video(x, t, ctx) - per_frame(image, x, t, ctx)).abs().max() <= 1e-5
    perturb(video)
    save_temporal(video, tmp_path / "temporal")
    again = from_temporal(tmp_path / "temporal", image).eval()
    assert {k: again.config[k] for k in option} == option
    with torch.no_grad():
        assert torch.equal(again(x, t, ctx), video(x, t, ctx))


def test_conv_context_answers_the_caption_of_its_own_video():
    _, video = make("linear_proj", conv_context=True)
    perturb(video)
    x, t, ctx = inputs("linear_proj")
    ctx2 = ctx.clone()
    ctx2[0] += 1
    with torch.no_grad():
        d = (video(x, t, ctx2) - video(x, t, ctx)).abs().flatten(1).amax(1)
    assert d[0] > 1e-3 and d[1] == 0
    assert video.unet.down_blocks[0].resnets[0].temporal.context_proj is not None


def test_spatial_weights_load_strictly():
    image, video = make("conv_proj")
    assert set(video.spatial_state_dict()) == set(image.state_dict())
    sd = image.state_dict()
    missing = dict(sd)
    missing.pop(next(iter(missing)))
    with pytest.raises(ValueError, match="missing"):
        video.load_spatial_state_dict(missing)
    with pytest.raises(ValueError, match="unexpected"):
        video.load_spatial_state_dict({**sd, "extra.weight": torch.zeros(1)})
    with pytest.raises(TypeError, match="unet"):
        VideoUNet.from_unet2d(torch.nn.Linear(2, 2))


def test_gradient_checkpointing_gives_the_same_gradients():
    _, video = make("linear_proj")
    perturb(video)
    video.freeze_spatial().train()
    x, t, ctx = inputs("linear_proj")
    grads = []
    for checkpointing in (False, True):
        video.zero_grad()
        if checkpointing:
            video.enable_gradient_checkpointing()
        video(x, t, ctx).square().mean().backward()
        grads.append([p.grad.clone() for p in video.temporal_parameters()])
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(*grads))


def test_attention_only_and_conv_only_variants():
    _, attn_only = make("conv_proj", temporal_conv=False)
    _, conv_only = make("conv_proj", temporal_attention=False)
    names_a = [n for n, _ in attn_only.named_modules()]
    names_c = [n for n, _ in conv_only.named_modules()]
    assert not any(n.endswith("resnets.0.temporal") for n in names_a) and any("attentions.0.temporal" in n for n in names_a)
    assert any(n.endswith("resnets.0.temporal") for n in names_c) and not any("attentions.0.temporal" in n for n in names_c)
    with pytest.raises(ValueError, match="temporal_conv"):
        make("conv_proj", temporal_conv=False, temporal_attention=False)


def test_bad_inputs_say_what_was_expected():
    _, video = make("conv_proj")
    x, t, ctx = inputs("conv_proj")
    with pytest.raises(ValueError, match=r"looks like \(B, T, C, H, W\)"):
        video(x.transpose(1, 2), t, ctx)                                 # (B, T, C, H, W) by mistake
    with pytest.raises(ValueError, match="4 channels"):
        video(torch.randn(2, 3, 5, 8, 8), t, ctx)
    with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
        video(x[:, :, 0], t, ctx)
    with pytest.raises(ValueError, match="divisible by 2"):
        video(torch.randn(2, 4, 5, 9, 8), t, ctx)
    with pytest.raises(ValueError, match="image_only_indicator"):
        video(x, t, ctx, image_only_indicator=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="encoder_hidden_states"):
        video(x, t, ctx[:1])
    with pytest.raises(ValueError, match="encoder_hidden_states"):
        video(x, t, torch.randn(2, 3, 7))
    with pytest.raises(ValueError, match="timestep"):
        video(x, torch.tensor([1, 2, 3]), ctx)


def test_named_configs_and_paper_sizes():
    video = build_video_unet("tiny")
    assert set(video.spatial_state_dict()) == set(build_unet("tiny").state_dict())
    with torch.device("meta"):
        sd2 = build_video_unet("sd2")
    n_t = sum(p.numel() for p in sd2.temporal_parameters())
    n_s = sum(p.numel() for p in sd2.parameters()) - n_t
    assert abs(n_s / 865e6 - 1) < 0.01 and abs(n_t / 656e6 - 1) < 0.05
    with pytest.raises(ValueError, match="name"):
        build_video_unet("huge")


def test_a_video_unet_of_a_loaded_image_unet_saves(tmp_path):
    image = build_unet("tiny")
    image.save_pretrained(tmp_path / "image")
    loaded = UNet2DConditionModel.from_pretrained(tmp_path / "image", low_cpu_mem_usage=False)
    VideoUNet.from_unet2d(loaded).save_pretrained(tmp_path / "video")   # the config names the folder it came from
    assert VideoUNet.from_pretrained(tmp_path / "video", low_cpu_mem_usage=False).config.unet_config


from videoldm_ref.video_unet import temporal_window


@pytest.mark.parametrize("position", ["relative", "rotary", "none"])
def test_frame_positions_start_as_the_image_unet_and_round_trip(position, tmp_path):
    image, video = make("conv_proj", frame_position=position)
    x, t, ctx = inputs("conv_proj")
    with torch.no_grad():
        assert torch.allclose(video(x, t, ctx), per_frame(image, x, t, ctx), atol=1e-5)
        perturb(video)
        save_temporal(video, tmp_path / "tl")
        again = from_temporal(tmp_path / "tl", image)
        assert again.config.frame_position == position and torch.equal(again(x, t, ctx), video(x, t, ctx))


def test_layers_saved_before_frame_positions_load_as_absolute(tmp_path):
    import json
    import shutil
    from videoldm_ref.data import data_samples_dir
    from videoldm_ref.image_ldm import load_image_ldm
    shipped = data_samples_dir() / "checkpoints" / "keyframes"          # saved before frame_position existed
    assert "frame_position" not in json.loads((shipped / "temporal_config.json").read_text())
    unet = load_image_ldm().unet
    video = from_temporal(shipped, unet)
    assert video.config.frame_position == "absolute"
    assert any(".temporal.pos_embed." in k for k in video.state_dict())
    shutil.copytree(shipped, tmp_path / "kf")
    cfg = json.loads((tmp_path / "kf" / "temporal_config.json").read_text())
    (tmp_path / "kf" / "temporal_config.json").write_text(json.dumps(dict(cfg, frame_position="relative")))
    with pytest.raises(ValueError, match="do not fit"):                 # absolute weights under relative settings
        from_temporal(tmp_path / "kf", unet)


def test_attention_window_limits_reach_and_is_lifted():
    image, video = make("conv_proj", frame_position="relative")
    perturb(video, 0.1)
    x, t, ctx = inputs("conv_proj", b=1, t=9)
    x2 = x.clone()
    x2[:, :, 0] += 1                                                   # change frame 0
    with torch.no_grad():
        full = video(x2, t, ctx) - video(x, t, ctx)
        with temporal_window(video, 1, num_frames=9):
            near = video(x2, t, ctx) - video(x, t, ctx)
        assert torch.equal(video(x2, t, ctx) - video(x, t, ctx), full)
    reach = lambda d: d.abs().amax(dim=(0, 1, 3, 4))                   # per frame
    assert reach(full)[8] > 0                                          # all frames attend to all
    assert reach(near)[8] < reach(full)[8] and reach(near)[1] > 0
    with pytest.raises(ValueError, match="window"):
        with temporal_window(video, 9, num_frames=9):
            pass
    with pytest.raises(ValueError, match="unet"):
        with temporal_window(image, 2):
            pass
    with pytest.raises(KeyError):                                      # an error inside the block lifts it too
        with temporal_window(video, 2):
            raise KeyError
    assert {b.window for b in video.modules() if hasattr(b, "rel_bias")} == {None}


@pytest.mark.parametrize("position", ["absolute", "relative", "rotary"])
def test_frame_stride_per_video_reaches_every_attention_layer(position):
    image, video = make("conv_proj", frame_position=position)
    perturb(video, 0.1)
    x, t, ctx = inputs("conv_proj")
    with torch.no_grad():
        both = video(x, t, ctx, frame_stride=torch.tensor([1.0, 0.25]))
        alone = torch.cat([video(x[:1], t[:1], ctx[:1]), video(x[1:], t[1:], ctx[1:], frame_stride=0.25)])
        assert torch.allclose(both, alone, atol=1e-5) and not torch.allclose(both[1], video(x, t, ctx)[1], atol=1e-4)
        assert torch.equal(video(x, t, ctx, frame_stride=1.0), video(x, t, ctx))
        assert torch.equal(video(x, t, ctx), video(x, t, ctx))        # a stride does not linger after its call
    video.train()
    video.enable_gradient_checkpointing()                              # the checkpointed path passes it on too
    checkpointed = video(x, t, ctx, frame_stride=torch.tensor([1.0, 0.25]))
    video.disable_gradient_checkpointing()
    video.eval()
    assert torch.allclose(checkpointed, both, atol=1e-5)


def test_frame_stride_refused_where_nothing_reads_it():
    x, t, ctx = inputs("conv_proj")
    for settings in (dict(frame_position="none"), dict(temporal_attention=False)):
        _, video = make("conv_proj", **settings)
        with pytest.raises(ValueError, match="frame_stride"):
            video(x, t, ctx, frame_stride=0.5)
    _, video = make("conv_proj", frame_position="relative")
    with pytest.raises(ValueError, match="frame_stride"):
        video(x, t, ctx, frame_stride=torch.tensor([1.0, 2.0, 3.0]))
