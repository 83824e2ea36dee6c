"""An independent, deliberately plain implementation of EpiEstim's parametric_si method.

Written from Cori et al., "A new framework and software to estimate time-varying
reproduction numbers during epidemics", Am J Epidemiol 2013;178(9):1505-1512, and
its web appendix (discretised serial interval, appendix 11), with EpiEstim's
defaults (``make_config``: weekly windows t_start = 2..T-6, t_end = 8..T; prior
mean 5, sd 5). Plain Python loops and ``math``; nothing from kumin, so that a
shared mistake cannot hide. Indices are 1-based as in the paper.
"""

from __future__ import annotations

import math

from scipy.special import gammainc
from scipy.stats import gamma as gamma_dist


def gamma_cdf(x: float, shape: float, scale: float) -> float:
    if x <= 0:
        return 0.0
    return float(gammainc(shape, x / scale))


def discrete_si(k: int, mu: float, sigma: float) -> float:
    """w_k of the web appendix: SI - 1 ~ Gamma(mean mu - 1, sd sigma), start uniform in the day."""
    if mu <= 1:
        raise ValueError("mu must be > 1")
    a = ((mu - 1) / sigma) ** 2
    b = sigma**2 / (mu - 1)
    value = (
        k * gamma_cdf(k, a, b)
        + (k - 2) * gamma_cdf(k - 2, a, b)
        - 2 * (k - 1) * gamma_cdf(k - 1, a, b)
        + a
        * b
        * (2 * gamma_cdf(k - 1, a + 1, b) - gamma_cdf(k - 2, a + 1, b) - gamma_cdf(k, a + 1, b))
    )
    return max(0.0, value)


def estimate_r_reference(
    incidence: list[float],
    mean_si: float,
    std_si: float,
    window: int = 7,
    mean_prior: float = 5.0,
    std_prior: float = 5.0,
    imported: list[float] | None = None,
    si_distr: list[float] | None = None,
) -> list[dict[str, float]]:
    """One dict per window: t_start, t_end (1-based), mean, median, q025, q975.

    Windows that end on or before the mean of the discretised SI are left out, as
    EpiEstim does. ``imported`` cases add to the infectivity only. ``si_distr``
    replaces the parametric SI (EpiEstim's non_parametric_si).
    """
    T = len(incidence)
    local = [float(x) for x in incidence]
    imp = [0.0] * T if imported is None else [float(x) for x in imported]
    # w[k] for k = 0..T-1 (EpiEstim: discr_si(seq(0, T - 1), ...)); w[0] = 0
    if si_distr is None:
        w = [discrete_si(k, mean_si, std_si) for k in range(T)]
    else:
        w = list(si_distr) + [0.0] * max(0, T - len(si_distr))
    mean_w = sum(k * w[k] for k in range(len(w)))
    a_prior = (mean_prior / std_prior) ** 2
    b_prior = std_prior**2 / mean_prior
    # Lambda_t = sum_{s=1}^{t-1} I_{t-s} w_s, with I = local + imported (paper eq. 1)
    lam = [0.0] * (T + 1)  # 1-based
    for t in range(2, T + 1):
        total = 0.0
        for s in range(1, t):
            total += (local[t - s - 1] + imp[t - s - 1]) * w[s]
        lam[t] = total
    rows = []
    for t_start in range(2, T - window + 2):
        t_end = t_start + window - 1
        if t_end <= mean_w:
            continue
        sum_i = sum(local[t - 1] for t in range(t_start, t_end + 1))
        sum_lam = sum(lam[t] for t in range(t_start, t_end + 1))
        shape = a_prior + sum_i
        scale = 1.0 / (1.0 / b_prior + sum_lam)
        rows.append(
            {
                "t_start": t_start,
                "t_end": t_end,
                "mean": shape * scale,
                "std": math.sqrt(shape) * scale,
                "median": float(gamma_dist.ppf(0.5, shape, scale=scale)),
                "q025": float(gamma_dist.ppf(0.025, shape, scale=scale)),
                "q975": float(gamma_dist.ppf(0.975, shape, scale=scale)),
            }
        )
    return rows
