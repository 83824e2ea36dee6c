"""The triangle nowcast's optimiser: few Fisher steps, BLAS on one thread (#curve page).

The curve page waited 24–39 s for its nowcast whatever the ward's size: on nearly
Poisson data the dispersion crawled towards its bound for all 100 iterations
(its step was taken on a curvature floored at 1 while the true one shrinks like
``1/φ``), and each step's small solve was split over OpenBLAS threads.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from kumin.epi import _nowcast_base as base
from kumin.epi import nowcast_model as nmod
from kumin.epi.nowcast import Nowcaster


def _line_list(seed: int, level: float, n_days: int = 90):
    """Poisson cases a day, geometric delays: nearly Poisson cells, as a small ward's."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(np.full(n_days, level))
    onset = np.repeat(np.arange(n_days), counts)
    report = onset + rng.geometric(0.3, onset.size) - 1
    return onset, report


@pytest.fixture
def steps(monkeypatch):
    """Counts the Fisher-scoring steps (one information matrix each, one more at the mode)."""
    seen = {"n": 0}
    real = nmod._information

    def counting(*args):
        seen["n"] += 1
        return real(*args)

    monkeypatch.setattr(nmod, "_information", counting)
    return seen


@pytest.mark.parametrize("level", [5.0, 50.0])
def test_poisson_data_take_few_steps_and_reach_the_bound(steps, level):
    onset, report = _line_list(0, level)
    nc = Nowcaster(max_delay=15, n_draws=100, random_state=0).fit(onset, report, as_of=89)
    assert nc.converged_
    # was 101 whatever the level: the dispersion's step shrank with its gradient
    assert steps["n"] <= 25
    # nearly Poisson: the mode is at the dispersion's upper bound, not short of it
    # (it stopped near log φ = 6.5 after 100 steps on the small test ward; the bound is 12)
    assert nc.theta_[-1] > 10.0


def test_overdispersed_cells_keep_their_dispersion(steps):
    # every cell of the triangle NB with size 5 (a day's total alone would be absorbed
    # by the random walk of the expected counts)
    rng = np.random.default_rng(1)
    pmf = 0.3 * 0.7 ** np.arange(16)
    mu = 40.0 * pmf / pmf.sum()
    ref, rep = np.meshgrid(np.arange(90), np.arange(16), indexing="ij")
    cells = rng.negative_binomial(5.0, 5.0 / (5.0 + mu[rep]))
    nc = Nowcaster(max_delay=15, n_draws=100, random_state=0)
    nc.fit_triangle(ref.ravel(), (ref + rep).ravel(), cells.ravel(), as_of=89)
    assert nc.converged_
    assert steps["n"] <= 25
    # overdispersion found and kept (29: the day and report-day effects take some of
    # it), not pushed towards the bound; the step on the floored curvature gave the same
    assert 10.0 < nc.dispersion_ < 60.0


def test_phi_step_is_newton_and_bounded():
    assert nmod._phi_step(0.5, 2.0) == pytest.approx(0.25)  # Newton where curved
    # flat (curvature like the gradient, as on Poisson data): about one unit of log φ
    assert nmod._phi_step(-1e-3, 1e-3) == pytest.approx(-1.0)
    # negative curvature: downhill, at most PHI_STEP
    assert nmod._phi_step(-3.0, -5.0) == pytest.approx(-nmod.PHI_STEP)  # θ - step: up
    assert nmod._phi_step(0.0, -1.0) == 0.0


def test_warm_start_from_the_mode_stops_at_once(steps):
    onset, report = _line_list(2, 20.0)
    nc = Nowcaster(max_delay=15, n_draws=50, random_state=0, warm_start=True)
    nc.fit(onset, report, as_of=89)
    steps["n"] = 0
    nc.fit(onset, report, as_of=89)
    assert steps["n"] <= 3


def _threads() -> list[int]:
    return [int(get()) for get, _ in base._openblas_libraries()]


def test_single_threaded_blas_sets_and_restores():
    if not base._openblas_libraries():
        pytest.skip("no OpenBLAS loaded in this process")
    before = _threads()
    with base.single_threaded_blas():
        assert _threads() == [1] * len(before)
        with base.single_threaded_blas():  # nested: the inner exit restores nothing
            pass
        assert _threads() == [1] * len(before)
    assert _threads() == before


def test_single_threaded_blas_across_threads():
    if not base._openblas_libraries():
        pytest.skip("no OpenBLAS loaded in this process")
    before = _threads()
    inside, release = threading.Event(), threading.Event()

    def hold():
        with base.single_threaded_blas():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    inside.wait(5)
    with base.single_threaded_blas():
        pass
    # the other caller is still inside: its single thread is kept
    assert _threads() == [1] * len(before)
    release.set()
    worker.join()
    assert _threads() == before


def test_fit_restores_blas_threads():
    before = _threads()
    onset, report = _line_list(3, 10.0)
    Nowcaster(max_delay=10, n_draws=20, random_state=0).fit(onset, report, as_of=89)
    assert _threads() == before
