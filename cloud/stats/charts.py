"""Charts of the report as inline SVG, drawn here (no script, no external file): horizontal
bars grouped by category, each bar labelled with its value so the chart reads without colour.
A category's name stands on its own line above its bars, wrapped, never cut. A value is a
number (a bar), a mark (a hidden value, ``..``: written, no bar) or ``None`` (no data: a
dash, no bar), so a reader tells "nothing" apart from "hidden"."""
from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from html import escape

COLOURS = ("#0b4f8a", "#2e8540", "#c4661f", "#6b3fa0")  # contrast >= 4.5:1 on white
ROW, GAP, LINE, WIDTH, LEGEND = 20, 12, 17, 440, 20  # readable at a phone's width
INDENT, LINE_CHARS = 8, 52  # bars under their category's name; characters per name line
NO_DATA = "–"
Value = float | str | None


def bar_chart(title: str, categories: Sequence[str],
              series: Sequence[tuple[str, Sequence[Value]]], *, unit: str = "",
              scale_max: float | None = None,
              number: Callable[[float], str] = lambda v: f"{v:g}") -> str:
    """A horizontal grouped bar chart in a figure captioned ``title``: one group per
    category (its name above, wrapped), one bar per series; ``number`` writes a value in the
    reader's language."""
    values = [v for _, vs in series for v in vs if isinstance(v, int | float)]
    top = scale_max or max(values, default=0) or 1
    plot = WIDTH - INDENT - 90
    names = [textwrap.wrap(c, LINE_CHARS) or [""] for c in categories]
    legend_h = LEGEND * len(series) + 6
    heights = [LINE * len(lines) + ROW * len(series) + GAP for lines in names]
    parts = [f'<figure class="chart-figure"><figcaption>{escape(title)}</figcaption>',
             (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} '
              f'{legend_h + sum(heights)}" width="100%" role="img" '
              f'aria-label="{escape(title)}" class="chart">'),
             f'<title>{escape(title)}</title>']
    for i, (name, _) in enumerate(series):  # one legend line per series: names may be long
        y = 2 + i * LEGEND
        parts.append(f'<rect x="0" y="{y}" width="13" height="13" fill="{COLOURS[i % 4]}"/>'
                     f'<text x="19" y="{y + 12}">{escape(name)}</text>')
    y0 = legend_h
    for c, lines in enumerate(names):
        for n, line in enumerate(lines):
            parts.append(f'<text x="0" y="{y0 + LINE * (n + 1) - 4}" class="category">'
                         f'{escape(line)}</text>')
        bars_y = y0 + LINE * len(lines)
        for s, (_, vs) in enumerate(series):
            parts.append(_bar(vs[c], bars_y + s * ROW, COLOURS[s % 4], plot, top, unit,
                              number))
        y0 += heights[c]
    parts.append("</svg></figure>")
    return "".join(parts)


def _bar(value: Value, y: float, colour: str, plot: float, top: float, unit: str,
         number: Callable[[float], str]) -> str:
    """One bar with its value, or the mark of a hidden value, or the dash of no data."""
    if not isinstance(value, int | float):
        return f'<text x="{INDENT}" y="{y + 15}">{escape(value or NO_DATA)}</text>'
    w = max(0.0, plot * value / top)
    return (f'<rect x="{INDENT}" y="{y + 2}" width="{w:.1f}" height="{ROW - 4}" '
            f'fill="{colour}"/>'
            f'<text x="{INDENT + w + 4:.1f}" y="{y + 15}">{escape(number(value) + unit)}</text>')
