"""The demo's national card figures when the real files are not beside the clone (#14)."""

from __future__ import annotations

import json

import pytest

from kumin.cards.national import SETAGAYA, load_national
from kumin.synth.national import MUNICIPALITIES, write_national_snapshots


@pytest.fixture
def fresh_db(sqlite_db):
    # the national import itself is tested on both backends in tests/cards/test_cli_db.py
    return sqlite_db


def test_snapshots_read_as_the_ministry_files(tmp_path):
    frame = load_national(write_national_snapshots(tmp_path, seed=3))
    dates = frame["date"].unique().sort().to_list()
    assert str(dates[0]) == "2020-04-01" and str(dates[-1]) == "2022-04-01"
    assert frame.height == len(dates) * len(MUNICIPALITIES)
    ward = frame.filter(frame["code6"] == SETAGAYA)
    assert ward["cards"].to_list() == sorted(ward["cards"].to_list())  # cards only accumulate
    assert "011002" in frame["code6"].to_list()  # 札幌市 written 11002, read with its zero


def test_imported_snapshots_fill_the_national_page(cli, users, tmp_path, app_client):
    officer = users.by_role["records_officer"]
    root = write_national_snapshots(tmp_path, seed=0)
    r = cli("cards", "national", "import", str(root), user=officer)
    assert r.exit_code == 0, r.output
    rows = json.loads(
        cli(
            "cards", "national", "show", "--code", SETAGAYA, "--format", "json", user=officer
        ).stdout
    )
    assert rows[-1]["date"] == "2022-04-01" and rows[-1]["municipalities"] == len(MUNICIPALITIES)
    assert 1 <= rows[-1]["rank_in_23_wards"] <= 23
    app_client.login(officer)
    assert 'id="national-table"' in app_client.get("/cards/national").text
