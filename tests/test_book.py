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
    # the badge image is an absolute address, so that it shows on Colab and in a download
    assert "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]" in first
    # nbval markers are cell tags (invisible in the book), never comments in the code
    assert not [c for c in code if "NBVAL" in source(c)], "use the nbval-check-output cell tag"
    # every chapter draws its figures in the book's style
    assert 'plt.style.use("book.mplstyle"' in settings


MAX_COLUMNS = 88


def shown_in_book(cell) -> bool:
    tags = cell["metadata"].get("tags", [])
    return not {"remove-cell", "remove-input", "hide-cell", "hide-input"} & set(tags)


@pytest.mark.parametrize("path", toc_notebooks(), ids=lambda p: p.stem)
def test_code_fits_the_column(path):
    """Code cells are formatted to 88 columns: no line needs horizontal scrolling."""
    cells = load(path)["cells"]
    long = [(i, line) for i, c in enumerate(cells)
            if c["cell_type"] == "code" and shown_in_book(c)
            for line in source(c).splitlines() if len(line) > MAX_COLUMNS]
    # code blocks in the text (the exercises' solutions) too
    long += [(i, line) for i, c in enumerate(cells) if c["cell_type"] == "markdown"
             for block in re.findall(r"```[^\n]*\n(.*?)```", source(c), re.S)
             for line in block.splitlines() if len(line) > MAX_COLUMNS]
    assert not long, [f"cell {i}: {len(line)} columns: {line[:60]}…" for i, line in long]


def figure_outputs(cell) -> list[str]:
    """The kinds of figure a code cell shows: "image" (a plot) or "animation" (a player)."""
    kinds = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if any(k.startswith("image/") for k in data):
            kinds.append("image")
        elif "animation" in "".join(data.get("text/html", "")) and "_anim_img" in "".join(data.get("text/html", "")):
            kinds.append("animation")
    return kinds


@pytest.mark.parametrize("path", toc_notebooks(), ids=lambda p: p.stem)
def test_figures_are_captioned(path):
    """Every figure and animation: one per cell, with a caption, a label, and a text
    alternative that says what it shows (the alt text of a plot; the caption of an animation)."""
    names = []
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        kinds = figure_outputs(cell)
        if not kinds:
            continue
        assert len(kinds) == 1, f"cell {i} shows {len(kinds)} figures: one a cell, each with its caption"
        meta = cell["metadata"].get("mystnb", {})
        figure, image = meta.get("figure", {}), meta.get("image", {})
        assert len(figure.get("caption", "")) > 30, f"cell {i}: no caption"
        assert figure.get("name", "").startswith("fig-"), f"cell {i}: no figure label"
        if kinds == ["image"]:
            alt = image.get("alt", "")
            assert len(alt) > 40 and not re.search(r"\.(png|svg)$", alt), f"cell {i}: no alt text"
        names.append(figure["name"])
    assert len(names) == len(set(names)), "figure labels must be unique"


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
PAGES = ["book/intro"] + [f for f in toc_files() if f != "book/intro"]

WAIT_FOR_MATH = (
    "const done = arguments[arguments.length - 1];"
    "const wait = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)"
    "  ? MathJax.startup.promise.then(() => done(true)) : setTimeout(wait, 100);"
    "setTimeout(() => done(false), 40000); wait();")

# raw TeX that MathJax should have typeset: a $, a \( \[ delimiter or a TeX command in prose
RAW_TEX = re.compile(r"\$|\\[()\[\]]|\\(frac|tfrac|mathbb|mathrm|int|sum|alpha|beta|gamma|mu|nu|sigma|Sigma|"
                     r"varphi|phi|psi|omega|partial|nabla|cdot|le|ge|big|Big|left|right|hat|bar|tilde)\b")


def prose_text(driver) -> str:
    """The article's visible text without code cells, code blocks and outputs."""
    return driver.execute_script(
        "const a = document.querySelector('article').cloneNode(true);"
        "a.querySelectorAll('div.cell, pre, code, .highlight, mjx-container, script, style')"
        "  .forEach(e => e.remove());"
        "return a.textContent;")


def open_every_solution(driver) -> int:
    """Click every collapsed solution open, as a reader would; returns how many were opened."""
    buttons = driver.find_elements("css selector", "article button.toggle-button-hidden")
    for button in buttons:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", button)
    return len(buttons)


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
    # one search box, and no empty header bar above the page
    searches = driver.execute_script(
        "return Array.from(document.querySelectorAll('.search-button__button, .search-button-field'))"
        ".filter(e => e.offsetParent && e.getBoundingClientRect().width > 0).length")
    assert searches == 1, f"{searches} search boxes"
    header = driver.execute_script(
        "const h = document.querySelector('header.bd-header'); return h ? h.getBoundingClientRect().height : 0")
    assert header == 0, "an empty header bar sits above the page"
    # open every solution: the formulas inside must be typeset too
    opened = open_every_solution(driver)
    if opened:
        driver.execute_async_script(WAIT_FOR_MATH)
    assert not driver.find_elements("css selector", "article .toggle-hidden, article button.toggle-button-hidden")
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(prose_text(driver))})
    assert not raw, f"raw TeX in the prose (solutions opened): {raw}"
    assert not driver.find_elements("css selector", "mjx-merror"), "MathJax could not typeset a formula"
    # code lines fit the column (88 characters)
    widest = driver.execute_script(
        "return Math.max(0, ...Array.from(document.querySelectorAll("
        "'article div.highlight pre')).filter(p => !p.closest('.cell_output'))"
        ".flatMap(p => p.textContent.split('\\n').map(l => l.length)));")
    assert widest <= MAX_COLUMNS, f"a code line of {widest} characters"
    # display equations never spill out of the column: they fit or scroll in their own box
    spill = driver.execute_script(
        "const col = document.querySelector('article').getBoundingClientRect();"
        "return Array.from(document.querySelectorAll('mjx-container[display=true]')).filter(m => {"
        "  const r = m.getBoundingClientRect(); const s = getComputedStyle(m);"
        "  return r.right > col.right + 1 && s.overflowX !== 'auto' && s.overflowX !== 'scroll';}).length")
    assert spill == 0, f"{spill} display equations run past the column"
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
    # every figure and animation: numbered, captioned, and described for screen readers
    figures = driver.execute_script(
        "return Array.from(document.querySelectorAll('article .cell_output img, article div.animation')).map(e => {"
        "  const f = e.closest('figure'); const c = f && f.querySelector('figcaption');"
        "  const img = e.tagName === 'IMG' ? e : e.querySelector('img');"
        "  return {alt: img ? (img.getAttribute('alt') || '') : '', caption: c ? c.textContent : '',"
        "          number: !!(c && c.querySelector('.caption-number'))};})")
    for figure in figures:
        assert figure["caption"] and figure["number"], f"a figure without a numbered caption: {figure}"
        assert len(figure["alt"]) > 30 and not re.search(r"\.(png|svg)$", figure["alt"]), f"no alt text: {figure}"
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


# Phones: a 390 × 844 viewport with touch, as the reader of a phone sees the book.
PHONE = {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3, "touch": True},
         "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                      "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"}
# smallest text size of a figure (book/book.mplstyle), in points at 100 px per inch
FIGURE_TEXT_PT = 10


@pytest.fixture(scope="module")
def phone(browser):
    chromium, driver_path = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(arg)
    options.add_experimental_option("mobileEmulation", PHONE)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(60)
    yield driver, browser[1]
    driver.quit()


def _on_screen(driver, selector: str) -> int:
    """How many links of the element at ``selector`` lie on the screen, visible (a drawer
    that is closed keeps its links off the screen); the first of them must take a tap."""
    return driver.execute_script(
        "const links = Array.from(document.querySelectorAll(arguments[0] + ' a')).filter(a => {"
        "  const r = a.getBoundingClientRect(); const s = getComputedStyle(a);"
        "  return r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= innerWidth + 1"
        "    && s.visibility !== 'hidden';});"
        "if (!links.length) return 0;"
        "const r = links[0].getBoundingClientRect();"
        "const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        "return hit && (hit === links[0] || links[0].contains(hit)) ? links.length : 0;", selector)


@pytest.mark.parametrize("page", PAGES)
def test_phone_navigation(phone, page):
    """On a phone, ☰ opens the chapter list and the contents button the page's sections;
    figures keep their text at 9 px or more."""
    driver, base = phone
    driver.get(f"{base}/{page}.html")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 391, "the page scrolls sideways"
    assert _on_screen(driver, ".bd-sidebar-primary") == 0, "the chapter list covers the page before ☰ is tapped"
    driver.find_element("css selector", "button.primary-toggle").click()
    driver.execute_script("return new Promise(r => setTimeout(r, 500))")
    chapters = _on_screen(driver, ".bd-sidebar-primary nav.bd-links")
    assert chapters >= len(toc_files()), f"☰ shows {chapters} chapter links"
    shots = BUILD / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(shots / f"phone_menu_{Path(page).name}.png"))
    driver.get(f"{base}/{page}.html")
    toc = driver.find_elements("css selector", "button.secondary-toggle")
    if toc and toc[0].is_displayed():
        toc[0].click()
        driver.execute_script("return new Promise(r => setTimeout(r, 500))")
        assert _on_screen(driver, ".bd-sidebar-secondary") > 0, "the contents button shows no sections"
    driver.get(f"{base}/{page}.html")
    scales = driver.execute_script(
        "return Array.from(document.querySelectorAll('article .cell_output img')).map(i => {"
        "  i.scrollIntoView(); const w = parseFloat(i.style.width) || i.naturalWidth;"
        "  return i.getBoundingClientRect().width / w;})")
    small = [s for s in scales if FIGURE_TEXT_PT * 100 / 72 * s < 9]
    assert not small, f"{len(small)} figures shrink their text below 9 px on a phone"


MAX_PAGE_BYTES = 3_000_000


@pytest.mark.parametrize("page", PAGES)
def test_page_weight(browser, page):
    """What a first visit to a page downloads (HTML, scripts, styles, fonts, figures,
    uncompressed) stays under 3 MB."""
    driver, base = browser
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    try:
        driver.get(f"{base}/{page}.html")
        driver.execute_script("document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; });")
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "Promise.all(Array.from(document.images).map(i => i.complete ? null :"
            "  new Promise(r => { i.onload = i.onerror = r; }))).then(() => setTimeout(() => done(true), 500));")
        total, biggest = driver.execute_script(
            "const n = performance.getEntriesByType('navigation')[0];"
            "const r = performance.getEntriesByType('resource');"
            "const all = [[n.name, n.encodedBodySize], ...r.map(e => [e.name, e.encodedBodySize])];"
            "all.sort((a, b) => b[1] - a[1]);"
            "return [all.reduce((s, e) => s + e[1], 0), all.slice(0, 5)];")
    finally:
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    assert total <= MAX_PAGE_BYTES, f"{total / 1e6:.2f} MB; largest: {biggest}"


def test_pdf_edition(browser):
    """The printable edition: every page in one PDF, linked from the preface, with the
    formulas typeset (no raw TeX in its text)."""
    driver, _ = browser
    sys.path.insert(0, str(BOOK / "_tools"))
    import pdf
    from pypdf import PdfReader

    out = pdf.build(BUILD / "html", driver=driver)
    assert out.exists() and out.parent == BUILD / "html"
    reader = PdfReader(out)
    titles = [item.title for item in reader.outline]
    assert len(titles) == len(pdf.pages()), titles
    assert len(reader.pages) > 3 * len(titles)
    text = "\n".join(page.extract_text() or "" for page in reader.pages[:40])
    assert "Neural Wasserstein geodesics" in text and not re.search(r"\$\$|\\(frac|mathbb)\b", text)
    intro = (BUILD / "html" / "book" / "intro.html").read_text()
    assert f'href="../{pdf.NAME}"' in intro, "the preface links the PDF"
