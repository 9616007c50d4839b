"""Server-rendered SVG bar charts for the report page (no JavaScript, no CDN).

Labels are escaped with markupsafe; the SVG is built from numbers and escaped text only.
"""
from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#0b5cad", "#a4161a", "#1a7f37", "#8a6d00", "#6e40c9", "#5b6470", "#bc4c00")


def bar_chart(title: str, items: list[tuple[str, list[int]]], series: list[str], width: int = 640) -> Markup:
    """Horizontal stacked bars: one bar per item, one segment per series."""
    bar, gap, left, top = 18, 8, 220, 28
    height = top + len(items) * (bar + gap) + 30
    biggest = max([sum(values) for _, values in items] + [1])
    scale = (width - left - 50) / biggest
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, (label, values) in enumerate(items):
        y = top + i * (bar + gap)
        parts.append(f'<text x="{left - 6}" y="{y + bar - 5}" font-size="12" text-anchor="end">'
                     f'{escape(label[:34])}</text>')
        x = left
        for j, value in enumerate(values):
            w = value * scale
            if value:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{PALETTE[j % len(PALETTE)]}">'
                             f'<title>{escape(series[j])}: {value}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar - 5}" font-size="12">{sum(values)}</text>')
    legend_y = height - 10
    x = left
    for j, name in enumerate(series):
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{legend_y}" font-size="11">{escape(name)}</text>')
        x += 14 + 7 * len(name) + 16
    parts.append("</svg>")
    return Markup("".join(parts))
