"""The demo's synthetic year, whose three records of the same inquiries agree.

A ward's section 4 (identity inquiries by business), the usage records of its shared
terminals and its operation logs record the same lookups, so the reconciliation of
the security report (:mod:`kumin.oplog.reconcile`) finds only what went wrong. The
demo's year is made so: section 4's inquiries are drawn first
(:func:`kumin.synth.cards.synthetic_inquiries`: the source report's totals per
business and fiscal year), their monthly counts per department are the lookups the
log generator makes those departments do (:func:`kumin.synth.oplog.synth_oplog`,
``cases_per_month``), and every inquiry inside the logs' period is then one lookup
case of the logs: its day, its operator (listed in the department's ledger that
day), one business of the department. Inquiries before the logs begin (FY2020 up
to February 2021) keep their day and get an operator of the ledger in force.

What still differs is what the generator injected: misuse in the logs (a terminal
used outside a reservation, a function without approval, a resident looked up
without business, an operator no ledger lists), which the oplog rules find.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from kumin.cards.records import conform
from kumin.oplog.logs import LOOKUP_ACTIONS
from kumin.synth.cards import synthetic_inquiries
from kumin.synth.oplog import SynthOplog, synth_oplog

#: the logs cover FY2021 whole and the month before it (the April transfer inside)
LOG_START = dt.date(2021, 3, 1)
LOG_END = dt.date(2022, 3, 31)

#: section 4's businesses → the synthetic ward's Juki-net department making their
#: inquiries: the one holding the usage application for the function where one does
#: (後期高齢 and 福祉資金貸付 at 高齢福祉課, 予防接種 at 保健福祉課), else the function
#: list's department. 公的給付 (the FY2021 special benefits) is 子ども家庭課's, and the
#: ten inquiries the report counts but does not itemise are 課税課's: the generator's
#: choices, as the report names no department for them.
BUSINESS_DEPARTMENTS = {
    "residential_tax": "D08",
    "national_health_insurance": "D09",
    "long_term_care": "D10",
    "late_stage_elderly": "D15",
    "public_assistance": "D11",
    "child_allowance": "D12",
    "child_rearing_allowance": "D12",
    "special_child_rearing_allowance": "D12",
    "welfare_loans": "D15",
    "immunisation": "D14",
    "elections": "D13",
    "public_benefits": "D12",
    "not_itemised": "D08",
}


@dataclass(frozen=True)
class DemoYear:
    """The demo's logs with their governance records, and section 4's inquiries."""

    synth: SynthOplog
    inquiries: pl.DataFrame  # the cards "inquiries" frame, FY2020 and FY2021


@lru_cache(maxsize=2)
def demo_year(seed: int) -> DemoYear:
    """The demo's year for ``seed`` (the log generator runs with ``seed % 1000``: the
    demo's default seed 20220826 finds no operator leaving at the April transfer to
    inject its first incident from; 826 does)."""
    plan = synthetic_inquiries(seed).with_columns(
        pl.col("function").replace_strict(BUSINESS_DEPARTMENTS).alias("code")
    )
    logged = plan.filter(pl.col("date").is_between(LOG_START, LOG_END))
    targets = {
        (code, month): n
        for code, month, n in logged.group_by("code", pl.col("date").dt.strftime("%Y-%m"))
        .len()
        .iter_rows()
    }
    synth = synth_oplog(
        seed=seed % 1000,
        start=LOG_START,
        days=(LOG_END - LOG_START).days + 1,
        cases_per_month=targets,
    )
    return DemoYear(synth, coherent_inquiries(plan, synth, seed))


def lookup_cases(synth: SynthOplog) -> pl.DataFrame:
    """The generator's own lookup cases (misuse left out): one per operator, resident
    and day, with the department whose ledger lists the operator that day."""
    ledger = synth.context.ledger_intervals.with_columns(
        pl.col("department", "operator_id").cast(pl.String)
    )
    injected = [
        n for i in synth.incidents if i.kind != "unsecured_terminal" for n in i.lines
    ]  # (an unsecured terminal's lines are ordinary use of it)
    return (
        synth.events.filter(
            ~pl.col("line").is_in(injected)
            & pl.col("action").cast(pl.String).is_in(LOOKUP_ACTIONS)
            & (pl.col("subject") != "")
        )
        .select(
            pl.col("ts").dt.date().alias("date"),
            pl.col("operator_id").cast(pl.String),
            pl.col("subject").cast(pl.String),
        )
        .unique()
        .join(ledger, on="operator_id")
        .filter(
            (pl.col("listed_from") <= pl.col("date"))
            & (pl.col("listed_to").is_null() | (pl.col("date") < pl.col("listed_to")))
        )
        .select("date", pl.col("department").alias("code"), "operator_id", "subject")
    )


def coherent_inquiries(plan: pl.DataFrame, synth: SynthOplog, seed: int) -> pl.DataFrame:
    """Section 4's inquiries made of the logs' lookup cases (see the module docstring).

    ``plan`` is section 4 with a ``code`` column (the department making each
    inquiry); its counts per department and month inside the logs' period must be
    the logs' (``synth`` made with them as ``cases_per_month``).
    """
    rng = np.random.default_rng((seed, 5))
    names = {d.code: d.name for d in synth.context.departments}
    month = pl.col("date").dt.strftime("%Y-%m").alias("month")
    inside = plan.filter(pl.col("date").is_between(LOG_START, LOG_END))
    # the businesses of a department-month in random order, one per lookup case
    functions = (
        inside.with_columns(month, pl.Series("r", rng.random(inside.height)))
        .sort("code", "month", "r")
        .select(
            "code", "month", "function", pl.int_range(pl.len()).over("code", "month").alias("k")
        )
    )
    cases = (
        lookup_cases(synth)
        .filter(pl.col("code").is_in(plan["code"].unique().implode()))
        .with_columns(month)
        .sort("code", "month", "date", "operator_id", "subject")
        .with_columns(pl.int_range(pl.len()).over("code", "month").alias("k"))
    )
    logged = cases.join(functions, on=["code", "month", "k"], how="full", coalesce=True)
    if logged["function"].null_count() or logged["date"].null_count():
        raise AssertionError("the logs' lookups are not section 4's (cases_per_month)")
    # before the logs: an operator of the department's ledger in force that day
    ledger = synth.context.ledger_intervals.with_columns(
        pl.col("department", "operator_id").cast(pl.String)
    )
    before = plan.filter(pl.col("date") < LOG_START).with_row_index("_row")
    staffed = (
        before.join(ledger.rename({"department": "code"}), on="code")
        .filter(
            (pl.col("listed_from") <= pl.col("date"))
            & (pl.col("listed_to").is_null() | (pl.col("date") < pl.col("listed_to")))
        )
        .sort("_row", "operator_id")
    )
    staffed = (
        staffed.with_columns(pl.Series("r", rng.random(staffed.height)))
        .sort("_row", "r")
        .group_by("_row", maintain_order=True)
        .first()
    )
    if staffed.height != before.height:
        raise AssertionError("a department with nobody in its ledger before the logs")
    columns = ("date", "code", "function", "operator_id")
    rows = pl.concat([staffed.select(columns), logged.select(columns)])
    return conform(
        rows.select(
            "date",
            pl.col("code").replace_strict(names).alias("department"),
            "function",
            pl.col("operator_id").alias("operator"),
        ).sort("date", "department", "function", "operator"),
        "inquiries",
    )
