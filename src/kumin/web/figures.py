"""Every series a chart shows, as a CSV a person opens in Excel (#14).

A chart's figure (the Plotly dict ``kumin.js`` draws) is turned into a long
table: one row per point of every series, with the series' 95% band where the
chart draws one. Built from the very figure the page draws, so the file holds
exactly what the chart shows, no more (no record-level values) and no less. The
CSV is :func:`kumin.core.tabular.csv_bytes`: UTF-8 with BOM, every cell
neutralised (a series named ``=cmd|…`` stays text).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

from kumin.core.i18n import t


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("text", "")
    return re.sub(r"<[^>]+>", " ", str(value or "")).strip()


def _axis_title(layout: dict[str, Any], ref: str) -> str:
    """The title of axis ``x``, ``x2``, ``y3``…: ``xaxis``, ``xaxis2`` in the layout."""
    name = f"{ref[0]}axis{ref[1:]}"
    return _text((layout.get(name) or {}).get("title"))


def _panels(layout: dict[str, Any]) -> dict[str, str]:
    """Panel labels of a grid (small multiples): the annotation set on each x axis."""
    out = {}
    for note in layout.get("annotations") or []:
        ref = str(note.get("xref", ""))
        if ref.endswith(" domain"):
            out[ref.removesuffix(" domain")] = _text(note.get("text"))
    return out


def figure_rows(fig: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of every series in ``fig``, bands joined to their series.

    ``kumin.reports.charts.to_plotly`` and the small multiples draw a band as two
    traces before its line: the upper bound (no fill, no hover) and the lower
    bound filled to it (``fill: tonexty``).
    """
    layout = fig.get("layout") or {}
    figure = _text(layout.get("title"))
    panels = _panels(layout)
    header = [
        t("core.figure_csv.figure", lang),
        t("core.figure_csv.panel", lang),
        t("core.figure_csv.series", lang),
        _axis_title(layout, "x") or t("core.figure_csv.x", lang),
        # several value axes (stacked panels) hold different measures: no one title
        ("yaxis2" not in layout and _axis_title(layout, "y")) or t("core.figure_csv.y", lang),
        t("core.figure_csv.lower", lang),
        t("core.figure_csv.upper", lang),
    ]
    rows: list[list[Any]] = []
    upper: list[Any] | None = None
    lower: list[Any] | None = None
    for trace in fig.get("data") or []:
        ys = list(trace.get("y") or trace.get("values") or [])
        if trace.get("fill") == "tonexty":
            lower = ys
            continue
        if trace.get("hoverinfo") == "skip" and not trace.get("name"):
            upper = ys
            continue
        xs = list(trace.get("x") or trace.get("labels") or range(len(ys)))
        axis = str(trace.get("xaxis", "x"))
        name = _text(trace.get("name"))
        panel = panels.get(axis, "")
        band = lower is not None and upper is not None and len(lower) == len(upper) == len(ys)
        # a series whose band is drawn in pieces (gaps) carries its bounds itself
        bounds = trace.get("customdata")
        if not (isinstance(bounds, list) and len(bounds) == len(ys)):
            bounds = None
        for i, (x, y) in enumerate(zip(xs, ys, strict=False)):
            if bounds is not None:
                lo, hi = bounds[i][0], bounds[i][1]
            else:
                lo, hi = (lower[i], upper[i]) if band else (None, None)
            rows.append([figure, panel, name, x, y, lo, hi])
        upper = lower = None
    if not any(panels.values()):  # one panel: no column to fill
        header.pop(1)
        rows = [r[:1] + r[2:] for r in rows]
    return header, rows


def figure_csv(fig: dict[str, Any], lang: str, name: str) -> Response:
    """The figure's series as ``name``.csv (UTF-8 with BOM)."""
    from kumin.core.tabular import csv_bytes

    header, rows = figure_rows(fig, lang)
    filename = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "chart"
    return Response(
        csv_bytes(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{filename}.csv\"; filename*=UTF-8''{quote(filename)}.csv"
            )
        },
    )
