"""The student edition (book/_tools/student.py): one command writes every chapter without
solutions, as valid notebooks, and no solution text leaks into them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "book" / "_tools" / "student.py"
sys.path.insert(0, str(TOOL.parent))
import student  # noqa: E402

CHAPTERS = student.chapters()


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    result = subprocess.run([sys.executable, str(TOOL), str(out)], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def lines_of(text: str, shortest: int = 30) -> set[str]:
    return {line.strip() for line in text.splitlines() if len(line.strip()) >= shortest}


def test_every_chapter_is_written(edition):
    assert len(CHAPTERS) >= 10
    assert sorted(p.name for p in edition.glob("*.ipynb")) == sorted(p.name for p in CHAPTERS)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_solution_leaks(edition, path):
    source = nbformat.read(path, as_version=4)
    handout = nbformat.read(edition / path.name, as_version=4)
    nbformat.validate(handout)
    # what the source notebook says outside its solutions: a solution line that also appears
    # there (a formula the text repeats, `plt.show()`) is not a leak
    solutions, visible = [], []
    for cell in source.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "code" and student.SOLUTION_TAG in tags:
            solutions.append(cell.source)
        elif cell.cell_type == "code" and student.EXERCISE_TAG in tags:
            solutions.append(cell.source)  # its body; the signatures stay visible
            visible.append(student.stub(cell.source))
        elif cell.cell_type == "markdown":
            solutions += student.solution_texts(cell.source)
            visible.append(student.strip_solutions(cell.source))
        else:
            visible.append(cell.source)
    assert solutions, "every chapter has solutions"
    secret = set().union(*(lines_of(s) for s in solutions)) - lines_of("\n".join(visible))
    assert secret, "the solutions say something the text does not"
    text = "\n".join(c.source for c in handout.cells)
    text += "\n".join(str(o) for c in handout.cells if c.cell_type == "code" for o in c.outputs)
    leaked = sorted(line for line in secret if line in text)
    assert not leaked, leaked[:5]
    assert "{admonition} Solution" not in text
    # exercises stay; solutions, solution cells and outputs go
    assert "## Exercises" in text and student.NOTE in text
    codes = [c for c in handout.cells if c.cell_type == "code"]
    assert not [c for c in codes if student.SOLUTION_TAG in c.metadata.get("tags", [])]
    assert not [c for c in codes if c.outputs or c.execution_count is not None]
    # the conventions a reader relies on are kept: title and badge first, setup, settings
    first = handout.cells[0].source
    assert first.startswith("# ") and "Student edition" in first
    assert "colab.research.google.com/github" not in first  # the badge opens the solutions
    assert "OT_BOOK_FAST" in handout.cells[2].source


def test_exercise_cells_become_stubs(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# Title\n\ntext\n\n**1.** Do it.\n\n:::{admonition} Solution\n:class: dropdown\n"
            "The secret answer is forty-two, as anyone can see.\n:::\n\nafter"),
        nbformat.v4.new_code_cell(
            'def train(x, steps=3):\n    """Train."""\n    secret_line_of_the_solution = x * 2\n'
            "    return secret_line_of_the_solution\n\n\nmodel = train(1)\n",
            metadata={"tags": ["exercise"]}),
        nbformat.v4.new_code_cell("print('the solution check')\nassert model == 2",
                                  metadata={"tags": ["solution"]}),
    ]
    path = tmp_path / "10_x.ipynb"
    nbformat.write(nb, path)
    out = student.student_notebook(nbformat.read(path, as_version=4))
    nbformat.validate(out)
    text = "\n".join(c.source for c in out.cells)
    assert "forty-two" not in text and "after" in text and student.NOTE in text
    assert "secret_line_of_the_solution" not in text and "model = train" not in text
    assert 'def train(x, steps=3):\n    """Train."""\n    raise NotImplementedError' in text
    assert "the solution check" not in text and len(out.cells) == 2
    compile(out.cells[1].source, "stub", "exec")  # the stub is valid Python
