"""Time-varying reproduction number Rt: Cori (EpiEstim), by infection date, and the media formula.

Three methods behind one estimator, :class:`RtEstimator`:

``"cori"``
    Cori et al. (2013), as in EpiEstim's ``estimate_R(method = "parametric_si")``
    with its defaults: the serial interval discretised by :func:`discr_si`, a
    Gamma(shape 1, scale 5) prior, sliding windows ending on day ``window + 1`` of
    the series (day 8 for weekly windows) through the last day. For a window
    :math:`[s, e]`, the posterior of R is Gamma with shape
    :math:`a + \\sum_{t=s}^{e} I_t` and scale
    :math:`1 / (1/b + \\sum_{t=s}^{e} \\Lambda_t)`, where
    :math:`\\Lambda_t = \\sum_{k \\ge 1} w_k I_{t-k}` is the overall infectivity.
    Assumes: cases by onset date stand in for infections (so the serial interval
    stands in for the generation interval), constant R within the window,
    complete reporting or a constant reporting fraction, and no right truncation
    (nowcast the last days first). Serial-interval uncertainty: ``uncertain_si``.
``"infection"``
    Rt by date of infection from draws of the infection incidence (deconvolved
    onsets after imputation and nowcasting, produced elsewhere). The Cori posterior
    is computed for every draw with the generation interval, and the summaries are
    those of the equal-weight mixture of the per-draw posteriors (quantiles solved
    exactly, no sampling), so the interval carries the uncertainty of the earlier
    steps. Imported cases count as infectors but not as locally infected. Assumes
    the draws are exchangeable samples of the infection curve and constant R
    within the window.
``"simple"``
    ``((C_t - C_{t-7}) / (C_{t-7} - C_{t-14})) ** (5 / 7)`` on cumulative counts:
    the formula of Toyo Keizai's dashboard and Japanese media (a ratio of weekly
    sums, raised to generation time / 7). No interval; shown beside the model.

All methods are vectorised: ``counts`` of shape ``(regions, days)`` are estimated in
one pass (1,741 municipalities x 800 days in well under a second for ``"cori"``).

Examples
--------
>>> import numpy as np
>>> from kumin.epi.rt import RtEstimator
>>> counts = np.array([1, 2, 4, 6, 9, 12, 15, 20, 24, 30, 38, 45, 52, 60])
>>> est = RtEstimator().fit(counts)
>>> est.t_end_[:2].tolist()  # 0-based window ends: days 8 and 9 of the series
[7, 8]
>>> bool(est.mean_[0] > 1)
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import polars as pl
from scipy.special import gammainc, gammaincinv, gammaln

from kumin.epi._checks import (
    check_choice_param,
    check_counts,
    check_dates_contiguous,
    check_fitted,
    check_int_param,
    check_min_length,
    check_positive_param,
    check_real_param,
)
from kumin.errors import DataError, ParameterError

__all__ = ["RtEstimator", "UncertainSI", "discr_si", "overall_infectivity", "simple_rt"]

METHODS = ("cori", "simple", "infection")
QUANTILES = (0.025, 0.5, 0.975)
_OWNER = "RtEstimator"
# Above this kernel length the infectivity is convolved by FFT (rounding ~1e-13
# relative to the largest count); below it, exactly by shifted sums.
_DIRECT_KERNEL_MAX = 200
# Up to this many days, many series are convolved as one matrix product.
_DENSE_MAX_DAYS = 2048
# Columns of pooled posterior samples held in memory at once (float64 elements).
_SAMPLE_BUDGET = 4_000_000


def _gamma_cdf(x: np.ndarray, shape: np.ndarray | float, scale: np.ndarray | float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, gammainc(shape, np.maximum(x, 0) / scale), 0.0)


def discr_si(k: Any, mean: Any, sd: Any) -> np.ndarray:
    """Discretised serial interval, exactly as EpiEstim's ``discr_si``.

    The serial interval minus one day is gamma distributed with mean ``mean - 1``
    and standard deviation ``sd`` (shape ``(mean-1)^2/sd^2``, scale
    ``sd^2/(mean-1)``); ``w_k`` is the probability that it ends on day ``k``
    when it starts uniformly within a day (Cori et al. 2013, web appendix 11)::

        w_k = k F(k) + (k-2) F(k-2) - 2 (k-1) F(k-1)
              + a b (2 G(k-1) - G(k-2) - G(k))

    with F the gamma CDF and G the CDF of gamma(a + 1, b). ``w_0 = 0``; negative
    rounding is clipped to 0; no renormalisation (as EpiEstim).

    Parameters
    ----------
    k : array-like of int
        Days (>= 0).
    mean, sd : float or array-like
        Mean (> 1) and standard deviation (> 0) of the serial interval; arrays of
        the same shape give one distribution per row (shape ``mean.shape + k.shape``).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> w = discr_si(np.arange(30), 4.8, 2.3)
    >>> round(float(w.sum()), 6), float(w[0])
    (1.0, 0.0)
    """
    mean = np.asarray(mean, dtype=np.float64)
    sd = np.asarray(sd, dtype=np.float64)
    if np.any(mean <= 1):
        raise ParameterError("epi.param.si_mean", name="si_mean", owner="discr_si", got=mean)
    if np.any(sd <= 0):
        raise ParameterError(
            "epi.param.real_range", name="si_sd", owner="discr_si", interval="(0, inf)", got=sd
        )
    k = np.asarray(k, dtype=np.float64)
    a = (((mean - 1) / sd) ** 2)[..., None]
    b = (sd**2 / (mean - 1))[..., None]
    res = (
        k * _gamma_cdf(k, a, b)
        + (k - 2) * _gamma_cdf(k - 2, a, b)
        - 2 * (k - 1) * _gamma_cdf(k - 1, a, b)
    )
    res = res + a * b * (
        2 * _gamma_cdf(k - 1, a + 1, b) - _gamma_cdf(k - 2, a + 1, b) - _gamma_cdf(k, a + 1, b)
    )
    res = np.maximum(res, 0.0)
    return res


def overall_infectivity(counts: Any, si_distr: Any) -> np.ndarray:
    """Overall infectivity ``Lambda_t = sum_{k>=1} w_k I_{t-k}`` along the last axis.

    Parameters
    ----------
    counts : array-like, shape (..., T)
        Incidence of infectors (local plus imported).
    si_distr : array-like, shape (L,) or (K, L)
        Serial or generation interval pmf over days 0, 1, ...; a 2-D array gives
        one infectivity per row, shape ``(K, ..., T)``.

    Returns
    -------
    numpy.ndarray
        ``Lambda`` with ``Lambda[..., 0] = 0`` (EpiEstim leaves it NA; no window uses it).

    Examples
    --------
    >>> overall_infectivity([1.0, 0.0, 0.0], [0.0, 0.5, 0.5]).tolist()
    [0.0, 0.5, 0.5]
    """
    counts = np.asarray(counts, dtype=np.float64)
    w = np.asarray(si_distr, dtype=np.float64)
    n = counts.shape[-1]
    w = w[..., :n]
    if w.ndim == 1:
        nz = np.flatnonzero(w)
        w = w[: nz[-1] + 1] if nz.size else w[:1]
        if n <= _DENSE_MAX_DAYS and counts.size >= 8 * n:
            # Many series: one BLAS product with the (T x T) banded Toeplitz matrix.
            # All terms are >= 0, so any summation order is accurate to rounding.
            band = np.zeros((n, n))
            for lag in range(1, w.size):
                idx = np.arange(n - lag)
                band[idx, idx + lag] = w[lag]
            return (counts.reshape(-1, n) @ band).reshape(counts.shape)
        if w.size <= _DIRECT_KERNEL_MAX:
            out = np.zeros_like(counts)
            for lag in range(1, w.size):
                if w[lag] != 0.0:
                    out[..., lag:] += w[lag] * counts[..., : n - lag]
            return out
    from scipy import fft as sp_fft  # here: its import is a tenth of `rt --counts`' start

    nfft = sp_fft.next_fast_len(n + w.shape[-1], real=True)
    fc = sp_fft.rfft(counts, nfft, axis=-1)
    w1 = w.copy()
    w1[..., 0] = 0.0  # w_0 never counts: a case does not infect on its own day
    fw = sp_fft.rfft(w1, nfft, axis=-1)
    if w.ndim == 2:
        fw = fw.reshape((w.shape[0],) + (1,) * (counts.ndim - 1) + (fw.shape[-1],))
    out = sp_fft.irfft(fc * fw, nfft, axis=-1)[..., :n]
    return np.maximum(out, 0.0)


def _gamma_quantiles(shape: np.ndarray, scale: np.ndarray) -> list[np.ndarray]:
    """The :data:`QUANTILES` of Gamma(shape, scale), elementwise."""
    # Posterior shapes are prior + integer counts, so they repeat heavily across
    # regions and windows: invert once per distinct shape (exact, ~10x faster).
    flat = shape.ravel()
    uniq, inv = _distinct(flat)
    out = []
    for q in QUANTILES:
        unit = gammaincinv(uniq, q)  # NaN for a NaN shape (a window without estimate)
        value = unit[inv].reshape(shape.shape)
        out.append(np.multiply(value, scale, out=value))
    return out


def _distinct(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(flat, return_inverse=True)``, without sorting when it can.

    Shapes are a prior plus whole counts: offset to whole numbers, the distinct
    values are found by marking them in a table (1.4 million values in ~10 ms
    instead of a ~100 ms sort). Any other input goes to :func:`numpy.unique`.
    """
    finite = np.isfinite(flat)
    if finite.any():
        base = flat[finite].min()
        k = flat - base
        k[~finite] = 0.0
        top = k.max()
        if top <= 8 * flat.size + 1024 and not np.any(np.mod(k, 1.0)):
            whole = k.astype(np.int64)
            whole[~finite] = int(top) + 1  # one slot for "no estimate"
            seen = np.zeros(int(top) + 2, dtype=bool)
            seen[whole] = True
            slots = np.flatnonzero(seen)
            rank = np.cumsum(seen) - 1
            uniq = base + slots.astype(np.float64)
            if seen[-1]:
                uniq[-1] = np.nan
            return uniq, rank[whole]
    uniq, inv = np.unique(flat, return_inverse=True)
    return uniq, inv.reshape(-1)


@dataclass(frozen=True)
class UncertainSI:
    """Serial-interval uncertainty as in EpiEstim's ``uncertain_si`` method.

    ``n1`` pairs (mean, sd) are drawn from normal distributions truncated to
    ``[min, max]`` (centred on the estimator's ``si_mean`` and ``si_sd``), ``n2``
    posterior samples of R are drawn for each pair, and the ``n1 * n2`` samples
    are pooled for the quantiles. The reported mean is the exact mean of the
    pooled mixture.
    """

    std_mean_si: float
    min_mean_si: float
    max_mean_si: float
    std_std_si: float
    min_std_si: float
    max_std_si: float
    n1: int = 500
    n2: int = 50

    @classmethod
    def from_any(cls, value: UncertainSI | Mapping[str, Any]) -> UncertainSI:
        if isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise ParameterError(
                "epi.param.uncertain_si", name="uncertain_si", reason="not a mapping"
            )
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ParameterError(
                "epi.param.uncertain_si", name=sorted(unknown)[0], reason="unknown setting"
            )
        try:
            return cls(**value)
        except TypeError as exc:
            raise ParameterError(
                "epi.param.uncertain_si", name="uncertain_si", reason=str(exc)
            ) from None

    def validate(self, si_mean: float, si_sd: float) -> None:
        """EpiEstim's ``check_config`` rules for ``uncertain_si``."""

        def bad(name: str, reason: str) -> ParameterError:
            return ParameterError("epi.param.uncertain_si", name=name, reason=reason)

        check_int_param(self.n1, "n1", "UncertainSI", 1, None)
        check_int_param(self.n2, "n2", "UncertainSI", 1, None)
        for name in ("std_mean_si", "std_std_si", "min_std_si"):
            check_positive_param(getattr(self, name), name, "UncertainSI")
        check_real_param(self.min_mean_si, "min_mean_si", "UncertainSI", 1.0, None)
        check_real_param(self.max_mean_si, "max_mean_si", "UncertainSI")
        check_real_param(self.max_std_si, "max_std_si", "UncertainSI")
        if not self.min_mean_si <= si_mean <= self.max_mean_si:
            raise bad("si_mean", "must lie in [min_mean_si, max_mean_si]")
        if not self.min_std_si <= si_sd <= self.max_std_si:
            raise bad("si_sd", "must lie in [min_std_si, max_std_si]")


def _truncnorm(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float, n: int):
    # Rejection sampling, as EpiEstim: draw again until inside [lo, hi].
    out = rng.normal(mean, sd, n)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (out < lo) | (out > hi)
    return out


def _pooled_summary(
    shape: np.ndarray, scale: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """Mean, median, 2.5% and 97.5% of a mixture of gammas, pooled over axis 0.

    ``shape``/``scale`` are (K, M); NaN components are left out of their column
    (EpiEstim's ``na.rm``). Quantiles come from ``n`` samples per component.
    """
    k, m = shape.shape
    valid = np.isfinite(shape)
    with np.errstate(invalid="ignore"):
        mean = np.where(valid, shape * scale, 0.0).sum(0) / valid.sum(0)
    med, lo, hi = (np.full(m, np.nan) for _ in range(3))
    step = max(1, _SAMPLE_BUDGET // (k * n))
    for c0 in range(0, m, step):
        sl = slice(c0, min(m, c0 + step))
        v = valid[:, sl].T  # (columns, K): samples of one column contiguous, fast quantiles
        a = np.where(v, shape[:, sl].T, 1.0)
        b = np.where(v, scale[:, sl].T, 1.0)
        s = (rng.standard_gamma(a[:, :, None], size=a.shape + (n,)) * b[:, :, None]).reshape(
            a.shape[0], k * n
        )
        full = v.all(1)
        qs = np.full((len(QUANTILES), s.shape[0]), np.nan)
        if full.any():
            qs[:, full] = np.quantile(s[full], QUANTILES, axis=1)
        for j in np.flatnonzero(~full & v.any(1)):  # few columns: windows near the start
            qs[:, j] = np.quantile(s[j, np.repeat(v[j], n)], QUANTILES)
        lo[sl], med[sl], hi[sl] = qs
    return mean, med, lo, hi


def _mixture_summary(
    shape: np.ndarray, scale: np.ndarray, tol: float = 1e-11, max_iter: int = 100
) -> tuple[np.ndarray, ...]:
    """Mean, median, 2.5% and 97.5% of an equal-weight mixture of gammas over axis 0.

    ``shape``/``scale`` are (K, M); NaN components are left out of their column.
    Quantiles are exact (no sampling): safeguarded Newton on the mixture CDF,
    started from the moment-matched gamma and kept inside a bisection bracket.
    """
    valid = np.isfinite(shape) & np.isfinite(scale)
    a = np.where(valid, shape, 1.0)
    b = np.where(valid, scale, 1.0)
    n_valid = valid.sum(0)
    weight = valid / np.maximum(n_valid, 1)
    mean = (weight * a * b).sum(0)
    var = (weight * (a * b * b + (a * b) ** 2)).sum(0) - mean**2
    mean = np.where(n_valid > 0, mean, np.nan)
    log_norm = gammaln(a) + np.log(b)
    upper_bound = np.where(valid, b * (a + 12 * np.sqrt(a) + 50), 0.0).max(0)
    out = []
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        var = np.maximum(var, 1e-300)
        for p in QUANTILES:
            x = gammaincinv(mean**2 / var, p) * var / mean
            x = np.where(np.isfinite(x) & (x > 0), x, mean)
            lo = np.zeros_like(x)
            hi = upper_bound.copy()
            active = np.flatnonzero(n_valid > 0)
            for _ in range(max_iter):
                if active.size == 0:
                    break
                xa = x[active]
                z = xa / b[:, active]
                w = weight[:, active]
                cdf = (w * gammainc(a[:, active], z)).sum(0)
                pdf = (w * np.exp((a[:, active] - 1) * np.log(z) - z - log_norm[:, active])).sum(0)
                gap = cdf - p
                lo[active] = np.where(gap < 0, xa, lo[active])
                hi[active] = np.where(gap >= 0, xa, hi[active])
                step = xa - gap / pdf
                outside = ~np.isfinite(step) | (step < lo[active]) | (step > hi[active])
                new = np.where(outside, 0.5 * (lo[active] + hi[active]), step)
                done = np.abs(gap) < tol
                x[active] = np.where(done, xa, new)
                done |= np.abs(new - xa) <= 1e-13 * xa
                active = active[~done]
            out.append(np.where(n_valid > 0, x, np.nan))
    lower, median, upper = out
    return mean, median, lower, upper


def simple_rt(cumulative: Any, window: int = 7, generation_time: float = 5.0) -> np.ndarray:
    """The media formula ``((C_t - C_{t-w}) / (C_{t-w} - C_{t-2w})) ** (g / w)``.

    Parameters
    ----------
    cumulative : array-like, shape (..., T)
        Cumulative counts (as published, e.g. Toyo Keizai's ``testedPositive``).
    window : int
        ``w``, days per block (7).
    generation_time : float
        ``g``, the assumed mean generation time in days (5).

    Returns
    -------
    numpy.ndarray, shape (..., T)
        NaN for the first ``2w`` days and where the earlier block is 0.

    Examples
    --------
    >>> c = np.cumsum([1.0] * 7 + [2.0] * 7 + [4.0] * 7)
    >>> round(float(simple_rt(c)[-1]), 4)  # doubling per week: 2 ** (5/7)
    1.6407
    """
    c = np.asarray(cumulative, dtype=np.float64)
    w = window
    out = np.full(c.shape, np.nan)
    if c.shape[-1] <= 2 * w:
        return out
    recent = c[..., 2 * w :] - c[..., w:-w]
    earlier = c[..., w:-w] - c[..., : -2 * w]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(earlier > 0, recent / np.where(earlier > 0, earlier, 1.0), np.nan)
    out[..., 2 * w :] = ratio ** (generation_time / w)
    return out


class RtEstimator:
    """Time-varying reproduction number on sliding windows (see the module docstring).

    Parameters
    ----------
    method : {"cori", "simple", "infection"}
    window : int
        Window length in days (EpiEstim's weekly windows: 7).
    si_mean, si_sd : float
        Serial interval mean (> 1) and sd in days, discretised by :func:`discr_si`.
        The defaults 4.8 and 2.3 are Nishiura et al. (2020) for SARS-CoV-2.
    prior_shape, prior_scale : float
        Gamma prior of R (EpiEstim: mean 5, sd 5, i.e. shape 1, scale 5).
    uncertain_si : UncertainSI or mapping, optional
        For ``"cori"``: integrate over serial-interval uncertainty (seeded by
        ``random_state``).
    generation_interval : array-like, optional
        An interval pmf over days 0, 1, ... (day 0 must be 0) instead of
        :func:`discr_si` with ``si_mean``, ``si_sd``. ``"cori"``: the serial
        interval, used as given (EpiEstim's ``non_parametric_si``: it must sum to
        1 within 0.01). ``"infection"``: the generation interval (normalised).
    simple_generation_time : float
        For ``"simple"``: the exponent's numerator (5 as Toyo Keizai).
    random_state : int, numpy.random.Generator or None
        Seed of ``uncertain_si``'s sampling (``"infection"`` is deterministic).
    t_start, t_end : array-like of int, optional
        Custom windows (``"cori"``, ``"infection"``): 0-based inclusive first and
        last days, EpiEstim's ``config$t_start - 1`` and ``config$t_end - 1``;
        instead of sliding windows of ``window`` days. ``t_start >= 1``.
    cv_posterior : float
        EpiEstim's ``cv_posterior``: a :class:`PosteriorCVWarning` is issued when
        the first window has fewer cases than ``1 / cv_posterior**2 - prior_shape``
        (its posterior's coefficient of variation exceeds ``cv_posterior``).

    Attributes
    ----------
    mean_, median_, lower_, upper_ : numpy.ndarray, shape (W,) or (regions, W)
        Posterior mean, median, 2.5% and 97.5% quantiles (``"simple"``: the value
        in mean_ and median_, NaN bounds). NaN for windows ending on or before the
        serial interval's mean (as EpiEstim, which drops them).
    t_start_, t_end_ : numpy.ndarray of int, shape (W,)
        0-based inclusive window bounds (EpiEstim's ``t_start`` is ``t_start_ + 1``).
    shape_, scale_ : numpy.ndarray or None
        Posterior gamma parameters (``"cori"`` without ``uncertain_si``).
    si_distr_ : numpy.ndarray
        The interval pmf used (``"cori"``, ``"infection"``).
    cv_ : numpy.ndarray or None
        Posterior coefficient of variation ``1 / sqrt(shape)`` per window (``"cori"``
        without ``uncertain_si``).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> counts = rng.poisson(50, size=(3, 60))
    >>> est = RtEstimator(window=7).fit(counts)
    >>> est.mean_.shape
    (3, 53)
    >>> est.to_frame(np.arange(60) + np.datetime64("2021-01-01"), ["a", "b", "c"]).height
    159
    """

    def __init__(
        self,
        method: str = "cori",
        window: int = 7,
        si_mean: float = 4.8,
        si_sd: float = 2.3,
        prior_shape: float = 1.0,
        prior_scale: float = 5.0,
        uncertain_si: UncertainSI | Mapping[str, Any] | None = None,
        generation_interval: Sequence[float] | np.ndarray | None = None,
        simple_generation_time: float = 5.0,
        random_state: int | np.random.Generator | None = None,
        t_start: Sequence[int] | np.ndarray | None = None,
        t_end: Sequence[int] | np.ndarray | None = None,
        cv_posterior: float = 0.3,
    ) -> None:
        self.method = method
        self.window = window
        self.si_mean = si_mean
        self.si_sd = si_sd
        self.prior_shape = prior_shape
        self.prior_scale = prior_scale
        self.uncertain_si = uncertain_si
        self.generation_interval = generation_interval
        self.simple_generation_time = simple_generation_time
        self.random_state = random_state
        self.t_start = t_start
        self.t_end = t_end
        self.cv_posterior = cv_posterior

    # -- validation -------------------------------------------------------------------

    def _check_params(self) -> None:
        check_choice_param(self.method, "method", _OWNER, METHODS)
        check_int_param(self.window, "window", _OWNER, 1, 365)
        si_mean = check_real_param(self.si_mean, "si_mean", _OWNER)
        if si_mean <= 1:
            raise ParameterError("epi.param.si_mean", name="si_mean", owner=_OWNER, got=si_mean)
        check_positive_param(self.si_sd, "si_sd", _OWNER)
        check_positive_param(self.prior_shape, "prior_shape", _OWNER)
        check_positive_param(self.prior_scale, "prior_scale", _OWNER)
        if self.method == "simple" and (self.t_start is not None or self.t_end is not None):
            # the media formula compares fixed weekly blocks: it has no windows to choose
            raise ParameterError("epi.rt_options.windows", reason="not with method 'simple'")
        check_positive_param(self.simple_generation_time, "simple_generation_time", _OWNER)
        if self.uncertain_si is not None:
            UncertainSI.from_any(self.uncertain_si).validate(self.si_mean, self.si_sd)
            if self.generation_interval is not None:
                raise ParameterError(
                    "epi.param.uncertain_si",
                    name="generation_interval",
                    reason="a given interval pmf cannot be combined with uncertain_si",
                )

    def _rng(self) -> np.random.Generator:
        if isinstance(self.random_state, np.random.Generator):
            return self.random_state
        return np.random.default_rng(self.random_state)

    def _windows(self, n_days: int, first_end: int) -> None:
        if self.t_start is not None or self.t_end is not None:
            from kumin.epi.epiestim import check_windows

            self.t_start_, self.t_end_ = check_windows(self.t_start, self.t_end, n_days)
            return
        self.t_end_ = np.arange(first_end, n_days)
        self.t_start_ = self.t_end_ - self.window + 1

    # -- fitting ------------------------------------------------------------------------

    def fit(self, counts: Any, imported: Any = None) -> RtEstimator:
        """Estimate Rt.

        Parameters
        ----------
        counts : array-like
            ``"cori"``/``"simple"``: daily local cases, shape (T,) or (regions, T).
            ``"infection"``: draws of daily infections, shape (draws, T) or
            (regions, draws, T); non-integer values are allowed.
        imported : array-like, optional
            Imported cases (infectors, never locally infected), broadcastable to
            ``counts`` (e.g. (T,) for every draw). Not used by ``"simple"``.

        Returns
        -------
        self
        """
        self._check_params()
        ndim = (2, 3) if self.method == "infection" else (1, 2)
        local = check_counts(counts, "counts", ndim=ndim)
        imp = None
        if imported is not None:
            imp = check_counts(imported, "imported", ndim=(1, 2, 3))
            try:
                imp = np.broadcast_to(imp, local.shape)
            except ValueError:
                raise DataError(
                    "epi.data.shape_mismatch",
                    name="imported",
                    got=str(imp.shape),
                    expected=str(local.shape),
                ) from None
        n_days = local.shape[-1]
        self.n_days_ = n_days
        self.shape_ = self.scale_ = self.cv_ = None
        if self.method == "simple":
            check_min_length(n_days, 2 * self.window, "counts")
            self._fit_simple(local)
        else:
            check_min_length(n_days, self.window + 1, "counts")
            if self.method == "cori":
                self._fit_cori(local, imp)
            else:
                self._fit_infection(local, imp)
        return self

    def _window_sums(self, x: np.ndarray) -> np.ndarray:
        # Window [s, e] (0-based, inclusive): cs[e+1] - cs[s].
        cs = np.zeros(x.shape[:-1] + (x.shape[-1] + 1,))
        np.cumsum(x, axis=-1, out=cs[..., 1:])
        ends, starts = self.t_end_ + 1, self.t_start_
        if len(ends) > 1 and np.all(np.diff(ends) == 1) and np.all(np.diff(starts) == 1):
            # sliding windows: two views, one subtraction (no gathers of 1.4 million)
            return cs[..., ends[0] : ends[-1] + 1] - cs[..., starts[0] : starts[-1] + 1]
        return cs[..., ends] - cs[..., starts]

    def _posterior(
        self, local: np.ndarray, total: np.ndarray, w: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        lam = overall_infectivity(total, w)
        shape = self.prior_shape + self._window_sums(local)
        scale = 1.0 / (1.0 / self.prior_scale + self._window_sums(lam))
        return shape, scale

    def _fit_cori(self, local: np.ndarray, imp: np.ndarray | None) -> None:
        n_days = local.shape[-1]
        total = local if imp is None else local + imp
        self._windows(n_days, self.window)
        self._warn_cv(total)
        t_end_1 = self.t_end_ + 1  # EpiEstim's 1-based window end
        if self.uncertain_si is None:
            w = self._interval_pmf(n_days, normalise=False)
            self.si_distr_ = w
            shape, scale = self._posterior(local, total, w)
            # EpiEstim reports no R for windows ending before the SI's mean.
            keep = t_end_1 > float(np.sum(np.arange(w.size) * w))
            shape[..., ~keep] = np.nan  # in place: these arrays are a region × window each
            scale[..., ~keep] = np.nan
            self.shape_, self.scale_ = shape, scale
            self.cv_ = np.reciprocal(np.sqrt(shape))
            self.mean_ = shape * scale
            self.lower_, self.median_, self.upper_ = _gamma_quantiles(shape, scale)
            return
        self._fit_uncertain(local, total)

    def _warn_cv(self, total: np.ndarray) -> None:
        """EpiEstim's check: too few cases in the first window for the desired posterior CV."""
        import warnings

        from kumin.epi.epiestim import PosteriorCVWarning

        cv = check_positive_param(self.cv_posterior, "cv_posterior", _OWNER)
        needed = math.ceil(1.0 / cv**2 - self.prior_shape)
        first = total[..., self.t_start_[0] : self.t_end_[0] + 1].sum(-1)
        self.n_low_cv_ = int(np.sum(first < needed))
        if self.n_low_cv_:
            warnings.warn(
                PosteriorCVWarning(self.n_low_cv_, int(np.size(first)), needed, cv), stacklevel=4
            )

    def _fit_uncertain(self, local: np.ndarray, total: np.ndarray) -> None:
        cfg = UncertainSI.from_any(self.uncertain_si)
        rng = self._rng()
        n_days = local.shape[-1]
        means = np.empty(cfg.n1)
        sds = np.empty(cfg.n1)
        for i in range(cfg.n1):  # EpiEstim's draw order: mean then sd, pair by pair
            means[i] = _truncnorm(
                rng, self.si_mean, cfg.std_mean_si, cfg.min_mean_si, cfg.max_mean_si, 1
            )[0]
            sds[i] = _truncnorm(rng, self.si_sd, cfg.std_std_si, cfg.min_std_si, cfg.max_std_si, 1)[
                0
            ]
        ws = discr_si(np.arange(n_days), means, sds)  # (n1, T)
        self.si_distr_ = ws
        self.si_moments_ = np.column_stack([means, sds])
        final_means = (ws * np.arange(n_days)).sum(1)
        t_end_1 = self.t_end_ + 1
        keep = (t_end_1[None, :] > means[:, None]) & (t_end_1[None, :] > final_means[:, None])
        regions = local.reshape(-1, n_days)
        out = np.full((4, regions.shape[0], self.t_end_.size), np.nan)
        for r in range(regions.shape[0]):
            shape, scale = self._posterior(regions[r], total.reshape(-1, n_days)[r], ws)
            shape = np.where(keep, shape, np.nan)
            out[:, r] = _pooled_summary(shape, scale, cfg.n2, rng)
        out = out.reshape((4,) + local.shape[:-1] + (self.t_end_.size,))
        self.mean_, self.median_, self.lower_, self.upper_ = out

    def _interval_pmf(self, n_days: int, *, normalise: bool) -> np.ndarray:
        """The serial/generation interval pmf: given, or discretised from si_mean, si_sd."""
        if self.generation_interval is None:
            return discr_si(np.arange(n_days), self.si_mean, self.si_sd)
        w = np.asarray(self.generation_interval, dtype=np.float64)
        if (
            w.ndim != 1
            or w.size < 2
            or not np.all(np.isfinite(w))
            or np.any(w < 0)
            or w[0] != 0
            or w.sum() <= 0
            or (not normalise and abs(w.sum() - 1) > 0.01)  # EpiEstim's check_si_distr
        ):
            raise ParameterError("epi.param.bad_pmf", name="generation_interval")
        return w / w.sum() if normalise else w

    def _fit_infection(self, draws: np.ndarray, imp: np.ndarray | None) -> None:
        n_days = draws.shape[-1]
        w = self._interval_pmf(n_days, normalise=True)
        self.si_distr_ = w
        total = draws if imp is None else draws + imp
        self._windows(n_days, self.window)
        shape, scale = self._posterior(draws, total, w)
        keep = (self.t_end_ + 1) > float(np.sum(np.arange(w.size) * w))
        shape = np.where(keep, shape, np.nan)
        if draws.ndim == 2:
            shape, scale = shape[None], scale[None]
        n_regions, n_draws, n_win = shape.shape
        out = np.full((4, n_regions, n_win), np.nan)
        for r in range(n_regions):
            out[:, r] = _mixture_summary(shape[r], scale[r])
        if draws.ndim == 2:
            out = out[:, 0]
        self.mean_, self.median_, self.lower_, self.upper_ = out

    def _fit_simple(self, local: np.ndarray) -> None:
        n_days = local.shape[-1]
        # C_{-1} = 0: the first value (window 2w-1) compares the first two blocks.
        cumulative = np.concatenate(
            [np.zeros(local.shape[:-1] + (1,)), np.cumsum(local, axis=-1)], axis=-1
        )
        r = simple_rt(cumulative, self.window, self.simple_generation_time)[..., 1:]
        self._windows(n_days, 2 * self.window - 1)
        self.t_start_ = self.t_end_ - 2 * self.window + 1
        value = r[..., 2 * self.window - 1 :]
        self.mean_ = value
        self.median_ = value.copy()
        self.lower_ = np.full_like(value, np.nan)
        self.upper_ = np.full_like(value, np.nan)

    # -- output -------------------------------------------------------------------------

    def to_frame(
        self, dates: Any, regions: Sequence[Any] | None = None, *, dropna: bool = False
    ) -> pl.DataFrame:
        """Results as a long frame ``region, date, r_mean, r_median, r_lower, r_upper``.

        Parameters
        ----------
        dates : sequence of dates, length T
            The dates of the input series (contiguous); ``date`` is the window end.
        regions : sequence, optional
            Region labels, one per row of a 2-D input; ``region`` is null for 1-D
            input without labels and the row number otherwise.
        dropna : bool
            Leave out windows without an estimate (EpiEstim drops them).

        Returns
        -------
        polars.DataFrame
        """
        check_fitted(self, "mean_")
        days = check_dates_contiguous(dates, "dates")
        if len(days) != self.n_days_:
            raise DataError(
                "epi.data.labels_length", name="dates", got=len(days), expected=self.n_days_
            )
        mean = np.atleast_2d(self.mean_)
        n_regions, n_win = mean.shape
        if regions is None:
            one = self.mean_.ndim == 1
            labels: list[Any] = [None] if one else [str(i) for i in range(n_regions)]
        else:
            labels = list(regions)
            if len(labels) != n_regions:
                raise DataError(
                    "epi.data.labels_length", name="regions", got=len(labels), expected=n_regions
                )
        # vectorised: a counts file of 1,741 regions gives 1.4 million rows
        end_dates = np.array(days, dtype="datetime64[D]")[self.t_end_]
        label_values = [str(x) if x is not None else None for x in labels]
        region = pl.Series("region", label_values, dtype=pl.Utf8).gather(
            np.repeat(np.arange(n_regions), n_win)
        )
        frame = pl.DataFrame(
            {
                "region": region,
                "date": pl.Series(np.tile(end_dates, n_regions)).cast(pl.Date),
                "r_mean": mean.ravel(),
                "r_median": np.atleast_2d(self.median_).ravel(),
                "r_lower": np.atleast_2d(self.lower_).ravel(),
                "r_upper": np.atleast_2d(self.upper_).ravel(),
            }
        ).with_columns(pl.col("r_mean", "r_median", "r_lower", "r_upper").fill_nan(None))
        if dropna:
            frame = frame.filter(pl.col("r_mean").is_not_null())
        return frame
