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


def _mark(settings, actor, tables):
    with context(settings, actor) as ctx:
        return snapshots.fingerprint(ctx.session, tables)


def test_every_write_path_changes_the_fingerprint(users):
    """ORM, bulk executemany, raw update and delete each change the mark (both
    databases), and the mark of a tracked table is its counter, not a row count."""
    from sqlalchemy import text

    from kumin.core.models import DataVersion

    officer = actor_for(users, "records_officer")
    cards = [t for t in snapshots.tables_with_prefix("cards_") if t.name == "cards_events"]
    with context(users.settings, officer) as ctx:
        tracked = set(ctx.session.scalars(select(DataVersion.table_name)))
    assert {"cards_cards", "cards_certificates", "juki_departments", "cases_records"} <= tracked
    assert not any(name.startswith("oplog_") for name in tracked)

    marks = [_mark(users.settings, officer, cards)]
    assert marks[0] == _mark(users.settings, officer, cards)  # no change, same mark
    insert = text(
        "INSERT INTO cards_events (card_id, date, event, reason) VALUES (:c, :d, 'suspended', 'lost')"
    )
    writes = [
        # executemany, as the bulk loaders do
        (insert, [{"c": 1, "d": dt.date(2021, 5, 1)}, {"c": 2, "d": dt.date(2021, 5, 2)}]),
        (text("UPDATE cards_events SET reason = 'stolen'"), None),
        (text("DELETE FROM cards_events"), None),
    ]
    for sql, params in writes:
        with context(users.settings, officer) as ctx:
            ctx.session.execute(sql, params)
        marks.append(_mark(users.settings, officer, cards))
    assert len(set(marks)) == len(marks), "a write left the fingerprint unchanged"
    # a table count back where it started still shows as a change
    with context(users.settings, officer) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(cards[0])) == 0


def test_a_rolled_back_write_leaves_the_snapshot_valid(users):
    from sqlalchemy import text

    officer = actor_for(users, "records_officer")
    tables = snapshots.tables_with_prefix("cards_")
    before = _mark(users.settings, officer, tables)
    try:
        with context(users.settings, officer) as ctx:
            ctx.session.execute(
                text(
                    "INSERT INTO cards_events (card_id, date, event, reason) "
                    "VALUES (1, :d, 'suspended', 'lost')"
                ),
                {"d": dt.date(2021, 5, 1)},
            )
            raise RuntimeError("abandoned")
    except RuntimeError:
        pass
    assert _mark(users.settings, officer, tables) == before


def test_untracked_tables_fall_back_to_counting(users):
    """A table without a trigger (oplog here) still changes the mark when rows are added."""
    from sqlalchemy import text

    auditor = actor_for(users, "auditor")
    tables = [t for t in snapshots.tables_with_prefix("oplog_") if t.name == "oplog_settings"]
    before = _mark(users.settings, auditor, tables)
    with context(users.settings, auditor) as ctx:
        ctx.session.execute(
            text(
                "INSERT INTO oplog_settings (name, value, updated_at, updated_by) "
                "VALUES ('x', '1', :at, 'test')"
            ),
            {"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
        )
    assert _mark(users.settings, auditor, tables) != before


def test_concurrent_views_after_a_change_compute_once(users):
    """Workers meeting a stale snapshot together: one computes, the others wait for
    its result (PostgreSQL: advisory lock; SQLite: writers take turns)."""
    import threading

    officer = actor_for(users, "records_officer")
    tables = snapshots.tables_with_prefix("juki_")
    calls, results = [], []
    started = threading.Event()

    def compute():
        calls.append(1)
        started.set()
        threading.Event().wait(0.3)  # a heavy report, shortened
        return {"n": len(calls)}

    def view():
        with context(users.settings, officer) as ctx:
            results.append(snapshots.cached(ctx.session, "k2", tables, compute))

    first = threading.Thread(target=view)
    first.start()
    started.wait(5)
    others = [threading.Thread(target=view) for _ in range(3)]
    for th in others:
        th.start()
    for th in [first, *others]:
        th.join(30)
    assert len(calls) == 1 and results == [{"n": 1}] * 4
