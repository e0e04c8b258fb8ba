"""Server-drawn SVG charts (outcomes/charts.py): numbers in, escaped markup out."""

import re

from opencx_bridge.outcomes import charts


def test_lines_draw_one_polyline_per_series_and_leave_gaps_for_none():
    svg = charts.lines(["0.00", "0.50", "1.00"],
                       [("right", "right <when> answered", [50.0, None, 100.0]),
                        ("answered", "answered", [None, None, None])],
                       "Share & threshold", top=100)
    assert svg.startswith('<svg class="chart"') and svg.endswith("</svg>")
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 2
    points = re.search(r'<polyline class="line right" points="([^"]+)"', svg).group(1)
    (x1, y1), (x2, y2) = (tuple(map(float, p.split(","))) for p in points.split())
    assert x1 < x2 and y2 < y1  # 100 % is drawn higher than 50 %
    assert "right &lt;when&gt; answered 50" in svg and 'aria-label="Share &amp; threshold"' in svg


def test_stacked_bars_skip_empty_parts_and_escape_labels():
    svg = charts.stacked_bars(["<a>", "b"], [("ok", "done", [1, 0]), ("warn", "left", [2, 3])],
                              "Per day")
    assert svg.count("<rect") == 3 and "&lt;a&gt;" in svg
