"""Turning tables into the SEIR's arrays: cases and doses by day and model band.

Both take polars frames as the rest of :mod:`kumin.epi` produces them, map the
notification records' age bands (``"10代"``, ``"80-89"``, ``"90+"``, ...) to the
model's bands with :func:`~kumin.epi.contact_matrices.model_band_of`, and fill
missing days with zeros.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from kumin.epi.contact_matrices import MODEL_BANDS, model_band_of
from kumin.errors import DataError

__all__ = ["cases_by_band", "doses_by_band"]


def _frame_dates(frame: pl.DataFrame, column: str) -> pl.Series:
    if column not in frame.columns:
        raise DataError("epi.curves.missing_columns", columns=column)
    series = frame[column]
    if series.dtype == pl.Datetime:
        series = series.dt.date()
    if series.dtype != pl.Date:
        raise DataError("epi.curves.not_date", column=column, dtype=str(series.dtype))
    if series.null_count():
        raise DataError("epi.data.bad_dates", name=column)
    return series


def _band_index(frame: pl.DataFrame, column: str, bands: tuple[str, ...]) -> np.ndarray:
    if column not in frame.columns:
        raise DataError("epi.curves.missing_columns", columns=column)
    index = {b: i for i, b in enumerate(bands)}
    labels = frame[column].cast(pl.Utf8).to_list()
    out = np.empty(len(labels), dtype=np.int64)
    mapped: dict[str, int] = {}
    for n, label in enumerate(labels):
        if label not in mapped:
            band = label if label in index else model_band_of(label)
            if band not in index:
                raise DataError("epi.seir.unknown_band", band=label, known=", ".join(bands))
            mapped[label] = index[band]
        out[n] = mapped[label]
    return out


def cases_by_band(
    frame: pl.DataFrame,
    *,
    date_column: str = "onset_date",
    band_column: str = "age_band",
    count_column: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    bands: tuple[str, ...] = MODEL_BANDS,
) -> tuple[list[dt.date], np.ndarray]:
    """Daily cases by model band, ready for :meth:`SEIRModel.fit`.

    Parameters
    ----------
    frame : polars.DataFrame
        A line list (one row per case) or counts (``count_column``).
    start, end : date, optional
        The period; default the first and last date in the frame.

    Returns
    -------
    dates : list of date
    cases : numpy.ndarray, shape (n_days, len(bands))

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> cases = pl.DataFrame({"onset_date": [dt.date(2021, 1, 1), dt.date(2021, 1, 3)],
    ...                       "age_band": ["20代", "90+"]})
    >>> dates, y = cases_by_band(cases)
    >>> len(dates), y.sum(axis=0).tolist()
    (3, [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    """
    dates = _frame_dates(frame, date_column)
    band = _band_index(frame, band_column, bands)
    counts = (
        np.ones(frame.height)
        if count_column is None
        else frame[count_column].cast(pl.Float64).fill_null(np.nan).to_numpy()
    )
    if count_column is not None and (~np.isfinite(counts) | (counts < 0)).any():
        raise DataError("epi.seir.counts_invalid", name=count_column)
    first = start or dates.min()
    last = end or dates.max()
    if first is None or last is None or last < first:
        raise DataError("epi.curves.empty_range", start=str(first), end=str(last))
    n_days = (last - first).days + 1
    offset = np.array([(d - first).days for d in dates.to_list()], dtype=np.int64)
    keep = (offset >= 0) & (offset < n_days)
    out = np.zeros((n_days, len(bands)))
    np.add.at(out, (offset[keep], band[keep]), counts[keep])
    return [first + dt.timedelta(days=i) for i in range(n_days)], out


def doses_by_band(
    frame: pl.DataFrame,
    start: dt.date,
    n_days: int,
    *,
    date_column: str = "date",
    band_column: str = "age_band",
    dose_column: str = "dose",
    count_column: str = "count",
    bands: tuple[str, ...] = MODEL_BANDS,
) -> np.ndarray:
    """Doses ``(3, n_days, len(bands))`` from a table ``date, age_band, dose, count``.

    ``dose`` is 1, 2 or 3; rows outside ``[start, start + n_days)`` are ignored.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> given = pl.DataFrame({"date": [dt.date(2021, 5, 2)], "age_band": ["70代"],
    ...                       "dose": [1], "count": [500]})
    >>> doses_by_band(given, dt.date(2021, 5, 1), 3)[0, 1].tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 500.0, 0.0]
    """
    dates = _frame_dates(frame, date_column)
    band = _band_index(frame, band_column, bands)
    if dose_column not in frame.columns or count_column not in frame.columns:
        raise DataError("epi.curves.missing_columns", columns=f"{dose_column}, {count_column}")
    dose = frame[dose_column].cast(pl.Int64, strict=False).to_numpy()
    counts = frame[count_column].cast(pl.Float64, strict=False).to_numpy()
    if np.isnan(counts).any() or (counts < 0).any():
        raise DataError("epi.seir.doses_invalid")
    if not np.isin(dose, [1, 2, 3]).all():
        raise DataError("epi.seir.dose_number")
    offset = np.array([(d - start).days for d in dates.to_list()], dtype=np.int64)
    keep = (offset >= 0) & (offset < n_days)
    out = np.zeros((3, n_days, len(bands)))
    np.add.at(out, (dose[keep] - 1, offset[keep], band[keep]), counts[keep])
    return out
