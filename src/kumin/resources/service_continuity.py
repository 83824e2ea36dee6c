"""Continuity of core services: import monthly counts and assess them.

The verdicts come from :func:`kumin.resources.continuity.assess_continuity`;
this module stores the counts (one row per service and month, re-imports update
changed months) and feeds either the stored counts or a given file to it.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import polars as pl
from sqlalchemy import select

from kumin.core.context import Ctx
from kumin.core.db import utcnow
from kumin.errors import DataError
from kumin.resources.continuity import (
    ContinuityAssessment,
    assess_continuity,
    parse_service_counts,
)
from kumin.resources.models import ServiceMonth
from kumin.resources.service import (
    MAX_NAME,
    ImportResult,
    Progress,
    open_table,
    write_rows,
)

DEFAULT_BASELINE_END = "2020-02"  # the last month before Japan's first wave


def import_service_counts(
    ctx: Ctx,
    path: str | os.PathLike[str],
    encoding: str = "auto",
    display_name: str | None = None,
    progress: Progress = None,
) -> ImportResult:
    """Import monthly counts (``service, month, count``), all or nothing.

    A month already stored for a service is updated when its count differs;
    importing the same file twice changes nothing.
    """
    ctx.authorize("continuity.manage")
    table = open_table(path, encoding, display_name)
    file_name = table.path.name
    frame = parse_service_counts(table)
    too_long = [s for s in frame["service"].unique().to_list() if len(s) > MAX_NAME]
    if too_long:
        from kumin.errors import UserError

        raise UserError("resources.bad_name", what="service", limit=MAX_NAME)
    existing = {
        (r.service, r.month): r
        for r in ctx.session.scalars(
            select(ServiceMonth).where(
                ServiceMonth.service.in_(frame["service"].unique().to_list())
            )
        )
    }
    now = utcnow()
    new, changed = [], []
    for rec in frame.iter_rows(named=True):
        old = existing.get((rec["service"], rec["month"]))
        if old is None:
            new.append({**rec, "updated_at": now})
        elif old.count != rec["count"]:
            changed.append({"id": old.id, "count": rec["count"], "updated_at": now})
            changed[-1]["_key"] = f"{rec['service']}:{rec['month']:%Y-%m}"
    keys = [c.pop("_key") for c in changed]
    write_rows(ctx, ServiceMonth, new, changed, progress)
    result = ImportResult(
        file_name=file_name,
        profile="monthly_service_counts",
        rows=frame.height,
        records=frame.height,
        inserted=len(new),
        updated=len(changed),
        unchanged=frame.height - len(new) - len(changed),
        first=frame["month"].min(),
        last=frame["month"].max(),
        changed=keys,
        extra={"name": "services"},
    )
    ctx.audit(
        "continuity.import",
        "services",
        purpose="import",
        file=file_name,
        services=sorted(frame["service"].unique().to_list()),
        changed=keys[:50],
        **result.counts(),
    )
    return result


def service_counts_frame(ctx: Ctx) -> pl.DataFrame:
    """Every stored count as ``service, month, count``."""
    ctx.authorize("continuity.read")
    rows = ctx.session.execute(
        select(ServiceMonth.service, ServiceMonth.month, ServiceMonth.count).order_by(
            ServiceMonth.service, ServiceMonth.month
        )
    ).all()
    return pl.DataFrame(
        {
            "service": [r[0] for r in rows],
            "month": [r[1] for r in rows],
            "count": [int(r[2]) for r in rows],
        },
        schema={"service": pl.String, "month": pl.Date, "count": pl.Int64},
    )


def assess(
    ctx: Ctx,
    baseline_end: str | dt.date = DEFAULT_BASELINE_END,
    path: str | os.PathLike[str] | None = None,
    crisis_end: str | dt.date | None = None,
    encoding: str = "auto",
    display_name: str | None = None,
) -> ContinuityAssessment:
    """Expected counts, 95 % prediction intervals and a verdict for each service.

    ``path`` assesses a file without storing it; without it, the stored counts.
    """
    ctx.authorize("continuity.read")
    if path is not None:
        counts = parse_service_counts(open_table(path, encoding, display_name))
    else:
        counts = service_counts_frame(ctx)
    if counts.height == 0:
        raise DataError("resources.continuity.no_counts")
    return assess_continuity(counts, baseline_end, crisis_end)


def verdict_rows(assessment: ContinuityAssessment) -> list[dict[str, Any]]:
    """One row per service: verdict, flagged months, shortfall with interval, recovery."""
    rows = []
    for v in assessment.verdicts:
        rows.append(
            {
                "service": v.service,
                "verdict": v.verdict,
                "disrupted_months": ", ".join(f"{m:%Y-%m}" for m in v.disrupted_months),
                "shortfall": round(v.shortfall, 1),
                "shortfall_low": round(v.shortfall_low, 1),
                "shortfall_high": round(v.shortfall_high, 1),
                "recovered_month": f"{v.recovered_month:%Y-%m}" if v.recovered_month else None,
                "baseline_months": v.baseline_months,
                "cusum_max": round(v.cusum_max, 3),
                "threshold": round(v.threshold, 3),
                "p_value": round(v.p_value, 4),
                "trend_sensitive": v.trend_sensitive,
            }
        )
    return rows


def assessment_json(assessment: ContinuityAssessment) -> dict[str, Any]:
    """The whole assessment as JSON-ready data: verdicts and every crisis month."""
    months = [
        {
            **r,
            "month": f"{r['month']:%Y-%m}",
            "expected": round(r["expected"], 2),
            "lower": float(r["lower"]),
            "upper": float(r["upper"]),
        }
        for r in assessment.months.iter_rows(named=True)
    ]
    verdicts = [
        {
            **row,
            "disrupted_months": [f"{m:%Y-%m}" for m in v.disrupted_months],
        }
        for row, v in zip(verdict_rows(assessment), assessment.verdicts, strict=True)
    ]
    return {
        "baseline_end": f"{assessment.baseline_end:%Y-%m}",
        "false_alarm_rate_per_service": assessment.alpha,
        "verdicts": verdicts,
        "months": months,
    }
