"""Erlang C / Erlang A: speed and accuracy against peers run in the same script.

Peers: the textbook factorial formula (floats), a log-space formula with
scipy's gammaln/logsumexp, and for Erlang A a dense linear solve of the
truncated birth-death chain. Prints figures and ratios; no assertions.

    .venv/bin/python bench/bench_queueing.py
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.special import gammaln, logsumexp

from kumin.resources.queueing import erlang_a, erlang_c, min_agents


def textbook_c(n: int, load: float) -> float:
    top = load**n / math.factorial(n) * n / (n - load)
    return top / (sum(load**k / math.factorial(k) for k in range(n)) + top)


def logspace_c(n: int, load: float) -> float:
    terms = np.array([k * math.log(load) - gammaln(k + 1) for k in range(n)])
    top = n * math.log(load) - gammaln(n + 1) + math.log(n / (n - load))
    return math.exp(top - logsumexp(np.append(terms, top)))


def chain_a(n: int, per_hour: float, handle: float, patience: float, size: int) -> float:
    lam, mu, theta = per_hour / 3600, 1 / handle, 1 / patience
    q = np.zeros((size, size))
    for j in range(size):
        if j + 1 < size:
            q[j, j + 1] = lam
        if j:
            q[j, j - 1] = min(j, n) * mu + max(j - n, 0) * theta
        q[j, j] = -q[j].sum()
    a = q.T.copy()
    a[-1] = 1.0
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = np.linalg.solve(a, rhs)
    return float(theta * (np.arange(size - n) * pi[n:]).sum() / lam)


def timed(fn, *args, repeat=20):
    start = time.perf_counter()
    for _ in range(repeat):
        out = fn(*args)
    return out, (time.perf_counter() - start) / repeat


def main() -> None:
    print("Erlang C: recursion (kumin) vs textbook floats vs log-space scipy")
    for n, load in [(14, 10.0), (150, 140.0), (171, 160.0), (500, 480.0), (2000, 1950.0)]:
        ours, t_ours = timed(erlang_c, n, load)
        ref, t_ref = timed(logspace_c, n, load)
        try:
            book = f"{textbook_c(n, load):.6g}"
        except OverflowError:
            book = "OverflowError"
        print(
            f"  n={n:5d} A={load:7.1f}  kumin {ours:.10f} ({t_ours * 1e6:8.1f} us)  "
            f"log-space {ref:.10f} ({t_ref * 1e6:8.1f} us, x{t_ref / t_ours:5.1f})  "
            f"|diff| {abs(ours - ref):.1e}  textbook {book}"
        )
    print("Erlang A abandonment: product form (kumin) vs dense chain solve")
    for n, per_hour, handle, patience in [
        (13, 200, 180, 300),
        (60, 1100, 200, 120),
        (250, 4400, 200, 90),
    ]:
        ours, t_ours = timed(
            lambda *a: erlang_a(*a, 0).abandonment_probability, n, per_hour, handle, patience
        )
        size = n + 400
        ref, t_ref = timed(chain_a, n, per_hour, handle, patience, size, repeat=3)
        print(
            f"  n={n:4d}  kumin {ours:.10f} ({t_ours * 1e3:7.3f} ms)  chain {ref:.10f} "
            f"({t_ref * 1e3:8.1f} ms, x{t_ref / t_ours:7.1f})  |diff| {abs(ours - ref):.1e}"
        )
    start = time.perf_counter()
    answer = min_agents(9600, 180, 20, 0.8, patience_seconds=180)
    print(
        f"min_agents, 9,600 calls/h, Erlang A: {answer.agents} agents in "
        f"{(time.perf_counter() - start) * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
