"""Execute notebooks in place, as the docs show them: every cell but `#| slow` and `#| cuda` ones, whose outputs are
kept as they are (they come from the run that made them); then `nbdev_clean` them.

    OMP_NUM_THREADS=2 python tools/run_notebook.py nbs/13_interpolation.ipynb [more notebooks]

A Jupyter kernel runs them (so live displays update in place, as in JupyterLab), in the notebook's folder. Stops at
the first cell that raises, printing it, and leaves that notebook unchanged."""
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

SKIP = re.compile(r"^#\|\s*(?:slow|cuda)\b", re.M)


class _SkippingClient(NotebookClient):
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type == "code" and SKIP.search(cell.source):
            return cell                                          # not run: its outputs stay as they were
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)


def run(path: Path) -> None:
    path, start = path.resolve(), time.time()
    nb = nbformat.read(path, as_version=4)
    client = _SkippingClient(nb, timeout=None, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as e:
        sys.exit(f"{path.name}: a cell raised:\n{str(e)[-3000:]}")
    nbformat.write(nb, path)
    subprocess.run([str(Path(sys.executable).parent / "nbdev_clean"), "--fname", str(path)], check=True)
    print(f"{path.name}: ran in {time.time() - start:.0f} s")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        run(Path(p))
