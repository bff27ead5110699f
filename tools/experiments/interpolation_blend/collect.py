"""Gather rows of residual.py's outputs into one table: `python collect.py OUT.json LABEL=FILE.json ...`; each FILE's
first row with the temporal decoder is kept under LABEL (with the sampling it used), added to OUT's rows."""
import json
import os
import sys

out_path, pairs = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
table = json.load(open(out_path)) if os.path.exists(out_path) else {"rows": {}}
for label, path in pairs:
    run = json.load(open(path))
    name = next(k for k in run["rows"] if k.endswith("temporal decoder"))
    table["rows"][label] = dict(run["rows"][name], sampling=run.get("sampling", {}), clips=run["clips"])
json.dump(table, open(out_path, "w"), indent=1)
print("\n".join(f"{k}: {v['step_noise_px']:.3f} px, {v['backward']} back" for k, v in table["rows"].items()))
