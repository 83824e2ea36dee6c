"""Charts: one description, two renderings — interactive Plotly in the web pages,
SVG (matplotlib) inside HTML reports and their PDF.

A :class:`Chart` holds series of x/y values, optional interval bands and
reference lines; nothing here knows where the data came from.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PALETTE = ["#0b5cad", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#1098ad", "#5c940d"]


@dataclass
class Series:
    name: str
    x: Sequence[Any]
    y: Sequence[float | None]
    kind: str = "line"  # line, bar, or markers
    lower: Sequence[float | None] | None = None  # interval band (e.g. 95%)
    upper: Sequence[float | None] | None = None
    color: str | None = None
    dash: bool = False


@dataclass
class Chart:
    title: str
    series: list[Series] = field(default_factory=list)
    x_title: str = ""
    y_title: str = ""
    hlines: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    vlines: list[tuple[Any, str]] = field(default_factory=list)  # (x, label)
    stacked: bool = False
    log_y: bool = False

    def add(self, *series: Series) -> Chart:
        self.series.extend(series)
        return self


def _color(i: int, s: Series) -> str:
    return s.color or PALETTE[i % len(PALETTE)]


def _jsonable(values: Sequence[Any] | None) -> list[Any] | None:
    if values is None:
        return None
    return [v.isoformat() if hasattr(v, "isoformat") else v for v in values]


def to_plotly(chart: Chart) -> dict[str, Any]:
    """A Plotly figure as a JSON-ready dict (drawn by static/kumin.js)."""
    data: list[dict[str, Any]] = []
    for i, s in enumerate(chart.series):
        color = _color(i, s)
        x = _jsonable(s.x)
        if s.lower is not None and s.upper is not None:
            data.append(
                {
                    "x": x,
                    "y": list(s.upper),
                    "type": "scatter",
                    "mode": "lines",
                    "line": {"width": 0},
                    "showlegend": False,
                    "hoverinfo": "skip",
                }
            )
            data.append(
                {
                    "x": x,
                    "y": list(s.lower),
                    "type": "scatter",
                    "mode": "lines",
                    "line": {"width": 0},
                    "fill": "tonexty",
                    "fillcolor": color + "33",
                    "name": s.name + " (95%)",
                    "hoverinfo": "skip",
                }
            )
        if s.kind == "bar":
            data.append(
                {"x": x, "y": list(s.y), "type": "bar", "name": s.name, "marker": {"color": color}}
            )
        else:
            mode = "markers" if s.kind == "markers" else "lines"
            data.append(
                {
                    "x": x,
                    "y": list(s.y),
                    "type": "scatter",
                    "mode": mode,
                    "name": s.name,
                    "line": {"color": color, "dash": "dash" if s.dash else "solid"},
                }
            )
    shapes, annotations = [], []
    for y, label in chart.hlines:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": y,
                "y1": y,
                "line": {"color": "#888", "dash": "dot"},
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "x": 1,
                "y": y,
                "text": label,
                "showarrow": False,
                "xanchor": "right",
                "yanchor": "bottom",
            }
        )
    for x, label in chart.vlines:
        xv = x.isoformat() if hasattr(x, "isoformat") else x
        shapes.append(
            {
                "type": "line",
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "x0": xv,
                "x1": xv,
                "line": {"color": "#888", "dash": "dot"},
            }
        )
        annotations.append(
            {
                "yref": "paper",
                "y": 1,
                "x": xv,
                "text": label,
                "showarrow": False,
                "textangle": -90,
                "xanchor": "right",
                "yanchor": "top",
            }
        )
    layout = {
        "title": {"text": chart.title},
        "xaxis": {"title": {"text": chart.x_title}},
        "yaxis": {"title": {"text": chart.y_title}, "type": "log" if chart.log_y else "linear"},
        "barmode": "stack" if chart.stacked else "group",
        "shapes": shapes,
        "annotations": annotations,
        # the legend sits below the axis title, never over it (#14)
        "margin": {"t": 48, "r": 16, "b": 96, "l": 56},
        "legend": {"orientation": "h", "y": -0.2, "yanchor": "top"},
        "font": {"family": "Noto Sans CJK JP, sans-serif"},
    }
    return {"data": data, "layout": layout}


def to_svg(chart: Chart, width: float = 7.0, height: float = 3.2) -> str:
    """The chart as an SVG string for reports (Japanese text in Noto Sans CJK JP)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = ["Noto Sans CJK JP", "DejaVu Sans"]
    plt.rcParams["svg.fonttype"] = "path"  # no font needed where the SVG is shown
    fig, ax = plt.subplots(figsize=(width, height))
    try:
        bottoms: list[float] | None = None
        for i, s in enumerate(chart.series):
            color = _color(i, s)
            if s.lower is not None and s.upper is not None:
                ax.fill_between(
                    list(s.x), _nan(s.lower), _nan(s.upper), color=color, alpha=0.2, linewidth=0
                )
            if s.kind == "bar":
                ys = _nan(s.y)
                if chart.stacked and bottoms is not None:
                    ax.bar(list(s.x), ys, bottom=bottoms, color=color, label=s.name, width=1.0)
                    bottoms = [b + (y if y == y else 0) for b, y in zip(bottoms, ys, strict=True)]
                else:
                    ax.bar(list(s.x), ys, color=color, label=s.name, width=1.0)
                    bottoms = [y if y == y else 0 for y in ys]
            else:
                ax.plot(
                    list(s.x),
                    _nan(s.y),
                    color=color,
                    label=s.name,
                    linestyle="--" if s.dash else "-",
                    marker="o" if s.kind == "markers" else None,
                    linewidth=0 if s.kind == "markers" else 1.5,
                    markersize=3,
                )
        for y, label in chart.hlines:
            ax.axhline(y, color="#888", linestyle=":", linewidth=1)
            ax.annotate(
                label,
                (1, y),
                xycoords=("axes fraction", "data"),
                ha="right",
                va="bottom",
                fontsize=8,
                color="#555",
            )
        for x, _label in chart.vlines:
            ax.axvline(x, color="#888", linestyle=":", linewidth=1)
        if chart.log_y:
            ax.set_yscale("log")
        ax.set_title(chart.title, fontsize=11)
        ax.set_xlabel(chart.x_title)
        ax.set_ylabel(chart.y_title)
        ax.grid(alpha=0.3)
        if len(chart.series) > 1:
            ax.legend(fontsize=8, frameon=False)
        fig.autofmt_xdate()
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        svg = buf.getvalue()
        return svg[svg.index("<svg") :]
    finally:
        plt.close(fig)


def _nan(values: Sequence[float | None]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]
