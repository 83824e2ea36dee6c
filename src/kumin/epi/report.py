"""Figures of the epi pages and ``kumin report epi``, the analysis report.

The chart builders turn the service's frames into :class:`kumin.reports.charts.Chart`
descriptions, drawn as Plotly in the web pages and as SVG in the report (HTML or
PDF). The report is in Japanese or English; its public tables hide small cells
(1 … ``settings.small_cell`` − 1) and the complementary cells that keep them from
being worked out from the total (:func:`kumin.cases.tables.protect_table`).
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import polars as pl

from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.epi import service
from kumin.errors import KuminError
from kumin.reports.charts import Chart, Series

# -- figures ------------------------------------------------------------------------------


def _cap(values: pl.Series, factor: float, low: float, high: float) -> float:
    """A y-axis top: ``factor`` times the 95th percentile of ``values``, within [low, high]."""
    q = values.drop_nulls().drop_nans().quantile(0.95) if values.len() else None
    return float(min(max(factor * (q or 0.0), low), high))


def curve_chart(
    curve: pl.DataFrame, nowcast: pl.DataFrame | None, lang: str, *, bars: bool = True
) -> Chart:
    """Daily cases by onset (bars; a thin line in print), the 7-day mean and the
    nowcast with its 95% prediction band."""
    chart = Chart(
        t("epi.fig.curve", lang),
        x_title=t("epi.fig.onset_date", lang),
        y_title=t("epi.fig.cases", lang),
    )
    chart.add(
        Series(
            t("epi.fig.reported", lang),
            curve["date"].to_list(),
            curve["cases"].to_list(),
            "bar" if bars else "line",
            color=None if bars else "#9aa5b1",
        ),
        Series(t("epi.fig.mean7", lang), curve["date"].to_list(), curve["cases_avg"].to_list()),
    )
    top = float(curve["cases"].max() or 1)
    if nowcast is not None and nowcast.height:
        # the last days, barely reported yet, may have huge upper bounds: open the page on
        # a range that shows the days at least half reported, and let the user zoom out
        half = nowcast.filter(pl.col("observed") >= 0.5 * pl.col("median"))
        top = max(top, float(half["upper_95"].max() or 0))
        chart.add(
            Series(
                t("epi.fig.nowcast", lang),
                nowcast["date"].to_list(),
                nowcast["median"].to_list(),
                lower=nowcast["lower_95"].to_list(),
                upper=nowcast["upper_95"].to_list(),
                color="#862e9c",
            )
        )
        if "reliable" in nowcast.columns:  # days nowcast from the trend: marked, not hidden
            weak = nowcast.filter(~pl.col("reliable"))
            if weak.height:
                chart.add(
                    Series(
                        t("epi.fig_nowcast.unreliable", lang),
                        weak["date"].to_list(),
                        weak["median"].to_list(),
                        "markers",
                        color="#e8590c",
                    )
                )
    chart.y_max = 1.15 * top
    if not bars:  # print has no zoom: cut the nowcast at the top of the reported curve
        chart.y_max = 1.3 * float(curve["cases"].max() or 1)
        for series in chart.series:
            if series.kind == "markers":
                series.y = [None if v is None else min(v, chart.y_max) for v in series.y]
            if series.upper is not None:
                series.upper = [None if u is None else min(u, chart.y_max) for u in series.upper]
                series.lower = [None if u is None else min(u, chart.y_max) for u in series.lower]
                series.y = [None if v is None else min(v, chart.y_max) for v in series.y]
    return chart


def rt_chart(
    rt: pl.DataFrame, lang: str, simple: pl.DataFrame | None = None, title: str = ""
) -> Chart:
    """Rt with its 95% interval and the threshold 1 (and the media formula, dashed).

    Windows with few cases have very wide intervals; the band is drawn up to
    ``chart.y_max`` (about 1.5 times the usual Rt, between 3 and 6) so that the
    rest stays readable, and the web page opens on that range.
    """
    rt = rt.drop_nulls("r_median")
    cap = _cap(rt["r_median"], 1.5, 3.0, 6.0)
    rt = rt.with_columns(pl.col("r_median", "r_lower", "r_upper").clip(upper_bound=cap))
    chart = Chart(
        title or t("epi.fig.rt", lang),
        x_title=t("epi.fig.window_end", lang),
        y_title="Rt",
        hlines=[(1.0, "Rt = 1")],
    )
    chart.add(
        Series(
            t("epi.fig.rt_model", lang),
            rt["date"].to_list(),
            rt["r_median"].to_list(),
            lower=rt["r_lower"].to_list(),
            upper=rt["r_upper"].to_list(),
        )
    )
    if simple is not None:
        s = simple.drop_nulls("r_median").with_columns(pl.col("r_median").clip(upper_bound=cap))
        chart.add(
            Series(
                t("epi.fig.rt_simple", lang),
                s["date"].to_list(),
                s["r_median"].to_list(),
                dash=True,
            )
        )
    chart.y_max = cap
    return chart


def delays_chart(delays: pl.DataFrame, lang: str, max_days: int = 21) -> Chart:
    """The chosen distribution of each delay as daily probabilities."""
    from kumin.epi.delays import DelayDistribution

    chart = Chart(
        t("epi.fig.delays", lang),
        x_title=t("epi.fig.days", lang),
        y_title=t("epi.fig.probability", lang),
    )
    best = delays.filter(pl.col("best"))
    if "stratum" in best.columns:
        best = best.filter(pl.col("stratum").is_null())
    days = list(range(max_days + 1))
    for row in best.iter_rows(named=True):
        dist = getattr(DelayDistribution, row["family"])(row["param1"], row["param2"])
        label = (
            f"{t('epi.interval.' + row['interval'], lang)} ({row['family']}, {row['mean']:.1f} d)"
        )
        chart.add(Series(label, days, dist.pmf(max_days).tolist()))
    return chart


def seir_chart(total: pl.DataFrame, lang: str) -> Chart:
    """Expected reported cases under each scenario, with prediction intervals."""
    chart = Chart(
        t("epi.fig.seir", lang), x_title=t("epi.fig.date", lang), y_title=t("epi.fig.cases", lang)
    )
    first = total.filter(pl.col("projected"))["date"].min()
    if first is not None:
        chart.vlines.append((first, t("epi.fig.projection", lang)))
    for name, part in total.group_by("scenario", maintain_order=True):
        chart.add(
            Series(
                scenario_label(str(name[0]), lang),
                part["date"].to_list(),
                part["expected_cases"].to_list(),
                lower=part["cases_lower"].to_list(),
                upper=part["cases_upper"].to_list(),
            )
        )
    return chart


def care_chart(care: pl.DataFrame, setting: str, lang: str) -> Chart:
    """Occupied beds or rooms in one care setting, by scenario."""
    chart = Chart(
        t("epi.fig.care", lang, setting=t("epi.care." + setting, lang)),
        x_title=t("epi.fig.date", lang),
        y_title=t("epi.fig.occupied", lang),
    )
    for name, part in care.filter(pl.col("setting") == setting).group_by(
        "scenario", maintain_order=True
    ):
        chart.add(
            Series(
                scenario_label(str(name[0]), lang),
                part["date"].to_list(),
                part["occupied"].to_list(),
            )
        )
    return chart


def small_multiples(
    frame: pl.DataFrame, value: str, lang: str, *, band: bool, columns: int = 6
) -> dict[str, Any]:
    """A Plotly grid, one small panel per region (``region, date, value[, r_lower, r_upper]``)."""
    regions = sorted(r for r in frame["region"].unique().to_list() if r is not None)
    rows = max(1, -(-len(regions) // columns))
    data: list[dict[str, Any]] = []
    annotations = []
    for i, region in enumerate(regions):
        axis = "" if i == 0 else str(i + 1)
        part = frame.filter(pl.col("region") == region)
        x = [d.isoformat() for d in part["date"].to_list()]
        if band:
            data.append(
                {
                    "x": x,
                    "y": part["r_upper"].to_list(),
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
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
                    "y": part["r_lower"].to_list(),
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                    "type": "scatter",
                    "mode": "lines",
                    "line": {"width": 0},
                    "fill": "tonexty",
                    "fillcolor": "#0b5cad33",
                    "showlegend": False,
                    "hoverinfo": "skip",
                }
            )
        data.append(
            {
                "x": x,
                "y": part[value].to_list(),
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
                "type": "scatter",
                "mode": "lines",
                "name": str(region),
                "showlegend": False,
                "line": {"color": "#0b5cad", "width": 1.2},
            }
        )
        annotations.append({"text": str(region), "xref": f"x{axis} domain", "yref": f"y{axis} domain",
                            "x": 0.02, "y": 1.0, "showarrow": False, "xanchor": "left",
                            "yanchor": "bottom", "font": {"size": 10}})  # fmt: skip
    layout: dict[str, Any] = {
        "title": {"text": t("epi.fig.towns_rt" if band else "epi.fig.towns_incidence", lang)},
        "grid": {"rows": rows, "columns": columns, "pattern": "independent", "ygap": 0.45},
        "height": max(260, 150 * rows),
        "annotations": annotations,
        "margin": {"t": 48, "r": 8, "b": 24, "l": 32},
        "font": {"family": "Noto Sans CJK JP, sans-serif", "size": 9},
    }
    for i in range(len(regions)):
        n = "" if i == 0 else str(i + 1)
        layout[f"xaxis{n}"] = {"nticks": 3, "tickfont": {"size": 8}}
        layout[f"yaxis{n}"] = {"tickfont": {"size": 8}, **({"range": [0, 4]} if band else {})}
    if band:
        layout["shapes"] = [
            {"type": "line", "xref": f"x{'' if i == 0 else i + 1} domain", "x0": 0, "x1": 1,
             "yref": f"y{'' if i == 0 else i + 1}", "y0": 1, "y1": 1,
             "line": {"color": "#888", "dash": "dot", "width": 1}}
            for i in range(len(regions))
        ]  # fmt: skip
    return {"data": data, "layout": layout}


# -- the report ------------------------------------------------------------------------------


def _protected(rows: list[dict[str, Any]], threshold: int) -> list[dict[str, Any]]:
    """One public table's counts with small cells and their complements hidden
    (``x``), so that no hidden count can be worked out from the total and the
    other cells; a table that cannot be protected shows every count as ``x``."""
    from kumin.cases.tables import MARKER, protect_table

    shown = protect_table([int(r["cases"]) for r in rows], threshold)
    if shown is None:
        shown = [MARKER] * len(rows)
    return [{**r, "cases": c} for r, c in zip(rows, shown, strict=True)]


def _quiet(fn, *args, **kwargs):
    """Run one analysis; a step that cannot run on these records is reported, not fatal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs), None
        except KuminError as exc:
            return None, exc


def scenario_label(name: str, lang: str | None = None) -> str:
    """A scenario of :func:`kumin.epi.service.analyse_seir` in the reader's language:
    ``baseline`` → 現状のまま, ``contacts -20%`` → 接触を 20% 削減."""
    import re

    if name == "baseline":
        return t("epi.scenario.baseline", lang)
    cut = re.fullmatch(r"contacts -(\d+)%", name)
    return t("epi.scenario.contacts", lang, pct=cut.group(1)) if cut else name


def column_label(column: str, lang: str | None = None) -> str:
    """A result column (``r_mean``, ``peak_hospital``) as a table heading."""
    label = t("epi.column." + column, lang)
    return column if label == "epi.column." + column else label


def _age_order(table: pl.DataFrame) -> pl.DataFrame:
    """Age bands in age order (as text "100+" would sort between "10-19" and "20-29")."""
    from kumin.cases.codes import AGE_BANDS

    rank = {band: i for i, band in enumerate(AGE_BANDS)}
    return table.sort(
        pl.col("age_band").replace_strict(rank, default=len(rank), return_dtype=pl.Int64),
        nulls_last=True,
    )


def _model_warnings(lang: str, *results) -> list[str]:
    from kumin.epi.model_warnings import texts

    return [text for r in results if r is not None for text in texts(r.meta, lang)]


def report_context(
    frame: pl.DataFrame, lang: str, small_cell: int, period: service.Period | None = None
) -> dict[str, Any]:
    """Everything the report template shows, computed from the records' frame.

    With ``period`` (the frame then holds its history too), the curves and Rt show
    exactly the period's days, as on the web and the CLI (#14)."""
    curve = service.analyse_curve(frame, period=period).frame
    nowcast, nowcast_error = _quiet(service.analyse_nowcast, frame, period=period)
    rt, rt_error = _quiet(service.analyse_rt, frame, period=period)
    simple, _ = _quiet(service.analyse_rt, frame, method="simple", period=period)
    growth, _ = _quiet(service.analyse_growth, frame, period=period)
    if period is not None:  # the tables and the other models: the period's records
        frame = period.trim(
            frame.with_columns(_day=pl.coalesce("onset_date", "result_date")), "_day"
        ).drop("_day")
    delays, delays_error = _quiet(service.analyse_delays, frame)
    seir, seir_error = _quiet(service.analyse_seir, frame, horizon=42, n_samples=50)

    weekly = service.analyse_curve(frame, freq="week").frame
    week_rows = _protected(
        [{"week": r["week_start"], "cases": r["cases"]} for r in weekly.iter_rows(named=True)],
        small_cell,
    )
    by_age = _age_order(frame.group_by("age_band").len())
    age_rows = _protected(
        [
            {"band": r["age_band"] or t("epi.report.unknown", lang), "cases": r["len"]}
            for r in by_age.iter_rows(named=True)
        ],
        small_cell,
    )
    by_care = frame.group_by("care_setting").len().sort("care_setting", nulls_last=True)
    care_rows = _protected(
        [
            {
                "setting": t("epi.care." + r["care_setting"], lang)
                if r["care_setting"]
                else t("epi.report.unknown", lang),
                "cases": r["len"],
            }
            for r in by_care.iter_rows(named=True)
        ],
        small_cell,
    )
    rt_recent = []
    if rt is not None:
        recent = rt.frame.drop_nulls("r_median").tail(28).gather_every(7)
        simple_by_date = {}
        if simple is not None:
            simple_by_date = dict(
                zip(simple.frame["date"].to_list(), simple.frame["r_median"].to_list(), strict=True)
            )
        rt_recent = [
            {**r, "simple": simple_by_date.get(r["date"])} for r in recent.iter_rows(named=True)
        ]
    growth_last = None
    if growth is not None:
        g = growth.frame.drop_nulls("r")
        growth_last = g.row(g.height - 1, named=True) if g.height else None
    delay_rows = []
    if delays is not None:
        delay_rows = [
            {
                **r,
                "label": t("epi.interval." + r["interval"], lang),
                "family": t("epi.model_warning.family." + r["family"], lang),
            }
            for r in delays.frame.filter(pl.col("best")).iter_rows(named=True)
        ]
    return {
        "n_cases": frame.height,
        "n_onset": frame.height - frame["onset_date"].null_count(),
        "n_imported": int(frame["imported"].fill_null(False).sum()),
        "first": (period and period.start) or frame["result_date"].min(),
        "last": (period and period.end) or frame["result_date"].max(),
        "small_cell": small_cell,
        "curve_chart": curve_chart(curve, nowcast.frame if nowcast else None, lang, bars=False),
        "nowcast": nowcast.meta if nowcast else None,
        "nowcast_error": nowcast_error,
        "rt_chart": rt_chart(rt.frame, lang, simple.frame if simple else None) if rt else None,
        "rt_error": rt_error,
        "rt_recent": rt_recent,
        "delays_chart": delays_chart(delays.frame, lang) if delays else None,
        "delay_rows": delay_rows,
        "delays_error": delays_error,
        "delays_meta": delays.meta if delays else None,
        "growth": growth_last,
        "seir": seir,
        "seir_error": seir_error,
        "seir_chart": seir_chart(seir.extra["total"], lang) if seir else None,
        "care_chart": care_chart(seir.extra["care"], "hospital", lang) if seir else None,
        "week_rows": week_rows,
        "age_rows": age_rows,
        "care_rows": care_rows,
        "si": (service.SI_MEAN, service.SI_SD),
        "recent_days": service.RECENT_DAYS,
        "model_warnings": _model_warnings(lang, nowcast, rt, simple, delays, growth, seir),
    }


def build_report(
    ctx: Ctx,
    fmt: str = "html",
    lang: str = "ja",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> bytes:
    """The report as HTML or PDF bytes (``kumin report epi``); audited."""
    from kumin.core.i18n import normalise_lang
    from kumin.reports.render import check_report_format, html_to_pdf, render_html

    check_report_format(fmt, ("html", "pdf"))
    lang = normalise_lang(lang)
    period = None
    if start is not None or end is not None:
        rt_period = service.rt_period(start, end)
        period = service.Period(start, end, max(rt_period.before, service.rt_history("simple")))
    frame = service.load_period(
        ctx, period or service.Period(), purpose="epi report", action="epi.report"
    )
    context = report_context(frame, lang, ctx.settings.small_cell, period)
    html = render_html("epi/report.html", lang, **context)
    ctx.audit(
        "epi.report",
        "report:epi",
        purpose="analysis report",
        format=fmt,
        lang=lang,
        cases=frame.height,
    )
    return html.encode("utf-8") if fmt == "html" else html_to_pdf(html)
