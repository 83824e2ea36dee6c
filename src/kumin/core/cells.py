"""One set of cell parsers for every import: dates (with the Japanese eras),
months, times, numbers, yes/no flags, and the fold under which written names
are compared.

Every parser takes the raw cell (a str from CSV; str, int, float, date or
datetime from .xlsx) and returns the value, or raises :class:`CellError` whose
``key`` (``core.cell.*``) and ``params`` make the message; the import pipeline
(:mod:`kumin.core.imports`) turns it into a problem naming file, line and
column. Importers mask the value of personal columns.

Dates: accepted (after NFKC normalisation, so full-width digits, full-width slashes and
stray spaces are fine):

- Gregorian: ``2022-01-14``, ``2022/1/14``, ``2022.1.14``, ``20220114``,
  ``2022年1月14日``, optionally followed by a time (``2022/1/14 0:00``) as Excel
  writes when a cell is formatted as date-time;
- Japanese eras: ``令和4年1月14日``, ``R4.1.14``, ``R04/01/14``, ``令和元年5月1日``,
  ``平成``/``H``, ``昭和``/``S``, ``大正``/``T``, ``明治``/``M`` (the single-character
  era signs such as ``㋿`` and ``㍻`` are folded by NFKC);
- Excel: ``datetime``/``date`` objects from .xlsx cells, and serial day numbers
  (numbers, or a five-digit string as a CSV holds when a date column was
  formatted as a number) in the 1900 date system.

Era rule, decided after what offices actually write: the Government declared
forms still printed with 平成 valid after the change of era, so an era's final
year may be written for later dates *in the same calendar year* (``平成31年5月1日``
is 2019-05-01). An era year that never existed (``平成32年``, ``令和0年``) and a
date before an era began (``令和元年4月30日``) are errors. Two-digit Gregorian
years (``22/1/14``) are ambiguous and are errors.

Parsing is cached per distinct text: a notification file holds few distinct
dates, so 31,077 rows with five dates each cost a few thousand real parses.

Examples
--------
>>> parse_date("R04/01/14")
datetime.date(2022, 1, 14)
>>> parse_date("平成31年5月1日")
datetime.date(2019, 5, 1)
>>> parse_date("") is None
True
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: Texts that mean "no date" in every profile; profiles may add more (e.g. ``NA``).
DEFAULT_MISSING = frozenset({"", "-", "ー", "―", "－", "不明", "未定", "なし"})


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: dt.date
    end: dt.date  # last day of the era (inclusive)


ERAS: tuple[Era, ...] = (
    Era("令和", "R", dt.date(2019, 5, 1), dt.date(9999, 12, 31)),
    Era("平成", "H", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era("昭和", "S", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era("大正", "T", dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    Era("明治", "M", dt.date(1868, 1, 25), dt.date(1912, 7, 29)),
)
_ERA_BY_SIGN = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS}

# Excel's day 0 is 1899-12-30 once its fictitious 1900-02-29 is accounted for;
# serials below 61 (before 1900-03-01) are not dates anyone exports here.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MIN, _EXCEL_MAX = 61, 2958465
# No record of a living or recently living person dates from before Meiji.
_EARLIEST_YEAR = 1868

_TIME_TAIL = re.compile(r"^(.*?[\d日])\s*(?:T|\s)\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_SPACES = re.compile(r"\s+")
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_KANJI = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")
_ERA = re.compile(
    r"^(令和|平成|昭和|大正|明治|[RHSTM])(元|\d{1,2})(?:年|[-/.])(\d{1,2})(?:月|[-/.])(\d{1,2})日?$",
    re.IGNORECASE,
)


class CellError(ValueError):
    """A cell that does not parse: ``key`` names the message, ``params`` fill it."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(f"{key} {params}")


class InvalidDate(CellError):
    """A text that is not a possible date (``core.cell.unparseable``, ...)."""


def normalise_text(value: Any) -> str:
    """NFKC-fold and strip a cell: full-width digits and spaces become ASCII."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def fold(value: Any) -> str:
    """How written names (headers, codes) are compared: NFKC (full-width →
    half-width), no surrounding blanks, case-folded.

    >>> fold(" ＶＩＥＷ ")
    'view'
    """
    return normalise_text(value).casefold()


def cell_text(value: Any) -> str:
    """A cell as text: an .xlsx whole number without ``.0``, a date in ISO
    form, ``None`` as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def parse_date(value: Any, missing: frozenset[str] = DEFAULT_MISSING) -> dt.date | None:
    """Read one cell as a date; ``None`` for an empty or "unknown" cell.

    Parameters
    ----------
    value : str, int, float, date, datetime or None
        The cell as read from CSV (always str) or .xlsx (typed).
    missing : frozenset of str
        Texts (after normalisation) that mean "no date".

    Returns
    -------
    datetime.date or None

    Raises
    ------
    InvalidDate
        ``core.cell.unparseable``, ``core.cell.impossible``,
        ``core.cell.era_year_zero`` or ``core.cell.outside_era``.

    Examples
    --------
    >>> parse_date("２０２２年１月１４日")
    datetime.date(2022, 1, 14)
    >>> parse_date(44575)
    datetime.date(2022, 1, 14)
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise InvalidDate("core.cell.unparseable", value=str(value))
    if isinstance(value, int | float):
        return _from_serial(float(value), str(value))
    text = str(value)
    result = _parse_text_cached(text, missing)
    if isinstance(result, InvalidDate):
        raise result
    return result


@lru_cache(maxsize=65536)
def _parse_text_cached(text: str, missing: frozenset[str]) -> dt.date | None | InvalidDate:
    # Cache the outcome, including the error: lru_cache does not cache raises.
    try:
        return _parse_text(text, missing)
    except InvalidDate as exc:
        return exc


def _parse_text(raw: str, missing: frozenset[str]) -> dt.date | None:
    text = normalise_text(raw)
    if text in missing or _SPACES.sub("", text) in missing:
        return None
    m = _TIME_TAIL.match(text)
    if m:
        text = m.group(1)
    text = _SPACES.sub("", text)
    shown = raw.strip()
    if m := _ISO.match(text) or _KANJI.match(text) or _COMPACT.match(text):
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)), shown)
    if m := _ERA.match(text):
        return _from_era(m.group(1), m.group(2), int(m.group(3)), int(m.group(4)), shown)
    if _SERIAL.match(text):
        return _from_serial(float(text), shown)
    raise InvalidDate("core.cell.unparseable", value=shown)


def _make(year: int, month: int, day: int, shown: str) -> dt.date:
    if year < _EARLIEST_YEAR:
        raise InvalidDate("core.cell.impossible", value=shown)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InvalidDate("core.cell.impossible", value=shown) from None


def _from_era(sign: str, year_text: str, month: int, day: int, shown: str) -> dt.date:
    era = _ERA_BY_SIGN[sign.upper() if len(sign) == 1 else sign]
    era_year = 1 if year_text == "元" else int(year_text)
    if era_year == 0:
        raise InvalidDate("core.cell.era_year_zero", value=shown, era=era.name)
    date = _make(era.start.year + era_year - 1, month, day, shown)
    # Before the era began: an error. After it ended: allowed within the same
    # calendar year only (平成31年5月 on an old form), see the module docstring.
    if date < era.start or date.year > era.end.year:
        raise InvalidDate("core.cell.outside_era", value=shown, era=era.name)
    return date


def _from_serial(serial: float, shown: str) -> dt.date:
    if serial != int(serial) or not _EXCEL_MIN <= serial <= _EXCEL_MAX:
        raise InvalidDate("core.cell.unparseable", value=shown)
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


DATE_FORMS = ("gregorian", "era", "serial")


def date_form(value: Any) -> str:
    """Which form a date cell is written in: ``era`` (令和3年4月1日, R3.4.1),
    ``serial`` (an Excel day number) or ``gregorian`` (everything else)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "serial"
    text = normalise_text(value)
    if m := _TIME_TAIL.match(text):
        text = m.group(1)
    text = _SPACES.sub("", text)
    if _ERA.match(text):
        return "era"
    return "serial" if _SERIAL.match(text) else "gregorian"


def to_era(date: dt.date, style: str = "kanji") -> str:
    """Write ``date`` in its Japanese era, as offices do.

    ``style`` is ``kanji`` (``令和4年1月14日``, ``令和元年…`` for year 1),
    ``letter`` (``R4.1.14``) or ``padded`` (``R04/01/14``).

    >>> to_era(dt.date(2019, 5, 1))
    '令和元年5月1日'
    >>> to_era(dt.date(2022, 1, 14), "padded")
    'R04/01/14'
    """
    era = next(e for e in ERAS if e.start <= date <= e.end)
    year = date.year - era.start.year + 1
    if style == "kanji":
        y = "元" if year == 1 else str(year)
        return f"{era.name}{y}年{date.month}月{date.day}日"
    if style == "letter":
        return f"{era.letter}{year}.{date.month}.{date.day}"
    if style == "padded":
        return f"{era.letter}{year:02d}/{date.month:02d}/{date.day:02d}"
    raise ValueError(f"unknown era style {style!r}")


def age_on(birth: dt.date, on: dt.date) -> int:
    """Completed years of age on a date (birthdays counted on the calendar day).

    >>> age_on(dt.date(1990, 6, 1), dt.date(2021, 5, 31))
    30
    """
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# --- months, times, numbers, flags ------------------------------------------------

_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DATETIME = re.compile(r"^(.+?)[ T]+(\d{1,2}:\d{2}(?::\d{2})?)$")
_TRUE = frozenset({"yes", "y", "true", "1", "はい", "有", "あり", "要", "○", "〇", "t"})
_FALSE = frozenset({"no", "n", "false", "0", "いいえ", "無", "なし", "不要", "×", "f", ""})


def require(value: Any, max_len: int = 200) -> str:
    """A text cell that must not be empty (nor longer than ``max_len``)."""
    text = cell_text(value).strip()
    if not text:
        raise CellError("core.cell.required")
    if len(text) > max_len:
        raise CellError("core.cell.too_long", max=max_len)
    return text


def strict(parse: Any) -> Any:
    """``parse``, but an empty cell is an error (``core.cell.required``), not ``None``."""

    def inner(value: Any, *args: Any, **kwargs: Any) -> Any:
        got = parse(value, *args, **kwargs)
        if got is None:
            raise CellError("core.cell.required")
        return got

    return inner


def parse_month(value: Any) -> dt.date | None:
    """The first day of a month: ``2021-04``, ``2021/4``, ``2021年4月`` or any date.

    >>> parse_month("2021年4月"), parse_month("R3.4.15")
    (datetime.date(2021, 4, 1), datetime.date(2021, 4, 1))
    """
    if isinstance(value, dt.date):
        return (value.date() if isinstance(value, dt.datetime) else value).replace(day=1)
    text = normalise_text(value)
    m = _MONTH.match(text)
    if m and 1 <= int(m[2]) <= 12:
        return dt.date(int(m[1]), int(m[2]), 1)
    try:
        day = parse_date(value)
    except InvalidDate:
        raise CellError("core.cell.bad_month", value=text) from None
    return day.replace(day=1) if day else None


def parse_time(value: Any) -> dt.time | None:
    """``9:00``, ``09:00:00`` (full-width colons too) or an .xlsx time cell."""
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    text = normalise_text(value)
    if not text:
        return None
    m = _TIME.match(text)
    if m and int(m[1]) < 24 and int(m[2]) < 60 and int(m[3] or 0) < 60:
        return dt.time(int(m[1]), int(m[2]), int(m[3] or 0))
    raise CellError("core.cell.bad_time", value=text)


def parse_datetime(value: Any) -> dt.datetime | None:
    """A date (any form :func:`parse_date` reads) and a time: ``2021-04-05 09:01``,
    ``令和3年4月5日 9:01``, or an .xlsx date-time cell (naive, local)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    text = normalise_text(value)
    if not text:
        return None
    m = _DATETIME.match(text)
    if m:
        try:
            day = _parse_text_cached(m[1], DEFAULT_MISSING)
            time = parse_time(m[2])
        except CellError:
            day = None
        if isinstance(day, dt.date) and time is not None:
            return dt.datetime.combine(day, time)
    raise CellError("core.cell.bad_datetime", value=text)


def parse_number(
    value: Any, *, integer: bool = False, low: float | None = None, high: float | None = None
) -> int | float | None:
    """A number (``1,234`` and full-width digits too); ``integer`` refuses fractions,
    ``low``/``high`` bound it. ``None`` for an empty cell.

    >>> parse_number("１,２３４", integer=True)
    1234
    """
    if isinstance(value, bool):
        raise CellError("core.cell.not_number", value=str(value))
    if isinstance(value, int | float):
        number, shown = float(value), cell_text(value)
    else:
        shown = normalise_text(value)
        if not shown:
            return None
        try:
            number = float(shown.replace(",", ""))
        except ValueError:
            key = "core.cell.not_integer" if integer else "core.cell.not_number"
            raise CellError(key, value=shown) from None
    if not math.isfinite(number):
        raise CellError("core.cell.not_number", value=shown)
    if integer and number != int(number):
        raise CellError("core.cell.not_integer", value=shown)
    if low is not None and high is not None and not low <= number <= high:
        raise CellError("core.cell.out_of_range", value=shown, low=low, high=high)
    if low is not None and number < low:
        raise CellError("core.cell.below", value=shown, low=low)
    return int(number) if integer else number


def parse_bool(value: Any) -> bool:
    """Yes/no as offices write it: はい/いいえ, 有/無, 要/不要, ○/×, 1/0, yes/no."""
    if isinstance(value, bool):
        return value
    text = fold(cell_text(value))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError("core.cell.bad_bool", value=normalise_text(value))
