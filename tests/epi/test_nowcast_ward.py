"""The nowcast on the synthetic ward imported with ``kumin cases import``: it must not
blow up where the last days carry too little information, and it must say so.

The generator clamps results later than the last day to the last day, so the only
reports on the day of onset are that day's: a ratio of tiny numbers for a plain
chain ladder (a median of 348 for a day with 13 cases at this size, 73,150 for 268 on
the full ward).
"""

from __future__ import annotations

import json

import pytest

from kumin.synth.cases import synth_cases, write_cases_csv


@pytest.fixture
def fresh_db(sqlite_db):
    return sqlite_db


def test_ward_nowcast_stays_within_three_times_the_recent_maximum(cli, users, tmp_path):
    epi = users.by_role["epidemiologist"]
    path = write_cases_csv(synth_cases(seed=7, n=1500), tmp_path / "cases.csv")
    assert cli("cases", "import", str(path), user=epi).exit_code == 0

    r = cli("epi", "curve", "--format", "json", user=epi)
    assert r.exit_code == 0, r.output
    daily = {row["date"]: row["cases"] for row in json.loads(r.stdout)}
    dates = sorted(daily)

    r = cli("epi", "nowcast", "--format", "json", user=epi)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    for row in rows:
        i = dates.index(row["date"])
        recent_max = max(daily[d] for d in dates[max(0, i - 13) : i + 1])
        assert row["median"] <= 3 * max(recent_max, 1), row["date"]
    flagged = [row["date"] for row in rows if not row["reliable"]]
    assert rows[-1]["date"] in flagged  # the last day: only its clamped reports
    assert all(row["reliable"] for row in rows[:-7])  # old days are not flagged
    assert all(row["upper_95"] >= row["observed"] for row in rows)

    r = cli("epi", "nowcast", user=epi)
    assert r.exit_code == 0, r.output
    assert rows[-1]["date"] in r.stderr  # the table's note names the flagged dates
