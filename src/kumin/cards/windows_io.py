"""Windows as table rows: the text forms of methods, hours and day rules.

A window is imported from (and listed as) one row of a CSV or .xlsx sheet:

=====================  ==================================================
column                 form
=====================  ==================================================
code                   ``card_centre`` (letters, digits, ``_``)
name_ja, name_en       names
methods                ``交・申``, ``交`` or ``申``
hours                  ``mon-fri 11:00-18:30; sat,sun 09:00-16:30``
closures               ``3sat; 3sat+1`` (third Saturday, the day after it)
opened_on, closed_on   ISO dates or empty
temporary              ``yes`` / ``no``
only_on                temporary windows: day rules, e.g. ``2sun``
dates                  extra open days: ``2021-06-06 2021-07-04``
closed_on_holidays     ``yes`` (default) / ``no``
note_ja, note_en       notes
=====================  ==================================================

Example
-------
>>> from kumin.cards.windows import CARD_CENTRE
>>> row = window_to_row(CARD_CENTRE)
>>> row["hours"], row["closures"], row["methods"]
('mon-fri 11:00-18:30; sat,sun 09:00-16:30', '3sat; 3sat+1', '交・申')
>>> window_from_row(row) == CARD_CENTRE
True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from kumin.cards.records import Method
from kumin.cards.windows import DayRule, Hours, Window
from kumin.core.cells import parse_bool, parse_date
from kumin.errors import DataError, Problem

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COLUMNS = (
    "code",
    "name_ja",
    "name_en",
    "methods",
    "hours",
    "closures",
    "opened_on",
    "closed_on",
    "temporary",
    "only_on",
    "dates",
    "closed_on_holidays",
    "note_ja",
    "note_en",
)
REQUIRED = ("code", "name_ja", "methods", "hours")
_RULE = re.compile(r"^([1-5])(mon|tue|wed|thu|fri|sat|sun)(?:\+(\d))?$")
_HOURS = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")
_CODE = re.compile(r"^[a-z0-9_]{1,40}$")


def _fmt_days(days: list[int]) -> str:
    days = sorted(days)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]}"
    return ",".join(DAY_NAMES[d] for d in days)


def format_hours(hours: dict[int, Hours]) -> str:
    groups: dict[Hours, list[int]] = {}
    for day, span in sorted(hours.items()):
        groups.setdefault(span, []).append(day)
    parts = [
        f"{_fmt_days(days)} {a.strftime('%H:%M')}-{b.strftime('%H:%M')}"
        for (a, b), days in sorted(groups.items(), key=lambda g: min(g[1]))
    ]
    return "; ".join(parts)


def format_rules(rules: Iterable[DayRule] | None) -> str:
    return "; ".join(
        f"{r.n}{DAY_NAMES[r.weekday]}" + (f"+{r.offset_days}" if r.offset_days else "")
        for r in rules or ()
    )


def window_to_row(w: Window) -> dict[str, str]:
    """A window as the text row of the import format."""
    return {
        "code": w.code,
        "name_ja": w.name_ja,
        "name_en": w.name_en,
        "methods": w.method_codes(),
        "hours": format_hours(dict(w.hours)),
        "closures": format_rules(w.closures),
        "opened_on": w.opened_on.isoformat() if w.opened_on else "",
        "closed_on": w.closed_on.isoformat() if w.closed_on else "",
        "temporary": "yes" if w.temporary else "no",
        "only_on": format_rules(w.only_on),
        "dates": " ".join(d.isoformat() for d in w.dates),
        "closed_on_holidays": "yes" if w.closed_on_holidays else "no",
        "note_ja": w.note_ja,
        "note_en": w.note_en,
    }


def _parse_days(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        part = part.strip().lower()
        if "-" in part:
            a, b = (DAY_NAMES.index(x.strip()) for x in part.split("-", 1))
            if b < a:
                raise ValueError(part)
            out.extend(range(a, b + 1))
        else:
            out.append(DAY_NAMES.index(part))
    return out


def parse_hours(text: str) -> dict[int, Hours]:
    """``mon-fri 09:00-15:30; sat 09:30-16:00`` → {weekday: (opens, closes)}."""
    hours: dict[int, Hours] = {}
    for group in filter(None, (g.strip() for g in text.split(";"))):
        days_text, _, span = group.rpartition(" ")
        found = _HOURS.match(span.strip())
        if not days_text or not found:
            raise ValueError(group)
        opens, closes = (dt.time.fromisoformat(x.zfill(5)) for x in found.groups())
        if closes <= opens:
            raise ValueError(group)
        for day in _parse_days(days_text):
            hours[day] = (opens, closes)
    if not hours:
        raise ValueError(text)
    return hours


def parse_rules(text: str) -> tuple[DayRule, ...]:
    rules = []
    for part in filter(None, (p.strip().lower() for p in text.split(";"))):
        found = _RULE.match(part)
        if not found:
            raise ValueError(part)
        n, day, offset = found.groups()
        rules.append(DayRule(int(n), DAY_NAMES.index(day), int(offset or 0)))
    return tuple(rules)


def parse_methods(text: str) -> frozenset[Method]:
    out = set()
    for part in re.split(r"[・,、\s]+", text.strip()):
        if not part:
            continue
        if part in ("交", Method.AT_ISSUANCE.value):
            out.add(Method.AT_ISSUANCE)
        elif part in ("申", Method.AT_APPLICATION.value):
            out.add(Method.AT_APPLICATION)
        else:
            raise ValueError(part)
    if not out:
        raise ValueError(text)
    return frozenset(out)


def _flag(text: str, default: bool) -> bool:
    # the core's yes/no forms (はい/いいえ, 有/無, ○/×, 1/0); empty: the default
    return default if not str(text).strip() else parse_bool(text)


def window_from_row(row: dict[str, Any], line: int | None = None) -> Window:
    """A :class:`Window` from one row; every bad cell of the row is reported at once."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}

    def cell(name: str) -> str:
        value = row.get(name, "")
        return "" if value is None else str(value).strip()

    for name in REQUIRED:
        if not cell(name):
            problems.append(Problem(line, name, "cards.windows.required", {"column": name}))
    parsers = {
        "methods": parse_methods,
        "hours": parse_hours,
        "closures": parse_rules,
        "only_on": parse_rules,
        "opened_on": parse_date,
        "closed_on": parse_date,
        "temporary": lambda v: _flag(v, False),
        "closed_on_holidays": lambda v: _flag(v, True),
        "dates": lambda v: tuple(parse_date(d) for d in v.split()),
    }
    for name, parse in parsers.items():
        if name in REQUIRED and not cell(name):
            continue
        try:
            values[name] = parse(cell(name))
        except (ValueError, DataError):
            problems.append(
                Problem(line, name, "cards.windows.bad_cell", {"column": name, "value": cell(name)})
            )
    code = cell("code")
    if code and not _CODE.match(code):
        problems.append(Problem(line, "code", "cards.windows.bad_code", {"value": code}))
    if problems:
        raise DataError("cards.windows.bad_row", problems=problems)
    return Window(
        code=code,
        name_ja=cell("name_ja"),
        name_en=cell("name_en") or cell("name_ja"),
        methods=values["methods"],
        hours=values["hours"],
        closures=values["closures"],
        opened_on=values["opened_on"],
        closed_on=values["closed_on"],
        only_on=values["only_on"] or None,
        dates=values["dates"],
        temporary=values["temporary"],
        closed_on_holidays=values["closed_on_holidays"],
        note_ja=cell("note_ja"),
        note_en=cell("note_en"),
    )
