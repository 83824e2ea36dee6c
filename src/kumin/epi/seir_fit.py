"""Fitting the age-structured SEIR to daily cases by age band, and projecting it.

:class:`SEIRModel` estimates, by maximum likelihood,

- ``r0``: the basic reproduction number at the start of the series,
- one transmission multiplier per change date (``m_j``: transmission after the
  j-th date relative to before the first; e.g. Tokyo's states of emergency
  2020-04-07, 2021-01-08, 2021-04-25, 2021-07-12),
- ``initial_infectious``: people infectious on the first day,
- ``dispersion``: the negative-binomial size ``k`` (variance ``μ + μ²/k``),

from daily case counts by age band, each count ``y[t, a] ~ NB(μ[t, a], k)``
independently, with ``μ`` the model's expected reported cases (new onsets ×
symptomatic fraction × ascertainment). The natural history, vaccine
effectiveness, waning, symptomatic fraction and ascertainment are fixed
parameters, not estimated: with case data alone they are confounded with ``r0``
and the seed (set them from the literature or a serosurvey and vary them in a
sensitivity analysis). Counts are by onset date, or by report date when a
``reporting_delay`` distribution (onset → report, days 0, 1, ...) is given: the
expected reports are then the expected onsets spread by that distribution.

Optimisation is Fisher scoring on the log-parameters (Levenberg-Marquardt
damped): each iteration is one batched ODE run giving the expected cases and
their Jacobian by central finite differences; the NB dispersion is profiled out
exactly at every point; L-BFGS-B takes over if scoring stalls.

Intervals (``ci_method``):

- ``"profile"`` (default): profile likelihood. For each parameter, the values
  where the log-likelihood maximised over the others falls ``χ²₁(level)/2``
  below the maximum (Wilks).
- ``"wald"``: the normal approximation from the observed information
  (finite-difference Hessian); fastest.
- ``"bootstrap"``: parametric bootstrap. ``n_boot`` series are drawn from the
  fitted negative binomial and refitted (warm-started at the estimate); the
  percentile intervals of the refits are reported and the refits kept in
  ``bootstrap_``.

Projections (:meth:`SEIRModel.project`) draw parameters from the bootstrap
refits when there are any, else from the normal approximation, and add
negative-binomial noise.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import optimize, special, stats

from kumin.epi._checks import (
    check_choice_param,
    check_counts,
    check_dates_contiguous,
    check_fitted,
    check_int_param,
    check_min_length,
    check_real_param,
)
from kumin.epi.contact_matrices import ContactMatrix, japan_contact_matrix
from kumin.epi.seir import (
    SEIRTrajectory,
    band_vector,
    build_engine,
    check_change_dates,
    check_delay_pmf,
    delay_convolve,
    multiplier_path,
    symptomatic_vector,
    trajectory_frame,
)
from kumin.errors import DataError

__all__ = ["SEIRConvergenceWarning", "SEIRModel"]

_OWNER = "SEIRModel"
_MIN_DAYS_PER_PERIOD = 7
_MIN_DAYS = 14


class SEIRConvergenceWarning(UserWarning):
    """The optimiser or an interval search stopped before converging."""


def nb_loglik(y: np.ndarray, mu: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Negative-binomial log-likelihood summed over all but the first axis.

    ``y`` (T, k) broadcast against ``mu`` (B, T, k); ``size`` (B,).
    """
    mu = np.maximum(mu, 1e-10)
    k = size.reshape((-1,) + (1,) * (mu.ndim - 1))
    ll = (
        special.gammaln(y + k)
        - special.gammaln(k)
        - special.gammaln(y + 1)
        + k * (np.log(k) - np.log(k + mu))
        + y * (np.log(mu) - np.log(k + mu))
    )
    return ll.reshape(ll.shape[0], -1).sum(axis=1)


@dataclass
class _Problem:
    """Everything the objective needs, fixed for one fit."""

    engine: object
    start: dt.date
    n_days: int
    changes: list
    y: np.ndarray
    observe: np.ndarray  # symptomatic × ascertainment, (k,)
    bounds: list
    delay: np.ndarray | None = None  # onset → report pmf, if cases are by report date

    @property
    def n_params(self) -> int:
        return len(self.changes) + 3

    def expected(self, theta: np.ndarray, n_days: int | None = None):
        theta = np.atleast_2d(theta)
        n_days = self.n_days if n_days is None else n_days
        r0 = np.exp(theta[:, 0])
        mult = multiplier_path(self.start, n_days, self.changes, np.exp(theta[:, 1:-2]))
        i0 = np.exp(theta[:, -2])
        inf, on, sus = self.engine.run(r0, mult, i0, n_days)
        cases = delay_convolve(on * self.observe[None, None, :], self.delay)
        return cases, inf, on, sus, mult

    def loglik(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(theta)
        mu = self.expected(theta)[0]
        return nb_loglik(self.y, mu, np.exp(theta[:, -1]))


class SEIRModel:
    """Age-structured SEIR with vaccination, fitted to daily cases by age band.

    Parameters
    ----------
    contacts : ContactMatrix, optional
        Contacts and population by band; default
        :func:`~kumin.epi.contact_matrices.japan_contact_matrix` (Japan, 9 bands).
    change_dates : sequence of date
        Dates from which transmission changes (one multiplier estimated each).
    latent_days, infectious_days : float
        Mean latent (E) and infectious (I) periods, exponential.
    susceptibility : float, sequence or dict
        Relative susceptibility by band.
    symptomatic_fraction : float, sequence or dict, optional
        Share of infections with symptoms by band; default Davies et al. (2020)
        for the 9 default bands.
    ascertainment : float, sequence or dict
        Share of symptomatic infections that are notified.
    vaccine_effectiveness : tuple of 3 floats
        Effectiveness against infection after dose 1, 2, 3 (before waning).
    waning_rate : float
        Rate (per day) at which protection is lost; mean duration ``1/rate``.
    initial_immune : float, sequence or dict
        Share of each band immune on the first day.
    reporting_delay : array-like, optional
        Probabilities of reporting 0, 1, 2, ... days after onset; give it when
        ``cases`` are counted by report date (e.g. a discretised delay fitted by
        :mod:`kumin.epi.delays`). ``expected_cases`` outputs are then by report date.
    steps_per_day : int
        RK4 steps per day.
    ci_method : {"profile", "wald", "bootstrap"}
        How ``ci_`` is computed (see the module docstring).
    n_boot : int
        Bootstrap refits (``ci_method="bootstrap"`` only).
    random_state : int, numpy.random.Generator or None
        Seed of the bootstrap draws.
    ci_level : float
        Confidence level of ``ci_``.
    max_iter : int
        Iterations of the optimiser (Fisher scoring, then L-BFGS-B if needed).

    Attributes
    ----------
    params_ : dict
        Estimates: ``r0``, ``multiplier_<date>`` per change date,
        ``initial_infectious``, ``dispersion``.
    ci_ : polars.DataFrame
        ``parameter, estimate, lower, upper, method``.
    loglik_, aic_ : float
        Maximised log-likelihood and AIC.
    covariance_ : numpy.ndarray
        Covariance of the log-parameters (inverse observed information).
    fitted_ : SEIRTrajectory
        The fitted model over the data period.
    rt_ : polars.DataFrame
        ``date, multiplier, rt`` over the data period.
    converged_ : bool
    bootstrap_ : numpy.ndarray or None
        Log-parameters of the bootstrap refits ``(n_boot, p)`` (``ci_method="bootstrap"``).

    Examples
    --------
    >>> import datetime as dt, numpy as np
    >>> from kumin.epi.contact_matrices import contact_matrix_from_array
    >>> cm = contact_matrix_from_array([[8.0, 3.0], [1.5, 5.0]], [1e6, 2e6], ["young", "old"])
    >>> from kumin.epi.seir import simulate_seir
    >>> truth = simulate_seir(cm, dt.date(2021, 1, 1), 80, 1.6, symptomatic_fraction=0.5)
    >>> y = np.rint(truth.frame["expected_cases"].to_numpy().reshape(80, 2))
    >>> days = [dt.date(2021, 1, 1) + dt.timedelta(i) for i in range(80)]
    >>> m = SEIRModel(cm, symptomatic_fraction=0.5, ci_method="wald").fit(days, y)
    >>> round(m.params_["r0"], 1)
    1.6
    """

    def __init__(
        self,
        contacts: ContactMatrix | None = None,
        *,
        change_dates=(),
        latent_days: float = 3.0,
        infectious_days: float = 5.0,
        susceptibility=1.0,
        symptomatic_fraction=None,
        ascertainment=1.0,
        vaccine_effectiveness=(0.5, 0.8, 0.85),
        waning_rate: float = 1 / 180,
        initial_immune=0.0,
        reporting_delay=None,
        steps_per_day: int = 1,
        ci_method: str = "profile",
        ci_level: float = 0.95,
        max_iter: int = 200,
        n_boot: int = 200,
        random_state=None,
    ) -> None:
        self.contacts = contacts
        self.change_dates = change_dates
        self.latent_days = latent_days
        self.infectious_days = infectious_days
        self.susceptibility = susceptibility
        self.symptomatic_fraction = symptomatic_fraction
        self.ascertainment = ascertainment
        self.vaccine_effectiveness = vaccine_effectiveness
        self.waning_rate = waning_rate
        self.initial_immune = initial_immune
        self.reporting_delay = reporting_delay
        self.steps_per_day = steps_per_day
        self.ci_method = ci_method
        self.ci_level = ci_level
        self.max_iter = max_iter
        self.n_boot = n_boot
        self.random_state = random_state

    # -- set-up ---------------------------------------------------------------

    def _contacts(self) -> ContactMatrix:
        return japan_contact_matrix() if self.contacts is None else self.contacts

    def _engine(self, start: dt.date, n_days: int, doses, clip_doses: bool = False):
        return build_engine(
            self._contacts(),
            start,
            n_days,
            doses,
            self.latent_days,
            self.infectious_days,
            self.susceptibility,
            self.vaccine_effectiveness,
            self.waning_rate,
            self.initial_immune,
            self.steps_per_day,
            _OWNER,
            clip_doses,
        )

    def _observe(self) -> np.ndarray:
        bands = self._contacts().bands
        symp = symptomatic_vector(self.symptomatic_fraction, bands, _OWNER)
        asc = band_vector(self.ascertainment, bands, "ascertainment", _OWNER, 0.0, 1.0)
        return symp * asc

    def param_names(self) -> list[str]:
        """Names of the estimated parameters, in the order of ``covariance_``."""
        changes = check_change_dates(self.change_dates, dt.date.min, None, _OWNER)
        return [
            "r0",
            *(f"multiplier_{d.isoformat()}" for d in changes),
            "initial_infectious",
            "dispersion",
        ]

    # -- fitting --------------------------------------------------------------

    def fit(self, dates, cases, doses=None) -> SEIRModel:
        """Estimate the parameters from daily cases by band.

        Parameters
        ----------
        dates : sequence of date
            Contiguous days of the series.
        cases : array-like, shape (n_days, k)
            Reported cases by day (onset date) and band, in the bands of ``contacts``.
        doses : array-like, shape (n, days, k), optional
            Doses given by day and band, ``n`` in 1..3 (1st, 2nd, 3rd), from the
            first date; may run past the last date to cover projections.

        Returns
        -------
        SEIRModel
            ``self``.
        """
        check_choice_param(self.ci_method, "ci_method", _OWNER, ["profile", "wald", "bootstrap"])
        check_int_param(self.n_boot, "n_boot", _OWNER, 10, 100_000)
        check_real_param(self.ci_level, "ci_level", _OWNER, 0.5, 0.999)
        check_int_param(self.max_iter, "max_iter", _OWNER, 1, 10_000)
        days = check_dates_contiguous(dates, "dates")
        check_min_length(len(days), _MIN_DAYS, "dates")
        y = check_counts(cases, "cases", ndim=(2,), integer=True)
        contacts = self._contacts()
        k = len(contacts.bands)
        if y.shape != (len(days), k):
            raise DataError(
                "epi.data.shape_mismatch", name="cases", got=y.shape, expected=(len(days), k)
            )
        start, end = days[0], days[-1]
        changes = check_change_dates(self.change_dates, start, end, _OWNER)
        edges = [start, *changes, end + dt.timedelta(days=1)]
        for a, b in zip(edges, edges[1:], strict=False):
            if (b - a).days < _MIN_DAYS_PER_PERIOD:
                raise DataError(
                    "epi.seir.period_too_short",
                    start=a.isoformat(),
                    days=(b - a).days,
                    minimum=_MIN_DAYS_PER_PERIOD,
                )
        if y.sum() <= 0:
            raise DataError("epi.seir.no_cases")
        n_days = len(days)
        horizon = n_days if doses is None else max(n_days, np.asarray(doses).shape[-2])
        engine = self._engine(start, horizon, doses)
        observe = self._observe()
        if not (observe > 0).any():
            raise DataError("epi.seir.no_cases")
        bounds = (
            [(np.log(0.1), np.log(20.0))]
            + [(np.log(0.01), np.log(10.0))] * len(changes)
            + [
                (np.log(1e-3), np.log(0.05 * contacts.population.sum())),
                (np.log(0.05), np.log(1e4)),
            ]
        )
        delay = check_delay_pmf(self.reporting_delay, _OWNER)
        problem = _Problem(engine, start, n_days, changes, y, observe, bounds, delay)
        theta0 = self._initial_guess(problem, edges)
        theta, loglik, converged = _maximise(problem, theta0, None, self.max_iter)
        if not converged:
            warnings.warn(
                "SEIRModel: the optimiser stopped before converging",
                SEIRConvergenceWarning,
                stacklevel=2,
            )
        hess = _hessian(problem, theta)
        try:
            cov = np.linalg.inv(-hess)
            if not np.all(np.isfinite(cov)) or (np.diag(cov) <= 0).any():
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            cov = np.full_like(hess, np.nan)
        names = [
            "r0",
            *(f"multiplier_{d.isoformat()}" for d in changes),
            "initial_infectious",
            "dispersion",
        ]
        z = stats.norm.ppf(0.5 + self.ci_level / 2)
        se = np.sqrt(np.diag(cov))
        lower, upper = theta - z * se, theta + z * se
        self.bootstrap_ = None
        if self.ci_method == "profile":
            lower, upper = _profile_intervals(problem, theta, loglik, hess, self.ci_level, se)
        elif self.ci_method == "bootstrap":
            self.bootstrap_ = _bootstrap(problem, theta, self.n_boot, self.random_state)
            alpha = (1 - self.ci_level) / 2
            lower = np.quantile(self.bootstrap_, alpha, axis=0)
            upper = np.quantile(self.bootstrap_, 1 - alpha, axis=0)
        self._problem = problem
        self._doses = None if doses is None else np.asarray(doses, dtype=np.float64)
        self.theta_ = theta
        self.covariance_ = cov
        self.params_ = dict(zip(names, np.exp(theta).tolist(), strict=True))
        self.ci_ = pl.DataFrame(
            {
                "parameter": names,
                "estimate": np.exp(theta),
                "lower": np.exp(lower),
                "upper": np.exp(upper),
                "method": [self.ci_method] * len(names),
            }
        )
        self.loglik_ = float(loglik)
        self.aic_ = float(2 * len(theta) - 2 * loglik)
        self.n_obs_ = int(y.size)
        self.converged_ = bool(converged)
        self.dates_ = days
        self.bands_ = contacts.bands
        self.fitted_ = self._trajectory(theta, n_days, engine, problem)
        self.rt_ = self.fitted_.rt
        return self

    def _initial_guess(self, problem: _Problem, edges) -> np.ndarray:
        """Growth rates per period from log-linear fits, turned into R by the SEIR relation."""
        total = problem.y.sum(axis=1)
        rates = []
        for a, b in zip(edges, edges[1:], strict=False):
            lo = (a - problem.start).days
            hi = min((b - problem.start).days, lo + 28)
            t = np.arange(hi - lo)
            slope = np.polyfit(t, np.log(total[lo:hi] + 0.5), 1)[0]
            rates.append(slope)
        r_values = [(1 + r * self.latent_days) * (1 + r * self.infectious_days) for r in rates]
        r_values = np.clip(r_values, 0.2, 10.0)
        r0 = r_values[0]
        onsets = total[: min(7, problem.n_days)].mean() / max(
            float(np.average(problem.observe, weights=self._contacts().population)), 1e-6
        )
        i0 = max(onsets * self.infectious_days, 1.0)
        theta = np.concatenate(
            [[np.log(r0)], np.log(np.asarray(r_values[1:]) / r0), [np.log(i0), np.log(10.0)]]
        )
        lo = np.array([b[0] for b in problem.bounds])
        hi = np.array([b[1] for b in problem.bounds])
        return np.clip(theta, lo + 1e-6, hi - 1e-6)

    def _trajectory(self, theta, n_days, engine, problem) -> SEIRTrajectory:
        _, inf, on, sus, mult = problem.expected(theta, n_days)
        contacts = self._contacts()
        bands = contacts.bands
        symp = symptomatic_vector(self.symptomatic_fraction, bands, _OWNER)
        asc = band_vector(self.ascertainment, bands, "ascertainment", _OWNER, 0.0, 1.0)
        rt = engine.reproduction_numbers(float(np.exp(theta[0])), mult[0], sus[0])
        return trajectory_frame(
            problem.start, bands, inf[0], on[0], symp, asc, mult[0], rt, problem.delay
        )

    # -- projections ----------------------------------------------------------

    def project(self, horizon: int, scenario=None, *, n_samples: int = 200, random_state=None):
        """Project ``horizon`` days past the data under a scenario.

        Parameters
        ----------
        horizon : int
            Days after the last date of the data.
        scenario : Scenario, optional
            Contact reduction from a date, scaled vaccination; default: as fitted.
        n_samples : int
            Parameter draws (bootstrap refits, else normal approximation) for the
            prediction intervals; 0 for none.
        random_state : int or numpy.random.Generator, optional

        Returns
        -------
        ScenarioResult
        """
        from kumin.epi.seir_scenarios import Scenario, run_scenario

        check_fitted(self, "params_")
        check_int_param(horizon, "horizon", _OWNER, 1, 3650)
        check_int_param(n_samples, "n_samples", _OWNER, 0, 10_000)
        return run_scenario(
            self, horizon, scenario or Scenario("baseline"), n_samples, random_state, self.ci_level
        )


def _bootstrap(problem: _Problem, theta: np.ndarray, n_boot: int, random_state) -> np.ndarray:
    """Parametric bootstrap: refit NB series simulated from the fit; log-parameters (n_boot, p)."""
    rng = np.random.default_rng(random_state)
    mu = np.maximum(problem.expected(theta)[0][0], 1e-12)
    size = float(np.exp(theta[-1]))
    out = np.empty((n_boot, theta.size))
    failed = 0
    for b in range(n_boot):
        series = rng.negative_binomial(size, size / (size + mu)).astype(np.float64)
        replica = _Problem(
            problem.engine,
            problem.start,
            problem.n_days,
            problem.changes,
            series,
            problem.observe,
            problem.bounds,
            problem.delay,
        )
        out[b], _, ok = _maximise(replica, theta, None, 100)
        failed += not ok
    if failed:
        warnings.warn(
            f"SEIRModel: {failed} of {n_boot} bootstrap refits did not converge",
            SEIRConvergenceWarning,
            stacklevel=3,
        )
    return out


def _objective(problem: _Problem, free: np.ndarray, fixed_index: int | None, fixed_value: float):
    """Negative log-likelihood and its central-difference gradient, one batched run."""
    eps = 1e-4
    p = free.size

    def full(x):
        if fixed_index is None:
            return x
        return np.insert(x, fixed_index, fixed_value, axis=-1)

    def fun(x):
        batch = np.repeat(x[None, :], 2 * p + 1, axis=0)
        idx = np.arange(p)
        batch[1 + idx, idx] += eps
        batch[1 + p + idx, idx] -= eps
        with np.errstate(all="ignore"):
            ll = problem.loglik(full(batch))
        value = -ll[0]
        if not np.isfinite(value):
            return 1e20, np.zeros(p)
        up, down = ll[1 : 1 + p], ll[1 + p :]
        # one-sided differences where a trial point fails (e.g. at a bound)
        grad = np.where(
            np.isfinite(up) & np.isfinite(down),
            -(up - down) / (2 * eps),
            np.where(np.isfinite(up), -(up - ll[0]) / eps, -(ll[0] - down) / eps),
        )
        grad = np.where(np.isfinite(grad), grad, 0.0)
        return float(value), grad

    return fun


def _maximise(problem: _Problem, theta0, fixed_index, max_iter, fixed_value=0.0, ftol=1e-12):
    """Maximum of the log-likelihood (with parameter ``fixed_index`` held at ``fixed_value``).

    Fisher scoring first (a handful of batched runs); L-BFGS-B from there if it
    does not converge.
    """
    theta, loglik, converged = _fisher_scoring(
        problem, theta0, fixed_index, fixed_value, min(max_iter, 60)
    )
    if converged:
        return theta, loglik, True
    return _lbfgs(problem, theta, fixed_index, max_iter, fixed_value, ftol)


def _best_dispersion(problem: _Problem, mu: np.ndarray) -> tuple[float, float]:
    """The NB size maximising the likelihood for given means (no ODE run needed)."""
    lo, hi = problem.bounds[-1]
    y = problem.y

    def negative(log_k):
        return -float(nb_loglik(y, mu[None], np.array([np.exp(log_k)]))[0])

    res = optimize.minimize_scalar(
        negative, bounds=(lo, hi), method="bounded", options={"xatol": 1e-7}
    )
    return float(res.x), -float(res.fun)


def _fisher_scoring(problem: _Problem, theta0, fixed_index, fixed_value, max_iter):
    """Levenberg-Marquardt-damped Fisher scoring for the NB mean parameters.

    Each iteration is one batched ODE run: the point and its central
    finite-difference neighbours give the means ``μ`` and their Jacobian ``J``;
    the score is ``Jᵀ (y - μ) w`` and the expected information ``Jᵀ W J`` with
    ``w = k / (μ (k + μ))`` (the inverse NB variance). The dispersion, orthogonal
    to the mean parameters, is profiled out exactly at every point.
    """
    eps = 1e-4
    theta = np.array(theta0, dtype=np.float64)
    p = theta.size
    disp = p - 1
    if fixed_index is not None:
        theta[fixed_index] = fixed_value
    free = [i for i in range(disp) if i != fixed_index]
    fit_disp = fixed_index != disp
    m = len(free)
    lo = np.array([b[0] for b in problem.bounds])[free]
    hi = np.array([b[1] for b in problem.bounds])[free]
    y = problem.y

    def evaluate(point):
        batch = np.repeat(point[None, :], 2 * m + 1, axis=0)
        for n, i in enumerate(free):
            batch[1 + n, i] += eps
            batch[1 + m + n, i] -= eps
        with np.errstate(all="ignore"):
            mu = problem.expected(batch)[0]
        mu0 = np.maximum(mu[0], 1e-10)
        jac = (mu[1 : 1 + m] - mu[1 + m :]) / (2 * eps)
        point = point.copy()
        if fit_disp:
            point[disp], value = _best_dispersion(problem, mu0)
        else:
            value = float(nb_loglik(y, mu0[None], np.exp(point[disp : disp + 1]))[0])
        return point, mu0, jac.reshape(m, -1), value

    theta, mu0, jac, loglik = evaluate(np.clip(theta, *_bounds_full(problem, theta, free)))
    if not np.isfinite(loglik):
        return theta, loglik, False
    damping = 1e-3
    for _ in range(max_iter):
        size = np.exp(theta[disp])
        w = size / (mu0 * (size + mu0))
        score = jac @ ((y - mu0) * w).ravel()
        info = (jac * w.ravel()) @ jac.T
        accepted = False
        while damping < 1e8:
            try:
                step = np.linalg.solve(
                    info + damping * np.diag(np.diag(info)) + 1e-12 * np.eye(m), score
                )
            except np.linalg.LinAlgError:
                damping *= 10
                continue
            biggest = np.max(np.abs(step))
            if biggest > 1.0:  # at most a factor e per iteration on any parameter
                step = step / biggest
            candidate = theta.copy()
            candidate[free] = np.clip(theta[free] + step, lo, hi)
            cand, mu_c, jac_c, ll_c = evaluate(candidate)
            if np.isfinite(ll_c) and ll_c >= loglik - 1e-10:
                moved = np.max(np.abs(cand - theta))
                gain = ll_c - loglik
                theta, mu0, jac, loglik = cand, mu_c, jac_c, ll_c
                damping = max(damping / 10, 1e-9)
                accepted = True
                break
            damping *= 10
        if not accepted:
            return theta, loglik, False
        if gain < 1e-8 and moved < 1e-5:
            return theta, loglik, True
    return theta, loglik, False


def _bounds_full(problem: _Problem, theta, free):
    lo = np.array([b[0] for b in problem.bounds])
    hi = np.array([b[1] for b in problem.bounds])
    # only the free mean parameters are clipped; the fixed one keeps its value
    keep = np.ones(theta.size, dtype=bool)
    keep[free] = False
    lo = np.where(keep, -np.inf, lo)
    hi = np.where(keep, np.inf, hi)
    return lo, hi


def _lbfgs(problem: _Problem, theta0, fixed_index, max_iter, fixed_value=0.0, ftol=1e-12):
    bounds = list(problem.bounds)
    x0 = np.asarray(theta0, dtype=np.float64)
    if fixed_index is not None:
        del bounds[fixed_index]
        x0 = np.delete(x0, fixed_index)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    x0 = np.clip(x0, lo, hi)
    fun = _objective(problem, x0, fixed_index, fixed_value)
    res = optimize.minimize(
        fun,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": ftol, "gtol": 1e-6},
    )
    x = res.x if fixed_index is None else np.insert(res.x, fixed_index, fixed_value)
    return x, -float(res.fun), bool(res.success)


def _hessian(problem: _Problem, theta: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Hessian of the log-likelihood by central differences, in one batched run."""
    p = theta.size
    points = [theta]
    index = []
    for i in range(p):
        for j in range(i, p):
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                x = theta.copy()
                x[i] += si * h
                x[j] += sj * h
                points.append(x)
            index.append((i, j))
    ll = problem.loglik(np.array(points))
    hess = np.empty((p, p))
    for n, (i, j) in enumerate(index):
        pp, pm, mp, mm = ll[1 + 4 * n : 5 + 4 * n]
        hess[i, j] = hess[j, i] = (pp - pm - mp + mm) / (4 * h * h)
    return hess


def _profile_intervals(problem, theta, loglik, hess, level, se):
    """Wilks intervals for every parameter, by root-finding on the profile likelihood.

    The signed root ``r(c) = sign(c - θ̂) sqrt(2 (ℓ̂ - ℓ_p(c)))`` is nearly linear
    in ``c``, so a secant search on ``r(c) = ±z`` from the Wald end point needs
    two or three profile evaluations per side (each a warm-started optimisation).
    """
    z = float(np.sqrt(stats.chi2.ppf(level, 1)))
    p = theta.size
    lower = np.full(p, np.nan)
    upper = np.full(p, np.nan)
    lo_b = np.array([b[0] for b in problem.bounds])
    hi_b = np.array([b[1] for b in problem.bounds])
    for j in range(p):
        others = [i for i in range(p) if i != j]
        try:
            slope = -np.linalg.solve(hess[np.ix_(others, others)], hess[others, j])
        except np.linalg.LinAlgError:
            slope = np.zeros(len(others))

        def signed_root(c, j=j, others=others, slope=slope):
            start = theta.copy()
            start[others] = theta[others] + slope * (c - theta[j])
            _, value, _ = _maximise(problem, start, j, 60, c, ftol=1e-10)
            return np.sign(c - theta[j]) * np.sqrt(max(2.0 * (loglik - value), 0.0))

        width = se[j] if np.isfinite(se[j]) and se[j] > 0 else 0.2
        for side, out in ((-1, lower), (1, upper)):
            bound = lo_b[j] if side < 0 else hi_b[j]
            goal = side * z
            c_prev, r_prev = theta[j], 0.0
            c = float(np.clip(theta[j] + side * z * width, lo_b[j], hi_b[j]))
            r = signed_root(c)
            for _ in range(8):
                if abs(r - goal) < 0.01 or (c == bound and abs(r) < z):
                    break
                slope_r = (r - r_prev) / (c - c_prev) if c != c_prev else 0.0
                if slope_r <= 0:  # flat or non-monotone profile: step outwards
                    c_new = theta[j] + 2.0 * (c - theta[j])
                else:
                    c_new = c + (goal - r) / slope_r
                c_prev, r_prev = c, r
                c = float(np.clip(c_new, lo_b[j], hi_b[j]))
                r = signed_root(c)
            if c == bound and abs(r) < z:
                warnings.warn(
                    f"SEIRModel: the profile interval of parameter {j} reaches its search bound",
                    SEIRConvergenceWarning,
                    stacklevel=3,
                )
            elif abs(r - goal) >= 0.05:
                warnings.warn(
                    f"SEIRModel: the profile interval search of parameter {j} did not converge",
                    SEIRConvergenceWarning,
                    stacklevel=3,
                )
            out[j] = c
    return lower, upper
