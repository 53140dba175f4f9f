"""Every built page, opened in headless Chromium, works offline.

Each page of both editions is served from a local HTTP server and loaded by Debian's
``chromium`` through ``chromium-driver`` (selenium). A page fails on: a link to a page
or an anchor of this site that does not exist; an image that did not load
(``naturalWidth`` 0); math that MathJax did not typeset, or raw LaTeX delimiters in the
visible text; a resource loaded from another site (the book must work offline); a
JavaScript console error (level SEVERE). A screenshot of every page goes to
``build/browser/<edition>/`` (and, for a page with math, one at its first formula).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from .conftest import EDITIONS, ROOT, edition_root, pages

SHOTS = ROOT / "build" / "browser"
# Debian's packages by default; $CHROMIUM / $CHROMEDRIVER name others (e.g. Google Chrome).
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = (
    os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
)
RAW_MATH = [
    (re.compile(r"\$\$"), "$$"),
    (re.compile(r"\\\(|\\\)"), r"\( \)"),
    (re.compile(r"\\\[|\\\]"), r"\[ \]"),
    (re.compile(r"\\begin\{"), r"\begin{"),
    (re.compile(r"\$[^$\n]{0,80}\\[A-Za-z]+[^$\n]{0,80}\$"), "$...\\command...$"),
]

# Waits for MathJax (if the page loads it) and for every image, then reports what the
# checks need. Text inside code, MathJax output and scripts is not "visible prose".
INSPECT = """
const done = arguments[arguments.length - 1];
(async () => {
  const images = Array.from(document.images);
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(r => { img.onload = img.onerror = r; setTimeout(r, 10000); })));
  let mathjax = "absent";
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
    mathjax = MathJax.version || "loaded";
  } else if (document.querySelector('script[src*="mathjax"]')) {
    mathjax = "not started";
  }
  const math = Array.from(document.querySelectorAll(".math"));
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll("pre, code, script, style, mjx-container, .highlight, textarea")
       .forEach(e => e.remove());
  done({
    mathjax: mathjax,
    math: math.length,
    untypeset: math.filter(e => !e.querySelector("mjx-container"))
                   .map(e => e.textContent.slice(0, 80)),
    errors: Array.from(document.querySelectorAll("mjx-merror")).map(e => e.textContent),
    images: images.map(i => ({src: i.currentSrc || i.src, width: i.naturalWidth})),
    links: Array.from(document.querySelectorAll("a[href]")).map(a => a.href),
    resources: Array.from(document.querySelectorAll("script[src], link[href], img[src]"))
                    .filter(e => e.tagName !== "LINK" || e.rel !== "canonical")
                    .map(e => e.src || e.href),
    text: clone.textContent,
  });
})().catch(e => done({failure: String(e)}));
"""


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def anchors(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(errors="replace"))
    return frozenset(parser.ids)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module", params=sorted(EDITIONS))
def site(request: pytest.FixtureRequest) -> Iterator[tuple[str, Path, str]]:
    """(edition, root directory, base URL) of a local server for one edition."""
    root = edition_root(request.param)
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield request.param, root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver  # the `dev` extra; the driver is Debian's, never downloaded

    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(
            f"no browser at {CHROMIUM} or no driver at {CHROMEDRIVER}: "
            "apt-get install chromium chromium-driver (or set $CHROMIUM and $CHROMEDRIVER)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", "--no-first-run", "--disable-extensions"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def local_target(url: str, base: str, root: Path) -> tuple[Path, str] | None:
    """The file and fragment an internal URL points to; None for another site."""
    if not url.startswith(base):
        return None
    parts = urlsplit(url)
    path = root / unquote(parts.path).lstrip("/")
    if path.is_dir():
        path = path / "index.html"
    return path, unquote(parts.fragment)


def check_page(driver: object, page: Path, root: Path, base: str, shots: Path) -> list[str]:
    """Load one page and return its problems (empty when it is fine)."""
    url = base + page.relative_to(root).as_posix()
    driver.get_log("browser")  # type: ignore[attr-defined]  # drop the previous page's messages
    driver.get(url)  # type: ignore[attr-defined]
    seen = driver.execute_async_script(INSPECT)  # type: ignore[attr-defined]
    problems = []
    if "failure" in seen:
        return [f"the page script failed: {seen['failure']}"]
    for entry in driver.get_log("browser"):  # type: ignore[attr-defined]
        if entry["level"] == "SEVERE":
            problems.append(f"console error: {entry['message']}")
    for image in seen["images"]:
        if not image["width"]:
            problems.append(f"image not loaded: {image['src']}")
    if seen["math"] and seen["mathjax"] in ("absent", "not started"):
        problems.append(f"{seen['math']} formulas but MathJax is {seen['mathjax']}")
    problems += [f"formula not typeset: {t!r}" for t in seen["untypeset"][:5]]
    problems += [f"MathJax error: {t!r}" for t in seen["errors"][:5]]
    for pattern, name in RAW_MATH:
        for match in list(pattern.finditer(seen["text"]))[:3]:
            context = seen["text"][max(0, match.start() - 40) : match.end() + 40]
            problems.append(f"raw math {name} in the text: {' '.join(context.split())!r}")
    for resource in seen["resources"]:
        if resource.startswith("http") and not resource.startswith(base):
            problems.append(f"loads a resource from another site: {resource}")
    for link in sorted(set(seen["links"])):
        target = local_target(link, base, root)
        if target is None:
            continue
        path, fragment = target
        if not path.exists():
            problems.append(f"broken link: {link}")
        elif fragment and path.suffix == ".html" and fragment not in anchors(path):
            problems.append(f"broken anchor: {link}")
    shot = shots / page.relative_to(root).with_suffix(".png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(shot))  # type: ignore[attr-defined]
    if seen["math"]:  # a second screenshot, at the first displayed formula
        driver.execute_script(  # type: ignore[attr-defined]
            "const m = document.querySelector('div.math') || document.querySelector('.math');"
            "m.scrollIntoView({block: 'center'});"
        )
        driver.save_screenshot(str(shot.with_suffix(".math.png")))  # type: ignore[attr-defined]
    return problems


def test_every_page_works_offline(site: tuple[str, Path, str], browser: object) -> None:
    edition, root, base = site
    report = {}
    for page in pages(root):
        problems = check_page(browser, page, root, base, SHOTS / edition)
        if problems:
            report[page.relative_to(root).as_posix()] = problems
    lines = [f"{page}:\n  " + "\n  ".join(p) for page, p in report.items()]
    assert not report, f"{edition} edition, {len(report)} pages with problems:\n" + "\n".join(lines)


def test_mathjax_is_served_by_the_site() -> None:
    root = edition_root("full")
    chapter = (root / "notebooks" / "04_gcn_layers.html").read_text()
    assert re.search(r'<script[^>]+src="\.\./_static/mathjax/tex-mml-chtml\.js', chapter)
    assert (root / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
