"""The reconciliation on the demo's synthetic year (kumin.synth.demo_year: section 4's
inquiries, the usage records and about 270,000 log lines, March 2021 to March 2022):
the differences are exactly the generator's injected misuse, counted case by case
from the incidents' labelled lines, and the only operators no ledger lists are the
injected ones, which the oplog rules raise."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from kumin.cards.figures import fiscal_year, inquiry_figures
from kumin.cards.records import CardRecords, inquiry_functions
from kumin.oplog.logs import LOOKUP_ACTIONS
from kumin.oplog.reconcile import (
    INQUIRIES_SCHEMA,
    LOOKUPS_SCHEMA,
    RESERVATIONS_SCHEMA,
    USAGE_SCHEMA,
    department_codes,
    reconcile,
)
from kumin.oplog.scan import scan
from kumin.synth.card_figures import NOT_ITEMISED, NOT_ITEMISED_COUNTS, SOURCE_REPORT
from kumin.synth.demo_year import BUSINESS_DEPARTMENTS, demo_year, lookup_cases
from kumin.synth.oplog import evaluate

SEED = 20220826  # the demo's


@pytest.fixture(scope="module")
def year():
    return demo_year(SEED)


def _frames(year, drop_injected: bool = False):
    synth, ctx = year.synth, year.synth.context
    events = synth.events
    if drop_injected:
        lines = [n for i in synth.incidents if i.kind != "unsecured_terminal" for n in i.lines]
        events = events.filter(~pl.col("line").is_in(lines))
    owners = {t.terminal_id: t.department for t in ctx.terminals if t.reservation_required}
    terminals = {t.terminal_id: t.department for t in ctx.terminals if not t.reservation_required}
    usage = pl.DataFrame(
        [(u.start.date(), u.department, u.operator_id, u.inquiries) for u in ctx.usage_records],
        schema=USAGE_SCHEMA,
        orient="row",
    )
    lookups = events.filter(
        pl.col("action").cast(pl.String).is_in(LOOKUP_ACTIONS) & (pl.col("subject") != "")
    ).select(
        "ts",
        pl.col("terminal_id").cast(pl.String),
        pl.col("operator_id").cast(pl.String),
        pl.col("subject").cast(pl.String).alias("subject_index"),
    )
    reservations = pl.DataFrame(
        [(r.department, r.terminal_id, r.start, r.end) for r in ctx.reservations],
        schema=RESERVATIONS_SCHEMA,
        orient="row",
    )
    ledger = ctx.ledger_intervals.with_columns(pl.col("department", "operator_id").cast(pl.String))
    names = {d.code: d.name for d in ctx.departments}
    inquiries = department_codes(
        year.inquiries.select("date", "department", pl.col("operator").alias("operator_id")),
        names,
    ).cast(INQUIRIES_SCHEMA)
    return (
        inquiries,
        usage,
        lookups.cast(LOOKUPS_SCHEMA),
        ledger,
        reservations,
        names,
        owners,
        terminals,
    )


def _reconcile(year, drop_injected: bool = False):
    inquiries, usage, lookups, ledger, reservations, names, owners, terminals = _frames(
        year, drop_injected
    )
    return reconcile(
        2021, inquiries, usage, lookups, ledger, reservations, names, owners, terminals
    )


def test_section_4_keeps_the_source_reports_totals(year):
    """The distribution is the generator's; every figure of section 4 stays."""
    functions = inquiry_functions(extra=(NOT_ITEMISED,))
    records = CardRecords(inquiries=year.inquiries)
    for fy, i in ((2020, 0), (2021, 1)):
        rows = {r.function: r.fy for r in inquiry_figures(records, fiscal_year(fy), functions).rows}
        expected = {code: counts[i] for code, counts in SOURCE_REPORT["inquiries"].items()}
        expected[NOT_ITEMISED.code] = NOT_ITEMISED_COUNTS[i]
        assert {k: rows[k] for k in expected} == expected, fy
    # made by the Juki-net departments' own operators
    names = {d.code: d.name for d in year.synth.context.departments}
    assert set(year.inquiries["department"]) == {names[c] for c in BUSINESS_DEPARTMENTS.values()}


def test_without_the_injected_misuse_everything_agrees(year):
    result = _reconcile(year, drop_injected=True)
    assert result.checked >= 80  # eight departments, twelve months (a few quiet ones)
    assert result.differences == [] and result.unknown_operators == []
    totals = result.totals()
    assert (
        totals["inquiries"]
        == totals["lookups"]
        == sum(c[1] for c in SOURCE_REPORT["inquiries"].values()) + NOT_ITEMISED_COUNTS[1]
    )
    assert totals["usage"] == totals["shared_lookups"] > 1000
    assert (result.logs_from, result.logs_to) == (dt.date(2021, 4, 1), dt.date(2022, 3, 31))


def _injected_cases(year) -> pl.DataFrame:
    """The injected lookup cases of FY2021, each in the department the ledger (or, for
    an operator no ledger lists, the terminal) places it, counted from the labels."""
    synth, ctx = year.synth, year.synth.context
    lines = [n for i in synth.incidents if i.kind != "unsecured_terminal" for n in i.lines]
    shared = {t.terminal_id for t in ctx.terminals if t.reservation_required}
    home = {t.terminal_id: t.department for t in ctx.terminals}
    ledger = ctx.ledger_intervals.with_columns(pl.col("department", "operator_id").cast(pl.String))
    cases = (
        synth.events.filter(
            pl.col("line").is_in(lines) & pl.col("action").cast(pl.String).is_in(LOOKUP_ACTIONS)
        )
        .select(
            pl.col("ts").dt.date().alias("date"),
            pl.col("operator_id").cast(pl.String),
            pl.col("subject").cast(pl.String),
            pl.col("terminal_id").cast(pl.String),
        )
        .unique(["date", "operator_id", "subject"])
        .filter(pl.col("date") >= dt.date(2021, 4, 1))
        .with_row_index("_row")
    )
    listed = (
        cases.join(ledger, on="operator_id")
        .filter(
            (pl.col("listed_from") <= pl.col("date"))
            & (pl.col("listed_to").is_null() | (pl.col("date") < pl.col("listed_to")))
        )
        .select("_row", "department")
    )
    return cases.join(listed, on="_row", how="left").with_columns(
        pl.coalesce("department", pl.col("terminal_id").replace_strict(home)),
        pl.col("date").dt.strftime("%Y-%m").alias("month"),
        pl.col("terminal_id").is_in(list(shared)).alias("shared"),
    )


def test_the_differences_are_exactly_the_injected_misuse(year):
    result = _reconcile(year)
    inquiring = set(BUSINESS_DEPARTMENTS.values())
    injected = _injected_cases(year).filter(pl.col("department").is_in(list(inquiring)))
    expected = {
        (dept, month): (n, int(s))
        for dept, month, n, s in injected.group_by("department", "month")
        .agg(pl.len(), pl.col("shared").sum())
        .iter_rows()
    }
    got = {
        (r.department, r.month): (r.lookups - r.inquiries, r.shared_lookups - r.usage)
        for r in result.differences
    }
    assert got == expected
    # the kinds a real ward would find: a shared terminal used without a reservation,
    # a function without approval, a resident looked up without business
    assert 5 <= len(got) <= 12 and result.checked - len(got) >= 75
    assert all(r.name for r in result.differences)


def test_the_only_unknown_operators_are_injected_and_the_rules_raise_them(year):
    result = _reconcile(year)
    synth = year.synth
    unlisted = {i.operator_id for i in synth.incidents if i.kind == "unlisted_operator"}
    unknown = {u.operator_id for u in result.unknown_operators}
    assert unknown and unknown <= unlisted
    assert {u.source for u in result.unknown_operators} == {"logs"}
    alerts = scan(synth.events, synth.context)
    assert unknown <= {a.operator_id for a in alerts if a.rule == "unlisted_operator"}
    # the demo's volumes (section 4's) hide no injected incident from the rules
    assert evaluate(alerts, synth.incidents).recall == 1.0


def test_the_generators_cases_are_the_inquiries(year):
    """Inside the logs' period every inquiry is one of the generator's lookup cases."""
    cases = lookup_cases(year.synth).filter(pl.col("date") >= dt.date(2021, 3, 1))
    names = {d.code: d.name for d in year.synth.context.departments}
    inside = year.inquiries.filter(pl.col("date") >= dt.date(2021, 3, 1))
    key = ["date", "department", "operator"]
    mine = cases.filter(pl.col("code").is_in(list(set(BUSINESS_DEPARTMENTS.values()))))
    a = inside.group_by(key).len().sort(key)
    b = (
        mine.select(
            "date",
            pl.col("code").replace_strict(names).alias("department"),
            pl.col("operator_id").alias("operator"),
        )
        .group_by(key)
        .len()
        .sort(key)
    )
    assert a.equals(b)
