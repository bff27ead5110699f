"""Run the notebooks' `#| cuda` cells on a CUDA machine and put what they print back into the notebooks.

    python tools/run_cuda_cells.py check nbs/14_upsampler.ipynb ...     # here: every name a cuda cell needs is imported
    python tools/run_cuda_cells.py run nbs/14_upsampler.ipynb ... --out DIR  # there: DIR/cuda_outputs.json
    python tools/run_cuda_cells.py merge DIR/cuda_outputs.json          # here: the printed output into the notebooks

`nbdev_test` skips `#| cuda` cells (settings.ini: `tst_flags = slow cuda`), so their outputs, which the docs render,
come from here. `run` executes each notebook's import cells (cells of nothing but imports) and imports what its
module exports, then its cuda cells in order, in one namespace per notebook, and writes each cell's printed text (or
its error) to the json after every cell, so a run cut short keeps what it finished. `merge` writes an output only into a cell whose source is still
the one that ran. Without PyAV (not every CUDA image has it) `av` is stubbed: the cuda cells read and write no video."""
import argparse
import ast
import builtins
import contextlib
import hashlib
import io
import json
import sys
import time
import traceback
import types
from pathlib import Path


def code_cells(nb: dict):
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            yield cell, "".join(cell["source"])


def flags(src: str) -> set[str]:
    "The words of the cell's leading `#|` lines: `{'slow', 'cuda'}`, `{'default_exp', 'core'}`."
    words = set()
    for line in src.lstrip().split("\n"):
        if not line.startswith("#|"):
            break
        words |= set(line[2:].split())
    return words


def is_import_cell(src: str) -> bool:
    try:
        body = ast.parse(src).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body)


def digest(src: str) -> str:
    return hashlib.sha256(src.encode()).hexdigest()[:16]


def imports_and_cuda_cells(path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The notebook's import cells (less nbdev's, which a CUDA image may lack) with its own module's names, and its
    cuda cells `(id, source)`."""
    nb = json.loads(path.read_text())
    imports, cuda = [], []
    for cell, src in code_cells(nb):
        f = flags(src)
        if "default_exp" in f:                    # what the notebook defines, from the module it exports
            imports.append(f"from videoldm_ref.{src.split()[2]} import *")
        elif "cuda" in f:
            cuda.append((cell["id"], src))
        elif is_import_cell(src) and not f & {"slow", "eval:"}:
            imports.append("\n".join(l for l in src.split("\n") if "nbdev" not in l))
    return imports, cuda


def undefined_names(imports: list[str], cell: str) -> set[str]:
    "Names `cell` reads that neither it, the import cells nor the builtins define."
    defined = set(dir(builtins))
    for src in imports:
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
    stars = [n.module for src in imports for n in ast.walk(ast.parse(src))
             if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)]
    for module in stars:
        mod = __import__(module, fromlist=["*"])
        defined |= set(getattr(mod, "__all__", [n for n in dir(mod) if not n.startswith("_")]))
    tree = ast.parse(cell)
    defined |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    defined |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - defined


def check(paths: list[Path]) -> int:
    bad = 0
    for path in paths:
        imports, cuda = imports_and_cuda_cells(path)
        for cid, src in cuda:
            missing = undefined_names(imports, src)
            print(f"{path.name} {cid}: {'needs ' + ', '.join(sorted(missing)) if missing else 'ok'}")
            bad += bool(missing)
    return 1 if bad else 0


class Tee(io.StringIO):
    "Keeps what is printed and passes it on, so a long run shows its progress."
    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def write(self, s):
        self.stream.write(s)
        return super().write(s)


def run(paths: list[Path], out: Path) -> int:
    try:
        import av  # noqa: F401
    except ImportError:
        sys.modules["av"] = types.ModuleType("av")
        print("PyAV is missing: `av` stubbed", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    records, failed = [], 0
    for path in paths:
        imports, cuda = imports_and_cuda_cells(path)
        ns = {"__name__": "__main__"}
        for src in imports:
            exec(compile(src, f"{path.name}:imports", "exec"), ns)
        for cid, src in cuda:
            print(f"== {path.name} {cid}", flush=True)
            text, error, t = Tee(sys.stdout), None, time.time()
            try:
                with contextlib.redirect_stdout(text):
                    exec(compile(src, f"{path.name}:{cid}", "exec"), ns)
            except Exception:
                error = traceback.format_exc()
                print(error, flush=True)
                failed += 1
            records.append(dict(notebook=str(path), id=cid, digest=digest(src), text=text.getvalue(), error=error,
                                seconds=round(time.time() - t, 1)))
            (out / "cuda_outputs.json").write_text(json.dumps(records, indent=1))
    return 1 if failed else 0


def merge(results: Path) -> int:
    records, written = json.loads(results.read_text()), 0
    for path in sorted({r["notebook"] for r in records}):
        nb = json.loads(Path(path).read_text())
        cells = {c["id"]: (c, src) for c, src in code_cells(nb)}
        for r in (r for r in records if r["notebook"] == path):
            cell, src = cells.get(r["id"], (None, ""))
            if cell is None or digest(src) != r["digest"] or r["error"]:
                print(f"{path} {r['id']}: skipped ({'failed there' if r['error'] else 'the cell changed since'})")
                continue
            cell["outputs"] = [dict(name="stdout", output_type="stream", text=r["text"].splitlines(keepends=True))]
            written += 1
        Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print(f"{written} of {len(records)} outputs written; run nbdev_clean next")
    return 0 if written == len(records) else 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("check", "run", "merge"))
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=Path("build/cuda"))
    a = p.parse_args(argv)
    if a.command == "check":
        return check(a.paths)
    if a.command == "run":
        return run(a.paths, a.out)
    return merge(a.paths[0])


if __name__ == "__main__":
    sys.exit(main())
