"""Every page of every role, in Japanese, says what it says in Japanese (#14).

A ward filled in every domain is walked link by link as each role sees it; a
page fails on a ``\\u`` escape (raw JSON), ``None``/``True``/``False``, a snake_case
identifier or an English word outside :data:`tests.web.japanese_walk.ALLOWED`.
Raw values that are the record itself (log lines, file column names, the audit
trail's action codes) are set in ``<code>`` and not read as UI text.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from tests.conftest import actor_for
from tests.web.japanese_walk import walk

from kumin.core.context import context


@pytest.fixture
def fresh_db(sqlite_db):
    # what a page says does not depend on the storage backend
    return sqlite_db


@pytest.fixture
def ward(users, tmp_path):
    """A little of everything: cases, calls, cards, Juki-net records, a scanned log."""
    from tests.oplog._db import acting, load_records, write_log
    from tests.oplog._ward import make_events, ward_context
    from tests.oplog.test_storage import CHECKLIST, ROWS

    from kumin.cards import service as cards
    from kumin.cases.service import import_cases
    from kumin.core.tabular import atomic_write_bytes
    from kumin.oplog import service as oplog
    from kumin.resources import service as resources
    from kumin.synth.cases import synth_cases, write_cases_csv
    from kumin.synth.resources import call_centre_days, frame_csv_bytes

    settings = users.settings
    epi = actor_for(users, "epidemiologist")
    with context(settings, epi) as ctx:
        import_cases(ctx, write_cases_csv(synth_cases(seed=4, n=400), tmp_path / "cases.csv"))
        days = call_centre_days(seed=5).filter(
            pl.col("date").is_between(dt.date(2020, 3, 1), dt.date(2020, 5, 31))
        )
        calls = tmp_path / "calls.csv"
        atomic_write_bytes(calls, frame_csv_bytes(days))
        resources.import_calls(ctx, calls)
    load_records(settings, ward_context(checklist=CHECKLIST), tmp_path)
    with acting(settings, "auditor") as ctx:
        oplog.import_log(ctx, write_log(make_events(ROWS), tmp_path / "log.csv"))
        oplog.run_scan(ctx)
    with context(settings, actor_for(users, "records_officer")) as ctx:
        for i, name in enumerate(("世田 太郎", "北沢 花子")):
            cards.register_resident(ctx, 3001 + i, name, dt.date(1980, 1, 2), "世田谷区砧1丁目")
            cards.apply(ctx, 3001 + i, "web", dt.datetime(2022, 4, 4, 11, 0))
    return users


def test_every_page_of_every_role_is_japanese(ward, app_client):
    report = []
    for role, name in sorted(ward.by_role.items()):
        app_client.login(name)

        def get(url):
            r = app_client.get(url, follow_redirects=True)
            return r.status_code, r.headers.get("content-type", ""), r.text

        seen, found = walk(get, limit=120, per_pattern=2)
        assert len(seen) >= 3, role
        report += [f"{role} {url}: {kind} {text!r}" for url, kind, text in found]
        app_client.logout()
    assert not report, "\n".join(sorted(set(report)))
