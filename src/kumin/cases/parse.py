"""Reading and validating a notification-record file (pure: no database).

Two ways in, same rules:

- :func:`parse_cases` reads a whole file and returns every record and warning,
  or raises one :class:`~kumin.errors.DataError` listing every error
  (all-or-nothing). Fine up to a few hundred thousand rows.
- For big files, :func:`check_case_file` streams the file once, keeping only
  the problems, a 64-bit hash per row of the ID and of the content, and the
  lines to skip; then :func:`iter_case_chunks` reads it again and yields
  validated records in chunks, so an importer can write in batches knowing the
  whole file is valid. Memory is about 24 bytes a row plus one chunk.

Errors (the record is unusable, the file is rejected): missing ID, an
unparseable or impossible date, a birth date or event date in the future, a
birth date after an event, an unknown code, the same ID twice with different
content. Identical duplicates collapse into the first one (with a warning).
Warnings (kept, reported): onset more than 30 days before the result, specimen
taken after the result, an age band that fits neither the age at the
reference date nor at the result date.

Messages never carry the value of a personal field (ID, birth date,
nationality, address): problems name the line and column instead.
"""

from __future__ import annotations

import datetime as dt
import os
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kumin.cases import codes
from kumin.cases.minimise import town_name
from kumin.cases.profiles import Profile, id_template, load_profile
from kumin.core.cells import (
    DEFAULT_MISSING,
    InvalidDate,
    _parse_text_cached,
    age_on,
    fold,
    normalise_text,
    parse_date,
)
from kumin.core.tabular import read_table, width_problem
from kumin.errors import DataError, Problem

#: Fields that identify a person: stored encrypted, never put in messages.
PERSONAL_FIELDS = frozenset({"hersys_id", "birth_date", "nationality", "address"})
DATE_FIELDS = (
    "birth_date", "onset_date", "first_visit_date", "specimen_date", "result_date", "report_date",
)  # fmt: skip
EVENT_DATE_FIELDS = DATE_FIELDS[1:]
ONSET_RESULT_WARN_DAYS = 30


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """One validated notification record.

    ``town``, ``age_years`` (completed years at onset, else at the result,
    specimen, first visit or report date) and ``age_band`` (as given, else
    derived from ``age_years``) are derived for analysis; ``line`` is where the
    record stood in its file and takes no part in comparisons.
    """

    hersys_id: str
    birth_date: dt.date | None = None
    age_band: str | None = None
    sex: str | None = None
    nationality: str | None = None
    residence: str | None = None
    address: str | None = None
    town: str | None = None
    onset_date: dt.date | None = None
    first_visit_date: dt.date | None = None
    specimen_date: dt.date | None = None
    result_date: dt.date | None = None
    report_date: dt.date | None = None
    symptoms: str | None = None
    asymptomatic: bool | None = None
    vaccine_doses: int | None = None
    care_setting: str | None = None
    imported: bool | None = None
    age_years: int | None = None
    line: int = field(default=0, compare=False)

    @property
    def reference_date(self) -> dt.date | None:
        """The date the age is taken at: onset, else result, specimen, first visit, report."""
        return (
            self.onset_date
            or self.result_date
            or self.specimen_date
            or self.first_visit_date
            or self.report_date
        )


RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(CaseRecord))


@dataclass
class ParseResult:
    """Records and warnings of a file that passed validation."""

    records: list[CaseRecord]
    warnings: list[Problem]
    profile: str
    encoding: str
    rows: int  # data rows read, including collapsed duplicates

    def frame(self) -> Any:
        """The records as a polars DataFrame (see :func:`records_frame`)."""
        return records_frame(self.records)


@dataclass
class CaseFileCheck:
    """Outcome of pass 1 over a valid file; hand it to :func:`iter_case_chunks`."""

    path: Path
    profile: Profile
    encoding: str
    today: dt.date
    rows: int
    records: int  # distinct records that pass 2 will yield
    warnings: list[Problem]
    skip_lines: frozenset[int]
    signature: tuple[int, int]


# --- cell readers -----------------------------------------------------------------


def _cached(parser: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # Cells repeat a lot (codes, dates); cache by text and remember errors too.
    @lru_cache(maxsize=16384)
    def by_text(text: str) -> tuple[Any, Exception | None]:
        try:
            return parser(text), None
        except (InvalidDate, codes.InvalidCode) as exc:
            return None, exc

    def read(value: Any) -> Any:
        if isinstance(value, str):
            result, exc = by_text(value)
            if exc is not None:
                raise exc
            return result
        return parser(value)

    return read


def _read_id(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an ID typed as a number in .xlsx
    text = "".join(normalise_text(value).split())
    return text or None


_CODE_READERS: dict[str, Callable[[Any], Any]] = {
    "age_band": _cached(codes.parse_age_band),
    "sex": _cached(codes.parse_sex),
    "vaccine_doses": _cached(codes.parse_vaccine_doses),
    "care_setting": _cached(codes.parse_care_setting),
    "asymptomatic": _cached(codes.parse_flag),
    "imported": _cached(codes.parse_imported),
    "nationality": _cached(codes.parse_text),
    "residence": _cached(codes.parse_text),
    "address": codes.parse_text,
}


@dataclass
class _Plan:
    """Which header of this file feeds which field."""

    profile: Profile
    headers: dict[str, str]  # field -> header as written in the file
    date_missing: frozenset[str]  # texts meaning "no date"
    code_missing: frozenset[str]  # the profile's own "no value" texts (e.g. NA)
    width: int
    steps: list[tuple[str, str, str]] = field(default_factory=list)  # field, header, kind
    event_fields: tuple[str, ...] = ()
    id_template: str | None = None
    #: field → folded written form → code, the profile's own forms (``[values.*]``)
    vocabulary: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.id_template = id_template(self.profile)
        self.vocabulary = {f: v for f, v in self.profile.values.items() if v}
        kinds = {"hersys_id": "id", "symptoms": "symptoms", "asymptomatic": "flag"}
        for fld, header in self.headers.items():
            kind = "date" if fld in DATE_FIELDS else kinds.get(fld, "code")
            self.steps.append((fld, header, kind))
        self.event_fields = tuple(f for f in EVENT_DATE_FIELDS if f in self.headers)


def _plan(columns: list[str], profile: Profile, path: Path) -> _Plan:
    headers, problems = profile.locate(columns)
    if problems:
        raise DataError("core.tabular.missing_columns", problems=problems, path=path.name)
    # 不明 and なし mean "no date" in a date column but are real codes elsewhere
    # (sex unknown, no vaccine doses), so only the profile's own texts apply there.
    return _Plan(profile, headers, DEFAULT_MISSING | profile.missing, profile.missing, len(columns))


def _mask(fld: str, params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "value": "***"} if fld in PERSONAL_FIELDS and "value" in params else params


def _parse_row(
    line: int, row: dict[str, Any], plan: _Plan, today: dt.date
) -> tuple[CaseRecord | None, list[Problem], list[Problem]]:
    """One row → (record or None, errors, warnings)."""
    if "__width__" in row:
        return None, [width_problem(line, row, plan.width)], []  # type: ignore[list-item]
    errors: list[Problem] = []
    warnings: list[Problem] = []
    values: dict[str, Any] = {}
    code_missing = plan.code_missing
    date_missing = plan.date_missing
    vocabulary = plan.vocabulary
    for fld, header, kind in plan.steps:
        cell = row.get(header, "")
        if vocabulary and fld in vocabulary:  # the profile's own written forms first
            cell = vocabulary[fld].get(fold(cell), cell)
        try:
            if kind == "date":
                if type(cell) is str:  # the hot path: a cached parse per distinct text
                    got = _parse_text_cached(cell, date_missing)
                    if type(got) is InvalidDate:
                        raise got
                    values[fld] = got
                else:
                    values[fld] = parse_date(cell, date_missing)
            elif kind == "id":
                values[fld] = _read_id(cell)
            elif code_missing and isinstance(cell, str) and normalise_text(cell) in code_missing:
                values.setdefault(fld, None)
            elif kind == "symptoms":
                values["symptoms"], asym = _read_symptoms(cell)
                if asym is not None and values.get("asymptomatic") is None:
                    values["asymptomatic"] = asym
            elif kind == "flag":
                flag = _CODE_READERS[fld](cell)
                if flag is not None:
                    values[fld] = flag
            else:
                values[fld] = _CODE_READERS[fld](cell)
        except (InvalidDate, codes.InvalidCode) as exc:
            errors.append(Problem(line, header, exc.key, _mask(fld, exc.params)))

    headers = plan.headers
    if plan.id_template and not values.get("hersys_id"):
        values["hersys_id"] = plan.id_template.format(line=line)
    if not values.get("hersys_id"):
        errors.append(Problem(line, headers.get("hersys_id"), "cases.record.missing_id"))

    birth = values.get("birth_date")
    if birth is not None and birth > today:
        errors.append(Problem(line, headers.get("birth_date"), "cases.record.birth_in_future"))
    for fld in plan.event_fields:
        d = values.get(fld)
        if d is None:
            continue
        if d > today:
            errors.append(Problem(line, headers[fld], "cases.record.date_in_future"))
        elif birth is not None and birth <= today and d < birth:
            errors.append(Problem(line, headers[fld], "cases.record.before_birth"))
    if errors:
        return None, errors, warnings

    onset = values.get("onset_date")
    specimen = values.get("specimen_date")
    result = values.get("result_date")
    if onset and result and (result - onset).days > ONSET_RESULT_WARN_DAYS:
        warnings.append(
            Problem(
                line,
                headers["onset_date"],
                "cases.warning.onset_long_before_result",
                {"days": (result - onset).days},
                severity="warning",
            )
        )
    if specimen and result and specimen > result:
        warnings.append(
            Problem(
                line,
                headers["specimen_date"],
                "cases.warning.specimen_after_result",
                severity="warning",
            )
        )
    if "address" in values:
        values["town"] = town_name(values["address"])
    reference = (
        onset or result or specimen or values.get("first_visit_date") or values.get("report_date")
    )
    if birth and reference:
        age_years = age_on(birth, reference)
        values["age_years"] = age_years
        derived = codes.age_band_of(age_years)
        band = values.get("age_band")
        if band is None:
            values["age_band"] = derived
        elif band != derived:
            # HER-SYS fills 年代 when the notice is entered: accept the band at
            # either end of the case's dates before calling it a mismatch.
            later = result or values.get("report_date")
            if later is None or codes.age_band_of(age_on(birth, later)) != band:
                warnings.append(
                    Problem(
                        line,
                        headers.get("age_band"),
                        "cases.warning.age_band_mismatch",
                        {"band": band, "age": age_years},
                        severity="warning",
                    )
                )
    return CaseRecord(**values, line=line), errors, warnings


@lru_cache(maxsize=16384)
def _symptoms_by_text(text: str) -> tuple[str | None, bool | None]:
    return codes.parse_symptoms(text)


def _read_symptoms(cell: Any) -> tuple[str | None, bool | None]:
    return _symptoms_by_text(cell) if isinstance(cell, str) else codes.parse_symptoms(cell)


# Python's own hash is enough: the hashes live only within one pass over one
# file (they are salted per process, so never store them). 64 bits make a
# collision among a million IDs about one in 10**7.
def _hash64(text: str) -> int:
    return hash(text) & 0xFFFF_FFFF_FFFF_FFFF


def _content_hash(record: CaseRecord) -> int:
    # The dataclass hash covers every field but ``line`` (compare=False).
    return hash(record) & 0xFFFF_FFFF_FFFF_FFFF


# --- the scan ---------------------------------------------------------------------


def _resolve(profile: str | Profile, profile_dirs: tuple[str, ...] | list[str]) -> Profile:
    return profile if isinstance(profile, Profile) else load_profile(profile, profile_dirs)


def _signature(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


@dataclass
class _Scan:
    rows: int = 0
    errors: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warnings: list[Problem] = field(default_factory=list)
    # Compact arrays (8 bytes an entry): pass 1 keeps only these per row.
    lines: array = field(default_factory=lambda: array("q"))
    id_hashes: array = field(default_factory=lambda: array("Q"))
    content_hashes: array = field(default_factory=lambda: array("Q"))


def _scan(
    path: Path,
    profile: Profile,
    encoding: str,
    today: dt.date,
    keep: list[CaseRecord] | None,
    max_errors: int,
    on_progress: Callable[[int], None] | None,
) -> tuple[_Scan, str, frozenset[int]]:
    # the caller's encoding, else the profile's (``auto`` unless it says otherwise)
    table = read_table(path, profile.encoding if encoding == "auto" else encoding)
    plan = _plan(table.columns, profile, path)
    scan = _Scan()
    for line, row in table.rows:
        scan.rows += 1
        record, errors, warnings = _parse_row(line, row, plan, today)
        scan.warnings.extend(warnings)
        if errors:
            scan.error_count += len(errors)
            room = max_errors - len(scan.errors)
            scan.errors.extend(errors[: max(room, 0)])
        elif record is not None:
            scan.lines.append(line)
            scan.id_hashes.append(_hash64(record.hersys_id))
            scan.content_hashes.append(_content_hash(record))
            if keep is not None:
                keep.append(record)
        if on_progress is not None and scan.rows % 5000 == 0:
            on_progress(scan.rows)
    if on_progress is not None:
        on_progress(scan.rows)
    skip = _duplicates(scan, plan.headers.get("hersys_id"), max_errors)
    return scan, table.encoding, skip


def _duplicates(scan: _Scan, id_header: str | None, max_errors: int) -> frozenset[int]:
    """Find repeated IDs: differing content is an error, identical rows collapse."""
    if not scan.lines:
        return frozenset()
    ids = np.frombuffer(scan.id_hashes, dtype=np.uint64)
    order = np.argsort(ids, kind="stable")  # stable: lines stay ascending per ID
    sorted_ids = ids[order]
    repeated = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1]) + 1
    if repeated.size == 0:
        return frozenset()
    skip: set[int] = set()
    contents = np.frombuffer(scan.content_hashes, dtype=np.uint64)
    lines = np.frombuffer(scan.lines, dtype=np.int64)
    for pos in repeated:
        start = pos
        while start > 0 and sorted_ids[start - 1] == sorted_ids[pos]:
            start -= 1
        first, this = order[start], order[pos]
        if contents[this] == contents[first]:
            skip.add(int(lines[this]))
            scan.warnings.append(
                Problem(
                    int(lines[this]),
                    id_header,
                    "cases.warning.duplicate_collapsed",
                    {"first_line": int(lines[first])},
                    severity="warning",
                )
            )
        else:
            scan.error_count += 1
            if len(scan.errors) < max_errors:
                scan.errors.append(
                    Problem(
                        int(lines[this]),
                        id_header,
                        "cases.record.duplicate_id",
                        {"first_line": int(lines[first])},
                    )
                )
    return frozenset(skip)


def _reject(path: Path, scan: _Scan) -> DataError:
    problems = sorted(scan.errors, key=lambda p: (p.line or 0, p.column or ""))
    error = DataError(
        "cases.import.rejected",
        problems=problems,
        path=path.name,
        count=scan.error_count,
        rows=scan.rows,
    )
    error.warnings = sorted(scan.warnings, key=lambda p: p.line or 0)  # type: ignore[attr-defined]
    return error


def parse_cases(
    path: str | os.PathLike[str],
    profile: str | Profile = "hersys",
    *,
    encoding: str = "auto",
    today: dt.date | None = None,
    profile_dirs: tuple[str, ...] | list[str] = (),
    max_errors: int = 100_000,
    on_progress: Callable[[int], None] | None = None,
) -> ParseResult:
    """Read and validate a whole notification file.

    Parameters
    ----------
    path : path of a CSV (UTF-8, UTF-8 with BOM, CP932) or .xlsx file.
    profile : profile name, path of a profile file, or a :class:`Profile`.
    encoding : ``auto``, ``utf-8`` or ``cp932`` (ignored for .xlsx).
    today : dates after this are errors (default: today).
    profile_dirs : extra folders searched for the profile.
    max_errors : problems kept in the error (all are counted).
    on_progress : called with the number of rows read so far.

    Returns
    -------
    ParseResult
        Records in file order, identical duplicates collapsed, and warnings.

    Raises
    ------
    DataError
        ``cases.import.rejected`` with every error as a ``Problem`` (and the
        warnings in ``.warnings``); nothing is returned for a file with errors.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "n.csv"
    >>> _ = p.write_text("exp_type,onset,confirmed,reported,is_asymptomatic\\n"
    ...                  "domestic,2020-04-01,NA,2020-04-03,0\\n")
    >>> res = parse_cases(p, "nishiura")
    >>> res.records[0].hersys_id, res.records[0].onset_date
    ('NISHIURA-000002', datetime.date(2020, 4, 1))
    """
    path = Path(path)
    prof = _resolve(profile, profile_dirs)
    today = today or dt.date.today()
    records: list[CaseRecord] = []
    scan, used, skip = _scan(path, prof, encoding, today, records, max_errors, on_progress)
    if scan.error_count:
        raise _reject(path, scan)
    if skip:
        records = [r for r in records if r.line not in skip]
    warnings = sorted(scan.warnings, key=lambda p: p.line or 0)
    return ParseResult(records, warnings, prof.name, used, scan.rows)


def check_case_file(
    path: str | os.PathLike[str],
    profile: str | Profile = "hersys",
    *,
    encoding: str = "auto",
    today: dt.date | None = None,
    profile_dirs: tuple[str, ...] | list[str] = (),
    max_errors: int = 100_000,
    on_progress: Callable[[int], None] | None = None,
) -> CaseFileCheck:
    """Pass 1: validate a file streaming, keeping no records.

    Raises the same ``DataError`` as :func:`parse_cases`; on success returns
    what :func:`iter_case_chunks` needs for pass 2.
    """
    path = Path(path)
    prof = _resolve(profile, profile_dirs)
    today = today or dt.date.today()
    signature = _signature(path)
    scan, used, skip = _scan(path, prof, encoding, today, None, max_errors, on_progress)
    if scan.error_count:
        raise _reject(path, scan)
    return CaseFileCheck(
        path=path,
        profile=prof,
        encoding=used if used != "xlsx" else "auto",
        today=today,
        rows=scan.rows,
        records=len(scan.lines) - len(skip),
        warnings=sorted(scan.warnings, key=lambda p: p.line or 0),
        skip_lines=skip,
        signature=signature,
    )


def iter_case_chunks(
    check: CaseFileCheck,
    chunk_size: int = 10_000,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[list[CaseRecord]]:
    """Pass 2: yield the validated records of a checked file, ``chunk_size`` at a time.

    Raises ``DataError`` (``cases.import.file_changed``) if the file changed
    since :func:`check_case_file`.
    """
    if chunk_size < 1:
        from kumin.errors import ParameterError

        raise ParameterError("cases.import.bad_chunk_size", got=chunk_size)
    if _signature(check.path) != check.signature:
        raise DataError("cases.import.file_changed", path=check.path.name)
    encoding = {"utf-8-sig": "utf-8", "utf-8": "utf-8", "cp932": "cp932"}.get(
        check.encoding, "auto"
    )
    table = read_table(check.path, encoding)
    plan = _plan(table.columns, check.profile, check.path)
    chunk: list[CaseRecord] = []
    done = 0
    for line, row in table.rows:
        done += 1
        if line in check.skip_lines:
            continue
        record, errors, _ = _parse_row(line, row, plan, check.today)
        if errors or record is None:  # the file was valid in pass 1: it changed under us
            raise DataError("cases.import.file_changed", path=check.path.name)
        chunk.append(record)
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
            if on_progress is not None:
                on_progress(done)
    if chunk:
        yield chunk
    if on_progress is not None:
        on_progress(done)


# --- frames -----------------------------------------------------------------------


def frame_schema() -> dict[str, Any]:
    """The polars schema of :func:`records_frame`."""
    import polars as pl

    types: dict[str, Any] = dict.fromkeys(RECORD_FIELDS, pl.Utf8)
    types.update(dict.fromkeys(DATE_FIELDS, pl.Date))
    types.update(asymptomatic=pl.Boolean, imported=pl.Boolean)
    types.update(vaccine_doses=pl.Int8, age_years=pl.Int16, line=pl.Int64)
    return types


def records_frame(records: list[CaseRecord]) -> Any:
    """Records as a polars DataFrame, one column per :class:`CaseRecord` field.

    >>> records_frame([CaseRecord("1", vaccine_doses=2)]).get_column("vaccine_doses").to_list()
    [2]
    """
    import polars as pl

    data = {f: [getattr(r, f) for r in records] for f in RECORD_FIELDS}
    return pl.DataFrame(data, schema=frame_schema())
