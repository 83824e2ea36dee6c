"""kumin.epi: epidemic curves, delays, imputation, nowcasting, Rt, growth and SEIR.

The numerical library is pure (arrays and polars frames in, dataclasses out; no
database or web import). Its public names are re-exported here from the small
modules that define them::

    from kumin.epi import RtEstimator, epi_curve, rt_by_infection_date

Names are loaded on first use, so that ``import kumin.epi`` (done by the CLI at
start-up) does not pull in SciPy until a model actually runs.

The IO shell lives beside it and is not re-exported: :mod:`kumin.epi.service`
(one function per user action on the database's records), :mod:`kumin.epi.cli`,
:mod:`kumin.epi.web` and :mod:`kumin.epi.report`.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> defining module (kumin.epi.<module>)
_EXPORTS: dict[str, str] = {
    "AggregatedRt": "epiestim",
    "BacktestResult": "scoring",
    "CareSettings": "seir_scenarios",
    "ContactMatrix": "contact_matrices",
    "ConvergenceWarning": "delays",
    "DelayDistribution": "delays",
    "DelayFit": "delays",
    "DelayFitter": "delays",
    "DelayNowcaster": "nowcast",
    "EpiCurve": "curves",
    "GrowthEstimator": "growth",
    "ImputedOnsets": "impute",
    "Infections": "deconvolve",
    "MODEL_BANDS": "contact_matrices",
    "Nowcaster": "nowcast",
    "PipelineResult": "pipeline",
    "PosteriorCVWarning": "epiestim",
    "RtEstimator": "rt",
    "SEIRConvergenceWarning": "seir_fit",
    "SEIRModel": "seir_fit",
    "SEIRTrajectory": "seir",
    "Scenario": "seir_scenarios",
    "ScenarioComparison": "seir_scenarios",
    "ScenarioResult": "seir_scenarios",
    "UncertainSI": "rt",
    "backtest": "scoring",
    "care_demand": "seir_scenarios",
    "cases_by_band": "seir_inputs",
    "compare_scenarios": "seir_scenarios",
    "contact_matrix_from_array": "contact_matrices",
    "coverage": "scoring",
    "crps": "scoring",
    "discr_si": "rt",
    "doses_by_band": "seir_inputs",
    "doubling_time": "growth",
    "epi_curve": "curves",
    "estimate_r_aggregated": "epiestim",
    "generation_pmf": "pipeline",
    "impute_onsets": "impute",
    "infections_from_onsets": "deconvolve",
    "japan_contact_matrix": "contact_matrices",
    "model_band_of": "contact_matrices",
    "overall_infectivity": "rt",
    "richardson_lucy": "deconvolve",
    "rt_by_infection_date": "pipeline",
    "serial_interval_pmf": "epiestim",
    "simple_rt": "rt",
    "simulate_seir": "seir",
    "triangle": "nowcast",
    "wis": "scoring",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kumin.epi' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"kumin.epi.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
