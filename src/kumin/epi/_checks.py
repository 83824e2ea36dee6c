"""Input validation shared by the ``kumin.epi`` estimators.

Every check raises a :mod:`kumin.errors` class with a message key from
``messages/<lang>/epi.toml``, so the CLI and the web pages show the same text in
Japanese or English. Parameter messages follow scikit-learn's wording:
"The 'window' parameter of RtEstimator must be an int in [1, 60]. Got 0 instead."

The helpers are stable: other ``kumin.epi`` modules import them.

- :func:`check_counts` -- a 1-D or 2-D array of non-negative finite counts
- :func:`check_min_length` -- a series long enough for the estimate
- :func:`check_dates_contiguous` -- sorted, unique, one day apart
- :func:`check_int_param`, :func:`check_real_param`, :func:`check_positive_param`,
  :func:`check_choice_param` -- constructor parameters, checked in ``fit``
- :func:`check_fitted` -- ``NotFittedError`` before ``fit``
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from kumin.errors import DataError, NotFittedError, ParameterError, Problem

__all__ = [
    "check_choice_param",
    "check_counts",
    "check_dates_contiguous",
    "check_fitted",
    "check_int_param",
    "check_min_length",
    "check_positive_param",
    "check_real_param",
]


def _interval(low: float | None, high: float | None, closed: str) -> str:
    left = "(" if closed in ("neither", "right") or low is None else "["
    right = ")" if closed in ("neither", "left") or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{left}{lo}, {hi}{right}"


def check_int_param(
    value: Any, name: str, owner: str, low: int | None = None, high: int | None = None
) -> int:
    """``value`` as an int in ``[low, high]`` (``None`` = unbounded), else ``ParameterError``."""
    ok = isinstance(value, Integral) and not isinstance(value, bool)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        raise ParameterError(
            "epi.param.int_range",
            name=name,
            owner=owner,
            interval=_interval(low, high, "both"),
            got=repr(value),
        )
    return int(value)


def check_real_param(
    value: Any,
    name: str,
    owner: str,
    low: float | None = None,
    high: float | None = None,
    closed: str = "both",
) -> float:
    """``value`` as a finite float in the interval; ``closed`` is both|left|right|neither."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        low_ok = low is None or (value >= low if closed in ("both", "left") else value > low)
        high_ok = high is None or (value <= high if closed in ("both", "right") else value < high)
        ok = low_ok and high_ok
    if not ok:
        raise ParameterError(
            "epi.param.real_range",
            name=name,
            owner=owner,
            interval=_interval(low, high, closed),
            got=repr(value),
        )
    return float(value)


def check_positive_param(value: Any, name: str, owner: str, *, strict: bool = True) -> float:
    """A finite float > 0 (``strict``) or >= 0."""
    return check_real_param(value, name, owner, 0.0, None, "neither" if strict else "left")


def check_choice_param(value: Any, name: str, owner: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``, else ``ParameterError``."""
    if value not in choices:
        raise ParameterError(
            "epi.param.choice",
            name=name,
            owner=owner,
            choices=", ".join(repr(c) for c in choices),
            got=repr(value),
        )
    return value


def check_counts(
    arr: Any, name: str = "counts", *, ndim: tuple[int, ...] = (1, 2), integer: bool = False
) -> np.ndarray:
    """Counts as a float64 array, refusing NaN, infinities and negative values.

    Parameters
    ----------
    arr : array-like
        Counts; the last axis is time.
    name : str
        What to call the array in messages.
    ndim : tuple of int
        Allowed numbers of dimensions.
    integer : bool
        Also refuse non-integer values (case counts, as opposed to expected counts).

    Returns
    -------
    numpy.ndarray
        A float64 copy-free view where possible.

    Examples
    --------
    >>> check_counts([0, 3, 5]).tolist()
    [0.0, 3.0, 5.0]
    """
    try:
        out = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("epi.data.not_numeric", name=name) from None
    if out.ndim not in ndim:
        raise DataError(
            "epi.data.bad_ndim", name=name, ndim=out.ndim, allowed=" or ".join(map(str, ndim))
        )
    if out.size == 0:
        raise DataError("epi.data.too_short", name=name, length=0, minimum=1)
    bad = ~np.isfinite(out)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError("epi.data.not_finite", name=name, count=int(bad.sum()), index=_index(first))
    neg = out < 0
    if neg.any():
        first = tuple(int(i) for i in np.argwhere(neg)[0])
        raise DataError("epi.data.negative", name=name, count=int(neg.sum()), index=_index(first))
    if integer:
        frac = out != np.floor(out)
        if frac.any():
            first = tuple(int(i) for i in np.argwhere(frac)[0])
            raise DataError(
                "epi.data.not_integer", name=name, count=int(frac.sum()), index=_index(first)
            )
    return out


def _index(idx: tuple[int, ...]) -> str:
    return str(idx[0]) if len(idx) == 1 else str(list(idx))


def check_min_length(length: int, minimum: int, name: str = "counts") -> None:
    """``DataError`` when a series has fewer than ``minimum`` time points."""
    if length < minimum:
        raise DataError("epi.data.too_short", name=name, length=length, minimum=minimum)


def _as_dates(dates: Any) -> list[dt.date]:
    if hasattr(dates, "to_list"):  # polars / pandas Series
        dates = dates.to_list()
    arr = np.asarray(dates)
    if np.issubdtype(arr.dtype, np.datetime64):
        return [d.item() for d in arr.astype("datetime64[D]")]
    out = []
    for d in dates:
        if isinstance(d, dt.datetime):
            d = d.date()
        elif isinstance(d, str):
            d = dt.date.fromisoformat(d)
        out.append(d)
    return out


def check_dates_contiguous(dates: Any, name: str = "date") -> list[dt.date]:
    """Dates as a list of ``datetime.date``: ascending, unique and one day apart.

    Every gap, duplicate or step back is reported (as a ``Problem`` whose ``line``
    is the 0-based position), not just the first.

    Examples
    --------
    >>> import datetime as dt
    >>> check_dates_contiguous([dt.date(2021, 1, 1), dt.date(2021, 1, 2)])[-1]
    datetime.date(2021, 1, 2)
    """
    try:
        days = _as_dates(dates)
    except (TypeError, ValueError):
        raise DataError("epi.data.bad_dates", name=name) from None
    if any(d is None for d in days):
        raise DataError("epi.data.bad_dates", name=name)
    problems = []
    for i in range(1, len(days)):
        step = (days[i] - days[i - 1]).days
        if step == 1:
            continue
        if step == 0:
            key = "epi.data.date_duplicate"
        elif step < 0:
            key = "epi.data.date_unsorted"
        else:
            key = "epi.data.date_gap"
        problems.append(
            Problem(
                None,
                name,
                key,
                {"position": i, "date": days[i].isoformat(), "previous": days[i - 1].isoformat()},
            )
        )
    if problems:
        raise DataError("epi.data.dates_not_contiguous", problems=problems, name=name)
    return days


def check_fitted(estimator: Any, attribute: str) -> None:
    """``NotFittedError`` if ``fit`` has not set ``attribute`` yet."""
    if getattr(estimator, attribute, None) is None:
        raise NotFittedError("epi.not_fitted", owner=type(estimator).__name__)
