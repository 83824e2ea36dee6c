"""Operation logs into the database and back out as the rules' event frame.

:func:`import_log` reads a log with :func:`kumin.oplog.logs.read_log` (every bad
line named, nothing written), stores each distinct resident reference once,
encrypted, under a blind index, and the events with that index in its place, in
driver-level batches. A file whose checksum was imported before is skipped.

:func:`load_events` reads the stored events back into the frame the rules take,
``subject`` holding the blind index: the rules only compare references, so they
never need the values. :func:`audit_events` turns kumin's own audit trail (reads
of personal data by its users) into events of the same shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import zoneinfo
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, select

from kumin.core.context import Ctx
from kumin.core.imports import ImportResult, Progress, file_sha256
from kumin.core.models import AuditEntry
from kumin.oplog import models as m
from kumin.oplog.context import (
    Department,
    GovernanceContext,
    LedgerVersion,
    Terminal,
    Thresholds,
)
from kumin.oplog.logs import EVENT_SCHEMA, empty_events, read_log
from kumin.oplog.profiles import DEFAULT as DEFAULT_PROFILE
from kumin.oplog.profiles import load_profile

BATCH = 5000
#: the ward's wall clock: audit entries are stored in UTC, logs in local time
LOCAL_TZ = zoneinfo.ZoneInfo("Asia/Tokyo")
_COLUMNS = ("file_id", "line", "ts", "terminal_id", "operator_id", "action", "subject_index")
_COLUMNS += ("function",)


def subject_indexer(ctx: Ctx) -> Callable[[str], str]:
    """The blind index of resident references: HMAC-SHA256 under a key derived
    from the ``oplog`` data key (so it dies with that key).

    The same construction as :meth:`kumin.core.crypto.Keyring.index`, with the
    HMAC key derived once: a year of logs names about 90,000 residents, and
    deriving the key per value cost more than the import's database writes.
    The empty reference (logins) stays empty.
    """
    base = hmac.new(ctx.keyring.derived_key(m.DATASET, "blind-index"), digestmod=hashlib.sha256)

    def index(value: str) -> str:
        if not value:
            return ""
        h = base.copy()
        h.update(value.encode("utf-8"))
        return h.hexdigest()

    return index


def subject_indexes(ctx: Ctx, subjects: Iterable[str]) -> dict[str, str]:
    """Blind index of each resident reference (the empty reference stays empty)."""
    index = subject_indexer(ctx)
    return {s: index(s) for s in set(subjects)}


def import_log(
    ctx: Ctx,
    path: str | os.PathLike[str],
    *,
    encoding: str = "auto",
    name: str | None = None,
    progress: Progress = None,
    profile: str = DEFAULT_PROFILE,
) -> ImportResult:
    """Import one operation log, all-or-nothing; the same file twice is harmless.

    ``profile`` names the layout (headers, operation names) the file is written
    in; see :mod:`kumin.oplog.profiles`. Raises :class:`~kumin.errors.DataError`
    naming every bad line (an unknown operation name among them) before anything
    is written.
    """
    ctx.authorize("oplog.import")
    layout = load_profile(profile)
    path = Path(path)
    name = name or path.name
    digest = file_sha256(path)
    s = ctx.session
    known = s.scalar(select(m.OplogFile).where(m.OplogFile.sha256 == digest))
    if known is not None:
        return _result(known.id, known.name, known.events, 0, known.first_ts, known.last_ts, True)
    events = read_log(path, encoding, name=name, profile=layout)
    total = events.height
    if progress:
        progress(0, total)

    subjects = events.get_column("subject").unique().to_list()
    mapping = subject_indexes(ctx, subjects)
    stored: set[str] = set()
    wanted = [i for i in mapping.values() if i]
    for k in range(0, len(wanted), BATCH):
        chunk = wanted[k : k + BATCH]
        stored.update(
            s.scalars(
                select(m.OplogSubject.subject_index).where(m.OplogSubject.subject_index.in_(chunk))
            )
        )
    encrypt = ctx.keyring.encrypt
    new = [(i, encrypt(m.DATASET, v)) for v, i in mapping.items() if i and i not in stored]
    conn = s.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    for k in range(0, len(new), BATCH):
        conn.exec_driver_sql(
            f"INSERT INTO oplog_subjects (subject_index, value) VALUES ({mark}, {mark})",
            new[k : k + BATCH],
        )

    first = events.get_column("ts").min() if total else None
    last = events.get_column("ts").max() if total else None
    row = m.OplogFile(
        name=name,
        sha256=digest,
        events=total,
        first_ts=first,
        last_ts=last,
        imported_by=ctx.actor.name,
    )
    s.add(row)
    s.flush()

    sqlite = conn.dialect.name == "sqlite"
    keyed = events.join(
        pl.DataFrame(
            {"subject": list(mapping), "subject_index": list(mapping.values())},
            schema={"subject": pl.String, "subject_index": pl.String},
        ),
        on="subject",
        how="left",
        maintain_order="left",
    ).select(
        pl.lit(row.id).alias("file_id"),
        pl.col("line").cast(pl.Int64),
        pl.col("ts").dt.strftime("%Y-%m-%d %H:%M:%S.%6f") if sqlite else pl.col("ts"),
        *(pl.col(c).cast(pl.String) for c in ("terminal_id", "operator_id", "action")),
        pl.col("subject_index").fill_null(""),
        pl.col("function").cast(pl.String),
    )
    sql = (
        f"INSERT INTO oplog_events ({', '.join(_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(_COLUMNS))})"
    )
    done = 0
    if conn.dialect.name == "postgresql":
        # COPY streams rows in the same transaction: several times faster than
        # executemany for millions of lines, and still all-or-nothing.
        raw = conn.connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY oplog_events ({', '.join(_COLUMNS)}) FROM STDIN") as copy,
        ):
            for part in keyed.iter_slices(BATCH):
                for r in part.iter_rows():
                    copy.write_row(r)
                done += part.height
                if progress:
                    progress(done, total)
    else:
        for part in keyed.iter_slices(BATCH):
            conn.exec_driver_sql(sql, part.rows())
            done += part.height
            if progress:
                progress(done, total)
    ctx.audit(
        "oplog.import",
        f"oplog_file:{row.id}",
        purpose="operation-log analysis",
        file=name,
        events=total,
        new_subjects=len(new),
        profile=layout.name,
    )
    return _result(row.id, name, total, len(new), first, last, False, layout.name)


def _result(
    file_id: int,
    name: str,
    events: int,
    new_subjects: int,
    first: dt.datetime | None,
    last: dt.datetime | None,
    already: bool,
    profile: str = "",
) -> ImportResult:
    result = ImportResult.counted(events, 0 if already else events)
    result.file_name, result.profile, result.already = name, profile, already
    result.import_id, result.first, result.last = file_id, first, last
    result.extra.update(events=events, new_subjects=new_subjects)
    return result


def list_files(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.authorize("oplog.import")
    return [
        {
            "id": f.id,
            "name": f.name,
            "events": f.events,
            "first": f.first_ts,
            "last": f.last_ts,
            "imported_at": f.imported_at,
            "imported_by": f.imported_by,
        }
        for f in ctx.session.scalars(select(m.OplogFile).order_by(m.OplogFile.id))
    ]


def count_events(ctx: Ctx, start: dt.datetime | None = None, end: dt.datetime | None = None) -> int:
    q = select(func.count()).select_from(m.OplogEvent)
    if start is not None:
        q = q.where(m.OplogEvent.ts >= start)
    if end is not None:
        q = q.where(m.OplogEvent.ts < end)
    return int(ctx.session.scalar(q) or 0)


def load_events(
    ctx: Ctx,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    *,
    progress: Progress = None,
) -> pl.DataFrame:
    """Stored events with ``start <= ts < end`` as the rules' frame, in time order.

    ``subject`` is the blind index of the resident reference. Rows are fetched
    in batches straight from the driver and turned into frames batch by batch.
    """
    total = count_events(ctx, start, end)
    conn = ctx.session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    where, params = [], []
    if start is not None:
        where.append(f"e.ts >= {mark}")
        params.append(start)
    if end is not None:
        where.append(f"e.ts < {mark}")
        params.append(end)
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        params = [p.strftime("%Y-%m-%d %H:%M:%S.%f") for p in params]
    sql = (
        "SELECT e.ts, e.terminal_id, e.operator_id, e.action, e.subject_index, e.function,"
        " f.name, e.line FROM oplog_events e JOIN oplog_files f ON f.id = e.file_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY e.ts, e.file_id, e.line"
    )
    names = ["ts", "terminal_id", "operator_id", "action", "subject", "function", "file", "line"]
    raw_schema = {n: pl.String for n in names} | {"line": pl.Int64}
    if not sqlite:
        raw_schema["ts"] = pl.Datetime("us")
    frames: list[pl.DataFrame] = []
    result = conn.exec_driver_sql(sql, tuple(params))
    done = 0
    while rows := result.fetchmany(50_000):
        df = pl.DataFrame(rows, schema=raw_schema, orient="row")
        if sqlite:
            df = df.with_columns(
                pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
            )
        frames.append(df.cast(EVENT_SCHEMA))  # type: ignore[arg-type]
        done += df.height
        if progress:
            progress(done, total)
    if not frames:
        return empty_events()
    return pl.concat(frames)


# ------------------------------------------------------------- kumin's own trail

#: audit actions that read or release personal data (kumin's own "lookups")
PERSONAL_READ_SUFFIXES = ("read", "download", "reveal", "subject_read")
KUMIN_DEPARTMENT = "kumin"
KUMIN_TERMINALS = ("kumin-web", "kumin-cli")
#: the rules that make sense over kumin's own trail (no ledger, reservations or
#: resident references there: users are authorised by their role)
AUDIT_RULES = ("off_hours", "volume_spike")


def is_personal_read(action: str) -> bool:
    return not action.startswith(("audit.", "auth.")) and action.endswith(PERSONAL_READ_SUFFIXES)


def audit_events(entries: Iterable[dict[str, Any]], file: str = "audit_log") -> pl.DataFrame:
    """kumin's audit entries (dicts with ``seq, ts, actor, action, object, purpose,
    outcome, details``) as operation-log events.

    Each successful read of personal data by a user becomes a ``view`` event:
    operator = the kumin user, terminal = ``kumin-web`` or ``kumin-cli`` (the
    source of the user's latest sign-in before it), subject = the object
    reference, function = the purpose given (else the action), file and line =
    ``audit_log`` and the entry's sequence number, ts = the entry's time on the
    ward's wall clock.

    Examples
    --------
    >>> rows = [{"seq": 1, "ts": "2021-06-01T00:00:00+00:00", "actor": "sato",
    ...          "action": "auth.login", "object": "", "purpose": "", "outcome": "ok",
    ...          "details": {"source": "web"}},
    ...         {"seq": 2, "ts": "2021-06-01T13:30:00+00:00", "actor": "sato",
    ...          "action": "cases.read", "object": "case:7", "purpose": "follow-up",
    ...          "outcome": "ok", "details": {}}]
    >>> audit_events(rows).select("ts", "terminal_id", "subject", "line").row(0)
    (datetime.datetime(2021, 6, 1, 22, 30), 'kumin-web', 'case:7', 2)
    """
    last_source: dict[str, str] = {}
    cols: dict[str, list[Any]] = {c: [] for c in EVENT_SCHEMA}
    for e in entries:
        details = e.get("details") or {}
        if isinstance(details, str):
            details = json.loads(details or "{}")
        actor = e["actor"]
        if e["action"] == "auth.login":
            last_source[actor] = str(details.get("source") or "cli")
            continue
        if e.get("outcome") != "ok" or actor == "system" or not is_personal_read(e["action"]):
            continue
        ts = e["ts"]
        if isinstance(ts, str):
            ts = dt.datetime.fromisoformat(ts)
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=dt.UTC)
        cols["ts"].append(ts.astimezone(LOCAL_TZ).replace(tzinfo=None))
        cols["terminal_id"].append(f"kumin-{last_source.get(actor, 'cli')}")
        cols["operator_id"].append(actor)
        cols["action"].append("view")
        cols["subject"].append(e.get("object") or "")
        cols["function"].append(e.get("purpose") or e["action"])
        cols["file"].append(file)
        cols["line"].append(int(e["seq"]))
    return pl.DataFrame(cols, schema=EVENT_SCHEMA).sort("ts", maintain_order=True)


def audit_context(
    users: Iterable[str], since: dt.date, thresholds: Thresholds | None = None
) -> GovernanceContext:
    """The context kumin's own trail is judged against: one department (normal
    hours, weekdays), its two "terminals", every user listed since ``since``."""
    users = frozenset(users)
    return GovernanceContext(
        departments=(Department(KUMIN_DEPARTMENT, "kumin"),),
        terminals=tuple(Terminal(t, KUMIN_DEPARTMENT) for t in KUMIN_TERMINALS),
        ledgers=(LedgerVersion(KUMIN_DEPARTMENT, since, users),),
        applications=(),
        thresholds=thresholds or Thresholds(),
    )


def load_audit_events(
    ctx: Ctx, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> pl.DataFrame:
    """kumin's own audit trail of the period (local times) as events."""
    q = select(AuditEntry).order_by(AuditEntry.seq)
    # a day of margin each side: entries are UTC, the period is local time
    if start is not None:
        q = q.where(AuditEntry.ts >= (start - dt.timedelta(days=1)).isoformat())
    if end is not None:
        q = q.where(AuditEntry.ts < (end + dt.timedelta(days=1)).isoformat())
    rows = (
        {
            "seq": e.seq,
            "ts": e.ts,
            "actor": e.actor,
            "action": e.action,
            "object": e.object,
            "purpose": e.purpose,
            "outcome": e.outcome,
            "details": e.details,
        }
        for e in ctx.session.scalars(q.execution_options(yield_per=BATCH))
    )
    events = audit_events(rows)
    if start is not None:
        events = events.filter(pl.col("ts") >= start)
    if end is not None:
        events = events.filter(pl.col("ts") < end)
    return events
