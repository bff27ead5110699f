"""Bad input, module by module: each case is a call that must fail with the given exception type and a message
that names the argument. Table-driven, plus property-based checks (hypothesis) where shapes and values vary.
Later modules add their rows here."""
import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from videoldm_ref import (autoencoder, context, core, data, diffusion, image_ldm, keyframes, media, metrics,
                          temporal, temporal_decoder, toy1d, train, video_unet)

V = torch.zeros(1, 3, 4, 16, 16)                       # a valid batched video


def _figure():
    import matplotlib.pyplot as plt
    return plt.figure(figsize=(1, 1), dpi=20)
NAN = torch.full((1, 3, 4, 16, 16), float("nan"))
SCHED = diffusion.NoiseSchedule("linear", 100)
ZERO_MODEL = lambda x, t: torch.zeros_like(x)
NAN_MODEL = lambda x, t: torch.full_like(x, float("nan"))

CASES = {
    "core": [
        (lambda: core.check_int(1.5, "n"), TypeError, "n: expected an integer"),
        (lambda: core.check_int(True, "n"), TypeError, "n: expected an integer"),
        (lambda: core.check_int(0, "n", min=1), ValueError, r"n: expected an integer in \[1"),
        (lambda: core.check_float(float("nan"), "lr"), ValueError, "lr: expected a number"),
        (lambda: core.check_float("1", "lr"), TypeError, "lr: expected a number"),
        (lambda: core.check_choice("x", "kind", ["a"]), ValueError, "kind: expected one of"),
        (lambda: core.check_path(3, "path"), TypeError, "path: expected a path"),
        (lambda: core.check_path("/no/such", "path"), FileNotFoundError, "path: no such file"),
        (lambda: core.check_video(V[0, 0], "video"), ValueError, "video: expected a video"),
        (lambda: core.check_video(V.long(), "video"), ValueError, "video: expected a floating point video"),
        (lambda: core.check_video(V + 3, "video"), ValueError, r"video: expected values in \[-1, 1\]"),
        (lambda: core.check_video(NAN, "video"), ValueError, "video: contains NaN"),
        (lambda: core.check_video(V.transpose(1, 2), "video", channels=3), ValueError, "by mistake"),
        (lambda: core.peak_rss("torch.ones", 1), TypeError, "fn: expected a callable"),
        (lambda: core.check_index(5, 3), IndexError, "i: index 5 is out of range"),
        (lambda: core.check_index("0", 3), TypeError, "i: expected an integer index"),
        (lambda: core.check_alloc((1, 3, 10**9, 64, 64), "frames"), ValueError, "frames: a tensor of shape"),
        (lambda: core.check_tensor([1.0], "x"), TypeError, "x: expected a torch.Tensor"),
        (lambda: core.check_steps(torch.tensor([3, 1000]), 1000), ValueError, r"t: expected steps in \[0, 999\]"),
        (lambda: core.check_type(3, "model", torch.nn.Module), TypeError, "model: expected a Module, got int"),
        (lambda: core.check_tensor(torch.tensor([math.inf]), "x", finite=True), ValueError, "x: expected finite"),
        (lambda: core.named_config({"a": {}}, "b"), ValueError, "name"),
        (lambda: core.seed_everything(-1), ValueError, "seed: expected an integer"),
        (lambda: core.make_generator(-3), ValueError, "seed: expected an integer"),
        (lambda: core.frames_to_video(torch.zeros(5, 3, 4, 4), 2), ValueError, "num_frames"),
        (lambda: core.memory_bytes("gpu9"), ValueError, "device: expected a device name"),
        (lambda: core.default_dtype(3), TypeError, "device: expected a device name"),
        (lambda: core.as_device("cuda:x"), ValueError, "device: expected a device name"),
        (lambda: core.video_to_frames([1]), TypeError, "video: expected a torch.Tensor"),
    ],
    "data": [
        (lambda: data.MovingShapes(0), ValueError, "n: expected"),
        (lambda: data.MovingShapes(2, frames=10**9), ValueError, "frames and size: a tensor of shape"),
        (lambda: data.MovingShapes(2, size=4), ValueError, "size: expected"),
        (lambda: data.MovingShapes(2, seed=-1), ValueError, "seed: expected"),
        (lambda: data.MovingShapes(2)[2], IndexError, "out of range"),
        (lambda: data.CameraMotion(2, size=(64, 64, 3)), ValueError, "size: expected"),
        (lambda: data.CameraMotion(2, scenes=["nowhere.png"]), ValueError, "scenes: expected one of"),
        (lambda: data.load_sample_clip("nothing"), ValueError, "name"),
        (lambda: data.ClipDataset(data.MovingShapes(2, frames=4), 0), ValueError, "frames: expected"),
        (lambda: data.VideoList([torch.zeros(3, 4)]), ValueError, "video"),
        (lambda: data.resize_video(V[0], (0, 8)), ValueError, "size"),
        (lambda: data.resize_video(V[0], (10**6, 10**6)), ValueError, "size"),
        (lambda: data.VideoFolder("/no/such/dir"), FileNotFoundError, "path"),
        (lambda: data.FrameDataset(3), TypeError, "source: expected a dataset"),
        (lambda: data.FrameDataset([1, 2]), TypeError, "source: expected items that are dicts"),
        (lambda: data.ClipDataset(data.MovingShapes(2, frames=4), 8), ValueError, "frames"),
        (lambda: data.build_data_samples("/no/such.whl", "/tmp/out"), FileNotFoundError, "source"),
    ],
    "media": [
        (lambda: media.to_uint8(V[0].long()), ValueError, "video"),
        (lambda: media.from_uint8(np.zeros((4, 8, 8, 3), np.float32)), (TypeError, ValueError), "frames"),
        (lambda: media.write_video(V[0], "/tmp/x.txt"), ValueError, "path"),
        (lambda: media.write_video(V[0], "/tmp/x.mp4", fps=0), ValueError, "fps"),
        (lambda: media.VideoWriter("/tmp/x.gif"), ValueError, "path"),
        (lambda: media.VideoWriter("/tmp/x.mp4", fps=0), ValueError, "fps"),
        (lambda: media.VideoWriter("/tmp/x.mp4", crf=60), ValueError, "crf"),
        (lambda: media.VideoWriter("/tmp/x.mp4").write(V[0]), RuntimeError, "with"),
        (lambda: media.read_video("/no/such.mp4"), FileNotFoundError, "path"),
        (lambda: media.frames_grid(V, n_frames=0), ValueError, "n_frames"),
        (lambda: media.show_video(V, fps=-1), ValueError, "fps"),
        (lambda: media.frame_slider(V[0], scale=0), ValueError, "scale"),
        (lambda: media.tile_videos([]), TypeError, "videos: expected a video tensor or a non-empty list"),
        (lambda: media.show_video(V, frame_format="gif"), ValueError, "frame_format"),
        (lambda: media.as_jpeg("figure"), TypeError, "fig: expected a matplotlib figure"),
        (lambda: media.as_jpeg(_figure(), quality=100), ValueError, "quality"),
    ],
    "metrics": [
        (lambda: metrics.psnr(V[0], V), ValueError, "target|pred"),
        (lambda: metrics.psnr(V, V, reduction="max"), ValueError, "reduction"),
        (lambda: metrics.temporal_consistency(NAN), ValueError, "video: contains NaN"),
        (lambda: metrics.flicker(V, V[:, :, :2]), ValueError, "reference"),
        (lambda: metrics.frechet_distance(torch.zeros(1, 4), torch.zeros(5, 4)), ValueError, "feats_a"),
        (lambda: metrics.parse_caption("a red circle moving sideways"), ValueError, "caption"),
        (lambda: metrics.parse_caption(3), TypeError, "caption"),
        (lambda: metrics.color_objects(V[0, :, 0], "purple"), ValueError, "color"),
        (lambda: metrics.motion_check(V[0] + 5, "a red circle moving right"), ValueError, "video"),
        (lambda: metrics.motion_pass_rate(V, ["a", "b"]), ValueError, "captions"),
        (lambda: metrics.tell_shape(torch.zeros(4, 4)), ValueError, "mask: expected a 2D numpy array"),
        (lambda: metrics.tell_shape(np.zeros((2, 4, 4), bool)), ValueError, "mask: expected a 2D numpy array"),
        (lambda: metrics.frame_features(V.long()), ValueError, "frames: expected a floating point"),
    ],
    "diffusion": [
        (lambda: diffusion.make_betas("quadratic"), ValueError, "kind: expected one of"),
        (lambda: diffusion.NoiseSchedule("cosine", num_steps=10**9), ValueError, r"num_steps: expected an integer in \[2, 100000\]"),
        (lambda: diffusion.make_betas("linear", beta_start=0), ValueError, "beta_start"),
        (lambda: SCHED.abar(torch.tensor([-1]), torch.zeros(1)), ValueError, r"t: expected steps in \[0, 99\]"),
        (lambda: SCHED.abar(torch.tensor([100]), torch.zeros(1)), ValueError, "t: expected steps"),
        (lambda: diffusion.q_sample(torch.zeros(2, 3), torch.tensor([1, 2]), torch.zeros(2, 4), SCHED), ValueError, "noise"),
        (lambda: diffusion.make_timesteps(100, 0), ValueError, "num_steps"),
        (lambda: diffusion.make_timesteps(100, 10, "middle"), ValueError, "spacing"),
        (lambda: diffusion.ddim_sample(ZERO_MODEL, (1, 3, 10**6, 10**6), SCHED), ValueError, "shape: a tensor of shape"),
        (lambda: diffusion.ddim_sample(ZERO_MODEL, (1, 3), SCHED, eta=-1), ValueError, "eta"),
        (lambda: diffusion.ddim_sample(ZERO_MODEL, (1, 3), SCHED, x_T=torch.full((1, 3), math.nan)), ValueError, "x_T: expected finite"),
        (lambda: diffusion.ddim_sample(NAN_MODEL, (1, 3), SCHED, num_steps=5), FloatingPointError, "model_fn: returned NaN"),
        (lambda: diffusion.ddpm_sample(NAN_MODEL, (1, 3), SCHED, num_steps=5), FloatingPointError, "model_fn: returned NaN"),
        (lambda: diffusion.ddim_sample(lambda x, t: x[:, :1], (1, 3), SCHED, num_steps=2), ValueError, "model_fn: expected an output"),
        (lambda: diffusion.guided(ZERO_MODEL, math.nan, {}, {}), ValueError, "scale"),
        (lambda: diffusion.guided(ZERO_MODEL, 2.0, {"a": None}, {}), ValueError, "uncond"),
        (lambda: diffusion.diffusion_loss(ZERO_MODEL, torch.zeros(2, 3), SCHED, prediction_type="x0"), ValueError, "prediction_type"),
        (lambda: diffusion.zero_snr_betas(torch.full((10,), 2.0)), ValueError, r"betas: expected at least 2 values"),
        (lambda: diffusion.v_target(torch.zeros(2, 3), torch.zeros(2, 4), torch.tensor([1, 2]), SCHED), ValueError,
         "noise: expected the shape of x0"),
        (lambda: diffusion.to_x0_eps(torch.zeros(2, 4), torch.zeros(2, 3), torch.tensor([1, 2]), SCHED), ValueError,
         "pred: expected the shape of x_t"),
        (lambda: diffusion.gaussian_eps_model(0.0, -1.0, SCHED), ValueError, "sigma: expected a number"),
        (lambda: diffusion.scheduler_sample(ZERO_MODEL, None, (1, 2)), TypeError, "scheduler: expected a diffusers"),
    ],
    "toy1d": [
        (lambda: toy1d.timestep_embedding(torch.arange(3), 33), ValueError, "dim: expected an even number"),
        (lambda: toy1d.timestep_embedding(torch.zeros(3, 2), 32), ValueError, "t: expected 1 dimensions"),
        (lambda: toy1d.toy_values(0), ValueError, "n: expected"),
        (lambda: toy1d.toy_videos(2, 0), ValueError, "frames"),
        (lambda: toy1d.ScalarDenoiser(hidden=0), ValueError, "hidden"),
        (lambda: toy1d.ToyVideoModel("model"), TypeError, "image_model"),
        (lambda: toy1d.ToyVideoModel(toy1d.ScalarDenoiser(hidden=32))(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long),
                                                                     torch.ones(3, 2, dtype=torch.bool)),
         ValueError, r"image_only_indicator: expected shape \(2, 3\)"),
        (lambda: toy1d.toy_metrics(torch.zeros(4, 8), torch.zeros(4, 2)), ValueError, "reference: expected 1 dimensions"),
        (lambda: toy1d.TemporalAttention1D(0), ValueError, "hidden: expected an integer"),
        (lambda: toy1d.TemporalAttention1D(8, heads=3), ValueError, "heads: expected a divisor"),
    ],
    "temporal": [
        (lambda: temporal.TemporalConvBlock(8, 16, groups=4)(torch.zeros(4, 8, 2, 2), 2, torch.zeros(3, 16)),
         ValueError, r"temb: expected \(4, 16\), one per frame, got \(3, 16\)"),
        (lambda: temporal.AlphaBlender(1.0), ValueError, "alpha"),
        (lambda: temporal.AlphaBlender(0.5)(torch.zeros(2, 3), torch.zeros(2, 4)), ValueError, "temporal: expected the shape"),
        (lambda: temporal.check_frames(torch.zeros(5, 3, 2, 2), 2), ValueError, "num_frames|x"),
        (lambda: temporal.window_mask(4, 0), ValueError, "window"),
        (lambda: temporal.TemporalAttentionBlock(8, position="sinusoid"), ValueError, "position: expected one of"),
        (lambda: temporal.rotary_angles(4, 3), ValueError, "dim: rotary positions"),
        (lambda: temporal.rotary_angles(4, 4, base=0), ValueError, "base"),
        (lambda: temporal.rotate(torch.zeros(2, 5, 8), *temporal.rotary_angles(4, 8)), ValueError, "cos, sin"),
        (lambda: temporal.RelativePositionBias(0), ValueError, "heads"),
        (lambda: temporal.frame_times(3, torch.ones(2, 2)), ValueError, "stride"),
        (lambda: temporal.check_stride(-0.5, 2), ValueError, "stride"),
        (lambda: temporal.check_stride("fast", 2, "frame_stride"), TypeError, "frame_stride"),
        (lambda: temporal.TemporalConvBlock(0), ValueError, "channels"),
        (lambda: temporal.TemporalAttention(0), ValueError, "dim"),
        (lambda: temporal.TemporalAttentionBlock(8, head_dim=0), ValueError, "head_dim"),
        (lambda: temporal.TemporalAttentionBlock(8)(torch.zeros(3, 8, 2, 2), 2), ValueError, "num_frames|x"),
    ],
    "train": [
        (lambda: train.TrainConfig(batch_size=0), ValueError, "batch_size"),
        (lambda: train.TrainConfig(lr=-1), ValueError, "lr"),
        (lambda: train.TrainConfig(lr_schedule="linear"), ValueError, "lr_schedule"),
        (lambda: train.read_checkpoint("/no/such/dir"), FileNotFoundError, "ckpt_dir"),
        (lambda: train.batch_indices(3, 4, 0, 0), ValueError, "batch_size"),
        (lambda: train.lr_multiplier({"steps": 3}), TypeError, "config"),
        (lambda: train.save_checkpoint("/tmp/ck", torch.nn.Linear(1, 1), None, None, {"step": 1}), TypeError, "optimizer"),
        (lambda: train.save_checkpoint("/tmp/ck", torch.nn.Linear(1, 1), torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), 0.1),
                                       None, {"step": 1}), TypeError, "state: expected a dict with an int 'step' and a list"),
        (lambda: train.fit(torch.nn.Linear(1, 1), None, [], train.TrainConfig()), TypeError, "loss_fn"),
        (lambda: train.step_generator(-1, 0), ValueError, "seed: expected an integer"),
        (lambda: train.step_generator(0, "a"), TypeError, "step: expected an integer"),
    ],
    "keyframes": [
        (lambda: keyframes.sample_video("the model", None, ["a red circle moving right"]), TypeError,
         "ldm: expected a VideoLDM, got str"),
        (lambda: keyframes.keyframe_metrics(None, None), TypeError, "ldm: expected a VideoLDM"),
        (lambda: keyframes.video_ldm_loss(high_noise=2), ValueError, "high_noise"),
        (lambda: keyframes.VideoLDM.from_image_ldm(image_ldm.ImageLDM.build("tiny"))(
            torch.zeros(1, 4, 2, 8, 8), torch.tensor([-1]), ["a red circle moving right"]), ValueError,
         r"t: expected steps in \[0, 999\], got \[-1, -1\]"),
        (lambda: keyframes.keyframe_clips("test"), ValueError, "split: expected one of"),
        (lambda: keyframes.train_keyframes("x", config=dict(steps=1)), TypeError, "config: expected a TrainConfig"),
        (lambda: keyframes.train_keyframes("x", temporal_config=[1]), TypeError, "temporal_config: expected a dict"),
        (lambda: keyframes.load_keyframes("/no/such/folder"), FileNotFoundError, "path: no such file"),
        (lambda: keyframes.train_keyframes("x", device="gpu9"), ValueError, "device: expected a device name"),
        (lambda: keyframes.train_keyframes("x", init="/no/such/folder"), FileNotFoundError, "init"),
        (lambda: keyframes.sample_video(keyframes.VideoLDM.from_image_ldm(image_ldm.ImageLDM.build("tiny")), autoencoder.build_vae("tiny"),
                                        ["a red circle moving right"], frames=4, window=4), ValueError,
         "window: 4 frames on each side reach past a video of 4 frames"),
    ],
    "image_ldm": [
        (lambda: image_ldm.sample_images(None, None, ["a cat"]), TypeError, "ldm: expected an ImageLDM, got NoneType"),
        (lambda: image_ldm.build_unet("huge"), ValueError, "name"),
        (lambda: image_ldm.WordTextEncoder(["a", "b", "c"]), ValueError, "vocab"),
        (lambda: image_ldm.WordTextEncoder(image_ldm.caption_vocabulary())("a caption"), TypeError, "captions"),
        (lambda: image_ldm.WordTextEncoder(image_ldm.caption_vocabulary()).unseen_words(3), TypeError, "caption"),
        (lambda: image_ldm.load_image_ldm("/no/such/dir"), FileNotFoundError, "path"),
        (lambda: image_ldm.sampling_settings(None, 10), TypeError, "ldm: expected a model with a DiffusionConfig"),
        (lambda: image_ldm.train_image_ldm("x", config=dict(steps=1)), TypeError, "config: expected a TrainConfig"),
        (lambda: image_ldm.ldm_loss(2.0), ValueError, "p_uncond: expected a number"),
    ],
    "video_unet": [
        (lambda: video_unet.build_video_unet("huge"), ValueError, "name"),
        (lambda: video_unet.build_video_unet("tiny", frame_position="sinusoid"), ValueError, "position"),
        (lambda: video_unet.temporal_window(video_unet.build_video_unet("tiny"), 0).__enter__(), ValueError, "window"),
        (lambda: video_unet.from_temporal("/no/such/dir", None), FileNotFoundError, "path"),
        (lambda: video_unet.VideoUNet.from_unet2d("unet"), TypeError, "unet"),
        (lambda: video_unet.build_video_unet("tiny")(torch.zeros(1, 4, 2, 8, 8), 1, torch.zeros(2, 3, 32)), ValueError,
         "encoder_hidden_states"),
        (lambda: video_unet.build_video_unet("tiny")(torch.zeros(1, 4, 8, 8), 1, torch.zeros(1, 3, 32)), ValueError,
         "sample"),
        (lambda: video_unet.benchmark_video_unet(frames=0), ValueError, "frames"),
        (lambda: video_unet.per_frame("unet", V, 1, None), TypeError, "unet: expected a UNet2DConditionModel"),
        (lambda: video_unet.insert_temporal_layers("model", None), TypeError, "model: expected a Module"),
        (lambda: video_unet.insert_temporal_layers(torch.nn.Linear(1, 1), None), TypeError, "frames: expected a"),
        (lambda: video_unet.FrameContext(0), ValueError, "num_frames: expected an integer"),
        (lambda: video_unet.VideoResnetBlock(None, video_unet.FrameContext()), TypeError,
         "spatial: expected a ResnetBlock2D"),
        (lambda: video_unet.VideoTransformerBlock(None, video_unet.FrameContext()), TypeError,
         "spatial: expected a Transformer2DModel"),
    ],
    "temporal_decoder": [
        (lambda: temporal_decoder.TemporalDecoder.from_autoencoder("vae"), TypeError, "vae"),
        (lambda: temporal_decoder.decode_video_temporal(None, V), TypeError, "decoder: expected a TemporalDecoder"),
        (lambda: temporal_decoder.VideoDiscriminator(time_kernel=2), ValueError, "time_kernel"),
        (lambda: temporal_decoder.decoder_clips("val"), ValueError, "split"),
        (lambda: temporal_decoder.temporal_decoder_loss(disc_weight=-1), ValueError, "disc_weight"),
        (lambda: temporal_decoder.EncodedClips("vae", data.MovingShapes(2)), TypeError, "vae"),
        (lambda: temporal_decoder.clip_features(NAN), ValueError, "videos: contains NaN"),
        (lambda: temporal_decoder.adaptive_weight("a", "b", "c"), TypeError, "rec_loss: expected a torch.Tensor"),
        (lambda: temporal_decoder.train_temporal_decoder("x", config=dict(steps=1)), TypeError,
         "config: expected a TrainConfig"),
        (lambda: temporal_decoder.load_temporal_decoder("/no/such/folder"), FileNotFoundError, "path: no such file"),
        (lambda: temporal_decoder.DecoderGAN(None, None), TypeError, "decoder: expected a TemporalDecoder"),
    ],
    "autoencoder": [
        (lambda: autoencoder.decode_video("vae", V), TypeError, "vae: expected an AutoencoderKL, got str"),
        (lambda: autoencoder.encode_video(None, V), TypeError, "vae: expected an AutoencoderKL"),
        (lambda: autoencoder.build_vae("huge"), ValueError, "name"),
        (lambda: autoencoder.load_autoencoder("/no/such/dir"), FileNotFoundError, "path"),
        (lambda: autoencoder.autoencoder_loss(kl_weight=-1), ValueError, "kl_weight"),
        (lambda: autoencoder.count_parameters("model"), TypeError, "model"),
        (lambda: autoencoder.encode_video(autoencoder.build_vae("tiny"), V, chunk_size=0), ValueError, "chunk_size"),
        (lambda: autoencoder.downsampling_factor(None), TypeError, "vae: expected an AutoencoderKL"),
        (lambda: autoencoder.save_pretrained_atomic(None, "x"), TypeError, "model: expected a diffusers model"),
        (lambda: autoencoder.latent_scaling_factor(autoencoder.build_vae("tiny"), torch.zeros(3, 8, 8)), ValueError,
         "frames: expected"),
        (lambda: autoencoder.train_autoencoder("x", config=dict(steps=1)), TypeError, "config: expected a TrainConfig"),
    ],
    "context": [
        (lambda: context.prediction_mask(2, 4, 5), ValueError, "given"),
        (lambda: context.prediction_mask(2, 4, [1.0, 2.0]), ValueError, "given"),
        (lambda: context.interpolation_mask(1, 1), ValueError, "keyframes"),
        (lambda: context.interpolation_mask(1, 3, every=1), ValueError, "every"),
        (lambda: context.prediction_masks([]), ValueError, "given"),
        (lambda: context.MaskedContextEncoder(0), ValueError, "latent_channels"),
        (lambda: context.MaskedContextEncoder(4)(torch.zeros(1, 3, 2, 8, 8), torch.zeros(1, 2)), ValueError,
         "context_latents"),
        (lambda: context.MaskedContextEncoder(4)(torch.zeros(1, 4, 2, 8, 8), torch.zeros(1, 3)), ValueError,
         "context_mask"),
        (lambda: context.ContextVideoUNet.from_video_unet("unet"), TypeError, "video"),
        (lambda: context.ContextLDM.from_video_ldm("ldm"), TypeError, "ldm"),
        (lambda: context.context_loss(p_uncond=2), ValueError, "p_uncond"),
        (lambda: context.BouncingShapes(speed=(0.1, 0.05)), ValueError, "speed"),
        (lambda: context.BouncingShapes(frames=0), ValueError, "frames"),
        (lambda: context.BouncingShapes(2)[5], IndexError, "i"),
    ],
}


def _id(case):
    return re.sub(r"\W+", " ", case[2])[:40].strip()


@pytest.mark.parametrize("module,call,exc,match",
                         [pytest.param(m, *c, id=f"{m}: {_id(c)}") for m, cases in CASES.items() for c in cases])
def test_bad_input_is_refused_by_name(module, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_the_table_covers_every_module():
    assert {len(v) for v in CASES.values()} and all(len(v) >= 2 for v in CASES.values())
    print({m: len(c) for m, c in CASES.items()}, sum(len(c) for c in CASES.values()))


# ---- the loaders: folders that are not what they claim ------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_vae(tmp_path_factory):
    vae = autoencoder.build_vae("tiny")
    d = tmp_path_factory.mktemp("vae") / "ok"
    vae.save_pretrained(d)
    return vae, d


def _copy(src, dst):
    import shutil
    shutil.copytree(src, dst)
    return dst


def test_loaders_refuse_pickles_damaged_and_incomplete_folders(tiny_vae, tmp_path):
    from safetensors.torch import load_file, save_file
    vae, ok = tiny_vae
    assert isinstance(autoencoder.load_autoencoder(ok), type(vae))
    pickled = tmp_path / "pickled"
    vae.save_pretrained(pickled, safe_serialization=False)
    with pytest.raises(FileNotFoundError, match="path: .*pickled .bin, which is never loaded"):
        autoencoder.load_autoencoder(pickled)
    no_config = _copy(ok, tmp_path / "no_config"); (no_config / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="path: no config.json"):
        autoencoder.load_autoencoder(no_config)
    bad_config = _copy(ok, tmp_path / "bad_config"); (bad_config / "config.json").write_text("{")
    with pytest.raises(ValueError, match="path: cannot build a AutoencoderKL"):
        autoencoder.load_autoencoder(bad_config)
    garbage = _copy(ok, tmp_path / "garbage"); (garbage / core.WEIGHTS_NAME).write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        autoencoder.load_autoencoder(garbage)
    no_decoder = _copy(ok, tmp_path / "no_decoder")                    # every decoder tensor gone
    state = {k: v for k, v in load_file(no_decoder / core.WEIGHTS_NAME).items() if not k.startswith("decoder.")}
    save_file(state, no_decoder / core.WEIGHTS_NAME)
    with pytest.raises(ValueError, match=r"path: the weights in .* do not fit its config: \d+ tensors missing"):
        autoencoder.load_autoencoder(no_decoder)
    with pytest.raises(ValueError, match="path: expected a directory"):
        autoencoder.load_autoencoder(ok / "config.json")


def test_temporal_layers_folder_checked(tmp_path):
    unet = video_unet.build_video_unet("tiny")
    video_unet.save_temporal(unet, tmp_path / "t")
    (tmp_path / "t" / video_unet.TEMPORAL_CONFIG).write_text("{")
    with pytest.raises(ValueError, match="path: the temporal layers in .* are damaged"):
        video_unet.from_temporal(tmp_path / "t", unet.unet)
    (tmp_path / "t" / video_unet.TEMPORAL_WEIGHTS).unlink()
    with pytest.raises(FileNotFoundError, match="path: no temporal.safetensors"):
        video_unet.from_temporal(tmp_path / "t", unet.unet)


# ---- properties: any shape or value a user may pass ---------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=0, max_size=7))
def test_check_video_accepts_exactly_the_video_layouts(shape):
    x = torch.zeros(shape)
    ok = len(shape) in (4, 5) and min(shape) > 0
    if ok:
        assert core.check_video(x) is x
    else:
        with pytest.raises(ValueError, match="^video: "):
            core.check_video(x)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True), st.booleans(), st.text(max_size=3)))
def test_check_int_names_the_argument_or_returns_an_int(v):
    try:
        out = core.check_int(v, "steps", min=1, max=10**6)
    except (TypeError, ValueError) as e:
        assert str(e).startswith("steps: ")
    else:
        assert isinstance(out, int) and 1 <= out <= 10**6 and out == v


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 6), st.sampled_from([math.nan, math.inf, -math.inf]))
def test_one_nan_anywhere_is_found(b, t, bad):
    x = torch.zeros(b, 3, t, 4, 4)
    x.view(-1)[(b * t * 7) % x.numel()] = bad
    with pytest.raises(ValueError, match="latents: expected finite values, got 1 NaN or inf"):
        core.check_tensor(x, "latents", finite=True)
    with pytest.raises(ValueError, match="video: contains NaN or inf"):
        metrics.temporal_consistency(x)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 100_000))
def test_every_schedule_length_is_valid_and_fast(n):
    if n < 2:
        with pytest.raises(ValueError, match="num_steps"):
            diffusion.make_betas("cosine", n)
        return
    betas = diffusion.make_betas("cosine", n)
    assert betas.shape == (n,) and bool(((betas > 0) & (betas <= 0.999)).all())


def test_decoders_refuse_nan_latents():
    vae = autoencoder.build_vae("tiny")
    z = torch.zeros(1, vae.config.latent_channels, 2, 4, 4); z[0, 0, 1, 2, 3] = math.nan
    with pytest.raises(ValueError, match="latents: contains NaN or inf"):
        autoencoder.decode_video(vae, z)
