"""Issue 44: the driving models' training runs (`videoldm-ref train driving`, or the notebook's `#| slow` cells) as
a record in nbs/results/driving_models.json: steps, minutes on one CPU thread (from the logs the runs wrote) and the
loss per 250 steps (from their checkpoints in build/ckpt/).

    python tools/experiments/driving/training_record.py LAYOUT_SECONDS PREDICTION_SECONDS"""
import json
import sys
from pathlib import Path

import numpy as np

from videoldm_ref.train import read_checkpoint

OUT = Path("nbs/results/driving_models.json")
record = json.loads(OUT.read_text()) if OUT.exists() else {}
record["training"] = {}
for name, folder, seconds in (("layout", "driving_layout", sys.argv[1]), ("prediction", "driving_prediction", sys.argv[2])):
    _, state = read_checkpoint(Path("build/ckpt") / folder)
    h = np.array(state["history"])
    record["training"][name] = dict(steps=int(state["step"]), seconds=round(float(seconds)),
                                    batch_size=state["config"]["batch_size"],
                                    loss_per_250=[float(h[s:s + 250].mean()) for s in range(0, len(h), 250)])
OUT.write_text(json.dumps(record, indent=1))
print(json.dumps(record["training"], indent=1))
