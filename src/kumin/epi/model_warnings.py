"""Warnings of the models, carried with their results to every surface (#14).

A fit that does not converge warns (:class:`~kumin.epi.growth.ConvergenceWarning`,
:class:`~kumin.epi.seir_fit.SEIRConvergenceWarning`), and a delay fit may return
a degenerate interval (lower = upper). Left to ``warnings`` they reach only the
server log, and a failed fit looks like a success. The service records them in
``meta["warnings"]`` as catalogue keys with parameters; the page, the API, the
CLI and the PDF show them with :func:`texts` in the reader's language.

Example
-------
>>> import warnings
>>> meta = {}
>>> with collecting(meta, "delays"):
...     warnings.warn("gamma delay fit did not converge", UserWarning)
>>> meta["warnings"]
[{'code': 'not_converged', 'step': 'delays', 'count': 1}]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl

from kumin.core.i18n import t

STEPS = ("delays", "nowcast", "rt", "rt_infection", "growth", "seir", "backtest")


def _code(category: type[Warning], message: str) -> str | None:
    """The catalogue code of a caught warning; ``None`` for numerical noise."""
    if not issubclass(category, UserWarning):
        return None  # numpy's RuntimeWarnings (0/0 in empty windows): shown as empty cells
    text = message.lower()
    if "converg" in text:
        return "not_converged"
    if "not fitted" in text or "cases;" in text:
        return "too_few"
    return "other"


def add(meta: dict[str, Any], code: str, step: str, **params: Any) -> None:
    """Record one warning (the same code and step again only adds to its count)."""
    found: list[dict[str, Any]] = meta.setdefault("warnings", [])
    for item in found:
        if item["code"] == code and item["step"] == step and item.get("params") == (params or None):
            item["count"] += 1
            return
    item = {"code": code, "step": step, "count": 1}
    if params:
        item["params"] = params
    found.append(item)


@contextmanager
def collecting(meta: dict[str, Any], step: str) -> Iterator[None]:
    """Run a model step, recording the warnings it raises into ``meta``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        code = _code(w.category, str(w.message))
        if code is not None:
            add(meta, code, step)


def degenerate_delays(meta: dict[str, Any], table: pl.DataFrame) -> None:
    """Flag the delay fits whose 95% interval of a parameter collapsed to one value."""
    for row in table.iter_rows(named=True):
        for i in (1, 2):
            lo, hi = row.get(f"param{i}_lower"), row.get(f"param{i}_upper")
            if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
                continue
            if abs(hi - lo) <= 1e-9 * max(1.0, abs(lo)):
                add(
                    meta,
                    "degenerate",
                    "delays",
                    interval=row["interval"],
                    family=row["family"],
                    param=row[f"param{i}_name"],
                    value=f"{lo:.4g}",
                )


def texts(meta: dict[str, Any], lang: str | None = None) -> list[str]:
    """The warnings of a result as sentences in ``lang``."""
    out = []
    for item in meta.get("warnings", []):
        params = dict(item.get("params") or {})
        if "interval" in params:
            params["interval"] = t("epi.interval." + params["interval"], lang)
        if "family" in params:
            params["family"] = t("epi.model_warning.family." + params["family"], lang)
        if "param" in params:
            params["param"] = t("epi.model_warning.param." + params["param"], lang)
        step = t("epi.model_warning.step." + item["step"], lang)
        key = "epi.model_warning." + item["code"]
        out.append(t(key, lang, step=step, count=item["count"], **params))
    return out


def for_json(meta: dict[str, Any], lang: str | None = None) -> list[dict[str, Any]]:
    """``meta["warnings"]`` with each message in ``lang`` (the API's form)."""
    return [
        {**item, "message": message}
        for item, message in zip(meta.get("warnings", []), texts(meta, lang), strict=True)
    ]
