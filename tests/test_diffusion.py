import dataclasses

import pytest
import torch
from diffusers import (DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler,
                       UNet2DModel)

from videoldm_ref.diffusion import (NoiseSchedule, ddim_sample, ddpm_sample, diffusion_loss, gaussian_eps_model,
                                    guided, make_timesteps, mixed_noise, q_sample, scheduler_sample, to_x0_eps, v_target)

DIFFUSERS_NAMES = {"linear": dict(beta_schedule="linear"),
                   "scaled_linear": dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012),
                   "cosine": dict(beta_schedule="squaredcos_cap_v2")}


@pytest.mark.parametrize("kind", list(DIFFUSERS_NAMES))
def test_alphas_cumprod_match_diffusers(kind):
    ours = NoiseSchedule(kind).alphas_cumprod
    ref = DDPMScheduler(**DIFFUSERS_NAMES[kind]).alphas_cumprod
    assert (ours - ref).abs().max() <= 1e-7


@pytest.fixture(scope="module")
def unet():
    torch.manual_seed(0)
    return UNet2DModel(sample_size=8, in_channels=3, out_channels=3, block_out_channels=(8, 16), layers_per_block=1,
                       norm_num_groups=4, down_block_types=("DownBlock2D", "DownBlock2D"),
                       up_block_types=("UpBlock2D", "UpBlock2D")).eval()


def reference_loop(unet, scheduler, n, seed, prediction_type="epsilon", **step_kw):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, 8, 8, generator=g) * scheduler.init_noise_sigma
    scheduler.set_timesteps(n)
    with torch.no_grad():
        for t in scheduler.timesteps:
            x = scheduler.step(unet(scheduler.scale_model_input(x, t), t.expand(2)).sample, t, x, generator=g,
                               **step_kw).prev_sample
    return x


@pytest.mark.parametrize("kind", ["linear", "scaled_linear"])
@pytest.mark.parametrize("eta", [0.0, 1.0])
@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
def test_ddim_matches_diffusers(unet, kind, eta, prediction_type):
    ref = reference_loop(unet, DDIMScheduler(clip_sample=False, prediction_type=prediction_type,
                                             **DIFFUSERS_NAMES[kind]), 10, seed=5, eta=eta)
    ours = ddim_sample(lambda x, t: unet(x, t).sample, (2, 3, 8, 8), NoiseSchedule(kind), num_steps=10, eta=eta,
                       generator=5, prediction_type=prediction_type)
    assert (ours - ref).abs().max() <= 1e-5


@pytest.mark.parametrize("n, clip", [(10, None), (50, 1.0)])
@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
def test_ddpm_matches_diffusers(unet, n, clip, prediction_type):
    ref = reference_loop(unet, DDPMScheduler(clip_sample=clip is not None, prediction_type=prediction_type), n, seed=7)
    ours = ddpm_sample(lambda x, t: unet(x, t).sample, (2, 3, 8, 8), NoiseSchedule("linear"), num_steps=n,
                       generator=7, clip_denoised=clip, prediction_type=prediction_type)
    # unclipped, a random model's samples grow to ~100: compare to 1e-5 in float32's relative terms there
    assert (ours - ref).abs().max() <= 1e-5 * max(1.0, ref.abs().max().item())


def test_same_seed_same_sample(unet):
    fn = lambda x, t: unet(x, t).sample
    a = ddpm_sample(fn, (1, 3, 8, 8), NoiseSchedule(), num_steps=5, generator=3)
    b = ddpm_sample(fn, (1, 3, 8, 8), NoiseSchedule(), num_steps=5, generator=3)
    c = ddpm_sample(fn, (1, 3, 8, 8), NoiseSchedule(), num_steps=5, generator=4)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_timesteps_match_diffusers_spacings():
    for spacing in ("leading", "trailing", "linspace"):
        s = DDIMScheduler(timestep_spacing=spacing)
        s.set_timesteps(30)
        assert torch.equal(make_timesteps(1000, 30, spacing), s.timesteps)


def test_forward_process_and_targets_match_diffusers():
    sched = NoiseSchedule()
    ref = DDPMScheduler(**DIFFUSERS_NAMES["scaled_linear"])
    x0, noise = torch.randn(5, 4, 3, 3), torch.randn(5, 4, 3, 3)
    t = torch.tensor([0, 1, 300, 700, 999])
    assert torch.allclose(q_sample(x0, t, noise, sched), ref.add_noise(x0, noise, t), atol=1e-6)
    assert torch.allclose(v_target(x0, noise, t, sched), ref.get_velocity(x0, noise, t), atol=1e-6)
    x_t = q_sample(x0, t, noise, sched)
    for kind, target in [("epsilon", noise), ("v_prediction", v_target(x0, noise, t, sched))]:
        rx0, reps = to_x0_eps(target, x_t, t, sched, kind)
        assert torch.allclose(rx0, x0, atol=2e-3) and torch.allclose(reps, noise, atol=1e-4)


def test_loss_is_zero_for_the_perfect_model_and_rejects_bad_outputs():
    sched = NoiseSchedule()
    x0, noise, t = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4), torch.tensor([5, 50, 500])
    assert diffusion_loss(lambda x, t_: noise, x0, sched, t=t, noise=noise) == 0
    v = v_target(x0, noise, t, sched)
    assert diffusion_loss(lambda x, t_: v, x0, sched, t=t, noise=noise, prediction_type="v_prediction") < 1e-12
    with pytest.raises(ValueError, match="model_fn: expected an output of shape"):
        diffusion_loss(lambda x, t_: x[:, :1], x0, sched)
    with pytest.raises(ValueError, match="prediction_type"):
        diffusion_loss(lambda x, t_: x, x0, sched, prediction_type="sample")


def test_guidance_mixes_in_one_call():
    calls = []

    def model(x, t, c):
        calls.append(x.shape[0])
        return x * 0 + c.view(-1, 1)

    fn = guided(model, 7.5, dict(c=torch.full((2,), 2.0)), dict(c=torch.zeros(2)))
    out = fn(torch.zeros(2, 1), torch.zeros(2))
    assert torch.allclose(out, torch.full((2, 1), 15.0)) and calls == [4]
    with pytest.raises(ValueError, match="uncond: expected the keys"):
        guided(model, 2.0, dict(c=torch.ones(1)), dict(d=torch.ones(1)))


@pytest.mark.parametrize("scheduler, steps", [
    (DDIMScheduler(**DIFFUSERS_NAMES["scaled_linear"]), 250),
    (EulerDiscreteScheduler(timestep_spacing="leading", **DIFFUSERS_NAMES["scaled_linear"]), 250),
    (DPMSolverMultistepScheduler(use_karras_sigmas=True, **DIFFUSERS_NAMES["scaled_linear"]), 20),
])
def test_diffusers_schedulers_drive_the_closed_form_model_to_the_data(scheduler, steps):
    sched = NoiseSchedule("scaled_linear")
    if isinstance(scheduler, DDIMScheduler):
        scheduler.config.clip_sample = False
    x = scheduler_sample(gaussian_eps_model(-0.4, 0.25, sched), scheduler, (4000, 1, 1, 1), num_steps=steps,
                         generator=0)
    assert abs(x.mean() + 0.4) < 0.02 and abs(x.std() - 0.25) < 0.02


def test_our_samplers_reach_the_data_with_the_closed_form_model():
    sched = NoiseSchedule("linear")
    ideal = gaussian_eps_model(0.2, 0.5, sched)
    for x in (ddim_sample(ideal, (4000, 1), sched, num_steps=250, generator=1),
              ddpm_sample(ideal, (4000, 1), sched, generator=1)):
        assert abs(x.mean() - 0.2) < 0.03 and abs(x.std() - 0.5) < 0.03


def test_bad_inputs():
    sched = NoiseSchedule()
    with pytest.raises(ValueError, match="kind"):
        NoiseSchedule("exp")
    with pytest.raises(ValueError, match="num_steps"):
        NoiseSchedule(num_steps=1)
    with pytest.raises(ValueError, match="t: expected one step per item"):
        q_sample(torch.zeros(2, 3), torch.zeros(3, dtype=torch.long), torch.zeros(2, 3), sched)
    with pytest.raises(ValueError, match="noise: expected the shape"):
        q_sample(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), torch.zeros(2, 4), sched)
    with pytest.raises(ValueError, match="eta"):
        ddim_sample(lambda x, t: x, (1, 2), sched, eta=-1)
    with pytest.raises(ValueError, match="num_steps"):
        make_timesteps(1000, 1001)
    with pytest.raises(TypeError, match="scheduler"):
        scheduler_sample(lambda x, t: x, "ddim", (1, 2))


# --- zero terminal SNR and the settings a model carries -------------------------------------------------------------
from diffusers.schedulers.scheduling_ddim import rescale_zero_terminal_snr

from videoldm_ref.diffusion import DiffusionConfig, make_betas, zero_snr_betas


@pytest.mark.parametrize("kind", list(DIFFUSERS_NAMES))
def test_zero_terminal_snr_matches_diffusers(kind):
    betas = make_betas(kind)
    ours = NoiseSchedule(kind, zero_terminal_snr=True)
    assert torch.equal(zero_snr_betas(betas), rescale_zero_terminal_snr(betas))
    assert ours.alphas_cumprod[-1] == 0
    assert ours.alphas_cumprod[0].item() == pytest.approx(NoiseSchedule(kind).alphas_cumprod[0].item(), abs=1e-6)
    ref = DDIMScheduler(rescale_betas_zero_snr=True, **DIFFUSERS_NAMES[kind]).alphas_cumprod
    assert (ours.alphas_cumprod - ref).abs().max() <= 1e-7


def test_ddim_with_zero_terminal_snr_matches_diffusers(unet):
    cfg = DiffusionConfig(zero_terminal_snr=True, prediction_type="v_prediction", spacing="trailing")
    ref = reference_loop(unet, cfg.to_scheduler(), 10, seed=3)
    ours = ddim_sample(lambda x, t: unet(x, t).sample, (2, 3, 8, 8), cfg.noise_schedule(), generator=3,
                       prediction_type="v_prediction", timesteps=make_timesteps(1000, 10, "trailing"))
    assert torch.isfinite(ours).all() and (ours - ref).abs().max() <= 1e-6 * max(1.0, ref.abs().max().item())


def test_zero_terminal_snr_lands_on_the_data_mean():
    ztsnr, sl = NoiseSchedule(zero_terminal_snr=True), NoiseSchedule()
    trailing = make_timesteps(1000, 100, "trailing")
    x = ddim_sample(gaussian_eps_model(0.5, 0.3, ztsnr, "v_prediction"), (4000, 1), ztsnr, generator=0,
                    prediction_type="v_prediction", timesteps=trailing)
    y = ddim_sample(gaussian_eps_model(0.5, 0.3, sl), (4000, 1), sl, num_steps=100, generator=0)
    assert abs(x.mean() - 0.5) < 0.005 < abs(y.mean() - 0.5)         # the leaked signal pulls scaled_linear to 0


def test_v_closed_form_agrees_with_eps_closed_form():
    sched = NoiseSchedule("scaled_linear")
    x, t = torch.randn(5, 1), torch.tensor([0, 10, 300, 700, 999])
    eps = gaussian_eps_model(0.5, 0.3, sched)(x, t)
    v = gaussian_eps_model(0.5, 0.3, sched, "v_prediction")(x, t)
    assert torch.allclose(to_x0_eps(v, x, t, sched, "v_prediction")[1], eps, atol=1e-5)


def test_diffusion_config_round_trips_through_a_diffusers_scheduler(tmp_path):
    for cfg in (DiffusionConfig(), DiffusionConfig("cosine", True, "v_prediction", "trailing"),
                DiffusionConfig("linear", prediction_type="v_prediction", spacing="linspace")):
        cfg.to_scheduler().save_pretrained(tmp_path / "s")
        assert DiffusionConfig.from_scheduler(DDIMScheduler.from_pretrained(tmp_path / "s")) == cfg
        assert torch.equal(cfg.to_scheduler().alphas_cumprod, cfg.noise_schedule().alphas_cumprod)
    with pytest.raises(ValueError, match="prediction_type: a zero-terminal-SNR schedule needs"):
        DiffusionConfig(zero_terminal_snr=True)
    with pytest.raises(ValueError, match="schedule"):
        DiffusionConfig("quadratic")
    with pytest.raises(ValueError, match="spacing"):
        DiffusionConfig(spacing="even")
    with pytest.raises(ValueError, match="scheduler: unsupported beta_schedule"):
        DiffusionConfig.from_scheduler(dict(beta_schedule="sigmoid"))
    with pytest.raises(ValueError, match="prediction_type: 'epsilon' cannot give x0"):
        to_x0_eps(torch.zeros(1, 2), torch.zeros(1, 2), torch.tensor([999]), NoiseSchedule(zero_terminal_snr=True))


def test_mixed_noise_has_unit_variance_and_shares_the_asked_fraction_between_frames():
    g = lambda: torch.Generator().manual_seed(0)
    assert torch.equal(mixed_noise((2, 3, 4, 8, 8), 0.0, g()), torch.randn(2, 3, 4, 8, 8, generator=g()))
    for shared in (0.3, 0.8, 1.0):
        n = mixed_noise((16, 3, 6, 32, 32), shared, g())
        frames = n.transpose(1, 2).flatten(2)                              # (B, T, pixels)
        corr = torch.corrcoef(torch.stack([frames[:, 0].flatten(), frames[:, 5].flatten()]))[0, 1]
        assert abs(n.var().item() - 1) < 0.02 and abs(corr.item() - shared) < 0.02
    common = torch.randn(2, 3, 1, 8, 8)
    n = mixed_noise((2, 3, 4, 8, 8), 1.0, g(), common=common)
    assert torch.allclose(n, common.expand_as(n))
    for kwargs, match in [(dict(shape=(2, 3, 8, 8)), "shape"), (dict(shared=1.5), "shared"), (dict(shared=-0.1), "shared"),
                          (dict(common=torch.randn(2, 3, 2, 8, 8)), "common")]:
        with pytest.raises(ValueError, match=match):
            mixed_noise(**{"shape": (2, 3, 4, 8, 8), "shared": 0.5} | kwargs)


def test_diffusion_config_keeps_other_schedule_ends():
    "The x4 upscaler's scaled-linear schedule runs from 0.0001 to 0.02, not Stable Diffusion's 0.00085 to 0.012."
    from diffusers import DDIMScheduler
    up = DiffusionConfig("scaled_linear", prediction_type="v_prediction", beta_start=1e-4, beta_end=0.02)
    ref = DDIMScheduler(beta_schedule="scaled_linear", beta_start=1e-4, beta_end=0.02, prediction_type="v_prediction")
    assert DiffusionConfig.from_scheduler(ref) == up and DiffusionConfig.from_scheduler(up.to_scheduler()) == up
    assert torch.allclose(up.noise_schedule().alphas_cumprod, ref.alphas_cumprod)
    assert not torch.allclose(DiffusionConfig().noise_schedule().alphas_cumprod, ref.alphas_cumprod)
    assert DiffusionConfig.from_scheduler(DiffusionConfig().to_scheduler()) == DiffusionConfig()    # SD's: no ends kept
    assert DiffusionConfig(**dataclasses.asdict(up)) == up
    for bad, match in [(dict(beta_start=0.02, beta_end=0.01), "beta_start, beta_end: expected 0 < start < end < 1"),
                       (dict(schedule="cosine", beta_start=1e-4, beta_end=0.02), "beta_start: the cosine schedule")]:
        with pytest.raises(ValueError, match=match):
            DiffusionConfig(**bad)
