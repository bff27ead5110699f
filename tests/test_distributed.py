"""`fit` under `torchrun` (`05_training`, "One run, several processes"): two CPU processes (gloo) against one, and an
interrupted two-process run resumed. Each job runs in its own processes, one thread each."""
import json
import os
import subprocess
import sys
import textwrap

import torch
from safetensors.torch import load_file

JOB = textwrap.dedent('''
    import json, os, sys
    import torch
    from torch import nn
    from safetensors.torch import save_file
    from videoldm_ref.train import TrainConfig, fit, world

    class Points(torch.utils.data.Dataset):
        def __init__(self, n=96):
            self.x = torch.linspace(-1, 1, n).unsqueeze(1)
            self.y = torch.sin(3 * self.x)
        def __len__(self): return len(self.x)
        def __getitem__(self, i): return dict(x=self.x[i], y=self.y[i])

    def mse(model, batch, generator):               # no randomness: one process and two see the same numbers
        return nn.functional.mse_loss(model(batch["x"]), batch["y"])

    def crash(at):
        def on_step(step, loss):
            if step == at: raise SystemExit(3)
        return on_step

    out, ckpt, crash_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))
    r = fit(model, mse, Points(), TrainConfig(steps=30, batch_size=16, lr=1e-2, warmup=2, ckpt_every=10),
            ckpt_dir=ckpt, device="cpu", progress=False, on_step=crash(crash_at) if crash_at else None)
    rank, size = world()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{out}/rank{rank}.safetensors")
    with open(f"{out}/rank{rank}.json", "w") as f:
        json.dump(dict(history=r.history, resumed_from=r.resumed_from, size=size), f)
''')


def run(tmp_path, name: str, procs: int, crash_at: int = 0, ckpt: str | None = None) -> subprocess.CompletedProcess:
    (tmp_path / "job.py").write_text(JOB)
    out = tmp_path / name
    out.mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
           str(tmp_path / "job.py"), str(out), str(tmp_path / (ckpt or f"ckpt-{name}")), str(crash_at)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def result(tmp_path, name: str, rank: int = 0):
    return (load_file(tmp_path / name / f"rank{rank}.safetensors"),
            json.loads((tmp_path / name / f"rank{rank}.json").read_text()))


def one_process(tmp_path, monkeypatch):
    "The job in this process, without torchrun: the reference that two processes must match."
    import runpy
    (tmp_path / "job.py").write_text(JOB)
    (tmp_path / "one").mkdir()
    monkeypatch.setattr(sys, "argv", ["job.py", str(tmp_path / "one"), str(tmp_path / "ckpt-one"), "0"])
    runpy.run_path(str(tmp_path / "job.py"), run_name="__main__")
    return result(tmp_path, "one")


def test_two_processes_interrupted_resume_and_take_the_steps_of_one(tmp_path, monkeypatch):
    """Two launches of two processes (about 12 s each; one test, so that they run once under pytest-xdist): a run cut
    at step 25, then the same command again, which goes on from the checkpoint of step 20 and ends where one process
    taking the whole global batch ends."""
    w1, r1 = one_process(tmp_path, monkeypatch)
    assert r1["size"] == 1 and len(r1["history"]) == 30
    assert run(tmp_path, "cut", 2, crash_at=25).returncode != 0                     # both ranks stop at step 25
    assert json.loads((tmp_path / "ckpt-cut" / "latest.json").read_text())["checkpoint"] == "step-0000020"
    again = run(tmp_path, "cut", 2)
    assert again.returncode == 0, again.stderr[-4000:]
    (w2, r2), (w2b, r2b) = result(tmp_path, "cut"), result(tmp_path, "cut", 1)
    assert r2["size"] == 2 and r2["resumed_from"] == 20
    assert all(torch.equal(w2[k], w2b[k]) for k in w2) and r2["history"] == r2b["history"]   # the ranks agree
    gap = max((w1[k] - w2[k]).abs().max().item() for k in w1)
    assert gap < 1e-5, gap                              # the same steps, up to the order of the float sums
    assert len(r2["history"]) == 30 and max(abs(a - b) for a, b in zip(r1["history"], r2["history"])) < 1e-5
    assert sorted(p.name for p in (tmp_path / "ckpt-cut").iterdir()) == ["latest.json", "step-0000020", "step-0000030"]
