"""Record services: windows, Juki-net transactions, inquiries and their function list,
population, the Ministry's national figures, and bulk card records.

Imports are all-or-nothing: the whole file is validated (every problem listed)
before anything is written, in the caller's transaction. Re-importing a file with
the same content is a no-op (its SHA-256 is remembered per kind of import).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import delete, func, select

from kumin.cards import store
from kumin.cards.models import (
    Card,
    ImportBatch,
    InquiryFunctionRow,
    NationalFigure,
    Population,
    WindowRow,
)
from kumin.cards.national import SCHEMA as NATIONAL_SCHEMA
from kumin.cards.national import (
    SETAGAYA,
    code6,
    load_national,
    ratio_over_time,
    restore_code6,
)
from kumin.cards.records import (
    INQUIRIES_SCHEMA,
    JUKI_SCHEMA,
    CardRecords,
    InquiryFunction,
    inquiry_functions,
)
from kumin.cards.windows import DEFAULT_WINDOWS, Window, open_windows
from kumin.cards.windows_io import COLUMNS as WINDOW_COLUMNS
from kumin.cards.windows_io import window_from_row, window_to_row
from kumin.core import closures
from kumin.core.cells import CellError, cell_text, parse_date, parse_number, require, strict
from kumin.core.context import Ctx
from kumin.core.imports import (
    ImportResult,
    Profile,
    Progress,
    check_rows,
    file_sha256,
    optional,
    parse_cells,
)
from kumin.core.tabular import read_table, require_columns, width_problem
from kumin.errors import DataError, NotFound, ParameterError, Problem


def _seen(ctx: Ctx, kind: str, sha: str) -> bool:
    return (
        ctx.session.scalar(
            select(ImportBatch.id).where(ImportBatch.kind == kind, ImportBatch.sha256 == sha)
        )
        is not None
    )


def _remember(ctx: Ctx, kind: str, sha: str, rows: int) -> None:
    ctx.session.add(ImportBatch(kind=kind, sha256=sha, rows=rows, imported_by=ctx.actor.name))
    ctx.session.flush()


def _code6(text: str) -> str:
    """A 6-digit code with check digit, or a 5-digit one without it (131121 or 13112)."""
    try:
        return restore_code6(text)
    except DataError:
        if len(text) == 5 and text.isdigit():
            return code6(text)
        raise


# --- windows ---------------------------------------------------------------------------


def windows(ctx: Ctx) -> tuple[Window, ...]:
    """The ward's windows; the report's defaults until the ward imports its own."""
    rows = ctx.session.scalars(select(WindowRow).order_by(WindowRow.position)).all()
    if not rows:
        return DEFAULT_WINDOWS
    return tuple(window_from_row({c: getattr(r, c) for c in WINDOW_COLUMNS}) for r in rows)


def list_windows(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.authorize("cards.read")
    return [window_to_row(w) for w in windows(ctx)]


def windows_on(ctx: Ctx, day: dt.date) -> list[dict[str, Any]]:
    """The windows open on ``day`` with their hours and methods."""
    ctx.authorize("cards.read")
    return [
        {
            "code": ow.window.code,
            "name_ja": ow.window.name_ja,
            "name_en": ow.window.name_en,
            "methods": ow.window.method_codes(),
            "opens": ow.opens.strftime("%H:%M"),
            "closes": ow.closes.strftime("%H:%M"),
            "temporary": ow.window.temporary,
        }
        for ow in open_windows(day, windows(ctx))
    ]


def import_windows(ctx: Ctx, path: str | os.PathLike[str]) -> dict[str, int]:
    """Replace the window list with the file's (one row per window, see windows_io)."""
    ctx.authorize("cards.manage")
    table = read_table(path)
    require_columns(table, ("code", "name_ja", "methods", "hours"))
    problems: list[Problem] = []
    found: list[Window] = []
    codes: set[str] = set()
    for line, row in table.rows:
        bad = width_problem(line, row, len(table.columns))
        if bad:
            problems.append(bad)
            continue
        try:
            w = window_from_row(row, line)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        if w.code in codes:
            problems.append(Problem(line, "code", "cards.windows.duplicate", {"value": w.code}))
        codes.add(w.code)
        found.append(w)
    if problems:
        raise DataError("cards.windows.bad_file", problems=problems)
    if not found:
        raise DataError("cards.windows.empty")
    ctx.session.execute(delete(WindowRow))
    for i, w in enumerate(found):
        row = window_to_row(w)
        ctx.session.add(
            WindowRow(
                position=i,
                **{
                    **row,
                    "opened_on": w.opened_on,
                    "closed_on": w.closed_on,
                    "temporary": w.temporary,
                    "closed_on_holidays": w.closed_on_holidays,
                },
            )
        )
    ctx.session.flush()
    ctx.audit("cards.windows_import", "cards_windows", rows=len(found))
    return {"windows": len(found)}


# --- Juki-net transactions ------------------------------------------------------------------


def _history_rows(
    path: Path, file: str, required: tuple[str, ...], parse_row: Any
) -> tuple[list[Any], Profile]:
    """Rows of one record file through the card-history profile's ``[files.<file>]``
    headers and ``[values.*]`` codes, all-or-nothing (the same forms the history
    import reads: 特例転出, 処理日, ...)."""
    from kumin.cards.history import load_history_profile

    profile = load_history_profile()
    rows = check_rows(
        path, required, parse_row(profile), profile=profile, file=file,
        reject_key="cards.import.bad_file",
    )  # fmt: skip
    return rows, profile


def _store_rows(
    ctx: Ctx, kind: str, table: str, path: Path, rows: list[tuple], schema: dict
) -> ImportResult:
    """Insert validated rows unless the same file (SHA-256) was imported before."""
    sha = file_sha256(path)
    if _seen(ctx, kind, sha):
        result = ImportResult.counted(len(rows), 0)
        result.already = True
        return result
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    # a closed fiscal year takes no new records (kumin.core.closures)
    closures.ensure_open_days(ctx.session, set(frame["date"].to_list()))
    store.bulk_insert(ctx.session, table, frame)
    _remember(ctx, kind, sha, frame.height)
    ctx.audit(f"cards.{kind}_import", table, rows=frame.height, sha256=sha)
    result = ImportResult.counted(frame.height, frame.height)
    result.file_name = path.name
    return result


def _code6_cell(value: Any) -> str:
    try:
        return _code6(cell_text(value).strip())
    except DataError as exc:
        raise CellError(exc.key, **exc.params) from None


def import_juki(ctx: Ctx, path: str | os.PathLike[str], progress: Progress = None) -> ImportResult:
    """Juki-net transactions (columns: date, kind, resident_no, other_code6)."""
    ctx.authorize("cards.manage")
    path = Path(path)

    def parse(profile: Profile) -> Any:
        def row(line: int, cells: dict[str, Any], problems: list[Problem]) -> tuple | None:
            got = parse_cells(
                line, cells, problems,
                date=strict(parse_date),
                kind=lambda v: profile.code("kind", v),
                resident_no=lambda v: parse_number(v, integer=True),
                other_code6=optional(_code6_cell),
            )  # fmt: skip
            return tuple(got[k] for k in JUKI_SCHEMA) if got else None

        return row

    rows, _ = _history_rows(path, "juki_transactions", ("date", "kind"), parse)
    return _store_rows(ctx, "juki", "cards_juki_transactions", path, rows, JUKI_SCHEMA)


# --- inquiries and the function list ----------------------------------------------------------


def functions(ctx: Ctx) -> tuple[InquiryFunction, ...]:
    """The ward's My Number functions in report order."""
    rows = ctx.session.scalars(
        select(InquiryFunctionRow).order_by(InquiryFunctionRow.position)
    ).all()
    if not rows:
        return inquiry_functions()
    return tuple(InquiryFunction(r.code, r.name_ja, r.name_en, r.department) for r in rows)


def list_functions(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.authorize("cards.read")
    return [
        {"code": f.code, "name_ja": f.name_ja, "name_en": f.name_en, "department": f.department}
        for f in functions(ctx)
    ]


def add_function(
    ctx: Ctx, code: str, name_ja: str, name_en: str = "", department: str = ""
) -> dict[str, Any]:
    """Append a My Number function to the list (or rename an existing one)."""
    ctx.authorize("cards.manage")
    code = code.strip()
    if not code or not code.replace("_", "").isalnum() or len(code) > 40:
        raise ParameterError("cards.service.bad_function_code", value=code)
    if not name_ja.strip():
        raise ParameterError("cards.service.name_required")
    row = ctx.session.get(InquiryFunctionRow, code)
    if row is None:
        last = ctx.session.scalar(select(func.max(InquiryFunctionRow.position)))
        row = InquiryFunctionRow(code=code, position=(last if last is not None else -1) + 1)
        ctx.session.add(row)
    row.name_ja, row.name_en = name_ja.strip(), (name_en or name_ja).strip()
    row.department = department.strip()
    ctx.session.flush()
    ctx.audit("cards.function", f"function:{code}")
    return {"code": code, "name_ja": row.name_ja, "name_en": row.name_en}


def import_inquiries(
    ctx: Ctx, path: str | os.PathLike[str], progress: Progress = None
) -> ImportResult:
    """Identity inquiries (columns: date, department, function, operator)."""
    ctx.authorize("cards.manage")
    path = Path(path)
    known = {f.code for f in functions(ctx)}

    def function(value: Any) -> str:
        code = cell_text(value).strip()
        if code not in known:  # the ward's list, not the profile's: cards functions add
            raise CellError("cards.import.bad_function", value=code)
        return code

    def parse(profile: Profile) -> Any:
        def row(line: int, cells: dict[str, Any], problems: list[Problem]) -> tuple | None:
            got = parse_cells(
                line, cells, problems,
                date=strict(parse_date), department=require, function=function, operator=require,
            )  # fmt: skip
            return tuple(got[k] for k in INQUIRIES_SCHEMA) if got else None

        return row

    rows, _ = _history_rows(path, "inquiries", tuple(INQUIRIES_SCHEMA), parse)
    return _store_rows(ctx, "inquiries", "cards_inquiries", path, rows, INQUIRIES_SCHEMA)


# --- population -------------------------------------------------------------------------------


def import_population(ctx: Ctx, path: str | os.PathLike[str]) -> ImportResult:
    """Population counts (columns: date, population); a date given again is replaced."""
    ctx.authorize("cards.manage")

    def parse(profile: Profile) -> Any:
        def row(line: int, cells: dict[str, Any], problems: list[Problem]) -> tuple | None:
            got = parse_cells(
                line, cells, problems,
                date=strict(parse_date),
                population=strict(lambda v: parse_number(v, integer=True, low=1)),
            )  # fmt: skip
            return (got["date"], got["population"]) if got else None

        return row

    rows, _ = _history_rows(Path(path), "population", ("date", "population"), parse)
    found = dict(rows)
    ctx.session.execute(delete(Population).where(Population.date.in_(list(found))))
    for day, count in sorted(found.items()):
        ctx.session.add(Population(date=day, population=count))
    ctx.session.flush()
    ctx.audit("cards.population_import", "cards_population", rows=len(found))
    return ImportResult.counted(len(found), len(found))


# --- national figures ---------------------------------------------------------------------------


def import_national(ctx: Ctx, root: str | os.PathLike[str]) -> dict[str, int]:
    """The Ministry's snapshots under ``root``; a reference date read again is replaced."""
    ctx.authorize("cards.national")
    frame = load_national(root)
    dates = frame["date"].unique().to_list()
    ctx.session.execute(delete(NationalFigure).where(NationalFigure.date.in_(dates)))
    store.bulk_insert(
        ctx.session,
        "cards_national",
        frame.select(
            "date",
            "code6",
            "pref",
            "municipality",
            "population",
            "cards",
            "rate",
            "population_date",
        ),
    )
    ctx.audit("cards.national_import", "cards_national", dates=len(dates), rows=frame.height)
    return {"dates": len(dates), "rows": frame.height}


def national_ratio(ctx: Ctx, code6: str = SETAGAYA) -> pl.DataFrame:
    """The ward's card ratio by date beside Tokyo's 23 wards, its prefecture and Japan."""
    ctx.authorize("cards.national")
    frame = store.read_frame(
        ctx.session,
        'SELECT "date", pref, municipality, code6, population, cards, rate, population_date'
        " FROM cards_national",
        NATIONAL_SCHEMA,
    )
    if frame.is_empty():
        raise NotFound("cards.national.empty")
    return ratio_over_time(frame, code6)


# --- bulk records (a migration from the previous system; the demo) ---------------------------


def import_history(
    ctx: Ctx, folder: str | os.PathLike[str], profile: str | None = None, progress: Progress = None
) -> dict[str, int]:
    """The ward's card history from its card-management system's export (a folder
    of cards.csv, card_events.csv, certificates.csv, ...; see
    :mod:`kumin.cards.history`), all-or-nothing, checked like any bulk load."""
    from kumin.cards.history import load_history_profile, read_history

    ctx.authorize("cards.manage")
    records = read_history(folder, load_history_profile(profile))
    return import_records(ctx, records, progress)


def _dates(records: CardRecords) -> set:
    """Every distinct date the records carry (one per day, not per row)."""
    out: set = set()
    for name in ("cards", "card_events", "certificates", "juki_transactions", "inquiries"):
        frame = getattr(records, name)
        for column, dtype in frame.schema.items():
            if dtype == pl.Date:
                out.update(d for d in frame[column].unique().to_list() if d is not None)
    out.update(records.population["date"].to_list())
    return out


def import_records(ctx: Ctx, records: CardRecords, progress: Progress = None) -> dict[str, int]:
    """Store card records in bulk: cards (with their dates), state changes, certificates,
    Juki-net transactions, inquiries and population.

    The records are checked first (:meth:`CardRecords.check`); cards whose number
    is already stored are refused as a whole.
    """
    ctx.authorize("cards.manage")
    records = records.conformed()
    problems = records.check()
    known = {f.code for f in functions(ctx)}
    unknown = set(records.inquiries["function"].unique().to_list()) - known
    problems += [
        Problem(None, "function", "cards.import.bad_function", {"value": c})
        for c in sorted(unknown)
    ]
    if problems:
        raise DataError("cards.import.bad_records", problems=problems)
    ids = records.cards["card_id"]
    clash = (
        ctx.session.scalar(
            select(func.count()).where(
                Card.card_id.between(int(ids.min() or 0), int(ids.max() or 0))
            )
        )
        if ids.len()
        else 0
    )
    if clash:
        raise DataError("cards.import.cards_exist", count=clash)
    # a closed fiscal year takes no new records (kumin.core.closures)
    closures.ensure_open_days(ctx.session, _dates(records))
    total = sum(records.row_counts().values())
    done = 0

    def tick(k: int) -> None:
        nonlocal done
        done += k
        if progress:
            progress(done, total)

    cards = records.cards.with_columns(
        pl.lit(None, pl.Utf8).alias("step"),
        pl.when(pl.col("issued_on").is_not_null() | (pl.col("origin") == "moved_in"))
        .then(pl.lit("operating"))
        .alias("status"),
        pl.lit("import").alias("source"),
    )
    # the status column follows the last state change of each card
    last = (
        records.card_events.filter(pl.col("event") != "moved_in")
        .sort("date", maintain_order=True)
        .group_by("card_id")
        .agg(pl.col("event").last())
        .with_columns(
            pl.col("event").replace_strict(
                {
                    "suspended": "suspended",
                    "resumed": "operating",
                    "revoked": "revoked",
                    "moved_out": "moved_out",
                },
                default=None,
            )
        )
    )
    cards = (
        cards.join(last, on="card_id", how="left")
        .with_columns(pl.coalesce("event", "status").alias("status"))
        .drop("event")
    )
    store.bulk_insert(ctx.session, "cards_cards", cards, tick)
    for table, name in (
        ("cards_events", "card_events"),
        ("cards_certificates", "certificates"),
        ("cards_juki_transactions", "juki_transactions"),
        ("cards_inquiries", "inquiries"),
    ):
        store.bulk_insert(ctx.session, table, getattr(records, name), tick)
    if records.population.height:
        ctx.session.execute(
            delete(Population).where(Population.date.in_(records.population["date"].to_list()))
        )
        store.bulk_insert(ctx.session, "cards_population", records.population, tick)
    counts = records.row_counts()
    ctx.audit("cards.records_import", "cards", **counts)
    return counts
