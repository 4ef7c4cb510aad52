"""Keep the pages light.

The theme loads Font Awesome twice: as a web font with its stylesheet, and as a 1.5 MB script
that redraws the same icons as SVG. The web font alone draws every icon of the book, so the
script is dropped from each page after the build."""

import re
from pathlib import Path

FONTAWESOME_JS = re.compile(r'\s*<script src="[^"]*/fontawesome/[^"]*/js/all\.min\.js[^"]*"></script>')


def _drop_icon_script(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        lean = FONTAWESOME_JS.sub("", text)
        if lean != text:
            page.write_text(lean, encoding="utf-8")


def setup(app):
    app.connect("build-finished", _drop_icon_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
