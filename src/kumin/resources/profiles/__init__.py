"""Import profiles of the resource-allocation files: the ``calls``,
``centre_cases`` and ``service_counts`` kinds of the one profile schema
(:mod:`kumin.core.imports`), in TOML beside this module.

:func:`parse_table` reads a :class:`~kumin.core.tabular.Table` through a profile
into a polars frame with the core's cell parsers, or raises one
:class:`~kumin.errors.DataError` listing every problem with its line and
column: the import is all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kumin.core.cells import parse_month
from kumin.core.imports import Column, Profile, read_frame
from kumin.core.imports import load_profile as _load
from kumin.core.tabular import Table
from kumin.errors import Problem

__all__ = ["Column", "Profile", "inline_profile", "load_profile", "parse_month", "parse_table"]

DOMAIN = "resources"


def load_profile(name: str) -> Profile:
    """The import profile ``name`` (this package's, or one in ``KUMIN_PROFILE_DIR``)."""
    return _load(DOMAIN, name)


def inline_profile(name: str, *columns: Column, key: tuple[str, ...] = ()) -> Profile:
    """A profile defined in code, for files kumin itself describes (forecasts)."""
    return Profile(name, DOMAIN, columns={c.field: c for c in columns}, key=key)


def parse_table(
    table: Table,
    profile: Profile | str,
    row_check: Callable[[int, dict[str, Any]], list[Problem]] | None = None,
) -> tuple[Any, list[int]]:
    """Every row of ``table`` through ``profile`` (see :func:`kumin.core.imports.read_frame`)."""
    if isinstance(profile, str):
        profile = load_profile(profile)
    return read_frame(table, profile, row_check, reject_key="resources.import.invalid")
