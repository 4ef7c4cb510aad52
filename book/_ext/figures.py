"""Animations get the text alternative of a figure.

A figure's caption and label come from the cell metadata (``mystnb: figure:``); an image
output takes its alt text from ``mystnb: image: alt``. The frames of an animation are drawn
by matplotlib's player, which writes its <img> without alt text: here each frame image is
given the caption of its figure, which says what the animation shows."""

import html
import re

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

FRAME = re.compile(r'<img id="(_anim_img[^"]*)"')


class AnimationAltText(SphinxPostTransform):
    default_priority = 900  # after myst-nb has chosen the output of each cell
    formats = ("html",)

    def run(self, **kwargs):
        for figure in list(self.document.findall(nodes.figure)):
            caption = next(iter(figure.findall(nodes.caption)), None)
            if caption is None:
                continue
            alt = html.escape(caption.astext(), quote=True)
            for raw in list(figure.findall(nodes.raw)):
                text = raw.astext()
                if "_anim_img" in text:
                    text = FRAME.sub(lambda m: f'<img id="{m.group(1)}" alt="{alt}"', text)
                    raw.replace_self(nodes.raw(text, text, format="html"))


def setup(app):
    app.add_post_transform(AnimationAltText)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
