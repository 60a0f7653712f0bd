"""Putting text people typed into messages without it pinging anyone or breaking layout."""

from __future__ import annotations

import functools
import re

# characters that change Mattermost markdown anywhere in a line (not "-" or ".": those only
# matter at the start of a line, and `safe` never leaves text at the start of a line)
_MARKDOWN = re.compile(r"([\\`*_\[\]#|>~<])")
_MENTION = re.compile(r"@(?=[\w.\-])")
ZERO_WIDTH_JOINER = "\u2060"


def safe(text: str) -> str:
    """Text shown literally: markdown escaped, `@channel`/`@all`/`@here`/`@user` made inert."""
    return _safe(text) if type(text) is str else _safe(str(text))


@functools.lru_cache(maxsize=4096)  # a checklist's render writes each of its titles, many times a second in a burst
def _safe(text: str) -> str:
    text = " ".join(text.split())
    text = _MARKDOWN.sub(r"\\\1", text)
    # a word joiner after "@" keeps the text readable but stops Mattermost from mentioning
    return inert(text)


def inert(text: str) -> str:
    """Text that may quote names people typed (a service's message): mentions made harmless,
    markdown left alone."""
    return _MENTION.sub("@" + ZERO_WIDTH_JOINER, text)


def code(text: str) -> str:
    """Inline code for identifiers (channel names, commands)."""
    return "`" + str(text).replace("`", "'") + "`"
