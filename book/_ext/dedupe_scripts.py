"""Drop duplicate inline scripts from each page.

sphinx-thebe registers its inline configuration script once per read pass; when Sphinx
reads the sources twice (as with sphinxcontrib-bibtex), pages carry the same
`const THEBE_JS_URL = ...` twice and the browser reports a SyntaxError."""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for script in context.get("script_files", []):
        # an inline script is registered with filename None or "": the same script either way
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
