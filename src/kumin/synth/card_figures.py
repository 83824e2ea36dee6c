"""The source report's figures that the synthetic card history reproduces.

Setagaya City's FY2020/FY2021 security report (sections 1(2), 3 and 4), the ward's
population as the Ministry used it, and the shape of its cumulative issuance
(mynumbercard_statistics). :mod:`kumin.synth.cards` draws a card history whose
yearly figures are exactly these; tests compare the report kumin computes with them.
"""

from __future__ import annotations

import datetime as dt

from kumin.cards.records import InquiryFunction

# --- the source report's figures (sections 1(2), 3, 4), by fiscal year ------------
SOURCE_REPORT = {
    "issuance": {  # cumulative since 2016-01 at the fiscal year's end
        2020: {"applications": 395_217, "prepared": 336_000, "issued": 297_030},
        2021: {"applications": 526_379, "prepared": 478_855, "issued": 439_506},
    },
    "certificates": {  # (FY2020, FY2021, since the start up to 2022-03-31)
        "signature": (166_053, 173_860, 584_353),
        "user_auth": (166_355, 166_427, 568_116),
    },
    "status": {  # on April 1: valid, suspended, revoked (cumulative)
        dt.date(2021, 4, 1): {"valid": 278_614, "suspended": 437, "revoked": 20_285},
        dt.date(2022, 4, 1): {"valid": 411_263, "suspended": 609, "revoked": 31_439},
    },
    "juki": {  # (FY2020, FY2021, since the scheme began up to 2022-03-31)
        "special_move_out": (5_390, 9_254, 25_335),
        "special_move_in": (6_912, 12_026, 39_030),
        "continued_use": (13_795, 23_119, 63_545),
        "wide_area_issued": (795, 641, 10_969),
        "wide_area_sent": (1_241, 1_096, 18_772),
    },
    "inquiries": {  # (FY2020, FY2021)
        "residential_tax": (6_850, 7_725),
        "national_health_insurance": (220, 176),
        "long_term_care": (86, 70),
        "late_stage_elderly": (0, 111),
        "public_assistance": (75, 37),
        "child_allowance": (11_655, 10_057),
        "child_rearing_allowance": (184, 170),
        "special_child_rearing_allowance": (34, 19),
        "welfare_loans": (6, 0),
        "immunisation": (13, 18),
        "elections": (1_807, 428),
        "public_benefits": (0, 359),
    },
}
# The report's FY2021 inquiry rows add up to 19,170 but it prints 19,180: every
# listed row is kept exact and the 10 inquiries the report does not itemise are
# put under a function outside its list, so that the total is the printed one.
PRINTED_INQUIRY_TOTALS = (20_930, 19_180)
NOT_ITEMISED = InquiryFunction(
    "not_itemised",
    "その他（報告書の内訳に記載なし）",
    "Other (not itemised in the source report)",
    "（内訳なし）",
)
NOT_ITEMISED_COUNTS = tuple(
    total - sum(counts[i] for counts in SOURCE_REPORT["inquiries"].values())
    for i, total in enumerate(PRINTED_INQUIRY_TOTALS)
)  # (0, 10)

# Population: 1 January counts of 2016–2022 are the ward's real ones as the
# Ministry used them (人口算出基準日 in mynumbercard_statistics
# static/data/*/all_localgovs.csv, 世田谷区); the two 1 April counts are chosen
# within the range that gives the report's ratios (30.3 %, 44.8 %).
# fmt: off
POPULATION_ANCHORS = (
    (dt.date(2016, 1, 1), 883_289), (dt.date(2017, 1, 1), 892_535),
    (dt.date(2018, 1, 1), 900_107), (dt.date(2019, 1, 1), 908_907),
    (dt.date(2020, 1, 1), 917_486), (dt.date(2021, 1, 1), 920_372),
    (dt.date(2021, 4, 1), 919_200), (dt.date(2022, 1, 1), 916_208),
    (dt.date(2022, 4, 1), 917_100),
)
# fmt: on

# Cumulative cards issued to the ward's residents (交付枚数) by snapshot date, from
# mynumbercard_statistics static/data/<date>/all_localgovs.csv (世田谷区, 131121);
# only the shape is used, to spread issuance over the months.
# fmt: off
SETAGAYA_ISSUED = (
    ("2016-01-01", 0), ("2017-03-08", 82_966), ("2017-05-15", 91_996), ("2017-08-31", 102_068),
    ("2017-12-01", 109_577), ("2018-03-01", 117_497), ("2018-07-01", 130_604),
    ("2018-12-01", 139_204), ("2019-04-01", 151_847), ("2019-07-01", 166_859),
    ("2019-09-16", 174_400), ("2019-11-01", 178_135), ("2020-01-20", 185_858),
    ("2020-03-01", 191_172), ("2020-04-01", 196_561), ("2020-05-01", 201_186),
    ("2020-06-01", 204_259), ("2020-07-01", 208_340), ("2020-08-01", 214_743),
    ("2020-09-01", 222_447), ("2020-10-01", 232_089), ("2020-11-01", 241_485),
    ("2020-12-01", 251_784), ("2021-01-01", 264_230), ("2021-02-01", 275_169),
    ("2021-03-01", 285_351), ("2021-04-01", 297_403), ("2021-05-01", 305_363),
    ("2021-06-01", 313_317), ("2021-07-01", 325_963), ("2021-08-01", 340_232),
    ("2021-09-01", 357_352), ("2021-10-01", 372_591), ("2021-11-01", 388_272),
    ("2021-12-01", 401_553), ("2022-01-01", 413_176), ("2022-02-01", 422_990),
    ("2022-03-01", 431_186), ("2022-04-01", 439_707),
)
# fmt: on
