"""The checklist timeline as a PNG: one row per item, a mark when it was completed.

Drawn with matplotlib (Agg, object API, no pyplot state) on an opaque light card with
dark text and a mid-grey frame, so it reads the same in Mattermost's light and dark
themes. Completed items get a filled mark at their completion time after the start;
unfinished ones have no mark and say "not done" in their row.
"""
from __future__ import annotations

import io
import threading

from services.metrics import HOUR_MS, MINUTE_MS, ItemCompletion, format_duration

LABEL_MAX = 32
ROW_INCHES = 0.34
MAX_ROWS = 150
BACKGROUND = "#ffffff"
TEXT = "#1f2328"
GRID = "#d0d7de"
DONE = "#1a7f37"
OPEN = "#bc4c00"

_lock = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe


MISSING = "\u25a1"  # a white square, as the font would draw a glyph it lacks
_covered: frozenset[int] | None = None


def _font_covers() -> frozenset[int]:
    """The code points the chart's font (matplotlib's default, DejaVu Sans) can draw."""
    global _covered
    if _covered is None:
        from matplotlib import font_manager, ft2font

        path = font_manager.findfont(font_manager.FontProperties())
        _covered = frozenset(ft2font.FT2Font(path).get_charmap())
    return _covered


def drawable(text: str) -> str:
    """The text with what the font cannot draw (emoji, CJK...) shown as a square.

    Matplotlib draws the same square, but warns once per missing glyph per drawing: hundreds of
    log lines a day for charts of checklists written with emoji. Asking the font first draws the
    same picture with no warning, and needs no change to the process-wide warning filters.
    """
    covered = _font_covers()
    return "".join(c if ord(c) in covered else MISSING for c in text)


def _literal(text: str) -> str:
    """People's text as typed: drawable, and "$...$" not read as math (bad math fails the chart)."""
    return drawable(text).replace("$", r"\$")


def _label(item: ItemCompletion) -> str:
    label = item.label
    return _literal(label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…")


def _unit(span_ms: int) -> tuple[float, str]:
    if span_ms <= 2 * HOUR_MS:
        return MINUTE_MS, "minutes"
    if span_ms <= 72 * HOUR_MS:
        return HOUR_MS, "hours"
    return 24 * HOUR_MS, "days"


def checklist_timeline_png(title: str, items: list[ItemCompletion], duration_ms: int) -> bytes:
    """The chart for these items; `duration_ms` (start to end or now) sets the time axis."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = items[:MAX_ROWS]
    done_times = [i.after_ms for i in shown if i.done]
    span = max([duration_ms, *done_times, MINUTE_MS])
    scale, unit = _unit(span)
    rows = max(len(shown), 1)
    with _lock:
        figure = Figure(figsize=(8, 1.4 + ROW_INCHES * rows), dpi=100, facecolor=BACKGROUND,
                        edgecolor="#8c959f", linewidth=2)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(1, 1, 1, facecolor=BACKGROUND)
        positions = list(range(rows))[::-1]  # first item on top
        axes.set_ylim(-0.7, rows - 0.3)
        axes.set_xlim(0, span / scale * 1.05)
        if shown:
            axes.set_yticks(positions, [_label(i) for i in shown])
        else:
            axes.set_yticks([])
            axes.text(0.5, 0.5, "This incident has no checklist items yet.", transform=axes.transAxes,
                      ha="center", va="center", color=TEXT)
        for y, item in zip(positions, shown):
            axes.axhline(y, color=GRID, linewidth=0.8, zorder=0)
            if item.done:
                x = item.after_ms / scale
                axes.plot([x], [y], marker="o", markersize=9, color=DONE, zorder=3)
                axes.annotate(format_duration(item.after_ms), (x, y), xytext=(7, 5), textcoords="offset points",
                              fontsize=8, color=TEXT)
            else:
                axes.annotate("not done", (0, y), xytext=(4, -3), textcoords="offset points", fontsize=9,
                              color=OPEN, style="italic", fontweight="bold")
        axes.set_xlabel(f"{unit} since the incident started", color=TEXT)
        axes.set_title(_literal(title[:80]), color=TEXT, loc="left", fontsize=11)
        axes.tick_params(colors=TEXT, labelsize=9)
        for spine in axes.spines.values():
            spine.set_color(GRID)
        if len(items) > MAX_ROWS:
            axes.text(0, -0.08, f"…and {len(items) - MAX_ROWS} more items", transform=axes.transAxes, color=TEXT,
                      fontsize=8, va="top")
        figure.tight_layout(pad=1.2)
        out = io.BytesIO()
        figure.savefig(out, format="png", facecolor=BACKGROUND, edgecolor=figure.get_edgecolor())
    return out.getvalue()
