"""Two fixes that keep the built pages free of JavaScript console errors (chapter-neutral).

* sphinx-thebe 0.3.1 adds its inline configuration (``const THEBE_JS_URL = ...``) with
  ``app.add_js_file`` after the HTML builder is initialised, and Sphinx 7 then emits it
  twice; the second copy redeclares a ``const`` and every page logs a SyntaxError.
  Scripts that a page would load twice are dropped here.
* pydata-sphinx-theme logs "Got invalid theme mode" on a visitor's first page unless the
  template variable ``default_mode`` is set; here it follows the reader's system.

``tests/book/test_browser.py`` opens every page in Chromium and fails on console errors.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in context.get("script_files", []):
        # the same inline script is registered once with filename None and once with ""
        key = (
            str(getattr(script, "filename", script) or ""),
            repr(getattr(script, "attributes", "")),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _default_mode(app: Sphinx) -> None:
    app.config.html_context.setdefault("default_mode", "auto")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _default_mode)
    app.connect("html-page-context", _drop_duplicate_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
