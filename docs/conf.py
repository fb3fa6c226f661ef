"""Sphinx configuration: Markdown pages through MyST, the API from docstrings.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (the ``docs`` extra).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # document this tree, not an installed copy

import syncws  # noqa: E402

project = "syncws"
author = "the syncws authors"
copyright = "the syncws authors"
release = syncws.__version__
version = ".".join(release.split(".")[:2])

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]

# MyST: ::: fences for containers (side-by-side code), anchors for ## and ### headings.
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"

html_theme = "alabaster"
html_static_path = ["_static"]
html_css_files = ["syncws.css"]
html_title = f"syncws {release}"
html_theme_options = {"description": "A blocking WebSocket client for Python", "page_width": "1100px"}
