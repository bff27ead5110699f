"""Lessons stay lessons: the guard of `tools/check_lessons.py` on every lesson notebook, and on made-up notebooks that
show what it catches and what it lets through."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_lessons", ROOT / "tools" / "check_lessons.py")
guard = importlib.util.module_from_spec(spec)
spec.loader.exec_module(guard)


def write(path: Path, *cells) -> Path:
    "A notebook of `cells`: a str is a markdown cell, a tuple `(source, printed)` a code cell and its output."
    nb = dict(cells=[], metadata={}, nbformat=4, nbformat_minor=5)
    for i, c in enumerate(cells):
        if isinstance(c, str):
            nb["cells"].append(dict(cell_type="markdown", id=f"m{i}", metadata={}, source=c))
        else:
            src, printed = c
            outputs = [dict(output_type="stream", name="stdout", text=printed)] if printed else []
            nb["cells"].append(dict(cell_type="code", id=f"c{i}", metadata={}, source=src, outputs=outputs,
                                    execution_count=None))
    path.write_text(json.dumps(nb))
    return path


def test_every_lesson_passes_the_guard():
    lessons = guard.lessons()
    assert len(lessons) >= 19 and all("experiments" not in p.parts for p in lessons)
    assert [line for p in lessons for line in guard.problems(p)] == []


def test_a_figure_must_be_printed_above_it(tmp_path):
    nb = write(tmp_path / "a.ipynb", ("print(s)", "step noise 0.346 px, PSNR 25.6 dB, 95.3% pass\n"),
               "The wobble is 0.35 px (0.346 rounded), 25.6 dB, 95% of captions pass; x0.35 as a ratio.",
               "The wobble is 0.33 px.", "It was 0.43 px before.")
    assert guard.problems(nb) == [f"a.ipynb cell 2 (m2): '0.33 px' is printed by no output above it",
                                  f"a.ipynb cell 3 (m3): '0.43 px' is printed by no output above it"]


def test_a_figure_printed_only_below_does_not_count(tmp_path):
    nb = write(tmp_path / "a.ipynb", "The demo takes 71 s.", ("print(t)", "71.3 s\n"), "As printed: 71 s.")
    assert guard.problems(nb) == ["a.ipynb cell 0 (m0): '71 s' is printed by no output above it"]


def test_what_is_not_a_figure(tmp_path):
    "Settings, code, the paper's own figures, section numbers and versions are not checked."
    nb = write(tmp_path / "a.ipynb", ("lr = 2e-4; ema = 0.995", None),
               "**In the paper:** Section 3.3 and Figure 5: 1.875 -> 7.5 -> 30 fps; the paper's FVD 534 against 704.\n"
               "8 keyframes become 29 frames at 64x64 with `SLOW_SPEED = (0.002, 0.01)`; EMA 0.995; torch 2.14.1; "
               "[a link](https://example.com/v0.42.1).")
    assert guard.problems(nb) == []


def test_commit_hashes_walls_and_weight_are_caught(tmp_path):
    wall = "#| export\n" + "x = 1\n" * 46
    nb = write(tmp_path / "a.ipynb", "As at commit e822fc1, 3x faster.", (wall, None), (("#| export\n" + "x = 1\n" * 44), None),
               ("plot()", "x" * (251 * 1024)))
    found = guard.problems(nb)
    assert found[0] == "a.ipynb: 251 KB of outputs (at most 250)"
    assert found[1:] == ["a.ipynb cell 0 (m0): a commit hash in the prose: e822fc1",
                         "a.ipynb cell 1 (c1): an exported cell of 47 lines (at most 45)"]


@pytest.mark.parametrize("figure, printed, ok", [("24.2 dB", "24.19", True), ("24.2 dB", "24.31", False),
                                                   ("-14%", "flicker -14%", True), ("14%", "0.137", True),
                                                   ("2,569 s", "2569.4", True), ("2,569 s", "2579", False), ("x0.747", "0.7470", True),
                                                   ("0.4 pixel", "0.29", False), ("2.0 GB", "1983.1 MB", False)])
def test_rounding(tmp_path, figure, printed, ok):
    "A figure may round what is printed, to the digits it shows; a percentage may be printed as a fraction."
    nb = write(tmp_path / "a.ipynb", ("print(x)", printed + "\n"), f"It is {figure}.")
    assert (guard.problems(nb) == []) == ok
