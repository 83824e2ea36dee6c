"""``governance_context`` built from the database equals the context the synthetic
generator made the same records from, and the oplog rules run on it."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from tests.juki._helpers import D, acting, load_synth, synth_ward

from kumin.errors import ParameterError, PermissionDenied
from kumin.oplog.context import GovernanceContext
from kumin.oplog.governance import governance_context
from kumin.oplog.scan import scan


def _whole_seconds(rows):
    """Files carry whole seconds; the generator keeps microseconds."""
    out = set()
    for r in rows:
        values = {
            f.name: (
                v.replace(microsecond=0) if hasattr(v, "microsecond") and hasattr(v, "hour") else v
            )
            for f in dataclasses.fields(r)
            for v in [getattr(r, f.name)]
        }
        out.add(type(r)(**values))
    return out


def _records(ctx: GovernanceContext) -> pl.DataFrame:
    return ctx.business_records.unique().sort(pl.all())


def test_context_from_the_database_equals_the_generators(fresh_db, tmp_path):
    synth = synth_ward()
    load_synth(fresh_db, tmp_path, synth)
    with acting(fresh_db, "auditor") as ctx:
        got = governance_context(ctx)
    want = synth.context
    assert got.departments == want.departments
    assert set(got.terminals) == set(want.terminals)
    assert sorted(got.ledgers, key=repr) == sorted(want.ledgers, key=repr)
    assert set(got.applications) == set(want.applications)
    assert set(got.reservations) == _whole_seconds(want.reservations)
    assert set(got.usage_records) == _whole_seconds(want.usage_records)
    assert set(got.checklist) == set(want.checklist)
    assert got.watchlist == want.watchlist
    assert _records(got).equals(_records(want))
    assert got.ledger_intervals.sort(pl.all()).equals(want.ledger_intervals.sort(pl.all()))
    # the rules give the same alerts on either context
    events = synth.events
    a = [(x.rule, x.operator_id, x.terminal_id, x.subject) for x in scan(events, got)]
    b = [(x.rule, x.operator_id, x.terminal_id, x.subject) for x in scan(events, want)]
    assert sorted(a) == sorted(b)


def test_period_limits_the_context_but_keeps_earlier_ledgers(fresh_db, tmp_path):
    synth = synth_ward()
    load_synth(fresh_db, tmp_path, synth)
    lo, hi = D(2021, 1, 20), D(2021, 1, 31)
    with acting(fresh_db, "auditor") as ctx:
        got = governance_context(ctx, lo, hi)
    assert got.checklist and all(lo <= c.date <= hi for c in got.checklist)
    assert all(lo - D.resolution <= r.start.date() <= hi + D.resolution for r in got.reservations)
    assert {v.effective for v in got.ledgers} == {D(2020, 4, 1)}  # the April 2021 one is later
    window = got.thresholds.record_window_days + 1
    days = got.business_records["date"]
    assert days.min() >= lo - D.resolution * window and days.max() <= hi + D.resolution * window


def test_only_the_analysis_may_read_it(fresh_db, tmp_path):
    with acting(fresh_db, "terminal_manager") as ctx, pytest.raises(PermissionDenied):
        governance_context(ctx)
    with acting(fresh_db, "auditor") as ctx, pytest.raises(ParameterError):
        governance_context(ctx, action="juki.read")
