"""Reconciliation of section 4's inquiries, the usage records and the operation logs
(issue #11 item 6), on data built by hand on both databases: exactly the expected
department-months differ and exactly the expected operators are unknown."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from tests.oplog._db import acting

from kumin.cards.models import Inquiry
from kumin.juki import models as jm
from kumin.oplog import models as om
from kumin.oplog.reconcile import reconcile_sections, reconciliation

D = dt.date
T = dt.datetime


def _seed(settings) -> None:
    """Two departments using the shared terminal S01 in FY2021.

    課税課 (D08), May 2021: 3 inquiries in section 4, a usage record of 3, three
    residents looked up on S01 (one of them twice: still one case) — agrees.
    課税課, June 2021: 4 inquiries, 3 residents looked up on S01 and one on its own
    terminal T0801 — (a) = (c) = 4 — but a usage record of 2 for the 3 on S01 —
    differs by 1. 子ども家庭課 (D12), June 2021: 1 inquiry by U900 (not in D12's
    ledger), no usage record, nothing in the logs — differs by 1 and U900 is unknown.
    U777 looks a resident up on S01 in May under D12's reservation: no ledger lists
    them, so the lookup is D12's and U777 is unknown. March 2021 is another year.
    D01's own use of S01 (it stands in D01) needs no usage record and is left out, and
    D01 makes no inquiries section 4 counts, so its lookups are not counted at all.
    """
    with acting(settings, "records_officer") as ctx:
        s = ctx.session
        for code, name in (("D01", "住民記録・戸籍課"), ("D08", "課税課"), ("D12", "子ども家庭課")):
            s.add(
                jm.JukiDepartment(code=code, name=name, open=dt.time(8, 30), close=dt.time(17, 15))
            )
        s.add(jm.JukiTerminal(terminal_id="S01", department="D01", reservation_required=True))
        s.add(jm.JukiTerminal(terminal_id="T0801", department="D08"))
        for dept, ops in (("D01", ("U010",)), ("D08", ("U100", "U101")), ("D12", ("U120",))):
            v = jm.LedgerVersion(department=dept, effective=D(2021, 4, 1), imported_by="t")
            s.add(v)
            s.flush()
            for op in ops:
                s.add(jm.LedgerEntry(version_id=v.id, operator_id=op, role="操作者"))
        # (a) section 4
        for day, dept, op in (
            (D(2021, 5, 10), "課税課", "U100"),
            (D(2021, 5, 10), "課税課", "U100"),
            (D(2021, 5, 11), "課税課", "U101"),
            (D(2021, 6, 1), "課税課", "U100"),
            (D(2021, 6, 1), "課税課", "U100"),
            (D(2021, 6, 1), "課税課", "U100"),
            (D(2021, 6, 1), "課税課", "U100"),
            (D(2021, 6, 2), "子ども家庭課", "U900"),
            (D(2021, 3, 31), "課税課", "U555"),  # FY2020: not this year's
        ):
            s.add(Inquiry(date=day, department=dept, function="residential_tax", operator=op))
        # (b) usage records
        for start, dept, op, n in (
            (T(2021, 5, 10, 10), "D08", "U100", 2),
            (T(2021, 5, 11, 10), "D08", "U101", 1),
            (T(2021, 6, 1, 10), "D08", "U100", 2),
        ):
            s.add(
                jm.UsageRecord(
                    department=dept,
                    terminal_id="S01",
                    operator_id=op,
                    start=start,
                    end=start + dt.timedelta(hours=1),
                    function="住民税",
                    inquiries=n,
                    recorded_by="t",
                )
            )
        s.add(
            jm.Reservation(
                department="D12",
                terminal_id="S01",
                start=T(2021, 5, 20, 9),
                end=T(2021, 5, 20, 10),
                created_by="t",
            )
        )
        # (c) the logs
        f = om.OplogFile(name="s01.csv", sha256="0" * 64, events=0, imported_by="t")
        s.add(f)
        s.flush()
        events = [
            (T(2021, 5, 10, 10, 1), "S01", "U100", "search", "r1"),
            (T(2021, 5, 10, 10, 2), "S01", "U100", "view", "r1"),
            (T(2021, 5, 10, 10, 5), "S01", "U100", "view", "r2"),
            (T(2021, 5, 10, 10, 6), "S01", "U100", "print", "r2"),
            (T(2021, 5, 11, 10, 5), "S01", "U101", "view", "r3"),
            (T(2021, 5, 11, 10, 0), "S01", "U101", "login", ""),
            (T(2021, 5, 20, 9, 15), "S01", "U777", "view", "r9"),
            (T(2021, 6, 1, 10, 5), "S01", "U100", "view", "r4"),
            (T(2021, 6, 1, 10, 9), "S01", "U100", "view", "r5"),
            (T(2021, 6, 1, 10, 12), "S01", "U100", "view", "r6"),
            (T(2021, 6, 1, 11, 0), "T0801", "U100", "view", "r7"),  # own terminal
            (T(2021, 6, 1, 11, 0), "S01", "U010", "view", "r8"),  # S01 is D01's own
        ]
        for k, (ts, term, op, action, subject) in enumerate(events):
            s.add(
                om.OplogEvent(
                    file_id=f.id,
                    line=k + 2,
                    ts=ts,
                    terminal_id=term,
                    operator_id=op,
                    action=action,
                    subject_index=subject,
                    function="住民税",
                )
            )


def test_exactly_the_expected_differences_and_unknown_operators(fresh_db):
    _seed(fresh_db)
    with acting(fresh_db, "auditor") as ctx:
        result = reconciliation(ctx, 2021)
    got = {
        (r.department, r.month): (r.inquiries, r.lookups, r.usage, r.shared_lookups)
        for r in result.rows
    }
    assert got == {
        ("D08", "2021-05"): (3, 3, 3, 3),
        ("D08", "2021-06"): (4, 4, 2, 3),
        ("D12", "2021-05"): (0, 1, 0, 1),
        ("D12", "2021-06"): (1, 0, 0, 0),
    }
    assert [(r.department, r.month, r.difference) for r in result.differences] == [
        ("D08", "2021-06", 1),
        ("D12", "2021-05", 1),
        ("D12", "2021-06", 1),
    ]
    unknown = [
        (u.operator_id, u.source, u.department, u.first_day, u.count)
        for u in result.unknown_operators
    ]
    assert unknown == [
        ("U900", "inquiries", "D12", D(2021, 6, 2), 1),
        ("U777", "logs", "D12", D(2021, 5, 20), 1),
    ]
    assert (result.checked, len(result.differences), result.unknown) == (4, 3, 2)
    assert result.totals() == {
        "inquiries": 8,
        "lookups": 8,
        "usage": 5,
        "usage_entries": 3,
        "shared_lookups": 7,
    }
    assert (result.logs_from, result.logs_to) == (D(2021, 5, 10), D(2021, 6, 1))


def test_an_operator_listed_only_after_the_day_is_unknown(fresh_db):
    """The ledger *in force on the day* counts: U101 listed from 1 June is unknown on
    11 May even though the newest ledger lists them."""
    _seed(fresh_db)
    with acting(fresh_db, "records_officer") as ctx:
        s = ctx.session
        old = s.query(jm.LedgerVersion).filter_by(department="D08").one()
        old.effective = D(2021, 6, 1)
    with acting(fresh_db, "auditor") as ctx:
        result = reconciliation(ctx, 2021)
    ops = {(u.operator_id, u.source) for u in result.unknown_operators}
    assert {("U100", "inquiries"), ("U101", "usage"), ("U100", "logs")} <= ops
    assert ("U100", "inquiries") in ops and ("U900", "inquiries") in ops


def test_the_section_summary_json_and_audit(fresh_db):
    _seed(fresh_db)
    with acting(fresh_db, "auditor", lang="en") as ctx:
        (section,) = reconcile_sections(ctx, 2021, "en")
    assert section.number == "7"
    assert (
        "4 department-months checked, 3 differ, 2 operators not in the ledger"
        in (section.paragraphs[1])
    )
    diffs, ops = section.tables
    assert [v[:2] for v in diffs.values] == [
        ["D08", "2021-06"],
        ["D12", "2021-05"],
        ["D12", "2021-06"],
    ]
    assert [v[0] for v in ops.values] == ["U900", "U777"]
    assert section.figures["differ"] == 3 and section.figures["unknown_operators"] == 2
    # no resident reference anywhere in the section
    text = json.dumps(section.to_dict(), ensure_ascii=False)
    assert not any(f'"r{k}"' in text for k in range(10))
    with acting(fresh_db, "auditor") as ctx:
        from kumin.core import audit

        rows = audit.query(ctx.session, action="security.reconcile")
        assert rows and rows[-1].object == "report:reconcile:FY2021"


def test_cli_formats_and_permission(cli, users):
    _seed(cli.settings)
    auditor = users.by_role["auditor"]
    r = cli("report", "reconcile", "--fy", "2021", "--format", "json", user=auditor)
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert (body["checked"], body["differ"], body["unknown_operators"]) == (4, 3, 2)
    r = cli("report", "reconcile", "--fy", "2021", "--format", "csv", user=auditor)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    assert [(x["department"], x["month"], x["difference"]) for x in rows] == [
        ("D08", "2021-06", "1"),
        ("D12", "2021-05", "1"),
        ("D12", "2021-06", "1"),
    ]
    r = cli("report", "reconcile", "--fy", "2021", user=auditor)
    assert r.exit_code == 0 and "U777" in r.stdout and "3 differ" in r.output
    r = cli("report", "reconcile", "--fy", "1999", user=auditor)
    assert r.exit_code == 1 and "1999" in r.stderr and "Traceback" not in r.output
    r = cli("report", "reconcile", "--fy", "2021", "--format", "xml", user=auditor)
    assert r.exit_code == 2
    r = cli("report", "reconcile", "--fy", "2021", user=users.by_role["epidemiologist"])
    assert r.exit_code == 1 and "not allowed" in r.stderr


def test_section_in_every_format_of_the_security_report(fresh_db):
    import openpyxl

    from kumin.reports.security import make_security_report

    _seed(fresh_db)
    with acting(fresh_db, "auditor", lang="ja") as ctx:
        out = {
            fmt: make_security_report(ctx, 2021, fmt, "ja", providers=[reconcile_sections])[0]
            for fmt in ("html", "md", "json", "csv", "xlsx")
        }
    summary = "点検した所属・月 4 件のうち、一致しないもの 3 件、操作者管理簿にない操作者 2 名。"
    for fmt in ("html", "md"):
        text = out[fmt].decode("utf-8")
        assert summary in text and "U777" in text and "子ども家庭課" in text, fmt
    assert "| 課税課 | 2021年6月 | 4 | 4 | 2 | 3 | 1 |" in out["md"].decode("utf-8")
    body = json.loads(out["json"])
    assert body["sections"][0]["figures"]["differ"] == 3
    assert "U900" in out["csv"].decode("utf-8-sig")
    sheet = openpyxl.load_workbook(io.BytesIO(out["xlsx"])).worksheets[0]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert summary in cells and "U777" in cells


def test_an_operator_in_two_ledgers_counts_for_the_department_holding_the_reservation():
    """Pure core: U130 is listed in D08 and D12 (a concurrent post). On S01 under D12's
    reservation the lookup is D12's; with no reservation, D08's (first in code order).
    U999, listed nowhere and with no reservation, is unattributed and unknown."""
    import polars as pl

    from kumin.oplog.reconcile import (
        INQUIRIES_SCHEMA,
        LEDGER_SCHEMA,
        LOOKUPS_SCHEMA,
        RESERVATIONS_SCHEMA,
        USAGE_SCHEMA,
        reconcile,
    )

    ledger = pl.DataFrame(
        [("D08", "U130", D(2021, 4, 1), None), ("D12", "U130", D(2021, 4, 1), None)],
        schema=LEDGER_SCHEMA,
        orient="row",
    )
    lookups = pl.DataFrame(
        [
            (T(2021, 5, 20, 9, 30), "S01", "U130", "x1"),
            (T(2021, 5, 21, 9, 30), "S01", "U130", "x2"),
            (T(2021, 5, 21, 9, 40), "S01", "U999", "x3"),
        ],
        schema=LOOKUPS_SCHEMA,
        orient="row",
    )
    reservations = pl.DataFrame(
        [("D12", "S01", T(2021, 5, 20, 9), T(2021, 5, 20, 10))],
        schema=RESERVATIONS_SCHEMA,
        orient="row",
    )
    result = reconcile(
        2021,
        pl.DataFrame(schema=INQUIRIES_SCHEMA),
        pl.DataFrame(schema=USAGE_SCHEMA),
        lookups,
        ledger,
        reservations,
        {"D01": "住民記録・戸籍課", "D08": "課税課", "D12": "子ども家庭課"},
        {"S01": "D01"},
    )
    assert [(r.department, r.month, r.lookups) for r in result.rows] == [
        ("", "2021-05", 1),
        ("D08", "2021-05", 1),
        ("D12", "2021-05", 1),
    ]
    assert [(u.operator_id, u.source, u.department) for u in result.unknown_operators] == [
        ("U999", "logs", "")
    ]


def test_own_terminals_count_for_section_4_departments_only():
    """Pure core. 課税課 (D08) looks two residents up on its own terminal T0801 and
    section 4 has one inquiry: (a) 1 against (c) 2 differs, with no shared terminal
    involved. The branch office D03 looks residents up all day on T0301 for work
    section 4 does not count: no row. U666, in no ledger, on T0301: D03's terminal
    places the lookup, and U666 is unknown."""
    import polars as pl

    from kumin.oplog.reconcile import (
        INQUIRIES_SCHEMA,
        LEDGER_SCHEMA,
        LOOKUPS_SCHEMA,
        RESERVATIONS_SCHEMA,
        USAGE_SCHEMA,
        reconcile,
    )

    ledger = pl.DataFrame(
        [("D08", "U100", D(2021, 4, 1), None), ("D03", "U030", D(2021, 4, 1), None)],
        schema=LEDGER_SCHEMA,
        orient="row",
    )
    lookups = pl.DataFrame(
        [
            (T(2021, 7, 1, 9, 30), "T0801", "U100", "x1"),
            (T(2021, 7, 1, 9, 40), "T0801", "U100", "x2"),
            (T(2021, 7, 1, 9, 30), "T0301", "U030", "x3"),
            (T(2021, 7, 2, 9, 30), "T0301", "U030", "x4"),
            (T(2021, 7, 2, 9, 50), "T0301", "U666", "x5"),
        ],
        schema=LOOKUPS_SCHEMA,
        orient="row",
    )
    inquiries = pl.DataFrame(
        [(D(2021, 7, 1), "D08", "U100")], schema=INQUIRIES_SCHEMA, orient="row"
    )
    result = reconcile(
        2021,
        inquiries,
        pl.DataFrame(schema=USAGE_SCHEMA),
        lookups,
        ledger,
        pl.DataFrame(schema=RESERVATIONS_SCHEMA),
        {"D01": "住民記録・戸籍課", "D03": "世田谷総合支所区民課", "D08": "課税課"},
        {"S01": "D01"},
        {"T0801": "D08", "T0301": "D03"},
    )
    assert [
        (r.department, r.month, r.inquiries, r.lookups, r.usage, r.shared_lookups, r.difference)
        for r in result.rows
    ] == [("D08", "2021-07", 1, 2, 0, 0, 1)]
    assert [(u.operator_id, u.source, u.department) for u in result.unknown_operators] == [
        ("U666", "logs", "D03")
    ]
    assert (result.logs_from, result.logs_to) == (D(2021, 7, 1), D(2021, 7, 2))
