"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does with Quarto, which these machines lack).

    python tools/readme.py          # regenerate README.md
    python tools/readme.py --check  # exit 1 when README.md is out of date
    python tools/readme.py --picture  # also redraw the README's pictures: nbs/images/samples.png (the data),
                                      # nbs/images/generated.png (the shipped keyframe model, before and after) and
                                      # nbs/images/demo_track.png (the object's track in make demo's last video)

Markdown cells are copied; code cells become ```python blocks followed by their text output; cells flagged
`#| hide` are left out, and `#| echo: false` ones show their output only; relative image links are rewritten to point into nbs/."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NB, README = ROOT / "nbs" / "index.ipynb", ROOT / "README.md"
HEADER = "<!-- Generated from nbs/index.ipynb by tools/readme.py (make readme). Edit the notebook, not this file. -->\n"


def _source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _directives(src: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^#\|\s*([\w-]+)", src, re.M)}


def _text_output(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append("".join(out["text"]))
        elif "text/markdown" in out.get("data", {}):
            parts.append("".join(out["data"]["text/markdown"]))
        elif "text/plain" in out.get("data", {}) and "image/png" not in out["data"]:
            parts.append("".join(out["data"]["text/plain"]))
    return "".join(parts).rstrip("\n")


def render(nb: dict) -> str:
    blocks = []
    for cell in nb["cells"]:
        src = _source(cell)
        if {"hide", "exporti"} & _directives(src):
            continue
        echo = not re.search(r"^#\|\s*echo:\s*false", src, re.M)
        if cell["cell_type"] == "markdown":
            blocks.append(re.sub(r"\]\((?!https?:|/|#)", "](nbs/", src))
        elif cell["cell_type"] == "code":
            code = "\n".join(l for l in src.splitlines() if not l.startswith("#|")).strip()
            if code and echo:
                blocks.append(f"```python\n{code}\n```")
            out = _text_output(cell)
            if out:
                blocks.append(f"```\n{out}\n```")
    return HEADER + "\n" + "\n\n".join(blocks) + "\n"


def draw_generated(path: Path, captions=("a red circle moving right", "a blue square moving down",
                                          "a yellow triangle moving left")) -> None:
    """Before (image LDM frame by frame) and after (video LDM) from the same noise, each titled with its verdict:
    the videos of `10_keyframes`' "Before and after" (the same captions in one batch, seed 0)."""
    from videoldm_ref.autoencoder import load_autoencoder
    from videoldm_ref.cli import motion_report
    from videoldm_ref.keyframes import load_keyframes, sample_video
    from videoldm_ref.media import frames_grid
    ldm, vae = load_keyframes(), load_autoencoder()
    before = sample_video(ldm, vae, list(captions), image_only=True, generator=0)
    after = sample_video(ldm, vae, list(captions), generator=0)
    rows, titles = [], []
    for caption, b, a in zip(captions, before, after):
        for name, video in (("before", b), ("after", a)):
            verdict = motion_report(video, caption).removeprefix("motion yardstick: ").split(";")[0]
            rows.append(video)
            titles.append(f"{name}: {caption} ({verdict})")
    frames_grid(rows, titles=titles, path=path, height=1.0)


def main(argv: list[str]) -> int:
    if "--picture" in argv:
        from videoldm_ref.cli import render_samples
        from videoldm_ref.media import frames_grid
        frames_grid(render_samples()[0], n_frames=4, path=ROOT / "nbs" / "images" / "samples.png", height=1.6)
        draw_generated(ROOT / "nbs" / "images" / "generated.png")
        from videoldm_ref.media import read_video
        from videoldm_ref.stack import demo_track_figure
        caption = json.loads((ROOT / "nbs" / "results" / "demo.json").read_text())["caption"]
        demo_track_figure(read_video(ROOT / "nbs" / "results" / "demo.mp4")[0], caption,
                          path=ROOT / "nbs" / "images" / "demo_track.png")
    text = render(json.loads(NB.read_text(encoding="utf-8")))
    if "--check" in argv:
        if not README.exists() or README.read_text(encoding="utf-8") != text:
            print("README.md is out of date with nbs/index.ipynb: run `make readme` and commit it.")
            return 1
        print("readme: README.md matches nbs/index.ipynb")
        return 0
    README.write_text(text, encoding="utf-8")
    print(f"wrote {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
