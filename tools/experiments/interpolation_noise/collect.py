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
           one_pass_table=json.loads((b / "one_pass_shared.json").read_text()))
Path("nbs/results/interpolation_wobble.json").write_text(json.dumps(out, indent=1))
print(json.dumps(out)[:400])
