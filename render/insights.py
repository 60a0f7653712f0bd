"""What metrics and the weekly digest look like: the answer's text, the chart, the digest post.

The chart is drawn like `render.chart` (matplotlib Agg, object API, on an opaque light card with
dark text, so it reads the same in light and dark themes): incidents per week as bars stacked by
severity, and the week's median MTTR as a line on its own axis. Under it, in the picture itself,
whose incidents it counts: the picture may be forwarded without the message.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone, tzinfo
from typing import Callable

from render.chart import BACKGROUND, GRID, TEXT, _lock, drawable
from render.text import safe
from services.insights import Counts, Metrics, OpenIncident, Spread
from services.metrics import HOUR_MS, MINUTE_MS, format_duration

SEVERITY_COLOURS = {1: "#cf222e", 2: "#bc4c00", 3: "#9a6700", 4: "#0969da"}
MTTR_COLOUR = "#1f2328"
MAX_WEEKS_LABELLED = 16


# ---- whose incidents -------------------------------------------------------------------------------
def privacy_note(is_admin: bool) -> str:
    """Says over which incidents the numbers are: a person sees the numbers of what they may see."""
    if is_admin:
        return "Counted over every incident of this team, private ones included (you are an admin)."
    return ("Counted over the incidents you can see: the team's public incidents and the private ones whose "
            "channel you are in. Others may see other numbers.")


DIGEST_NOTE = ("Only public incidents are counted and listed here: the readers of this channel may not be members "
               "of the private ones. `/incident metrics` shows each person the numbers over every incident they can see.")


# ---- when the digest comes ----------------------------------------------------------------------------
def digest_schedule(zone_name: str, scaled_period_ms: int | None) -> str:
    """"every Monday at 09:00 (Europe/Berlin)"; with UPDATES_TIME_SCALE shortening the week, the
    period it really comes at (counted in UTC, so the team's timezone plays no part)."""
    if scaled_period_ms is None:
        return f"every Monday at 09:00 ({safe(zone_name)})"
    period = f"{scaled_period_ms / 1000:g} s" if scaled_period_ms < MINUTE_MS else format_duration(scaled_period_ms)
    return f"every {period} (`UPDATES_TIME_SCALE` shortens the week)"


# ---- text --------------------------------------------------------------------------------------------
def _duration(ms: int | None) -> str:
    return format_duration(ms) if ms is not None else "–"


def _spread(spread: Spread) -> str:
    if not spread.count:
        return "–"
    return f"{_duration(spread.median_ms)} (p90 {_duration(spread.p90_ms)})"


def _day(ms: int, zone: tzinfo) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(zone).strftime("%Y-%m-%d")


def _row(label: str, counts: Counts) -> str:
    return (f"| {label} | {counts.started} | {counts.ended} | {counts.open} | {_spread(counts.mtta)} | "
            f"{_spread(counts.mttr)} |")


def numbers_table(numbers: Metrics) -> list[str]:
    rows = ["| | Started | Ended | Still open | MTTA median (p90) | MTTR median (p90) |",
            "| --- | ---: | ---: | ---: | --- | --- |", _row("**All**", numbers.total)]
    rows += [_row(f"SEV{level}", counts) for level, counts in numbers.by_severity.items()]
    return rows


DEFINITIONS = ("MTTA: start → first status update (or first checklist tick without one). MTTR: start → end, for "
               "ended incidents; a restarted incident counts once, with the time it was open over all its runs. "
               "Medians and p90 are nearest-rank.")


def _filters(playbook_title: str | None, severity: int | None) -> str:
    parts = []
    if playbook_title:
        parts.append(f"playbook “{safe(playbook_title)}”")
    if severity:
        parts.append(f"SEV{severity} only")
    return f" · {', '.join(parts)}" if parts else ""


def metrics_text(numbers: Metrics, zone: tzinfo, zone_name: str, *, is_admin: bool, playbook_title: str | None = None,
                 severity: int | None = None) -> str:
    title = (f"#### Incidents since {_day(numbers.scope.since_ms, zone)} ({safe(zone_name)})"
             f"{_filters(playbook_title, severity)}")
    if not numbers.total.started:
        body = ["No incidents started in this time that you can see."]
    else:
        unacknowledged = numbers.total.started - numbers.total.mtta.count
        pending = f" {unacknowledged} had no update or tick yet." if unacknowledged else ""
        body = [*numbers_table(numbers), "", DEFINITIONS + pending]
    return "\n".join([title, *body, "", f"_{privacy_note(is_admin)}_"])


def digest_text(numbers: Metrics, open_now: list[OpenIncident], open_total: int, zone: tzinfo, zone_name: str,
                username: Callable[[str], str], now: int) -> str:
    first, last = _day(numbers.scope.since_ms, zone), _day((numbers.scope.until_ms or now) - 1, zone)
    total = numbers.total
    lines = [f"#### Weekly incident digest: {first} – {last} ({safe(zone_name)})"]
    if total.started:
        lines += [f"Started **{total.started}** · Ended **{total.ended}** · Still open **{total.open}**",
                  f"MTTA {_spread(total.mtta)} · MTTR {_spread(total.mttr)}",
                  "By severity: " + " · ".join(f"SEV{level} {counts.started}" for level, counts in numbers.by_severity.items())]
    else:
        lines.append("No incidents started that week.")
    lines += ["", f"**Open incidents now: {open_total}**" if open_total else "**No incident is open now.**"]
    for incident in open_now:
        lines.append(f"- SEV{incident.severity} **{safe(incident.name)}** ~{incident.channel_name} · open "
                     f"{format_duration(max(0, now - incident.created_at))} · commander @{username(incident.commander_id)}")
    if open_total > len(open_now):
        lines.append(f"- …and {open_total - len(open_now)} more: `/incident backstage --status ongoing`")
    lines += ["", f"_{DIGEST_NOTE}_"]
    return "\n".join(lines)


def chart_message(numbers: Metrics, zone: tzinfo, is_admin: bool) -> str:
    return (f"Incidents per week since {_day(numbers.scope.since_ms, zone)}, by severity, with the median MTTR. "
            f"{privacy_note(is_admin)}")


# ---- the chart -------------------------------------------------------------------------------------------
def _week_labels(numbers: Metrics, zone: tzinfo) -> list[str]:
    labels = [datetime.fromtimestamp(w.start_ms / 1000, tz=timezone.utc).astimezone(zone).strftime("%b %d")
              for w in numbers.weeks]
    every = max(1, -(-len(labels) // MAX_WEEKS_LABELLED))  # thin the labels of a long window
    return [label if i % every == 0 else "" for i, label in enumerate(labels)]


def weekly_chart_png(numbers: Metrics, zone: tzinfo, title: str, footnote: str) -> bytes:
    """Bars: incidents started per week, stacked SEV1 (bottom) to SEV4; line: the week's median MTTR."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    weeks = numbers.weeks
    positions = list(range(len(weeks)))
    with _lock:
        figure = Figure(figsize=(max(6.0, min(14.0, 2 + 0.45 * len(weeks))), 4.6), dpi=100, facecolor=BACKGROUND,
                        edgecolor="#8c959f", linewidth=2)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(1, 1, 1, facecolor=BACKGROUND)
        bottoms = [0] * len(weeks)
        for level, colour in SEVERITY_COLOURS.items():
            heights = [w.by_severity.get(level, 0) for w in weeks]
            if any(heights):
                axes.bar(positions, heights, bottom=bottoms, color=colour, width=0.7, label=f"SEV{level}", zorder=2)
                bottoms = [b + h for b, h in zip(bottoms, heights)]
        axes.set_ylabel("incidents started", color=TEXT)
        axes.set_ylim(0, max([*bottoms, 1]) * 1.15)
        axes.set_xticks(positions, _week_labels(numbers, zone), rotation=45, ha="right")
        axes.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
        mttr = axes.twinx()
        hours = [w.mttr.median_ms / HOUR_MS if w.mttr.median_ms is not None else float("nan") for w in weeks]
        mttr.plot(positions, hours, color=MTTR_COLOUR, marker="o", linewidth=1.8, label="median MTTR (h)", zorder=3)
        mttr.set_ylabel("median MTTR, hours", color=TEXT)
        mttr.set_ylim(0, max([h for h in hours if h == h] + [1]) * 1.2)  # h == h: not NaN
        for side in (axes, mttr):
            side.tick_params(colors=TEXT, labelsize=8)
            for spine in side.spines.values():
                spine.set_color(GRID)
        handles = axes.get_legend_handles_labels()[0] + mttr.get_legend_handles_labels()[0]
        if handles:
            legend = axes.legend(handles=handles, loc="upper left", fontsize=8, facecolor=BACKGROUND, edgecolor=GRID)
            for text in legend.get_texts():
                text.set_color(TEXT)
        if not numbers.total.started:
            axes.text(0.5, 0.5, "No incidents in this time.", transform=axes.transAxes, ha="center", va="center",
                      color=TEXT)
        axes.set_title(drawable(title[:90]).replace("$", r"\$"), color=TEXT, loc="left", fontsize=11)
        figure.text(0.01, 0.01, drawable(footnote).replace("$", r"\$"), color=TEXT, fontsize=7.5, ha="left",
                    va="bottom", wrap=True)
        figure.tight_layout(pad=1.2, rect=(0, 0.06, 1, 1))
        out = io.BytesIO()
        figure.savefig(out, format="png", facecolor=BACKGROUND, edgecolor=figure.get_edgecolor())
    return out.getvalue()

