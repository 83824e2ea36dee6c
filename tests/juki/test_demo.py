"""The demo loads the synthetic ward and the FY2021 meetings and audits of the
report, and loading it twice changes nothing."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select
from tests.juki._helpers import D, acting

from kumin.core.context import context
from kumin.core.permissions import Actor
from kumin.juki import demo, service
from kumin.juki.models import BusinessRecord, LedgerVersion, Meeting


def _counts(settings) -> tuple[int, ...]:
    with acting(settings, "records_officer") as ctx:
        return tuple(
            ctx.session.scalar(select(func.count()).select_from(m))
            for m in (LedgerVersion, BusinessRecord, Meeting)
        )


def test_demo_twice_changes_nothing(sqlite_db):
    admin = Actor("demo-admin", "admin")
    with Progress(console=Console(quiet=True)) as progress:
        with context(sqlite_db, admin) as ctx:
            demo.load_demo(ctx, 20220826, progress)
        first = _counts(sqlite_db)
        with context(sqlite_db, admin) as ctx:
            demo.load_demo(ctx, 20220826, progress)
    assert _counts(sqlite_db) == first
    synth = demo.demo_synth(20220826)
    assert first[0] == len(synth.context.ledgers) == 30  # 15 departments, April transfer
    assert first[2] == 7
    with acting(sqlite_db, "auditor") as ctx:
        departments = service.list_departments(ctx)
        audits = service.list_audits(ctx, D(2021, 4, 1), D(2022, 3, 31))
        pending = service.list_applications(ctx, state="submitted")
    assert len(departments) == 15 and departments[0]["name"] == "住民記録・戸籍課"
    findings = [f for a in audits for f in a["findings"]]
    assert [f["finding"] for f in findings] == [demo.WIRE_FINDING]
    assert findings[0]["terminal_id"] and findings[0]["status"] == "corrected"
    assert [a["function"] for a in pending] == ["住民税"]
