"""Fail when `nbdev_export` or `nbdev_clean` would change the work tree.

Runs both, then compares a fingerprint of `videoldm_ref/` and `nbs/` taken before and after. The changed files are
left in place (they are what the developer wants to commit) and listed."""
import hashlib, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WATCH = [ROOT / "videoldm_ref", ROOT / "nbs"]


def fingerprint() -> dict[str, str]:
    out = {}
    for top in WATCH:
        for p in sorted(top.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts:
                out[str(p.relative_to(ROOT))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def main() -> int:
    bin_dir = Path(sys.executable).parent
    before = fingerprint()
    for cmd in ("nbdev_export", "nbdev_clean"):
        subprocess.run([str(bin_dir / cmd)], cwd=ROOT, check=True)
    after = fingerprint()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        print("nbdev_export / nbdev_clean changed these files: notebooks and library were out of sync or unclean.")
        print("Review the changes and commit them:")
        for k in changed:
            print("  ", k)
        return 1
    print("check_sync: notebooks and videoldm_ref/ are in sync and clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
