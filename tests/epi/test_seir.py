"""The SEIR engine against textbook results, vaccination and input checks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import optimize

from kumin.epi.contact_matrices import contact_matrix_from_array, japan_contact_matrix
from kumin.epi.seir import DAVIES_SYMPTOMATIC_FRACTION, simulate_seir
from kumin.errors import DataError, ParameterError

START = dt.date(2021, 1, 1)


def one_group(n=1e6):
    return contact_matrix_from_array([[10.0]], [n], ["all"])


def two_groups():
    return contact_matrix_from_array([[8.0, 3.0], [1.5, 5.0]], [1e6, 2e6], ["young", "old"])


def test_final_size_matches_the_final_size_equation():
    # one homogeneous group: attack rate z solves z = 1 - exp(-R0 z)
    run = simulate_seir(one_group(), START, 500, 2.0, initial_infectious=10, symptomatic_fraction=1)
    attack = run.frame["new_infections"].sum() / 1e6
    z = optimize.brentq(lambda x: x - 1 + np.exp(-2.0 * x), 0.1, 1.0)
    assert attack == pytest.approx(z, abs=2e-3)


def test_early_growth_rate_matches_the_seir_euler_lotka_relation():
    # exponential latent and infectious periods: R0 = (1 + r L)(1 + r D)
    latent, infectious, r0 = 3.0, 5.0, 2.0
    run = simulate_seir(
        one_group(1e9),
        START,
        60,
        r0,
        initial_infectious=10,
        latent_days=latent,
        infectious_days=infectious,
        symptomatic_fraction=1,
    )
    inf = run.frame["new_infections"].to_numpy()
    slope = np.polyfit(np.arange(30, 60), np.log(inf[30:60]), 1)[0]
    r = optimize.brentq(lambda x: (1 + x * latent) * (1 + x * infectious) - r0, 0, 1)
    assert slope == pytest.approx(r, rel=0.01)


def test_rt_starts_at_r0_and_follows_the_multiplier():
    run = simulate_seir(
        japan_contact_matrix(),
        START,
        40,
        1.5,
        change_dates=[dt.date(2021, 1, 21)],
        multipliers=[0.6],
    )
    rt = run.rt["rt"].to_numpy()
    assert rt[0] == pytest.approx(1.5, rel=1e-5)  # the seeded 100 are not susceptible
    assert rt[20] == pytest.approx(0.6 * rt[19], rel=1e-3)
    assert run.rt["multiplier"][19] == 1.0 and run.rt["multiplier"][20] == 0.6


def test_symptomatic_and_expected_cases_by_band():
    cm = japan_contact_matrix()
    run = simulate_seir(cm, START, 30, 1.3, ascertainment=0.5)
    frame = run.frame.filter(run.frame["age_band"] == "80+")
    # new symptomatic / onsets is the Davies fraction; expected cases halve it
    ratio = frame["expected_cases"].sum() / frame["new_symptomatic"].sum()
    assert ratio == pytest.approx(0.5)
    assert DAVIES_SYMPTOMATIC_FRACTION["80+"] == 0.69
    assert run.totals().height == 30


def doses_for(cm, n_days, start_day=20, per_day=0.01):
    k = len(cm.bands)
    doses = np.zeros((3, n_days, k))
    doses[0, start_day : start_day + 60] = cm.population * per_day
    doses[1, start_day + 21 : start_day + 81] = cm.population * per_day
    return doses


def test_vaccination_lowers_cases():
    cm = two_groups()
    kw = dict(initial_infectious=50, symptomatic_fraction=0.5)
    none = simulate_seir(cm, START, 200, 1.8, **kw).frame["new_infections"].sum()
    vacc = simulate_seir(cm, START, 200, 1.8, doses=doses_for(cm, 200), **kw)
    assert vacc.frame["new_infections"].sum() < 0.8 * none


def test_useless_vaccine_changes_nothing_and_waning_costs_cases():
    cm = two_groups()
    kw = dict(initial_infectious=50, symptomatic_fraction=0.5)
    none = simulate_seir(cm, START, 200, 1.8, **kw).frame["new_infections"].to_numpy()
    d = doses_for(cm, 200)
    null = simulate_seir(cm, START, 200, 1.8, doses=d, vaccine_effectiveness=(0, 0, 0), **kw)
    np.testing.assert_allclose(null.frame["new_infections"].to_numpy(), none, rtol=1e-9)
    lasting = simulate_seir(cm, START, 200, 1.8, doses=d, waning_rate=0.0, **kw)
    waning = simulate_seir(cm, START, 200, 1.8, doses=d, waning_rate=1 / 30, **kw)
    assert waning.frame["new_infections"].sum() > lasting.frame["new_infections"].sum()


def test_doses_beyond_eligible_are_refused_with_every_problem():
    cm = two_groups()
    d = np.zeros((2, 50, 2))
    d[0, :10, 0] = 1000.0
    d[1, :10, :] = 2000.0  # more second doses than first doses in both bands
    with pytest.raises(DataError) as info:
        simulate_seir(cm, START, 50, 1.5, doses=d, symptomatic_fraction=0.5)
    assert len(info.value.problems) == 2
    assert {p.params["band"] for p in info.value.problems} == {"young", "old"}
    assert info.value.problems[0].params["date"] == "2021-01-01"


@pytest.mark.parametrize(
    "doses",
    [np.full((1, 10, 2), -1.0), np.zeros((4, 10, 2)), np.zeros((1, 10, 3)), [["x"]]],
)
def test_bad_doses(doses):
    with pytest.raises(DataError):
        simulate_seir(two_groups(), START, 10, 1.5, doses=doses, symptomatic_fraction=0.5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"latent_days": 0.0},
        {"infectious_days": -1.0},
        {"waning_rate": 2.0},
        {"vaccine_effectiveness": (0.5, 1.2, 0.5)},
        {"vaccine_effectiveness": (0.5, 0.8)},
        {"susceptibility": [1.0, 1.0, 1.0]},
        {"susceptibility": -1.0},
        {"ascertainment": 1.5},
        {"initial_immune": {"young": 0.1}},
        {"change_dates": ["2020-12-01"], "multipliers": [0.5]},
        {"change_dates": ["2021-01-10"], "multipliers": []},
        {"steps_per_day": 0},
    ],
)
def test_bad_parameters(kwargs):
    kwargs = {"symptomatic_fraction": 0.5, **kwargs}
    with pytest.raises(ParameterError):
        simulate_seir(two_groups(), START, 30, 1.5, **kwargs)


def test_symptomatic_fraction_needed_for_custom_bands():
    with pytest.raises(ParameterError) as info:
        simulate_seir(two_groups(), START, 10, 1.5)
    assert "symptomatic_fraction" in info.value.render("en")
