"""The docs site without Quarto: every notebook nbdev has processed for the docs (`_proc/`, written by
`tools/proc_docs.py --keep`) converted to an HTML page by nbconvert, with the sidebar of `nbs/sidebar.yml`, into
`_docs/` (where `nbdev_docs` writes the Quarto site). Pictures and animations are embedded in the pages, so the folder
is the whole site: open `_docs/index.html` in a browser, or serve it with `python -m http.server -d _docs`.

    python tools/static_docs.py            # `make docs` runs it where Quarto is missing

Links between pages (the API references nbdev writes as links to the published site) point at the local pages;
links to GitHub stay as they are. The site works offline: what nbconvert's template would fetch from CDNs is left
out (MathJax and require.js, which no page needs; the ipywidgets renderer, so a frame slider shows as its text;
Font Awesome, whose few icons on the animations' buttons are drawn as characters) or served from the site
(Mermaid, for the diagrams: `make docs` fetches `mermaid@11.10.0` from the npm registry into `build/docs-assets/`
once; without it the diagrams show as their source)."""
from __future__ import annotations

import html
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote

import nbformat
import yaml
from nbconvert import HTMLExporter
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
PROC, OUT, NBS = ROOT / "_proc", ROOT / "_docs", ROOT / "nbs"
SITE = "https://videoldm-ref.github.io/videoldm-ref/"
STYLE = """
body { margin: 0; }
nav.sidebar { position: fixed; top: 0; left: 0; bottom: 0; width: 15rem; overflow-y: auto; padding: 1rem;
  background: #f7f7f9; border-right: 1px solid #ddd; font: 14px/1.4 system-ui, sans-serif; box-sizing: border-box; }
nav.sidebar h2 { font-size: 15px; margin: 0 0 .8rem; } nav.sidebar h3 { font-size: 12px; text-transform: uppercase;
  color: #666; margin: 1rem 0 .3rem; } nav.sidebar a { display: block; padding: 2px 0; color: #24508f;
  text-decoration: none; } nav.sidebar a.here { font-weight: 600; color: #000; }
main.page { margin-left: 16rem; max-width: 70rem; padding: 1rem 2rem; }
main.page .description { color: #555; font-size: 1.1em; }
.fa { font-style: normal; } .fa-play:before { content: "\\25B6"; } .fa-pause:before { content: "\\23F8"; }
.fa-plus:before { content: "+"; } .fa-minus:before { content: "\\2212"; }
.fa-step-forward:before { content: "\\25B6|"; } .fa-step-backward:before { content: "|\\25C0"; }
.fa-fast-forward:before { content: "\\25B6\\25B6|"; } .fa-fast-backward:before { content: "|\\25C0\\25C0"; }
"""
MERMAID = ROOT / "build" / "docs-assets" / "package" / "dist" / "mermaid.min.js"
RUN_MERMAID = '''<script src="{up}assets/mermaid.min.js"></script>
<script>mermaid.initialize({{startOnLoad: false}}); mermaid.run({{querySelector: ".jp-Mermaid > pre.mermaid"}});</script>'''


def offline(body: str, up: str, mermaid: bool) -> str:
    "The page without what its template would fetch from CDNs, Mermaid served from the site when there is one."
    body = re.sub(r"<script>\s*\(function\(\) \{\s*function addWidgetsRenderer.*?</script>", "", body, count=1, flags=re.S)
    body = re.sub(r'<script type="module">(?:(?!</script>).)*mermaid(?:(?!</script>).)*</script>', "", body, flags=re.S)
    body = re.sub(r'<link[^>]*font-awesome[^>]*/?>', "", body)
    body = re.sub(r'<script[^>]*src="(?:https?:)?//[^"]*(?:mathjax|require)[^"]*"[^>]*>\s*</script>', "", body, flags=re.I)
    body = re.sub(r'<script[^>]*src=""[^>]*>\s*</script>', "", body)
    if mermaid and "jp-Mermaid" in body:
        body = body.replace("</body>", RUN_MERMAID.format(up=up) + "</body>", 1)
    return body


def front_matter(nb) -> dict:
    "The YAML front matter nbdev puts in a raw first cell (title, description, output-file), removed from `nb`."
    if nb.cells and nb.cells[0].cell_type == "raw" and nb.cells[0].source.strip().startswith("---"):
        meta = yaml.safe_load(nb.cells[0].source.strip().strip("-")) or {}
        del nb.cells[0]
        return meta
    return {}


def prepare(nb) -> None:
    "Hide the inputs nbdev marks `echo: false`, and drop the `#|` directive lines from the code shown."
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        if any(re.match(r"#\|\s*echo:\s*false", l) for l in lines):
            cell.metadata.setdefault("tags", []).append("remove_input")
        cell.source = "\n".join(l for l in lines if not l.startswith("#|")).strip("\n")


def page_names() -> tuple[dict[str, str], dict[str, str]]:
    "Each processed notebook (path under _proc/) -> its page (path under _docs/), and -> its title."
    names, titles = {}, {}
    for path in sorted(PROC.rglob("*.ipynb")):
        rel = path.relative_to(PROC)
        meta = front_matter(nbformat.read(path, as_version=4))
        out = meta.get("output-file") or rel.with_suffix(".html").name
        names[rel.as_posix()] = (rel.parent / out).as_posix()
        titles[rel.as_posix()] = meta.get("title", rel.stem)
    return names, titles


def summary(nb_rel: str) -> str:
    "The notebook's summary, the `>` lines under its title, whole (nbdev's front matter keeps only the first line)."
    nb = nbformat.read(NBS / nb_rel, as_version=4)
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    return " ".join(l.lstrip("> ").strip() for l in first.splitlines() if l.startswith(">"))


def sidebar(names: dict[str, str], titles: dict[str, str], here: str) -> str:
    "The nav of `nbs/sidebar.yml`, links relative to the page `here`."
    depth = here.count("/")
    up = "../" * depth
    entries = yaml.safe_load((NBS / "sidebar.yml").read_text())["website"]["sidebar"]["contents"]
    out = [f'<nav class="sidebar"><h2><a href="{up}index.html">videoldm-ref</a></h2>']

    def link(nb: str) -> str:
        page = names.get(nb)
        if page is None:
            raise SystemExit(f"nbs/sidebar.yml: {nb} has no processed notebook in _proc/ (run tools/proc_docs.py --keep)")
        cls = ' class="here"' if page == here else ""
        return f'<a href="{up}{page}"{cls} title="{html.escape(Path(nb).stem)}">{html.escape(titles[nb])}</a>'

    for entry in entries:
        if isinstance(entry, str):
            out.append(link(entry))
        else:
            out.append(f"<h3>{html.escape(entry['section'])}</h3>")
            out += [link(nb) for nb in entry["contents"]]
    return "\n".join(out + ["</nav>"])


def local_links(body: str, names: dict[str, str], here: str) -> str:
    "Links to the published site and to notebooks, made links to the local pages."
    up = "../" * here.count("/")
    body = body.replace(f'href="{SITE}', f'href="{up}')
    by_name = {Path(nb).name: page for nb, page in names.items()}

    def fix(m):
        target, anchor = m.group(1), m.group(2) or ""
        page = by_name.get(Path(target).name)
        return f'href="{up}{page}{anchor}"' if page else m.group(0)
    return re.sub(r'href="(?!https?:)([^"#]+\.ipynb)(#[^"]*)?"', fix, body)


def quarto_ids(heading_id: str) -> list[str]:
    """The anchors Quarto gives a heading whose nbconvert id is `heading_id` (its text, spaces as dashes), which the
    notebooks' links and nbdev's API links use: lower case, and without punctuation."""
    low = unquote(heading_id).lower()
    return [low, re.sub(r"-{2,}", "-", re.sub(r"[^\w.\-]", "", low))]


def unlink_missing(body: str, page: str, ids: dict[str, set[str]]) -> str:
    """nbdev links every name in backticks that its index knows, a private helper or a method without a section of
    its own included; such a link whose anchor names nothing on its page is shown as the plain code it is."""
    here = Path(page).parent

    def fix(m):
        target, frag = m.group(1), m.group(2)
        dest = (here / target).as_posix() if target else page
        dest = str(Path(dest)).replace("\\", "/")
        dest = "/".join(p for p in dest.split("/") if p != ".")
        while "/../" in f"/{dest}":
            dest = re.sub(r"[^/]+/\.\./", "", dest, count=1)
        if dest in ids and frag not in ids[dest] and unquote(frag) not in ids[dest]:
            return m.group(3)
        return m.group(0)
    return re.sub(r'<a href="(?!https?:)([^"#]*)#([^"]+)">(<code>[^<]*</code>)</a>', fix, body)


def build() -> int:
    if not PROC.is_dir():
        print("static_docs: no _proc/ (run `python tools/proc_docs.py --keep` first)", file=sys.stderr)
        return 1
    names, titles = page_names()
    shutil.rmtree(OUT, ignore_errors=True)
    cfg = Config()
    cfg.TagRemovePreprocessor.enabled = True
    cfg.TagRemovePreprocessor.remove_input_tags = {"remove_input"}
    built: dict[str, str] = {}
    exporter = HTMLExporter(config=cfg, template_name="lab", mathjax_url="", require_js_url="",
                            exclude_input_prompt=True, exclude_output_prompt=True)
    for nb_rel, page in names.items():
        nb = nbformat.read(PROC / nb_rel, as_version=4)
        meta = front_matter(nb)
        prepare(nb)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": meta.get("title", page)}})
        body = offline(body, "../" * page.count("/"), MERMAID.is_file())
        body = re.sub(r"\{target=(?:&quot;|\")_blank(?:&quot;|\")[^}]*\}", "", body)   # Quarto's link attributes
        body = re.sub(r'(<h[1-6] id="([^"]+)"[^>]*>)', lambda m: m.group(1) + "".join(
            f'<a id="{alias}"></a>' for alias in dict.fromkeys(quarto_ids(m.group(2))) if alias != m.group(2)), body)
        title = html.escape(meta.get("title", Path(page).stem))
        about = summary(nb_rel) or meta.get("description", "")
        header = f"<h1>{title}</h1>" + (f'<p class="description">{html.escape(about)}</p>' if about else "")
        body = body.replace("</head>", f"<style>{STYLE}</style></head>", 1)
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + sidebar(names, titles, page) + f'<main class="page">{header}',
                      body, count=1)
        body = body.replace("</body>", "</main></body>", 1)
        built[page] = local_links(body, names, page)
    ids = {page: set(re.findall(r'\sid="([^"]+)"', body)) for page, body in built.items()}
    for page, body in built.items():
        out = OUT / page
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(unlink_missing(body, page, ids))
    for extra in ("images",):                                   # pictures the notebooks' markdown links to
        if (NBS / extra).is_dir():
            shutil.copytree(NBS / extra, OUT / extra)
    if MERMAID.is_file():
        (OUT / "assets").mkdir(exist_ok=True)
        shutil.copy(MERMAID, OUT / "assets" / "mermaid.min.js")
    print(f"static_docs: {len(names)} pages in {OUT.relative_to(ROOT)}/; open {OUT.relative_to(ROOT)}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(build())
