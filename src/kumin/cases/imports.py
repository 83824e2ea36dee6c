"""Importing notification files: validate the whole file, then write it in chunks.

All-or-nothing: pass 1 (:func:`kumin.cases.parse.check_case_file`, or
:func:`~kumin.cases.parse.parse_cases` for files small enough to keep in memory)
validates every row and raises one ``DataError`` listing every error before
anything is written. Pass 2 writes the records in chunks in the caller's
transaction, matching each on the blind index of its HER-SYS ID: a new record is
inserted, an unchanged one (same keyed content hash) is left alone, a changed one
is updated and the change audited with the names of the fields that changed —
never their values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import operator
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update

from kumin.cases import parse
from kumin.cases.models import DATASET, PERSONAL_COLUMNS, CaseRow, ImportRun
from kumin.cases.parse import CaseRecord
from kumin.core import crypto
from kumin.core.context import Ctx
from kumin.core.db import utcnow
from kumin.core.imports import ImportResult, Progress, file_sha256
from kumin.core.models import DataKey

CHUNK = 5000
# Files up to this size (about 110,000 HER-SYS rows) are validated in one pass that
# keeps the records; larger ones are read twice, keeping only hashes (bounded memory).
IN_MEMORY_BYTES = 16 << 20

#: Record fields stored encrypted under :data:`DATASET` (one JSON object a record).
ENCRYPTED_FIELDS = PERSONAL_COLUMNS
#: Record fields stored in clear for analysis.
CLEAR_FIELDS = (
    "age_years",
    "age_band",
    "sex",
    "town",
    "onset_date",
    "first_visit_date",
    "specimen_date",
    "result_date",
    "report_date",
    "asymptomatic",
    "vaccine_doses",
    "care_setting",
    "imported",
)
_HASHED_FIELDS = operator.attrgetter(*(f for f in parse.RECORD_FIELDS if f != "line"))


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_PERSONAL = operator.attrgetter(*ENCRYPTED_FIELDS)


def personal_json(record: CaseRecord) -> str:
    """The personal fields of a record as the JSON stored (encrypted) in ``personal``."""
    values = {}
    for name, value in zip(ENCRYPTED_FIELDS, _PERSONAL(record), strict=True):
        if value is not None:
            values[name] = value.isoformat() if type(value) is dt.date else str(value)
    return _JSON.encode(values)


def read_personal(ctx: Ctx, token: bytes) -> dict[str, str]:
    """Decrypt a record's personal fields (the caller audits the read)."""
    return json.loads(ctx.keyring.decrypt(DATASET, token) or "{}")


def _canonical(record: CaseRecord) -> bytes:
    # repr of a tuple of str/int/bool/date/None is stable across runs and versions.
    return repr(_HASHED_FIELDS(record)).encode("utf-8")


class _Keys:
    """The keys of the cases dataset, unwrapped once per import.

    ``encrypt`` writes exactly the tokens of :meth:`kumin.core.crypto.Keyring.encrypt`
    (version, data-key id, nonce, AES-GCM with the dataset as associated data) but
    keeps one cipher object for the whole import: building one per field was a
    third of the import time.
    """

    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        key_id, raw = ctx.keyring._load(DATASET, create=True)  # noqa: SLF001
        self.index_key = hmac.new(raw, b"kumin-blind-index", hashlib.sha256).digest()
        self.content_key = ctx.keyring.derived_key(DATASET, "content-hash")
        self._aead = AESGCM(raw)
        self._header = crypto._HEADER.pack(crypto.VERSION, key_id)  # noqa: SLF001
        self._aad = DATASET.encode()

    def encrypt(self, value: str | None) -> bytes | None:
        if value is None:
            return None
        nonce = os.urandom(12)
        return self._header + nonce + self._aead.encrypt(nonce, value.encode("utf-8"), self._aad)

    def index(self, hersys_id: str) -> str:
        # Same value as ctx.keyring.index(DATASET, hersys_id), without a lookup per call.
        return hmac.digest(self.index_key, hersys_id.encode("utf-8"), "sha256").hex()

    def content(self, record: CaseRecord) -> str:
        return hmac.digest(self.content_key, _canonical(record), "sha256").hex()


def _dataset_exists(ctx: Ctx) -> bool:
    return (
        ctx.session.scalar(
            select(DataKey.id).where(DataKey.dataset == DATASET, DataKey.wrapped.is_not(None))
        )
        is not None
    )


def _count_lines(path: Path) -> int:
    """Lines in a file (a fast estimate of its rows, for the progress bar)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return 1
    count = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def _profile_dirs(ctx: Ctx) -> list[str]:
    return [str(ctx.settings.profile_dir)] if ctx.settings.profile_dir else []


def _validated_chunks(
    ctx: Ctx,
    path: Path,
    profile: str,
    encoding: str,
    progress: Progress,
    today: dt.date | None,
) -> tuple[Any, Iterator[list[CaseRecord]], int]:
    """Pass 1 over the whole file; returns (summary, chunk iterator for pass 2, total rows)."""
    size = path.stat().st_size
    expected = max(_count_lines(path) - 1, 1) if progress is not None else 1

    def tick1(done: int) -> None:
        if progress is not None:
            progress(done, 2 * max(done, expected))

    options = {
        "encoding": encoding,
        "today": today,
        "profile_dirs": _profile_dirs(ctx),
        "on_progress": tick1,
    }
    if size <= IN_MEMORY_BYTES:
        result = parse.parse_cases(path, profile, **options)
        records = result.records

        def chunks() -> Iterator[list[CaseRecord]]:
            for start in range(0, len(records), CHUNK):
                yield records[start : start + CHUNK]

        return result, chunks(), result.rows
    check = parse.check_case_file(path, profile, **options)
    return check, parse.iter_case_chunks(check, CHUNK), check.rows


def import_cases(
    ctx: Ctx,
    path: str | os.PathLike[str],
    profile: str = "hersys",
    *,
    encoding: str = "auto",
    dry_run: bool = False,
    file_name: str | None = None,
    progress: Progress = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Import a notification file (CSV or .xlsx) all-or-nothing.

    Raises ``DataError("cases.import.rejected", problems=[...])`` listing every
    error, with the warnings in ``.warnings``, before writing anything.
    ``progress(done, total)`` is called during both passes (total = 2 × rows).
    """
    ctx.authorize("cases.import")
    path = Path(path)
    name = file_name or path.name
    summary, chunks, rows = _validated_chunks(ctx, path, profile, encoding, progress, today)
    profile_name = summary.profile if isinstance(summary.profile, str) else summary.profile.name
    result = ImportResult(
        file_name=name,
        profile=profile_name,
        encoding=summary.encoding,
        rows=rows,
        records=summary.records if isinstance(summary.records, int) else len(summary.records),
        dry_run=dry_run,
        warnings=list(summary.warnings),
    )
    if dry_run and not _dataset_exists(ctx):
        result.inserted = result.records  # nothing stored yet: every record would be new
        return result
    keys = _Keys(ctx)
    run = None
    if not dry_run:
        run = ImportRun(
            actor=ctx.actor.name,
            file_name=name[:255],
            file_sha256=file_sha256(path),
            profile=profile_name,
            encoding=result.encoding,
            rows=rows,
            records=result.records,
            warnings=len(result.warnings),
        )
        ctx.session.add(run)
        ctx.session.flush()
        result.import_id = run.id
    done = 0
    for chunk in chunks:
        _write_chunk(ctx, keys, chunk, run, result)
        done += len(chunk)
        if progress is not None:
            progress(rows + done * rows // max(result.records, 1), 2 * rows)
    if run is not None:
        run.inserted, run.updated, run.unchanged = result.inserted, result.updated, result.unchanged
        run.finished_at = utcnow()
        ctx.audit(
            "cases.import",
            f"cases_import:{run.id}",
            purpose="notification records",
            file=name,
            profile=profile_name,
            records=result.records,
            **result.counts(),
        )
    return result


_CLEAR = operator.attrgetter(*CLEAR_FIELDS)


def _encrypt_row(keys: _Keys, record: CaseRecord) -> dict[str, Any]:
    row: dict[str, Any] = dict(zip(CLEAR_FIELDS, _CLEAR(record), strict=True))
    row["personal"] = keys.encrypt(personal_json(record))
    return row


def _insert_values(
    keys: _Keys, record: CaseRecord, index: str, content: str, tail: tuple, sqlite: bool
) -> tuple:
    """One row for :func:`_insert_many`, in the order of :data:`_INSERT_COLUMNS`."""
    clear = _CLEAR(record)
    if sqlite:  # SQLAlchemy stores dates as ISO text in SQLite
        clear = tuple(v.isoformat() if type(v) is dt.date else v for v in clear)
    return (index, content, keys.encrypt(personal_json(record)), *clear, *tail)


def _write_chunk(
    ctx: Ctx, keys: _Keys, chunk: list[CaseRecord], run: ImportRun | None, result: ImportResult
) -> None:
    indexed = [(keys.index(r.hersys_id), r) for r in chunk]
    existing = dict(
        ctx.session.execute(
            select(CaseRow.hersys_index, CaseRow.content_hash).where(
                CaseRow.hersys_index.in_([i for i, _ in indexed])
            )
        ).all()
    )
    new_rows = []
    now = utcnow()
    sqlite = ctx.session.get_bind().dialect.name == "sqlite"
    tail = (run.id if run else None, now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now)
    for index, record in indexed:
        content = keys.content(record)
        old = existing.get(index)
        if old is None:
            result.inserted += 1
            if run is not None:
                new_rows.append(_insert_values(keys, record, index, content, tail, sqlite))
        elif old == content:
            result.unchanged += 1
        else:
            result.updated += 1
            if run is not None:
                _update(ctx, keys, index, record, content, run, now)
    if new_rows:
        _insert_many(ctx, new_rows)


_INSERT_COLUMNS = (
    "hersys_index",
    "content_hash",
    "personal",
    *CLEAR_FIELDS,
    "import_id",
    "created_at",
)


def _insert_many(ctx: Ctx, rows: list[tuple]) -> None:
    """One driver-level executemany per chunk.

    SQLAlchemy's per-value type processing cost more than the database itself
    here; the values are already what the driver takes (bytes, int, bool, str,
    dates — as ISO text for SQLite, which is how SQLAlchemy stores them there).
    """
    conn = ctx.session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {CaseRow.__tablename__} ({', '.join(_INSERT_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(_INSERT_COLUMNS))})"
    )
    conn.exec_driver_sql(sql, rows)


def _update(
    ctx: Ctx,
    keys: _Keys,
    index: str,
    record: CaseRecord,
    content: str,
    run: ImportRun,
    now: dt.datetime,
) -> None:
    row = ctx.session.scalar(select(CaseRow).where(CaseRow.hersys_index == index))
    changed = [f for f in CLEAR_FIELDS if getattr(row, f) != getattr(record, f)]
    old = read_personal(ctx, row.personal)
    new = json.loads(personal_json(record))
    changed += [f for f in ENCRYPTED_FIELDS if old.get(f) != new.get(f)]
    values = _encrypt_row(keys, record)
    values.update(content_hash=content, updated_import_id=run.id, updated_at=now)
    ctx.session.execute(update(CaseRow).where(CaseRow.id == row.id).values(**values))
    ctx.audit(
        "cases.update",
        f"case:{row.id}",
        purpose="re-import",
        import_id=run.id,
        fields=sorted(changed),
    )
