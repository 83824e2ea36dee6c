"""The synthetic ward's card and Juki-net records give exactly the figures of the
source report (../shared/seeds/000_6f72770991084e8a.txt, sections 1(2), 3, 4),
typed here from the report rather than imported from the generator."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from kumin.cards.figures import security_figures
from kumin.cards.windows import DEFAULT_WINDOWS
from kumin.synth.cards import synthetic_card_records

D = dt.date

# 交付事務実績 (cumulative since 2016-01): 令和2年度, 令和3年度
ISSUANCE = {
    "applications": (395_217, 526_379),
    "prepared": (336_000, 478_855),
    "issued": (297_030, 439_506),
    "not_collected": (38_970, 39_349),
}
# 電子証明書発行実績: 令和2年度, 令和3年度, 制度開始(H28.1)からの累計
CERTIFICATES = {
    "signature": (166_053, 173_860, 584_353),
    "user_auth": (166_355, 166_427, 568_116),
}
# 運用状況: 有効 (人口比), 運用中, 一時停止, 廃止 — 令和3年4月1日, 令和4年4月1日
STATUS = {
    D(2021, 4, 1): (278_614, "30.3", 278_177, 437, 20_285),
    D(2022, 4, 1): (411_263, "44.8", 410_654, 609, 31_439),
}
# 住基ネット関連の各種実績: 令和2年度, 令和3年度, 制度開始からの累計
JUKI = {
    "special_move_out": (5_390, 9_254, 25_335),
    "special_move_in": (6_912, 12_026, 39_030),
    "continued_use": (13_795, 23_119, 63_545),
    "wide_area_issued": (795, 641, 10_969),
    "wide_area_sent": (1_241, 1_096, 18_772),
}
# 個人番号利用事務別の本人確認情報照会件数: 令和2年度, 令和3年度
INQUIRIES = [
    ("住民税", 6_850, 7_725),
    ("国民健康保険", 220, 176),
    ("介護保険", 86, 70),
    ("後期高齢", 0, 111),
    ("生活保護", 75, 37),
    ("児童手当", 11_655, 10_057),
    ("児童扶養手当", 184, 170),
    ("特別児童扶養手当", 34, 19),
    ("福祉資金貸付", 6, 0),
    ("予防接種", 13, 18),
    ("選挙", 1_807, 428),
    ("公的給付", 0, 359),
]
PRINTED_TOTALS = (20_930, 19_180)


@pytest.fixture(scope="module")
def records():
    return synthetic_card_records(seed=0)


@pytest.fixture(scope="module")
def figures(records):
    return security_figures(records, 2021)


def test_issuance_figures(figures):
    for name, (fy20, fy21) in ISSUANCE.items():
        assert getattr(figures.issuance_previous, name) == fy20, name
        assert getattr(figures.issuance, name) == fy21, name
    assert figures.issuance.as_of == D(2022, 3, 31)


def test_certificate_figures(figures):
    got = {r.cert_type: (r.previous_fy, r.fy, r.since_start) for r in figures.certificates}
    assert got == CERTIFICATES


def test_card_status_figures(figures):
    for status in (figures.status_start, figures.status_end):
        valid, ratio, operating, suspended, revoked = STATUS[status.on]
        assert (status.valid, status.operating, status.suspended, status.revoked) == (
            valid,
            operating,
            suspended,
            revoked,
        )
        assert status.ratio == Decimal(ratio)
        assert 900_000 < status.population < 940_000


def test_juki_figures(figures):
    got = {r.kind: (r.previous_fy, r.fy, r.since_start) for r in figures.juki}
    assert got == JUKI
    starts = {r.kind: r.scheme_start for r in figures.juki}
    assert starts["special_move_in"] == D(2012, 7, 9) and starts["wide_area_sent"].year == 2003


def test_inquiry_figures(records):
    from kumin.cards.records import inquiry_functions
    from kumin.synth.card_figures import NOT_ITEMISED

    figures = security_figures(records, 2021, inquiry_functions(extra=(NOT_ITEMISED,)))
    got = [(r.label_ja, r.previous_fy, r.fy) for r in figures.inquiries.rows]
    # The report prints 19,180 for 令和3年度, but its own rows add up to 19,170: every
    # listed row is exact, and the 10 inquiries it does not itemise get their own row.
    assert sum(r[2] for r in INQUIRIES) == 19_170 != PRINTED_TOTALS[1]
    assert got == [*INQUIRIES, ("その他（報告書の内訳に記載なし）", 0, 10)]
    assert (figures.inquiries.previous_total, figures.inquiries.total) == PRINTED_TOTALS


def test_unitemised_inquiries_get_a_row_even_without_their_function(figures):
    last = figures.inquiries.rows[-1]
    assert (last.function, last.previous_fy, last.fy) == ("not_itemised", 0, 10)
    assert figures.inquiries.total == PRINTED_TOTALS[1]


def test_fy2020_column_is_the_previous_fiscal_year(records, figures):
    fy20 = security_figures(records, 2020)
    assert fy20.issuance == figures.issuance_previous
    assert fy20.status_end == figures.status_start
    assert [r.fy for r in fy20.certificates] == [r.previous_fy for r in figures.certificates]
    assert fy20.label_ja == "令和2年度"


def test_records_are_consistent(records):
    assert records.check() == []
    cards = records.cards
    # visit-at-application only from 2017-09-20, handed over by post (mailed first)
    app = cards.filter(pl.col("method") == "visit_at_application")
    assert app.height > 10_000
    assert app["applied_on"].min() >= D(2017, 9, 20)
    delivered = app.filter(pl.col("issued_on").is_not_null())
    assert (delivered["mailed_on"] <= delivered["issued_on"]).all()
    assert (delivered["mailed_on"] >= delivered["prepared_on"]).all()
    # re-issued cards replace an earlier card of the same resident
    re = cards.filter(pl.col("reissue_of").is_not_null()).join(
        cards.select(
            pl.col("card_id").alias("reissue_of"), pl.col("resident_no").alias("old_resident")
        ),
        on="reissue_of",
    )
    assert re.height > 1_000 and (re["resident_no"] == re["old_resident"]).all()
    # each certificate is on a card that was on the register that day
    first = records.certificates.group_by("card_id").agg(pl.col("date").min())
    joined = first.join(cards.select("card_id", "issued_on"), on="card_id").filter(
        pl.col("issued_on").is_not_null()
    )
    assert joined.height > 400_000 and (joined["date"] >= joined["issued_on"]).all()


def test_cards_are_handed_over_on_days_their_window_is_open(records):
    by_code = {w.code: w for w in DEFAULT_WINDOWS}
    handed = records.cards.filter(
        (pl.col("method") == "visit_at_issuance") & pl.col("issued_on").is_not_null()
    ).sample(2_000, seed=1)
    for code, day in handed.select("window", "issued_on").iter_rows():
        assert by_code[code].is_open(day), (code, day)


def test_another_seed_gives_the_same_figures_but_other_records(records, figures):
    other = synthetic_card_records(seed=7)
    f = security_figures(other, 2021)
    assert f.to_dict() == figures.to_dict()
    assert not other.cards["applied_on"].equals(records.cards["applied_on"])


def test_figures_are_computed_from_the_records(records, figures):
    # one issued card fewer, one more suspension: the figures follow the records
    issued = records.cards.filter(pl.col("issued_on") == D(2021, 6, 1))
    assert issued.height > 0
    gone = issued["card_id"][0]
    fewer = records.cards.filter(pl.col("card_id") != gone)
    from kumin.cards.records import CardRecords

    changed = security_figures(
        CardRecords(
            cards=fewer,
            card_events=records.card_events.filter(pl.col("card_id") != gone),
            certificates=records.certificates,
            juki_transactions=records.juki_transactions,
            inquiries=records.inquiries.head(100),
            population=records.population,
        ),
        2021,
    )
    assert changed.issuance.issued == figures.issuance.issued - 1
    assert changed.issuance.applications == figures.issuance.applications - 1
    assert changed.inquiries.previous_total + changed.inquiries.total == 100
