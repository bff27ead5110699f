"""Stable Diffusion backbones (`16_text_to_video`): a tiny random SD pipeline in the real diffusers layout, written to
a temporary folder, loaded, wrapped, sampled, saved and loaded again; and what a wrong folder or part gets."""
import json
import shutil

import pytest
import torch
from diffusers import StableDiffusionPipeline
from safetensors.torch import load_file
from transformers import CLIPTextConfig, CLIPTextModel

import videoldm_ref.text2video as t2v
from videoldm_ref.diffusion import DiffusionConfig, ddim_sample, guided
from videoldm_ref.image_ldm import sampling_settings
from videoldm_ref.media import read_video
from videoldm_ref.text2video import (CLIPTextEncoder, TextToVideoPipeline, load_sd_upscaler, load_stable_diffusion,
                                     tiny_clip_tokenizer, tiny_sd_upscaler, tiny_stable_diffusion)
from videoldm_ref.upsampler import save_upsampler, upsample_clip, upsample_video
from videoldm_ref.video_unet import build_video_unet, per_frame, save_temporal

CAPTION = "a red circle moving right"
SMALL = dict(num_keyframes=3, interpolation_passes=1, keyframe_steps=2, generator=0, progress=False)


@pytest.fixture(scope="module")
def sd_path(tmp_path_factory):
    return tiny_stable_diffusion(tmp_path_factory.mktemp("sd") / "tiny-sd")


@pytest.fixture(scope="module")
def sd(sd_path):
    pipe = StableDiffusionPipeline.from_pretrained(sd_path, low_cpu_mem_usage=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def up_path(tmp_path_factory):
    return tiny_sd_upscaler(tmp_path_factory.mktemp("x4") / "tiny-x4")


@pytest.fixture
def pipe(sd_path):
    return TextToVideoPipeline.from_stable_diffusion(sd_path)


def _perturb(pipe, seed=0):
    "Temporal layers that do something (they start as the identity)."
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in pipe.keyframes.unet.temporal_parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return pipe


def test_tiny_pipeline_is_the_diffusers_layout_and_seeded(sd_path, sd, tmp_path):
    for part in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert (sd_path / part).is_dir()
    assert json.loads((sd_path / "model_index.json").read_text())["_class_name"] == "StableDiffusionPipeline"
    assert not (sd_path / "_vocab").exists()
    again, other = tiny_stable_diffusion(tmp_path / "again"), tiny_stable_diffusion(tmp_path / "other", seed=1)
    weights = lambda p: load_file(p / "unet" / "diffusion_pytorch_model.safetensors")
    a, b, c = weights(sd_path), weights(again), weights(other)
    assert all(torch.equal(a[k], b[k]) for k in a) and not all(torch.equal(a[k], c[k]) for k in a)
    image = sd(CAPTION, num_inference_steps=2, height=16, width=16, output_type="pt",
               generator=torch.Generator().manual_seed(0)).images
    assert image.shape == (1, 3, 16, 16) and image.isfinite().all()


def test_clip_encoder_gives_what_stable_diffusion_gives_its_unet(sd):
    clip = CLIPTextEncoder(sd.tokenizer, sd.text_encoder)
    captions = [CAPTION, "", "a cat"]
    assert torch.equal(clip(captions), sd.encode_prompt(captions, "cpu", 1, False)[0])
    assert not any(p.requires_grad for p in clip.parameters())
    assert not torch.equal(clip(["a red circle"]), clip(["a blue circle"]))


def test_backbone_reads_the_schedule_and_prediction_type(sd_path, tmp_path):
    assert load_stable_diffusion(sd_path).diffusion == DiffusionConfig("scaled_linear", False, "epsilon", "leading")
    v = load_stable_diffusion(tiny_stable_diffusion(tmp_path / "v", prediction_type="v_prediction"))
    assert v.diffusion.prediction_type == "v_prediction"


def test_spatial_weights_load_strictly_and_the_video_model_starts_as_the_image_model(pipe, sd):
    spatial, image = pipe.keyframes.unet.spatial_state_dict(), sd.unet.state_dict()
    assert spatial.keys() == image.keys() and all(torch.equal(spatial[k], image[k]) for k in image)
    trainable = {id(p) for p in pipe.keyframes.unet.parameters() if p.requires_grad}
    assert trainable and trainable == {id(p) for p in pipe.keyframes.unet.temporal_parameters()}
    g = torch.Generator().manual_seed(0)
    x, t = torch.randn(2, 4, 4, 8, 8, generator=g), torch.tensor([3, 900])
    text = pipe.text_encoder([CAPTION, "a cat"])
    with torch.no_grad():
        video, ref = pipe.keyframes(x, t, text), per_frame(sd.unet, x, t, text)
        assert (video - ref).abs().max() < 1e-5
        _perturb(pipe)
        assert (pipe.keyframes(x, t, text) - ref).abs().max() > 1e-3       # the check can fail


def test_sampling_with_identity_layers_gives_stable_diffusion_in_every_frame(pipe, sd):
    steps, frames, kf = 4, 3, pipe.keyframes
    noise = torch.randn(1, 4, 1, 8, 8, generator=torch.Generator().manual_seed(5))
    flags = torch.zeros(1, frames, dtype=torch.bool)
    clip = pipe.text_encoder
    model_fn = guided(kf, 3.0, dict(captions=clip([CAPTION]), image_only_indicator=flags),
                      dict(captions=clip([""]), image_only_indicator=flags))
    with torch.no_grad():
        ours = ddim_sample(model_fn, (1, 4, frames, 8, 8), kf.schedule, x_T=noise.expand(-1, -1, frames, -1, -1),
                           **sampling_settings(kf, steps))
    scheduler = sd.scheduler
    try:
        sd.scheduler = kf.diffusion.to_scheduler()
        theirs = sd(CAPTION, num_inference_steps=steps, guidance_scale=3.0, latents=noise[:, :, 0], height=16,
                    width=16, output_type="latent").images
    finally:
        sd.scheduler = scheduler
    assert (ours - theirs[:, :, None]).abs().max() < 1e-4
    assert (ours[:, :, 0] - noise[:, :, 0]).abs().max() > 0.1


def test_sampling_end_to_end_in_every_output_type(pipe, tmp_path):
    pt = pipe(CAPTION, height=24, width=32, **SMALL)
    assert pt.frames.shape == (1, 3, 9, 24, 32) and pt.frames.isfinite().all()
    assert set(pt.timings) == {"keyframes", "interpolation", "decoder", "output"} and pt.fps == 7.5
    assert pt.frames.abs().max() <= 1
    npy = pipe(CAPTION, height=24, width=32, output_type="np", **SMALL).frames
    assert npy.shape == (1, 9, 24, 32, 3) and npy.dtype.name == "uint8"
    out = pipe(CAPTION, output_type="mp4", out=tmp_path / "v.mp4", **SMALL)
    assert out.frames is None and read_video(tmp_path / "v.mp4")[0].shape == (3, 9, 16, 16)
    # no interpolation model: between keyframes the latents are blended
    z = pipe.keyframe_latents([CAPTION], frames=3, steps=2, generator=0)
    blended = pipe.interpolated(z, [CAPTION], 1)
    assert torch.allclose(blended[:, :, 2], (z[:, :, 0] + z[:, :, 1]) / 2, atol=1e-6)


def test_save_and_load_round_trip(pipe, tmp_path):
    _perturb(pipe, seed=3)
    before = pipe("a cat", **SMALL).frames
    folder = pipe.save_pretrained(tmp_path / "saved")
    assert {p.name for p in folder.iterdir()} == {"backbone", "keyframes", "temporal_decoder", "model_index.json"}
    assert StableDiffusionPipeline.from_pretrained(folder / "backbone", low_cpu_mem_usage=False).unet is not None
    again = TextToVideoPipeline.from_pretrained(folder)
    assert torch.equal(again("a cat", **SMALL).frames, before)
    pipe.save_pretrained(folder)                                             # over its own earlier save
    assert torch.equal(TextToVideoPipeline.from_pretrained(folder)("a cat", **SMALL).frames, before)


def test_temporal_layers_from_a_folder(pipe, sd_path, tmp_path):
    _perturb(pipe, seed=4)
    save_temporal(pipe.keyframes.unet, tmp_path / "layers")
    loaded = TextToVideoPipeline.from_stable_diffusion(sd_path, tmp_path / "layers")
    x = torch.randn(1, 4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    text = pipe.text_encoder([CAPTION])
    with torch.no_grad():
        assert torch.equal(loaded.keyframes(x, torch.tensor([100]), text), pipe.keyframes(x, torch.tensor([100]), text))


def test_an_interrupted_save_leaves_no_folder(pipe, tmp_path, interrupt_on_call):
    interrupt_on_call(t2v, "save_temporal", 1)
    with pytest.raises(KeyboardInterrupt):
        pipe.save_pretrained(tmp_path / "saved")
    assert not (tmp_path / "saved").exists() and not list(tmp_path.iterdir())


def test_a_folder_that_is_not_a_stable_diffusion_pipeline(sd_path, tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        load_stable_diffusion(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no model_index.json"):
        load_stable_diffusion(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model_index.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a pipeline index"):
        load_stable_diffusion(bad)
    (bad / "model_index.json").write_text(json.dumps({"_class_name": "StableVideoDiffusionPipeline"}))
    with pytest.raises(ValueError, match="holds a StableVideoDiffusionPipeline"):
        load_stable_diffusion(bad)
    partial = shutil.copytree(sd_path, tmp_path / "partial")
    shutil.rmtree(partial / "text_encoder")
    with pytest.raises(FileNotFoundError, match="lacks text_encoder"):
        TextToVideoPipeline.from_stable_diffusion(partial)
    broken = shutil.copytree(sd_path, tmp_path / "broken")
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ValueError, match="does not load"):
        load_stable_diffusion(broken)
    with pytest.raises(FileNotFoundError, match="lacks backbone"):
        TextToVideoPipeline.from_pretrained(sd_path)


def test_parts_that_do_not_belong_together(sd, sd_path, tmp_path):
    big = tiny_clip_tokenizer(tmp_path / "tok")
    big.add_tokens(["<new-word>"])
    with pytest.raises(ValueError, match="tokenizer: its vocabulary has 515 tokens"):
        CLIPTextEncoder(big, sd.text_encoder)
    with pytest.raises(ValueError, match="tokenizer: pads captions to 32"):
        CLIPTextEncoder(tiny_clip_tokenizer(tmp_path / "tok"), CLIPTextModel(CLIPTextConfig(
            vocab_size=514, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
            max_position_embeddings=16)))
    with pytest.raises(TypeError, match="text_model"):
        CLIPTextEncoder(sd.tokenizer, sd.unet)
    narrow = shutil.copytree(sd_path, tmp_path / "narrow")
    cfg = json.loads((narrow / "text_encoder" / "config.json").read_text())
    CLIPTextModel(CLIPTextConfig(**{**cfg, "hidden_size": 16})).save_pretrained(narrow / "text_encoder")
    with pytest.raises(ValueError, match="attends to 32-wide text, its text encoder gives 16"):
        load_stable_diffusion(narrow)
    linear = shutil.copytree(sd_path, tmp_path / "linear")
    sched = json.loads((linear / "scheduler" / "scheduler_config.json").read_text())
    (linear / "scheduler" / "scheduler_config.json").write_text(json.dumps({**sched, "beta_schedule": "linear"}))
    with pytest.raises(ValueError, match="not Stable Diffusion's"):
        load_stable_diffusion(linear)
    save_temporal(build_video_unet("demo"), tmp_path / "demo_layers")
    with pytest.raises(ValueError, match="do not fit this UNet"):
        TextToVideoPipeline.from_stable_diffusion(sd_path, tmp_path / "demo_layers")
    with pytest.raises(ValueError, match="temporal_config"):
        TextToVideoPipeline.from_stable_diffusion(sd_path, tmp_path / "demo_layers", temporal_attention=False)


def test_what_a_stable_diffusion_pipeline_cannot_do_is_refused(pipe):
    with pytest.raises(ValueError, match="upsample: this pipeline has no upsampler"):
        pipe(CAPTION, upsample=True, **SMALL)
    with pytest.raises(ValueError, match="no prediction model"):
        pipe.extend(torch.zeros(3, 2, 16, 16), 4)
    with pytest.raises(ValueError, match="no upsampler"):
        pipe.upsample(torch.zeros(3, 2, 16, 16))
    for kwargs, match in [(dict(height=21), "height: expected a multiple"), (dict(width=1), "width"),
                          (dict(height="16"), "height")]:
        with pytest.raises((ValueError, TypeError), match=match):
            pipe(CAPTION, **kwargs, **SMALL)
    with pytest.raises(TypeError, match="text_encoder"):
        TextToVideoPipeline(pipe.autoencoder, pipe.temporal_decoder, object(), pipe.keyframes)


# Personalisation at demo scale: the concept, its yardstick, the new word and the fine-tune

def test_concept_images_are_seeded_pluses_and_the_yardstick_tells_them_from_the_known_shapes():
    from videoldm_ref.data import MovingShapes
    a, b = t2v.concept_images(6, seed=4), t2v.concept_images(6, seed=4)
    assert a.shape == (6, 3, 64, 64) and torch.equal(a, b) and not torch.equal(a, t2v.concept_images(6, seed=5))
    assert all(t2v.is_concept(x, "red") for x in a)
    assert all(t2v.is_concept(x, "blue") for x in t2v.concept_images(3, color="blue"))
    shapes = MovingShapes(30, frames=1, seed=9)
    assert not any(t2v.is_concept(shapes[i]["video"][:, 0], shapes[i]["color"]) for i in range(30))
    assert t2v.concept_cells(torch.full((3, 64, 64), -0.8), "red") is None              # no object: no verdict
    for kwargs, match in [(dict(n=0), "n"), (dict(color="purple"), "color"), (dict(size=4), "size")]:
        with pytest.raises(ValueError, match=match):
            t2v.concept_images(**kwargs)


def test_add_word_keeps_every_caption_and_refuses_bad_words():
    from videoldm_ref.image_ldm import load_image_ldm
    enc = load_image_ldm().text_encoder
    new = t2v.add_word(enc, "zorp", like="circle")
    assert new.config.vocab[-1] == "zorp" and len(new.config.vocab) == len(enc.config.vocab) + 1
    with torch.no_grad():
        assert torch.equal(new(["a red circle moving right", ""]), enc(["a red circle moving right", ""]))
        assert torch.equal(new(["a red zorp moving right"]), enc(["a red circle moving right"]))
    for word, like, match in [("Zorp", "<unk>", "word"), ("circle", "<unk>", "word"), ("two words", "<unk>", "word"),
                              ("blip", "nope", "like")]:
        with pytest.raises(ValueError, match=match):
            t2v.add_word(enc, word, like=like)


def test_dreambooth_trains_the_new_word_and_the_unet_only_saves_and_resumes(tmp_path):
    from videoldm_ref.image_ldm import ImageLDM, load_image_ldm
    from videoldm_ref.train import TrainConfig
    tiny = lambda lr: TrainConfig(steps=2, batch_size=4, lr=lr, warmup=0, ema_decay=None, ckpt_every=1)
    small = dict(inversion=tiny(1e-2), config=tiny(1e-4), n_prior=4, progress=False)
    base = load_image_ldm()
    before = {k: v.clone() for k, v in base.state_dict().items()}
    tuned = t2v.dreambooth(tmp_path / "db", image_ldm=base, ckpt_dir=tmp_path / "ckpt", **small)
    assert all(torch.equal(v, base.state_dict()[k]) for k, v in before.items())          # the original untouched
    emb, old = tuned.text_encoder.embed.weight, base.text_encoder.embed.weight
    assert torch.equal(emb[:-1], old) and not torch.equal(emb[-1], old[base.text_encoder.index["<unk>"]])
    assert all(torch.equal(a, b) for (k, a), (_, b) in zip(tuned.text_encoder.named_parameters(),
                                                           base.text_encoder.named_parameters()) if k != "embed.weight")
    assert any(not torch.equal(a, b) for a, b in zip(tuned.unet.parameters(), base.unet.parameters()))
    loaded = ImageLDM.from_pretrained(tmp_path / "db")
    assert loaded.text_encoder.config.vocab[-1] == "zorp"
    assert all(torch.equal(a, b) for a, b in zip(loaded.unet.parameters(), tuned.unet.parameters()))
    again = t2v.dreambooth(tmp_path / "db2", image_ldm=base, ckpt_dir=tmp_path / "ckpt", **small)   # resumed: done
    assert all(torch.equal(a, b) for a, b in zip(again.unet.parameters(), tuned.unet.parameters()))
    with pytest.raises(ValueError, match="images"):
        t2v.dreambooth(tmp_path / "db3", torch.zeros(2, 1, 64, 64), image_ldm=base, **small)


def test_personalisation_scores_on_clips_and_bad_captions():
    from videoldm_ref.data import MovingShapes
    clips = [MovingShapes(4, frames=8, seed=2)[i] for i in range(4)]
    truth = torch.stack([c["video"] for c in clips])
    scores = t2v.personalisation_scores(truth, [c["caption"] for c in clips])
    assert scores["concept"] == 0 and scores["motion"] == 1
    still = truth[:, :, :1].expand(-1, -1, 8, -1, -1)
    assert t2v.personalisation_scores(still, [c["caption"] for c in clips])["direction"] == 0
    with pytest.raises(ValueError, match="captions"):
        t2v.personalisation_scores(truth, ["a red zorp moving up"])


def test_temporal_decoder_for_any_autoencoder(sd_path, tmp_path):
    from videoldm_ref.autoencoder import decode_video
    from videoldm_ref.data import data_samples_dir
    from videoldm_ref.temporal_decoder import decode_video_temporal
    vae = load_stable_diffusion(sd_path).vae
    new = t2v.temporal_decoder_for(vae)
    z = torch.randn(2, 4, 5, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert (decode_video_temporal(new, z) - decode_video(vae, z)).abs().max() < 1e-5
        with torch.no_grad():
            for p in new.new_parameters():
                p.add_(0.01)
        new.save_pretrained(tmp_path / "dec")
        back = t2v.temporal_decoder_for(vae, tmp_path / "dec")
        assert torch.equal(decode_video_temporal(back, z), decode_video_temporal(new, z))
        pipe = TextToVideoPipeline.from_stable_diffusion(sd_path, temporal_decoder=tmp_path / "dec")
        assert torch.equal(decode_video_temporal(pipe.temporal_decoder, z), decode_video_temporal(new, z))
    demo_decoder = data_samples_dir() / "checkpoints" / "temporal_decoder"
    with pytest.raises(ValueError, match="made for another autoencoder"):
        t2v.temporal_decoder_for(vae, demo_decoder)
    with pytest.raises(ValueError, match="made for another autoencoder"):
        TextToVideoPipeline.from_stable_diffusion(sd_path, temporal_decoder=demo_decoder)
    with pytest.raises(FileNotFoundError, match="path"):
        t2v.temporal_decoder_for(vae, tmp_path / "missing")
    with pytest.raises(TypeError, match="vae"):
        t2v.temporal_decoder_for(object())


def test_the_builders_check_their_arguments(tmp_path):
    from videoldm_ref.image_ldm import load_image_ldm
    for call, kind, match in [
            (lambda: tiny_clip_tokenizer(tmp_path, max_length=2), ValueError, "max_length"),
            (lambda: tiny_stable_diffusion(tmp_path / "a", prediction_type="x0"), ValueError, "prediction_type"),
            (lambda: tiny_stable_diffusion(tmp_path / "b", seed=-1), ValueError, "seed"),
            (lambda: t2v.random_text_to_video("sd3"), ValueError, "size"),
            (lambda: t2v.random_text_to_video("tiny", seed=-1), ValueError, "seed"),
            (lambda: t2v.prior_latents(object()), TypeError, "image_ldm"),
            (lambda: t2v.prior_latents(load_image_ldm(), 2, color="purple"), ValueError, "color"),
            (lambda: t2v.prior_latents(load_image_ldm(), 0), ValueError, "n"),
            (lambda: t2v.prior_latents(load_image_ldm(), 2, num_steps=0), ValueError, "num_steps")]:
        with pytest.raises(kind, match=match):
            call()
    z, captions = t2v.prior_latents(load_image_ldm(), 4, num_steps=2)
    assert z.shape == (4, 4, 16, 16) and len(captions) == 4 and all(c.split()[1] == "red" for c in captions[1::2])


def test_long_video_scores_pass_clips_and_fail_loops_turns_and_stills():
    from videoldm_ref.data import MovingShapes
    clips = MovingShapes(4, frames=24, seed=5)
    data, caps = torch.stack([clips[i]["video"] for i in range(4)]), [clips[i]["caption"] for i in range(4)]
    ok = t2v.long_video_scores(data, caps)
    assert ok == dict(parts=1.0, whole=1.0, backwards=0.0)
    loop = t2v.long_video_scores(data[:, :, :8].repeat(1, 1, 3, 1, 1), caps)
    assert loop["parts"] == 1.0 and loop["whole"] == 0.0 and loop["backwards"] == pytest.approx(2 / 23)
    turned = t2v.long_video_scores(torch.cat([data[:, :, :16], data[:, :, 8:16].flip(2)], 2), caps)
    assert turned["parts"] == pytest.approx(2 / 3) and turned["whole"] == 0.0
    assert t2v.long_video_scores(data[:, :, :1].expand_as(data), caps)["parts"] == 0.0
    flipped = [c.replace("right", "LEFT").replace("left", "right").replace("LEFT", "left") for c in caps]
    assert t2v.long_video_scores(data, flipped)["whole"] < 1.0                 # the caption's direction counts
    with pytest.raises(ValueError, match="captions"):
        t2v.long_video_scores(data, caps[:2])
    with pytest.raises(ValueError, match="part"):
        t2v.long_video_scores(data, caps, part=2)


def test_the_image_upscaler_is_diffusers_and_the_video_upscaler_starts_as_it(up_path):
    from diffusers import StableDiffusionUpscalePipeline
    image_up, video_up = load_sd_upscaler(up_path, video=False), load_sd_upscaler(up_path)
    assert image_up.diffusion == DiffusionConfig("scaled_linear", prediction_type="v_prediction", beta_start=1e-4,
                                                 beta_end=0.02)
    low = torch.rand(1, 3, 2, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    x_T = torch.randn(1, 4, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    ref = StableDiffusionUpscalePipeline.from_pretrained(up_path, low_cpu_mem_usage=False)
    ref.scheduler, _ = image_up.diffusion.to_scheduler(), ref.set_progress_bar_config(disable=True)
    for level in (20, 200):
        ours = upsample_clip(image_up, low[:, :, :1], ["a cat"], num_steps=3, noise_level=level, generator=2, x_T=x_T)
        theirs = ref("a cat", image=(low[:, :, 0] + 1) / 2, num_inference_steps=3, guidance_scale=1.0,
                     noise_level=level, output_type="pt", generator=torch.Generator().manual_seed(2),
                     latents=x_T[:, :, 0]).images
        assert ours.shape == (1, 3, 1, 32, 32) and ((ours[:, :, 0] + 1) / 2 - theirs).abs().max() < 1e-4
        assert (ours.abs() < 0.99).float().mean() > 0.9
    other = upsample_clip(image_up, low[:, :, :1], ["a cat"], num_steps=3, noise_level=200, generator=2, x_T=x_T)
    assert (other - upsample_clip(image_up, low[:, :, :1], ["a cat"], num_steps=3, noise_level=20, generator=2,
                                  x_T=x_T)).abs().max() > 1e-3
    same = dict(num_steps=3, noise_level=20, generator=2, x_T=x_T)        # the noise fixed: one word, one frame changed
    base = upsample_clip(image_up, low[:, :, :1], ["a cat"], **same)
    assert (upsample_clip(image_up, low[:, :, :1], ["a dog"], **same) - base).abs().max() > 1e-4
    moved = upsample_clip(image_up, low[:, :, :1].roll(2, -1), ["a cat"], **same)
    assert (moved - base).abs().max() > 1e-2                              # (random weights: no more can be asked)
    both = dict(num_steps=2, generator=3, x_T=x_T.expand(-1, -1, 2, -1, -1))
    assert torch.allclose(upsample_clip(video_up, low, ["a cat"], **both), upsample_clip(image_up, low, ["a cat"], **both),
                          atol=1e-5)


def test_the_upscaler_in_the_pipeline_saves_loads_and_streams_in_windows(sd_path, up_path, tmp_path):
    pipe = TextToVideoPipeline.from_stable_diffusion(sd_path, upscaler=up_path)
    with torch.no_grad():
        for p in pipe.upsampler.unet.temporal_parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(0)))
    small = dict(num_keyframes=3, interpolation_passes=1, keyframe_steps=2, upsampler_steps=2, generator=1,
                 progress=False)
    before = pipe("a cat", **small)
    assert before.frames.shape == (1, 3, 9, 64, 64) and "upsampler" in before.timings
    pipe.save_pretrained(tmp_path / "saved")
    assert {"upscaler", "upsampler"} <= {p.name for p in (tmp_path / "saved").iterdir()}
    again = TextToVideoPipeline.from_pretrained(tmp_path / "saved")
    assert torch.equal(again("a cat", **small).frames, before.frames)
    assert not torch.equal(TextToVideoPipeline.from_stable_diffusion(sd_path, upscaler=up_path)("a cat", **small).frames,
                           before.frames)
    low = before.frames.new_zeros(1, 3, 10, 8, 8)               # windows of 8 sharing 2: the stream is whole
    chunks = list(upsample_video(pipe.upsampler, low, ["a cat"], num_steps=1, generator=0))
    assert [c.shape[2] for c in chunks] == [6, 4] and chunks[0].shape[-1] == 32
    assert not pipe("a cat", **small, upsample=False).frames.shape[-1] == 64


def test_what_the_upscaler_refuses(sd_path, up_path, tmp_path):
    with pytest.raises(ValueError, match="not a StableDiffusionUpscalePipeline"):
        load_sd_upscaler(sd_path)
    save_temporal(build_video_unet("tiny"), tmp_path / "layers")
    with pytest.raises(ValueError, match="do not fit this UNet"):
        load_sd_upscaler(up_path, tmp_path / "layers")
    with pytest.raises(ValueError, match="video: temporal layers"):
        load_sd_upscaler(up_path, tmp_path / "layers", video=False)
    with pytest.raises(ValueError, match="upscaler_temporal"):
        TextToVideoPipeline.from_stable_diffusion(sd_path, upscaler_temporal=tmp_path / "layers")
    up = load_sd_upscaler(up_path)
    with pytest.raises(ValueError, match="saved with its pipeline"):
        save_upsampler(up, tmp_path / "u")
    with pytest.raises(ValueError, match="sizes must be multiples of 8"):
        upsample_clip(up, torch.zeros(1, 3, 1, 3, 3))
    p = TextToVideoPipeline.from_stable_diffusion(sd_path)
    with pytest.raises(TypeError, match="upsampler"):
        TextToVideoPipeline(p.autoencoder, p.temporal_decoder, p.text_encoder, p.keyframes, upsampler="x4")
