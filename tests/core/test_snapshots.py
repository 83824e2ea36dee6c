"""Heavy reports are computed once per change of their data (both databases)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from tests.conftest import actor_for

from kumin.core import snapshots
from kumin.core.context import context
from kumin.core.models import ReportSnapshot
from kumin.juki import models as jm
from kumin.reports.security import render_report, security_report


def test_a_snapshot_lasts_until_its_data_change(users):
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    tables = snapshots.tables_with_prefix("juki_")
    officer = actor_for(users, "records_officer")
    for _ in range(3):
        with context(users.settings, officer) as ctx:
            assert snapshots.cached(ctx.session, "k", tables, compute) == {"n": 1}
    with context(users.settings, officer) as ctx:
        ctx.session.add(
            jm.JukiDepartment(
                code="99", name="テスト課", open=dt.time(8, 30), close=dt.time(17, 15)
            )
        )
    with context(users.settings, officer) as ctx:
        assert snapshots.cached(ctx.session, "k", tables, compute) == {"n": 2}
        assert ctx.session.scalar(select(func.count()).select_from(ReportSnapshot)) == 1


def test_the_security_report_is_served_from_its_snapshot(users):
    officer = actor_for(users, "records_officer")
    with context(users.settings, officer) as ctx:
        first = security_report(ctx, 2021)
        keys = list(ctx.session.scalars(select(ReportSnapshot.key)))
    assert keys and all("FY2021" in k and k.endswith(":closed") for k in keys)
    with context(users.settings, officer) as ctx:
        again = security_report(ctx, 2021)
    assert again.to_dict() == first.to_dict()
    for fmt in ("json", "csv", "html"):
        assert render_report(again, fmt)[0] == render_report(first, fmt)[0]
