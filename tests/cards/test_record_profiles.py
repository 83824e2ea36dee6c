"""Juki-net transactions, inquiries and population read through the card-history
profile: Japanese headers and codes accepted, an unknown code rejects the file
naming line, column, value and the profile, and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from tests.conftest import actor_for

from kumin.cards import service_records
from kumin.core.context import context
from kumin.errors import DataError


@pytest.fixture
def officer(users):
    return actor_for(users, "records_officer")


def _rows(settings, officer) -> int:
    with context(settings, officer) as ctx:
        return ctx.session.scalar(select(func.count()).select_from(text("cards_juki_transactions")))


def test_unknown_kind_rejects_the_file_naming_line_column_value_and_profile(
    fresh_db, officer, tmp_path
):
    path = tmp_path / "juki.csv"
    path.write_text(
        "処理日,処理種別,住民番号,相手団体コード\n"
        "令和3年4月5日,特例転入,1001,131105\n"
        "2021-04-06,テレポート,1002,\n",
        encoding="cp932",
    )
    with pytest.raises(DataError) as err, context(fresh_db, officer) as ctx:
        service_records.import_juki(ctx, path)
    (problem,) = err.value.problems
    assert (problem.line, problem.column, problem.key) == (3, "kind", "core.cell.unknown_code")
    assert problem.params["value"] == "テレポート"
    assert problem.params["profile"] == "cards_history"
    message = err.value.render("ja")
    assert "juki.csv" in message and "3行目" in message and "[values.kind]" in message
    assert _rows(fresh_db, officer) == 0


def test_japanese_headers_codes_and_era_dates_import(fresh_db, officer, tmp_path):
    path = tmp_path / "juki.csv"
    path.write_text(
        "処理日,処理種別,住民番号,相手団体コード\n"
        "令和3年4月5日,特例転入,1001,131105\n"
        "R3.4.6,住民票広域交付,,\n",
        encoding="utf-8-sig",
    )
    with context(fresh_db, officer) as ctx:
        assert service_records.import_juki(ctx, path).inserted == 2
    assert _rows(fresh_db, officer) == 2
    population = tmp_path / "population.csv"
    population.write_text('基準日,人口\n2021-04-01,"917,486"\n2021-05-01,0\n', encoding="utf-8")
    with pytest.raises(DataError) as err, context(fresh_db, officer) as ctx:
        service_records.import_population(ctx, population)
    assert [(p.line, p.column, p.key) for p in err.value.problems] == [
        (3, "population", "core.cell.below")
    ]
