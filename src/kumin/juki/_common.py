"""What the Juki-net services share: the core's cell parsers and all-or-nothing
row loop (:mod:`kumin.core.cells`, :mod:`kumin.core.imports`) as Juki-net files
use them, and the department scope of terminal managers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kumin.core import cells as core_cells
from kumin.core.cells import CellError, cell_text, parse_bool, require, strict
from kumin.core.context import Ctx
from kumin.core.imports import Profile, optional
from kumin.core.imports import check_rows as _check_rows
from kumin.core.imports import load_profile as _load
from kumin.core.imports import parse_cells as cells
from kumin.errors import Problem
from kumin.juki.models import JukiDepartment

__all__ = [
    "CellError",
    "authorize_department",
    "cells",
    "check_rows",
    "optional",
    "own_department",
    "parse_bool",
    "parse_count",
    "parse_date",
    "parse_datetime",
    "parse_time",
    "required",
    "text",
]


def text(value: Any) -> str:
    """A cell as stripped text (an .xlsx whole number without ``.0``)."""
    return cell_text(value).strip()


def required(value: Any, max_len: int = 200) -> str:
    return require(value, max_len)


#: Juki-net records leave no date, time or count empty: an empty cell is an error
#: here (wrap in :func:`optional` where the column may be empty).
parse_date = strict(core_cells.parse_date)
parse_time = strict(core_cells.parse_time)
parse_datetime = strict(core_cells.parse_datetime)


def parse_count(value: Any) -> int:
    return strict(core_cells.parse_number)(value, integer=True, low=0)


def load_profile(kind: str, codes: dict[str, tuple[str, ...]] | None = None) -> Profile:
    """The profile of a Juki-net file kind (``departments``, ``terminals``): the
    built-in one or the ward's own of that name in ``KUMIN_PROFILE_DIR``."""
    return _load("juki", kind, kind=kind, codes=codes)


def check_rows(
    path: str | Path,
    columns: tuple[str, ...],
    parse_row: Callable[[int, dict[str, Any], list[Problem]], Any],
    warnings: list[Problem] | None = None,
    profile: Profile | None = None,
) -> list[Any]:
    """:func:`kumin.core.imports.check_rows`, headers read through ``profile``."""
    return _check_rows(path, columns, parse_row, warnings, profile=profile)


# ------------------------------------------------------------ department scope


def own_department(ctx: Ctx) -> str | None:
    """The department code a terminal manager is limited to (None for other roles).

    Accounts may name the department by its code or by its name (``課税課``).
    """
    if ctx.actor.role != "terminal_manager":
        return None
    dept = ctx.actor.department or ""
    if ctx.session.get(JukiDepartment, dept) is not None:
        return dept
    code = ctx.session.scalar(select(JukiDepartment.code).where(JukiDepartment.name == dept))
    return code or dept


def authorize_department(ctx: Ctx, action: str, department: str) -> None:
    """``ctx.authorize`` for one department, matching the account's code or name.

    The role is checked first, then that the department exists (an unknown one
    is "not found" for everybody), then a terminal manager's scope.
    """
    ctx.authorize(action)
    if ctx.session.get(JukiDepartment, department) is None:
        from kumin.errors import NotFound

        raise NotFound("juki.no_department", department=department)
    own = own_department(ctx)
    if own is not None and own == department:
        ctx.authorize(action, department=ctx.actor.department)
    else:
        ctx.authorize(action, department=department, object=f"department:{department}")


def import_problem(
    problems: list[Problem], line: int, column: str, key: str, **params: Any
) -> None:
    """A problem of a Juki-net import, by line and column (message ``juki.import.<key>``)."""
    problems.append(Problem(line, column, f"juki.import.{key}", params))
