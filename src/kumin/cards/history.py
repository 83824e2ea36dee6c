"""The ward's card history from its card-management system's export, and back.

A fresh installation must reproduce a ward's yearly figures from the records its
existing systems hold: cards with their issuance steps, state changes (moves in
on continued use, moves out, suspensions, revocations), certificate events and,
optionally, Juki-net transactions, inquiries and population counts. They come as
one file per kind in a folder (``cards.csv``, ``card_events.csv``, ...; .xlsx as
well), with kumin's column names or the Japanese ones of
the ``cards_history`` profile (``profiles/cards_history.toml``), coded values in kumin's codes or in Japanese
(継続利用, 交付時来庁方式, 署名用電子証明書, ...), dates in any form offices write
(2021-04-01, 2021/4/1, 令和3年4月1日, R3.4.1, Excel serials).

Reading is all-or-nothing: every problem is named by file, line, column and
value, and a coded value the profile does not know is one of them. Raw cells are
collected as text and converted column by column on their distinct values, so
half a million cards cost seconds, not a Python call per cell.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

import polars as pl

from kumin.cards.records import (
    SCHEMAS,
    CardEvent,
    CardRecords,
    CertificateAction,
    CertificateType,
    Channel,
    JukiKind,
    Method,
    Origin,
    RevokeReason,
)
from kumin.core.cells import (
    DEFAULT_MISSING,
    InvalidDate,
    cell_text,
    fold,
    normalise_text,
    parse_date,
)
from kumin.core.imports import Profile, Progress, header_key, load_profile
from kumin.core.tabular import neutralise_frame, read_table, width_problem
from kumin.errors import DataError, Problem

#: file stems in a history folder, in the order they are read
FILES = tuple(SCHEMAS)
REQUIRED_FILES = ("cards",)
#: columns a file must have; the others may be absent (null)
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "cards": ("card_id", "resident_no", "origin"),
    "card_events": ("card_id", "date", "event"),
    "certificates": ("card_id", "date", "cert_type", "action"),
    "juki_transactions": ("date", "kind"),
    "inquiries": ("date", "department", "function"),
    "population": ("date", "population"),
}
#: coded columns and the codes they take
CODES: dict[str, type[StrEnum]] = {
    "origin": Origin,
    "method": Method,
    "channel": Channel,
    "event": CardEvent,
    "reason": RevokeReason,
    "cert_type": CertificateType,
    "action": CertificateAction,
    "kind": JukiKind,
}
MAX_PROBLEMS = 200
DEFAULT_PROFILE = "cards_history"


def load_history_profile(name: str | None = None) -> Profile:
    """The built-in profile, or the one called ``name`` (``domain = "cards"``,
    ``kind = "history"``) in a folder named in ``KUMIN_PROFILE_DIR``. Names only,
    never paths. Its ``[files.<file>]`` tables may name only the files' columns
    and its ``[values.<column>]`` tables only their codes."""
    codes = {column: [c.value for c in enum] for column, enum in CODES.items()}
    profile = load_profile("cards", name or DEFAULT_PROFILE, kind="history", codes=codes)
    problems = [
        Problem(
            None,
            f"files.{file}.{column}",
            "core.profile.unknown_field",
            {"allowed": ", ".join(SCHEMAS.get(file, ()))},
        )  # fmt: skip
        for file, columns in profile.files.items()
        for column in columns
        if column not in SCHEMAS.get(file, ())
    ]
    if problems:
        raise DataError("core.profile.invalid", problems=problems, path=f"{profile.name}.toml")
    return profile


def _column_of(profile: Profile, file: str, header: str) -> str | None:
    """The column a header names in ``file``: kumin's own name or a profile form."""
    if file in profile.files:
        found = profile.field_for(header, file)
        if found is not None:
            return found
    key = header_key(header)
    return next((c for c in SCHEMAS[file] if header_key(c) == key), None)


def _find(folder: Path, stem: str) -> Path | None:
    for suffix in (".csv", ".xlsx"):
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    return None


def _raw_frame(path: Path, name: str, profile: Profile, problems: list[Problem]) -> pl.DataFrame:
    """The file's cells as text under kumin's column names, with ``line``."""
    table = read_table(path, profile.encoding)
    mapped = {h: _column_of(profile, name, h) for h in table.columns}
    found = [c for c in mapped.values() if c]
    for column in sorted({c for c in found if found.count(c) > 1}):
        problems.append(Problem(1, column, "cards.history.duplicate_column", {"file": path.name}))
    missing = [c for c in REQUIRED_COLUMNS[name] if c not in found]
    problems += [Problem(1, c, "core.tabular.missing_column", {"file": path.name}) for c in missing]
    if missing:
        return pl.DataFrame()
    wanted = [(h, c) for h, c in mapped.items() if c]
    if table.encoding != "xlsx":
        fast = _fast_csv(path, table.encoding, table.columns, wanted)
        if fast is not None:
            return fast
    cols: dict[str, list[str]] = {c: [] for c in (*found, "line")}
    for line, row in table.rows:
        bad = width_problem(line, row, len(table.columns))
        if bad:
            problems.append(Problem(line, None, bad.key, {**bad.params, "file": path.name}))
            continue
        for header, column in wanted:
            cols[column].append(cell_text(row[header]))
        cols["line"].append(str(line))
    frame = pl.DataFrame(cols, schema=dict.fromkeys(cols, pl.String))
    return frame.with_columns(pl.col("line").cast(pl.Int64))


def _fast_csv(
    path: Path, encoding: str, header: list[str], wanted: list[tuple[str, str]]
) -> pl.DataFrame | None:
    """The whole file through polars when its line numbers cannot drift: no quote
    (so no quoted line break), no blank line, one cell count. ``None`` otherwise,
    and the exact row reader names every line."""
    data = path.read_bytes()
    if b'"' in data or b"\n\n" in data or b"\n\r\n" in data:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            infer_schema=False,
            new_columns=list(header),
        )
    except pl.exceptions.ComputeError:  # ragged rows
        return None
    if frame.width != len(header):
        return None
    return frame.select(
        *(pl.col(h).fill_null("").alias(c) for h, c in wanted),
        (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("line"),
    )


def _convert(
    raw: pl.DataFrame, name: str, profile: Profile, file: str, problems: list[Problem]
) -> pl.DataFrame:
    """Text columns to the frame's schema, parsing each distinct text once; every
    bad cell becomes a problem."""
    schema = SCHEMAS[name]
    lines = raw.get_column("line")
    missing = DEFAULT_MISSING | profile.missing
    out = []
    for column, dtype in schema.items():
        if column not in raw.columns:
            out.append(pl.Series(column, [None] * raw.height, dtype))
            continue
        text = raw.get_column(column)
        mapping: dict[str, Any] = {}
        empty: list[str] = []
        bad: dict[str, str] = {}
        values = text.unique()
        if dtype == pl.Int64:  # mostly distinct (card numbers): the plain ones at once
            plain = text.str.strip_chars().str.replace_all(",", "").cast(pl.Int64, strict=False)
            values = text.filter(plain.is_null()).unique()
        for value in values.to_list():
            norm = normalise_text(value)
            if norm in missing:
                empty.append(value)
                continue
            if dtype == pl.String and column not in CODES:
                mapping[value] = value.strip()  # names keep their own characters
                continue
            try:
                mapping[value] = _parse(norm, column, dtype, profile)
            except InvalidDate as exc:
                bad[value] = exc.key
            except (ValueError, KeyError):
                unknown = column in CODES
                bad[value] = "cards.history.unknown_code" if unknown else "cards.history.bad_value"
        converted = text.replace_strict(mapping, default=None, return_dtype=dtype)
        if dtype == pl.Int64:
            converted = plain.fill_null(converted)
        out.append(converted.alias(column))
        if bad:
            wrong = text.is_in(list(bad))
            for line, value in zip(
                lines.filter(wrong).head(MAX_PROBLEMS).to_list(),
                text.filter(wrong).head(MAX_PROBLEMS).to_list(),
                strict=True,
            ):
                params: dict[str, Any] = {"file": file, "value": value}
                if column in CODES:
                    params["allowed"] = ", ".join(c.value for c in CODES[column])
                problems.append(Problem(line, column, bad[value], params))
        if column in REQUIRED_COLUMNS[name] and empty:
            for line in lines.filter(text.is_in(empty)).head(MAX_PROBLEMS).to_list():
                problems.append(
                    Problem(line, column, "cards.history.missing_value", {"file": file})
                )
    return pl.DataFrame(out)


def _parse(value: str, column: str, dtype: pl.DataType, profile: Profile) -> Any:
    if column in CODES:
        return profile.values[column][fold(value)]  # KeyError: unknown
    if dtype == pl.Date:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        return day
    if dtype == pl.Int64:
        return int(value.replace(",", ""))
    return value


def read_history(
    folder: str | os.PathLike[str],
    profile: Profile | None = None,
    progress: Progress = None,
) -> CardRecords:
    """Every history file in ``folder`` as :class:`CardRecords`, all-or-nothing.

    Raises :class:`DataError` (``cards.history.rejected``) listing every problem,
    each with its file in ``params['file']``, and the records' own consistency
    problems (:meth:`CardRecords.check`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError("cards.history.no_folder", path=folder.name)
    profile = profile or load_history_profile()
    problems: list[Problem] = []
    frames: dict[str, pl.DataFrame] = {}
    present = [(n, _find(folder, n)) for n in FILES]
    for name in REQUIRED_FILES:
        if dict(present)[name] is None:
            problems.append(Problem(None, None, "cards.history.missing_file", {"file": name}))
    todo = [(n, p) for n, p in present if p is not None]
    for k, (name, path) in enumerate(todo):
        raw = _raw_frame(path, name, profile, problems)
        if raw.width:
            frames[name] = _convert(raw, name, profile, path.name, problems)
        if progress:
            progress(k + 1, len(todo))
        if len(problems) > MAX_PROBLEMS:
            break
    if problems:
        raise DataError("cards.history.rejected", problems=problems[:MAX_PROBLEMS])
    records = CardRecords(**frames).conformed()
    problems = records.check()
    if problems:
        raise DataError("cards.history.rejected", problems=problems)
    return records


def write_history(
    records: CardRecords,
    folder: str | os.PathLike[str],
    *,
    japanese: bool = False,
    profile: Profile | None = None,
) -> list[Path]:
    """Write records as a history folder (CSV, UTF-8 with BOM for Excel).

    ``japanese`` writes Japanese headers, coded values and era dates
    (令和3年4月1日), the way a card-management system might: the same records
    come back through :func:`read_history` either way.
    """
    from kumin.cards.figures import wareki

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    profile = profile or load_history_profile()
    written = []
    for name, schema in SCHEMAS.items():
        frame = records.conformed().__getattribute__(name)
        if japanese:
            headers = {c: col.header for c, col in profile.files.get(name, {}).items()}
            exprs = []
            for column, dtype in schema.items():
                expr = pl.col(column)
                forms = {code: w[0] for code, w in profile.written.get(column, {}).items() if w}
                if column in CODES and forms:
                    expr = expr.replace(forms)
                elif dtype == pl.Date:
                    days = frame.get_column(column).drop_nulls().unique().to_list()
                    expr = expr.replace_strict(
                        {d: wareki(d) for d in days}, default=None, return_dtype=pl.String
                    )
                exprs.append(expr.alias(headers.get(column, column)))
            frame = frame.select(exprs)
        path = folder / f"{name}.csv"
        neutralise_frame(frame).write_csv(path, include_bom=True, date_format="%Y-%m-%d")
        written.append(path)
    return written
