"""Disclosure control of releases: re-identification risk, and k-anonymity reached by
full-domain generalisation plus local suppression.

A pure core (lists in, dataclasses out; no database). Terms as in ARX and sdcMicro:

- the *quasi-identifiers* (QIs) are the released items an outsider can know of a
  person (age, sex, town, nationality, dates); records equal on all of them form an
  *equivalence class*; the smallest class size is the release's *k*;
- *prosecutor risk* is 1 / the smallest class (the chance of singling out a known
  patient in the worst class); *average risk* is the number of classes / records;
- *records at risk* lie in classes smaller than the target k;
- *distinct l-diversity* of a sensitive item is the fewest distinct values it takes
  within one class (l = 1: the class gives the value away).

Generalisation follows a hierarchy per QI (data, :mod:`kumin.cases.hierarchies`):
every record of a QI is cut to the same level (full-domain), the lattice of level
combinations is searched for the one with the least information loss that leaves at
most ``max_suppression`` of the records in classes smaller than k, and those records
are withheld (local suppression). Information loss is Sweeney's precision loss (the
mean of level / height over the QI columns) with a withheld record counting as
fully lost, so the search never trades a little generalisation for many withheld
records.

>>> cols = {"sex": ["male", "male", "female"], "town": ["成城", "成城", "砧"]}
>>> r = risk_measures(cols, ["sex", "town"], [], k=2)
>>> r["k"], r["records_at_risk"], r["prosecutor_risk"]
(1, 1, 1.0)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from kumin.cases.codes import age_band_of
from kumin.errors import NotFound, ParameterError, StateError

#: Notification dates: generalised together (one dimension of the lattice).
DATE_FIELDS = ("onset_date", "first_visit_date", "specimen_date", "result_date", "report_date")
#: Quasi-identifiers of a contract that declares none (those it releases).
DEFAULT_QUASI_IDENTIFIERS = (
    "birth_date", "age_band", "age_years", "sex", "town", "nationality", *DATE_FIELDS,
    "care_setting", "vaccine_doses",
)  # fmt: skip
#: Sensitive items of a contract that declares none (those it releases).
DEFAULT_SENSITIVE = ("symptoms", "asymptomatic", "imported")
#: A value withheld by generalisation to the top of its hierarchy.
WITHHELD = "*"
DEFAULT_K = 5
DEFAULT_MAX_SUPPRESSION = 0.05
DEFAULT_HIERARCHY = "setagaya"
HIERARCHY_SUBDIR = "hierarchies"


# -- hierarchies -------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """One axis of the generalisation lattice: a hierarchy and the QI columns it cuts."""

    name: str
    fields: tuple[str, ...]
    levels: tuple[str, ...]
    spec: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def height(self) -> int:
        return len(self.levels)

    def generalise(self, column: str, value: Any, level: int, age: int | None = None) -> Any:
        """``value`` of ``column`` at ``level`` (0 = as recorded; the last = ``"*"``)."""
        if level == 0:
            return value
        name = self.levels[level]
        if name == WITHHELD:
            return WITHHELD
        if value is None:
            return None  # unknown stays unknown: blank, as in the source
        return _LEVEL_FUNCTIONS[self.name](self, column, value, level, name, age)


def _date_level(dim: Dimension, column: str, value: Any, level: int, name: str, age: Any) -> str:
    if not isinstance(value, dt.date):
        value = dt.date.fromisoformat(str(value))
    if name == "week":
        year, week, _ = value.isocalendar()
        return f"{year}-W{week:02d}"
    if name == "month":
        return f"{value.year}-{value.month:02d}"
    if name == "year":
        return str(value.year)
    raise ParameterError("cases.disclosure.bad_level", hierarchy=dim.name, level=name)


def _unknown(dim: Dimension, column: str, value: Any) -> ParameterError:
    return ParameterError(
        "cases.disclosure.unknown_value", hierarchy=dim.name, column=column, value=value
    )


def _split(dim: Dimension, age: int | None) -> str | None:
    cut = int(dim.spec["split_at"])
    return None if age is None else (f"{cut}+" if age >= cut else f"0-{cut - 1}")


def _age_band_level(dim: Dimension, column: str, value: Any, level: int, name: str, age: Any):
    bands = dim.spec.get("bands", {})
    if value not in bands:
        raise _unknown(dim, column, value)
    if level == 1:
        return bands[value]
    # under/over the split: from the age in years, since a band may straddle it
    return _split(dim, age)


def _age_years_level(dim: Dimension, column: str, value: Any, level: int, name: str, age: Any):
    band = age_band_of(int(value))
    if level == 1:
        return band
    if level == 2:
        bands = dim.spec.get("bands", {})
        return bands.get(band, band)
    return _split(dim, int(value))


def _town_level(dim: Dimension, column: str, value: Any, level: int, name: str, age: Any):
    if level == 1:
        area = dim.spec["_area_of"].get(value)
        if area is None:
            raise _unknown(dim, column, value)
        return area
    return dim.spec["top"]


def _nationality_level(dim: Dimension, column: str, value: Any, level: int, name: str, age: Any):
    return dim.spec["home"] if value == dim.spec["home"] else dim.spec["other"]


def _group_level(dim: Dimension, column: str, value: Any, level: int, name: str, age: Any):
    groups = dim.spec.get("groups", {})
    key = str(int(value)) if isinstance(value, bool | int) else str(value)
    if key not in groups:
        raise _unknown(dim, column, value)
    return groups[key]


_LEVEL_FUNCTIONS = {
    "dates": _date_level,
    "birth_date": _date_level,
    "age_band": _age_band_level,
    "age_years": _age_years_level,
    "town": _town_level,
    "nationality": _nationality_level,
    "sex": None,
    "care_setting": _group_level,
    "vaccine_doses": _group_level,
}
_DIMENSION_OF = {f: "dates" for f in DATE_FIELDS}


@dataclass(frozen=True)
class Hierarchies:
    """A hierarchy file: its name, the SHA-256 of its bytes, and its dimensions."""

    name: str
    sha256: str
    dimensions: dict[str, Dimension]
    title_ja: str = ""
    title_en: str = ""

    def dimension_of(self, column: str) -> Dimension:
        key = _DIMENSION_OF.get(column, column)
        if key not in self.dimensions:
            raise ParameterError(
                "cases.disclosure.no_hierarchy", column=column, hierarchy=self.name
            )
        dim = self.dimensions[key]
        return dim


def _dimension(key: str, spec: dict[str, Any], source: str) -> Dimension:
    levels = tuple(str(x) for x in spec.get("levels", ()))
    if key not in _LEVEL_FUNCTIONS or len(levels) < 2:
        raise ParameterError("cases.disclosure.bad_hierarchy", hierarchy=source, key=key)
    if _LEVEL_FUNCTIONS[key] is None and levels[1:] != (WITHHELD,):
        # no coarser grouping is defined for it: as recorded, or withheld
        raise ParameterError("cases.disclosure.bad_hierarchy", hierarchy=source, key=key)
    spec = dict(spec)
    if key == "town":
        spec["_area_of"] = {t: a for a, towns in spec.get("areas", {}).items() for t in towns}
        if "top" not in spec:
            raise ParameterError("cases.disclosure.bad_hierarchy", hierarchy=source, key=key)
    if key == "nationality" and not {"home", "other"} <= set(spec):
        raise ParameterError("cases.disclosure.bad_hierarchy", hierarchy=source, key=key)
    if key in ("age_band", "age_years") and "split_at" not in spec:
        raise ParameterError("cases.disclosure.bad_hierarchy", hierarchy=source, key=key)
    return Dimension(key, (), levels, spec)


def parse_hierarchies(data: bytes, source: str = "") -> Hierarchies:
    """A hierarchy file's bytes as :class:`Hierarchies` (unknown keys are an error)."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ParameterError(
            "cases.disclosure.bad_hierarchy", hierarchy=source, key=str(exc)
        ) from None
    name = str(doc.pop("name", source))
    title_ja, title_en = str(doc.pop("title_ja", "")), str(doc.pop("title_en", ""))
    dims = {key: _dimension(key, spec, source) for key, spec in doc.items()}
    if "age_years" in dims and "age_band" in dims:  # age in years reuses the 20-year bands
        dims["age_years"].spec.setdefault("bands", dims["age_band"].spec.get("bands", {}))
    sha = hashlib.sha256(data).hexdigest()
    return Hierarchies(name, sha, dims, title_ja, title_en)


def hierarchy_dirs(extra: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Folders searched for ``NAME.toml``: ``<dir>/hierarchies`` of each profile folder."""
    from kumin.cases.profiles import profile_dirs

    return [Path(d) / HIERARCHY_SUBDIR for d in profile_dirs(extra)]


def load_hierarchies(name: str, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> Hierarchies:
    """The hierarchy file ``name``: a local folder's first, then the built-in one."""
    text = str(name).strip()
    if text.endswith(".toml") and Path(text).is_file():
        return parse_hierarchies(Path(text).read_bytes(), text)
    for folder in hierarchy_dirs(extra_dirs):
        path = folder / f"{text}.toml"
        if path.is_file():
            return parse_hierarchies(path.read_bytes(), text)
    builtin = resources.files("kumin.cases").joinpath(HIERARCHY_SUBDIR, f"{text}.toml")
    if text and "/" not in text and builtin.is_file():
        return parse_hierarchies(builtin.read_bytes(), text)
    raise NotFound("cases.disclosure.hierarchy_not_found", name=text)


# -- risk ----------------------------------------------------------------------------------


def _codes(values: Sequence[Any]) -> tuple[np.ndarray, int]:
    seen: dict[Any, int] = {}
    out = np.fromiter((seen.setdefault(v, len(seen)) for v in values), np.int64, len(values))
    return out, max(len(seen), 1)


def _combine(arrays: list[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    """One class id per record from per-column codes (mixed radix, re-packed when large)."""
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for codes, card in arrays:
        if span * card > 2**52:
            _, key = np.unique(key, return_inverse=True)
            span = int(key.max(initial=0)) + 1
        key = key * card + codes
        span *= card
    return key


def class_sizes(columns: dict[str, Sequence[Any]], qis: Sequence[str]) -> np.ndarray:
    """The size of each record's equivalence class over ``qis``."""
    n = len(next(iter(columns.values()))) if columns else 0
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = _combine([_codes(columns[q]) for q in qis], n)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inverse]


def risk_measures(
    columns: dict[str, Sequence[Any]], qis: Sequence[str], sensitive: Sequence[str], k: int
) -> dict[str, Any]:
    """Re-identification risk of a table over its quasi-identifiers.

    Parameters
    ----------
    columns : dict
        Column name → values, one per record.
    qis, sensitive : sequence of str
        Quasi-identifiers and sensitive items (column names).
    k : int
        The target: classes smaller than this put their records at risk.

    Returns
    -------
    dict
        ``quasi_identifiers``, ``k`` (smallest class; ``None`` without records),
        ``target_k``, ``records``, ``classes``, ``records_at_risk`` and its share,
        ``prosecutor_risk``, ``average_risk``, ``l_diversity`` (per sensitive item).

    Examples
    --------
    >>> r = risk_measures({"a": [1, 1, 2, 2], "s": ["x", "y", "x", "x"]}, ["a"], ["s"], 2)
    >>> r["k"], r["average_risk"], r["l_diversity"]
    (2, 0.5, {'s': 1})
    """
    n = len(columns[qis[0]]) if qis else len(next(iter(columns.values()), []))
    out: dict[str, Any] = {
        "quasi_identifiers": list(qis),
        "target_k": k,
        "records": n,
    }
    if n == 0 or not qis:
        out.update(classes=min(n, 1), k=n or None, records_at_risk=0, records_at_risk_share=0.0,
                   prosecutor_risk=(1 / n) if n else 0.0, average_risk=(1 / n) if n else 0.0,
                   l_diversity={s: None for s in sensitive})  # fmt: skip
        return out
    key = _combine([_codes(columns[q]) for q in qis], n)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    sizes = counts[inverse]
    at_risk = int((sizes < k).sum())
    l_div: dict[str, int | None] = {}
    for s in sensitive:
        codes, card = _codes(columns[s])
        pairs = np.unique(inverse.astype(np.int64) * card + codes)
        distinct = np.bincount(pairs // card, minlength=len(counts))
        l_div[s] = int(distinct.min())
    out.update(
        classes=int(len(counts)),
        k=int(counts.min()),
        records_at_risk=at_risk,
        records_at_risk_share=round(at_risk / n, 6),
        prosecutor_risk=round(1.0 / float(counts.min()), 6),
        average_risk=round(len(counts) / n, 6),
        l_diversity=l_div,
    )
    return out


# -- generalisation ----------------------------------------------------------------------


@dataclass
class Anonymisation:
    """The outcome of :func:`anonymise` (or :func:`apply_scheme`)."""

    scheme: dict[str, int]  # dimension → level
    columns: dict[str, list[Any]]  # generalised columns, every record (suppressed included)
    suppressed: np.ndarray  # bool per record: withheld from the release
    precision_loss: float
    information_loss: float
    nodes: int  # lattice nodes evaluated
    lattice: int  # lattice nodes in all

    def scheme_by_column(self, hierarchies: Hierarchies, qis: Sequence[str]) -> dict[str, Any]:
        """Per QI column: the level applied, its name and the hierarchy's top level."""
        out = {}
        for q in qis:
            dim = hierarchies.dimension_of(q)
            level = self.scheme[dim.name]
            out[q] = {"level": level, "name": dim.levels[level], "max": dim.height - 1}
        return out


def _dimensions(hierarchies: Hierarchies, qis: Sequence[str]) -> list[Dimension]:
    dims: dict[str, list[str]] = {}
    for q in qis:
        dims.setdefault(hierarchies.dimension_of(q).name, []).append(q)
    return [
        Dimension(
            name,
            tuple(cols),
            hierarchies.dimensions[name].levels,
            hierarchies.dimensions[name].spec,
        )  # fmt: skip
        for name, cols in dims.items()
    ]


def _generalised(
    dim: Dimension, column: str, values: Sequence[Any], ages: Sequence[Any], level: int
) -> list[Any]:
    cache: dict[tuple[Any, Any], Any] = {}
    needs_age = dim.name == "age_band"
    out = []
    for v, a in zip(values, ages if needs_age else itertools.repeat(None), strict=False):
        k = (v, a)
        if k not in cache:
            cache[k] = dim.generalise(column, v, level, a)
        out.append(cache[k])
    return out


def _prepare(
    columns: dict[str, Sequence[Any]], dims: list[Dimension], ages: Sequence[Any]
) -> dict[str, list[tuple[np.ndarray, int]]]:
    """Codes of every dimension at every level (its columns packed into one code)."""
    n = len(ages)
    out: dict[str, list[tuple[np.ndarray, int]]] = {}
    for dim in dims:
        per_level = []
        for level in range(dim.height):
            parts = [_codes(_generalised(dim, c, columns[c], ages, level)) for c in dim.fields]
            if len(parts) == 1:
                per_level.append(parts[0])
            else:
                _, inv = np.unique(_combine(parts, n), return_inverse=True)
                per_level.append((inv.astype(np.int64), int(inv.max(initial=0)) + 1))
        out[dim.name] = per_level
    return out


def _small(key: np.ndarray, k: int) -> int:
    """Records in classes smaller than k (counting by bincount when the keys are dense)."""
    top = int(key.max(initial=0)) + 1
    if top <= 4 * len(key) + 1024:
        counts = np.bincount(key, minlength=top)
    else:
        counts = np.unique(key, return_counts=True)[1]
    return int(counts[(counts > 0) & (counts < k)].sum())


def _precision_loss(dims: list[Dimension], node: tuple[int, ...]) -> float:
    weights = [len(d.fields) * float(d.spec.get("weight", 1)) for d in dims]
    total = sum(w * lvl / (d.height - 1) for w, lvl, d in zip(weights, node, dims, strict=True))
    return total / sum(weights) if weights else 0.0


def apply_scheme(
    columns: dict[str, Sequence[Any]],
    qis: Sequence[str],
    hierarchies: Hierarchies,
    scheme: dict[str, int],
    k: int,
    ages: Sequence[Any] | None = None,
) -> Anonymisation:
    """Generalise ``qis`` to the levels of ``scheme`` and mark records in classes < k.

    The same columns, hierarchy, scheme and k give the same release: what makes a
    release reproducible from its manifest.
    """
    n = len(ages) if ages is not None else (len(columns[qis[0]]) if qis else 0)
    ages = list(ages) if ages is not None else [None] * n
    dims = _dimensions(hierarchies, qis)
    out = {c: list(v) for c, v in columns.items()}
    for dim in dims:
        level = int(scheme.get(dim.name, 0))
        if not 0 <= level < dim.height:
            raise ParameterError("cases.disclosure.bad_level", hierarchy=dim.name, level=level)
        for c in dim.fields:
            out[c] = _generalised(dim, c, columns[c], ages, level)
    # without quasi-identifiers there is nothing to link on: nothing to withhold
    suppressed = class_sizes(out, qis) < k if qis else np.zeros(n, dtype=bool)
    node = tuple(int(scheme.get(d.name, 0)) for d in dims)
    prec = _precision_loss(dims, node)
    s = float(suppressed.sum()) / n if n else 0.0
    return Anonymisation(
        {d.name: lvl for d, lvl in zip(dims, node, strict=True)},
        out,
        suppressed,
        round(prec, 6),
        round((1 - s) * prec + s, 6),
        1,
        1,
    )


def anonymise(
    columns: dict[str, Sequence[Any]],
    qis: Sequence[str],
    hierarchies: Hierarchies,
    k: int = DEFAULT_K,
    max_suppression: float = DEFAULT_MAX_SUPPRESSION,
    ages: Sequence[Any] | None = None,
) -> Anonymisation:
    """The full-domain generalisation with the least information loss that reaches k.

    Nodes of the lattice are visited by increasing precision loss; a node's
    information loss is never below its precision loss, so the walk stops once the
    next node cannot beat the best found (exact, no heuristic). Ties go to the
    node with the smaller levels, left to right: the same input, the same scheme.

    Parameters
    ----------
    columns : dict
        Column name → values; must hold every QI.
    qis : sequence of str
        Quasi-identifier columns, each with a hierarchy in ``hierarchies``.
    k : int
        Smallest class size to reach.
    max_suppression : float
        Largest share of records that may be withheld (local suppression).
    ages : sequence, optional
        Age in years per record (for under/over 65 of a 10-year band that straddles it).

    Raises
    ------
    StateError
        When no node reaches k within the suppression limit (too few records).

    Examples
    --------
    >>> h = load_hierarchies("setagaya")
    >>> cols = {"town": ["成城", "砧", "喜多見", "北沢", "代田", "代沢"]}
    >>> a = anonymise(cols, ["town"], h, k=3, max_suppression=0.0)
    >>> a.scheme, a.columns["town"][:2], int(a.suppressed.sum())
    ({'town': 1}, ['砧', '砧'], 0)
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ParameterError("cases.disclosure.bad_k", got=k)
    if not 0.0 <= float(max_suppression) <= 1.0:
        raise ParameterError("cases.disclosure.bad_suppression", got=max_suppression)
    n = len(ages) if ages is not None else (len(columns[qis[0]]) if qis else 0)
    ages = list(ages) if ages is not None else [None] * n
    dims = _dimensions(hierarchies, qis)
    if n == 0 or not dims:
        return apply_scheme(columns, qis, hierarchies, {}, k, ages)
    codes = _prepare(columns, dims, ages)
    limit = int(np.floor(float(max_suppression) * n + 1e-9))
    nodes = sorted(
        itertools.product(*(range(d.height) for d in dims)),
        key=lambda node: (_precision_loss(dims, node), sum(node), node),
    )
    best: tuple[float, tuple[int, ...]] | None = None
    evaluated = 0
    for node in nodes:
        prec = _precision_loss(dims, node)
        if best is not None and prec >= best[0]:
            break
        evaluated += 1
        small = _small(
            _combine([codes[d.name][lvl] for d, lvl in zip(dims, node, strict=True)], n), k
        )
        if small > limit:
            continue
        loss = (1 - small / n) * prec + small / n
        if best is None or loss < best[0] - 1e-12:
            best = (loss, node)
    if best is None:
        raise StateError("cases.disclosure.unreachable", k=k, records=n, limit=limit)
    scheme = {d.name: lvl for d, lvl in zip(dims, best[1], strict=True)}
    result = apply_scheme(columns, qis, hierarchies, scheme, k, ages)
    result.nodes = evaluated
    result.lattice = len(nodes)
    return result
