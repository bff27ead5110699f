"""Open every page of the built docs site (`_docs/`, from `make docs`) in headless Chromium and fail on what a reader
would hit: a console error or uncaught exception, a resource that does not load (a missing picture, say), an image
that does not decode, an animation whose frames do not show, a link to a page or file of the site that is not there,
or an in-page anchor that names nothing. A screenshot of each page goes to `build/docs-check/`.

    python tools/docs_check.py [SITE]      # default _docs; `make docs-check` builds the site first

Chromium is driven through its DevTools protocol (websocket-client, already installed with Jupyter); Debian's
`chromium` package is the browser (`make docs-check` installs it when missing). Links that leave the site (GitHub,
the published docs) are not fetched: these machines have no network at run time."""
from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

import websocket

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "docs-check"
PROBE = """(() => {
  const imgs = [...document.images];
  const anims = imgs.filter(i => i.id.startsWith('_anim_img'));
  return JSON.stringify({
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => (i.currentSrc || i.src).slice(0, 80)),
    animations: anims.length, still: anims.filter(i => !(i.naturalWidth > 0)).length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id).concat(
         [...document.querySelectorAll('a[name]')].map(e => e.name))});
})()"""


class Browser:
    "Headless Chromium and one tab, spoken to over the DevTools protocol."

    def __init__(self, exe: str, timeout: float = 60.0):
        self.profile = tempfile.mkdtemp()
        self.log = open(Path(self.profile).with_suffix(".log"), "w")        # the browser's chatter, never a full pipe
        self.proc = subprocess.Popen([exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                      "--allow-file-access-from-files", "--remote-debugging-port=0",
                                      f"--user-data-dir={self.profile}", "--window-size=1280,900", "about:blank"],
                                     stderr=self.log, stdout=subprocess.DEVNULL)
        active, end = Path(self.profile) / "DevToolsActivePort", time.time() + timeout
        while not (active.is_file() and active.read_text().strip()):
            if self.proc.poll() is not None or time.time() > end:
                raise SystemExit(f"docs_check: {exe} did not start (its log: {self.log.name})")
            time.sleep(0.1)
        port = int(active.read_text().split()[0])
        tabs = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list").read())
        page = next(t for t in tabs if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.ids, self.events = itertools.count(1), []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params):
        i = next(self.ids)
        self.ws.send(json.dumps(dict(id=i, method=method, params=params)))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def load(self, url: str, timeout: float = 60.0) -> list[dict]:
        "Navigate to `url`, wait for its load event and a moment for the animations to start; the events seen."
        self.events = []
        self.call("Page.navigate", url=url)
        end = time.time() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.time() > end:
                raise TimeoutError(f"{url} did not finish loading in {timeout:.0f} s")
            self.events.append(json.loads(self.ws.recv()))
        self.call("Runtime.evaluate", expression="new Promise(r => setTimeout(r, 300))", awaitPromise=True)
        return self.events

    def close(self):
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def problems(events: list[dict]) -> list[str]:
    "Console errors, uncaught exceptions and failed loads among the DevTools events of one page."
    out = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out.append(f"uncaught: {d.get('exception', {}).get('description') or d.get('text')}"[:200])
        elif m == "Runtime.consoleAPICalled" and p.get("type") == "error":
            out.append("console error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])[:200])
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            out.append(f"{p['entry'].get('source')}: {p['entry']['text']} {p['entry'].get('url', '')}"[:200])
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            out.append(f"failed to load ({p.get('errorText')}): {p.get('type')}")
    return out


def bad_links(page: Path, links: list[str], ids: dict[Path, set[str]], site: Path) -> list[str]:
    """Links of `page` to files of the site that are not there, and anchors that name nothing on their page (`ids`:
    the ids of every page of the site)."""
    out = []
    for href in links:
        url = urlparse(href)
        if url.scheme in ("http", "https", "mailto", "data", "javascript"):
            continue
        target = (page.parent / unquote(url.path)).resolve() if url.path else page.resolve()
        if not target.exists() or site.resolve() not in [target, *target.parents]:
            out.append(f"link to {href}: no such file in the site")
        elif url.fragment and target.suffix == ".html":                  # browsers try the anchor raw, then decoded
            names = ids.get(target, set())
            if url.fragment not in names and unquote(url.fragment) not in names:
                out.append(f"anchor #{url.fragment} names nothing on {'the page' if not url.path else url.path}")
    return out


def main(argv: list[str]) -> int:
    site = Path(argv[0] if argv else ROOT / "_docs")
    pages = sorted(site.rglob("*.html"))
    if not pages:
        print(f"docs_check: no pages in {site}/ (run `make docs` first)", file=sys.stderr)
        return 1
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        print("docs_check: no Chromium (Debian: apt-get install chromium; `make docs-check` does it)", file=sys.stderr)
        return 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser, tick, seen = Browser(exe), time.time(), {}
    try:
        for page in pages:                                        # load each page once; links are judged after
            events = browser.load(page.resolve().as_uri())
            probe = json.loads(browser.call("Runtime.evaluate", expression=PROBE, returnByValue=True)["result"]["value"])
            seen[page] = (problems(events), probe)
            shot = browser.call("Page.captureScreenshot", format="png")["data"]
            name = page.relative_to(site).with_suffix(".png").as_posix().replace("/", "__")
            (SHOTS / name).write_bytes(base64.b64decode(shot))
    finally:
        browser.close()
    ids = {page.resolve(): set(probe["ids"]) for page, (_, probe) in seen.items()}
    failed, animations = 0, 0
    for page, (found, probe) in seen.items():
        found = found + [f"image does not show: {s}" for s in probe["broken"]]
        found += [f"{probe['still']} of {probe['animations']} animations show no frame"] if probe["still"] else []
        found += bad_links(page, probe["links"], ids, site)
        animations += probe["animations"]
        rel = page.relative_to(site)
        if found:
            failed += 1
            print(f"FAIL {rel}:\n  " + "\n  ".join(dict.fromkeys(found)))
        else:
            print(f"ok   {rel} ({len(probe['links'])} links, {probe['animations']} animations)")
    print(f"docs_check: {len(pages) - failed} of {len(pages)} pages clean, {animations} animations playing, "
          f"in {time.time() - tick:.0f} s; screenshots in {SHOTS}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
