"""``kumin epi nowcast --triangle FILE``: a reporting triangle in, a nowcast out, no database.

The file holds ``reference_date,report_date,count[,stratum]`` (or the Japanese
headers of :data:`HEADERS_JA`): the cases of a reference date newly reported on a
report date (a negative count corrects earlier reports). Dates are read as every
kumin import reads them (:func:`kumin.core.cells.parse_date`: ISO, slashes, era
dates, full-width digits, Excel serials). Such a file holds no personal data, so, like ``kumin epi rt --counts``,
the action runs for anyone without a sign-in. Each stratum is nowcast on its own
(:meth:`kumin.epi.nowcast.Nowcaster.fit_triangle`, reports after ``max_delay``
days modelled); the output covers the reference dates still within ``max_delay``
days of the last report date, as quantiles or as sample paths of the final counts
(so that any aggregate, e.g. a 7-day sum, can be scored).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kumin.errors import DataError, Problem

COLUMNS = ("reference_date", "report_date", "count")
OPTIONAL = ("stratum",)
#: the headers an office writes in Japanese, read as the columns above
HEADERS_JA = {
    "基準日": "reference_date",
    "発症日": "reference_date",
    "報告日": "report_date",
    "件数": "count",
    "人数": "count",
    "層": "stratum",
    "地域": "stratum",
}
#: quantile levels of the summary (those of the German hospitalisation nowcast hub and more)
QUANTILES = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)


@dataclass(frozen=True)
class Triangle:
    """One stratum's reports: reference day, report day (epoch days) and count."""

    stratum: str | None
    reference: np.ndarray
    report: np.ndarray
    count: np.ndarray


def _date(value: Any) -> dt.date | None:
    from kumin.core.cells import CellError, parse_date

    try:
        return parse_date(value)
    except CellError:
        return None


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    from kumin.core.cells import normalise_text

    text = normalise_text(value)
    try:
        return int(text)
    except ValueError:
        return None


def _with_canonical_headers(table: Any) -> Any:
    """The table with Japanese headers renamed (:data:`HEADERS_JA`); as it is where a
    rename would give two columns one name."""
    from dataclasses import replace

    from kumin.core.cells import normalise_text

    rename = {
        c: HEADERS_JA[normalise_text(c)] for c in table.columns if normalise_text(c) in HEADERS_JA
    }
    names = [rename.get(c, c) for c in table.columns]
    if not rename or len(set(names)) < len(names):
        return table
    rows = ((line, {rename.get(k, k): v for k, v in row.items()}) for line, row in table.rows)
    return replace(table, columns=names, rows=rows)


def read_triangle(path: str | Path, encoding: str = "auto") -> list[Triangle]:
    """Read a triangle file; every problem is reported with its line and column."""
    from kumin.core.tabular import read_table, require_columns, width_problem

    table = _with_canonical_headers(read_table(path, encoding))
    require_columns(table, COLUMNS)
    problems: list[Problem] = []
    for name in table.columns:
        if name not in COLUMNS + OPTIONAL:
            problems.append(Problem(1, name, "epi.triangle.unknown_column", {"value": name}))
    has_stratum = "stratum" in table.columns
    seen: dict[tuple[str | None, dt.date, dt.date], int] = {}
    rows: dict[str | None, list[tuple[dt.date, dt.date, int]]] = {}
    for line, row in table.rows:
        wp = width_problem(line, row, len(table.columns))
        if wp:
            problems.append(wp)
            continue
        ref, rep, count = (
            _date(row["reference_date"]),
            _date(row["report_date"]),
            _count(row["count"]),
        )
        stratum = str(row["stratum"]).strip() if has_stratum else None
        for name, ok in (("reference_date", ref), ("report_date", rep)):
            if ok is None:
                problems.append(Problem(line, name, "epi.triangle.bad_date", {"value": row[name]}))
        if count is None:
            problems.append(
                Problem(line, "count", "epi.triangle.bad_count", {"value": row["count"]})
            )
        if has_stratum and not stratum:
            problems.append(Problem(line, "stratum", "epi.triangle.no_stratum", {}))
        if ref is None or rep is None or count is None or (has_stratum and not stratum):
            continue
        if rep < ref:
            problems.append(
                Problem(line, "report_date", "epi.triangle.before_reference", {"value": str(rep)})
            )
            continue
        first = seen.setdefault((stratum, ref, rep), line)
        if first != line:
            problems.append(
                Problem(line, "report_date", "epi.triangle.duplicate", {"first": first})
            )
            continue
        rows.setdefault(stratum, []).append((ref, rep, count))
    if problems:
        raise DataError("epi.triangle.invalid", problems=problems, path=Path(path).name)
    if not rows:
        raise DataError("epi.triangle.empty", path=Path(path).name)
    out = []
    for stratum in sorted(rows, key=lambda s: (s is None, s or "")):
        items = rows[stratum]
        out.append(
            Triangle(
                stratum,
                np.array([r for r, _, _ in items], dtype="datetime64[D]").astype(np.int64),
                np.array([p for _, p, _ in items], dtype="datetime64[D]").astype(np.int64),
                np.array([c for _, _, c in items], dtype=float),
            )
        )
    return out


def nowcast_strata(
    triangles: list[Triangle],
    *,
    max_delay: int = 21,
    as_of: dt.date | None = None,
    n_draws: int = 1000,
    random_state: int | None = 0,
    calibrate: bool = True,
    replay_cache: dict | None = None,
) -> list[tuple[str | None, Any]]:
    """A fitted :class:`Nowcaster` per stratum (reports after ``as_of`` unseen).

    With ``calibrate`` the draws are recalibrated on replays of the same model at
    earlier dates (:mod:`kumin.epi.nowcast_calibration`); ``replay_cache`` (a dict)
    keeps the replays for another call on the same triangles (a backtest).
    """
    from kumin.epi import nowcast_calibration as cal

    fitted = []
    cache = {} if replay_cache is None else replay_cache
    for tri in triangles:
        end = int(tri.report.max()) if as_of is None else (as_of - dt.date(1970, 1, 1)).days
        est = _fit_one(tri, end, max_delay, n_draws, random_state)
        first = int(tri.reference.min())
        if calibrate:
            replays = []
            for s in cal.replay_days(end, first, max_delay):
                key = (tri.stratum, s, max_delay)
                if key not in cache:
                    past = _fit_one(tri, s, max_delay, cal.REPLAY_DRAWS, random_state)
                    cache[key] = cal.replay_of(past)
                replays.append((s, cache[key]))
            found = cal.estimate(replays, cal.known_by(tri, end), first, max_delay, end)
            if found is not None:
                cal.apply(est, found, np.random.default_rng(random_state))
        fitted.append((tri.stratum, est))
    return fitted


def _fit_one(tri: Triangle, end: int, max_delay: int, n_draws: int, random_state: int | None):
    from kumin.epi.nowcast import Nowcaster

    span = end - int(tri.reference.min()) + 1
    # twice the longest delay: the delays of the last weeks matter more than older
    # ones (on the German hub's triangles a 3× window scored 5% worse by WIS); a
    # short file: only the days it has, but at least the delays and one more
    window = min(2 * (max_delay + 1), max(span, max_delay + 2))
    est = Nowcaster(
        max_delay=max_delay,
        window=window,
        late="model",
        n_draws=n_draws,
        random_state=random_state,
    )
    return est.fit_triangle(tri.reference, tri.report, tri.count, as_of=end)


def nowcast_triangle(
    path: str | Path,
    *,
    max_delay: int = 21,
    samples: int | None = None,
    as_of: dt.date | None = None,
    encoding: str = "auto",
    random_state: int | None = 0,
) -> pl.DataFrame:
    """The action: quantiles (or ``samples`` sample paths) of the final counts by stratum.

    Columns: ``[stratum,] reference_date, observed, mean, median, q0.025 … q0.975,
    reported_fraction, reliable``; with ``samples``: ``[stratum,] date, sample, count``.
    """
    from kumin.epi._checks import check_int_param

    check_int_param(max_delay, "max_delay", "kumin epi nowcast --triangle", 1, 120)
    if samples is not None:
        check_int_param(samples, "samples", "kumin epi nowcast --triangle", 1, 100_000)
    triangles = read_triangle(path, encoding)
    n_draws = samples if samples is not None else 1000
    fitted = nowcast_strata(
        triangles, max_delay=max_delay, as_of=as_of, n_draws=n_draws, random_state=random_state
    )
    has_stratum = triangles[0].stratum is not None
    frames = []
    for stratum, est in fitted:
        recent = est.dates_ > est.as_of_ - np.timedelta64(max_delay, "D")
        dates, draws = est.dates_[recent], est.draws_[:, recent]
        if samples is not None:
            n = draws.shape[0]
            frame = pl.DataFrame(
                {
                    "date": np.repeat(dates, n),
                    "sample": np.tile(np.arange(1, n + 1), len(dates)),
                    "count": draws.T.ravel().astype(np.int64),
                }
            )
        else:
            qs = np.quantile(draws, QUANTILES, axis=0)
            frame = pl.DataFrame(
                {
                    "reference_date": dates,
                    "observed": est.observed_[recent].astype(np.int64),
                    "mean": draws.mean(axis=0),
                    "median": np.median(draws, axis=0),
                    **{f"q{q:g}": qs[i] for i, q in enumerate(QUANTILES)},
                    "reported_fraction": est.reported_fraction_[recent],
                    "reliable": est.reliable_[recent],
                }
            )
        if has_stratum:
            frame = frame.select(pl.lit(stratum).alias("stratum"), pl.all())
        frames.append(frame)
    return pl.concat(frames)


__all__ = ["QUANTILES", "Triangle", "nowcast_strata", "nowcast_triangle", "read_triangle"]
