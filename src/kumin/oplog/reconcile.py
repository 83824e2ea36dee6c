"""Reconciliation: three records of the same inquiries, per department and month.

A My Number department that looks residents up leaves three traces of the same
work (issue #11 item 6):

(a) the identity inquiries by business of section 4 of the security report
    (``cards_inquiries``: date, department name, function, operator);
(b) the usage record book (利用記録簿) filled after each use of a shared
    terminal (``juki_usage_records``: the number of inquiries made);
(c) the operation logs (``oplog_events``): one *lookup case* is a resident looked
    up (search, view or print) by one operator on one day, attributed to the
    department whose operator ledger in force that day lists the operator.

The three do not cover the same lookups, so two pairs are compared. Section 4
counts a department's inquiries wherever they were made — on its own terminals
and on the shared ones — so (a) is compared with the department's lookup cases
on *every* terminal (c). The usage records cover only the shared
(reservation-required) terminals used by departments other than the one they
stand in, so (b) is compared with those cases only (d). The resident-records
counters look residents up all day for work section 4 does not count (copies of
the register, moves): a department's (c) is therefore counted only if the
department makes My Number inquiries at all in the year — section 4 names it, or
it uses a shared terminal (b or d) — and is 0 otherwise.

Every department-month of the fiscal year where any figure is not zero is
checked; it agrees when (a) = (c) and (b) = (d), and those that do not are listed
with the four figures and the difference (the larger of the two). Every operator
id named in any of the records who is not in the operator ledger (操作者管理簿) in
force on that day — of the department the record names, or of any department for
the logs (every terminal) — is listed too.

Only counts, department names, months and operator ids (staff ids) come out:
the resident references of the logs are counted by their blind index and never
read. :func:`reconcile` is pure (frames in, result out); :func:`reconciliation`
reads the three records from the database. It lives in oplog because oplog
reads juki and cards, never the reverse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import select

from kumin.cards.models import Inquiry
from kumin.core.i18n import t
from kumin.juki import models as jm
from kumin.oplog import models as om
from kumin.oplog.context import GovernanceContext, LedgerVersion
from kumin.oplog.logs import LOOKUP_ACTIONS
from kumin.reports.render import date_label, fiscal_year_label
from kumin.reports.security import ReportSection, ReportTable, add_section_provider, check_fy

#: the three records, in the order the report prints them
SOURCES = ("inquiries", "usage", "logs")
#: lookups in the logs whose operator no ledger lists, and no reservation places
UNATTRIBUTED = ""

INQUIRIES_SCHEMA = {"date": pl.Date, "department": pl.String, "operator_id": pl.String}
USAGE_SCHEMA = {
    "date": pl.Date,
    "department": pl.String,
    "operator_id": pl.String,
    "inquiries": pl.Int64,
}
LOOKUPS_SCHEMA = {
    "ts": pl.Datetime("us"),
    "terminal_id": pl.String,
    "operator_id": pl.String,
    "subject_index": pl.String,
}
LEDGER_SCHEMA = {
    "department": pl.String,
    "operator_id": pl.String,
    "listed_from": pl.Date,
    "listed_to": pl.Date,  # null: still listed
}
RESERVATIONS_SCHEMA = {
    "department": pl.String,
    "terminal_id": pl.String,
    "start": pl.Datetime("us"),
    "end": pl.Datetime("us"),
}


@dataclass(frozen=True)
class DepartmentMonth:
    """The three figures of one department in one month."""

    department: str  # juki department code (or the name section 4 gives, if unknown)
    name: str
    month: str  # "2021-04"
    inquiries: int  # (a) section 4
    usage: int  # (b) inquiries written in the usage records
    usage_entries: int  # (b) number of usage records
    lookups: int  # (c) lookup cases on every terminal (0 unless the department inquires)
    shared_lookups: int  # (d) lookup cases on shared terminals it does not stand in

    @property
    def difference(self) -> int:
        """(a) against (c) and (b) against (d): the larger gap."""
        return max(abs(self.inquiries - self.lookups), abs(self.usage - self.shared_lookups))

    @property
    def agrees(self) -> bool:
        return self.difference == 0


@dataclass(frozen=True)
class UnknownOperator:
    """An operator id a record names who is not in the ledger in force that day."""

    operator_id: str
    source: str  # one of SOURCES
    department: str  # the department the record names ("" for unattributed log lines)
    name: str
    first_day: dt.date
    last_day: dt.date
    count: int  # records (a, b) or lookup cases (c) naming the operator


@dataclass
class Reconciliation:
    fy: int
    rows: list[DepartmentMonth] = field(default_factory=list)  # every month checked
    unknown_operators: list[UnknownOperator] = field(default_factory=list)
    #: the first and last day of the year with lookups in the shared terminals' logs
    logs_from: dt.date | None = None
    logs_to: dt.date | None = None

    @property
    def differences(self) -> list[DepartmentMonth]:
        return [r for r in self.rows if not r.agrees]

    @property
    def checked(self) -> int:
        return len(self.rows)

    @property
    def unknown(self) -> int:
        return len({u.operator_id for u in self.unknown_operators})

    def totals(self) -> dict[str, int]:
        return {
            "inquiries": sum(r.inquiries for r in self.rows),
            "usage": sum(r.usage for r in self.rows),
            "usage_entries": sum(r.usage_entries for r in self.rows),
            "lookups": sum(r.lookups for r in self.rows),
            "shared_lookups": sum(r.shared_lookups for r in self.rows),
        }

    def to_dict(self) -> dict[str, Any]:
        def row(r: DepartmentMonth) -> dict[str, Any]:
            return {**asdict(r), "difference": r.difference}

        return {
            "fy": self.fy,
            "checked": self.checked,
            "differ": len(self.differences),
            "unknown_operators": self.unknown,
            "logs_from": self.logs_from.isoformat() if self.logs_from else None,
            "logs_to": self.logs_to.isoformat() if self.logs_to else None,
            "totals": self.totals(),
            "differences": [row(r) for r in self.differences],
            "rows": [row(r) for r in self.rows],
            "operators": [
                {
                    **asdict(u),
                    "first_day": u.first_day.isoformat(),
                    "last_day": u.last_day.isoformat(),
                }
                for u in self.unknown_operators
            ],
        }


def _month(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime("%Y-%m").alias("month")


def _hits(rows: pl.DataFrame, ledger: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """``(_row, department)`` for every ledger in force on the row's ``date`` that lists
    the row's operator (of the row's own department too if ``keys`` holds it)."""
    return (
        rows.select("_row", "date", *keys)
        .join(ledger.select("department", "operator_id", "listed_from", "listed_to"), on=keys)
        .filter(
            (pl.col("listed_from") <= pl.col("date"))
            & (pl.col("listed_to").is_null() | (pl.col("date") < pl.col("listed_to")))
        )
        .select("_row", "department")
        .unique()
    )


def _listed(frame: pl.DataFrame, ledger: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (date, operator_id, department) with ``listed``: the operator is in
    the ledger of the frame's department in force on ``date``."""
    rows = frame.with_row_index("_row")
    hits = _hits(rows, ledger, ["operator_id", "department"])
    return rows.with_columns(pl.col("_row").is_in(hits["_row"].implode()).alias("listed"))


def _unknown(frame: pl.DataFrame, source: str, names: dict[str, str]) -> list[UnknownOperator]:
    """The unlisted operators of ``frame`` (date, operator_id, department, n, listed)."""
    bad = (
        frame.filter(~pl.col("listed"))
        .group_by("operator_id", "department")
        .agg(
            pl.col("date").min().alias("first"),
            pl.col("date").max().alias("last"),
            pl.col("n").sum().alias("count"),
        )
        .sort("operator_id", "department")
    )
    return [
        UnknownOperator(op, source, dept, names.get(dept, dept), first, last, int(n))
        for op, dept, first, last, n in bad.iter_rows()
    ]


def reconcile(
    fy: int,
    inquiries: pl.DataFrame,
    usage: pl.DataFrame,
    lookups: pl.DataFrame,
    ledger: pl.DataFrame,
    reservations: pl.DataFrame,
    names: dict[str, str],
    owners: dict[str, str] | None = None,
    terminals: dict[str, str] | None = None,
) -> Reconciliation:
    """Compare the three records of fiscal year ``fy`` (April to March) per department
    and month, and find the operators no ledger in force lists.

    ``inquiries`` (:data:`INQUIRIES_SCHEMA`) has department *codes* already (see
    :func:`department_codes`); ``usage`` is :data:`USAGE_SCHEMA`; ``lookups`` the
    lookup events of every terminal (:data:`LOOKUPS_SCHEMA`); ``ledger`` the listing
    intervals (:data:`LEDGER_SCHEMA`); ``names`` maps department codes to names;
    ``owners`` maps each shared terminal to the department it stands in, whose own
    use of it needs no usage record and is left out of (d); ``terminals`` maps the
    other terminals to their departments. The lookups of an operator no ledger
    lists are placed in the department holding the shared terminal's reservation,
    else the department the terminal stands in.
    """
    start, end = dt.date(fy, 4, 1), dt.date(fy + 1, 3, 31)

    def in_year(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("date").is_between(start, end))

    ledger = ledger.cast(LEDGER_SCHEMA)
    a = _listed(in_year(inquiries.cast(INQUIRIES_SCHEMA)).with_columns(n=pl.lit(1)), ledger)
    b = _listed(in_year(usage.cast(USAGE_SCHEMA)).with_columns(n=pl.lit(1)), ledger)

    # (c): one case per operator, resident and day; its department from the ledger
    cases = (
        lookups.cast(LOOKUPS_SCHEMA)
        .with_columns(pl.col("ts").dt.date().alias("date"))
        .filter(pl.col("date").is_between(start, end))
        .group_by("date", "operator_id", "subject_index")
        .agg(pl.col("ts").min(), pl.col("terminal_id").first())
        .sort("ts", "operator_id", "subject_index")
    )
    c = cases.with_row_index("_row")
    listed_in = _hits(c, ledger, ["operator_id"])
    # the department holding the terminal's reservation at the time, if any
    booked = (
        c.select("_row", "ts", "terminal_id")
        .join(reservations.cast(RESERVATIONS_SCHEMA), on="terminal_id", how="inner")
        .filter((pl.col("start") <= pl.col("ts")) & (pl.col("ts") < pl.col("end")))
        .sort("_row", "department")
        .group_by("_row", maintain_order=True)
        .agg(pl.col("department").first().alias("booked"))
    )
    # the operator's department that day; listed in several (concurrent posts), the one
    # holding the reservation, else the first in code order; listed nowhere, the one
    # holding the reservation (and the operator is unknown)
    first = listed_in.sort("_row", "department").group_by("_row", maintain_order=True).first()
    places = pl.DataFrame(
        [(t, dept, None) for t, dept in (terminals or {}).items()]
        + [(t, None, dept) for t, dept in (owners or {}).items()],
        schema={"terminal_id": pl.String, "home": pl.String, "owner": pl.String},
        orient="row",
    ).unique("terminal_id", keep="last")
    c = (
        c.join(places, on="terminal_id", how="left")
        .join(first.rename({"department": "first"}), on="_row", how="left")
        .join(booked, on="_row", how="left")
        .join(
            listed_in.rename({"department": "booked"}).with_columns(pl.lit(True).alias("both")),
            on=["_row", "booked"],
            how="left",
        )
        .with_columns(
            pl.col("first").is_not_null().alias("listed"),
            pl.when(pl.col("both"))
            .then(pl.col("booked"))
            .when(pl.col("first").is_not_null())
            .then(pl.col("first"))
            .otherwise(pl.coalesce("booked", "home", pl.lit(UNATTRIBUTED)))
            .alias("department"),
            n=pl.lit(1),
        )
        .drop("first", "booked", "both", "home")
    )
    # (d): the shared terminals, but for the own use of the department they stand in
    d = c.filter(pl.col("owner").is_not_null() & (pl.col("owner") != pl.col("department")))
    # (c): every terminal, for the departments making My Number inquiries this year
    inquiring = pl.concat([a["department"], b["department"], d["department"]]).unique()
    lookups_c = c.filter(pl.col("department").is_in(inquiring.implode()))

    columns = ("inquiries", "usage", "usage_entries", "lookups", "shared_lookups")
    counts = pl.concat(
        [
            a.group_by("department", _month("date")).agg(pl.len().alias("inquiries")),
            b.group_by("department", _month("date")).agg(
                pl.col("inquiries").sum().alias("usage"), pl.len().alias("usage_entries")
            ),
            lookups_c.group_by("department", _month("date")).agg(pl.len().alias("lookups")),
            d.group_by("department", _month("date")).agg(pl.len().alias("shared_lookups")),
        ],
        how="diagonal",
    )
    counts = (
        counts.group_by("department", "month")
        .agg(pl.col(k).sum() for k in columns)
        .fill_null(0)
        .sort("department", "month")
    )
    rows = [
        DepartmentMonth(dept, names.get(dept, dept), month, *(int(v) for v in values))
        for dept, month, *values in counts.select("department", "month", *columns).iter_rows()
    ]
    unknown = (
        _unknown(a, "inquiries", names) + _unknown(b, "usage", names) + _unknown(c, "logs", names)
    )
    logs = (cases["date"].min(), cases["date"].max()) if cases.height else (None, None)
    return Reconciliation(fy, rows, unknown, *logs)


def department_codes(inquiries: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """Section 4 names departments by name: their codes where a Juki-net department
    has that name, else the name itself (a department with no terminal and no
    ledger: every one of its figures is then a difference)."""
    by_name = {name: code for code, name in names.items()}
    return inquiries.with_columns(
        pl.col("department").replace_strict(by_name, default=pl.col("department"))
    )


# --- from the database -----------------------------------------------------------------


def _frame(rows: list[tuple], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def ledger_frame(session, until: dt.date) -> pl.DataFrame:
    """Every operator's listing intervals from the ledger versions up to ``until``
    (the same intervals the unlisted-operator rule judges by)."""
    versions = {
        v.id: v
        for v in session.scalars(
            select(jm.LedgerVersion).where(jm.LedgerVersion.effective <= until)
        )
    }
    members: dict[int, set[str]] = {vid: set() for vid in versions}
    if versions:
        for vid, op in session.execute(
            select(jm.LedgerEntry.version_id, jm.LedgerEntry.operator_id).where(
                jm.LedgerEntry.version_id.in_(list(versions))
            )
        ):
            members[vid].add(op)
    context = GovernanceContext(
        ledgers=tuple(
            LedgerVersion(v.department, v.effective, frozenset(members[v.id]))
            for v in versions.values()
        )
    )
    return context.ledger_intervals.cast(LEDGER_SCHEMA)


def reconciliation(ctx, fy: int) -> Reconciliation:
    """The reconciliation of fiscal year ``fy`` from the stored records (audited)."""
    ctx.authorize("security.report")
    check_fy(fy)
    s = ctx.session
    start, end = dt.date(fy, 4, 1), dt.date(fy + 1, 3, 31)
    lo = dt.datetime.combine(start, dt.time())
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    names = dict(s.execute(select(jm.JukiDepartment.code, jm.JukiDepartment.name)).all())
    inquiries = _frame(
        list(
            s.execute(
                select(Inquiry.date, Inquiry.department, Inquiry.operator).where(
                    Inquiry.date >= start, Inquiry.date <= end
                )
            )
        ),
        INQUIRIES_SCHEMA,
    )
    usage = _frame(
        [
            (u_start.date(), dept, op, n)
            for u_start, dept, op, n in s.execute(
                select(
                    jm.UsageRecord.start,
                    jm.UsageRecord.department,
                    jm.UsageRecord.operator_id,
                    jm.UsageRecord.inquiries,
                ).where(jm.UsageRecord.start >= lo, jm.UsageRecord.start < hi)
            )
        ],
        USAGE_SCHEMA,
    )
    owners, terminals = {}, {}
    for terminal, dept, shared in s.execute(
        select(
            jm.JukiTerminal.terminal_id,
            jm.JukiTerminal.department,
            jm.JukiTerminal.reservation_required,
        )
    ):
        (owners if shared else terminals)[terminal] = dept
    lookups = _frame(
        list(
            s.execute(
                select(
                    om.OplogEvent.ts,
                    om.OplogEvent.terminal_id,
                    om.OplogEvent.operator_id,
                    om.OplogEvent.subject_index,
                ).where(
                    om.OplogEvent.ts >= lo,
                    om.OplogEvent.ts < hi,
                    om.OplogEvent.action.in_(LOOKUP_ACTIONS),
                    om.OplogEvent.subject_index != "",
                )
            )
        ),
        LOOKUPS_SCHEMA,
    )
    reservations = _frame(
        list(
            s.execute(
                select(
                    jm.Reservation.department,
                    jm.Reservation.terminal_id,
                    jm.Reservation.start,
                    jm.Reservation.end,
                ).where(jm.Reservation.start < hi, jm.Reservation.end > lo)
            )
        ),
        RESERVATIONS_SCHEMA,
    )
    result = reconcile(
        fy,
        department_codes(inquiries, names),
        usage,
        lookups,
        ledger_frame(s, end),
        reservations,
        names,
        owners,
        terminals,
    )
    ctx.audit(
        "security.reconcile",
        f"report:reconcile:FY{fy}",
        purpose="reconciliation of inquiries, usage records and operation logs",
        checked=result.checked,
        differ=len(result.differences),
        unknown_operators=result.unknown,
    )
    return result


# --- as a section of the security report ---------------------------------------------------


def _n(value: int) -> str:
    return f"{value:,}"


def month_label(month: str, lang: str) -> str:
    year, mon = month.split("-")
    return f"{year}年{int(mon)}月" if lang == "ja" else month


def source_label(source: str, lang: str) -> str:
    return t(f"oplog.reconcile.source_{source}", lang)


def summary(result: Reconciliation, lang: str) -> str:
    return t(
        "oplog.reconcile.summary",
        lang,
        checked=result.checked,
        differ=len(result.differences),
        unknown=result.unknown,
    )


def difference_rows(
    result: Reconciliation, lang: str
) -> tuple[list[str], list[list[str]], list[list[Any]]]:
    """Header, formatted rows and raw values of the differing department-months."""
    header = [
        t(f"oplog.reconcile.h_{k}", lang)
        for k in (
            "department",
            "month",
            "inquiries",
            "lookups",
            "usage",
            "shared_lookups",
            "difference",
        )
    ]
    rows, values = [], []
    for r in result.differences:
        name = r.name or t("oplog.reconcile.unattributed", lang)
        figures = [r.inquiries, r.lookups, r.usage, r.shared_lookups, r.difference]
        rows.append([name, month_label(r.month, lang), *(_n(v) for v in figures)])
        values.append([r.department, r.month, *figures])
    return header, rows, values


def operator_rows(
    result: Reconciliation, lang: str
) -> tuple[list[str], list[list[str]], list[list[Any]]]:
    header = [
        t(f"oplog.reconcile.h_{k}", lang)
        for k in ("operator", "source", "department", "first_day", "last_day", "count")
    ]
    rows, values = [], []
    for u in result.unknown_operators:
        name = u.name or t("oplog.reconcile.unattributed", lang)
        rows.append(
            [
                u.operator_id,
                source_label(u.source, lang),
                name,
                date_label(u.first_day, lang),
                date_label(u.last_day, lang),
                _n(u.count),
            ]
        )
        values.append([u.operator_id, u.source, u.department, u.first_day, u.last_day, u.count])
    return header, rows, values


def reconcile_sections(ctx, fy: int, lang: str) -> list[ReportSection]:
    """Section 7 of the security report: the reconciliation and its summary line."""
    result = reconciliation(ctx, fy)
    totals = result.totals()
    tables = []
    header, rows, values = difference_rows(result, lang)
    tables.append(
        ReportTable(
            "reconcile_differences",
            t("oplog.reconcile.differences_title", lang, fy=fiscal_year_label(fy, lang)),
            t("oplog.reconcile.differences_note", lang),
            header,
            rows,
            values,
            [False] * len(rows),
        )
    )
    header, rows, values = operator_rows(result, lang)
    tables.append(
        ReportTable(
            "reconcile_operators",
            t("oplog.reconcile.operators_title", lang),
            t("oplog.reconcile.operators_note", lang),
            header,
            rows,
            values,
            [False] * len(rows),
        )
    )
    return [
        ReportSection(
            "7",
            "oplog.reconcile",
            t("oplog.reconcile.section", lang),
            paragraphs=[
                t("oplog.reconcile.method", lang),
                summary(result, lang),
                t(
                    "oplog.reconcile.totals",
                    lang,
                    inquiries=_n(totals["inquiries"]),
                    usage=_n(totals["usage"]),
                    entries=_n(totals["usage_entries"]),
                    lookups=_n(totals["lookups"]),
                    shared=_n(totals["shared_lookups"]),
                ),
                t(
                    "oplog.reconcile.coverage",
                    lang,
                    start=date_label(result.logs_from, lang),
                    end=date_label(result.logs_to, lang),
                )
                if result.logs_from
                else t("oplog.reconcile.no_logs", lang),
            ],
            tables=tables,
            figures={k: v for k, v in result.to_dict().items() if k != "rows"},
        )
    ]


add_section_provider(
    reconcile_sections, tables=("cards_inquiries", "juki_", "oplog_events", "oplog_files")
)
