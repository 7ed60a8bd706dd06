"""Griffe extension: render the reStructuredText bits of torchprob's docstrings as Markdown.

torchprob's docstrings are Google style (``Args:``, ``Returns:``) with a few reST constructs
inherited from torch's conventions. Before mkdocstrings parses a docstring, this extension
rewrites them into what Markdown + ``pymdownx.arithmatex`` render:

* ``:math:`x``` becomes inline math ``$x$``;
* a ``.. math::`` directive (its text on the same line and/or the indented lines below) becomes a
  display block ``$$ ... $$``;
* a paragraph ending in ``::`` followed by an indented block becomes a fenced Python code block
  (``Example::`` becomes a bold "Example" label);
* ``:class:`~a.b.C```, ``:func:``, ``:meth:``, ``:attr:``, ``:mod:``, ``:data:``, ``:obj:`` roles
  become inline code showing the name as Sphinx would (``~`` keeps the last component).

Loaded by mkdocstrings through ``extensions: [docs/griffe_rst.py]`` in ``mkdocs.yml``; the
conversion itself (:func:`rst_to_markdown`) is plain Python, tested without MkDocs.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from typing import Any

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|obj|exc):`~?([^`]+)`")
_TILDE_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|obj|exc):`~([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_MATH_DIRECTIVE = re.compile(r"^(\s*)\.\. math::\s*(.*)$")
_LITERAL_INTRO = re.compile(r"^(\s*)(.*?)::\s*$")
DOCS = Path(__file__).resolve().parent


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def _take_block(lines: list[str], start: int, base: int) -> tuple[list[str], int]:
    """The lines from ``start`` indented deeper than ``base`` (blank lines inside kept)."""
    block: list[str] = []
    i = start
    while i < len(lines):
        line = lines[i]
        if line.strip() and _indent_of(line) <= base:
            break
        block.append(line)
        i += 1
    while block and not block[-1].strip():
        block.pop()
        i -= 1
    return block, i


def _roles(text: str) -> str:
    text = _TILDE_ROLE.sub(lambda m: f"`{m.group(1).split('.')[-1].rstrip('()')}`", text)
    return _ROLE.sub(lambda m: f"`{m.group(1)}`", text)


def rst_to_markdown(doc: str) -> str:
    """Rewrite the reST constructs of a (dedented) docstring as Markdown."""
    # Inline math may wrap onto the next line: join it first, so that each role is on one line.
    doc = _MATH_ROLE.sub(lambda m: f"${' '.join(m.group(1).split())}$", doc)
    lines = doc.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        math = _MATH_DIRECTIVE.match(line)
        if math:
            pad, first = math.group(1), math.group(2)
            block, i = _take_block(lines, i + 1, len(pad))
            body = [first] if first else []
            body += [b.strip() for b in block if b.strip()]
            if out and out[-1].strip():
                out.append("")
            out += [f"{pad}$$", *(f"{pad}{b}" for b in body), f"{pad}$$"]
            continue
        intro = _LITERAL_INTRO.match(line)
        if intro and not line.lstrip().startswith(".."):
            block, j = _take_block(lines, i + 1, _indent_of(line))
            if any(b.strip() for b in block):
                pad, text = intro.group(1), intro.group(2)
                if text.strip() == "Example":
                    out.append(f"{pad}**Example**")
                elif text.strip():
                    out.append(f"{pad}{_roles(text)}:")
                code = textwrap.dedent("\n".join(block)).strip("\n").splitlines()
                out += ["", f"{pad}```python", *(f"{pad}{c}" if c else "" for c in code)]
                out.append(f"{pad}```")
                i = j
                continue
        out.append(_roles(line))
        i += 1
    return "\n".join(out)


try:  # the extension class exists only where griffe is installed (the docs extra)
    import griffe
except ImportError:  # pragma: no cover - plain test environments
    griffe = None

if griffe is not None:

    class RstToMarkdown(griffe.Extension):
        """Convert every docstring once, when its object is created; append the method table
        (``api_pages.method_table``) to the docstring of each exported distribution class."""

        def on_instance(self, *, obj: griffe.Object, agent: Any = None, **kwargs: Any) -> None:
            if str(DOCS) not in sys.path:
                sys.path.insert(0, str(DOCS))
            import api_pages  # the method tables; imported late (it imports this module)

            if obj.docstring is not None:
                obj.docstring.value = rst_to_markdown(obj.docstring.value)
            cls = api_pages.class_for_path(obj.path) if obj.is_class else None
            table = api_pages.method_table(cls) if cls is not None else ""
            if not table:
                return
            if obj.docstring is None:
                obj.docstring = griffe.Docstring(
                    "",
                    parent=obj,
                    parser=getattr(agent, "docstring_parser", None),
                    parser_options=getattr(agent, "docstring_options", None),
                )
            obj.docstring.value = f"{obj.docstring.value}\n\n{table}\n"
