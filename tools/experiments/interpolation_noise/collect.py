# Gather the experiments' json files (paths as in the README) into nbs/results/interpolation_wobble.json.
import json, sys
from pathlib import Path

b = Path(sys.argv[1] if len(sys.argv) > 1 else "build")
two = json.loads((b / "noise_probe.json").read_text())
steps25 = json.loads((b / "noise_probe_s25.json").read_text())["0.0"]
sampling = {f"shared noise {float(k):g}" if float(k) else "as shipped (10 steps, independent noise)": v
            for k, v in two.items() if not k.startswith("autoencoder")}
sampling["25 DDIM steps"] = steps25
out = dict(two_passes=sampling,
           autoencoder={k.split(", ")[1]: v for k, v in two.items() if k.startswith("autoencoder")},
           one_pass_alone=json.loads((b / "passes.json").read_text()),
           precision=json.loads((b / "precision.json").read_text()),
           precision_draws={**json.loads((b / "precision_draws_100_300.json").read_text()),
                            **json.loads((b / "precision_draws999.json").read_text())},
           fine_tunes={"+600 steps, noise steps as before (control)":
                           json.loads((b / "probe_low0.5.json").read_text())["0.0"],
                       "+600 steps, noise steps uniform": json.loads((b / "probe_low0.0.json").read_text())["0.0"]},
           guidance={f"context guidance s={s}": json.loads((b / f"probe_scale{s}.json").read_text())["0.0"]
                     for s in (1, 3)},
           one_pass_table=json.loads((b / "one_pass_shared.json").read_text()))
Path("nbs/results/interpolation_wobble.json").write_text(json.dumps(out, indent=1))
print(json.dumps(out)[:400])
