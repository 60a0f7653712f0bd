"""Channel names from incident names, and "2.3"-style checklist item references."""
from __future__ import annotations

import re
import secrets
import string
import unicodedata

from .errors import Invalid
from .text import one_line

CHANNEL_NAME_MAX = 64
DISPLAY_NAME_MAX = 64
SUFFIX_LENGTH = 4
_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
# Prefix for names that fold to a single character: Mattermost 5.37 wants at least two.
_SHORT_NAME_PREFIX = "incident-"


def validate_display_name(name: str) -> str:
    """The incident name as shown (channel display name): 1..64 characters, trimmed."""
    cleaned = one_line(name)
    if not cleaned:
        raise Invalid("Give the incident a name, e.g. `/incident start Database down`.")
    if len(cleaned) > DISPLAY_NAME_MAX:
        raise Invalid(
            f"The incident name is {len(cleaned)} characters long; "
            f"use at most {DISPLAY_NAME_MAX}."
        )
    return cleaned


def _fold(text: str) -> str:
    """Lowercase ASCII: accents removed ("Ziggürat" -> "ziggurat"), other letters dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return without_marks.encode("ascii", "ignore").decode("ascii").lower()


def channel_name_for(incident_name: str) -> str:
    """A Mattermost channel name (URL handle) for an incident name.

    Lowercase `[a-z0-9-]`, 2..64 characters, starting and ending with a letter or
    digit (the Mattermost 5.37 rule; newer servers accept it too).
    """
    display = validate_display_name(incident_name)
    slug = re.sub(r"[^a-z0-9]+", "-", _fold(display)).strip("-")
    slug = slug[:CHANNEL_NAME_MAX].rstrip("-")
    if not slug:
        raise Invalid(
            f"The incident name {display!r} has no letters or digits to build a channel "
            "name from; use a name with some."
        )
    if len(slug) < 2:
        slug = _SHORT_NAME_PREFIX + slug
    return slug


def with_suffix(channel_name: str) -> str:
    """The channel name for the one retry after a name clash: a short random suffix, still <= 64."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))
    stem = channel_name[: CHANNEL_NAME_MAX - SUFFIX_LENGTH - 1].rstrip("-")
    return f"{stem}-{suffix}" if stem else suffix


ITEM_NUMBER_DIGITS = 5  # no checklist has 100 000 items
_REF_HELP = "use N for item N of checklist 1, or C.N for item N of checklist C (e.g. 2.3)"


def parse_item_ref(ref: str) -> tuple[int, int]:
    """"2.3" -> (2, 3); "3" -> (1, 3). Numbers are 1-based as users see them."""
    text = (ref or "").strip()
    if not text:
        raise Invalid(f"Say which item: {_REF_HELP}.")
    shown = text if len(text) <= 20 else text[:20] + "…"
    parts = text.split(".")
    if len(parts) > 2 or not all(p.isdigit() and p.isascii() for p in parts):
        raise Invalid(f"{shown!r} is not an item number: {_REF_HELP}.")
    # before int(): thousands of digits exceed Python's conversion limit, and twenty overflow the database's integers
    if any(len(p.lstrip("0")) > ITEM_NUMBER_DIGITS for p in parts):
        raise Invalid(f"{shown!r} is not an item number: no checklist has that many items.")
    numbers = [int(p) for p in parts]
    if any(n == 0 for n in numbers):
        raise Invalid(f"{shown!r} is not an item number: numbering starts at 1.")
    if len(numbers) == 1:
        return 1, numbers[0]
    return numbers[0], numbers[1]
