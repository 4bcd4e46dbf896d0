"""Charts of the HTML report: SVG drawn here by pygal, inlined in the page, no script at all.

Usage::

    svg = bar_chart("Why rows were not sent", [("phone_invalid", 12), ("duplicate", 3)])
    svg = timeline_chart(["07:32:00", "07:32:30"], {"first sends": [4, 2], "retries": [0, 1]})

Why pygal: it renders the whole chart on the server as SVG, so the page shows it with
JavaScript off, in a mail client's preview, or printed; a 25-bar chart costs ~15 kB, where
plotly would embed ~4.5 MB of JavaScript in every report and draw nothing without it. pygal is
pure Python (~1 MB installed, one small dependency). It does add a ``<script>`` holding its
config (for its optional tooltips, which would load from a CDN): :func:`_offline` strips every
script and comment from the tree before it is written, so the page makes no request and runs
no code. Text (labels, titles) goes through the XML serializer, which escapes ``<`` and ``&``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import pygal
from pygal.style import Style

# pygal appends a legacy finder (no find_spec) to sys.meta_path for its map plugins, which we
# do not use; from then on every import that reaches it (a missing optional module anywhere
# in the process) raises ImportWarning. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal"]

# Local fonts only: a font family pygal does not know would make it @import a web font.
_FONT = '"DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif'
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#222222",
    foreground_strong="#111111",
    foreground_subtle="#777777",
    font_family=_FONT,
    label_font_size=12,
    major_label_font_size=12,
    value_font_size=12,
    title_font_size=15,
    legend_font_size=12,
    colors=("#2f6db5", "#e08a1e", "#c43c39", "#3a9a5b", "#7d5ba6"),
    opacity="1",  # solid bars: pygal's default .8 washes the colours out on white
    opacity_hover=".85",
)
WIDTH = 1000  # the page's content width: text in the SVG is drawn at its own size
BAR_ROOM = 26  # pixels per bar of a horizontal chart


def _offline(root: Any) -> Any:
    """pygal's xml filter: drop scripts and comments (both etree flavours)."""
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag
            if not isinstance(tag, str) or tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def int_ticks(top: int, *, most: int = 10) -> list[int]:
    """Whole-number axis ticks from 0 past ``top``: counts have no 0.1 steps."""
    step = 1
    while top / step > most:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2  # 1, 2, 5, 10, 20, 50, ...
    last = -(-max(top, 1) // step) * step
    return list(range(0, last + 1, step))


def _render(chart: Any) -> str:
    chart.add_xml_filter(_offline)
    svg = chart.render(is_unicode=True)
    assert isinstance(svg, str)
    return svg


def bar_chart(title: str, items: Sequence[tuple[str, int]], *, series: str = "rows") -> str:
    """A horizontal bar per ``(label, value)``, biggest on top, values printed on the bars."""
    ordered = list(reversed(items))  # pygal draws the first label at the bottom
    chart = pygal.HorizontalBar(
        style=STYLE,
        width=WIDTH,
        height=90 + BAR_ROOM * max(len(items), 1),
        js=[],
        disable_xml_declaration=True,
        show_legend=False,
        print_values=True,
        truncate_label=48,
        margin=12,
        title=title,
        no_data_text="nothing to show",
    )
    chart.x_labels = [label for label, _ in ordered]
    chart.y_labels = int_ticks(max((value for _, value in items), default=0))
    chart.add(series, [value for _, value in ordered])
    return _render(chart)


def timeline_chart(labels: Sequence[str], series: Mapping[str, Sequence[int]], title: str) -> str:
    """Grouped vertical bars per time bucket, one colour per series (with a legend)."""
    chart = pygal.Bar(
        style=STYLE,
        width=WIDTH,
        height=300,
        js=[],
        disable_xml_declaration=True,
        legend_at_bottom=True,
        x_label_rotation=35 if len(labels) > 8 else 0,
        show_minor_x_labels=len(labels) <= 12,
        x_labels_major_every=max(len(labels) // 6, 1),
        margin=12,
        title=title,
        no_data_text="no sends",
    )
    chart.x_labels = list(labels)
    chart.y_labels = int_ticks(max((max(v, default=0) for v in series.values()), default=0))
    for name, values in series.items():
        chart.add(name, list(values))
    return _render(chart)
