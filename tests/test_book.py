"""The book as a product: notebook conventions, a warning-free build, and the pages as a
reader's browser shows them (headless Chromium)."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
BUILD = ROOT / "_build"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def toc_files() -> list[str]:
    return re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text())


def toc_notebooks() -> list[Path]:
    return [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def repository_url() -> str:
    return re.search(r"^repository:\s*\n\s+url:\s*(\S+)", (ROOT / "_config.yml").read_text(), re.M).group(1)


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def source(cell) -> str:
    return "".join(cell["source"])


def test_toc_and_notebooks_agree():
    listed = {ROOT / f"{f}.ipynb" for f in toc_files() if not (ROOT / f"{f}.md").exists()}
    present = set(BOOK.glob("[0-9]*_*.ipynb"))
    assert listed == present, f"in _toc.yml only: {listed - present}; in book/ only: {present - listed}"
    for f in toc_files():
        assert (ROOT / f"{f}.ipynb").exists() or (ROOT / f"{f}.md").exists(), f


@pytest.mark.parametrize("path", toc_notebooks(), ids=lambda p: p.stem)
def test_notebook_conventions(path):
    nb = load(path)
    cells = nb["cells"]
    url = repository_url()
    slug = url.split("github.com/")[1]
    # 1. title, Colab badge derived from _config.yml, summary
    first = source(cells[0])
    assert cells[0]["cell_type"] == "markdown" and first.startswith("# ")
    badge = f"https://colab.research.google.com/github/{slug}/blob/main/book/{path.name}"
    assert badge in first, "Colab badge missing or not derived from _config.yml (run book/_tools/notebooks.py sync)"
    # 2. setup cell, hidden in the book, installing from the same repository on Colab only
    setup = cells[1]
    assert setup["cell_type"] == "code" and "remove-cell" in setup["metadata"].get("tags", [])
    assert f'REPO = "{url}"' in source(setup) and "google.colab" in source(setup)
    assert "torch==" not in source(setup) and "ipywidgets==" not in source(setup)
    # 3. one settings cell with FAST from CI / OT_BOOK_FAST
    settings = source(cells[2])
    assert "FAST" in settings and "OT_BOOK_FAST" in settings and '"CI"' in settings
    code = [c for c in cells if c["cell_type"] == "code"]
    assert sum("OT_BOOK_FAST" in source(c) for c in code) == 1, "FAST is decided in one cell only"
    # the notebook checks itself and carries the outputs of a full run, without errors
    assert any(re.search(r"^\s*assert ", source(c), re.M) for c in code)
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert outputs, "committed without outputs"
    assert not [o for o in outputs if o["output_type"] == "error"]
    printed = "".join("".join(o.get("text", "")) for o in outputs if o["output_type"] == "stream")
    assert "FAST = False" in printed, "committed outputs must come from a full run"
    # no widget state and no widget views left in the static book
    assert "widgets" not in nb.get("metadata", {})
    assert not [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    # exercises with hidden solutions
    text = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
    assert "## Exercises" in text and ":class: dropdown" in text


def _chromium():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        if IN_CI:
            pytest.fail("Chromium and chromedriver are required in CI (.ci/run installs them)")
        pytest.skip("Chromium/chromedriver not installed (apt-get install chromium chromium-driver)")
    return chromium, driver


@pytest.fixture(scope="module")
def built_book():
    """Build the book the way the README says, and fail on any warning."""
    result = subprocess.run([sys.executable, "-m", "jupyter_book", "build", str(ROOT), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0 and "No module named jupyter_book" in result.stderr:
        result = subprocess.run(["jupyter-book", "build", str(ROOT), "-W", "-n", "--keep-going"],
                                capture_output=True, text=True, cwd=ROOT)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert "WARNING" not in log, [line for line in log.splitlines() if "WARNING" in line][:20]
    return BUILD / "html"


@pytest.fixture(scope="module")
def browser(built_book):
    chromium, driver_path = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_book))

    class Quiet(handler.func):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(built_book)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--window-size=1280,1600"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(60)
    yield driver, f"http://127.0.0.1:{server.server_address[1]}"
    driver.quit()
    server.shutdown()


# pages that must show an animation player (matplotlib to_jshtml)
ANIMATED = {"20_dynamic_ot", "60_mixtures_2d"}


@pytest.mark.parametrize("page", ["book/intro"] + [f for f in toc_files() if f != "book/intro"])
def test_page_renders_in_browser(browser, page):
    driver, base = browser
    html = (BUILD / "html" / f"{page}.html").read_text()
    driver.get(f"{base}/{page}.html")
    if "math notranslate" in html:
        typeset = driver.execute_async_script(  # wait until MathJax has typeset the page
            "const done = arguments[arguments.length - 1];"
            "const wait = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)"
            "  ? MathJax.startup.promise.then(() => done(true)) : setTimeout(wait, 100);"
            "setTimeout(() => done(false), 40000); wait();")
        assert typeset, "MathJax did not finish"
    shots = BUILD / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(shots / f"{Path(page).name}.png"))

    article = driver.find_element("css selector", "article").text
    assert len(article) > 500, "page nearly empty"
    # the prose, without code and outputs (code may legitimately hold TeX strings for plot labels)
    prose = article
    for cell in driver.find_elements("css selector", "article div.cell, article pre"):
        prose = prose.replace(cell.text, "")
    assert "$$" not in prose and not re.search(r"\\(frac|mathbb|int)\b", prose), "raw TeX left untypeset"
    if "math notranslate" in html:
        assert driver.find_elements("css selector", "mjx-container"), "MathJax did not typeset the math"
    # a markdown table in a cell output must render as a table, not as a paragraph of pipes
    raw_tables = [p.text[:80] for p in driver.find_elements("css selector", "article .cell_output p")
                  if re.search(r"\|\s*(-{3,}|—)", p.text)]
    assert not raw_tables, f"markdown tables left unrendered: {raw_tables}"
    name = Path(page).name
    if name[:2].isdigit():
        figures = "article .cell_output img[src]"   # the animation frames are checked below
        images = driver.find_elements("css selector", figures)
        assert images, "no figures on the page"
        for image in images:  # bring lazily loaded figures into view
            driver.execute_script("arguments[0].scrollIntoView(); arguments[0].loading = 'eager';", image)
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "Promise.all(Array.from(document.querySelectorAll(arguments[0])).map("
            "  i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; }))).then(() => done(true));",
            figures)
        broken = driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0])).filter(i => i.naturalWidth === 0).length",
            figures)
        assert broken == 0, f"{broken} images failed to load"
    if name in ANIMATED:
        assert driver.find_elements("css selector", "div.animation input[type=range]"), "animation player missing"
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
