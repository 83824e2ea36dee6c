"""What the next wave would need: the largest wave so far, replayed as a case
forecast after the data, through the plan a manager runs (#13)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from kumin.core.context import Ctx
from kumin.errors import KuminError
from kumin.resources.models import WARD_CENTRE
from kumin.resources.service_plan import PlanResult, calls_plan, mean_handle_seconds

if TYPE_CHECKING:
    from kumin.resources.report import Epidemic

DEFAULT_HANDLE_SECONDS = 360.0


@dataclass
class NextWave:
    """What a wave like the largest so far would need if it came again right after
    the data: its 8 weeks of daily cases, replayed as a case forecast."""

    wave_start: dt.date
    wave_cases: int
    plan: PlanResult

    def totals(self) -> dict[str, float]:
        weeks = self.plan.scenario
        if weeks is None or weeks.height == 0:
            return {}
        return {
            key: float(weeks[column].fill_null(0).sum())
            for key, column in (
                ("person_days", "external_person_days_needed"),
                ("person_days_low", "external_person_days_low"),
                ("person_days_high", "external_person_days_high"),
                ("cost", "external_cost_needed_yen"),
                ("cost_low", "external_cost_low_yen"),
                ("cost_high", "external_cost_high_yen"),
            )
        } | {"peak": float(weeks["peak_external_needed"].max() or 0)}


WAVE_DAYS = 56


def next_wave(ctx: Ctx, epi: Epidemic, ward: pl.DataFrame) -> NextWave | None:
    """Replay the 8 weeks with the most reported cases as the case forecast of the
    weeks after the ward's last recorded day, through the same plan a manager runs
    (``kumin calls plan --case-forecast``); None where no plan can be made."""
    import tempfile
    from pathlib import Path

    curve = epi.curve.sort("date")
    if curve.height < WAVE_DAYS:
        return None
    sums = curve["cases"].rolling_sum(WAVE_DAYS)
    end_i = int(sums.arg_max())
    wave = curve.slice(end_i - WAVE_DAYS + 1, WAVE_DAYS)
    first = ward["date"].max() + dt.timedelta(days=1)
    ahead = pl.DataFrame(
        {
            "date": [first + dt.timedelta(days=k) for k in range(WAVE_DAYS)],
            "cases": wave["cases"].cast(pl.Int64),
        }
    )
    with tempfile.TemporaryDirectory(prefix="kumin-wave-") as tmp:
        path = Path(tmp) / "next_wave.csv"
        ahead.write_csv(path)
        try:
            plan = calls_plan(
                ctx,
                None,
                None,
                None,
                WARD_CENTRE,
                handle_seconds=mean_handle_seconds(ward) or DEFAULT_HANDLE_SECONDS,
                case_forecast=path,
            )
        except KuminError:
            return None
    return NextWave(wave["date"][0], int(wave["cases"].sum()), plan)
