"""Example instances for one family group; concatenated into ``tests/examples.py``'s table."""

from __future__ import annotations

from .examples import Example  # noqa: F401  (used by the entries below)

EXAMPLES: list[Example] = []
