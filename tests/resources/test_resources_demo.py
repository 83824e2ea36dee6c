"""The demo loader imports the synthetic ward through the importers, once."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select

from kumin.core import audit
from kumin.core.context import context
from kumin.core.permissions import Actor
from kumin.resources.demo import load_demo
from kumin.resources.models import CallDay, ServiceMonth


def _load(settings) -> tuple[int, int, int]:
    with (
        Progress(console=Console(file=io.StringIO())) as progress,
        context(settings, Actor("demo-admin", "admin")) as ctx,
    ):
        load_demo(ctx, seed=20220826, progress=progress)
    with context(settings, Actor("demo-admin", "admin")) as ctx:
        days = ctx.session.scalar(select(func.count()).select_from(CallDay))
        months = ctx.session.scalar(select(func.count()).select_from(ServiceMonth))
        entries = len(audit.query(ctx.session, object_prefix="centre:")) + len(
            audit.query(ctx.session, action="continuity.import")
        )
    return days, months, entries


def test_demo_loads_two_years_of_calls_and_six_years_of_counts_once(sqlite_db):
    first = _load(sqlite_db)
    assert first == (731, 8 * 72, 2)  # Feb 2020 - Jan 2022; 8 services, 2017 - 2022
    assert _load(sqlite_db) == first
    with context(sqlite_db, Actor("demo-admin", "admin")) as ctx:
        (entry,) = audit.query(ctx.session, action="calls.import")
    assert entry.actor == "demo-epi"
