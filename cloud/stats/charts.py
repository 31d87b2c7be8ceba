"""Charts of the report as inline SVG, drawn here (no script, no external file): horizontal
bars grouped by category, each bar labelled with its value so the chart reads without colour;
a suppressed value is written ``<5`` with no bar."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

COLOURS = ("#0b4f8a", "#2e8540", "#c4661f", "#6b3fa0")  # contrast >= 4.5:1 on white
ROW, GAP, LABEL, WIDTH, LEGEND = 20, 12, 120, 440, 20  # readable at a phone's width


def bar_chart(title: str, categories: Sequence[str],
              series: Sequence[tuple[str, Sequence[float | None]]], *, unit: str = "",
              scale_max: float | None = None) -> str:
    """A horizontal grouped bar chart in a figure captioned ``title``: one group per
    category, one bar per series."""
    values = [v for _, vs in series for v in vs if v is not None]
    top = scale_max or max(values, default=0) or 1
    plot = WIDTH - LABEL - 70
    group = ROW * len(series) + GAP
    legend_h = LEGEND * len(series) + 6
    height = legend_h + group * len(categories)
    parts = [f'<figure class="chart-figure"><figcaption>{escape(title)}</figcaption>',
             (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
              f'width="100%" role="img" aria-label="{escape(title)}" class="chart">'),
             f'<title>{escape(title)}</title>']
    for i, (name, _) in enumerate(series):  # one legend line per series: names may be long
        y = 2 + i * LEGEND
        parts.append(f'<rect x="0" y="{y}" width="13" height="13" fill="{COLOURS[i % 4]}"/>'
                     f'<text x="19" y="{y + 12}">{escape(name)}</text>')
    for c, category in enumerate(categories):
        y0 = legend_h + c * group
        parts.append(f'<text x="{LABEL - 6}" y="{y0 + group / 2}" text-anchor="end">'
                     f'{escape(category)}</text>')
        for s, (_, vs) in enumerate(series):
            value, y = vs[c], y0 + s * ROW
            if value is None:
                parts.append(f'<text x="{LABEL + 4}" y="{y + 15}">&lt;5</text>')
                continue
            w = max(0.0, plot * value / top)
            text = f"{value:g}{unit}"
            parts.append(f'<rect x="{LABEL}" y="{y + 2}" width="{w:.1f}" height="{ROW - 4}" '
                         f'fill="{COLOURS[s % 4]}"/>'
                         f'<text x="{LABEL + w + 4:.1f}" y="{y + 15}">{escape(text)}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)
