"""What users do with call-centre records: import them, summarise them, size the
staff for a target and plan staffing against a forecast.

One function per user action, each taking a :class:`~kumin.core.context.Ctx`
first and checking its permission before any work; the CLI commands, the web
pages and the JSON API call these same functions. The numbers come from the pure
cores (:mod:`kumin.resources.calls`, :mod:`~kumin.resources.queueing`,
:mod:`~kumin.resources.staffing`); this module reads and writes the tables.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import delete, insert, inspect, select, update

from kumin.core.context import Ctx
from kumin.core.db import utcnow
from kumin.core.imports import ImportResult, Progress
from kumin.core.tabular import read_table
from kumin.errors import DataError, UserError
from kumin.resources.calibration import (
    LoadEffect,
    SaturationTest,
    calibrate_patience,
    saturation_test,
    staff_effect_by_load,
)
from kumin.resources.calls import (
    LeadLag,
    StaffEffect,
    external_staff_effect,
    lead_lag,
    parse_call_records,
    parse_tokyo_calls,
    summarise_period,
)
from kumin.resources.models import CALL_VALUE_COLUMNS, WARD_CENTRE, CallDay, CentreCases
from kumin.resources.profiles import Column, inline_profile

PROFILES = {"call_centre_daily": parse_call_records, "tokyo_calls": parse_tokyo_calls}
PROFILE_ALIASES = {"ward": "call_centre_daily", "tokyo": "tokyo_calls"}
# Tokyo's open-data files (../shared/data/tokyo/) and the centre each one counts.
TOKYO_CENTRES = {
    "tokyo_call_center_daily": "tokyo_call_centre",
    "tokyo_7119_fever_consultation_calls_daily": "tokyo_7119_fever_line",
    "tokyo_combined_telephone_advice_center_daily": "tokyo_returnee_contact_centre",
}
# A case forecast (from the nowcast or a projection): date and expected cases.
CASE_FORECAST = inline_profile(
    "case_forecast",
    Column("date", ("日付", "報告日", "年月日"), "date"),
    Column("cases", ("患者数", "症例数", "件数", "cases_median"), "float", low=0),
    key=("date",),
)
BATCH = 5000
MAX_NAME = 100


def with_path(exc: DataError, name: str) -> DataError:
    """The cores name no file (``path="-"``); say which one the user gave."""
    if exc.params.get("path") in (None, "-"):
        exc.params["path"] = name
    return exc


def open_table(path: str | os.PathLike[str], encoding: str, display_name: str | None):
    """Read a file through the shared reader; ``display_name`` replaces a temp name."""
    table = read_table(path, encoding)
    if display_name:
        table.path = Path(display_name)
    return table


def profile_name(profile: str) -> str:
    name = PROFILE_ALIASES.get(profile, profile)
    if name not in PROFILES:
        raise UserError(
            "resources.calls.unknown_profile", name=profile, allowed=", ".join(sorted(PROFILES))
        )
    return name


def check_name(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > MAX_NAME:
        raise UserError("resources.bad_name", what=what, limit=MAX_NAME)
    return value


def default_centre(profile: str, file_name: str) -> str:
    if profile == "tokyo_calls":
        stem = Path(file_name).stem
        return TOKYO_CENTRES.get(stem, stem[:MAX_NAME])
    return WARD_CENTRE


# ---------------------------------------------------------------- import


def import_calls(
    ctx: Ctx,
    path: str | os.PathLike[str],
    profile: str = "call_centre_daily",
    centre: str | None = None,
    encoding: str = "auto",
    display_name: str | None = None,
    progress: Progress = None,
) -> ImportResult:
    """Import daily call-centre records for one centre, all or nothing.

    A date already stored for the centre is updated when its values differ and
    left alone otherwise, so importing the same file twice changes nothing.
    Columns the file lacks are stored as unknown (null).
    """
    ctx.authorize("calls.manage")
    name = profile_name(profile)
    table = open_table(path, encoding, display_name)
    file_name = table.path.name
    centre = check_name(centre if centre is not None else default_centre(name, file_name), "centre")
    frame = PROFILES[name](table)
    rows = []
    for rec in frame.iter_rows(named=True):
        row = {c: rec.get(c) for c in CALL_VALUE_COLUMNS}
        row["date"] = rec["date"]
        rows.append(row)
    existing = {
        r.date: r
        for r in ctx.session.scalars(
            select(CallDay).where(
                CallDay.centre == centre,
                CallDay.date >= frame["date"].min(),
                CallDay.date <= frame["date"].max(),
            )
        )
    }
    now = utcnow()
    new, changed = [], []
    for row in rows:
        old = existing.get(row["date"])
        if old is None:
            new.append({**row, "centre": centre, "profile": name, "updated_at": now})
        elif any(getattr(old, c) != row[c] for c in CALL_VALUE_COLUMNS) or old.profile != name:
            changed.append({**row, "id": old.id, "profile": name, "updated_at": now})
    write_rows(ctx, CallDay, new, changed, progress)
    result = ImportResult(
        file_name=file_name,
        profile=name,
        rows=len(rows),
        records=len(rows),
        inserted=len(new),
        updated=len(changed),
        unchanged=len(rows) - len(new) - len(changed),
        first=frame["date"].min(),
        last=frame["date"].max(),
        changed=[r["date"].isoformat() for r in changed],
        extra={"name": centre},
    )
    ctx.audit(
        "calls.import",
        f"centre:{centre}",
        purpose="import",
        file=file_name,
        profile=name,
        changed_dates=result.changed[:50],
        **result.counts(),
    )
    return result


def write_rows(ctx: Ctx, model, new: list[dict], changed: list[dict], progress: Progress) -> None:
    total = len(new) + len(changed)
    done = 0
    for i in range(0, len(new), BATCH):
        ctx.session.execute(insert(model), new[i : i + BATCH])
        done += len(new[i : i + BATCH])
        if progress:
            progress(done, total)
    for i in range(0, len(changed), BATCH):
        ctx.session.execute(update(model), changed[i : i + BATCH])
        done += len(changed[i : i + BATCH])
        if progress:
            progress(done, total)
    ctx.session.flush()


# ---------------------------------------------------------------- reading


def list_centres(ctx: Ctx) -> list[dict[str, Any]]:
    """Each centre with its first and last day and whether staffing is known."""
    ctx.authorize("calls.read")
    out = []
    for centre in ctx.session.scalars(select(CallDay.centre).distinct().order_by(CallDay.centre)):
        frame = call_frame(ctx, centre)
        out.append(
            {
                "centre": centre,
                "start": frame["date"].min(),
                "end": frame["date"].max(),
                "days": frame.height,
                "staffing": has_staffing(frame),
            }
        )
    return out


def call_frame(
    ctx: Ctx,
    centre: str = WARD_CENTRE,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """A centre's stored days as a frame (the core's columns), sorted by date."""
    ctx.authorize("calls.read")
    stmt = select(CallDay).where(CallDay.centre == centre).order_by(CallDay.date)
    if start is not None:
        stmt = stmt.where(CallDay.date >= start)
    if end is not None:
        stmt = stmt.where(CallDay.date <= end)
    records = ctx.session.scalars(stmt).all()
    schema = {
        "date": pl.Date,
        "calls_received": pl.Int64,
        "calls_answered": pl.Int64,
        "staff_regular": pl.Int64,
        "staff_external": pl.Int64,
        "staffed_hours": pl.Float64,
        "calls_abandoned": pl.Int64,
        "mean_handle_seconds": pl.Float64,
        "cost_yen": pl.Float64,
    }
    return pl.DataFrame(
        {c: [getattr(r, c) for r in records] for c in schema}, schema=schema, strict=False
    )


def has_staffing(frame: pl.DataFrame) -> bool:
    cols = ("calls_answered", "staff_regular", "staff_external", "staffed_hours")
    return frame.height > 0 and all(frame[c].null_count() == 0 for c in cols)


def _candidate_case_tables(ctx: Ctx) -> list[tuple[str, str]]:
    """(table, report-date column) of notification tables that exist, if any.

    The notification records belong to the cases domain (``kumin.cases.models``),
    which may not be installed: look its tables up by name, never import it.
    """
    from kumin.core.db import Base, load_models

    load_models()
    present = set(inspect(ctx.session.connection()).get_table_names())
    found = []
    for name, table in Base.metadata.tables.items():
        if not name.startswith("cases_") or name not in present:
            continue
        for column in ("result_date", "report_date"):
            col = table.columns.get(column)
            try:
                is_date = col is not None and col.type.python_type is dt.date
            except NotImplementedError:
                is_date = False
            if is_date:
                found.append((name, column))
                break
    return found


def case_counts(ctx: Ctx, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """Reported cases per report date (``date, cases``); empty without notification tables.

    Only counts are read, never a personal field, so nothing is audited here.
    """
    from sqlalchemy import func

    from kumin.core.db import Base

    empty = pl.DataFrame(schema={"date": pl.Date, "cases": pl.Int64})
    for name, column in _candidate_case_tables(ctx):
        col = Base.metadata.tables[name].columns[column]
        stmt = select(col, func.count()).where(col.is_not(None)).group_by(col).order_by(col)
        if start is not None:
            stmt = stmt.where(col >= start)
        if end is not None:
            stmt = stmt.where(col <= end)
        rows = ctx.session.execute(stmt).all()
        if rows:
            return pl.DataFrame(
                {"date": [r[0] for r in rows], "cases": [int(r[1]) for r in rows]},
                schema=empty.schema,
            )
    return empty


def import_centre_cases(
    ctx: Ctx,
    path: str | os.PathLike[str],
    centre: str,
    encoding: str = "auto",
    display_name: str | None = None,
) -> ImportResult:
    """The daily case series one centre's demand follows (``date,cases``), all or
    nothing; the centre's stored series is replaced on the file's dates."""
    from kumin.resources.profiles import parse_table

    ctx.authorize("calls.manage")
    centre = check_name(centre, "centre")
    table = open_table(path, encoding, display_name)
    frame, _ = parse_table(table, "centre_cases")
    lo, hi = frame["date"].min(), frame["date"].max()
    ctx.session.execute(
        delete(CentreCases).where(
            CentreCases.centre == centre, CentreCases.date >= lo, CentreCases.date <= hi
        )
    )
    ctx.session.add_all(
        CentreCases(centre=centre, date=r["date"], cases=r["cases"])
        for r in frame.iter_rows(named=True)
    )
    ctx.session.flush()
    ctx.audit("calls.cases_import", f"centre:{centre}", rows=frame.height, file=table.path.name)
    return ImportResult(
        file_name=table.path.name,
        profile="centre_cases",
        rows=frame.height,
        records=frame.height,
        inserted=frame.height,
        first=lo,
        last=hi,
        extra={"name": centre},
    )


def centre_case_counts(ctx: Ctx, centre: str) -> pl.DataFrame:
    """The cases a centre's calls are compared with (``date, cases``): its own
    imported series; for the ward's centre without one, the ward's notifications.
    Another centre without a series gets none: comparing Tokyo's centre with the
    ward's cases would say little about either (#13)."""
    rows = ctx.session.execute(
        select(CentreCases.date, CentreCases.cases)
        .where(CentreCases.centre == centre)
        .order_by(CentreCases.date)
    ).all()
    if rows:
        return pl.DataFrame(
            {"date": [r[0] for r in rows], "cases": [int(r[1]) for r in rows]},
            schema={"date": pl.Date, "cases": pl.Int64},
        )
    if centre == WARD_CENTRE:
        return case_counts(ctx)
    return pl.DataFrame(schema={"date": pl.Date, "cases": pl.Int64})


# ---------------------------------------------------------------- summary


@dataclass(frozen=True)
class CentreSummary:
    """A centre's figures over a period; parts the data cannot give are None."""

    centre: str
    summary: Any  # kumin.resources.calls.CallSummary
    staff_effect: StaffEffect | None = None
    staff_effect_note: str | None = None  # message key when it could not be fitted
    lead_lag: LeadLag | None = None
    lead_lag_note: str | None = None
    load_effect: LoadEffect | None = None  # the calibrated model's effect by load
    saturation: SaturationTest | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"centre": self.centre, **asdict(self.summary)}
        effect = None
        if self.staff_effect is not None:
            e = self.staff_effect
            effect = {
                "lag_days": e.lag,
                "days": e.days,
                "calls_per_added_person": e.per_person,
                "low": e.per_person_low,
                "high": e.per_person_high,
                "hac_lags": e.hac_lags,
                "critical_value": e.z,
                "reading": "association",
            }
            effect["saturation"] = None
            if self.saturation is not None:
                s = self.saturation
                effect["saturation"] = {
                    "saturates": s.saturates,
                    "p_value": s.p_value,
                    "staff_threshold": s.threshold,
                    "statistic": s.statistic,
                    "simulations": s.n_sim,
                }
        out["staff_effect"] = effect
        out["staff_effect_by_load"] = None
        if self.load_effect is not None:
            le = self.load_effect
            out["staff_effect_by_load"] = {
                "patience_seconds": le.patience.patience_seconds,
                "patience_low": le.patience.low,
                "patience_high": le.patience.high,
                "median_day": le.median_day,
                "median_day_low": le.median_day_low,
                "median_day_high": le.median_day_high,
                "bands": le.by_band.to_dicts(),
            }
        out["staff_effect_note"] = self.staff_effect_note
        out["lead_lag"] = (
            None
            if self.lead_lag is None
            else {
                "calls_lead_days": self.lead_lag.best_lag,
                "correlation": self.lead_lag.correlation,
                "threshold": self.lead_lag.threshold,
            }
        )
        out["lead_lag_note"] = self.lead_lag_note
        return out


def calls_summary(
    ctx: Ctx,
    start: dt.date | None = None,
    end: dt.date | None = None,
    centre: str | None = None,
) -> list[CentreSummary]:
    """Answer rate, calls per staff-hour, cost per answered call, the effect of
    external staff (with saturation) and the lead/lag with reported cases, per centre.
    """
    ctx.authorize("calls.read")
    centres = [centre] if centre else [c["centre"] for c in list_centres(ctx)]
    out = []
    for name in centres:
        cases = centre_case_counts(ctx, name)
        frame = call_frame(ctx, name, start, end)
        if frame.height == 0:
            continue
        summary = summarise_period(frame)
        effect = effect_note = load = saturation = None
        if has_staffing(frame):
            try:
                effect = external_staff_effect(frame)
            except DataError as exc:
                effect_note = exc.key
            load, saturation = _model_effects(frame)
        else:
            effect_note = "resources.calls.no_staffing"
        lead = lead_note = None
        if cases.height:
            try:
                lead = lead_lag(frame, cases)
            except DataError as exc:
                lead_note = exc.key
            except IndexError:
                # No lag had enough varying days to correlate (e.g. no cases at all
                # in the centre's period): the core finds no best lag.
                lead_note = "resources.calls.no_overlap"
        else:
            lead_note = (
                "resources.calls.no_cases"
                if name == WARD_CENTRE
                else "resources.calls.no_centre_cases"
            )
        out.append(
            CentreSummary(name, summary, effect, effect_note, lead, lead_note, load, saturation)
        )
    if not out:
        raise DataError("resources.no_rows")
    return out


def _model_effects(frame: pl.DataFrame) -> tuple[LoadEffect | None, SaturationTest | None]:
    """The calibrated Erlang A model's staff effect by load and its saturation test,
    where abandoned calls and handle times let the model be calibrated."""
    try:
        fit = calibrate_patience(frame)
        if fit is None:
            return None, None
        load = staff_effect_by_load(frame, patience=fit)
    except DataError:
        return None, None
    try:
        saturation = saturation_test(frame, patience=fit)
    except DataError:
        saturation = None
    return load, saturation


SUMMARY_METRICS = (
    "days",
    "calls_received",
    "mean_calls_per_day",
    "peak_calls",
    "peak_date",
    "calls_answered",
    "answer_rate",
    "calls_abandoned",
    "abandon_rate",
    "staff_hours",
    "external_share_of_staff_hours",
    "calls_per_staff_hour",
    "cost_yen",
    "cost_per_answered_call",
)


def summary_rows(summaries: list[CentreSummary]) -> list[dict[str, Any]]:
    """Long rows ``centre, metric, value, low, high`` for a table or CSV."""
    rows = []
    for s in summaries:
        d = s.as_dict()
        for metric in SUMMARY_METRICS:
            if d.get(metric) is not None:
                rows.append(_metric(s.centre, metric, d[metric]))
        effect = d["staff_effect"]
        if effect:
            rows.append(
                _metric(
                    s.centre,
                    "calls_per_added_person",
                    effect["calls_per_added_person"],
                    effect["low"],
                    effect["high"],
                )
            )
            rows.append(_metric(s.centre, "staff_lag_days", effect["lag_days"]))
            sat = effect["saturation"]
            if sat:
                rows.append(_metric(s.centre, "saturates", sat["saturates"]))
                rows.append(_metric(s.centre, "saturation_p_value", sat["p_value"]))
        by_load = d["staff_effect_by_load"]
        if by_load:
            rows.append(
                _metric(
                    s.centre,
                    "patience_seconds",
                    by_load["patience_seconds"],
                    by_load["patience_low"],
                    by_load["patience_high"],
                )
            )
            rows.append(
                _metric(
                    s.centre,
                    "marginal_calls_median_day",
                    by_load["median_day"],
                    by_load["median_day_low"],
                    by_load["median_day_high"],
                )
            )
            for band in by_load["bands"]:
                if band["days"]:
                    rows.append(
                        _metric(
                            s.centre,
                            f"marginal_calls_abandon_{band['band']}",
                            band["marginal"],
                            band["low"],
                            band["high"],
                        )
                    )
        if d["lead_lag"]:
            rows.append(
                _metric(s.centre, "calls_lead_cases_days", d["lead_lag"]["calls_lead_days"])
            )
            rows.append(_metric(s.centre, "lead_lag_correlation", d["lead_lag"]["correlation"]))
    return rows


def _metric(centre: str, metric: str, value: Any, low: Any = None, high: Any = None) -> dict:
    def show(v: Any) -> Any:
        return round(v, 4) if isinstance(v, float) else v

    return {
        "centre": centre,
        "metric": metric,
        "value": show(value),
        "low": show(low),
        "high": show(high),
    }
