"""Heavy reports computed once per change of their data, not once per view.

The yearly security report reads every card and Juki-net record (seconds on a
ward's data); dozens of staff open it. :func:`cached` keeps its content in the
``report_snapshots`` table under a *fingerprint* of the tables it reads (row
count, highest key and latest ``updated_at`` of each): while no row of those
tables changes, every view — on any worker or machine — is served from the
stored snapshot; a closed fiscal year's report, whose data no longer change, is
therefore its stored snapshot. Only aggregates are stored (no personal values).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kumin.core.db import Base, utcnow
from kumin.core.models import ReportSnapshot


def tables_with_prefix(*prefixes: str) -> list[Table]:
    return [t for name, t in sorted(Base.metadata.tables.items()) if name.startswith(prefixes)]


def fingerprint(session: Session, tables: list[Table]) -> str:
    """Changes whenever a row of ``tables`` is added, removed or (where the table
    keeps ``updated_at``) changed; cheap: one aggregate query per table."""
    parts: list[Any] = []
    for table in tables:
        cols = [func.count()]
        pk = list(table.primary_key.columns)
        if len(pk) == 1:
            cols.append(func.max(pk[0]))
        if "updated_at" in table.c:
            cols.append(func.max(table.c.updated_at))
        parts.append([table.name, *session.execute(select(*cols).select_from(table)).one()])
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def cached(
    session: Session, key: str, tables: list[Table], compute: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The stored content for ``key`` if its data are unchanged, else ``compute()``d
    and stored. ``compute`` must return JSON-able data."""
    mark = fingerprint(session, tables)
    row = session.get(ReportSnapshot, key)
    if row is not None and row.fingerprint == mark:
        return json.loads(row.body)
    body = compute()
    data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
    try:
        with session.begin_nested():  # two workers may compute it at once: first one wins
            if row is None:
                session.add(
                    ReportSnapshot(key=key, fingerprint=mark, body=data, created_at=utcnow())
                )
            else:
                row.fingerprint, row.body, row.created_at = mark, data, utcnow()
    except IntegrityError:
        pass
    return json.loads(data)
