"""Text people typed, made fit to store and show.

Control characters go: NUL cannot be stored in PostgreSQL at all, and the others (bells,
escapes, bidi overrides that make "evil" read "live") only confuse or spoof. Right-to-left and
left-to-right *marks* stay: people writing Arabic or Hebrew need them.

Names and titles also lose invisible characters that only make look-alikes ("db\u200b-down" shows
as "db-down" but is another name): zero-width spaces, word joiners, byte order marks, soft
hyphens. The zero-width (non-)joiners are writing in Persian, Indic scripts and emoji sequences,
so one stays where it sits between two such characters, and goes beside Latin text, spaces or
the ends, where it joins nothing.
"""
from __future__ import annotations

import re

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


_INVISIBLE = re.compile("[\u00ad\u180e\u200b\u2060-\u2064\ufeff]")
_JOINERS = re.compile("[\u200c\u200d]+")


def _joins_writing(run: re.Match[str]) -> str:
    """One joiner where it joins two non-Latin characters (letters, marks, emoji); none elsewhere."""
    text = run.string
    before = text[run.start() - 1] if run.start() > 0 else " "
    after = text[run.end()] if run.end() < len(text) else " "
    writing = all(not c.isascii() and not c.isspace() for c in (before, after))
    return run.group()[0] if writing else ""


def one_line(text: str | None) -> str:
    """A name or title: controls and look-alike invisibles removed, runs of whitespace made one space, trimmed."""
    spaced = " ".join(_INVISIBLE.sub("", _CONTROLS.sub(" ", text or "")).split())
    return " ".join(_JOINERS.sub(_joins_writing, spaced).split())


def paragraphs(text: str | None) -> str:
    """A message: controls removed (newlines and tabs kept), trimmed."""
    return _CONTROLS.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()
