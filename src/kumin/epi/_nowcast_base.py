"""Shared parts of the two nowcasters: draws, summaries and the fitted-estimator API."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kumin.epi._checks import check_fitted, check_real_param
from kumin.epi.delays import to_days

LEVELS = (0.5, 0.9, 0.95)

# OpenBLAS's thread-count setters as numpy's and scipy's wheels name them (scipy_ prefix,
# 64_ suffix for the 64-bit-integer build) and as a system OpenBLAS does
_SETTERS = (
    "openblas_set_num_threads",
    "scipy_openblas_set_num_threads",
    "scipy_openblas_set_num_threads64_",
)
_blas_lock = threading.Lock()
_blas_users = 0
_blas_saved: list[tuple[Any, int]] = []


def _openblas_libraries() -> list[tuple[Any, Any]]:
    """(get, set) thread-count functions of every OpenBLAS loaded in this process.

    Read from /proc/self/maps (Linux); elsewhere, or if none is found, nothing.
    """
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    found = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            getter = getattr(lib, name.replace("_set_", "_get_"), None)
            if setter is not None and getter is not None:
                found.append((getter, setter))
                break
    return found


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with OpenBLAS on one thread, then restore its thread counts.

    The nowcast's matrices are small (a few hundred parameters): split over threads
    they cost more in hand-offs than they gain, and on a busy server OpenBLAS's
    spinning threads fight the other processes for the cores (measured: the Fisher
    step's solve took 0.27 s instead of 1.3 ms on a loaded 2-core machine). Shared by
    concurrent callers: the first one in sets one thread, the last one out restores.
    """
    global _blas_users
    with _blas_lock:
        if _blas_users == 0:
            _blas_saved[:] = [(s, int(g())) for g, s in _openblas_libraries()]
            for setter, _ in _blas_saved:
                setter(1)
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                for setter, n in _blas_saved:
                    setter(n)
                _blas_saved.clear()


def _rnbinom(rng: np.random.Generator, mu: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """NB draws with mean ``mu`` and size ``phi`` as a gamma-Poisson mixture.

    numpy's ``negative_binomial`` refuses the large sizes of nearly Poisson data.
    """
    mu = np.minimum(mu, 1e12)
    # sparse data can drive the size to 0 (gamma scale inf, draws NaN): keep it positive
    phi = np.broadcast_to(np.maximum(phi, 1e-6), mu.shape)
    return rng.poisson(np.minimum(rng.gamma(phi, mu / phi), 1e15))


def _summary(dates: np.ndarray, observed: np.ndarray, draws: np.ndarray) -> pl.DataFrame:
    cols: dict[str, Any] = {
        "date": dates.astype("datetime64[D]"),
        "observed": observed.astype(np.int64),
        "mean": draws.mean(axis=0),
        "median": np.median(draws, axis=0),
    }
    for level in LEVELS:
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        pct = round(level * 100)
        cols[f"lower_{pct}"] = lo
        cols[f"upper_{pct}"] = hi
    return pl.DataFrame(cols)


class _NowcastBase:
    """Shared attributes and summaries."""

    def _finish(self, dates: np.ndarray, observed: np.ndarray, draws: np.ndarray) -> None:
        self.dates_ = dates
        self.observed_ = observed
        self.draws_ = draws
        self.median_ = np.median(draws, axis=0)
        self.mean_ = draws.mean(axis=0)
        self.table_ = _summary(dates, observed, draws)

    def interval(self, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Equal-tailed prediction interval of the final counts at ``level``."""
        check_fitted(self, "draws_")
        check_real_param(level, "level", type(self).__name__, 0.0, 1.0, closed="neither")
        lo, hi = np.quantile(self.draws_, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return lo, hi

    def peak(self) -> dict[str, Any]:
        """Date of the highest median and the 90% interval of the peak size (over draws)."""
        check_fitted(self, "draws_")
        i = int(np.argmax(self.median_))
        peak_sizes = self.draws_.max(axis=1)
        peak_days = np.argmax(self.draws_, axis=1)
        return {
            "date": self.dates_[i],
            "median": float(self.median_[i]),
            "size_lower_90": float(np.quantile(peak_sizes, 0.05)),
            "size_upper_90": float(np.quantile(peak_sizes, 0.95)),
            "date_lower_90": self.dates_[int(np.quantile(peak_days, 0.05))],
            "date_upper_90": self.dates_[int(np.quantile(peak_days, 0.95))],
        }


def _as_of_day(as_of: Any, default: int) -> int:
    if as_of is None:
        return default
    if isinstance(as_of, (int, np.integer)):
        return int(as_of)
    return int(to_days(np.array([as_of], dtype="datetime64[D]"))[0][0])
