"""The ward both Japanese walks read: a little of every domain's data."""

from __future__ import annotations

import datetime as dt

import polars as pl
from tests.conftest import actor_for

from kumin.core.context import context


def seed_ward(users, tmp_path):
    """A little of everything: cases, calls, cards, Juki-net records, a scanned log.

    ``users`` are :func:`tests.conftest.make_users` accounts; the in-process walk and
    the browser walk (tests/e2e/test_japanese_walk.py) read the same ward.
    """
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
