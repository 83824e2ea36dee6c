"""The report's figures on small hand-made records, where every count is checkable."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from kumin.cards.figures import (
    card_status,
    fiscal_year,
    inquiry_figures,
    issuance_figures,
    juki_figures,
    ratio_percent,
    security_figures,
)
from kumin.cards.records import (
    CardRecords,
    InquiryFunction,
    conform,
    inquiry_functions,
)
from kumin.errors import DataError, ParameterError

D = dt.date


def cards(*rows):
    cols = ["card_id", "origin", "applied_on", "prepared_on", "issued_on"]
    frame = pl.DataFrame(
        [dict(zip(cols, r, strict=True)) for r in rows],
        schema={
            "card_id": pl.Int64,
            "origin": pl.Utf8,
            "applied_on": pl.Date,
            "prepared_on": pl.Date,
            "issued_on": pl.Date,
        },
    )
    return conform(
        frame.with_columns(
            pl.col("card_id").alias("resident_no"),
            *(pl.lit(None, pl.Utf8).alias(c) for c in ("method", "channel", "window")),
            *(pl.lit(None, pl.Date).alias(c) for c in ("mailed_on", "returned_on")),
            pl.lit(None, pl.Int64).alias("reissue_of"),
        ),
        "cards",
    )


def events(*rows):
    return conform(
        pl.DataFrame(
            rows,
            schema={"card_id": pl.Int64, "date": pl.Date, "event": pl.Utf8, "reason": pl.Utf8},
            orient="row",
        ),
        "card_events",
    )


HERE = "issued_here"


@pytest.fixture()
def records():
    return CardRecords(
        cards=cards(
            (1, HERE, D(2021, 1, 5), D(2021, 2, 1), D(2021, 3, 31)),  # issued on FY end
            (2, HERE, D(2021, 2, 5), D(2021, 3, 20), D(2021, 4, 1)),  # issued next FY
            (3, HERE, D(2021, 3, 31), None, None),
            (4, HERE, D(2021, 4, 1), D(2021, 5, 1), None),
            (5, HERE, D(2020, 5, 1), D(2020, 6, 1), D(2020, 6, 10)),
            (6, "moved_in", None, None, None),
        ),
        card_events=events(
            (6, D(2021, 2, 1), "moved_in", None),
            (5, D(2021, 3, 1), "suspended", None),
            (5, D(2021, 4, 1), "resumed", None),  # April 1 itself: still suspended that day
            (1, D(2021, 3, 31), "revoked", "reissue"),
            (6, D(2021, 10, 1), "moved_out", None),
            (2, D(2022, 3, 31), "suspended", None),
            (2, D(2022, 3, 31), "resumed", None),  # same day: resumed counts as later
        ),
        population=pl.DataFrame(
            {"date": [D(2021, 3, 1), D(2021, 4, 1)], "population": [30, 16]},
            schema={"date": pl.Date, "population": pl.Int64},
        ),
    )


def test_issuance_cumulative_at_the_fiscal_year_end_inclusive(records):
    f = issuance_figures(records, fiscal_year(2020).end)
    assert (f.applications, f.prepared, f.issued, f.not_collected) == (4, 3, 2, 1)
    f = issuance_figures(records, fiscal_year(2021).end)
    assert (f.applications, f.prepared, f.issued, f.not_collected) == (5, 4, 3, 1)


def test_card_status_on_april_first(records):
    s = card_status(records, D(2021, 4, 1))
    # on the register: 1 (revoked 03-31), 5 (suspended), 6 (moved in); 2 issued 04-01
    assert (s.valid, s.operating, s.suspended, s.revoked) == (2, 1, 1, 1)
    assert s.population == 16 and s.ratio == Decimal("12.5")
    s = card_status(records, D(2022, 4, 1))
    assert (s.valid, s.operating, s.suspended, s.revoked) == (2, 2, 0, 1)  # 2 and 5; 6 left


def test_ratio_rounds_half_up():
    assert ratio_percent(1, 16) == Decimal("6.3")  # float round() would give 6.2
    assert ratio_percent(278_614, 919_200) == Decimal("30.3")
    assert ratio_percent(5, 0) is None


@pytest.mark.parametrize(
    "year,ja,en",
    [(2021, "令和3年度", "FY2021"), (2019, "令和元年度", "FY2019"), (2018, "平成30年度", "FY2018")],
)
def test_fiscal_year_labels(year, ja, en):
    fy = fiscal_year(year)
    assert (fy.label("ja"), fy.label("en")) == (ja, en)
    assert (fy.start, fy.end) == (D(year, 4, 1), D(year + 1, 3, 31))


@pytest.mark.parametrize("bad", [2002, 2101, "2021", 2021.0, True])
def test_fiscal_year_refuses_bad_values(bad):
    with pytest.raises(ParameterError):
        fiscal_year(bad)


def test_juki_since_start_counts_from_the_scheme_start():
    j = pl.DataFrame(
        {
            "date": [D(2003, 8, 24), D(2003, 8, 25), D(2020, 4, 1), D(2021, 4, 1), D(2022, 4, 1)],
            "kind": ["wide_area_issued"] * 5,
            "resident_no": [None] * 5,
            "other_code6": [None] * 5,
        }
    )
    rows = {
        r.kind: r
        for r in juki_figures(
            CardRecords(juki_transactions=conform(j, "juki_transactions")), fiscal_year(2021)
        )
    }
    r = rows["wide_area_issued"]
    assert (r.previous_fy, r.fy, r.since_start) == (1, 1, 3)
    assert rows["special_move_in"].since_start == 0


def test_inquiries_by_function_include_zero_rows_and_unknown_functions():
    q = pl.DataFrame(
        {
            "date": [D(2020, 4, 1), D(2021, 4, 1), D(2022, 3, 31), D(2021, 5, 1), D(2022, 4, 1)],
            "department": ["x"] * 5,
            "function": ["elections", "elections", "child_allowance", "dog_licence", "elections"],
            "operator": ["u"] * 5,
        }
    )
    f = inquiry_figures(CardRecords(inquiries=conform(q, "inquiries")), fiscal_year(2021))
    rows = {r.function: r for r in f.rows}
    assert len(f.rows) == 13 and f.rows[-1].function == "dog_licence"
    assert (rows["elections"].previous_fy, rows["elections"].fy) == (1, 1)
    assert rows["welfare_loans"].fy == 0
    assert (f.previous_total, f.total) == (1, 3)


def test_a_ward_extends_the_function_list():
    extra = InquiryFunction("dog_licence", "犬の登録", "Dog licences", "生活衛生課")
    functions = inquiry_functions([extra])
    assert functions[-1] is extra and len(functions) == 13
    with pytest.raises(DataError):
        inquiry_functions([extra, extra])


def test_security_figures_json_has_every_section(records):
    d = security_figures(records, 2021).to_dict()
    assert d["label_ja"] == "令和3年度" and d["previous_label_en"] == "FY2020"
    assert d["status_start"]["ratio"] == "12.5" and d["status_start"]["on"] == "2021-04-01"
    assert set(d) >= {
        "issuance_previous",
        "issuance",
        "certificates",
        "status_start",
        "status_end",
        "juki",
        "inquiries",
    }


def test_conform_reports_missing_columns():
    with pytest.raises(DataError) as info:
        conform(pl.DataFrame({"date": [D(2021, 1, 1)]}), "inquiries")
    assert {p.column for p in info.value.problems} == {"department", "function", "operator"}


def test_check_finds_steps_out_of_order():
    bad = CardRecords(cards=cards((1, HERE, D(2021, 3, 1), D(2021, 2, 1), None)))
    assert [p.key for p in bad.check()] == ["cards.records.step_order"]


def test_wareki():
    from kumin.cards.figures import wareki

    assert wareki(D(2022, 3, 31)) == "令和4年3月31日"
    assert wareki(D(2019, 5, 1)) == "令和元年5月1日" and wareki(D(2019, 4, 30)) == "平成31年4月30日"
    assert wareki(D(2012, 7, 9), with_day=False) == "平成24年7月"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_report_tables_lay_out_every_figure(records, lang):
    from kumin.cards.figures import report_tables

    tables = report_tables(security_figures(records, 2021), lang)
    assert [t.key for t in tables] == [
        "issuance",
        "certificates",
        "status",
        "juki_moves",
        "juki_wide_area",
        "inquiries",
    ]
    status = tables[2]
    assert status.rows[0][1].endswith("(12.5%)")
    assert status.values[1] == ["ratio", Decimal("12.5"), Decimal("12.5")]
    inquiries = tables[-1]
    assert len(inquiries.rows) == 13 and inquiries.values[-1] == ["total", 0, 0]
    for table in tables:
        assert all(len(row) == len(table.header) for row in table.rows)
        assert not any("cards.table" in cell for row in table.rows for cell in row)
    if lang == "ja":
        assert tables[0].header == ["", "令和2年度", "令和3年度"]
        assert tables[0].rows[0] == ["交付申請", "4件", "5件"]
        assert "平成24年7月" in tables[3].header[-1]
    else:
        assert tables[0].rows[0] == ["Applications", "4", "5"]
