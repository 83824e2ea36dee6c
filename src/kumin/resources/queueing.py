"""Exact queueing models for a telephone consultation centre.

Two models, both exact (no approximation formula):

* **Erlang C** (M/M/n): Poisson arrivals, exponential handle times, callers who
  never hang up. The delay probability comes from the Erlang B recursion
  ``B(0) = 1, B(k) = A·B(k-1) / (k + A·B(k-1))`` and ``C = n·B / (n - A·(1 - B))``.
  Every intermediate lies in [0, 1], so the result is stable for thousands of
  agents where the textbook ``A^n / n!`` form overflows near n = 170.
* **Erlang A** (M/M/n+M): the same, plus exponential patience; callers who wait
  longer than their patience abandon. Computed from the birth–death chain's
  stationary distribution in closed product form, the waiting part truncated
  where its terms fall below ``e^-45`` of the largest (far beyond double
  precision); the service level uses the exact phase-type distribution of the
  time to be answered, evaluated with a matrix exponential (see
  :func:`erlang_a`).

Times are in seconds and arrival rates per hour throughout, as a health-centre
director states them ("120 calls an hour, 6 minutes a call, answer within 30 s").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kumin.errors import ParameterError

# Waiting-state terms below exp(-TAIL_LOG) of the largest are dropped.
TAIL_LOG = 45.0
MAX_WAITING_STATES = 2_000_000


def check_number(
    value: object,
    name: str,
    owner: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> float:
    """Validate one numeric parameter and return it as float (or int).

    Raises :class:`ParameterError` with the scikit-learn style message
    "The 'x' parameter of f must be a float in (0, 1]. Got 2 instead."
    """
    kind = "an int" if integer else "a float"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    constraint = f"{kind} in {left}{lo}, {hi}{right}"
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if ok and integer and float(value) != int(value):
        ok = False
    if ok:
        v = float(value)
        ok = math.isfinite(v) or (high is None and v == math.inf and not integer)
        if low is not None:
            ok = ok and (v > low if low_open else v >= low)
        if high is not None:
            ok = ok and (v < high if high_open else v <= high)
    if not ok:
        raise ParameterError(
            "resources.parameter", name=name, owner=owner, constraint=constraint, got=repr(value)
        )
    return int(value) if integer else float(value)


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/n/n with ``load`` erlangs offered to ``agents``.

    Examples
    --------
    >>> round(erlang_b(2, 1.0), 4)
    0.2
    """
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability that a caller waits (M/M/n), 1.0 when ``load >= agents``.

    Examples
    --------
    >>> round(erlang_c(11, 10.0), 4)
    0.6821
    """
    if agents <= load:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1.0 - b))


def _c_from_b(agents: int, load: float, b: float) -> float:
    if agents <= load:
        return 1.0
    return agents * b / (agents - load * (1.0 - b))


@dataclass(frozen=True)
class QueueStats:
    """Performance of one queue with a given number of agents.

    ``service_level`` is the share of all callers answered within the target
    (callers who abandon count as not answered); ``mean_wait_seconds`` averages
    over every caller, including those answered at once and those who hang up.
    """

    agents: int
    offered_load: float
    service_level: float
    probability_wait: float
    mean_wait_seconds: float
    occupancy: float
    abandonment_probability: float
    model: str  # "erlang_c" or "erlang_a"


def _erlang_c_stats(agents: int, load: float, handle: float, within: float, b: float) -> QueueStats:
    if agents <= load:
        return QueueStats(agents, load, 0.0, 1.0, math.inf, 1.0, 0.0, "erlang_c")
    c = _c_from_b(agents, load, b)
    sl = 1.0 - c * math.exp(-(agents - load) * within / handle)
    wait = c * handle / (agents - load)
    return QueueStats(agents, load, sl, c, wait, load / agents, 0.0, "erlang_c")


def erlang_c_stats(
    agents: int, arrivals_per_hour: float, handle_seconds: float, answer_within: float
) -> QueueStats:
    """Erlang C service level, delay probability, mean wait and occupancy.

    Service level is ``1 - C·exp(-(n - A)·t / h)``; mean wait ``C·h / (n - A)``.

    Examples
    --------
    The call-centre-helper worked example: 100 calls per half hour, 180 s
    handle time, 14 agents, 20 s target.

    >>> s = erlang_c_stats(14, 200, 180, 20)
    >>> round(s.service_level, 4), round(s.probability_wait, 4), round(s.occupancy, 4)
    (0.8884, 0.1741, 0.7143)
    """
    agents = check_number(agents, "agents", "erlang_c_stats", 0, None, integer=True)
    lam, h, t = _check_common("erlang_c_stats", arrivals_per_hour, handle_seconds, answer_within)
    load = lam * h / 3600.0
    return _erlang_c_stats(agents, load, h, t, erlang_b(agents, load))


def _check_common(owner: str, arrivals: float, handle: float, within: float) -> tuple[float, ...]:
    return (
        check_number(arrivals, "arrivals_per_hour", owner, 0, 1e7),
        check_number(handle, "handle_seconds", owner, 0, 86400, low_open=True),
        check_number(within, "answer_within", owner, 0, 86400),
    )


def _waiting_log_terms(lam: float, service_rate: float, theta: float) -> np.ndarray:
    """log of pi_{n+k} / pi_n for k = 0..K, truncated where negligible."""
    size = 256
    while True:
        k = np.arange(1, size + 1, dtype=float)
        logs = np.concatenate([[0.0], np.cumsum(np.log(lam) - np.log(service_rate + k * theta))])
        peak = logs.max()
        decreasing = lam < service_rate + size * theta
        if decreasing and logs[-1] < peak - TAIL_LOG:
            cut = int(np.nonzero(logs >= peak - TAIL_LOG)[0][-1]) + 1
            return logs[: cut + 1]
        if size >= MAX_WAITING_STATES:
            raise ParameterError("resources.queue_too_long")
        size *= 4


def erlang_a(
    agents: int,
    arrivals_per_hour: float,
    handle_seconds: float,
    patience_seconds: float,
    answer_within: float,
    *,
    _b: float | None = None,
) -> QueueStats:
    """Exact M/M/n+M (Erlang A) performance.

    Stationary distribution: ``pi_j ∝ A^j / j!`` for ``j <= n`` and
    ``pi_{n+k} = pi_n · prod_{i=1..k} λ / (nμ + iθ)`` above, with ``θ = 1 /
    patience``; the sum up to ``n`` is ``pi_n / B(n, A)``, so no factorial is
    ever formed. Abandonment probability is ``θ·E[queue] / λ`` and mean wait
    ``E[queue] / λ`` (Little). A caller who finds ``k`` callers waiting is
    answered with probability ``prod_{i=0..k} (nμ+iθ) / (nμ+(i+1)θ)`` after a
    time distributed as a sum of exponentials of rates ``nμ + (i+1)θ``; the
    share answered within the target is computed for all ``k`` at once as the
    absorption probability of that pure-death chain, ``expm_multiply``.

    Examples
    --------
    >>> s = erlang_a(13, 200, 180, 300, 20)
    >>> round(s.abandonment_probability, 4), round(s.service_level, 4)
    (0.025, 0.8582)
    """
    owner = "erlang_a"
    agents = check_number(agents, "agents", owner, 0, None, integer=True)
    lam_h, h, t = _check_common(owner, arrivals_per_hour, handle_seconds, answer_within)
    patience = check_number(patience_seconds, "patience_seconds", owner, 0, None, low_open=True)
    load = lam_h * h / 3600.0
    if lam_h == 0:
        return QueueStats(agents, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, "erlang_a")
    if math.isinf(patience):
        b = erlang_b(agents, load) if _b is None else _b
        stats = _erlang_c_stats(agents, load, h, t, b)
        return QueueStats(**{**stats.__dict__, "model": "erlang_a"})
    if agents == 0:
        return QueueStats(0, load, 0.0, 1.0, patience, 0.0, 1.0, "erlang_a")
    lam = lam_h / 3600.0
    mu = 1.0 / h
    theta = 1.0 / patience
    nmu = agents * mu
    b = erlang_b(agents, load) if _b is None else _b
    logs = _waiting_log_terms(lam, nmu, theta)
    # Normalise in log space: the busy-side sum is pi_n / B, the waiting side exp(logs).
    shift = max(0.0, float(logs.max()))
    waiting = np.exp(logs - shift)
    total = (1.0 / b) * math.exp(-shift) + waiting.sum() - waiting[0]
    pi_wait = waiting / total  # pi_{n+k}, k = 0..K
    k = np.arange(len(pi_wait), dtype=float)
    p_wait = float(pi_wait.sum())  # PASTA: an arrival finds all agents busy
    queue = float((k * pi_wait).sum())
    abandon = theta * queue / lam
    mean_wait = queue / lam
    occupancy = lam * (1.0 - abandon) / nmu if agents else 0.0
    answered_at_once = 1.0 - p_wait
    # Probability of being answered eventually, then within t.
    served = np.exp(np.cumsum(np.log(nmu + k * theta) - np.log(nmu + (k + 1) * theta)))
    q = pi_wait * served
    sl = answered_at_once + _absorbed_by(q, nmu + (k + 1) * theta, t)
    return QueueStats(
        agents,
        load,
        float(min(1.0, max(0.0, sl))),
        p_wait,
        mean_wait,
        float(min(1.0, occupancy)),
        float(abandon),
        "erlang_a",
    )


def _absorbed_by(q: np.ndarray, rates: np.ndarray, t: float) -> float:
    """Sum_k q_k · P(pure-death chain from level k is absorbed below 0 by time t).

    Level i flows to level i-1 at ``rates[i]``; level 0 flows out (the caller is
    answered). Solved by uniformization (exact up to a Poisson tail below 1e-14),
    or by ``expm_multiply`` when the uniformized chain would need too many steps.
    """
    total = float(q.sum())
    if t == 0 or total == 0.0:
        return 0.0
    big = float(rates.max()) * t
    if big > 3000:
        from scipy.sparse import diags
        from scipy.sparse.linalg import expm_multiply

        gen_t = diags([-rates, rates[1:]], [0, 1], format="csc")  # transposed generator
        remaining = expm_multiply(gen_t * t, q)
        return total - float(np.clip(remaining, 0.0, None).sum())
    from scipy.special import gammaln

    # Poisson(big) mass beyond mean + 9 sd + 25 is below 1e-15.
    steps = int(math.ceil(big + 9.0 * math.sqrt(big) + 25.0))
    m = np.arange(steps + 1, dtype=float)
    weights = np.exp(m * math.log(big) - big - gammaln(m + 1.0))
    move = rates / rates.max()
    stay = 1.0 - move
    v = q.astype(float).copy()
    remaining = weights[0] * v.sum()
    for m in range(1, steps + 1):
        flow = v * move
        v = v * stay
        v[:-1] += flow[1:]
        remaining += weights[m] * v.sum()
    return total - remaining


@dataclass(frozen=True)
class StaffingAnswer:
    """The fewest agents meeting a service-level target, and what they achieve.

    Field names are the CLI's JSON keys.
    """

    agents: int
    service_level: float
    occupancy: float
    mean_wait_seconds: float
    probability_wait: float
    abandonment_probability: float
    offered_load: float
    model: str


def min_agents(
    arrivals_per_hour: float,
    handle_seconds: float,
    answer_within: float,
    service_level: float,
    patience_seconds: float | None = None,
    max_abandonment: float | None = None,
    max_agents: int = 100_000,
    max_occupancy: float | None = None,
) -> StaffingAnswer:
    """The fewest agents whose service level reaches ``service_level``.

    Uses Erlang C, or Erlang A when ``patience_seconds`` is given. The service
    level rises with every added agent, so the first count that meets the target
    is the true minimum: one fewer misses it.

    Parameters
    ----------
    arrivals_per_hour : float
        Calls offered per hour.
    handle_seconds : float
        Mean handle time (talk plus wrap-up).
    answer_within : float
        Target answer time in seconds (the "20" of "80 % within 20 s").
    service_level : float
        Target share of callers answered within ``answer_within``, in (0, 1).
    patience_seconds : float, optional
        Mean time callers wait before hanging up; ``None`` means they never do.
    max_abandonment : float, optional
        With ``patience_seconds``, also keep the share of callers who hang up at
        or below this (an overloaded centre with impatient callers can meet a
        service level while many callers give up).
    max_agents : int
        Give up (``ParameterError``) beyond this many agents.
    max_occupancy : float, optional
        Also keep occupancy (share of agents' on-phone time spent talking) at or
        below this: agents kept near 100 % burn out and the queue has no slack
        for a burst; contact centres commonly cap it at 85 %. Occupancy falls
        with every added agent, so the first count meeting every constraint is
        still the minimum.

    Examples
    --------
    >>> answer = min_agents(200, 180, 20, 0.8)
    >>> answer.agents, round(answer.service_level, 4)
    (14, 0.8884)
    """
    owner = "min_agents"
    lam, h, t = _check_common(owner, arrivals_per_hour, handle_seconds, answer_within)
    target = check_number(
        service_level, "service_level", owner, 0, 1, low_open=True, high_open=True
    )
    if patience_seconds is not None:
        check_number(patience_seconds, "patience_seconds", owner, 0, None, low_open=True)
    max_agents = check_number(max_agents, "max_agents", owner, 1, None, integer=True)
    cap = 1.0
    if max_abandonment is not None:
        cap = check_number(max_abandonment, "max_abandonment", owner, 0, 1, low_open=True)
    occ_cap = 1.0
    if max_occupancy is not None:
        occ_cap = check_number(max_occupancy, "max_occupancy", owner, 0, 1, low_open=True)
    load = lam * h / 3600.0
    if lam == 0:
        return StaffingAnswer(
            0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, "erlang_c" if patience_seconds is None else "erlang_a"
        )
    if patience_seconds is None:
        stats = _first_erlang_c(load, h, t, target, max_agents, occ_cap)
    else:
        stats = _first_erlang_a(lam, h, patience_seconds, t, target, cap, max_agents, occ_cap)
    if stats is None:
        raise ParameterError("resources.too_many_agents", limit=max_agents)
    return StaffingAnswer(
        agents=stats.agents,
        service_level=stats.service_level,
        occupancy=stats.occupancy,
        mean_wait_seconds=stats.mean_wait_seconds,
        probability_wait=stats.probability_wait,
        abandonment_probability=stats.abandonment_probability,
        offered_load=load,
        model=stats.model,
    )


def _first_erlang_c(
    load: float, h: float, t: float, target: float, max_agents: int, occ_cap: float = 1.0
) -> QueueStats | None:
    # One pass of the Erlang B recursion: O(n) for the whole search.
    b = 1.0
    for agents in range(1, max_agents + 1):
        b = load * b / (agents + load * b)
        if agents > load:
            stats = _erlang_c_stats(agents, load, h, t, b)
            if stats.service_level >= target and stats.occupancy <= occ_cap + 1e-12:
                return stats
    return None


def _first_erlang_a(
    lam: float,
    h: float,
    patience: float,
    t: float,
    target: float,
    cap: float,
    max_agents: int,
    occ_cap: float = 1.0,
) -> QueueStats | None:
    # The service level rises (and abandonment falls) with each agent, so search
    # for the first count that meets the target: start from the Erlang C answer,
    # which is usually within an agent or two, gallop to a bracket, then bisect.
    def at(n: int) -> QueueStats:
        return erlang_a(n, lam, h, patience, t)

    def meets(s: QueueStats) -> bool:
        return (
            s.service_level >= target
            and s.abandonment_probability <= cap
            and s.occupancy <= occ_cap + 1e-12
        )

    load = lam * h / 3600.0
    start_c = _first_erlang_c(load, h, t, target, max_agents)
    start = start_c.agents if start_c is not None else max_agents
    start = max(1, min(start, max_agents))
    first = at(start)
    step = 1
    if meets(first):
        hi, best = start, first
        lo = hi - step
        while lo > 0:
            probe = at(lo)
            if not meets(probe):
                break
            hi, best = lo, probe
            step *= 2
            lo = hi - step
        lo = max(lo, 0)
    else:
        lo = start
        hi = start + step
        while True:
            if hi > max_agents:
                if lo >= max_agents:
                    return None
                hi = max_agents
            best = at(hi)
            if meets(best):
                break
            if hi == max_agents:
                return None
            lo = hi
            step *= 2
            hi = lo + step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        stats = at(mid)
        if meets(stats):
            hi, best = mid, stats
        else:
            lo = mid
    if lo == 0 and hi == 1:
        zero = at(0)
        if meets(zero):
            return zero
    return best


def queue_stats(
    agents: int,
    arrivals_per_hour: float,
    handle_seconds: float,
    answer_within: float,
    patience_seconds: float | None = None,
) -> QueueStats:
    """Erlang C stats, or Erlang A when ``patience_seconds`` is given."""
    if patience_seconds is None:
        return erlang_c_stats(agents, arrivals_per_hour, handle_seconds, answer_within)
    return erlang_a(agents, arrivals_per_hour, handle_seconds, patience_seconds, answer_within)


def patience_from_abandonment(
    abandonment_rate: float,
    agents: int,
    arrivals_per_hour: float,
    handle_seconds: float,
) -> float | None:
    """Mean patience (seconds) at which Erlang A reproduces an observed abandonment rate.

    Abandonment rises monotonically as patience falls, so the root is unique.
    Returns ``None`` when the observed rate cannot be reproduced with patience
    between 1 second and 10 days (e.g. zero abandonment: patience unidentifiable).

    Examples
    --------
    >>> rate = erlang_a(13, 200, 180, 300, 20).abandonment_probability
    >>> round(patience_from_abandonment(rate, 13, 200, 180), 3)
    300.0
    """
    owner = "patience_from_abandonment"
    rate = check_number(abandonment_rate, "abandonment_rate", owner, 0, 1)
    agents = check_number(agents, "agents", owner, 0, None, integer=True)
    lam, h, _ = _check_common(owner, arrivals_per_hour, handle_seconds, 0)
    if lam == 0:
        return None
    from scipy.optimize import brentq

    b = erlang_b(agents, lam * h / 3600.0)

    def gap(log_patience: float) -> float:
        return (
            erlang_a(agents, lam, h, math.exp(log_patience), 0, _b=b).abandonment_probability - rate
        )

    lo, hi = math.log(1.0), math.log(864_000.0)
    g_lo, g_hi = gap(lo), gap(hi)
    if not (g_lo >= 0 >= g_hi):
        return None
    return math.exp(brentq(gap, lo, hi, xtol=1e-8))
