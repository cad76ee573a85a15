"""Bar charts as server-rendered SVG: no JavaScript, printable, with `<title>` and `<desc>`.

The SVG is an image (`role="img"`) named by its title and described by its desc; the page
puts the same figures in a table right beside it, so no reader depends on the drawing.
Colours are presentation attributes (allowed by the strict CSP), in DSFR blue on white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR = "#000091"
AXIS = "#666666"
TEXT = "#161616"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    value_label: str


def _text(x: float, y: float, content: str, *, anchor: str = "middle", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"'
        f' fill="{TEXT}">{escape(content)}</text>'
    )


def _open(ident: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="aplus-chart" role="img"'
        f' viewBox="0 0 {width} {height}" aria-labelledby="{ident}-titre {ident}-desc"'
        f' preserveAspectRatio="xMinYMin meet">',
        f'<title id="{ident}-titre">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def columns(ident: str, title: str, desc: str, bars: Sequence[Bar]) -> Markup:
    """Vertical bars (one per month), value written above each bar."""
    width, height, top, bottom, left = 640, 260, 24, 44, 8
    plot_h = height - top - bottom
    step = (width - left * 2) / max(len(bars), 1)
    peak = max((b.value for b in bars), default=0) or 1
    out = _open(ident, title, desc, width, height)
    out.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}"'
        f' stroke="{AXIS}" stroke-width="1"/>'
    )
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / peak
        x = left + i * step + step * 0.15
        y = height - bottom - h
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}"'
            f' fill="{BAR}"/>'
        )
        centre = x + step * 0.35
        out.append(_text(centre, y - 4, bar.value_label, size=11))
        out.append(_text(centre, height - bottom + 16, bar.label, size=11))
    out.append("</svg>")
    return Markup("".join(out))


def shares(ident: str, title: str, desc: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars of shares (0 to 1), label on the left, percentage on the right."""
    width, row, label_w, value_w = 640, 34, 250, 70
    height = row * max(len(bars), 1) + 10
    plot_w = width - label_w - value_w
    out = _open(ident, title, desc, width, height)
    for i, bar in enumerate(bars):
        y = 5 + i * row
        w = plot_w * max(0.0, min(bar.value, 1.0))
        out.append(_text(label_w - 8, y + 19, bar.label, anchor="end", size=13))
        out.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row - 12}"'
            f' fill="none" stroke="{AXIS}" stroke-width="1"/>'
        )
        out.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 12}" fill="{BAR}"/>'
        )
        out.append(_text(label_w + plot_w + 8, y + 19, bar.value_label, anchor="start", size=13))
    out.append("</svg>")
    return Markup("".join(out))
