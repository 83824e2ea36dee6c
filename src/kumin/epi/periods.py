"""Periods of the epi analyses: what is plotted, and what must be read around it.

Pure (no database): :func:`kumin.epi.service.load_period` reads the records of
:attr:`Period.read_start` .. :attr:`Period.read_end`; the ``analyse_*`` functions
trim what they show back to the period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from kumin.errors import UserError


@dataclass(frozen=True)
class Period:
    """The period a user asked for, and the days around it an analysis must read.

    A period selects records by their *plotted* date (onset for the curves and Rt),
    never by another date: filtering by result date and plotting by onset cuts the
    first onsets short and makes false Rt spikes at the edge. ``before`` days of
    history let the 7-day mean and the renewal equation start right on the first
    plotted day; ``after`` days let onsets after the period place infections inside
    it. What is shown is trimmed back to ``[start, end]``.
    """

    start: dt.date | None = None
    end: dt.date | None = None
    before: int = 0
    after: int = 0

    @property
    def read_start(self) -> dt.date | None:
        return None if self.start is None else self.start - dt.timedelta(days=self.before)

    @property
    def read_end(self) -> dt.date | None:
        return None if self.end is None else self.end + dt.timedelta(days=self.after)

    def trim(self, frame: pl.DataFrame, column: str = "date") -> pl.DataFrame:
        """The rows of ``frame`` whose ``column`` lies in the period."""
        if self.start is not None:
            frame = frame.filter(pl.col(column) >= self.start)
        if self.end is not None:
            frame = frame.filter(pl.col(column) <= self.end)
        return frame


#: days of the trailing mean of the curves (history before the first plotted day)
ROLLING = 7
#: the infection-date pipeline: onsets go back an incubation period and Rt a generation
#: interval plus a window (history); infections near the end show as onsets up to an
#: incubation period later (look-ahead). Generous bounds of both distributions' tails.
INFECTION_BEFORE, INFECTION_AFTER = 60, 21


def rt_history(method: str, window: int = 7, si_mean: float = 4.8, si_sd: float = 2.3) -> int:
    """Days before the first plotted day that an Rt estimate there depends on.

    Cori: the window (``window - 1`` earlier days) and, before each of them, the
    serial interval up to its 99.9th percentile (the total infectiousness).
    ``simple``: two blocks of ``window`` days. ``infection``: :data:`INFECTION_BEFORE`.
    """
    if method == "infection":
        return INFECTION_BEFORE
    if method == "simple":
        return 2 * window
    from kumin.epi.rt import discr_si

    try:
        pmf = discr_si(np.arange(366), si_mean, si_sd)
    except UserError:
        return window  # a bad parameter: the estimator reports it
    tail = int(np.searchsorted(np.cumsum(pmf), 0.999)) + 1
    return window - 1 + tail


def curve_bounds(period: Period | None, history: bool = True) -> dict[str, dt.date | None]:
    """``start``/``end`` of a curve fed to a model: the period widened by its history."""
    if period is None:
        return {}
    return {"start": period.read_start if history else period.start, "end": period.end}


def missing_onset(frame: pl.DataFrame, period: Period | None) -> int:
    """Records of the period (by result date) without an onset date."""
    missing = frame.filter(pl.col("onset_date").is_null())
    if period is not None:
        missing = period.trim(missing, "result_date")
    return missing.height
