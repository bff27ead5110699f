"Reproducible installs: constraints.txt pins every package the installs need, within settings.ini's ranges."
import configparser
import videoldm_ref
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


def test_every_exported_function_and_class_is_documented_and_typed():
    "The API pages are complete: a docstring for every exported function and class, and a type on every argument."
    import importlib
    import inspect
    import pkgutil
    import typing
    undocumented, untyped = [], []
    for info in pkgutil.iter_modules(videoldm_ref.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"videoldm_ref.{info.name}")
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != module.__name__:
                continue
            if not inspect.getdoc(obj):
                undocumented.append(f"{info.name}.{name}")
            fn = obj if inspect.isfunction(obj) else obj.__init__
            if inspect.isfunction(fn) and fn.__module__ == module.__name__:
                typing.get_type_hints(fn, vars(module))                      # every annotation names something real
                params = inspect.signature(fn).parameters.values()
                untyped += [f"{info.name}.{name}({p.name})" for p in params if p.name not in ("self", "cls")
                            and p.annotation is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert not undocumented, f"no docstring: {undocumented}"
    assert not untyped, f"arguments without a type: {untyped}"
