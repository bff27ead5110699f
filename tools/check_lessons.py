"""The guard that keeps lessons lessons (`tests/test_lessons.py` runs it on every lesson notebook).

    python tools/check_lessons.py                 # every lesson: nbs/*.ipynb, not nbs/experiments/
    python tools/check_lessons.py nbs/13_*.ipynb  # some notebooks, lessons or not

A lesson fails when it has
- an exported cell over `MAX_EXPORT_LINES` lines (one idea per cell);
- more than `MAX_OUTPUT_KB` of outputs;
- a commit hash in its prose (a learner should not need git to know which model a number describes);
- a figure in its prose that no output above it prints.

A *figure* is a number in a markdown cell that has a decimal point, a percent sign or a unit of measure
(`0.29 px`, `95%`, `x0.747`, `71 s`, `2.0 GB`). Plain integers (`8 frames`, `64x64`) are settings, not figures.
It is *printed* when an output of a code cell above the markdown cell shows it (as written, or more precisely and
rounding to it; a percentage also as the fraction it is), or when a code cell of the notebook writes it as a literal
(a setting such as `ema_decay=0.995`, which the prose may describe before the code that sets it). Not counted: code spans and blocks, links, references to the paper's sections,
equations, figures and tables, version numbers, and sentences that say the number is the paper's (they contain
"the paper" or "paper's"). `ALLOWED` lists the few other exceptions, each with its reason.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
MAX_EXPORT_LINES, MAX_OUTPUT_KB = 45, 250

# (notebook name, figure as written) -> why it need not be printed on that page
ALLOWED: dict[tuple[str, str], str] = {}

HASH = re.compile(r"(?<![\w.#/-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}(?![\w-])")
UNITS = r"(?:dB|px|pixels?|s|ms|min|minutes?|h|hours?|GB|MB|KB|GiB|MiB|KiB|TFLOP/?s?|M|B|k)"
NUMBER = re.compile(r"(?<![\w.])(x)?([-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(\s?%|\s?" + UNITS + r"(?![\w]))?")
PAPER_REF = re.compile(r"\b(?:Sections?|Sec\.|§|Eqs?\.|Equations?|Figures?|Figs?\.|Tables?|Appendix|Algorithm)"
                       r"\s*\(?[A-Z]?\d+(?:\.\d+)*\)?(?:\s*(?:,|and|to|-)\s*[A-Z]?\d+(?:\.\d+)*)*")
VERSION = re.compile(r"\b\d+\.\d+\.\d+\w*\b|\b(?:v|version\s|Python\s|torch\s|diffusers\s)\d+(?:\.\d+)+")


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append("".join(out["text"]) if isinstance(out["text"], list) else out["text"])
        for kind in ("text/plain", "text/markdown", "text/html"):
            data = out.get("data", {}).get(kind)
            if data is not None and "image/png" not in out.get("data", {}):
                parts.append("".join(data) if isinstance(data, list) else data)
    return "\n".join(parts)


def _prose(markdown: str) -> str:
    "The markdown a reader reads as prose: no code, links' targets, HTML comments or images."
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"https?://\S+", " ", text)
    return text


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.;:!?])\s+(?=[A-Z(*\-])|\n\s*[-*] |\n\n", text)


def figures(markdown: str) -> list[str]:
    "The figures of a markdown cell, as written (`0.29 px`, `95%`, `x0.747`)."
    found = []
    for sentence in _sentences(_prose(markdown)):
        if re.search(r"\bthe paper\b|\bpaper's\b|\bIn the paper\b", sentence, re.I):
            continue
        sentence = PAPER_REF.sub(" ", VERSION.sub(" ", sentence))
        for m in NUMBER.finditer(sentence):
            times, number, unit = m.groups()
            if "." in number or unit:
                found.append(m.group(0).strip())
    return found


def _value(figure: str) -> tuple[float, int, bool]:
    "Value, decimals, and whether it is a percentage."
    m = NUMBER.fullmatch(figure.strip()) or NUMBER.match(figure.strip())
    number = m.group(2).replace(",", "").replace("−", "-").lstrip("+-")
    decimals = len(number.split(".")[1]) if "." in number else 0
    return float(number), decimals, bool(m.group(3) and "%" in m.group(3))


OUT_NUMBER = re.compile(r"(?:(?<=\bx)|(?<![\w.]))[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


def printed_numbers(text: str) -> list[float]:
    "Every number an output or a code cell shows, as an absolute value."
    out = []
    for m in OUT_NUMBER.finditer(text):
        try:
            out.append(abs(float(m.group(0).replace(",", "").replace("−", "-"))))
        except ValueError:
            pass
    return out


def _shows(figure: str, numbers: set[float]) -> bool:
    value, decimals, percent = _value(figure)
    candidates = [value] + ([value / 100] if percent else [])
    for target, d in zip(candidates, [decimals, decimals + 2]):
        for n in numbers:
            if round(n, d) == round(target, d) and (d > 0 or abs(n - target) < 1) or n == target:
                return True
    return False


def problems(path: Path, *, lesson: bool = True) -> list[str]:
    "What the guard finds in the notebook at `path`, one readable line each."
    nb, name, found = json.loads(Path(path).read_text()), Path(path).name, []
    out_bytes = sum(len(json.dumps(c.get("outputs", []))) for c in nb["cells"])
    if out_bytes > MAX_OUTPUT_KB * 1024:
        found.append(f"{name}: {out_bytes // 1024} KB of outputs (at most {MAX_OUTPUT_KB})")
    code = "\n".join(l.split("#")[0] for c in nb["cells"] if c["cell_type"] == "code" for l in _source(c).splitlines())
    seen: set[float] = set(printed_numbers(code))
    for i, cell in enumerate(nb["cells"]):
        src, where = _source(cell), f"{name} cell {i} ({cell.get('id')})"
        if cell["cell_type"] == "code":
            lines = len(src.splitlines())
            if re.match(r"#\|\s*export", src) and lines > MAX_EXPORT_LINES:
                found.append(f"{where}: an exported cell of {lines} lines (at most {MAX_EXPORT_LINES})")
            seen |= set(printed_numbers(_outputs_text(cell)))
        elif cell["cell_type"] == "markdown":
            for h in HASH.findall(src):
                found.append(f"{where}: a commit hash in the prose: {h}")
            for fig in figures(src):
                if (name, fig) not in ALLOWED and not _shows(fig, seen):
                    found.append(f"{where}: {fig!r} is printed by no output above it")
    return found


def lessons() -> list[Path]:
    return sorted(NBS.glob("*.ipynb"))


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or lessons()
    report = [line for p in paths for line in problems(p)]
    print("\n".join(report) or "no problems")
    print(f"{len(report)} problems in {len(paths)} notebooks", file=sys.stderr)
    sys.exit(1 if report else 0)
