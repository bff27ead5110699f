"""The docs site's tools: `tools/static_docs.py` (the site without Quarto) and `tools/docs_check.py` (every page in
headless Chromium), the checker run on a small site broken on purpose where Chromium is installed."""
import shutil
from pathlib import Path

import pytest
from test_tools import load_tool


def test_pages_drop_what_they_would_fetch_and_link_locally():
    docs = load_tool("static_docs")
    page = ('<html><head><link href="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css" '
            'rel="stylesheet"/><script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js">'
            '</script></head><body><div class="jp-Mermaid"><pre class="mermaid">graph LR; a--&gt;b</pre></div>'
            '<script type="module">const m = await import("https://x/mermaid.esm.min.mjs");</script></body></html>')
    out = docs.offline(page, "../", mermaid=True)
    assert "https://" not in out and 'src="../assets/mermaid.min.js"' in out and "mermaid.run(" in out
    assert "mermaid.run(" not in docs.offline(page, "", mermaid=False)            # no Mermaid: the source shows
    names = {"12_context.ipynb": "context.html", "experiments/keyframes_study.ipynb": "experiments/keyframes_study.html"}
    body = (f'<a href="{docs.SITE}context.html#rollout">rollout</a> <a href="12_context.ipynb#masks">masks</a> '
            '<a href="https://github.com/x/y">code</a>')
    linked = docs.local_links(body, names, "experiments/keyframes_study.html")
    assert 'href="../context.html#rollout"' in linked and 'href="../context.html#masks"' in linked
    assert 'href="https://github.com/x/y"' in linked


def test_anchors_as_quarto_writes_them_and_dangling_api_links_unlinked():
    docs = load_tool("static_docs")
    assert docs.quarto_ids("The-first-run:-denoising-the-frames") == ["the-first-run:-denoising-the-frames",
                                                                       "the-first-run-denoising-the-frames"]
    assert docs.quarto_ids("ContextLDM") == ["contextldm", "contextldm"]
    ids = {"context.html": {"rollout"}, "experiments/s.html": set()}
    body = ('<a href="../context.html#rollout"><code>rollout</code></a> <a href="../context.html#_helper"><code>_helper'
            '</code></a> <a href="../context.html#gone">a heading</a>')
    out = docs.unlink_missing(body, "experiments/s.html", ids)
    assert '<a href="../context.html#rollout">' in out and "<code>_helper</code>" in out and "#_helper" not in out
    assert '<a href="../context.html#gone">' in out                        # not an API link: left for the checker


def test_the_sidebar_lists_every_page_of_sidebar_yml_and_marks_the_open_one():
    docs = load_tool("static_docs")
    import yaml
    entries = yaml.safe_load((docs.NBS / "sidebar.yml").read_text())["website"]["sidebar"]["contents"]
    nbs = [e for e in entries if isinstance(e, str)] + [n for e in entries if isinstance(e, dict) for n in e["contents"]]
    names = {nb: Path(nb).with_suffix(".html").as_posix() for nb in nbs}
    nav = docs.sidebar(names, {nb: f"title of {nb}" for nb in nbs}, "experiments/keyframes_study.html")
    assert nav.count("<a href=") == len(nbs) + 1 and nav.count('class="here"') == 1
    assert 'href="../12_context.html"' in nav and "title of 17b_driving_models.ipynb" in nav


BROWSER = any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome"))


@pytest.mark.skipif(not BROWSER, reason="needs Chromium (make docs-check installs Debian's chromium)")
def test_the_checker_passes_a_clean_site_and_names_each_fault_of_a_broken_one(tmp_path, capsys, monkeypatch):
    check = load_tool("docs_check")
    monkeypatch.setattr(check, "SHOTS", tmp_path / "shots")
    site = tmp_path / "site"
    site.mkdir()
    (site / "a.html").write_text('<html><body><h2 id="top">A</h2><a href="#top">up</a> <a href="b.html">b</a>'
                                 '<a href="https://example.org/">out</a></body></html>')
    (site / "b.html").write_text('<html><body><a href="a.html#top">a</a> <a href="a.html#gone">gone</a></body></html>')
    assert check.main([str(site)]) == 1                              # an anchor on another page that is not there
    assert "anchor #gone names nothing on a.html" in capsys.readouterr().out
    (site / "b.html").write_text('<html><body><a href="a.html#top">a</a></body></html>')
    assert check.main([str(site)]) == 0
    assert "2 of 2 pages clean" in capsys.readouterr().out
    (site / "c.html").write_text('<html><body><img src="missing.png"><a href="nowhere.html">x</a>'
                                 '<a href="#nothing">y</a><script>console.error("boom"); undefinedThing();</script>'
                                 '</body></html>')
    assert check.main([str(site)]) == 1
    out = capsys.readouterr().out
    assert "FAIL c.html" in out and "1 of 3 pages" not in out and "2 of 3 pages clean" in out
    for fault in ("image does not show", "nowhere.html: no such file", "#nothing names nothing", "console error: boom",
                  "undefinedThing"):
        assert fault in out, fault
    assert (tmp_path / "shots" / "c.png").stat().st_size > 0
