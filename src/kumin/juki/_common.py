"""What the Juki-net services share: cell parsers, all-or-nothing file checks and
the department scope of terminal managers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kumin.core.context import Ctx
from kumin.core.tabular import read_table, require_columns, width_problem
from kumin.errors import DataError, Problem
from kumin.juki.models import JukiDepartment

Progress = Callable[[int, int], None] | None

_TRUE = {"yes", "y", "true", "1", "はい", "有", "あり", "要", "○", "〇", "t"}
_FALSE = {"no", "n", "false", "0", "いいえ", "無", "なし", "不要", "×", "f", ""}


class CellError(ValueError):
    """A cell that does not parse: ``key`` names the message, ``params`` fill it."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def required(value: Any, max_len: int = 200) -> str:
    s = text(value)
    if not s:
        raise CellError("juki.import.required")
    if len(s) > max_len:
        raise CellError("juki.import.too_long", max=max_len)
    return s


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    s = text(value).lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise CellError("juki.import.bad_bool", value=text(value))


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = text(value)
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    raise CellError("juki.import.bad_date", value=s)


def parse_time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, dt.datetime):
        return value.time()
    s = text(value)
    m = re.fullmatch(r"(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?", s)
    if m and int(m[1]) < 24 and int(m[2]) < 60 and int(m[3] or 0) < 60:
        return dt.time(int(m[1]), int(m[2]), int(m[3] or 0))
    raise CellError("juki.import.bad_time", value=s)


def parse_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    s = text(value)
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?", s)
    if m:
        try:
            return dt.datetime(*(int(m[i] or 0) for i in range(1, 7)))
        except ValueError:
            pass
    raise CellError("juki.import.bad_datetime", value=s)


def parse_count(value: Any) -> int:
    s = text(value)
    if not re.fullmatch(r"\d{1,9}", s):
        raise CellError("juki.import.bad_count", value=s)
    return int(s)


def rows_of(path: str | Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a CSV/xlsx file having at least ``columns``; width errors raise at the end.

    Yields ``(line, row)``; a row of the wrong width is yielded with ``__width__``.
    """
    table = read_table(path)
    require_columns(table, columns)
    yield from table.rows


def check_rows(
    path: str | Path,
    columns: tuple[str, ...],
    parse_row: Callable[[int, dict[str, Any], list[Problem]], Any],
    warnings: list[Problem] | None = None,
) -> list[Any]:
    """Parse every row, collecting every problem; raise before anything is written.

    ``parse_row(line, row, problems)`` returns the parsed row or None (after
    appending its problems). Problems of severity ``warning`` do not reject the
    file; they are moved to ``warnings``.
    """
    table = read_table(path)
    require_columns(table, columns)
    out: list[Any] = []
    problems: list[Problem] = []
    for line, row in table.rows:
        wp = width_problem(line, row, len(table.columns))
        if wp is not None:
            problems.append(wp)
            continue
        parsed = parse_row(line, row, problems)
        if parsed is not None:
            out.append(parsed)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DataError("juki.import.invalid", problems=errors, path=Path(path).name)
    if warnings is not None:
        warnings.extend(p for p in problems if p.severity != "error")
    if not out:
        raise DataError("juki.import.empty", path=Path(path).name)
    return out


def cells(
    line: int, row: dict[str, Any], problems: list[Problem], **parsers: Callable[[Any], Any]
) -> dict[str, Any] | None:
    """Parse the named cells of a row; None (and problems recorded) when any fails."""
    out: dict[str, Any] = {}
    ok = True
    for column, parse in parsers.items():
        try:
            out[column] = parse(row.get(column, ""))
        except CellError as exc:
            problems.append(Problem(line, column, exc.key, exc.params))
            ok = False
    return out if ok else None


def optional(parse: Callable[[Any], Any], default: Any = None) -> Callable[[Any], Any]:
    def inner(value: Any) -> Any:
        return default if text(value) == "" else parse(value)

    return inner


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
