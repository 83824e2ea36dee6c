"""The evaluation report's figures as a workbook (``report evaluation --format xlsx``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from kumin.core.i18n import t

if TYPE_CHECKING:
    from kumin.resources.report import Evaluation


def evaluation_xlsx(ev: Evaluation) -> bytes:
    """The report's figures as a workbook a manager can re-tabulate: the findings,
    the ward's days, the plan by day and by week, the continuity verdicts and the
    call forecast's backtest, one sheet each (sheets without data are left out)."""
    from kumin.core.tabular import xlsx_book
    from kumin.resources.report import service_label

    lang = ev.lang

    def frame_sheet(key: str, frame: pl.DataFrame | None) -> list:
        if frame is None or frame.height == 0:
            return []
        return [(t(f"resources.xlsx.{key}", lang), frame.columns, frame.iter_rows())]

    sheets: list = [
        (
            t("resources.xlsx.findings", lang),
            [t("resources.xlsx.finding", lang), t("resources.xlsx.warning", lang)],
            [(text, "!" if warn else "") for text, warn in ev.findings],
        )
    ]
    sheets += frame_sheet("days", ev.ward)
    if ev.plan is not None:
        sheets += frame_sheet("plan_days", ev.plan.plan.by_day)
        sheets += frame_sheet("plan_weeks", ev.plan.plan.by_week)
        sheets += frame_sheet("scenario", ev.plan.scenario)
    if ev.continuity is not None:
        columns = ["service", "verdict", "shortfall", "shortfall_low", "shortfall_high"]
        columns += ["p_value", "trend_sensitive", "disrupted_months"]
        rows = [
            (
                service_label(v.service, lang),
                t(f"resources.verdict.{v.verdict}", lang),
                round(v.shortfall, 1),
                round(v.shortfall_low, 1),
                round(v.shortfall_high, 1),
                round(v.p_value, 4),
                v.trend_sensitive,
                ", ".join(f"{m:%Y-%m}" for m in v.disrupted_months),
            )
            for v in ev.continuity.verdicts
        ]
        sheets.append((t("resources.xlsx.continuity", lang), columns, rows))
    if ev.next_wave is not None:
        sheets += frame_sheet("next_wave", ev.next_wave.plan.scenario)
    if ev.backtest is not None:
        sheets += frame_sheet("backtest", ev.backtest.days)
    return xlsx_book(sheets)
