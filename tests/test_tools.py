"""The repository's tools that put GPU results into the notebooks: `tools/run_cuda_cells.py`, `tools/cuda_stack_check.py`."""
import importlib.util
import json
from pathlib import Path

import pytest
import torch

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook(path: Path, *cells: str) -> Path:
    nb = dict(cells=[dict(cell_type="code", id=f"c{i}", metadata={}, outputs=[], execution_count=None,
                          source=src.splitlines(keepends=True)) for i, src in enumerate(cells)],
              metadata={}, nbformat=4, nbformat_minor=5)
    path.write_text(json.dumps(nb, indent=1))
    return path


def outputs(path: Path) -> dict[str, list]:
    return {c["id"]: c["outputs"] for c in json.loads(path.read_text())["cells"]}


def test_cuda_cells_run_after_the_imports_and_their_output_goes_back_into_the_notebook(tmp_path):
    rcc = load_tool("run_cuda_cells")
    nb = notebook(tmp_path / "t.ipynb", "#| default_exp core", "import math\nfrom nbdev.showdoc import *",
                  "x = 41", "#| cuda\nprint(check_int(3, 'n'), math.sqrt(4))",   # a name of the module, an import
                  "#| cuda\nprint(x)",                                         # a name of a plain cell: fails there
                  "#| slow\n#| cuda\nprint('slow and cuda')")
    assert rcc.check([nb]) == 1                                                # `x` is not imported: reported here
    assert rcc.run([nb], tmp_path / "out") == 1
    records = json.loads((tmp_path / "out" / "cuda_outputs.json").read_text())
    assert [(r["id"], r["text"], r["error"] is None) for r in records] == [
        ("c3", "3 2.0\n", True), ("c4", "", False), ("c5", "slow and cuda\n", True)]
    assert "NameError" in records[1]["error"]
    edited = json.loads(nb.read_text())
    edited["cells"][5]["source"] = ["#| slow\n", "#| cuda\n", "print('changed since')"]
    nb.write_text(json.dumps(edited))
    assert rcc.merge(tmp_path / "out" / "cuda_outputs.json") == 1             # one failed, one changed: not merged
    got = outputs(nb)
    assert got["c3"] == [dict(name="stdout", output_type="stream", text=["3 2.0\n"])]
    assert got["c4"] == [] and got["c5"] == []


def test_import_cells_are_told_from_others():
    rcc = load_tool("run_cuda_cells")
    assert rcc.is_import_cell("import torch\nfrom x import (a,\n    b)")
    assert not rcc.is_import_cell("import torch\nx = 1") and not rcc.is_import_cell("") and not rcc.is_import_cell("(")
    assert rcc.flags("#| slow cuda\nx") == {"slow", "cuda"} and rcc.flags("x = 1") == set()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the answer on a machine without CUDA")
def test_the_stack_check_says_so_without_cuda(tmp_path, capsys):
    assert load_tool("cuda_stack_check").main(["--out", str(tmp_path / "r.json")]) == 2
    assert "no CUDA device" in capsys.readouterr().err and not (tmp_path / "r.json").exists()


def test_run_notebook_executes_all_but_slow_and_cuda_cells_and_keeps_their_outputs(tmp_path):
    tool = load_tool("run_notebook")
    nb = notebook(tmp_path / "a.ipynb", "x = 6 * 7\nprint(x)", "#| slow\nprint('slow')", "#| cuda\nprint('cuda')",
                  "print(open('here.txt').read())")
    (tmp_path / "here.txt").write_text("read in the notebook's folder")
    kept = json.loads(nb.read_text())
    kept["cells"][1]["outputs"] = [dict(output_type="stream", name="stdout", text=["from the run that made it\n"])]
    nb.write_text(json.dumps(kept))
    tool.run(nb)
    out = {cid: "".join("".join(o.get("text", "")) for o in outs) for cid, outs in outputs(nb).items()}
    assert out == {"c0": "42\n", "c1": "from the run that made it\n", "c2": "", "c3": "read in the notebook's folder\n"}
    bad = notebook(tmp_path / "b.ipynb", "raise RuntimeError('no')")
    before = bad.read_text()
    with pytest.raises(SystemExit, match="a cell raised"):
        tool.run(bad)
    assert bad.read_text() == before                                   # a failed run leaves the notebook as it was
