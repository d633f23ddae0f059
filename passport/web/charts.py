"""Server-rendered SVG charts for the public page: no JavaScript, presentation attributes only (a strict CSP
forbids inline styles), each chart an accessible image with a title and the same numbers in a table next to it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

Translate = Callable[[str], str]

WIDTH = 320
BAR_H = 16
GAP = 12
LABEL_H = 16  # a bar chart's label sits on its own line above the bar: long stage names never collide
VALUE_W = 120  # room kept right of the longest bar for its number and unit
LABEL_W = 120  # the recycled-content chart keeps its (short) metal names left of the bars
LEGEND_LINE = 16
PALETTE = ("#1b5e20", "#2e7d32", "#388e3c", "#0d47a1", "#1565c0", "#4527a0")

# Art. 8 minimum recycled shares (%): from 18 August 2031 and from 18 August 2036.
MINIMUM_2031 = {"Co": 16.0, "Pb": 85.0, "Li": 6.0, "Ni": 6.0}
MINIMUM_2036 = {"Co": 26.0, "Pb": 85.0, "Li": 12.0, "Ni": 15.0}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    unit: str


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _svg(title: str, chart_id: str, height: int, parts: Sequence[str]) -> str:
    return (f'<svg class="chart" role="img" aria-labelledby="{chart_id}" viewBox="0 0 {WIDTH} {height}" '
            f'width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{chart_id}">{escape(title)}</title>' + "".join(parts) + "</svg>")


def bar_chart(title: str, bars: Sequence[Bar], chart_id: str, number: Callable[[float], str] = _fmt) -> str:
    """Horizontal bars scaled to the largest value, each with its label above and its number to its right."""
    top = max((b.value for b in bars), default=0.0) or 1.0
    row = LABEL_H + BAR_H + GAP
    rows = []
    for i, bar in enumerate(bars):
        y = GAP + i * row
        length = max(1.0, (WIDTH - VALUE_W) * bar.value / top)
        rows.append(
            f'<text x="0" y="{y + 12}" font-size="12" fill="#1a1a1a">{escape(bar.label)}</text>'
            f'<rect x="0" y="{y + LABEL_H}" width="{length:.1f}" height="{BAR_H}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{length + 6:.1f}" y="{y + LABEL_H + 12}" font-size="12" fill="#1a1a1a">'
            f"{escape(number(bar.value))} {escape(bar.unit)}</text>"
        )
    return _svg(title, chart_id, len(bars) * row + GAP, rows)


def recycled_chart(title: str, shares: Sequence[tuple[str, float, float]], labels: dict[str, str],
                   chart_id: str, legend: tuple[str, str, str, str]) -> str:
    """Per metal: pre-consumer and post-consumer shares stacked on a 0–100 % axis, with the Art. 8 minimum shares
    for 2031 (dashed) and 2036 (solid) marked."""
    scale = (WIDTH - LABEL_W - 10) / 100
    legend_y = GAP + len(shares) * (BAR_H + GAP) + 4
    height = legend_y + 4 * LEGEND_LINE
    parts = []
    for i, (metal, pre, post) in enumerate(shares):
        y = GAP + i * (BAR_H + GAP)
        parts.append(f'<text x="0" y="{y + 12}" font-size="12" fill="#1a1a1a">{escape(labels.get(metal, metal))}'
                     "</text>")
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{100 * scale:.1f}" height="{BAR_H}" fill="#eeeeee"/>')
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{pre * scale:.1f}" height="{BAR_H}" fill="#1565c0"/>')
        post = min(post, 100.0 - pre)  # the axis ends at 100 %
        parts.append(f'<rect x="{LABEL_W + pre * scale:.1f}" y="{y}" width="{post * scale:.1f}" height="{BAR_H}" '
                     'fill="#2e7d32"/>')
        for minimum, dash in ((MINIMUM_2031, "4 3"), (MINIMUM_2036, "")):
            if metal in minimum:
                x = LABEL_W + minimum[metal] * scale
                dashed = f' stroke-dasharray="{dash}"' if dash else ""
                parts.append(f'<line x1="{x:.1f}" y1="{y - 3}" x2="{x:.1f}" y2="{y + BAR_H + 3}" stroke="#b71c1c" '
                             f'stroke-width="2"{dashed}/>')
    parts += _legend(legend, legend_y)
    return _svg(title, chart_id, height, parts)


_LINE = '<line x1="0" y1="{m}" x2="12" y2="{m}" stroke="#b71c1c" stroke-width="2"{dash}/>'
LEGEND_MARKS = (
    '<rect x="0" y="{y}" width="12" height="10" fill="#1565c0"/>',  # pre-consumer
    '<rect x="0" y="{y}" width="12" height="10" fill="#2e7d32"/>',  # post-consumer
    _LINE.replace("{dash}", ' stroke-dasharray="4 3"'),  # minimum 2031
    _LINE.replace("{dash}", ""),  # minimum 2036
)


def _legend(labels: Sequence[str], top: int) -> list[str]:
    """One entry a line: translated labels have any length."""
    parts = []
    for line, (label, mark) in enumerate(zip(labels, LEGEND_MARKS, strict=True)):
        y = top + line * LEGEND_LINE
        parts.append(mark.format(y=y, m=y + 5) + f'<text x="18" y="{y + 9}" font-size="11" fill="#1a1a1a">'
                     f"{escape(label)}</text>")
    return parts


__all__ = ["MINIMUM_2031", "MINIMUM_2036", "Bar", "bar_chart", "recycled_chart"]
