"""Benchmark: age-structured SEIR with vaccination, 9 age bands x 720 days.

Prints the time of one simulation (kumin's batched fixed-step RK4) beside a peer
run in the same script -- the same equations handed to scipy's ``solve_ivp``
(RK45, rtol 1e-8, restarted each day at the dose jumps), the usual way such a
model is written in Python -- with the
speed ratio and the largest difference in daily infections; then the time of one
fit (Wald intervals, and profile-likelihood intervals) and of a scenario
comparison with care demand.

Run: ``.venv/bin/python bench/bench_seir.py [--no-profile] [--bootstrap N]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import polars as pl
from scipy.integrate import solve_ivp

from kumin.epi.contact_matrices import japan_contact_matrix
from kumin.epi.seir import build_engine, multiplier_path, simulate_seir
from kumin.epi.seir_fit import SEIRModel
from kumin.epi.seir_scenarios import CareSettings, Scenario, compare_scenarios

START = dt.date(2020, 3, 1)
N_DAYS = 720
# Tokyo's states of emergency (2020-04-07, 2021-01-08, 2021-04-25, 2021-07-12) and an
# illustrative more transmissible variant from 2022-01-01, so the data end in a growing
# wave and the scenarios differ
CHANGES = [
    dt.date(2020, 4, 7),
    dt.date(2021, 1, 8),
    dt.date(2021, 4, 25),
    dt.date(2021, 7, 12),
    dt.date(2022, 1, 1),
]
MULTIPLIERS = [0.42, 0.5, 0.55, 0.6, 1.6]
R0 = 2.4


def dose_schedule(population: np.ndarray, n_days: int) -> np.ndarray:
    """A Japan-like roll-out: the old first from May 2021, the rest from June; boosters 2022."""
    doses = np.zeros((3, n_days, len(population)))
    day = lambda d: (d - START).days  # noqa: E731
    old = slice(7, 9)
    young = slice(1, 7)
    doses[0, day(dt.date(2021, 5, 1)) : day(dt.date(2021, 7, 31)), old] = population[old] * 0.9 / 91
    doses[0, day(dt.date(2021, 6, 15)) : day(dt.date(2021, 10, 31)), young] = (
        population[young] * 0.75 / 138
    )
    doses[1, 21:] = doses[0, :-21]
    start3 = day(dt.date(2021, 12, 1))
    doses[2, start3:, :] = doses[1, start3 - 240 : n_days - 240, :] * 0.8
    return doses


def peer_simulation(engine, r0: float, mult: np.ndarray, i0: float) -> np.ndarray:
    """The same model written plainly for scipy: each day, apply the day's doses,
    then ``solve_ivp`` (RK45) to the next day. Returns daily new infections."""
    k = len(engine.population)
    beta = r0 / engine.rho_unit
    c, n, q = engine.contacts, engine.population, engine.susceptibility
    sigma, gamma = 1 / engine.latent_days, 1 / engine.infectious_days
    sus = engine.sus_factor
    w = engine.waning_rate

    def rhs(t, y, m):
        s = y[: 7 * k].reshape(7, k)
        e, i = y[7 * k : 8 * k], y[8 * k : 9 * k]
        lam = beta * m * q * (c @ (i / n))
        inf = s * sus[:, None] * lam[None, :]
        ds = -inf
        for protected in (1, 3, 5):
            ds[protected] -= w * s[protected]
            ds[protected + 1] += w * s[protected]
        new = inf.sum(axis=0)
        return np.concatenate([ds.ravel(), new - sigma * e, sigma * e - gamma * i, gamma * i, new])

    y = np.zeros(11 * k)
    infectious = i0 * engine.seed
    exposed = infectious * engine.latent_days / engine.infectious_days
    y[:k] = n - infectious - exposed
    y[7 * k : 8 * k] = exposed
    y[8 * k : 9 * k] = infectious
    out = np.empty((N_DAYS, k))
    for day in range(N_DAYS):
        f1, f2, f3 = engine.fractions[day]
        s = y[: 7 * k].reshape(7, k).copy()
        moved = np.array(
            [
                (1 - f1) * s[0],
                (1 - f2) * s[1] + f1 * s[0],
                (1 - f2) * s[2],
                (1 - f3) * s[3] + f2 * (s[1] + s[2]),
                (1 - f3) * s[4],
                s[5] + f3 * (s[3] + s[4]),
                s[6],
            ]
        )
        y[: 7 * k] = moved.ravel()
        before = y[10 * k :].copy()
        sol = solve_ivp(
            rhs, (day, day + 1), y, method="RK45", rtol=1e-8, atol=1e-4, args=(mult[day],)
        )
        y = sol.y[:, -1]
        out[day] = y[10 * k :] - before
    return out


def timed(fn, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-profile", action="store_true", help="skip the profile-CI fit")
    parser.add_argument(
        "--bootstrap", type=int, default=0, metavar="N", help="also time N bootstrap refits"
    )
    args = parser.parse_args()

    cm = japan_contact_matrix("tokyo")
    doses = dose_schedule(cm.population, N_DAYS + 120)
    print(f"SEIR: {len(cm.bands)} age bands x {N_DAYS} days, 3 doses, Tokyo contacts")

    t_sim, truth = timed(
        lambda: simulate_seir(
            cm,
            START,
            N_DAYS,
            R0,
            initial_infectious=50,
            change_dates=CHANGES,
            multipliers=MULTIPLIERS,
            doses=doses,
            ascertainment=0.6,
        ),
        repeat=5,
    )
    engine = build_engine(
        cm, START, N_DAYS, doses, 3.0, 5.0, 1.0, (0.5, 0.8, 0.85), 1 / 180, 0.0, 1, "bench"
    )
    mult = multiplier_path(START, N_DAYS, CHANGES, np.array([MULTIPLIERS]))[0]
    t_peer, peer = timed(lambda: peer_simulation(engine, R0, mult, 50.0), repeat=2)
    ours = truth.frame["new_infections"].to_numpy().reshape(N_DAYS, -1)
    diff = np.max(np.abs(ours - peer)) / peer.max()
    print(f"  one simulation, kumin RK4 (1 step/day):   {t_sim * 1000:8.1f} ms")
    print(f"  one simulation, scipy solve_ivp RK45:     {t_peer * 1000:8.1f} ms")
    print(f"  speed ratio (peer / kumin):                {t_peer / t_sim:8.1f} x")
    print(f"  largest difference in daily infections:   {diff:8.2e} of the peak")
    batch = 64
    t_batch, _ = timed(
        lambda: engine.run(
            np.full(batch, R0), np.repeat(mult[None], batch, 0), np.full(batch, 50.0)
        )
    )
    print(f"  {batch} parameter sets in one batched run:  {t_batch * 1000:8.1f} ms")

    mu = truth.frame["expected_cases"].to_numpy().reshape(N_DAYS, -1)
    y = np.random.default_rng(0).negative_binomial(20, 20 / (20 + mu))
    days = [START + dt.timedelta(days=i) for i in range(N_DAYS)]
    print(f"  data: {int(y.sum()):,} cases generated with NB(k=20) noise")
    model = SEIRModel(cm, change_dates=CHANGES, ascertainment=0.6, ci_method="wald")
    t_fit, model = timed(lambda: model.fit(days, y, doses=doses))
    print(
        f"  one fit, Wald intervals:                  {t_fit:8.2f} s  (converged {model.converged_})"
    )
    truth_values = [R0, *MULTIPLIERS, 50.0, 20.0]
    for row, true in zip(model.ci_.iter_rows(named=True), truth_values, strict=True):
        print(
            f"    {row['parameter']:<24} {row['estimate']:9.3f}  "
            f"[{row['lower']:9.3f}, {row['upper']:9.3f}]  truth {true:g}"
        )
    if not args.no_profile:
        prof = SEIRModel(cm, change_dates=CHANGES, ascertainment=0.6, ci_method="profile")
        t_prof, prof = timed(lambda: prof.fit(days, y, doses=doses))
        print(f"  one fit, profile-likelihood intervals:    {t_prof:8.2f} s")
        for row in prof.ci_.iter_rows(named=True):
            print(f"    {row['parameter']:<24} [{row['lower']:9.3f}, {row['upper']:9.3f}]")

    if args.bootstrap:
        boot = SEIRModel(
            cm,
            change_dates=CHANGES,
            ascertainment=0.6,
            ci_method="bootstrap",
            n_boot=args.bootstrap,
            random_state=0,
        )
        t_boot, boot = timed(lambda: boot.fit(days, y, doses=doses))
        print(f"  one fit, parametric bootstrap ({args.bootstrap} refits): {t_boot:8.2f} s")
        for row in boot.ci_.iter_rows(named=True):
            print(f"    {row['parameter']:<24} [{row['lower']:9.3f}, {row['upper']:9.3f}]")

    care = CareSettings(
        {
            b: (
                {"home": 0.75, "hotel": 0.2, "hospital": 0.05, "facility": 0.0}
                if i < 6
                else {"home": 0.45, "hotel": 0.1, "hospital": 0.35, "facility": 0.1}
            )
            for i, b in enumerate(cm.bands)
        },
        {"home": 10, "hotel": 9, "hospital": 14, "facility": 12},
        {"hospital": 2},
    )
    scenarios = [
        Scenario("as planned"),
        Scenario("contacts -30%", contact_reduction=0.3),
        Scenario("boosters x2", vaccination_scale=2.0),
    ]
    t_cmp, cmp = timed(lambda: compare_scenarios(model, scenarios, 120, care, n_samples=100))
    print(f"  3 scenarios x 120 days, 100 draws each, with care demand: {t_cmp:6.2f} s")
    with pl.Config(tbl_cols=-1, tbl_width_chars=160):
        print(cmp.summary)


if __name__ == "__main__":
    main()
