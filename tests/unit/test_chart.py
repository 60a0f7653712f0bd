"""The checklist chart shows people's text as they typed it."""

import struct

from render.chart import checklist_timeline_png
from services.metrics import ItemCompletion

MINUTE = 60_000


def test_dollar_signs_and_broken_math_in_titles_still_make_a_chart():
    items = [ItemCompletion(1, 1, "Triage", r"Refund $5 and $\foo{$", True, 3 * MINUTE),
             ItemCompletion(1, 2, "Triage", "Pay $6", False, None)]
    png = checklist_timeline_png("Costs $$ rising", items, 10 * MINUTE)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 800 and height > 100
