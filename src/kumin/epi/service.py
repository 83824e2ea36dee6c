"""One function per user action of ``kumin epi``: the CLI, the web pages and the
JSON API call these with the same names.

Each action is two steps. :func:`load_cases` signs the work off (``epi.run``),
reads the notification records through :func:`kumin.cases.service.case_frame`
(no personal fields) and records one audit entry; then a pure ``analyse_*``
function runs the library on that frame. The web pages run the second step in a
background job (:mod:`kumin.core.jobs`) with a progress bar; the CLI runs both.

:func:`rt_from_counts` (defined in :mod:`kumin.epi.counts`) needs no database at
all: it reads a plain ``date,count`` file (optionally with ``region``) and is open
to anyone.

Literature distributions used where the records cannot give them (cited, never
read at run time; ../shared/data/literature/sarscov2_delay_parameters_literature.csv):
serial interval 4.8 ± 2.3 days and generation interval Weibull(2.305, 5.452)
(Nishiura, Linton, Akhmetzhanov, IJID 2020; the Weibull is that study's fit, mean
4.83 d, sd 2.22 d, so Rt by onset and by infection date share one interval up to
its discretisation), incubation lognormal(1.519, 0.615)
(Linton et al., J Clin Med 2020; both as in contactmodel/COVID19-Japan-Reff).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from kumin.core.context import Ctx
from kumin.epi.counts import RT_COLUMNS, read_counts, rt_from_counts  # noqa: F401 (re-exported)
from kumin.epi.model_warnings import collecting, degenerate_delays
from kumin.epi.periods import (
    INFECTION_AFTER,
    ROLLING,
    Period,
    curve_bounds,
    missing_onset,
    rt_history,
)
from kumin.errors import DataError, UserError

Progress = Callable[[int, int], None] | None

#: ``--by`` choices and the record column each stratifies by
BY_COLUMNS = {"town": "town", "age": "age_band", "sex": "sex"}
#: delays fitted by ``kumin epi delays``: name -> (start column, end column)
INTERVALS = {
    "onset_to_first_visit": ("onset_date", "first_visit_date"),
    "onset_to_specimen": ("onset_date", "specimen_date"),
    "specimen_to_result": ("specimen_date", "result_date"),
    "onset_to_result": ("onset_date", "result_date"),
}
RT_METHODS = ("cori", "simple", "infection")
SI_MEAN, SI_SD = 4.8, 2.3
#: Nishiura et al. 2020 / Linton et al. 2020 (see the module docstring)
INCUBATION = ("lognormal", 1.519, 0.615)
GENERATION = ("weibull", 2.305, 5.452)
#: Tokyo's declared states of emergency (start dates), used as default change dates of
#: transmission in the SEIR fit when they fall inside the fitted period.
EMERGENCIES = (
    dt.date(2020, 4, 7),
    dt.date(2020, 5, 25),
    dt.date(2021, 1, 8),
    dt.date(2021, 3, 22),
    dt.date(2021, 4, 25),
    dt.date(2021, 6, 21),
    dt.date(2021, 7, 12),
    dt.date(2021, 10, 1),
)
#: default population of the SEIR: the study ward, about 920,000 residents in 2021–2022
#: (the Japan contact matrix's age structure scaled to it; give ``population`` otherwise)
WARD_POPULATION = 920_000
#: mean days in each care setting for the demand projection (assumed: Japan's 10-day
#: isolation at home or in a hotel; 14 days in hospital or a facility)
LENGTH_OF_STAY = {"home": 10.0, "hotel": 10.0, "hospital": 14.0, "facility": 14.0}


@dataclass(frozen=True)
class EpiResult:
    """What an action returns: the table shown or exported, and facts about it."""

    frame: pl.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, pl.DataFrame] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        return [{k: _plain(v) for k, v in r.items()} for r in self.frame.iter_rows(named=True)]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


# -- the database's records ----------------------------------------------------------------


def load_cases(
    ctx: Ctx,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    purpose: str,
    action: str = "epi.run",
) -> pl.DataFrame:
    """The notification records of the period (no personal fields), audited once."""
    ctx.authorize(action)
    from kumin.cases.service import case_frame

    frame = case_frame(ctx, start=start, end=end)
    ctx.audit(
        action,
        "cases",
        purpose=purpose,
        count=frame.height,
        start=str(start or ""),
        end=str(end or ""),
    )
    if frame.height == 0:
        raise DataError("epi.service.no_records")
    return frame


def load_period(
    ctx: Ctx,
    period: Period,
    *,
    purpose: str,
    by: str = "onset",
    action: str = "epi.run",
) -> pl.DataFrame:
    """The records whose ``by`` date lies in the period widened by its history; audited once.

    ``by="onset"``: onset date (records without one by result date, so they can be
    counted or imputed); ``by="result"``: result date.
    """
    if period.start is not None and period.end is not None and period.start > period.end:
        raise UserError("cases.service.bad_range", start=period.start, end=period.end)
    ctx.authorize(action)
    from kumin.cases.service import case_frame

    frame = case_frame(ctx, start=period.read_start, end=period.read_end, by=by)
    ctx.audit(
        action,
        "cases",
        purpose=purpose,
        count=frame.height,
        start=str(period.start or ""),
        end=str(period.end or ""),
        by=by,
    )
    if frame.height == 0:
        raise DataError("epi.service.no_records")
    return frame


def _with_report(frame: pl.DataFrame) -> pl.DataFrame:
    """``report`` = the report date, or the result date where the record has none."""
    cols = [c for c in ("report_date", "result_date") if c in frame.columns]
    return frame.with_columns(pl.coalesce(*cols).alias("report"))


def _strata(by: str | None) -> list[str]:
    if by is None or by == "":
        return []
    if by not in BY_COLUMNS:
        raise UserError(
            "epi.service.bad_by", value=by, allowed=", ".join(BY_COLUMNS), count=len(BY_COLUMNS)
        )
    return [BY_COLUMNS[by]]


def _age_order(frame: pl.DataFrame, by: str | None, column: str) -> pl.DataFrame:
    """Rows by age band in age order: as text, "100+" sorts between "10-19" and "20-29"."""
    if by != "age" or column not in frame.columns:
        return frame
    from kumin.cases.codes import AGE_BANDS

    rank = pl.col(column).replace_strict(
        {b: i for i, b in enumerate(AGE_BANDS)}, default=len(AGE_BANDS), return_dtype=pl.Int64
    )
    return frame.with_row_index("_n").sort(rank, "_n").drop("_n")


def _as_region(key: Any) -> str | None:
    return None if key is None else str(key)


def analyse_curve(
    frame: pl.DataFrame,
    by: str | None = None,
    freq: str = "day",
    date: str = "onset",
    period: Period | None = None,
) -> EpiResult:
    """Cases per day or week; with ``period``, exactly its days (the mean needs history)."""
    from kumin.epi.curves import epi_curve

    daily = freq == "day"
    curve = epi_curve(
        frame, by=date, freq=freq, strata=_strata(by), **curve_bounds(period, history=daily)
    )
    table = curve.frame
    missing = curve.missing_date
    if period is not None:
        table = period.trim(table, "date" if daily else "week_start")
        if date == "onset":
            missing = missing_onset(frame, period)
    meta = {"n_cases": frame.height, "missing_date": missing, "by": by, "date": date}
    if period is not None:
        meta.update(start=str(period.start or ""), end=str(period.end or ""))
    return EpiResult(_age_order(table, by, "age_band"), meta)


#: default period of the delay fits: the last days of the records (delays change over
#: an epidemic as testing changes; these are the delays a nowcast of today relies on)
RECENT_DAYS = 120


def analyse_delays(
    frame: pl.DataFrame, by: str | None = None, recent_days: int | None = RECENT_DAYS
) -> EpiResult:
    """Gamma, lognormal and Weibull fits of each delay (AIC choice, right truncation).

    With ``recent_days``, only cases whose result date falls in the last
    ``recent_days`` days of the records are used (``None``: every case).
    """
    from kumin.epi.delays import DelayFitter

    strata = _strata(by)
    period_end = frame["result_date"].max()
    if recent_days is not None and period_end is not None:
        first = period_end - dt.timedelta(days=recent_days - 1)
        frame = frame.filter(pl.col("result_date") >= first)
    period = (frame["result_date"].min(), period_end)
    groups = (
        [(None, frame)]
        if not strata
        else [(k[0], g) for k, g in frame.group_by(strata, maintain_order=True)]
    )
    frames = []
    excluded: dict[str, int] = {}
    meta: dict[str, Any] = {}
    for key, part in sorted(groups, key=lambda kg: (kg[0] is None, str(kg[0]))):
        for name, (a, b) in INTERVALS.items():
            pair = part.select(a, b).drop_nulls()
            # e.g. a specimen taken before symptoms began: not a delay of this interval
            negative = pair.filter(pl.col(b) < pl.col(a)).height
            pair = pair.filter(pl.col(b) >= pl.col(a))
            excluded[name] = excluded.get(name, 0) + negative
            if pair.height < 20:
                continue
            ends = frame[b].drop_nulls()
            with collecting(meta, "delays"):
                fitter = DelayFitter(random_state=0).fit(
                    pair[a], pair[b], end_date=ends.max() if ends.len() else None
                )
            table = fitter.table_.drop("period", "start", "end").select(
                pl.lit(_as_region(key), dtype=pl.Utf8).alias("stratum"),
                pl.lit(name).alias("interval"),
                pl.all(),
            )
            frames.append(table)
    if not frames:
        raise DataError("epi.service.too_few_delays", minimum=20)
    out = pl.concat(frames)
    if not strata:
        out = out.drop("stratum")
    degenerate_delays(meta, out)
    meta.update(n_cases=frame.height, by=by, negative_excluded=excluded)
    meta.update(period_start=str(period[0]), period_end=str(period[1]))
    return EpiResult(out, meta)


def _delay_pairs(frame: pl.DataFrame) -> pl.DataFrame:
    """Cases with an onset and a report date, reported on or after onset."""
    usable = _with_report(frame).filter(
        pl.col("onset_date").is_not_null()
        & pl.col("report").is_not_null()
        & (pl.col("report") >= pl.col("onset_date"))
    )
    if usable.height < 20:
        raise DataError("epi.service.too_few_delays", minimum=20)
    return usable


def analyse_nowcast(
    frame: pl.DataFrame,
    max_delay: int = 21,
    as_of: dt.date | None = None,
    period: Period | None = None,
) -> EpiResult:
    """Nowcast of the onset curve from the reporting triangle (onset → report)."""
    from kumin.epi.nowcast import Nowcaster

    usable = _delay_pairs(frame)
    nc = Nowcaster(max_delay=max_delay, n_draws=1000, random_state=0)
    meta: dict[str, Any] = {}
    with collecting(meta, "nowcast"):
        nc.fit(usable["onset_date"], usable["report"], as_of=as_of)
    peak = nc.peak()
    table = nc.table_ if period is None else period.trim(nc.table_)
    return EpiResult(
        table,
        meta
        | {
            "n_cases": frame.height,
            "missing_onset": frame["onset_date"].null_count(),
            "as_of": str(nc.as_of_),
            "peak_date": str(peak["date"]),
            "peak_median": peak["median"],
            "peak_lower_90": peak["size_lower_90"],
            "peak_upper_90": peak["size_upper_90"],
            "beyond_max_delay": nc.n_beyond_max_delay_,
            # too little reported to scale up: nowcast from the trend, wider interval
            "unreliable_dates": [str(d) for d in nc.dates_[~nc.reliable_]],
        },
    )


def _distribution(spec: tuple[str, float, float]):
    from kumin.epi.delays import DelayDistribution

    family, a, b = spec
    return getattr(DelayDistribution, family)(a, b)


def analyse_rt(
    frame: pl.DataFrame,
    by: str | None = None,
    method: str = "cori",
    window: int = 7,
    si_mean: float = SI_MEAN,
    si_sd: float = SI_SD,
    progress: Progress = None,
    period: Period | None = None,
) -> EpiResult:
    """Rt by onset date (``cori``, ``simple``; per stratum) or by infection date.

    With ``period``, the estimates of its days only; the frame should hold the
    records of :func:`rt_history` days before it (:func:`load_period` reads them).
    """
    from kumin.epi._checks import check_choice_param
    from kumin.epi.rt import RtEstimator

    check_choice_param(method, "method", "kumin epi rt", RT_METHODS)
    meta: dict[str, Any] = {"n_cases": frame.height, "method": method, "by": by}
    # what 'date' and the interval are, in every output (issue 12: they differ by method)
    meta["date_means"] = "window_centre" if method == "infection" else "window_end"
    meta["interval"] = {
        "cori": f"serial interval gamma, mean {si_mean:g} d, sd {si_sd:g} d (EpiEstim's discr_si)",
        "infection": "generation interval Weibull(2.305, 5.452): mean 4.83 d, sd 2.22 d",
        "simple": "generation time 5 d in the exponent",
    }[method]
    if method == "infection":
        if by:
            raise UserError("epi.service.infection_by")
        from kumin.epi.pipeline import rt_by_infection_date

        linelist = _with_report(frame).select(
            "onset_date",
            pl.col("report").alias("report_date"),
            pl.col("imported").fill_null(False),
        )
        # a report before onset (found before symptoms): the onset stands, the delay is 0
        linelist = linelist.with_columns(
            pl.max_horizontal("report_date", "onset_date").alias("report_date")
        ).filter(pl.col("onset_date").is_not_null() | pl.col("report_date").is_not_null())
        if progress:
            progress(0, 1)
        with collecting(meta, "rt_infection"):
            res = rt_by_infection_date(
                linelist,
                incubation=_distribution(INCUBATION),
                generation_interval=_distribution(GENERATION),
                imported_col="imported",
                window=window,
                random_state=0,
            )
        if progress:
            progress(1, 1)
        out = res.rt.select(
            pl.lit(None, dtype=pl.Utf8).alias("region"),
            "date",
            *(pl.col(f"{c}_centred").alias(c) for c in RT_COLUMNS[2:]),
        )
        meta.update(n_imputed=res.n_imputed, n_imported=res.n_imported)
        onsets = res.onsets
        if period is not None:
            out, onsets = period.trim(out), period.trim(onsets)
        return EpiResult(out, meta, {"onsets": onsets})
    from kumin.epi.curves import epi_curve

    curve = epi_curve(
        frame.filter(~pl.col("imported").fill_null(False)),
        strata=_strata(by),
        **curve_bounds(period),
    )
    counts, keys, dates = curve.matrix()
    est = RtEstimator(method=method, window=window, si_mean=si_mean, si_sd=si_sd)
    with collecting(meta, "rt"):
        est.fit(counts if by else counts[0])
    out = est.to_frame(dates, [_as_region(k) for k in keys] if by else None)
    meta["missing_onset"] = missing_onset(frame, period)
    if period is not None:
        out = period.trim(out)
    return EpiResult(_age_order(out.select(RT_COLUMNS), by, "region"), meta)


def analyse_growth(
    frame: pl.DataFrame, by: str | None = None, window: int = 14, period: Period | None = None
) -> EpiResult:
    from kumin.epi.curves import epi_curve
    from kumin.epi.growth import GrowthEstimator

    curve = epi_curve(frame, strata=_strata(by), **curve_bounds(period))
    counts, keys, dates = curve.matrix()
    meta: dict[str, Any] = {"n_cases": frame.height, "missing_onset": missing_onset(frame, period)}
    # windows without cases have no estimate (numpy's 0/0, shown as empty cells); a fit
    # that fails to converge is a model warning the reader sees
    with collecting(meta, "growth"):
        est = GrowthEstimator(window=window).fit(counts if by else counts[0])
    out = est.to_frame(dates, [_as_region(k) for k in keys] if by else None)
    if period is not None:
        out = period.trim(out)
    return EpiResult(_age_order(out, by, "region"), meta)


def analyse_backtest(
    frame: pl.DataFrame, max_delay: int = 14, n_dates: int = 8, every: int = 7
) -> EpiResult:
    """Replay the records as they stood on ``n_dates`` past dates and score the nowcasts."""
    from kumin.epi.nowcast import Nowcaster
    from kumin.epi.scoring import backtest

    usable = _delay_pairs(frame)
    report = "report"
    last = usable[report].max()
    first = usable["onset_date"].min()
    # the last replay is max_delay days before the end, so its days are (nearly) final
    dates = [last - dt.timedelta(days=max_delay + every * i) for i in range(n_dates)]
    dates = sorted(d for d in dates if d - first > dt.timedelta(days=3 * (max_delay + 1)))
    if not dates:
        raise DataError("epi.service.too_short_backtest", days=3 * (max_delay + 1) + max_delay)
    meta: dict[str, Any] = {}
    with collecting(meta, "backtest"):
        result = backtest(
            Nowcaster(max_delay=max_delay, n_draws=400, random_state=0),
            usable["onset_date"],
            usable[report],
            dates,
        )
    return EpiResult(
        result.summary,
        meta | {"as_of_dates": [str(d) for d in dates], "coverage_90": result.coverage(0.9)},
        {"table": result.table},
    )


def _onset_or_shifted(frame: pl.DataFrame) -> pl.DataFrame:
    """Onset date, or for cases without one the result date minus the median delay."""
    both = frame.filter(pl.col("onset_date").is_not_null() & pl.col("result_date").is_not_null())
    lag = int((both["result_date"] - both["onset_date"]).dt.total_days().median() or 0)
    return frame.with_columns(
        pl.coalesce("onset_date", pl.col("result_date") - pl.duration(days=lag)).alias("day"),
        # the contact matrix stops at 80+: the records' 80-89, 90-99 and 100+ all go there
        pl.col("age_band").replace({"80-89": "80+", "90-99": "80+", "100+": "80+"}),
    ).filter(pl.col("day").is_not_null() & pl.col("age_band").is_not_null())


def analyse_seir(
    frame: pl.DataFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    change_dates: Sequence[dt.date] | None = None,
    horizon: int = 60,
    reductions: Sequence[float] = (0.2, 0.4),
    population: float = WARD_POPULATION,
    n_samples: int = 100,
    progress: Progress = None,
) -> EpiResult:
    """Fit the age-structured SEIR to cases by age band and compare scenarios side by side.

    Default period: the last 90 days of the records. Default change dates: Tokyo's
    states of emergency inside the period. Scenarios: as fitted, and contacts cut
    by each of ``reductions`` from the day after the data. The records hold no dose
    schedule, so the fit runs without vaccination (scenarios of faster vaccination
    need :meth:`SEIRModel.fit <kumin.epi.seir_fit.SEIRModel.fit>` with ``doses``).
    """
    from kumin.epi.contact_matrices import (
        contact_matrix_from_array,
        japan_contact_matrix,
        model_band_of,
    )
    from kumin.epi.seir_fit import SEIRModel
    from kumin.epi.seir_inputs import cases_by_band
    from kumin.epi.seir_scenarios import Scenario, compare_scenarios

    data = _onset_or_shifted(frame)
    if data.height == 0:
        raise DataError("epi.service.no_records")
    last = data["day"].max() if end is None else end
    first = last - dt.timedelta(days=89) if start is None else start
    first = max(first, data["day"].min())
    data = data.filter(pl.col("day").is_between(first, last))
    if change_dates is None:
        change_dates = [d for d in EMERGENCIES if first + dt.timedelta(days=14) < d < last]
    scenarios = [
        Scenario("baseline"),
        *(Scenario(f"contacts -{round(r * 100)}%", contact_reduction=r) for r in reductions),
    ]
    total = 1 + len(scenarios)
    if progress:
        progress(0, total)
    days, cases = cases_by_band(data, date_column="day", start=first, end=last)
    japan = japan_contact_matrix()
    # Japan's contacts and age structure, scaled to the ward: depletion of susceptibles
    # happens at the ward's size, not the nation's
    contacts = contact_matrix_from_array(
        japan.matrix, japan.population * (population / japan.population.sum()), japan.bands
    )
    model = SEIRModel(contacts, change_dates=change_dates, ci_method="wald", random_state=0)
    meta: dict[str, Any] = {}
    with collecting(meta, "seir"):
        model.fit(days, cases)
    if progress:
        progress(1, total)
    care = _care_settings(data, model_band_of)
    results = []
    for i, scenario in enumerate(scenarios):
        with collecting(meta, "seir"):
            results.append(
                compare_scenarios(
                    model, [scenario], horizon, care, n_samples=n_samples, random_state=0
                )
            )
        if progress:
            progress(2 + i, total)
    summary = pl.concat([r.summary for r in results], how="diagonal")
    return EpiResult(
        summary,
        meta
        | {
            "start": str(first),
            "end": str(last),
            "change_dates": [str(d) for d in change_dates],
            "population": population,
            "params": {k: float(v) for k, v in model.params_.items()},
        },
        {
            "total": pl.concat([r.total for r in results]),
            "care": pl.concat([r.care for r in results if r.care is not None]),
            "ci": model.ci_,
        },
    )


def _care_settings(data: pl.DataFrame, band_of) -> Any:
    """Care-setting shares by model band, from the records themselves."""
    from kumin.epi.contact_matrices import MODEL_BANDS
    from kumin.epi.seir_scenarios import CareSettings

    known = data.filter(pl.col("care_setting").is_in(list(LENGTH_OF_STAY)))
    counts: dict[str, dict[str, int]] = {b: dict.fromkeys(LENGTH_OF_STAY, 0) for b in MODEL_BANDS}
    overall = dict.fromkeys(LENGTH_OF_STAY, 0)
    for band, setting in known.select("age_band", "care_setting").iter_rows():
        try:
            model_band = band_of(band)
        except Exception:  # noqa: BLE001 - an unknown band label: counted overall only
            model_band = None
        overall[setting] += 1
        if model_band in counts:
            counts[model_band][setting] += 1
    shares = {}
    for band, row in counts.items():
        base = row if sum(row.values()) >= 20 else overall
        total = sum(base.values()) or 1
        shares[band] = {
            s: (base[s] / total if sum(base.values()) else (1.0 if s == "home" else 0.0))
            for s in LENGTH_OF_STAY
        }
    return CareSettings(shares, dict(LENGTH_OF_STAY))


# -- the actions ----------------------------------------------------------------------------


def curve(ctx: Ctx, start=None, end=None, by=None, freq="day", date="onset") -> EpiResult:
    """The curve of the records whose ``date`` (onset or report) lies in the period."""
    from kumin.epi._checks import check_choice_param

    check_choice_param(date, "date", "kumin epi curve", ("onset", "report"))
    period = Period(start, end, before=ROLLING - 1)
    frame = load_period(
        ctx, period, purpose="epi curve", by="onset" if date == "onset" else "result"
    )
    return analyse_curve(frame, by, freq, date, period)


def delays(ctx: Ctx, start=None, end=None, by=None) -> EpiResult:
    """Delays of the given period, or of the last :data:`RECENT_DAYS` days without ``start``."""
    frame = load_cases(ctx, start, end, purpose="epi delays")
    return analyse_delays(frame, by, None if start else RECENT_DAYS)


def nowcast(ctx: Ctx, start=None, end=None, max_delay: int = 21, as_of=None) -> EpiResult:
    """The nowcast of the onsets in the period (reports after it count as they arrived)."""
    period = Period(start, end)
    frame = load_period(ctx, period, purpose="epi nowcast")
    return analyse_nowcast(frame, max_delay, as_of, period)


def rt(
    ctx: Ctx,
    start=None,
    end=None,
    by=None,
    method="cori",
    window=7,
    si_mean=SI_MEAN,
    si_sd=SI_SD,
    progress: Progress = None,
) -> EpiResult:
    period = rt_period(start, end, method, window, si_mean, si_sd)
    frame = load_period(ctx, period, purpose="epi rt")
    return analyse_rt(frame, by, method, window, si_mean, si_sd, progress, period)


def rt_period(
    start=None, end=None, method="cori", window=7, si_mean=SI_MEAN, si_sd=SI_SD
) -> Period:
    """The period of an Rt estimate with the history (and look-ahead) it needs."""
    after = INFECTION_AFTER if method == "infection" else 0
    return Period(start, end, rt_history(method, window, si_mean, si_sd), after)


def growth(ctx: Ctx, start=None, end=None, by=None, window: int = 14) -> EpiResult:
    period = Period(start, end, before=max(window, 0))
    frame = load_period(ctx, period, purpose="epi growth")
    return analyse_growth(frame, by, window, period)


def backtest(ctx: Ctx, start=None, end=None, max_delay: int = 14, n_dates: int = 8) -> EpiResult:
    frame = load_cases(ctx, start, end, purpose="epi backtest")
    return analyse_backtest(frame, max_delay, n_dates)


def seir(
    ctx: Ctx,
    start=None,
    end=None,
    horizon: int = 60,
    change_dates=None,
    population: float = WARD_POPULATION,
    progress: Progress = None,
) -> EpiResult:
    frame = load_cases(ctx, None, end, purpose="epi seir")
    return analyse_seir(
        frame,
        start=start,
        end=end,
        change_dates=change_dates,
        horizon=horizon,
        population=population,
        progress=progress,
    )
