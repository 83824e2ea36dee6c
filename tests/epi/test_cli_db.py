"""``kumin epi …`` on the database's records: a small synthetic ward imported with
``kumin cases import``, then every command.

The models run on SQLite only (they see the same frame whatever the backend);
test_cli_storage.py runs the reading and the audit on both backends.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from kumin.synth.cases import synth_cases, write_cases_csv


@pytest.fixture
def fresh_db(sqlite_db):
    return sqlite_db


@pytest.fixture
def ward_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("ward") / "cases.csv"
    # 1,500 records over the whole pandemic (dense in the 2021 summer and 2022 January waves)
    return write_cases_csv(synth_cases(seed=7, n=1500), path)


@pytest.fixture
def epi_cli(cli, users, ward_csv):
    epi = users.by_role["epidemiologist"]
    r = cli("cases", "import", str(ward_csv), user=epi)
    assert r.exit_code == 0, r.output

    def run(*args: str, user: str = epi):
        return cli(*args, user=user)

    return run


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_every_command_on_an_imported_ward(epi_cli, tmp_path):
    r = epi_cli("epi", "curve", "--by", "age", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = _csv(r.stdout)
    assert {"age_band", "date", "cases", "cases_avg"} <= set(rows[0])
    assert sum(int(x["cases"]) for x in rows) > 900  # the cases with an onset date

    r = epi_cli("epi", "rt", "--format", "csv", "--from", "2021-06-01", "--to", "2021-10-31")
    assert r.exit_code == 0, r.output
    assert (
        r.stdout.lstrip("\ufeff").splitlines()[0] == "region,date,r_mean,r_median,r_lower,r_upper"
    )
    peak_rt = max(float(x["r_median"]) for x in _csv(r.stdout) if x["r_median"])
    assert peak_rt > 1.2  # the summer 2021 wave grew

    r = epi_cli("epi", "rt", "--by", "town", "--format", "json")
    assert r.exit_code == 0, r.output
    assert len({row["region"] for row in json.loads(r.stdout)}) > 10

    r = epi_cli("epi", "nowcast", "--max-delay", "14")
    assert r.exit_code == 0, r.output
    assert "Nowcast peak" in r.stderr and "90% interval" in r.stderr
    assert "e+0" not in r.stdout and ".5 " not in r.stdout  # whole counts, no 8.114e+04

    out = tmp_path / "delays.json"
    r = epi_cli("epi", "delays", "--format", "json", "--out", str(out))
    assert r.exit_code == 0, r.output
    fits = json.loads(out.read_text("utf-8"))
    chosen = {f["interval"]: f for f in fits if f["best"]}
    assert set(chosen) == {
        "onset_to_first_visit", "onset_to_specimen", "specimen_to_result", "onset_to_result"
    }  # fmt: skip
    assert 0 < chosen["specimen_to_result"]["mean"] < chosen["onset_to_result"]["mean"]

    r = epi_cli("epi", "growth", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert "doubling_time" in r.stdout.splitlines()[0]

    r = epi_cli("epi", "backtest", "--dates", "2", "--format", "json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary[-1]["days_back"] is None and 0 <= summary[-1]["coverage_90"] <= 1


def test_seir_and_refusals(epi_cli, users):
    r = epi_cli("epi", "seir", "--horizon", "21", "--format", "json")
    assert r.exit_code == 0, r.output
    scenarios = json.loads(r.stdout)
    assert [s["scenario"] for s in scenarios][0] == "baseline"
    by_name = {s["scenario"]: s for s in scenarios}
    assert by_name["contacts -40%"]["projected_cases"] < by_name["baseline"]["projected_cases"]
    assert "peak_hospital" in scenarios[0]

    r = epi_cli("epi", "rt", "--method", "infection", "--by", "town")
    assert r.exit_code == 1 and "--by" in r.stderr
    r = epi_cli("epi", "curve", "--by", "street")
    assert r.exit_code == 1 and "street" in r.stderr
    r = epi_cli("epi", "rt", user=users.by_role["researcher"])
    assert r.exit_code == 1 and "not allowed" in r.stderr


def test_rt_says_what_date_means_and_which_interval(epi_cli):
    r = epi_cli("epi", "rt", "--format", "csv", "--from", "2021-07-01", "--to", "2021-08-31")
    assert r.exit_code == 0, r.output
    assert "last day of each 7-day window" in r.stderr and "serial interval gamma" in r.stderr
    r = epi_cli("epi", "rt", "--method", "infection", "--format", "json")
    assert r.exit_code == 0, r.output
    assert "centre of each 7-day window" in r.stderr and "Weibull(2.305, 5.452)" in r.stderr


def test_screen_numbers_read_as_a_reader_expects():
    from kumin.epi.cli import _screen

    assert _screen("r_mean", 81_140.3) == "81,140"  # not 8.114e+04
    assert _screen("upper_95", 12.6) == "13" and _screen("median", 3.0) == "3"  # counts
    assert _screen("r_median", 1.23456) == "1.235"
    assert _screen("cases", 1234) == "1,234" and _screen("r_mean", float("nan")) == ""
    assert _screen("param1_upper", float("inf")) == "∞"  # an unbounded interval
    assert _screen("imported", True) is True and _screen("date", "2021-07-01") == "2021-07-01"
