"""Run nbdev's docs preprocessing on every notebook, as `nbdev_proc_nbs` does, without installing Quarto.

`nbdev_proc_nbs` first tries to install Quarto (with sudo) and re-installs the package with the system's pip; on
machines without Quarto that is wrong. This runs the same steps that follow it (refresh nbs/nbdev.yml, build the
module index, process each notebook into _proc/) one notebook at a time and fails on the first notebook whose
processing raises, or that mixes imports with other code in a cell (nbdev runs such cells only in part)."""
import shutil, sys, warnings

import nbdev.doclinks
import nbdev.serve_drv
from nbdev.config import get_config
from nbdev.quarto import refresh_quarto_yml
from nbdev.serve import _proc_file


def _notebooks(nbs):
    "Every notebook under `nbs`, sub-folders such as `experiments/` included (not hidden or `_` folders)."
    return sorted(p for p in nbs.rglob("*.ipynb")
                  if not any(part.startswith((".", "_")) for part in p.relative_to(nbs).parts))


def main(keep: bool = False) -> int:
    "Process every notebook into _proc/; with `keep`, leave _proc/ for a docs build (`tools/static_docs.py`)."
    cfg = get_config()
    nbs, cache = cfg.config_path / cfg.nbs_path, cfg.config_path / "_proc"
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir()
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    failed = []
    for nb in _notebooks(nbs):
        job = _proc_file(nb, mtime=0, cache=cache, path=nbs)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("error", message="Found cells containing imports")
                nbdev.serve_drv.main(job)
        except Exception as e:
            failed.append(nb.name)
            print(f"docs preprocessing failed for {nb.name}: {type(e).__name__}: {str(e)[:800]}")
    if not keep:
        shutil.rmtree(cache, ignore_errors=True)
    if failed:
        return 1
    print(f"proc_docs: {len(_notebooks(nbs))} notebooks ready for the docs build")
    return 0


if __name__ == "__main__":
    sys.exit(main(keep="--keep" in sys.argv[1:]))
