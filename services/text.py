"""Text people typed, made fit to store and show.

Control characters go: NUL cannot be stored in PostgreSQL at all, and the others (bells,
escapes, bidi overrides that make "evil" read "live") only confuse or spoof. Right-to-left and
left-to-right *marks* stay: people writing Arabic or Hebrew need them.
"""
from __future__ import annotations

import re

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str | None) -> str:
    """A name or title: controls removed, runs of whitespace made one space, trimmed."""
    return " ".join(_CONTROLS.sub(" ", text or "").split())


def paragraphs(text: str | None) -> str:
    """A message: controls removed (newlines and tabs kept), trimmed."""
    return _CONTROLS.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()
