"""Epi pages (interactive Plotly charts from local files) and the JSON API.

Pages: the epidemic curve with its nowcast band, Rt with its interval and the
threshold 1, delay distributions, small multiples by town, and SEIR scenarios
side by side. Quick analyses are drawn from ``/epi/charts/*.json``; the long fits
(SEIR scenarios, Rt by infection date) run as background jobs whose progress bar
the page polls with HTMX. Every route needs ``epi.run``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, Response

from kumin.core import jobs
from kumin.core.context import Ctx
from kumin.epi import service
from kumin.errors import NotFound, UserError
from kumin.web.deps import Permit
from kumin.web.nav import NavItem, add_nav
from kumin.web.render import page

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["epi"])

EpiCtx = Annotated[Ctx, Depends(Permit("epi.run"))]
From = Annotated[str | None, Query(alias="from")]
# the period form and the API send ``from`` and ``to`` (``end`` was read once: #14)
To = Annotated[str | None, Query(alias="to")]
By = Annotated[str | None, Query()]

add_nav(NavItem("epi.nav.models", "/epi", "epi.run"))

PAGES = ("curve", "rt", "delays", "growth", "towns", "seir")
JOB_KINDS = ("seir", "rt_infection")


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _json(body: Any) -> JSONResponse:
    return JSONResponse(_jsonable(body))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN (no estimate) or inf (e.g. no doubling): JSON has neither
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def _figure(chart, *results: service.EpiResult, lang: str | None = None) -> dict[str, Any]:
    """The chart, with the model warnings of the results it draws (the page shows them)."""
    from kumin.epi.model_warnings import texts

    body = _plotly(chart)
    notes = [text for r in results for text in texts(r.meta, lang)]
    if notes:
        body["warnings"] = notes
    return _jsonable(body)


def _plotly(chart) -> dict[str, Any]:
    """The chart as Plotly, opened on its readable range, legend clear of the axis title."""
    from kumin.reports.charts import to_plotly

    fig = to_plotly(chart)
    layout = fig["layout"]
    layout["legend"] = {"orientation": "h", "y": -0.18, "yanchor": "top"}
    layout["margin"] = {**layout.get("margin", {}), "b": 96}
    y_max = getattr(chart, "y_max", None)
    if y_max:
        layout["yaxis"]["range"] = [0, y_max]
    _recent_weeks(fig)
    return fig


#: a long series opens on its last weeks (readable small multiples); one click shows all
RECENT_WEEKS = 12


def _as_day(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _recent_weeks(fig: dict[str, Any]) -> None:
    """Open a date axis on its last :data:`RECENT_WEEKS` weeks, with buttons for the
    full span (#14: two years of daily points are unreadable at first sight)."""
    from kumin.core.i18n import t

    days = sorted({d for tr in fig["data"] for x in tr.get("x", []) if (d := _as_day(x))})
    if len(days) <= 7 * RECENT_WEEKS * 2:
        return
    xaxis = fig["layout"].setdefault("xaxis", {})
    xaxis["range"] = [days[-1] - dt.timedelta(weeks=RECENT_WEEKS), days[-1]]
    xaxis["rangeselector"] = {
        "buttons": [
            {"count": 3, "step": "month", "stepmode": "backward", "label": t("epi.view.months3")},
            {"count": 1, "step": "year", "stepmode": "backward", "label": t("epi.view.year1")},
            {"step": "all", "label": t("epi.view.all")},
        ]
    }


def _query(request: Request) -> str:
    return request.url.query


# -- pages ----------------------------------------------------------------------------------


@router.get("/epi")
def index(request: Request, ctx: EpiCtx) -> Response:
    return page(request, "epi/index.html", pages=PAGES, active="")


@router.get("/epi/{name}")
def analysis_page(
    request: Request, ctx: EpiCtx, name: str, start: From = None, end: To = None
) -> Response:
    if name not in PAGES:
        raise NotFound("epi.web.no_page")
    return page(
        request,
        f"epi/{name}.html",
        pages=PAGES,
        active=name,
        start=start or "",
        end=end or "",
        query=_query(request),
        params=dict(request.query_params),
    )


# -- chart data (quick analyses) -------------------------------------------------------------
#
# Each chart is built once, by name, and served two ways: ``.json`` is what the page
# draws, ``.csv`` every series of that same figure (UTF-8 with BOM) for Excel (#14).


def _curve_figure(ctx: Ctx, start: str | None, end: str | None, **_: Any) -> dict[str, Any]:
    from kumin.cases.models import CaseRow
    from kumin.core import snapshots
    from kumin.epi.report import curve_chart as build

    period = service.Period(_date(start), _date(end), before=service.ROLLING - 1)
    if period.start is not None and period.end is not None and period.start > period.end:
        raise UserError("cases.service.bad_range", start=period.start, end=period.end)
    ctx.authorize("epi.run")

    def compute() -> dict[str, Any]:
        from kumin.cases.service import case_frame
        from kumin.errors import DataError

        frame = case_frame(ctx, start=period.read_start, end=period.read_end, by="onset")
        if frame.height == 0:
            raise DataError("epi.service.no_records")
        curve = service.analyse_curve(frame, period=period)
        try:
            nowcast = service.analyse_nowcast(frame, period=period)
        except UserError:
            nowcast = None  # too few dated cases for a nowcast: the curve alone
        chart = build(curve.frame, nowcast.frame if nowcast else None, ctx.lang)
        figure = _figure(chart, *([nowcast] if nowcast else []), lang=ctx.lang)
        return {"figure": figure, "records": frame.height}

    # The chart (aggregates only) is kept in the database until a record changes, so
    # any worker serves it; every view is still audited as a read of the records.
    key = "epi.curve:" + json.dumps([str(period.start or ""), str(period.end or ""), ctx.lang])
    found = snapshots.cached(ctx.session, key, [CaseRow.__table__], compute)
    ctx.audit(
        "epi.run",
        "cases",
        purpose="epi curve page",
        count=found["records"],
        start=str(period.start or ""),
        end=str(period.end or ""),
        by="onset",
    )
    return found["figure"]


def _rt_figure(
    ctx: Ctx,
    start: str | None,
    end: str | None,
    window: int | None = None,
    si_mean: float = service.SI_MEAN,
    si_sd: float = service.SI_SD,
    **_: Any,
) -> dict[str, Any]:
    from kumin.epi.report import rt_chart as build

    window = window or 7
    period = service.rt_period(_date(start), _date(end), "cori", window, si_mean, si_sd)
    period = service.Period(
        period.start, period.end, max(period.before, service.rt_history("simple")), 0
    )
    frame = service.load_period(ctx, period, purpose="epi rt page")
    rt = service.analyse_rt(frame, window=window, si_mean=si_mean, si_sd=si_sd, period=period)
    simple = service.analyse_rt(frame, method="simple", period=period)
    return _figure(build(rt.frame, ctx.lang, simple.frame), rt, simple, lang=ctx.lang)


def _delays_result(ctx: Ctx, start: str | None, end: str | None):
    frame = service.load_cases(ctx, _date(start), _date(end), purpose="epi delays page")
    recent = None if start else service.RECENT_DAYS
    return frame, service.analyse_delays(frame, recent_days=recent)


def _delays_figure(ctx: Ctx, start: str | None, end: str | None, **_: Any) -> dict[str, Any]:
    """The observed delays with the fitted curves overlaid, one panel per interval."""
    from kumin.epi.web_figures import delays_figure, observed_delays

    frame, result = _delays_result(ctx, start, end)
    meta = result.meta
    observed = observed_delays(frame, meta["period_start"], meta["period_end"], service.INTERVALS)
    body = delays_figure(result.frame, observed, ctx.lang)
    return _jsonable(body | _warnings(result, ctx.lang))


def _growth_figure(
    ctx: Ctx, start: str | None, end: str | None, window: int | None = None, **_: Any
) -> dict[str, Any]:
    from kumin.epi.web_figures import growth_figure

    result = service.growth(ctx, _date(start), _date(end), None, window or 14)
    body = growth_figure(result.frame, ctx.lang)
    _recent_weeks(body)
    return _jsonable(body | _warnings(result, ctx.lang))


def _towns_figure(
    ctx: Ctx, start: str | None, end: str | None, metric: str = "rt", **_: Any
) -> dict[str, Any]:
    from kumin.epi.report import small_multiples

    period = service.rt_period(_date(start), _date(end), window=14)
    frame = service.load_period(ctx, period, purpose="epi towns page")
    if metric == "incidence":
        curve = service.analyse_curve(frame, by="town", period=period).frame
        table = curve.rename({"town": "region"})
        return _jsonable(_one_time_axis(small_multiples(table, "cases_avg", ctx.lang, band=False)))
    rt = service.analyse_rt(frame, by="town", window=14, period=period)
    body = small_multiples(rt.frame, "r_median", ctx.lang, band=True)
    return _jsonable(_one_time_axis(body) | _warnings(rt, ctx.lang))


def _one_time_axis(body: dict[str, Any]) -> dict[str, Any]:
    """Small multiples share one time axis: every panel opens on the recent weeks and
    the full-span button (on the first panel) widens them all at once (#14)."""
    layout = body["layout"]
    for key in list(layout):
        if key.startswith("xaxis") and key != "xaxis":
            layout[key]["matches"] = "x"
    _recent_weeks(body)
    return body


CHARTS = {
    "curve": _curve_figure,
    "rt": _rt_figure,
    "delays": _delays_figure,
    "growth": _growth_figure,
    "towns": _towns_figure,
}


def _chart(ctx: Ctx, name: str, start, end, window, si_mean, si_sd, metric) -> dict[str, Any]:
    if name not in CHARTS:
        raise NotFound("epi.web.no_page")
    if metric not in ("rt", "incidence"):
        raise UserError("core.web.bad_request", fields="metric")
    return CHARTS[name](ctx, start, end, window=window, si_mean=si_mean, si_sd=si_sd, metric=metric)


Window = Annotated[int | None, Query(ge=1, le=60)]
SiMean = Annotated[float, Query(gt=1)]
SiSd = Annotated[float, Query(gt=0)]
Metric = Annotated[str, Query()]


@router.get("/epi/charts/{name}.json")
def chart_json(
    ctx: EpiCtx,
    name: str,
    start: From = None,
    end: To = None,
    window: Window = None,
    si_mean: SiMean = service.SI_MEAN,
    si_sd: SiSd = service.SI_SD,
    metric: Metric = "rt",
) -> Response:
    return JSONResponse(_chart(ctx, name, start, end, window, si_mean, si_sd, metric))


@router.get("/epi/charts/{name}.csv")
def chart_csv(
    ctx: EpiCtx,
    name: str,
    start: From = None,
    end: To = None,
    window: Window = None,
    si_mean: SiMean = service.SI_MEAN,
    si_sd: SiSd = service.SI_SD,
    metric: Metric = "rt",
) -> Response:
    """Every series of the chart ``name`` as drawn, as CSV (UTF-8 with BOM)."""
    from kumin.web.figures import figure_csv

    fig = _chart(ctx, name, start, end, window, si_mean, si_sd, metric)
    return figure_csv(fig, ctx.lang, _csv_name(f"epi-{name}", start, end))


def _csv_name(base: str, start: str | None, end: str | None) -> str:
    period = "_".join(d for d in (start, end) if d)
    return f"{base}-{period}" if period else base


def _warnings(result: service.EpiResult, lang: str) -> dict[str, Any]:
    from kumin.epi.model_warnings import texts

    notes = texts(result.meta, lang)
    return {"warnings": notes} if notes else {}


@router.get("/epi/delays/table")
def delays_table(request: Request, ctx: EpiCtx, start: From = None, end: To = None) -> Response:
    """The fits behind the delays chart: parameters, mean and sd with 95% intervals, AIC
    (#14); loaded into the page by HTMX, sortable and downloadable like every table."""
    _, result = _delays_result(ctx, start, end)
    return page(request, "epi/_delays_table.html", rows=result.rows(), meta=result.meta)


# -- background jobs ---------------------------------------------------------------------------


def _start_job(ctx: Ctx, kind: str, form: dict[str, Any]) -> jobs.JobView:
    """Validate the form now (a bad date is the user's error, not the job's), then
    queue the fit; a worker loads the records as the owner and runs it."""
    if kind not in JOB_KINDS:
        raise NotFound("epi.web.no_job")
    # the page's form posts start/end; the API takes from/to like every other epi call
    start = _date(form.get("start") or form.get("from"))
    end = _date(form.get("end") or form.get("to"))
    params: dict[str, Any] = {
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
    }
    if kind == "seir":
        try:
            params["horizon"] = int(form.get("horizon") or 60)
            params["reductions"] = [
                float(x) / 100 for x in (form.get("reduction1"), form.get("reduction2")) if x
            ] or [0.2, 0.4]
        except ValueError:
            raise UserError("core.web.bad_request", fields="horizon, reduction") from None
    return jobs.submit(ctx, f"epi_{kind}", params)


def _job_seir(settings, actor, params: dict[str, Any], progress) -> dict[str, Any]:
    from kumin.core.context import context
    from kumin.epi.report import care_chart, seir_chart

    lang = actor.lang
    start, end = _date(params.get("start")), _date(params.get("end"))
    with context(settings, actor) as ctx:  # short: the fit runs after the commit
        frame = service.load_cases(ctx, None, end, purpose="epi seir page")
    res = service.analyse_seir(
        frame,
        start=start,
        end=end,
        horizon=int(params["horizon"]),
        reductions=tuple(params["reductions"]),
        progress=progress,
    )
    return _jsonable(
        {
            "meta": _meta(res, lang),
            "warnings": texts(res.meta, lang),
            "rows": res.rows(),
            **_display(res, lang),
            "figures": {
                "cases": _plotly(seir_chart(res.extra["total"], lang)),
                "hospital": _plotly(care_chart(res.extra["care"], "hospital", lang)),
                "hotel": _plotly(care_chart(res.extra["care"], "hotel", lang)),
            },
        }
    )


def _job_rt_infection(settings, actor, params: dict[str, Any], progress) -> dict[str, Any]:
    from kumin.core.context import context
    from kumin.epi.report import rt_chart

    lang = actor.lang
    start, end = _date(params.get("start")), _date(params.get("end"))
    # the period plotted, and the history before it that the estimate needs (#14)
    period = service.rt_period(start, end, method="infection")
    with context(settings, actor) as ctx:
        frame = service.load_period(ctx, period, purpose="epi rt page")
    res = service.analyse_rt(frame, method="infection", progress=progress, period=period)
    return _jsonable(
        {
            "meta": _meta(res, lang),
            "warnings": texts(res.meta, lang),
            "rows": res.rows()[-14:],
            **_display(res, lang),
            "figures": {
                "rt": _plotly(rt_chart(res.frame, lang, title=_t("epi.fig.rt_infection", lang)))
            },
        }
    )


# Aggregates only (no personal values): results are stored in clear.
jobs.register("epi_seir", "epi.run", _job_seir)
jobs.register("epi_rt_infection", "epi.run", _job_rt_infection)


def texts(meta: dict[str, Any], lang: str) -> list[str]:
    from kumin.epi.model_warnings import texts as warning_texts

    return warning_texts(meta, lang)


def _display(result: service.EpiResult, lang: str) -> dict[str, Any]:
    """Headings and scenario names of a job's table in the reader's language (the
    rows keep their code names for the API)."""
    from kumin.epi.report import column_label, scenario_label

    scenarios = result.frame["scenario"].to_list() if "scenario" in result.frame.columns else []
    return {
        "labels": {c: column_label(c, lang) for c in result.frame.columns},
        "scenarios": {s: scenario_label(s, lang) for s in scenarios},
    }


def _meta(result: service.EpiResult, lang: str | None) -> dict[str, Any]:
    """A result's facts for JSON: each model warning with its message in ``lang``."""
    from kumin.epi.model_warnings import for_json

    meta = dict(result.meta)
    if meta.get("warnings"):
        meta["warnings"] = for_json(result.meta, lang)
    return meta


def _t(key: str, lang: str) -> str:
    from kumin.core.i18n import t

    return t(key, lang)


@router.post("/epi/jobs/{kind}")
def start_job(
    request: Request,
    ctx: EpiCtx,
    kind: str,
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    horizon: Annotated[str, Form()] = "",
    reduction1: Annotated[str, Form()] = "",
    reduction2: Annotated[str, Form()] = "",
) -> Response:
    form = {"start": start, "end": end, "horizon": horizon}
    form.update(reduction1=reduction1, reduction2=reduction2)
    job = _start_job(ctx, kind, form)
    return page(request, "epi/_job.html", job=job)


@router.get("/epi/jobs/{job_id}")
def job_status(request: Request, ctx: EpiCtx, job_id: str) -> Response:
    job = jobs.get(ctx, job_id, "epi_")
    return page(request, "epi/_job.html", job=job)


@router.get("/epi/jobs/{job_id}/figures/{name}.json")
def job_figure(ctx: EpiCtx, job_id: str, name: str) -> Response:
    job = jobs.get(ctx, job_id, "epi_")
    figures = (job.result or {}).get("figures", {}) if job.state == "done" else {}
    if name not in figures:
        raise NotFound("epi.web.no_job")
    return _json(figures[name])


@router.get("/epi/jobs/{job_id}/figures/{name}.csv")
def job_figure_csv(ctx: EpiCtx, job_id: str, name: str) -> Response:
    """Every series of a job's chart (SEIR scenarios, Rt by infection date) as CSV."""
    from kumin.web.figures import figure_csv

    job = jobs.get(ctx, job_id, "epi_")
    figures = (job.result or {}).get("figures", {}) if job.state == "done" else {}
    if name not in figures:
        raise NotFound("epi.web.no_job")
    return figure_csv(figures[name], ctx.lang, f"epi-{job.kind.removeprefix('epi_')}-{name}")


# -- JSON API ------------------------------------------------------------------------------------


def _api(result: service.EpiResult, lang: str | None = None) -> JSONResponse:
    meta = _meta(result, lang)
    return _json({"meta": meta, "columns": result.frame.columns, "rows": result.rows()})


@api_router.get("/epi/curve")
def api_curve(
    ctx: EpiCtx,
    start: From = None,
    end: To = None,
    by: By = None,
    freq: Annotated[str, Query()] = "day",
    date: Annotated[str, Query()] = "onset",
) -> Response:
    return _api(service.curve(ctx, _date(start), _date(end), by, freq, date), ctx.lang)


@api_router.get("/epi/delays")
def api_delays(ctx: EpiCtx, start: From = None, end: To = None, by: By = None) -> Response:
    return _api(service.delays(ctx, _date(start), _date(end), by), ctx.lang)


@api_router.get("/epi/nowcast")
def api_nowcast(
    ctx: EpiCtx,
    start: From = None,
    end: To = None,
    max_delay: Annotated[int, Query()] = 21,
    as_of: Annotated[str | None, Query()] = None,
) -> Response:
    return _api(service.nowcast(ctx, _date(start), _date(end), max_delay, _date(as_of)), ctx.lang)


@api_router.get("/epi/rt")
def api_rt(
    ctx: EpiCtx,
    start: From = None,
    end: To = None,
    by: By = None,
    method: Annotated[str, Query()] = "cori",
    window: Annotated[int, Query()] = 7,
    si_mean: Annotated[float, Query()] = service.SI_MEAN,
    si_sd: Annotated[float, Query()] = service.SI_SD,
) -> Response:
    return _api(
        service.rt(ctx, _date(start), _date(end), by, method, window, si_mean, si_sd), ctx.lang
    )


@api_router.get("/epi/growth")
def api_growth(
    ctx: EpiCtx,
    start: From = None,
    end: To = None,
    by: By = None,
    window: Annotated[int, Query()] = 14,
) -> Response:
    return _api(service.growth(ctx, _date(start), _date(end), by, window), ctx.lang)


@api_router.get("/epi/backtest")
def api_backtest(
    ctx: EpiCtx,
    start: From = None,
    end: To = None,
    max_delay: Annotated[int, Query()] = 14,
    dates: Annotated[int, Query()] = 8,
) -> Response:
    return _api(service.backtest(ctx, _date(start), _date(end), max_delay, dates), ctx.lang)


@api_router.post("/epi/jobs/{kind}")
def api_start_job(ctx: EpiCtx, kind: str, request: Request) -> Response:
    job = _start_job(ctx, kind, dict(request.query_params))
    return JSONResponse({"job": job.as_dict()}, status_code=202)


@api_router.get("/epi/jobs/{job_id}")
def api_job(ctx: EpiCtx, job_id: str) -> Response:
    from kumin.core.i18n import t

    job = jobs.get(ctx, job_id, "epi_")
    body: dict[str, Any] = {"job": job.as_dict()}
    if job.state == "done":
        body["meta"] = job.result["meta"]
        body["rows"] = job.result["rows"]
    elif job.state in ("failed", "cancelled"):
        body["error"] = {"message": t(job.error_key, ctx.lang, **job.error_params)}
    return _json(body)
