"""Maintenance of the book's notebooks.

    python book/_tools/notebooks.py sync              # write the repository address of _config.yml
                                                      # into every Colab badge and install cell
    python book/_tools/notebooks.py execute [NB ...]  # run notebooks in place (full mode) and
                                                      # print their run times; --fast for FAST mode
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"


def repository_url() -> str:
    text = (ROOT / "_config.yml").read_text()
    match = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", text, re.M)
    if not match:
        raise SystemExit("_config.yml has no repository.url")
    return match.group(1).rstrip("/")


def colab_link(url: str, notebook: Path) -> str:
    slug = url.split("github.com/")[1]
    return f"https://colab.research.google.com/github/{slug}/blob/main/book/{notebook.name}"


# The badge in a notebook is an absolute address, so that it shows on Colab, GitHub and in a
# downloaded notebook; the book replaces it with its own copy (book/_ext/colab_badge.py), which
# renders offline too.
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*colab-badge\.svg\)\]\([^)]*\)")
REPO_LINE = re.compile(r'^REPO = "[^"]*"', re.M)


def sync(paths) -> int:
    url, changed = repository_url(), 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        badge = f"[![Open In Colab]({BADGE_IMAGE})]({colab_link(url, path)})"
        before = [c.source for c in nb.cells]
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = BADGE.sub(badge, cell.source)
            else:
                cell.source = REPO_LINE.sub(f'REPO = "{url}"', cell.source)
        if [c.source for c in nb.cells] != before:
            nbformat.write(nb, path)
            changed += 1
    print(f"{changed} notebook(s) updated to {url}")
    return 0


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip_widgets(nb) -> None:
    """Remove live widgets (sliders) from a notebook: the static book cannot run them, and
    each slider is followed by a cell that draws its default figure."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]


def execute(paths, fast: bool, timeout: int) -> int:
    from nbclient import NotebookClient

    env = dict(os.environ, TQDM_DISABLE="1", MPLBACKEND="module://matplotlib_inline.backend_inline")
    env.pop("CI", None)
    if fast:
        env["OT_BOOK_FAST"] = "1"
    else:
        env.pop("OT_BOOK_FAST", None)
    os.environ.clear()
    os.environ.update(env)
    failed = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                                resources={"metadata": {"path": str(BOOK)}})
        try:
            client.execute()
        except Exception as exc:  # keep going; report at the end
            failed += 1
            print(f"{path.name}: FAILED after {time.perf_counter() - start:.0f} s: {str(exc)[:2000]}")
        else:
            print(f"{path.name}: {time.perf_counter() - start:.0f} s ({'FAST' if fast else 'full'} mode)")
        strip_widgets(nb)
        if not fast:  # only full runs are committed
            nbformat.write(nb, path)
        sys.stdout.flush()
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["sync", "execute"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--fast", action="store_true", help="FAST mode; outputs are not written back")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_intermixed_args()
    paths = [p.resolve() for p in args.notebooks] or sorted(BOOK.glob("[0-9]*.ipynb"))
    if args.command == "sync":
        return sync(paths)
    return execute(paths, args.fast, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
