"""MkDocs hooks: add the generated pages (API reference, gallery) at build time.

* ``on_config`` fills the "API reference" section of the nav from ``api_pages.nav()``;
* ``on_files`` adds the API pages (``api_pages.pages()``) and the gallery page, which shows
  every ``docs/gallery/*.png`` that ``docs/gallery.py`` wrote (``make gallery``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

DOCS = Path(__file__).resolve().parent
if str(DOCS) not in sys.path:
    sys.path.insert(0, str(DOCS))

import api_pages  # noqa: E402
import gallery  # noqa: E402

API_SECTION = "API reference"


def on_config(config: Any, **kwargs: Any) -> Any:
    for i, entry in enumerate(config["nav"] or []):
        if isinstance(entry, dict) and API_SECTION in entry:
            config["nav"][i] = {API_SECTION: api_pages.nav()}
    return config


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    generated = dict(api_pages.pages())
    generated["gallery.md"] = gallery.page_markdown(DOCS / "gallery")
    for path, text in generated.items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=text))
    return files
