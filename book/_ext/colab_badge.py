"""Serve the "Open in Colab" badge with the book.

Each notebook links the badge image at its absolute address (so that it shows on Colab, on
GitHub and in a downloaded notebook); the rendered page uses the copy in book/_static, so that
it needs no network."""

from docutils import nodes
from sphinx.transforms import SphinxTransform

REMOTE = "https://colab.research.google.com/assets/colab-badge.svg"


class LocalColabBadge(SphinxTransform):
    default_priority = 10  # before the image collector reads the URIs

    def apply(self, **kwargs):
        for image in self.document.findall(nodes.image):
            if image.get("uri") == REMOTE:
                image["uri"] = "_static/colab-badge.svg"
                image["candidates"] = {"*": "_static/colab-badge.svg"}


def setup(app):
    app.add_transform(LocalColabBadge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
