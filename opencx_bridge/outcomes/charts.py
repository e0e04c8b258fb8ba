"""Bar charts as SVG markup, drawn on the server: no script, no CDN, nothing inline that
the content security policy forbids (colours come from CSS classes). Pure: numbers in,
markup out, every text escaped."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, AXIS = 960, 200, 24  # the viewBox; the SVG scales to its container


def stacked_bars(labels: list[str], series: list[tuple[str, str, list[float]]],
                 title: str) -> str:
    """One bar per label, stacked from `series` (css class, legend name, values)."""
    totals = [sum(values[i] for _, _, values in series) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    slot = WIDTH / max(1, len(labels))
    bar = max(1.0, slot * 0.7)
    parts = [_open(title)]
    for i, label in enumerate(labels):
        x, base = i * slot + (slot - bar) / 2, HEIGHT - AXIS
        for css, name, values in series:
            height = (HEIGHT - AXIS - 8) * values[i] / top
            if height <= 0:
                continue
            base -= height
            parts.append(f'<rect class="{css}" x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" '
                         f'height="{height:.1f}"><title>{escape(label)}: {escape(name)} '
                         f'{values[i]:g}</title></rect>')
        if _shows_label(i, len(labels)):
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 6}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text x="2" y="12">{top:g}</text></svg>')
    return "".join(parts)


def bars(labels: list[str], values: list[float | None], title: str, unit: str = "") -> str:
    """One bar per label; None draws nothing (no data that day)."""
    return stacked_bars(labels, [("bar", unit or "value", [v or 0 for v in values])], title)


def lines(labels: list[str], series: list[tuple[str, str, list[float | None]]], title: str,
          top: float | None = None) -> str:
    """One line per series (css class, legend name, values) over the labels; a None value
    leaves a gap. `top` fixes the height of the scale (e.g. 100 for percentages)."""
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = top or max(values, default=0) or 1
    slot = WIDTH / max(1, len(labels))
    parts = [_open(title)]
    for css, name, points in series:
        drawn = [(i * slot + slot / 2, HEIGHT - AXIS - (HEIGHT - AXIS - 8) * v / top, v)
                 for i, v in enumerate(points) if v is not None]
        if drawn:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in drawn)
            parts.append(f'<polyline class="line {css}" points="{path}"/>')
        for (x, y, v), label in zip(drawn, (labels[i] for i, p in enumerate(points)
                                              if p is not None), strict=True):
            parts.append(f'<circle class="dot {css}" cx="{x:.1f}" cy="{y:.1f}" r="4">'
                         f'<title>{escape(label)}: {escape(name)} {v:.0f}</title></circle>')
    for i, label in enumerate(labels):
        if _shows_label(i, len(labels)):
            parts.append(f'<text x="{i * slot + slot / 2:.1f}" y="{HEIGHT - 6}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<text x="2" y="12">{top:g}</text></svg>')
    return "".join(parts)


def legend(series: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><span class="swatch {css}"></span>{escape(name)}</li>'
                    for css, name in series)
    return f'<ul class="legend">{items}</ul>'


def _open(title: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>'
            f'<line class="axis" x1="0" y1="{HEIGHT - AXIS}" x2="{WIDTH}" y2="{HEIGHT - AXIS}"/>')


def _shows_label(index: int, count: int) -> bool:
    """At most about eight labels under the axis, always the first and the last."""
    step = max(1, -(-count // 8))
    return index % step == 0 or index == count - 1
