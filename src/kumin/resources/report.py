"""The study's evaluation report, and the charts the resources pages share with it.

:func:`evaluation` gathers the figures (epidemic curve and Rt from the
notification records where they exist, call-centre demand against staffing and
what the queueing model says was needed, continuity of each core service) and
plain-language findings; :func:`render_evaluation` turns them into HTML or PDF
(charts as SVG) and records the generation in the audit trail. The web page
renders the same data with interactive charts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.errors import DataError, KuminError
from kumin.reports.charts import Chart, Series
from kumin.resources.calls import calibrate_periods, daily_metrics
from kumin.resources.continuity import ContinuityAssessment
from kumin.resources.models import WARD_CENTRE
from kumin.resources.service import (
    CentreSummary,
    call_frame,
    calls_summary,
    case_counts,
    has_staffing,
)
from kumin.resources.service_continuity import DEFAULT_BASELINE_END, assess, service_counts_frame
from kumin.resources.service_plan import (
    BACKTEST_FROM,
    PlanResult,
    calls_backtest,
    calls_plan,
    mean_handle_seconds,
)

ANSWER_WITHIN = 30.0
SERVICE_LEVEL = 0.8
EVALUATION_FORMATS = ("html", "pdf", "xlsx")
# Handle time assumed when the records hold none: six minutes, typical of the
# fever-consultation lines' first waves (talk plus wrap-up).
DEFAULT_HANDLE_SECONDS = 360.0

# ---------------------------------------------------------------- charts


def daily_calls_chart(frame: pl.DataFrame, lang: str) -> Chart:
    """Calls received and answered per day, with the staff on duty."""
    chart = Chart(
        t("resources.chart.daily_calls", lang),
        x_title=t("resources.chart.date", lang),
        y_title=t("resources.chart.calls_or_staff", lang),
    )
    chart.add(
        Series(
            t("resources.chart.received", lang),
            frame["date"].to_list(),
            _list(frame["calls_received"]),
        )
    )
    if frame["calls_answered"].null_count() < frame.height:
        chart.add(
            Series(
                t("resources.chart.answered", lang),
                frame["date"].to_list(),
                _list(frame["calls_answered"]),
            )
        )
    if has_staffing(frame):
        staff = (frame["staff_regular"] + frame["staff_external"]).cast(pl.Float64)
        chart.add(
            Series(
                t("resources.chart.staff", lang),
                frame["date"].to_list(),
                _list(staff * 10),
                dash=True,
            )
        )
        chart.y_title = t("resources.chart.calls_or_staff10", lang)
    return chart


def answer_rate_chart(frame: pl.DataFrame, lang: str) -> Chart:
    """Daily answer rate (share of calls answered), with its 7-day mean."""
    metrics = daily_metrics(frame)
    chart = Chart(
        t("resources.chart.answer_rate", lang),
        x_title=t("resources.chart.date", lang),
        y_title=t("resources.chart.rate", lang),
        hlines=[(SERVICE_LEVEL, "80%")],
    )
    if "answer_rate" in metrics.columns:
        rate = metrics["answer_rate"]
        chart.add(
            Series(
                t("resources.chart.daily", lang),
                metrics["date"].to_list(),
                _list(rate),
                kind="markers",
            ),
            Series(
                t("resources.chart.mean7", lang),
                metrics["date"].to_list(),
                _list(rate.rolling_mean(7, min_samples=1)),
            ),
        )
    return chart


def saturation_chart(frame: pl.DataFrame, summary: CentreSummary | None, lang: str) -> Chart:
    """Answer rate by staff on duty, observed and as the calibrated queueing model says.

    A saturation would show as observed days falling below the model's points on
    the right of the chart; smooth diminishing returns show as both curving together.
    """
    chart = Chart(
        t("resources.chart.saturation", lang),
        x_title=t("resources.evaluation.staff_on_duty", lang),
        y_title=t("resources.chart.rate", lang),
    )
    if not has_staffing(frame):
        return chart
    busy = frame.filter(pl.col("calls_received") > 0)
    x = busy["staff_regular"] + busy["staff_external"]
    y = busy["calls_answered"] / busy["calls_received"]
    chart.add(Series(t("resources.chart.days", lang), _list(x), _list(y), kind="markers"))
    sat = summary.saturation if summary else None
    if sat is not None:
        model = sat.curve.group_by("agents").agg(pl.col("model_rate").mean()).sort("agents")
        chart.add(
            Series(
                t("resources.evaluation.model_rate", lang),
                _list(model["agents"]),
                _list(model["model_rate"]),
            )
        )
        if sat.saturates and sat.threshold is not None:
            chart.vlines.append((sat.threshold, t("resources.chart.breakpoint", lang)))
    return chart


def headcount_chart(result: PlanResult, lang: str) -> Chart:
    """External person-days per week: what the plan needed against what was hired."""
    chart = Chart(
        t("resources.evaluation.headcount_chart", lang),
        x_title=t("resources.chart.date", lang),
        y_title=t("resources.evaluation.person_days", lang),
    )
    weeks = result.plan.by_week
    dates = weeks["week"].to_list()
    chart.add(
        Series(
            t("resources.chart.needed", lang), dates, _list(weeks["external_person_days_needed"])
        )
    )
    if "external_person_days_deployed" in weeks.columns:
        chart.add(
            Series(
                t("resources.chart.deployed", lang),
                dates,
                _list(weeks["external_person_days_deployed"]),
            )
        )
    return chart


def plan_chart(result: PlanResult, lang: str) -> Chart:
    """Agents needed at the peak hour of each day against the staff deployed."""
    chart = Chart(
        t("resources.chart.plan", lang),
        x_title=t("resources.chart.date", lang),
        y_title=t("resources.chart.agents", lang),
    )
    by_day = result.plan.by_day
    dates = by_day["date"].to_list()
    chart.add(
        Series(
            t("resources.chart.needed", lang),
            dates,
            _list(by_day["peak_agents_needed"]),
        )
    )
    if "staff_deployed" in by_day.columns:
        chart.add(
            Series(t("resources.chart.deployed", lang), dates, _list(by_day["staff_deployed"]))
        )
        short = by_day["status"] == "under"
        chart.add(
            Series(
                t("resources.chart.under_days", lang),
                dates,
                [
                    v if s else None
                    for v, s in zip(_list(by_day["staff_deployed"]), short.to_list(), strict=True)
                ],
                kind="markers",
                color="#d9480f",
            )
        )
        over = by_day["status"] == "over"
        chart.add(
            Series(
                t("resources.chart.over_days", lang),
                dates,
                [
                    v if s else None
                    for v, s in zip(_list(by_day["staff_deployed"]), over.to_list(), strict=True)
                ],
                kind="markers",
                color="#2b8a3e",
            )
        )
    return chart


def calibration_chart(calibration: pl.DataFrame, lang: str) -> Chart:
    """Per month: agents the model says the peak hour needed, and agents deployed."""
    chart = Chart(
        t("resources.chart.monthly_need", lang),
        x_title=t("resources.chart.month", lang),
        y_title=t("resources.chart.agents", lang),
    )
    months = calibration["period_start"].to_list()
    chart.add(
        Series(
            t("resources.chart.needed_peak", lang),
            months,
            _list(calibration["agents_needed_peak"]),
            kind="markers",
        ),
        Series(
            t("resources.chart.deployed_mean", lang), months, _list(calibration["agents_deployed"])
        ),
    )
    return chart


def continuity_chart(
    assessment: ContinuityAssessment, counts: pl.DataFrame, service: str, lang: str
) -> Chart:
    """A service's monthly counts with the expected band; flagged months marked."""
    chart = Chart(
        t("resources.chart.continuity", lang, service=service_label(service, lang)),
        x_title=t("resources.chart.month", lang),
        y_title=t("resources.chart.count", lang),
    )
    observed = counts.filter(pl.col("service") == service).sort("month")
    band = assessment.months.filter(pl.col("service") == service).sort("month")
    chart.add(
        Series(
            t("resources.chart.observed", lang),
            observed["month"].to_list(),
            _list(observed["count"]),
        )
    )
    if band.height:
        chart.add(
            Series(
                t("resources.chart.expected", lang),
                band["month"].to_list(),
                _list(band["expected"]),
                lower=_list(band["lower"]),
                upper=_list(band["upper"]),
                dash=True,
            ),
            Series(
                t("resources.chart.flagged", lang),
                band["month"].to_list(),
                [
                    c if b else None
                    for c, b in zip(band["count"].to_list(), band["below"].to_list(), strict=True)
                ],
                kind="markers",
                color="#d9480f",
            ),
        )
    chart.vlines.append((assessment.baseline_end, t("resources.chart.baseline_end", lang)))
    return chart


def epi_chart(curve: pl.DataFrame, lang: str) -> Chart:
    chart = Chart(
        t("resources.chart.epi_curve", lang),
        x_title=t("resources.chart.report_date", lang),
        y_title=t("resources.chart.cases", lang),
    )
    chart.add(
        Series(
            t("resources.chart.cases", lang),
            curve["date"].to_list(),
            _list(curve["cases"]),
            kind="bar",
        ),
        Series(
            t("resources.chart.mean7", lang), curve["date"].to_list(), _list(curve["cases_avg"])
        ),
    )
    return chart


def rt_chart(rt: pl.DataFrame, lang: str) -> Chart:
    chart = Chart(
        t("resources.chart.rt", lang),
        x_title=t("resources.chart.date", lang),
        y_title="Rt",
        hlines=[(1.0, "Rt = 1")],
    )
    chart.add(
        Series(
            "Rt",
            rt["date"].to_list(),
            _list(rt["mean"]),
            lower=_list(rt["lower"]),
            upper=_list(rt["upper"]),
        )
    )
    return chart


def _list(series: pl.Series | Any) -> list:
    values = series.to_list() if isinstance(series, pl.Series) else list(series)
    return [None if isinstance(v, float) and not np.isfinite(v) else v for v in values]


def service_label(service: str, lang: str) -> str:
    """A known service's name in the user's language, else the name as imported."""
    key = f"resources.service.{service}"
    text = t(key, lang)
    return service if text == key else text


# ---------------------------------------------------------------- the evaluation


@dataclass
class Epidemic:
    curve: pl.DataFrame  # date, cases, cases_avg
    rt: pl.DataFrame  # date, mean, lower, upper
    total: int
    peak_date: dt.date
    peak_cases: int


@dataclass
class Evaluation:
    """Everything the evaluation report shows; parts without data are None."""

    start: dt.date | None
    end: dt.date | None
    lang: str
    epidemic: Epidemic | None = None
    centres: list[CentreSummary] = field(default_factory=list)
    ward: pl.DataFrame | None = None  # the ward centre's days
    ward_summary: CentreSummary | None = None
    calibration: pl.DataFrame | None = None
    plan: PlanResult | None = None
    backtest: Any = None  # kumin.resources.backtest.Backtest, when cases exist
    next_wave: Any = None  # NextWave: the largest wave so far, replayed after the data
    continuity: ContinuityAssessment | None = None
    counts: pl.DataFrame | None = None
    findings: list[tuple[str, bool]] = field(default_factory=list)  # (text, is_warning)
    notes: list[str] = field(default_factory=list)

    def charts(self) -> dict[str, Chart]:
        """Every chart of the report, by a stable name (web routes use the names)."""
        lang = self.lang
        out: dict[str, Chart] = {}
        if self.epidemic is not None:
            out["epi_curve"] = epi_chart(self.epidemic.curve, lang)
            if self.epidemic.rt.height:
                out["rt"] = rt_chart(self.epidemic.rt, lang)
        if self.ward is not None and self.ward.height:
            out["daily_calls"] = daily_calls_chart(self.ward, lang)
            if has_staffing(self.ward):
                out["answer_rate"] = answer_rate_chart(self.ward, lang)
                out["saturation"] = saturation_chart(self.ward, self.ward_summary, lang)
        if self.calibration is not None and self.calibration.height:
            out["monthly_need"] = calibration_chart(self.calibration, lang)
        if self.plan is not None:
            out["plan"] = plan_chart(self.plan, lang)
            out["weekly_headcount"] = headcount_chart(self.plan, lang)
        if self.continuity is not None and self.counts is not None:
            for v in self.continuity.verdicts:
                out[f"continuity_{v.service}"] = continuity_chart(
                    self.continuity, self.counts, v.service, lang
                )
        return out


def epidemic(cases: pl.DataFrame, start: dt.date | None, end: dt.date | None) -> Epidemic | None:
    """Epidemic curve by report date and Cori Rt (7-day windows) from daily counts."""
    from kumin.epi.curves import epi_curve
    from kumin.epi.rt import RtEstimator

    if start is not None:
        cases = cases.filter(pl.col("date") >= start)
    if end is not None:
        cases = cases.filter(pl.col("date") <= end)
    if cases.height == 0 or int(cases["cases"].sum()) == 0:
        return None
    # One row per case, as epi_curve expects; counts are small enough to expand.
    line_list = pl.DataFrame({"result_date": cases["date"]}).select(
        pl.col("result_date").repeat_by(cases["cases"]).explode()
    )
    curve = epi_curve(line_list, by="report", start=start, end=end).frame.select(
        "date", "cases", "cases_avg"
    )
    counts = curve["cases"].to_numpy().astype(float)
    rt = pl.DataFrame(
        schema={"date": pl.Date, "mean": pl.Float64, "lower": pl.Float64, "upper": pl.Float64}
    )
    if len(counts) >= 15:
        est = RtEstimator(method="cori", window=7).fit(counts)
        dates = curve["date"].to_list()
        rt = pl.DataFrame(
            {
                "date": [dates[i] for i in est.t_end_],
                "mean": est.mean_,
                "lower": est.lower_,
                "upper": est.upper_,
            },
            schema=rt.schema,
        ).filter(pl.col("mean").is_not_nan())
    peak = curve.sort("cases", descending=True).row(0, named=True)
    return Epidemic(curve, rt, int(curve["cases"].sum()), peak["date"], int(peak["cases"]))


def evaluation(
    ctx: Ctx,
    start: dt.date | None = None,
    end: dt.date | None = None,
    lang: str | None = None,
    baseline_end: str = DEFAULT_BASELINE_END,
) -> Evaluation:
    """Gather the report's figures and findings for a period (default: all data)."""
    ctx.authorize("evaluation.report")
    lang = lang or ctx.lang
    ev = Evaluation(start, end, lang)
    ev.epidemic = epidemic(case_counts(ctx), start, end)
    try:
        ev.centres = calls_summary(ctx, start, end)
    except DataError:
        ev.notes.append(t("resources.report.no_calls", lang))
    ward = call_frame(ctx, WARD_CENTRE, start, end)
    if ward.height:
        ev.ward = ward
        ev.ward_summary = next((c for c in ev.centres if c.centre == WARD_CENTRE), None)
        if has_staffing(ward):
            handle = mean_handle_seconds(ward)
            if handle is None:
                ev.notes.append(
                    t("resources.report.assumed_handle", lang, seconds=int(DEFAULT_HANDLE_SECONDS))
                )
            try:
                ev.calibration = calibrate_periods(
                    ward,
                    answer_within=ANSWER_WITHIN,
                    service_level=SERVICE_LEVEL,
                    handle_seconds=None if handle is not None else DEFAULT_HANDLE_SECONDS,
                )
            except KuminError:
                ev.calibration = None
            try:
                ev.plan = calls_plan(
                    ctx,
                    None,
                    start,
                    end,
                    WARD_CENTRE,
                    handle_seconds=handle or DEFAULT_HANDLE_SECONDS,
                )
            except KuminError:
                ev.plan = None
    if ev.epidemic is not None and ward.height:
        try:
            ev.backtest = calls_backtest(ctx, WARD_CENTRE, start=BACKTEST_FROM, end=end)
        except (KuminError, ValueError):
            ev.backtest = None
    if ev.epidemic is not None and ward.height and has_staffing(ward):
        from kumin.resources.next_wave import next_wave

        ev.next_wave = next_wave(ctx, ev.epidemic, ward)
    try:
        ev.continuity = assess(ctx, baseline_end, crisis_end=_month(end))
        ev.counts = service_counts_frame(ctx)
    except KuminError:
        ev.notes.append(t("resources.report.no_continuity", lang))
    ev.findings = findings(ev)
    return ev


def _month(day: dt.date | None) -> str | None:
    return None if day is None else f"{day:%Y-%m}"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def findings(ev: Evaluation) -> list[tuple[str, bool]]:
    """Plain-language findings, each a sentence and whether it calls for attention."""
    lang = ev.lang
    out: list[tuple[str, bool]] = []
    if ev.epidemic is not None:
        e = ev.epidemic
        out.append(
            (
                t(
                    "resources.finding.epidemic",
                    lang,
                    total=f"{e.total:,}",
                    peak_date=e.peak_date.isoformat(),
                    peak=f"{e.peak_cases:,}",
                ),
                False,
            )
        )
    if ev.ward_summary is not None:
        s = ev.ward_summary.summary
        out.append(
            (
                t(
                    "resources.finding.demand",
                    lang,
                    calls=f"{s.calls_received:,}",
                    days=s.days,
                    peak=f"{s.peak_calls:,}",
                    peak_date=s.peak_date.isoformat(),
                    rate=_pct(s.answer_rate),
                ),
                s.answer_rate is not None and s.answer_rate < SERVICE_LEVEL,
            )
        )
        out += _load_findings(ev.ward_summary, lang)
        effect = ev.ward_summary.staff_effect
        if effect is not None:
            out.append(
                (
                    t(
                        "resources.finding.staff_effect",
                        lang,
                        gain=f"{effect.per_person:.1f}",
                        low=f"{effect.per_person_low:.1f}",
                        high=f"{effect.per_person_high:.1f}",
                        lag=effect.lag,
                    ),
                    False,
                )
            )
        sat = ev.ward_summary.saturation
        if sat is not None and sat.saturates:
            out.append(
                (
                    t(
                        "resources.finding.saturation",
                        lang,
                        point=f"{sat.threshold:.0f}",
                        rate=f"{sat.p_value:.3f}",
                    ),
                    True,
                )
            )
        elif sat is not None:
            out.append(
                (t("resources.evaluation.no_saturation", lang, p=f"{sat.p_value:.2f}"), False)
            )
    if ev.plan is not None and ev.plan.has_deployed:
        p = ev.plan.plan
        out.append(
            (
                t(
                    "resources.finding.plan",
                    lang,
                    days=p.by_day.height,
                    under=p.days_under,
                    over=p.days_over,
                    short=f"{p.shortfall_agent_hours:,.0f}",
                    surplus=f"{p.surplus_agent_hours:,.0f}",
                    target=_pct(SERVICE_LEVEL),
                    within=int(ANSWER_WITHIN),
                ),
                p.days_under > 0,
            )
        )
        out.append((plan_cost_text(ev.plan, lang), False))
    if ev.backtest is not None:
        d = ev.backtest.as_dict()
        out.append(
            (
                t(
                    "resources.evaluation.finding_backtest",
                    lang,
                    start=d["start"],
                    days=d["days"],
                    coverage=_pct(d["coverage_95"]),
                    total=f"{d['total_error']:+.0%}" if d["total_error"] is not None else "-",
                    peak=f"{d['peak_error']:+.0%}",
                ),
                d["coverage_95"] < 0.85,
            )
        )
    if ev.next_wave is not None and ev.next_wave.totals():
        w, tot = ev.next_wave, ev.next_wave.totals()
        out.append(
            (
                t(
                    "resources.evaluation.finding_next_wave",
                    lang,
                    wave_start=w.wave_start.isoformat(),
                    wave_cases=f"{w.wave_cases:,}",
                    person_days=f"{tot['person_days']:,.0f}",
                    low=f"{tot['person_days_low']:,.0f}",
                    high=f"{tot['person_days_high']:,.0f}",
                    peak=f"{tot['peak']:,.0f}",
                    cost=f"{tot['cost']:,.0f}",
                    cost_low=f"{tot['cost_low']:,.0f}",
                    cost_high=f"{tot['cost_high']:,.0f}",
                ),
                False,
            )
        )
    if ev.calibration is not None and ev.calibration.height:
        worst = ev.calibration.sort("service_level_deployed", nulls_last=True).row(0, named=True)
        if worst["service_level_deployed"] is not None:
            out.append(
                (
                    t(
                        "resources.finding.worst_month",
                        lang,
                        month=f"{worst['period_start']:%Y-%m}",
                        level=_pct(worst["service_level_deployed"]),
                        needed=worst["agents_needed_peak"],
                        deployed=f"{worst['agents_deployed']:.1f}",
                    ),
                    worst["service_level_deployed"] < SERVICE_LEVEL,
                )
            )
    if ev.continuity is not None:
        for v in ev.continuity.verdicts:
            name = service_label(v.service, lang)
            if v.verdict == "maintained":
                out.append((t("resources.finding.maintained", lang, service=name), False))
            elif v.verdict == "disrupted":
                recovered = (
                    t("resources.verdict.recovered", lang, month=f"{v.recovered_month:%Y-%m}")
                    if v.recovered_month
                    else t("resources.verdict.not_recovered", lang)
                )
                out.append(
                    (
                        t(
                            "resources.finding.disrupted",
                            lang,
                            service=name,
                            months=", ".join(f"{m:%Y-%m}" for m in v.disrupted_months),
                            short=f"{v.shortfall:,.0f}",
                            low=f"{v.shortfall_low:,.0f}",
                            high=f"{v.shortfall_high:,.0f}",
                            recovered=recovered,
                        ),
                        True,
                    )
                )
            else:
                out.append((t("resources.finding.insufficient", lang, service=name), False))
    return out


def _load_findings(summary: CentreSummary, lang: str) -> list[tuple[str, bool]]:
    le = summary.load_effect
    if le is None:
        return []
    bands = {r["band"]: r for r in le.by_band.iter_rows(named=True)}

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    def band(name: str) -> str:
        r = bands[name]
        if not r["days"]:
            return "-"
        return f"{r['marginal']:.1f} ({r['low']:.1f}–{r['high']:.1f})"

    text = t(
        "resources.evaluation.finding_load",
        lang,
        patience=f"{le.patience.patience_seconds:.0f}",
        plow=fmt(le.patience.low),
        phigh=fmt(le.patience.high),
        median=f"{le.median_day:.1f} ({le.median_day_low:.1f}–{le.median_day_high:.1f})",
        strained=band("5_to_20pct"),
        n_strained=bands["5_to_20pct"]["days"],
        over=band("over_20pct"),
        n_over=bands["over_20pct"]["days"],
    )
    return [(text, False)]


def plan_cost_text(result: PlanResult, lang: str) -> str:
    """The plan's stated settings and its external person-days and cost, in one sentence."""
    p = result.plan
    totals = p.totals()
    s = p.settings
    return t(
        "resources.evaluation.finding_plan_cost",
        lang,
        model="Erlang A" if s["model"] == "erlang_a" else "Erlang C",
        patience="-" if s["patience_seconds"] is None else f"{s['patience_seconds']:.0f}",
        shrinkage=_pct(s["shrinkage"]),
        cap="-" if s["occupancy_cap"] is None else _pct(s["occupancy_cap"]),
        needed=f"{totals['external_person_days_needed']:,}",
        needed_cost=f"{totals['external_cost_needed_yen']:,.0f}",
        deployed=f"{totals.get('external_person_days_deployed', 0):,}",
        deployed_cost=f"{totals.get('external_cost_deployed_yen', 0.0):,.0f}",
        peak=totals["peak_headcount_needed"],
    )


def render_evaluation(
    ctx: Ctx,
    start: dt.date | None = None,
    end: dt.date | None = None,
    fmt: str = "html",
    lang: str | None = None,
) -> bytes:
    """The evaluation report as HTML (UTF-8) or PDF bytes; the generation is audited."""
    from kumin.reports.render import check_report_format, html_to_pdf, render_html

    check_report_format(fmt, EVALUATION_FORMATS)
    from markupsafe import Markup

    from kumin.reports.charts import to_svg

    ev = evaluation(ctx, start, end, lang)
    if fmt == "xlsx":
        from kumin.resources.report_xlsx import evaluation_xlsx

        data = evaluation_xlsx(ev)
        _audit_evaluation(ctx, fmt, ev.lang, start, end)
        return data
    charts = ev.charts()
    html = render_html(
        "resources/evaluation_report.html",
        ev.lang,
        ev=ev,
        charts=charts,
        chart_html=lambda name: Markup(f'<div class="chart">{to_svg(charts[name])}</div>'),
        service_label=lambda s: service_label(s, ev.lang),
    )
    data = html_to_pdf(html) if fmt == "pdf" else html.encode("utf-8")
    _audit_evaluation(ctx, fmt, ev.lang, start, end)
    return data


def _audit_evaluation(
    ctx: Ctx, fmt: str, lang: str, start: dt.date | None, end: dt.date | None
) -> None:
    ctx.audit(
        "evaluation.report",
        "report:evaluation",
        purpose="report",
        format=fmt,
        lang=lang,
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
    )
