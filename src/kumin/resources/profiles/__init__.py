"""Import profiles: which columns a file must have, their types and Japanese aliases.

A profile is a TOML file beside this module (``call_centre_daily.toml``,
``tokyo_calls.toml``, ``monthly_service_counts.toml``). :func:`parse_table` reads
a :class:`~kumin.core.tabular.Table` through a profile into a polars frame, or
raises one :class:`DataError` listing every problem with its line number: the
import is all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import polars as pl

from kumin.core.tabular import Table, width_problem
from kumin.errors import DataError, Problem

TYPES = {"date": pl.Date, "month": pl.Date, "int": pl.Int64, "float": pl.Float64, "text": pl.String}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool
    aliases: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]


@cache
def load_profile(name: str) -> Profile:
    """The import profile ``name`` (a TOML file in this package)."""
    entry = resources.files(__name__) / f"{name}.toml"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not entry.is_file():
        raise DataError("resources.import.unknown_profile", name=name)
    raw = tomllib.loads(entry.read_text("utf-8"))
    columns = tuple(
        Column(
            name=c["name"],
            type=c["type"],
            required=bool(c.get("required", False)),
            aliases=tuple(c.get("aliases", ())),
            min=c.get("min"),
            max=c.get("max"),
        )
        for c in raw["columns"]
    )
    return Profile(raw["name"], columns, tuple(raw.get("key", ())))


def _normal(text: Any) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip()


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?")
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")


def parse_date(value: Any) -> dt.date | None:
    """A date from an ISO/Japanese string or an Excel cell; ``None`` if not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = _DATE.fullmatch(_normal(value))
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_month(value: Any) -> dt.date | None:
    """The first day of a month written YYYY-MM, YYYY/MM, YYYY年MM月 or as a date."""
    if isinstance(value, dt.date):
        return (
            value.replace(day=1)
            if not isinstance(value, dt.datetime)
            else value.date().replace(day=1)
        )
    text = _normal(value)
    m = _MONTH.fullmatch(text)
    if m and 1 <= int(m[2]) <= 12:
        return dt.date(int(m[1]), int(m[2]), 1)
    day = parse_date(text)
    return day.replace(day=1) if day else None


def _number(value: Any, integer: bool) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = _normal(value).replace(",", "")
        try:
            number = float(text)
        except ValueError:
            return None
    if not math.isfinite(number):
        return None
    if integer:
        return int(number) if number == int(number) else None
    return number


def _cell(column: Column, value: Any, line: int, problems: list[Problem]) -> Any:
    shown = _normal(value)
    if shown == "":
        if column.required:
            problems.append(Problem(line, column.name, "resources.import.required"))
        return None
    if column.type == "text":
        return shown
    if column.type == "date":
        out = parse_date(value)
        if out is None:
            problems.append(
                Problem(line, column.name, "resources.import.bad_date", {"value": shown})
            )
        return out
    if column.type == "month":
        out = parse_month(value)
        if out is None:
            problems.append(
                Problem(line, column.name, "resources.import.bad_month", {"value": shown})
            )
        return out
    integer = column.type == "int"
    number = _number(value, integer)
    if number is None:
        key = "resources.import.not_integer" if integer else "resources.import.not_number"
        problems.append(Problem(line, column.name, key, {"value": shown}))
        return None
    if column.min is not None and column.max is not None and not column.min <= number <= column.max:
        problems.append(
            Problem(
                line,
                column.name,
                "resources.import.out_of_range",
                {"value": shown, "low": column.min, "high": column.max},
            )
        )
        return None
    if column.min is not None and number < column.min:
        problems.append(Problem(line, column.name, "resources.import.negative", {"value": shown}))
        return None
    return number


def parse_table(
    table: Table,
    profile: Profile | str,
    row_check: Callable[[int, dict[str, Any]], list[Problem]] | None = None,
) -> tuple[pl.DataFrame, list[int]]:
    """Read every row of ``table`` through ``profile``.

    Returns the frame (columns in profile order; optional columns absent from the
    file are left out) and the source line of each row. ``row_check(line,
    values)`` adds problems that involve several cells; it sees rows whose cells
    all parsed. Raises ``DataError`` with every problem (bad cells, missing
    columns, duplicate keys, row checks) if there is any.
    """
    if isinstance(profile, str):
        profile = load_profile(profile)
    name = table.path.name
    present: dict[str, str] = {}
    problems: list[Problem] = []
    for column in profile.columns:
        header = next((h for h in (column.name, *column.aliases) if h in table.columns), None)
        if header is not None:
            present[column.name] = header
        elif column.required:
            problems.append(Problem(1, column.name, "core.tabular.missing_column"))
    if problems:
        raise DataError("resources.import.invalid", problems=problems, path=name)
    columns = [c for c in profile.columns if c.name in present]
    data: dict[str, list[Any]] = {c.name: [] for c in columns}
    lines: list[int] = []
    seen: dict[tuple[Any, ...], int] = {}
    for line, row in table.rows:
        wrong = width_problem(line, row, len(table.columns))
        if wrong:
            problems.append(wrong)
            continue
        before = len(problems)
        values = {c.name: _cell(c, row.get(present[c.name], ""), line, problems) for c in columns}
        if row_check is not None and len(problems) == before:
            problems.extend(row_check(line, values))
        key = tuple(values.get(k) for k in profile.key)
        if profile.key and None not in key:
            if key in seen:
                shown = " ".join(str(k) for k in key)
                problems.append(
                    Problem(
                        line,
                        profile.key[-1],
                        "resources.import.duplicate",
                        {"value": shown, "first": seen[key]},
                    )
                )
            else:
                seen[key] = line
        for c in columns:
            data[c.name].append(values[c.name])
        lines.append(line)
    if problems:
        raise DataError("resources.import.invalid", problems=problems, path=name)
    if not lines:
        raise DataError("resources.import.empty", path=name)
    frame = pl.DataFrame(
        {c.name: pl.Series(c.name, data[c.name], dtype=TYPES[c.type]) for c in columns}
    )
    return frame, lines
