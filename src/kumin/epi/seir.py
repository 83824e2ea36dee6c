"""Age-structured SEIR with vaccination: the deterministic engine and its outputs.

The model (one set of equations per age band ``a``; contacts ``C[a, b]`` are the
mean daily contacts of a person in band ``a`` with people in band ``b``)::

    force of infection   λ_a(t) = β m(t) q_a Σ_b C[a, b] I_b(t) / N_b
    susceptibles         S_a,s' = (vaccination and waning moves) - (1 - VE_s) λ_a S_a,s
    exposed              E_a'   = Σ_s (1 - VE_s) λ_a S_a,s - σ E_a
    infectious           I_a'   = σ E_a - γ I_a
    removed              R_a'   = γ I_a

``σ = 1 / latent_days``, ``γ = 1 / infectious_days``, ``q_a`` the relative
susceptibility, ``m(t)`` a piecewise-constant multiplier of transmission that
changes at given dates (states of emergency), and ``β`` is set from the basic
reproduction number ``R0`` as ``R0 / ρ(NGM)``, the dominant eigenvalue of the
next-generation matrix ``q_a C[a, b] N_a / N_b / γ``.

Vaccination strata ``s`` of the susceptibles: unvaccinated, and for each dose
k = 1, 2, 3 a *protected* stratum (effectiveness ``VE_k`` against infection,
leaky) and a *waned* stratum (no protection). Protected people move to waned at
rate ``ω`` (``waning_rate``), so a cohort's mean protection decays as
``VE_k exp(-ω t)``: exponential waning, exactly. Doses by day and band (1st, 2nd,
3rd) are given; a dose k goes to people holding k-1 doses whatever their
infection history: at the start of each day the share ``doses / eligible`` of
every eligible stratum moves up (operator splitting). Vaccine protection against
infection only (no separate effect on symptoms or onward transmission) is the
assumption; ``R`` is permanent immunity over the horizon (SEIR, not SEIRS).

New symptomatic cases are the daily flow ``E → I`` (onset of infectiousness,
taken as onset of symptoms) times the symptomatic fraction by age; expected
*reported* cases multiply that by the ascertainment. Defaults for the
symptomatic fraction follow Davies et al. (2020, Nat Med 26:1205): 0.21 under 20
and 0.69 over 70 (their published point estimates), linear in between.

The ODE is integrated with fixed-step RK4 (``steps_per_day`` steps per day,
inputs constant within a day; one step per day keeps daily incidence within
1e-5 of the peak of a 16-step solution in ``bench/bench_seir.py``),
vectorised over a batch of parameter sets so
that finite-difference gradients, Hessians and parameter samples cost one run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from kumin.epi.contact_matrices import MODEL_BANDS, ContactMatrix
from kumin.errors import DataError, ParameterError, Problem

__all__ = [
    "DAVIES_SYMPTOMATIC_FRACTION",
    "SEIRTrajectory",
    "dominant_eigenvalue",
    "simulate_seir",
]

# Davies et al. (2020): clinical fraction 0.21 for 10-19 and 0.69 for 70+; taken
# flat below 20 and above 70, linear in age between (band midpoints).
DAVIES_SYMPTOMATIC_FRACTION: dict[str, float] = {
    "0-9": 0.21,
    "10-19": 0.21,
    "20-29": 0.258,
    "30-39": 0.354,
    "40-49": 0.45,
    "50-59": 0.546,
    "60-69": 0.642,
    "70-79": 0.69,
    "80+": 0.69,
}

N_DOSES = 3
# susceptible strata: 0 unvaccinated, then (protected, waned) for doses 1..3
_N_STRATA = 1 + 2 * N_DOSES
_E, _I, _R, _CUM_INF, _CUM_ONSET = range(_N_STRATA, _N_STRATA + 5)
_N_COMP = _N_STRATA + 5


def dominant_eigenvalue(matrix: np.ndarray) -> float:
    """Spectral radius of a non-negative matrix (the R of a next-generation matrix)."""
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


def band_vector(value, bands: tuple[str, ...], name: str, owner: str, low=0.0, high=None):
    """A scalar or one value per band, as a float array of len(bands)."""
    arr = np.asarray(value, dtype=np.float64) if not isinstance(value, dict) else None
    if isinstance(value, dict):
        missing = [b for b in bands if b not in value]
        if missing:
            raise ParameterError("epi.seir.band_missing", name=name, owner=owner, band=missing[0])
        arr = np.array([float(value[b]) for b in bands])
    if arr.ndim == 0:
        arr = np.full(len(bands), float(arr))
    if arr.shape != (len(bands),):
        raise ParameterError(
            "epi.seir.band_vector", name=name, owner=owner, expected=len(bands), got=arr.shape
        )
    bad = ~np.isfinite(arr) | (arr < low)
    if high is not None:
        bad |= arr > high
    if bad.any():
        interval = f"[{low:g}, {'inf' if high is None else f'{high:g}'}]"
        raise ParameterError(
            "epi.param.real_range",
            name=name,
            owner=owner,
            interval=interval,
            got=repr(float(arr[bad][0])),
        )
    return arr


def uptake_fractions(
    doses, n_days: int, population: np.ndarray, bands, start: dt.date, *, clip: bool = False
) -> np.ndarray:
    """Shares ``(n_days, 3, k)`` of the people eligible for dose ``d`` who get it each day.

    ``doses`` has shape ``(n, days, k)`` with ``n`` in 1..3 (1st, 2nd, 3rd dose);
    days past its end get no doses. Raises ``DataError`` listing every band and
    dose whose cumulative count exceeds the people eligible (holding one dose
    fewer), or any negative or non-finite entry. With ``clip`` (scaled scenario
    schedules) doses beyond those eligible are dropped instead.
    """
    k = len(population)
    fractions = np.zeros((n_days, N_DOSES, k))
    if doses is None:
        return fractions
    try:
        d = np.asarray(doses, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("epi.data.not_numeric", name="doses") from None
    if d.ndim == 2:
        d = d[None]
    if d.ndim != 3 or not 1 <= d.shape[0] <= N_DOSES or d.shape[2] != k:
        raise DataError(
            "epi.data.shape_mismatch", name="doses", got=d.shape, expected=f"(1..3, days, {k})"
        )
    if not np.all(np.isfinite(d)) or (d < 0).any():
        raise DataError("epi.seir.doses_invalid")
    full = np.zeros((N_DOSES, n_days, k))
    m = min(n_days, d.shape[1])
    full[: d.shape[0], :m] = d[:, :m]
    cum = np.cumsum(full, axis=1)
    if clip:
        for j in range(N_DOSES):
            cum[j] = np.minimum(cum[j], population if j == 0 else cum[j - 1])
        full = np.diff(cum, axis=1, prepend=0.0)
    # eligible for dose j before day t: holders of dose j-1 minus holders of dose j
    holders_prev = np.concatenate([np.broadcast_to(population, (1, n_days, k)), cum[:-1]], axis=0)
    problems = []
    over = cum > holders_prev * (1 + 1e-9) + 1e-9
    for j in range(N_DOSES):
        for b in range(k):
            days = np.nonzero(over[j, :, b])[0]
            if days.size:
                problems.append(
                    Problem(
                        None,
                        "doses",
                        "epi.seir.doses_exceed_one",
                        {
                            "dose": j + 1,
                            "band": bands[b],
                            "date": (start + dt.timedelta(int(days[0]))).isoformat(),
                        },
                    )
                )
    if problems:
        raise DataError("epi.seir.doses_exceed", problems=problems)
    before = np.concatenate([np.zeros((N_DOSES, 1, k)), cum[:, :-1]], axis=1)
    prev_before = np.concatenate([np.broadcast_to(population, (1, n_days, k)), before[:-1]], axis=0)
    eligible = prev_before - before
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(eligible > 0, full / np.maximum(eligible, 1e-300), 0.0)
    return np.transpose(np.clip(frac, 0.0, 1.0), (1, 0, 2))


def _dose_jumps(fractions: np.ndarray) -> np.ndarray:
    """Daily maps ``(n_days, k, 7, 7)`` moving the day's vaccinees up one dose.

    Doses are applied at the start of each day as exact shares of each stratum
    (operator splitting): continuous rates would reach ``-log(1 - f)`` → ∞ when a
    day's doses take nearly everyone eligible, too stiff for a one-day RK4 step.
    """
    n_days, _, k = fractions.shape
    jump = np.zeros((n_days, k, _N_STRATA, _N_STRATA))
    f1, f2, f3 = fractions[:, 0], fractions[:, 1], fractions[:, 2]
    # strata: 0 unvacc, 1 d1 protected, 2 d1 waned, 3 d2 p, 4 d2 w, 5 d3 p, 6 d3 w
    jump[:, :, 0, 0] = 1 - f1
    jump[:, :, 1, 0] = f1
    jump[:, :, 1, 1] = 1 - f2
    jump[:, :, 2, 2] = 1 - f2
    jump[:, :, 3, 1] = f2
    jump[:, :, 3, 2] = f2
    jump[:, :, 3, 3] = 1 - f3
    jump[:, :, 4, 4] = 1 - f3
    jump[:, :, 5, 3] = f3
    jump[:, :, 5, 4] = f3
    jump[:, :, 5, 5] = 1.0
    jump[:, :, 6, 6] = 1.0
    return jump


def _waning_operator(waning: float) -> np.ndarray:
    """Generator ``(7, 7)`` of protected → waned moves at rate ``waning``."""
    op = np.zeros((_N_STRATA, _N_STRATA))
    for protected in (1, 3, 5):
        op[protected, protected] = -waning
        op[protected + 1, protected] = waning
    return op


@dataclass
class Engine:
    """The batched RK4 integrator for one model set-up (contacts, natural history, doses)."""

    contacts: np.ndarray
    population: np.ndarray
    susceptibility: np.ndarray
    latent_days: float
    infectious_days: float
    vaccine_effectiveness: tuple[float, float, float]
    waning_rate: float
    fractions: np.ndarray  # (n_days, 3, k)
    initial_immune: np.ndarray
    steps_per_day: int = 1
    jumps: np.ndarray = field(init=False)
    vaccinating: bool = field(init=False)
    ngm_unit: np.ndarray = field(init=False)
    seed: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.vaccinating = bool(self.fractions.any())
        self.jumps = _dose_jumps(self.fractions) if self.vaccinating else None
        self.waning_op = _waning_operator(self.waning_rate)
        ve = self.vaccine_effectiveness
        self.sus_factor = np.array([1.0, 1 - ve[0], 1.0, 1 - ve[1], 1.0, 1 - ve[2], 1.0])
        n = self.population
        s = n * (1 - self.initial_immune)
        # NGM for β = 1: infections in a caused by one infectious person in b
        self.ngm_unit = (
            self.susceptibility[:, None] * self.contacts * s[:, None] / n[None, :]
        ) * self.infectious_days
        vals, vecs = np.linalg.eig(self.ngm_unit)
        lead = int(np.argmax(np.abs(vals)))
        v = np.abs(np.real(vecs[:, lead]))
        self.seed = v / v.sum()
        self.rho_unit = float(np.abs(vals[lead]))

    @property
    def n_days(self) -> int:
        return self.fractions.shape[0]

    def beta_of(self, r0: np.ndarray) -> np.ndarray:
        return np.asarray(r0, dtype=np.float64) / self.rho_unit

    def run(self, r0, multipliers, initial_infectious, n_days: int | None = None):
        """Integrate a batch; returns daily ``(infections, onsets, susceptible_eff)``.

        Parameters
        ----------
        r0 : array (B,)
        multipliers : array (B, n_days)
            Transmission multiplier for each day.
        initial_infectious : array (B,)
            People infectious on day 0 (distributed as the growing epidemic's
            dominant eigenvector; the exposed start at ``γ/σ`` times that).

        Returns
        -------
        infections, onsets : arrays (B, n_days, k)
            New infections and new onsets (E → I) on each day.
        susceptible : array (B, n_days, k)
            Effective susceptibles ``Σ_s (1 - VE_s) S_s`` at the start of each day.
        """
        n_days = self.n_days if n_days is None else n_days
        beta = self.beta_of(r0)
        mult = np.asarray(multipliers, dtype=np.float64)
        i0 = np.asarray(initial_infectious, dtype=np.float64)
        b = beta.shape[0]
        k = len(self.population)
        n_strata = _N_STRATA if self.vaccinating else 1
        # layout (B, compartment, k); unvaccinated runs keep only S0
        comp = n_strata + 5
        e_, i_, r_, ci_, co_ = range(n_strata, n_strata + 5)
        y = np.zeros((b, comp, k))
        infectious = i0[:, None] * self.seed[None, :]
        exposed = infectious * self.latent_days / self.infectious_days
        immune = self.population * self.initial_immune
        y[:, 0] = np.maximum(self.population - immune - infectious - exposed, 0.0)
        y[:, e_] = exposed
        y[:, i_] = infectious
        y[:, r_] = immune
        inv_n = 1.0 / self.population
        ct = self.contacts.T.copy()
        q = self.susceptibility
        sigma = 1.0 / self.latent_days
        gamma = 1.0 / self.infectious_days
        sus = self.sus_factor[:n_strata, None]
        h = 1.0 / self.steps_per_day
        out_inf = np.empty((b, n_days, k))
        out_on = np.empty((b, n_days, k))
        out_sus = np.empty((b, n_days, k))
        jumps = self.jumps
        waning_op = self.waning_op if self.vaccinating and self.waning_rate > 0 else None

        def rhs(state, bq):
            s = state[:, :n_strata]
            foi = bq * ((state[:, i_] * inv_n) @ ct)
            inf = s * sus * foi[:, None, :]
            new = inf.sum(axis=1)
            d = np.empty_like(state)
            if waning_op is not None:
                d[:, :n_strata] = np.matmul(waning_op, s) - inf
            else:
                d[:, :n_strata] = -inf
            flow_ei = sigma * state[:, e_]
            flow_ir = gamma * state[:, i_]
            d[:, e_] = new - flow_ei
            d[:, i_] = flow_ei - flow_ir
            d[:, r_] = flow_ir
            d[:, ci_] = new
            d[:, co_] = flow_ei
            return d

        for day in range(n_days):
            bq = (beta * mult[:, day])[:, None] * q[None, :]
            if jumps is not None and day < jumps.shape[0]:
                s = y[:, :n_strata]
                y[:, :n_strata] = np.matmul(jumps[day], s.transpose(2, 1, 0)).transpose(2, 1, 0)
            out_sus[:, day] = (y[:, :n_strata] * sus).sum(axis=1)
            start_inf = y[:, ci_].copy()
            start_on = y[:, co_].copy()
            for _ in range(self.steps_per_day):
                k1 = rhs(y, bq)
                k2 = rhs(y + (h / 2) * k1, bq)
                k3 = rhs(y + (h / 2) * k2, bq)
                k4 = rhs(y + h * k3, bq)
                y = y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
                # explicit RK4 overshoots below zero when a trial parameter set makes
                # the force of infection far faster than a step; clipping keeps such
                # runs finite (and badly fitting) instead of overflowing
                np.maximum(y, 0.0, out=y)
            out_inf[:, day] = y[:, ci_] - start_inf
            out_on[:, day] = y[:, co_] - start_on
        np.maximum(out_inf, 0.0, out=out_inf)
        np.maximum(out_on, 0.0, out=out_on)
        return out_inf, out_on, out_sus

    def reproduction_numbers(self, r0: float, multipliers: np.ndarray, susceptible: np.ndarray):
        """Effective reproduction number by day from effective susceptibles ``(n_days, k)``."""
        beta = float(self.beta_of(np.array([r0]))[0])
        base = self.susceptibility[:, None] * self.contacts / self.population[None, :]
        ngm = base[None, :, :] * susceptible[:, :, None] * self.infectious_days
        rho = np.max(np.abs(np.linalg.eigvals(ngm)), axis=1)
        return beta * multipliers * rho


@dataclass(frozen=True)
class SEIRTrajectory:
    """One model run by day and age band (a scenario, a fit's fitted curve).

    Attributes
    ----------
    frame : polars.DataFrame
        ``date, age_band, new_infections, new_symptomatic, expected_cases``
        (expected reported cases = ascertainment × new symptomatic).
    rt : polars.DataFrame
        ``date, multiplier, rt``: the transmission multiplier in force and the
        effective reproduction number (dominant eigenvalue of the NGM with the
        day's effective susceptibles).
    """

    frame: pl.DataFrame
    rt: pl.DataFrame

    def totals(self) -> pl.DataFrame:
        """All ages summed: ``date, new_infections, new_symptomatic, expected_cases``."""
        return (
            self.frame.group_by("date", maintain_order=True)
            .agg(pl.col("new_infections", "new_symptomatic", "expected_cases").sum())
            .sort("date")
        )


def check_delay_pmf(pmf, owner: str) -> np.ndarray | None:
    """A reporting-delay distribution over days 0, 1, ... (normalised), or None."""
    if pmf is None:
        return None
    try:
        arr = np.asarray(pmf, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError("epi.seir.delay_pmf", owner=owner) from None
    ok = arr.ndim == 1 and 1 <= arr.size <= 120 and np.all(np.isfinite(arr))
    if not ok or (arr < 0).any() or arr.sum() <= 0:
        raise ParameterError("epi.seir.delay_pmf", owner=owner)
    return arr / arr.sum()


def delay_convolve(x: np.ndarray, pmf: np.ndarray | None) -> np.ndarray:
    """Spread daily counts ``(..., T, k)`` over later days by a delay pmf (onset → report)."""
    if pmf is None:
        return x
    out = np.zeros_like(x)
    n_days = x.shape[-2]
    for lag, weight in enumerate(pmf):
        if weight and lag < n_days:
            out[..., lag:, :] += weight * x[..., : n_days - lag, :]
    return out


def trajectory_frame(
    start: dt.date,
    bands: tuple[str, ...],
    infections: np.ndarray,
    onsets: np.ndarray,
    symptomatic: np.ndarray,
    ascertainment: np.ndarray,
    multipliers: np.ndarray,
    rt: np.ndarray,
    delay_pmf: np.ndarray | None = None,
) -> SEIRTrajectory:
    n_days, k = infections.shape
    dates = pl.date_range(start, start + dt.timedelta(days=n_days - 1), "1d", eager=True)
    sym = onsets * symptomatic[None, :]
    frame = pl.DataFrame(
        {
            "date": np.repeat(dates.to_numpy(), k),
            "age_band": list(bands) * n_days,
            "new_infections": infections.reshape(-1),
            "new_symptomatic": sym.reshape(-1),
            "expected_cases": delay_convolve(sym * ascertainment[None, :], delay_pmf).reshape(-1),
        }
    ).with_columns(pl.col("date").cast(pl.Date))
    rt_frame = pl.DataFrame({"date": dates, "multiplier": multipliers, "rt": rt})
    return SEIRTrajectory(frame, rt_frame)


def multiplier_path(start: dt.date, n_days: int, change_dates, values: np.ndarray) -> np.ndarray:
    """Per-day multiplier ``(B, n_days)``: 1, then ``values[:, j]`` from change date j on."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    out = np.ones((values.shape[0], n_days))
    for j, change in enumerate(change_dates):
        offset = (change - start).days
        if offset < n_days:
            out[:, max(offset, 0) :] = values[:, j : j + 1]
    return out


def simulate_seir(
    contacts: ContactMatrix,
    start: dt.date,
    n_days: int,
    r0: float,
    *,
    initial_infectious: float = 100.0,
    change_dates=(),
    multipliers=(),
    doses=None,
    latent_days: float = 3.0,
    infectious_days: float = 5.0,
    susceptibility=1.0,
    symptomatic_fraction=None,
    ascertainment=1.0,
    vaccine_effectiveness=(0.5, 0.8, 0.85),
    waning_rate: float = 1 / 180,
    initial_immune=0.0,
    steps_per_day: int = 1,
    reporting_delay=None,
) -> SEIRTrajectory:
    """Run the age-structured SEIR once (no fitting).

    Parameters are those of :class:`kumin.epi.seir_fit.SEIRModel` plus the
    transmission values (``r0``, ``initial_infectious`` and one multiplier per
    change date). ``doses`` has shape ``(n, days, k)``, ``n`` in 1..3.

    Returns
    -------
    SEIRTrajectory

    Examples
    --------
    >>> import datetime as dt
    >>> from kumin.epi.contact_matrices import japan_contact_matrix
    >>> run = simulate_seir(japan_contact_matrix(), dt.date(2021, 1, 1), 60, 1.3)
    >>> run.frame.columns
    ['date', 'age_band', 'new_infections', 'new_symptomatic', 'expected_cases']
    >>> round(float(run.rt["rt"][0]), 2)
    1.3
    """
    setup = build_engine(
        contacts,
        start,
        n_days,
        doses,
        latent_days,
        infectious_days,
        susceptibility,
        vaccine_effectiveness,
        waning_rate,
        initial_immune,
        steps_per_day,
        "simulate_seir",
    )
    changes = check_change_dates(change_dates, start, None, "simulate_seir")
    mult_values = np.asarray(multipliers, dtype=np.float64).reshape(1, -1)
    if mult_values.shape[1] != len(changes) or (mult_values < 0).any():
        raise ParameterError(
            "epi.seir.multipliers", expected=len(changes), got=mult_values.shape[1]
        )
    mult = multiplier_path(start, n_days, changes, mult_values)
    inf, on, sus = setup.run(np.array([r0]), mult, np.array([initial_infectious]))
    symp = symptomatic_vector(symptomatic_fraction, contacts.bands, "simulate_seir")
    asc = band_vector(ascertainment, contacts.bands, "ascertainment", "simulate_seir", 0.0, 1.0)
    rt = setup.reproduction_numbers(r0, mult[0], sus[0])
    delay = check_delay_pmf(reporting_delay, "simulate_seir")
    return trajectory_frame(start, contacts.bands, inf[0], on[0], symp, asc, mult[0], rt, delay)


def symptomatic_vector(value, bands: tuple[str, ...], owner: str) -> np.ndarray:
    if value is None:
        if tuple(bands) != MODEL_BANDS:
            raise ParameterError("epi.seir.symptomatic_default", owner=owner)
        return np.array([DAVIES_SYMPTOMATIC_FRACTION[b] for b in bands])
    return band_vector(value, bands, "symptomatic_fraction", owner, 0.0, 1.0)


def check_change_dates(change_dates, start: dt.date, end: dt.date | None, owner: str) -> list:
    """Change dates as ascending ``datetime.date`` after ``start`` (and not after ``end``)."""
    out = []
    for value in change_dates:
        try:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        except ValueError:
            raise ParameterError("epi.seir.change_dates", owner=owner, got=repr(value)) from None
        if isinstance(day, dt.datetime):
            day = day.date()
        out.append(day)
    ok = all(b > a for a, b in zip(out, out[1:], strict=False)) and all(d > start for d in out)
    if end is not None:
        ok = ok and all(d <= end for d in out)
    if not ok:
        raise ParameterError(
            "epi.seir.change_dates", owner=owner, got=", ".join(d.isoformat() for d in out)
        )
    return out


def build_engine(
    contacts: ContactMatrix,
    start: dt.date,
    n_days: int,
    doses,
    latent_days: float,
    infectious_days: float,
    susceptibility,
    vaccine_effectiveness,
    waning_rate: float,
    initial_immune,
    steps_per_day: int,
    owner: str,
    clip_doses: bool = False,
) -> Engine:
    """Validate natural-history parameters and doses; return a ready :class:`Engine`."""
    from kumin.epi._checks import check_int_param, check_real_param

    if not isinstance(contacts, ContactMatrix):
        raise ParameterError("epi.seir.contacts_type", owner=owner, got=type(contacts).__name__)
    bands = contacts.bands
    check_real_param(latent_days, "latent_days", owner, 0.1, 30.0)
    check_real_param(infectious_days, "infectious_days", owner, 0.1, 30.0)
    check_real_param(waning_rate, "waning_rate", owner, 0.0, 1.0)
    check_int_param(steps_per_day, "steps_per_day", owner, 1, 48)
    ve = np.asarray(vaccine_effectiveness, dtype=np.float64)
    if ve.shape != (N_DOSES,) or not np.all(np.isfinite(ve)) or (ve < 0).any() or (ve > 1).any():
        raise ParameterError(
            "epi.seir.vaccine_effectiveness", owner=owner, got=repr(vaccine_effectiveness)
        )
    q = band_vector(susceptibility, bands, "susceptibility", owner, 0.0)
    if not (q > 0).any():
        raise ParameterError(
            "epi.seir.band_vector",
            name="susceptibility",
            owner=owner,
            expected=len(bands),
            got="all zero",
        )
    immune = band_vector(initial_immune, bands, "initial_immune", owner, 0.0, 0.99)
    fractions = uptake_fractions(doses, n_days, contacts.population, bands, start, clip=clip_doses)
    return Engine(
        contacts.matrix,
        contacts.population,
        q,
        float(latent_days),
        float(infectious_days),
        tuple(float(v) for v in ve),
        float(waning_rate),
        fractions,
        immune,
        int(steps_per_day),
    )
