"""Figures of the epi pages that the shared charts do not draw (#14).

- the delays: for each interval, the observed delays (a histogram, as shares of
  the cases) with the fitted gamma, lognormal and Weibull overlaid, the one AIC
  chose drawn solid;
- growth: the growth rate per day and the doubling (or halving) time over time,
  each with its 95% interval.

Plotly dicts, drawn by ``kumin.js`` like every chart; bands follow the
convention of :func:`kumin.reports.charts.to_plotly` (upper bound, then the lower
bound filled to it) so :func:`kumin.web.figures.figure_rows` exports them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from kumin.core.i18n import t
from kumin.reports.charts import PALETTE

FAMILY_COLOURS = {"gamma": PALETTE[0], "lognormal": PALETTE[1], "weibull": PALETTE[2]}
OBSERVED = "#9aa5b1"
#: the delays drawn: 0 … MAX_DAYS days (longer delays still count in the shares)
MAX_DAYS = 21
FONT = {"family": "Noto Sans CJK JP, sans-serif"}


def _band(x: list[Any], lower: list[Any], upper: list[Any], colour: str, axes: dict) -> list:
    """A 95% band as one (upper, lower filled to it) pair of traces per stretch of days
    that has both bounds: a band drawn across a gap would cover days without estimate."""
    line = {"type": "scatter", "mode": "lines", "line": {"width": 0}, "hoverinfo": "skip"}
    out: list[dict[str, Any]] = []
    run: list[int] = []
    for i in [*range(len(x)), None]:
        if i is not None and lower[i] is not None and upper[i] is not None:
            run.append(i)
            continue
        if run:
            xs = [x[k] for k in run]
            out.append({"x": xs, "y": [upper[k] for k in run], "showlegend": False, **line, **axes})
            out.append(
                {"x": xs, "y": [lower[k] for k in run], "fill": "tonexty",
                 "fillcolor": colour + "33", "showlegend": False, **line, **axes}
            )  # fmt: skip
        run = []
    return out


def observed_delays(frame: pl.DataFrame, start: str, end: str, intervals: dict) -> dict:
    """Per interval: (count of each delay 0…:data:`MAX_DAYS`, number of cases), from the
    cases the fit used (result date in ``start``…``end``; delays ≥ 0 days)."""
    lo, hi = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    used = frame.filter(pl.col("result_date").is_between(lo, hi))
    out = {}
    for name, (a, b) in intervals.items():
        pair = used.select(a, b).drop_nulls()
        days = pair.select((pl.col(b) - pl.col(a)).dt.total_days().alias("d"))["d"]
        days = days.filter(days >= 0).to_numpy()
        counts = np.bincount(days[days <= MAX_DAYS].astype(int), minlength=MAX_DAYS + 1)
        out[name] = (counts[: MAX_DAYS + 1], len(days))
    return out


def delays_figure(fits: pl.DataFrame, observed: dict, lang: str) -> dict[str, Any]:
    """One panel per interval: observed shares as bars, the three fitted families as lines."""
    from kumin.epi.delays import DelayDistribution

    if "stratum" in fits.columns:
        fits = fits.filter(pl.col("stratum").is_null())
    intervals = list(dict.fromkeys(fits["interval"].to_list()))
    columns = 2 if len(intervals) > 1 else 1
    rows = -(-len(intervals) // columns)
    days = list(range(MAX_DAYS + 1))
    data: list[dict[str, Any]] = []
    annotations = []
    layout: dict[str, Any] = {}
    for i, interval in enumerate(intervals):
        axis = "" if i == 0 else str(i + 1)
        axes = {"xaxis": f"x{axis}", "yaxis": f"y{axis}"}
        counts, n = observed.get(interval, (np.zeros(MAX_DAYS + 1), 0))
        shares = [float(c) / n if n else None for c in counts]
        data.append(
            {
                "x": days,
                "y": shares,
                "type": "bar",
                "name": t("epi.fig.observed", lang),
                "legendgroup": "observed",
                "showlegend": i == 0,
                "marker": {"color": OBSERVED},
                **axes,
            }
        )
        part = fits.filter(pl.col("interval") == interval)
        chosen = ""
        for row in part.iter_rows(named=True):
            family = row["family"]
            label = t(f"epi.model_warning.family.{family}", lang)
            if row["best"]:
                chosen = label
            pmf = getattr(DelayDistribution, family)(row["param1"], row["param2"])
            data.append(
                {
                    "x": days,
                    "y": pmf.pmf(MAX_DAYS, normalise=False).tolist(),
                    "type": "scatter",
                    "mode": "lines",
                    "name": label,
                    "legendgroup": family,
                    "showlegend": i == 0,
                    "line": {
                        "color": FAMILY_COLOURS.get(family, PALETTE[3]),
                        "width": 3 if row["best"] else 1.5,
                        "dash": "solid" if row["best"] else "dash",
                    },
                    **axes,
                }
            )
        title = t(f"epi.interval.{interval}", lang)
        text = t("epi.fig.delay_panel", lang, interval=title, family=chosen, n=f"{n:,}")
        annotations.append({"text": text, "xref": f"x{axis} domain", "yref": f"y{axis} domain",
                            "x": 0, "y": 1.02, "showarrow": False, "xanchor": "left",
                            "yanchor": "bottom"})  # fmt: skip
        layout[f"xaxis{axis}"] = {"title": {"text": t("epi.fig.days", lang)}, "dtick": 7}
        layout[f"yaxis{axis}"] = {
            "title": {"text": t("epi.fig.share", lang)},
            "rangemode": "tozero",
        }
    layout.update(
        title={"text": t("epi.fig.delays_observed", lang)},
        grid={"rows": rows, "columns": columns, "pattern": "independent", "ygap": 0.4},
        height=max(320, 300 * rows),
        annotations=annotations,
        barmode="overlay",
        margin={"t": 64, "r": 16, "b": 96, "l": 56},
        legend={"orientation": "h", "y": -0.12, "yanchor": "top"},
        font=FONT,
    )
    return {"data": data, "layout": layout}


#: doubling times beyond this many days say "flat": the axis stops there
DOUBLING_AXIS_DAYS = 60


def growth_figure(frame: pl.DataFrame, lang: str) -> dict[str, Any]:
    """Growth rate per day (top) and doubling / halving time (bottom), with 95% intervals."""
    if "region" in frame.columns:
        frame = frame.filter(pl.col("region").is_null())
    x = [d.isoformat() for d in frame["date"].to_list()]

    def col(name: str) -> list[Any]:
        return [None if v is None or not np.isfinite(v) else v for v in frame[name].to_list()]

    top, bottom = {"xaxis": "x", "yaxis": "y"}, {"xaxis": "x", "yaxis": "y2"}
    data: list[dict[str, Any]] = []

    def series(value: str, lower: str, upper: str, name: str, colour: str, axes: dict) -> None:
        lo, hi = col(lower), col(upper)
        shown_hi = hi
        if axes is bottom:  # an unbounded interval (r may be 0) is drawn to the axis' end
            shown_hi = [
                h if h is not None else (2 * DOUBLING_AXIS_DAYS if v is not None else None)
                for h, v in zip(hi, lo, strict=True)
            ]
        data.extend(_band(x, lo, shown_hi, colour, axes))
        data.append(
            {"x": x, "y": col(value), "type": "scatter", "mode": "lines", "name": name,
             "line": {"color": colour}, "customdata": [list(p) for p in zip(lo, hi, strict=True)],
             **axes}
        )  # fmt: skip

    series("r", "r_lower", "r_upper", t("epi.fig.growth_rate", lang), PALETTE[0], top)
    for name, colour in (("doubling", PALETTE[1]), ("halving", PALETTE[2])):
        label = t(f"epi.fig.{name}_time", lang)
        series(f"{name}_time", f"{name}_lower", f"{name}_upper", label, colour, bottom)
    layout = {
        "title": {"text": t("epi.fig.growth", lang)},
        "xaxis": {"title": {"text": t("epi.fig.window_end", lang)}, "anchor": "y2"},
        "yaxis": {
            "title": {"text": t("epi.fig.growth_axis", lang)},
            "domain": [0.56, 1],
            "zeroline": True,
        },  # fmt: skip
        "yaxis2": {
            "title": {"text": t("epi.fig.days_axis", lang)},
            "domain": [0, 0.44],
            "range": [0, DOUBLING_AXIS_DAYS],
        },  # fmt: skip
        "height": 560,
        "shapes": [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": 0,
                "y1": 0,
                "line": {"color": "#888", "dash": "dot"},
            }
        ],  # fmt: skip
        "margin": {"t": 48, "r": 16, "b": 96, "l": 64},
        "legend": {"orientation": "h", "y": -0.14, "yanchor": "top", "traceorder": "normal"},
        "font": FONT,
    }
    return {"data": data, "layout": layout}
