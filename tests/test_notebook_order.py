"A notebook imports only from notebooks before it: a lesson never leans on one the reader has not reached."
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
IMPORT = re.compile(r"^\s*(?:from|import)\s+videoldm_ref\.(\w+)", re.M)


def _notebooks() -> list[Path]:
    "The lessons in reading order (their file names sort that way); `index` and experiments are not lessons."
    return sorted(p for p in NBS.glob("[0-9]*.ipynb"))


def _code(nb: Path) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")


def _module(code: str) -> str | None:
    m = re.search(r"^#\|\s*default_exp\s+(\S+)", code, re.M)
    return m and m.group(1)


def forward_imports(notebooks: list[Path]) -> list[str]:
    "Each import of a module that a later notebook exports (or that no notebook exports), as a readable line."
    codes = [_code(nb) for nb in notebooks]
    where = {_module(c): i for i, c in enumerate(codes) if _module(c)}
    problems = []
    for i, (nb, code) in enumerate(zip(notebooks, codes)):
        for module in sorted(set(IMPORT.findall(code))):
            j = where.get(module)
            if j is None:
                problems.append(f"{nb.name} imports videoldm_ref.{module}, which no notebook exports")
            elif j > i:
                problems.append(f"{nb.name} imports videoldm_ref.{module}, taught later in {notebooks[j].name}")
    return problems


def test_no_notebook_imports_from_a_later_one():
    notebooks = _notebooks()
    assert len(notebooks) >= 14 and notebooks[0].name == "00_core.ipynb"
    assert forward_imports(notebooks) == []


def test_the_check_catches_a_forward_import(tmp_path):
    "The same check on two made-up notebooks: the first importing from the second must be reported."
    def write(name, *sources):
        cells = [dict(cell_type="code", source=s, metadata={}, outputs=[], execution_count=None) for s in sources]
        (tmp_path / name).write_text(json.dumps(dict(cells=cells)))
        return tmp_path / name
    a = write("00_a.ipynb", "#| default_exp a", "from videoldm_ref.b import thing")
    b = write("01_b.ipynb", "#| default_exp b", "import videoldm_ref.a")
    assert forward_imports([a, b]) == ["00_a.ipynb imports videoldm_ref.b, taught later in 01_b.ipynb"]
    c = write("02_c.ipynb", "from videoldm_ref.nowhere import x")
    assert forward_imports([a, b, c])[1] == "02_c.ipynb imports videoldm_ref.nowhere, which no notebook exports"


def _all_notebooks() -> list[Path]:
    return sorted(p for p in NBS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_no_notebook_carries_more_than_250_kb_of_outputs():
    "Outputs are kept for the docs, but a notebook must stay quick to open and to diff (JPEG grids, few frames)."
    sizes = {nb.name: sum(len(json.dumps(c.get("outputs", []))) for c in json.loads(nb.read_text())["cells"])
             for nb in _all_notebooks()}
    assert len(sizes) >= 15 and max(sizes.values()) > 0
    assert {k: v // 1024 for k, v in sizes.items() if v > 250 * 1024} == {}


def test_no_exported_cell_is_a_wall_of_code():
    "One idea per exported cell: about 40 lines; 55 is the hard stop that catches a cell grown back into a wall."
    walls = {}
    for nb in _notebooks():
        for c in json.loads(nb.read_text())["cells"]:
            src = "".join(c["source"])
            if c["cell_type"] == "code" and re.match(r"#\|\s*export\b", src) and len(src.splitlines()) > 55:
                walls[f"{nb.name}#{c.get('id')}"] = len(src.splitlines())
    assert walls == {}


RELATIVE = re.compile(r"^\s*from\s+\.+\w*\s+import", re.M)


def relative_imports(notebooks: list[Path]) -> list[str]:
    "Each notebook with a relative import: in the notebook the code runs as `__main__`, where it cannot work."
    return [nb.name for nb in notebooks if RELATIVE.search(_code(nb))]


def test_no_notebook_imports_relatively():
    "An exported function that imports `from .module` fails when a notebook cell (a slow one, say) calls it."
    assert relative_imports(_all_notebooks()) == []


def test_the_check_catches_a_relative_import(tmp_path):
    cells = [dict(cell_type="code", source="#| export\ndef f():\n    from .autoencoder import x\n", metadata={},
                  outputs=[], execution_count=None)]
    (tmp_path / "a.ipynb").write_text(json.dumps(dict(cells=cells)))
    assert relative_imports([tmp_path / "a.ipynb"]) == ["a.ipynb"]
