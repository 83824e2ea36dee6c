"""What users do with notification records: import them, look at them in
aggregate, and hand the analysis fields to the models.

One function per user action, each taking a :class:`~kumin.core.context.Ctx`
first and checking its permission before any work. Imports live in
:mod:`kumin.cases.imports`, contracts in :mod:`kumin.cases.contracts`, releases in
:mod:`kumin.cases.releases`; this module re-exports the import and adds the
read side.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy import func, select

from kumin.cases.codes import AGE_BANDS
from kumin.cases.imports import ImportResult, import_cases
from kumin.cases.models import CaseRow, ImportRun
from kumin.cases.tables import protect_table
from kumin.core import snapshots
from kumin.core.context import Ctx
from kumin.errors import ParameterError

__all__ = ["FRAME_SCHEMA", "ImportResult", "case_frame", "import_cases", "list_imports", "summary"]

#: Columns of :func:`case_frame`: the analysis fields only, never a personal one.
FRAME_SCHEMA: dict[str, Any] = {
    "onset_date": pl.Date,
    "first_visit_date": pl.Date,
    "specimen_date": pl.Date,
    "result_date": pl.Date,
    "report_date": pl.Date,
    "age_years": pl.Int64,
    "age_band": pl.Utf8,
    "sex": pl.Utf8,
    "town": pl.Utf8,
    "care_setting": pl.Utf8,
    "vaccine_doses": pl.Int64,
    "asymptomatic": pl.Boolean,
    "imported": pl.Boolean,
}
_BY = {
    "result": CaseRow.result_date,
    "report": CaseRow.report_date,
    # the onset curve's day; a record without an onset comes with its result date, so
    # the models can count (or impute) the period's cases that have none
    "onset": func.coalesce(CaseRow.onset_date, CaseRow.result_date),
}


def case_frame(
    ctx: Ctx, start: dt.date | None = None, end: dt.date | None = None, by: str = "result"
) -> pl.DataFrame:
    """One row per notification record with the analysis fields (no personal field).

    Rows are those whose result date (``by="result"``), report date
    (``by="report"``) or onset date (``by="onset"``; the result date of a record
    without one) lies in ``[start, end]``; with neither bound every record is
    returned, including those without that date.
    """
    ctx.authorize("cases.summary")
    column = _BY.get(by)
    if column is None:
        raise ParameterError("cases.service.bad_by", got=by)
    if start is not None and end is not None and start > end:
        raise ParameterError("cases.service.bad_range", start=start, end=end)
    stmt = select(*(getattr(CaseRow, c) for c in FRAME_SCHEMA)).order_by(CaseRow.id)
    if start is not None:
        stmt = stmt.where(column >= start)
    if end is not None:
        stmt = stmt.where(column <= end)
    rows = ctx.session.execute(stmt).all()
    data = {c: [r[i] for r in rows] for i, c in enumerate(FRAME_SCHEMA)}
    return pl.DataFrame(data, schema=FRAME_SCHEMA)


def _month_of(frame: pl.DataFrame) -> pl.Expr:
    day = pl.coalesce(
        pl.col("result_date"), pl.col("report_date"), pl.col("specimen_date"), pl.col("onset_date")
    )
    return day.dt.strftime("%Y-%m").alias("month")


def _counts(frame: pl.DataFrame, key: str | pl.Expr, name: str) -> list[dict[str, Any]]:
    counted = frame.group_by(key).agg(pl.len().alias("count")).sort(name, nulls_last=True)
    return [{"key": r[name], "count": int(r["count"])} for r in counted.iter_rows(named=True)]


SUMMARY_AXES = ("month", "age_band", "sex", "town", "care_setting")


def summary(ctx: Ctx, public: bool = False) -> dict[str, Any]:
    """Record counts by month (of result), age band, sex, town and care setting.

    With ``public=True`` (output meant for publication) counts from 1 to
    ``settings.small_cell - 1`` are suppressed together with the cells that would
    give them away (:mod:`kumin.cases.tables`), all shown as ``"x"``; a table that
    cannot be protected is withheld (listed in ``withheld``); a note says so.
    ``total`` is never suppressed.
    """
    ctx.authorize("cases.summary")
    threshold = ctx.settings.small_cell

    def compute() -> dict[str, Any]:
        return _summary(case_frame(ctx), public, threshold)

    # Aggregates only, recomputed once per change of the records, not per view
    # (every worker shares the stored snapshot).
    key = f"cases.summary:public={int(public)}:threshold={threshold}"
    out = snapshots.cached(ctx.session, key, [CaseRow.__table__], compute)
    ctx.audit("cases.summary", "cases", public=public, total=out["total"])
    return out


def _summary(frame: pl.DataFrame, public: bool, threshold: int) -> dict[str, Any]:
    out: dict[str, Any] = {"total": frame.height, "public": public}
    withheld: list[str] = []
    for axis in SUMMARY_AXES:
        key: str | pl.Expr = _month_of(frame) if axis == "month" else axis
        rows = _counts(frame, key, axis)
        if axis == "age_band":  # "100+" sorts after "10-19" as text
            rows.sort(key=lambda r: AGE_BANDS.index(r["key"]) if r["key"] in AGE_BANDS else 99)
        if public:
            published = protect_table([r["count"] for r in rows], threshold)
            if published is None:
                withheld.append(axis)
                rows = []
            else:
                rows = [{**r, "count": c} for r, c in zip(rows, published, strict=True)]
        out[axis] = rows
    out["suppressed"] = public and (
        bool(withheld)
        or any(isinstance(r["count"], str) for axis in SUMMARY_AXES for r in out[axis])
    )
    out["withheld"] = withheld
    out["threshold"] = threshold if public else None
    return out


def list_imports(ctx: Ctx, limit: int = 50) -> list[dict[str, Any]]:
    """The latest imports, newest first."""
    ctx.authorize("cases.summary")
    runs = ctx.session.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit))
    return [
        {
            "id": r.id,
            "started_at": r.started_at,
            "actor": r.actor,
            "file_name": r.file_name,
            "profile": r.profile,
            "rows": r.rows,
            "records": r.records,
            "inserted": r.inserted,
            "updated": r.updated,
            "unchanged": r.unchanged,
            "warnings": r.warnings,
        }
        for r in runs
    ]
