"""The printable edition: every page of the built book, printed by headless Chromium and
merged into one PDF with a bookmark per chapter.

    jupyter-book build . && python book/_tools/pdf.py   # -> _build/html/neural-wasserstein-geodesics.pdf

Each page is opened as a reader would open it, with every solution expanded and the
formulas typeset; wide display equations are set smaller to fit the page (book/_static/book.js).
The preface links the file, which sits next to the HTML pages."""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import io
import re
import shutil
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
NAME = "neural-wasserstein-geodesics.pdf"


def pages() -> list[str]:
    """Page paths in reading order: the root of _toc.yml, then every listed file."""
    toc = (ROOT / "_toc.yml").read_text()
    root = re.search(r"^root:\s*(\S+)", toc, re.M).group(1)
    files = re.findall(r"file:\s*(\S+)", toc)
    return [root] + [f for f in files if f != root]


def find_chromium() -> tuple[str, str]:
    chromium = (shutil.which("chromium") or shutil.which("chromium-browser")
                or shutil.which("google-chrome"))
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        raise SystemExit("Chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    return chromium, driver


@functools.lru_cache(maxsize=None)
def _serve(directory: str) -> str:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=directory, **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


OPEN_EVERYTHING = """
const done = arguments[arguments.length - 1];
// every solution and hidden block opened (sphinx-togglebutton), every lazy image loaded
document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
document.querySelectorAll('button.toggle-button-hidden').forEach(b => b.click());
document.querySelectorAll('details').forEach(d => d.open = true);
document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager');
const images = Array.from(document.images).map(
  i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; }));
const typeset = (window.MathJax && MathJax.startup && MathJax.startup.promise)
  ? MathJax.startup.promise : Promise.resolve();
Promise.all([typeset, ...images]).then(() => {
  if (window.fitEquationsForPrint) window.fitEquationsForPrint();
  setTimeout(() => done(true), 200);
});
setTimeout(() => done(false), 60000);
"""


def build(html: Path = HTML, out: Path | None = None, driver=None) -> Path:
    """Print every page of the built book at ``html`` and merge them into ``out``."""
    from pypdf import PdfReader, PdfWriter

    out = out or html / NAME
    base = _serve(str(html))
    own = driver is None
    if own:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium, driver_path = find_chromium()
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1000,1400"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        driver.set_script_timeout(90)
    writer = PdfWriter()
    try:
        for page in pages():
            driver.get(f"{base}/{page}.html")
            driver.execute_async_script(OPEN_EVERYTHING)
            title = driver.execute_script(
                "const h = document.querySelector('article h1');"
                "return h ? h.textContent.replace('#', '').trim() : document.title")
            pdf = driver.execute_cdp_cmd("Page.printToPDF", {
                "paperWidth": 8.27, "paperHeight": 11.69,           # A4
                "marginTop": 0.6, "marginBottom": 0.6, "marginLeft": 0.5, "marginRight": 0.5,
                "printBackground": True, "preferCSSPageSize": False,
                "displayHeaderFooter": True,
                "headerTemplate": "<span></span>",
                "footerTemplate": ('<div style="font-size:8px;width:100%;text-align:center;color:#666">'
                                   f'{title} · <span class="pageNumber"></span></div>'),
            })
            reader = PdfReader(io.BytesIO(base64.b64decode(pdf["data"])))
            first = len(writer.pages)
            for p in reader.pages:
                writer.add_page(p)
            writer.add_outline_item(title=title, page_number=first)
    finally:
        if own:
            driver.quit()
    writer.add_metadata({"/Title": "Neural Wasserstein geodesics", "/Author": "The ot_core authors"})
    with open(out, "wb") as f:
        writer.write(f)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=HTML, help="the built book (default: _build/html)")
    parser.add_argument("--out", type=Path, default=None, help=f"default: <html>/{NAME}")
    args = parser.parse_args()
    if not (args.html / "index.html").exists():
        raise SystemExit(f"no built book at {args.html}: run `jupyter-book build .` first")
    start = time.perf_counter()
    out = build(args.html, args.out)
    from pypdf import PdfReader

    print(f"{out}: {len(PdfReader(out).pages)} pages, {out.stat().st_size / 1e6:.1f} MB, "
          f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
