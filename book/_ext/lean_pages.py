"""Keep the pages light.

* The theme loads Font Awesome twice: as a web font with its stylesheet, and as a 1.5 MB
  script that redraws the same icons as SVG. The web font alone draws every icon of the
  book, so the script is dropped from each page.
* Figures from the notebooks (and the frames of the animations, which are embedded in the
  page) are stored as 8-bit palette PNGs: a plot has few colours, and the palette makes the
  files two to three times smaller without a visible change.

Both happen after the build, on the files in the output folder."""

import base64
import io
import re
from pathlib import Path

FONTAWESOME_JS = re.compile(r'\s*<script src="[^"]*/fontawesome/[^"]*/js/all\.min\.js[^"]*"></script>')
NOTEBOOK_FIGURE = re.compile(r"^[0-9a-f]{64}\.png$")  # myst-nb names output images by hash
# a frame of matplotlib's player: base64 text, broken into lines ending in a backslash
FRAME = re.compile(r'"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)"')


def palette_png(data: bytes) -> bytes:
    """The same picture as an 8-bit palette PNG, or the input if that is not smaller."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    if image.mode == "P":
        return data
    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        image = background
    image = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                          dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(data) else data


def _frames(text: str) -> str:
    def encode(match):
        raw = base64.b64decode(re.sub(r"[\\\n]", "", match.group(1)))
        return '"data:image/png;base64,' + base64.b64encode(palette_png(raw)).decode("ascii") + '"'

    return FRAME.sub(encode, text)


def _lighten(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        lean = FONTAWESOME_JS.sub("", text)
        if "_anim_img" in lean:
            lean = _frames(lean)
        if lean != text:
            page.write_text(lean, encoding="utf-8")
    for image in (outdir / "_images").glob("*.png"):
        if NOTEBOOK_FIGURE.match(image.name):
            data = image.read_bytes()
            small = palette_png(data)
            if small is not data:
                image.write_bytes(small)


def setup(app):
    app.connect("build-finished", _lighten)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
