"""Erlang C and Erlang A: published figures, brute-force chains, large centres, minimality."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.special import gammaln, logsumexp
from scipy.stats import gamma

from kumin.errors import ParameterError
from kumin.resources.queueing import (
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_stats,
    min_agents,
    patience_from_abandonment,
    queue_stats,
)

# -------------------------------------------------------------- published figures


def test_call_centre_helper_worked_example():
    # "Erlang C formula - example" (Call Centre Helper,
    # https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls
    # per 30 minutes, 180 s average handle time, target 80 % answered in 20 s. The
    # published answer, as reproduced in pyworkforce's README
    # (rodrigo-arenas/pyworkforce, "Erlang C — infinite patience"): 14 agents,
    # service level 0.8884, occupancy 0.7143, waiting probability 0.1741.
    answer = min_agents(200, 180, 20, 0.8)
    assert answer.agents == 14
    assert answer.service_level == pytest.approx(0.8884, abs=5e-5)
    assert answer.occupancy == pytest.approx(0.7143, abs=5e-5)
    assert answer.probability_wait == pytest.approx(0.1741, abs=5e-5)
    assert answer.offered_load == pytest.approx(10.0)


def test_erlang_a_agrees_with_an_independent_implementation():
    # Same example with 5 minutes' mean patience; pyworkforce's README ("Erlang A —
    # finite patience") reports 13 agents, service level 0.8584, abandonment 0.0253,
    # waiting probability 0.2265. Our figures are exact (checked against the
    # brute-force chain below); theirs agree to within 0.001.
    answer = min_agents(200, 180, 20, 0.8, patience_seconds=300)
    assert answer.agents == 13
    assert answer.service_level == pytest.approx(0.8584, abs=1e-3)
    assert answer.abandonment_probability == pytest.approx(0.0253, abs=1e-3)
    assert answer.probability_wait == pytest.approx(0.2265, abs=1e-3)


def _erlang_c_exact(n: int, load: Fraction) -> Fraction:
    """The textbook formula in exact rational arithmetic (no rounding at all)."""
    top = load**n / math.factorial(n) * Fraction(n) / (n - load)
    return top / (sum(load**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize("n", [11, 12, 13, 14, 15])
def test_erlang_c_matches_exact_rational_formula_for_ten_erlangs(n):
    # The classic A = 10 erlangs table (C = 0.6821, 0.4494, 0.2853, 0.1741, 0.1020).
    assert erlang_c(n, 10.0) == pytest.approx(float(_erlang_c_exact(n, Fraction(10))), rel=1e-12)


@pytest.mark.parametrize(
    ("n", "load"),
    [(1, Fraction(1, 2)), (3, Fraction(2)), (40, Fraction(73, 2)), (60, Fraction(113, 2))],
)
def test_erlang_c_matches_exact_rational_formula(n, load):
    assert erlang_c(n, float(load)) == pytest.approx(float(_erlang_c_exact(n, load)), rel=1e-11)


def test_erlang_b_small_cases():
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)


# -------------------------------------------------------------- brute-force chains


def _chain(n: int, lam: float, mu: float, theta: float, size: int) -> np.ndarray:
    """Stationary distribution of the truncated birth-death chain by a linear solve."""
    q = np.zeros((size, size))
    for j in range(size):
        if j + 1 < size:
            q[j, j + 1] = lam
        if j > 0:
            q[j, j - 1] = min(j, n) * mu + max(j - n, 0) * theta
        q[j, j] = -q[j].sum()
    a = q.T.copy()
    a[-1, :] = 1.0
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    return np.linalg.solve(a, rhs)


@pytest.mark.parametrize(
    ("n", "per_hour", "handle", "within"),
    [(3, 20, 360, 30), (14, 200, 180, 20), (25, 260, 330, 60)],
)
def test_erlang_c_against_birth_death_chain(n, per_hour, handle, within):
    lam, mu = per_hour / 3600, 1 / handle
    pi = _chain(n, lam, mu, 0.0, n + 600)
    waiting = pi[n:]
    k = np.arange(len(waiting))
    # An arrival finding n + k in the system waits for k + 1 service completions.
    answered = pi[:n].sum() + (waiting * gamma.cdf(within, a=k + 1, scale=1 / (n * mu))).sum()
    stats = erlang_c_stats(n, per_hour, handle, within)
    assert stats.probability_wait == pytest.approx(waiting.sum(), abs=1e-10)
    assert stats.service_level == pytest.approx(answered, abs=1e-9)
    assert stats.mean_wait_seconds == pytest.approx((k * waiting).sum() / lam, rel=1e-8)


def _answered_within(n: int, mu: float, theta: float, ahead: int, t: float) -> float:
    """P(a caller with ``ahead`` callers in front is answered by t), from first principles.

    States: positions ahead..0, then "answered" and "gone". From position k the
    caller moves up at rate n·mu + k·theta (a service or an abandonment in front)
    and hangs up at theta; at the head (k = 0) the next service answers them.
    """
    size = ahead + 3
    answered, gone = ahead + 1, ahead + 2
    q = np.zeros((size, size))
    for k in range(ahead + 1):
        q[k, k - 1 if k > 0 else answered] = n * mu + k * theta
        q[k, gone] = theta
        q[k, k] = -q[k].sum()
    return float(expm(q * t)[ahead, answered])


@pytest.mark.parametrize(
    ("n", "per_hour", "handle", "patience", "within"),
    [(2, 30, 300, 120, 20), (13, 200, 180, 300, 20), (6, 90, 240, 60, 45)],
)
def test_erlang_a_against_birth_death_chain(n, per_hour, handle, patience, within):
    lam, mu, theta = per_hour / 3600, 1 / handle, 1 / patience
    size = n + 120
    pi = _chain(n, lam, mu, theta, size)
    waiting = pi[n:]
    k = np.arange(len(waiting))
    queue = (k * waiting).sum()
    answered = pi[:n].sum() + sum(
        waiting[i] * _answered_within(n, mu, theta, i, within) for i in range(60)
    )
    stats = erlang_a(n, per_hour, handle, patience, within)
    assert stats.probability_wait == pytest.approx(waiting.sum(), abs=1e-10)
    assert stats.abandonment_probability == pytest.approx(theta * queue / lam, abs=1e-10)
    assert stats.mean_wait_seconds == pytest.approx(queue / lam, rel=1e-8)
    assert stats.service_level == pytest.approx(answered, abs=1e-8)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    c = erlang_c_stats(13, 200, 180, 20)
    a = erlang_a(13, 200, 180, 1e9, 20)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-6)
    assert a.probability_wait == pytest.approx(c.probability_wait, abs=1e-6)


# -------------------------------------------------------------- large centres


def _log_erlang_c(n: int, load: float) -> float:
    # Independent route: log-sum-exp of the textbook terms.
    terms = np.array([k * math.log(load) - gammaln(k + 1) for k in range(n)])
    top = n * math.log(load) - gammaln(n + 1) + math.log(n / (n - load))
    return top - logsumexp(np.append(terms, top))


@pytest.mark.parametrize(("n", "load"), [(500, 480.0), (800, 790.0), (2000, 1900.0)])
def test_erlang_c_is_stable_for_hundreds_of_agents(n, load):
    c = erlang_c(n, load)
    assert 0.0 < c < 1.0
    assert math.log(c) == pytest.approx(_log_erlang_c(n, load), abs=1e-9)


def test_min_agents_at_five_hundred_agents():
    # 480 erlangs: 9,600 calls an hour of 180 s.
    answer = min_agents(9600, 180, 20, 0.8)
    assert 480 < answer.agents < 520
    assert math.isfinite(answer.mean_wait_seconds)
    assert erlang_c_stats(answer.agents - 1, 9600, 180, 20).service_level < 0.8
    with_patience = min_agents(9600, 180, 20, 0.8, patience_seconds=180)
    assert 0 < with_patience.agents <= answer.agents


# -------------------------------------------------------------- minimality


CASES = [
    (5, 600, 30, 0.8),
    (60, 420, 30, 0.8),
    (200, 180, 20, 0.8),
    (350, 300, 15, 0.9),
    (1200, 240, 60, 0.95),
    (0.5, 300, 0, 0.5),
    (90, 400, 0, 0.8),
]


@pytest.mark.parametrize(("per_hour", "handle", "within", "target"), CASES)
@pytest.mark.parametrize("patience", [None, 30.0, 150.0, 1200.0])
def test_min_agents_is_the_true_minimum(per_hour, handle, within, target, patience):
    answer = min_agents(per_hour, handle, within, target, patience_seconds=patience)
    assert answer.service_level >= target
    got = queue_stats(answer.agents, per_hour, handle, within, patience)
    assert got.service_level == pytest.approx(answer.service_level)
    fewer = queue_stats(answer.agents - 1, per_hour, handle, within, patience)
    assert fewer.service_level < target  # one fewer agent misses the target


def test_service_level_rises_with_each_agent():
    levels = [erlang_a(n, 120, 360, 90, 30).service_level for n in range(0, 25)]
    assert all(b >= a for a, b in zip(levels, levels[1:], strict=False))
    assert levels[0] == 0.0 and levels[-1] > 0.999


def test_max_abandonment_adds_agents():
    loose = min_agents(9000, 180, 20, 0.8, patience_seconds=120)
    strict = min_agents(9000, 180, 20, 0.8, patience_seconds=120, max_abandonment=0.01)
    assert strict.agents > loose.agents
    assert strict.abandonment_probability <= 0.01
    assert erlang_a(strict.agents - 1, 9000, 180, 120, 20).abandonment_probability > 0.01


def test_no_calls_needs_no_agents():
    answer = min_agents(0, 300, 20, 0.8)
    assert (answer.agents, answer.service_level, answer.occupancy) == (0, 1.0, 0.0)


def test_patience_is_recovered_from_abandonment():
    for patience in (20.0, 150.0, 900.0):
        rate = erlang_a(9, 100, 330, patience, 0).abandonment_probability
        assert patience_from_abandonment(rate, 9, 100, 330) == pytest.approx(patience, rel=1e-4)
    assert patience_from_abandonment(0.0, 9, 100, 330) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"service_level": 1.5},
            "The 'service_level' parameter of min_agents must be a float in (0, 1). Got 1.5 instead.",
        ),
        (
            {"handle_seconds": 0},
            "The 'handle_seconds' parameter of min_agents must be a float in (0, 86400]",
        ),
        ({"arrivals_per_hour": -1}, "'arrivals_per_hour'"),
        ({"patience_seconds": 0}, "'patience_seconds'"),
        ({"service_level": True}, "'service_level'"),
    ],
)
def test_parameters_are_checked(kwargs, message):
    args = {
        "arrivals_per_hour": 100,
        "handle_seconds": 300,
        "answer_within": 20,
        "service_level": 0.8,
    }
    args.update(kwargs)
    with pytest.raises(ParameterError) as info:
        min_agents(**args)
    assert message in str(info.value)
    assert info.value.render("ja")  # a Japanese message exists


def _simulate_centre(n, per_hour, handle, patience, within, callers, seed):
    """Discrete-event simulation of M/M/n+M, first come first served."""
    import heapq
    from collections import deque

    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(3600 / per_hour, callers))
    services = rng.exponential(handle, callers)
    deadlines = arrivals + rng.exponential(patience, callers)
    busy: list[float] = []  # completion times
    queue: deque[int] = deque()
    answered_in_time = abandoned = 0
    warm = callers // 10

    def serve(i, now):
        nonlocal answered_in_time
        heapq.heappush(busy, now + services[i])
        if i >= warm and now - arrivals[i] <= within:
            answered_in_time += 1

    for i, t in enumerate(arrivals):
        while busy and busy[0] <= t:
            now = heapq.heappop(busy)
            while queue:
                j = queue.popleft()
                if deadlines[j] >= now:
                    serve(j, now)
                    break
                abandoned += j >= warm
        if len(busy) < n:
            serve(i, t)
        else:
            queue.append(i)
    abandoned += sum(1 for j in queue if j >= warm and deadlines[j] < arrivals[-1])
    counted = callers - warm
    return answered_in_time / counted, abandoned / counted


@pytest.mark.parametrize("seed", [0, 1])
def test_erlang_a_against_simulation(seed):
    # An end-to-end check of what "service level" means: the share of all callers
    # answered within the target, callers who hang up counting as not answered.
    sl, ab = _simulate_centre(6, 90, 240, 60, 30, 60_000, seed)
    model = erlang_a(6, 90, 240, 60, 30)
    assert sl == pytest.approx(model.service_level, abs=0.015)
    assert ab == pytest.approx(model.abandonment_probability, abs=0.01)
