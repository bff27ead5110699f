"Reproducible installs: constraints.txt pins every package the installs need, within settings.ini's ranges."
import configparser
import shlex
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, str]:
    lines = [l.strip() for l in (ROOT / "constraints.txt").read_text().splitlines()]
    pins = dict(l.split("==") for l in lines if l and not l.startswith("#"))
    return {k.lower().replace("_", "-"): v for k, v in pins.items()}


def _requirements() -> list[Requirement]:
    cfg = configparser.ConfigParser(delimiters=["="])
    cfg.read(ROOT / "settings.ini")
    return [Requirement(r) for key in ("requirements", "dev_requirements") for r in shlex.split(cfg["DEFAULT"][key])]


def test_every_requirement_is_pinned_within_its_range():
    pins = _pins()
    assert all("==" not in v and v for v in pins.values())
    for req in _requirements():
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"constraints.txt does not pin {req.name} (run make lock)"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} is outside {req}"


def test_the_makefile_installs_with_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert '$(BIN)/pip install -c constraints.txt -e ".[dev]"' in makefile
    assert "torch==2.14.1 torchvision==0.29.1" in makefile and _pins()["torch"] == "2.14.1"
    assert "--upgrade pip" not in makefile                      # pip itself pinned too
