"""Write the student edition of the book: every chapter as a notebook without solutions.

    python book/_tools/student.py OUTDIR            # all chapters of _toc.yml
    python book/_tools/student.py OUTDIR book/40_algorithm1_gaussians.ipynb ...

What changes, chapter by chapter:

- every solution box in a markdown cell (a ``:::{admonition} Solution`` block, shown as a
  dropdown in the book) is removed, and a one-line note takes its place;
- every code cell tagged ``solution`` (the code of a solution, run and checked when the
  book is built) is removed;
- every code cell tagged ``exercise`` (code the reader is asked to write, e.g. Algorithm 1
  from scratch in chapter 40) is blanked: its functions keep their signatures and
  docstrings, their bodies become ``raise NotImplementedError``, and everything else in the
  cell is dropped; the cells after it, with their asserts, then grade the student's version;
- outputs and execution counts are cleared, so that nothing computed by a solution is left;
- the Colab badge, which opens the book's own notebook with its solutions, is removed.

The notebooks are written with nbformat and validated; ``book.mplstyle`` is copied beside
them so that the figures keep the book's style.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"

SOLUTION_TAG = "solution"
EXERCISE_TAG = "exercise"
OPENING = re.compile(r"^(?P<fence>:{3,}|`{3,})\{admonition\}\s*Solution\b")
NOTE = "*(The solution is not part of the student edition.)*"
BANNER = (
    "> **Student edition.** Solutions are removed, and cells marked as exercises are left"
    " for you to complete; the checks after them tell you when your code is right. To run it"
    " on Colab, upload this notebook (*File → Upload notebook*)."
)
# the book's badge opens the chapter with its solutions: the student edition drops it
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)\n*")


def chapters() -> list[Path]:
    """The chapters listed in _toc.yml, in order."""
    files = re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text())
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def solution_blocks(text: str) -> list[tuple[int, int]]:
    """(first, last) line indices of every Solution admonition in a markdown text; a block
    ends at the first line that is its own fence (the same colons or backticks) alone."""
    lines, blocks, i = text.split("\n"), [], 0
    while i < len(lines):
        match = OPENING.match(lines[i].strip())
        if not match:
            i += 1
            continue
        fence, j = match.group("fence"), i + 1
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        if j == len(lines):
            raise ValueError(f"unclosed solution block starting: {lines[i]!r}")
        blocks.append((i, j))
        i = j + 1
    return blocks


def strip_solutions(text: str) -> str:
    lines = text.split("\n")
    for first, last in reversed(solution_blocks(text)):
        lines[first : last + 1] = [NOTE]
    return "\n".join(lines)


def solution_texts(text: str) -> list[str]:
    """The inside of every Solution admonition of a markdown text."""
    lines = text.split("\n")
    return ["\n".join(lines[first + 1 : last]) for first, last in solution_blocks(text)]


def stub(source: str) -> str:
    """An exercise cell for students: the signatures and docstrings of its functions, with
    bodies that raise NotImplementedError."""
    lines = source.split("\n")
    out = ["# Exercise: complete this cell (the text above says what it must do);",
           "# the cells below use what it defines and check it."]
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: nothing to keep
        return "\n".join(out) + "\n"
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            continue
        first_body = node.body[0]
        has_doc = (isinstance(first_body, ast.Expr) and isinstance(first_body.value, ast.Constant)
                   and isinstance(first_body.value.value, str))
        head_end = first_body.end_lineno if has_doc else first_body.lineno - 1
        start = min([d.lineno for d in node.decorator_list] + [node.lineno])
        head = lines[start - 1 : head_end]
        indent = " " * (first_body.col_offset)
        out += [""] + head + [f"{indent}raise NotImplementedError  # your code here"]
    return "\n".join(out) + "\n"


def student_notebook(nb):
    """A copy of ``nb`` without solutions, with exercise cells blanked and outputs cleared."""
    nb = nbformat.from_dict(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        cell.metadata.pop("execution", None)
        if cell.cell_type == "markdown":
            cell.source = strip_solutions(cell.source)
        elif cell.cell_type == "code":
            if SOLUTION_TAG in tags:
                continue
            if EXERCISE_TAG in tags:
                cell.source = stub(cell.source)
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    first = cells[0]
    first.source = BADGE.sub("", first.source)
    title, _, rest = first.source.partition("\n")
    first.source = f"{title}\n\n{BANNER}\n{rest}"
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def write(outdir: Path, paths: list[Path]) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        nb = student_notebook(nbformat.read(path, as_version=4))
        nbformat.validate(nb)
        target = outdir / path.name
        nbformat.write(nb, target)
        written.append(target)
    style = BOOK / "book.mplstyle"
    if style.exists():
        shutil.copy(style, outdir / style.name)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or chapters()
    for target in write(args.outdir, paths):
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
