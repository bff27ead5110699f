import json
from pathlib import Path

import pytest
import torch
from torch import nn

import math

from videoldm_ref.train import TrainConfig, batch_indices, fit, lr_multiplier, read_checkpoint


class Points(torch.utils.data.Dataset):
    def __init__(self, n=64):
        self.x = torch.linspace(-1, 1, n).unsqueeze(1)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(x=self.x[i], y=torch.sin(3 * self.x[i]))


def loss_fn(model, batch, generator):
    return nn.functional.mse_loss(model(batch["x"]), batch["y"] + 0.05 * torch.randn(batch["y"].shape, generator=generator))


def net(seed=0, dropout=0.2):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Dropout(dropout), nn.Linear(16, 1))


CFG = dict(steps=40, batch_size=16, lr=5e-3, warmup=5, ckpt_every=10, log_every=5, ema_decay=0.9)


def run(ckpt_dir=None, crash_at=None, **kw):
    def on_step(step, loss):
        if step == crash_at:
            raise KeyboardInterrupt
    return fit(net(), loss_fn, Points(), TrainConfig(**{**CFG, **kw}), ckpt_dir=ckpt_dir, device="cpu",
               on_step=on_step, progress=False)


def test_training_reduces_the_loss():
    r = fit(net(dropout=0.0), loss_fn, Points(), TrainConfig(**{**CFG, "steps": 300}), device="cpu", progress=False)
    assert sum(r.history[-20:]) < 0.5 * sum(r.history[:20])


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path):
    full = run()
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, crash_at=27)
    resumed = run(tmp_path)
    assert resumed.resumed_from == 20
    assert resumed.history == full.history                              # exactly, loss for loss
    for a, b in zip(resumed.ema.shadow_params, full.ema.shadow_params):
        assert torch.equal(a, b)


def test_a_time_limit_stops_at_a_checkpoint_and_the_run_goes_on(tmp_path, monkeypatch):
    import videoldm_ref.train as T
    clock = iter(range(0, 10_000, 2))                                    # every step "takes" two seconds
    monkeypatch.setattr(T.time, "time", lambda: next(clock))
    part = fit(net(), loss_fn, Points(), TrainConfig(**CFG), ckpt_dir=tmp_path, device="cpu", progress=False,
               time_limit=15)
    assert 5 <= len(part.history) < CFG["steps"]                           # stopped early, not on a ckpt_every step
    assert read_checkpoint(tmp_path)[1]["step"] == len(part.history)     # and checkpointed where it stopped
    monkeypatch.undo()
    rest = run(tmp_path)
    assert rest.resumed_from == len(part.history) and rest.history == run().history
    with pytest.raises(ValueError, match="time_limit"):
        fit(net(), loss_fn, Points(), TrainConfig(**CFG), device="cpu", progress=False, time_limit=0)


def test_cosine_schedule_resumes_exactly_and_matches_torch(tmp_path):
    full = run(lr_schedule="cosine")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, crash_at=33, lr_schedule="cosine")
    assert run(tmp_path, lr_schedule="cosine").history == full.history
    cfg = TrainConfig(steps=50, warmup=0, lr=1.0, lr_schedule="cosine")
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    ref = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)
    for step in range(50):                                              # without warm-up: torch's cosine annealing
        assert lr_multiplier(cfg)(step) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-9)
        opt.step(); ref.step()
    warm = lr_multiplier(TrainConfig(steps=50, warmup=10, lr_schedule="cosine"))
    assert warm(4) == pytest.approx(0.5 * 0.5 * (1 + math.cos(math.pi * 4 / 50)))


def test_checkpoints_are_complete_and_pruned(tmp_path):
    run(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["latest.json", "step-0000030", "step-0000040"]     # the newest two, no temporary files
    tensors, state = read_checkpoint(tmp_path)
    assert state["step"] == 40 and len(state["history"]) == 40 and state["config"]["lr"] == CFG["lr"]
    assert any(k.startswith("optim.") for k in tensors) and any(k.startswith("ema.") for k in tensors)


def test_a_finished_run_resumes_to_nothing(tmp_path):
    first = run(tmp_path)
    again = run(tmp_path)
    assert again.resumed_from == 40 and again.history == first.history


def test_frozen_parameters_stay_frozen():
    model = net()
    model[0].requires_grad_(False)
    before = model[0].weight.clone()
    fit(model, loss_fn, Points(), TrainConfig(**CFG), device="cpu", progress=False)
    assert torch.equal(model[0].weight, before)


def snapshot(d):
    return {p: p.read_bytes() for p in Path(d).rglob("*") if p.is_file()}


def test_a_damaged_checkpoint_falls_back_to_the_newest_intact_one(tmp_path):
    full = run()
    run(tmp_path, steps=20)
    (tmp_path / "step-0000020" / "weights.safetensors").write_bytes(b"not safetensors")   # a copy cut short
    with pytest.warns(UserWarning, match="step-0000020 is corrupt.*resuming from step-0000010"):
        resumed = run(tmp_path)
    assert resumed.resumed_from == 10 and resumed.history == full.history


@pytest.mark.parametrize("damage", ["weights", "truncated state", "state lacking a key"])
def test_no_intact_checkpoint_raises_and_changes_nothing(tmp_path, damage):
    run(tmp_path, steps=10)
    folder = tmp_path / "step-0000010"
    if damage == "weights":
        (folder / "weights.safetensors").write_bytes(b"not safetensors")
    elif damage == "truncated state":
        (folder / "state.json").write_text("{")
    else:
        state = json.loads((folder / "state.json").read_text()); del state["optim_groups"]
        (folder / "state.json").write_text(json.dumps(state))
    before, model = snapshot(tmp_path), net()
    weights = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="no intact checkpoint .*step-0000010 is corrupt"):
        fit(model, loss_fn, Points(), TrainConfig(**CFG), ckpt_dir=tmp_path, device="cpu", progress=False)
    assert snapshot(tmp_path) == before and all(torch.equal(a, b) for a, b in zip(model.parameters(), weights))


def test_a_missing_latest_checkpoint_falls_back(tmp_path):
    run(tmp_path, steps=10)
    (tmp_path / "latest.json").write_text(json.dumps({"checkpoint": "step-0000099"}))
    with pytest.warns(UserWarning, match="step-0000099 is missing"):
        assert run(tmp_path).resumed_from == 10
    (tmp_path / "latest.json").unlink()                                 # the folders alone decide
    assert read_checkpoint(tmp_path)[1]["step"] == 40
    with pytest.raises(FileNotFoundError, match="ckpt_dir: no checkpoint in"):
        read_checkpoint(tmp_path / "step-0000040")


def test_a_killed_save_leaves_nothing_behind(tmp_path):
    run(tmp_path, steps=10)
    leftover = tmp_path / ".step-0000020.tmp-99999"                     # what a save killed mid-way leaves
    leftover.mkdir(); (leftover / "weights.safetensors").write_bytes(b"half")
    assert run(tmp_path).resumed_from == 10 and not leftover.exists()


def test_checkpoint_of_another_model_raises_and_overwrites_nothing(tmp_path):
    run(tmp_path, steps=10)
    before = snapshot(tmp_path)
    other = nn.Sequential(nn.Linear(1, 4), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="another model"):
        fit(other, loss_fn, Points(), TrainConfig(**CFG), ckpt_dir=tmp_path, device="cpu", progress=False)
    assert snapshot(tmp_path) == before


def test_bad_arguments():
    with pytest.raises(TypeError, match="config"):
        fit(net(), loss_fn, Points(), dict(steps=1))
    with pytest.raises(TypeError, match="loss_fn"):
        fit(net(), None, Points(), TrainConfig())
    with pytest.raises(ValueError, match="no parameters that require gradients"):
        fit(net().requires_grad_(False), loss_fn, Points(), TrainConfig())
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=0)
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainConfig(lr_schedule="step")
    with pytest.raises(ValueError, match="batch_size: expected at most"):
        batch_indices(3, 4, 0, 0)
    with pytest.raises(FloatingPointError, match="loss_fn"):
        fit(net(), lambda m, b, g: torch.tensor(float("nan"), requires_grad=True), Points(), TrainConfig(**CFG),
            device="cpu", progress=False)


def test_batches_cover_each_epoch_once():
    seen = sum((batch_indices(64, 16, s, seed=3) for s in range(4)), [])
    assert sorted(seen) == list(range(64))
    assert batch_indices(64, 16, 4, seed=3) != batch_indices(64, 16, 0, seed=3)   # a new permutation next epoch


def test_live_plot_outside_a_notebook_is_harmless():
    r = fit(net(), loss_fn, Points(), TrainConfig(**{**CFG, "steps": 10}), device="cpu", progress=False, plot=True)
    assert len(r.history) == 10
