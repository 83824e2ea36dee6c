"""Record forms for My Number card issuance and Juki-net business, as polars frames.

Every figure of the yearly security report is computed from these records; none is
stored. The forms are aggregate-friendly: one row per card (with the dates of its
issuance steps), one row per state change, certificate event, Juki-net transaction
or identity inquiry, and one row per population count date.

============================  =====================================================
frame                         one row per
============================  =====================================================
``cards``                     card, issued here or moved in on continued use
``card_events``               state change: moved_in, suspended, resumed, revoked,
                              moved_out (moved out, the card continues elsewhere)
``certificates``              electronic-certificate event (signature / user_auth)
``juki_transactions``         Juki-net transaction (special move-out, …, wide-area)
``inquiries``                 identity-information inquiry by a My Number function
``population``                population count on a date
============================  =====================================================

Dates are ``pl.Date``. Codes are plain English strings so that they survive CSV,
JSON and SQL unchanged; labels come from the message catalogue (``cards.toml``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl

from kumin.errors import DataError, Problem

SCHEME_START = dt.date(2016, 1, 1)  # My Number cards (制度開始 平成28年1月)
VISIT_AT_APPLICATION_START = dt.date(2017, 9, 20)  # 申請時来庁方式
SPECIAL_MOVE_START = dt.date(2012, 7, 9)  # 特例転出入・継続利用 (平成24年7月)
WIDE_AREA_START = dt.date(2003, 8, 25)  # 住民票広域交付 (平成15年8月)


class Method(StrEnum):
    """Issuance method (交付方式)."""

    AT_ISSUANCE = "visit_at_issuance"  # 交付時来庁方式 (交)
    AT_APPLICATION = "visit_at_application"  # 申請時来庁方式 (申)

    @property
    def code_ja(self) -> str:
        return "交" if self is Method.AT_ISSUANCE else "申"


class Channel(StrEnum):
    """How the application reached J-LIS."""

    MAIL = "mail"
    WEB = "web"
    PHOTO_BOOTH = "photo_booth"
    WINDOW = "window"  # taken at a ward window (visit-at-application)


class Origin(StrEnum):
    ISSUED_HERE = "issued_here"
    MOVED_IN = "moved_in"  # card issued elsewhere, continued use on moving in (継続利用)


class CardEvent(StrEnum):
    MOVED_IN = "moved_in"
    SUSPENDED = "suspended"  # 一時停止 (e.g. reported lost)
    RESUMED = "resumed"
    REVOKED = "revoked"  # 廃止
    MOVED_OUT = "moved_out"  # left the ward, card continues elsewhere


class RevokeReason(StrEnum):
    MOVE_OUT = "move_out"  # continued use lapsed after moving out
    DEATH = "death"
    EXPIRY = "expiry"
    RETURN = "return"  # 自主返納
    REISSUE = "reissue"  # replaced by a new card


class CertificateType(StrEnum):
    SIGNATURE = "signature"  # 署名用電子証明書
    USER_AUTH = "user_auth"  # 利用者証明用電子証明書


class CertificateAction(StrEnum):
    NEW = "new"  # issued with the card
    RENEWAL = "renewal"  # 更新 (expiry)
    REISSUE = "reissue"  # 再発行 (e.g. signature lapsed on an address change)
    PIN_RESET = "pin_reset"  # 再発行 after a forgotten PIN (パスワード忘れ等再設定)


class JukiKind(StrEnum):
    SPECIAL_MOVE_OUT = "special_move_out"  # 特例転出
    SPECIAL_MOVE_IN = "special_move_in"  # 特例転入
    CONTINUED_USE = "continued_use"  # マイナンバーカード継続利用
    WIDE_AREA_ISSUED = "wide_area_issued"  # 住民票広域交付: issued here for another municipality
    WIDE_AREA_SENT = "wide_area_sent"  # 証明書情報の送信: our resident's, issued elsewhere


JUKI_SCHEME_START: dict[JukiKind, dt.date] = {
    JukiKind.SPECIAL_MOVE_OUT: SPECIAL_MOVE_START,
    JukiKind.SPECIAL_MOVE_IN: SPECIAL_MOVE_START,
    JukiKind.CONTINUED_USE: SPECIAL_MOVE_START,
    JukiKind.WIDE_AREA_ISSUED: WIDE_AREA_START,
    JukiKind.WIDE_AREA_SENT: WIDE_AREA_START,
}


@dataclass(frozen=True)
class InquiryFunction:
    """A My Number function (個人番号利用事務) that may query identity information."""

    code: str
    name_ja: str
    name_en: str
    department: str  # the owning department (所管課), as the ward names it

    def label(self, lang: str = "ja") -> str:
        return self.name_en if lang == "en" else self.name_ja


# The report's order (section 4). Department names are the usual Setagaya ones;
# a ward edits them or appends functions with :func:`inquiry_functions`.
DEFAULT_INQUIRY_FUNCTIONS: tuple[InquiryFunction, ...] = (
    InquiryFunction("residential_tax", "住民税", "Residential tax", "課税課"),
    InquiryFunction(
        "national_health_insurance", "国民健康保険", "National health insurance", "国保・年金課"
    ),
    InquiryFunction("long_term_care", "介護保険", "Long-term-care insurance", "介護保険課"),
    InquiryFunction("late_stage_elderly", "後期高齢", "Late-stage elderly care", "国保・年金課"),
    InquiryFunction("public_assistance", "生活保護", "Public assistance", "生活福祉課"),
    InquiryFunction("child_allowance", "児童手当", "Child allowance", "子ども家庭課"),
    InquiryFunction(
        "child_rearing_allowance", "児童扶養手当", "Child-rearing allowance", "子ども家庭課"
    ),
    InquiryFunction(
        "special_child_rearing_allowance",
        "特別児童扶養手当",
        "Special child-rearing allowance",
        "子ども家庭課",
    ),
    InquiryFunction("welfare_loans", "福祉資金貸付", "Welfare loans", "生活福祉課"),
    InquiryFunction("immunisation", "予防接種", "Immunisation", "感染症対策課"),
    InquiryFunction("elections", "選挙", "Elections", "選挙管理委員会事務局"),
    InquiryFunction("public_benefits", "公的給付", "Public benefits", "臨時給付金担当課"),
)


def inquiry_functions(
    extra: Iterable[InquiryFunction] = (),
    base: Iterable[InquiryFunction] = DEFAULT_INQUIRY_FUNCTIONS,
) -> tuple[InquiryFunction, ...]:
    """The function list in report order, with the ward's own functions appended.

    A code given twice raises a :class:`DataError` (a report row would be ambiguous).
    """
    out = tuple(base) + tuple(extra)
    seen: set[str] = set()
    problems = []
    for i, fn in enumerate(out):
        if fn.code in seen:
            problems.append(
                Problem(i + 1, "code", "cards.records.duplicate_function", {"code": fn.code})
            )
        seen.add(fn.code)
    if problems:
        raise DataError("cards.records.bad_functions", problems=problems)
    return out


# Frame schemas. Nullable columns hold null where a step has not happened.
CARDS_SCHEMA: dict[str, pl.DataType] = {
    "card_id": pl.Int64,
    "resident_no": pl.Int64,  # internal resident number (never the My Number)
    "origin": pl.Utf8,  # Origin
    "method": pl.Utf8,  # Method; null for moved-in cards
    "channel": pl.Utf8,  # Channel; null for moved-in cards
    "applied_on": pl.Date,
    "prepared_on": pl.Date,  # 交付前設定 done
    "mailed_on": pl.Date,  # visit-at-application only
    "returned_on": pl.Date,  # restricted-delivery mail came back
    "issued_on": pl.Date,  # handed over at a window, or delivered by post
    # window code: where handed over (visit-at-issuance) or where the application
    # was taken (visit-at-application)
    "window": pl.Utf8,
    "reissue_of": pl.Int64,  # the card this one replaces
}

CARD_EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "card_id": pl.Int64,
    "date": pl.Date,
    "event": pl.Utf8,  # CardEvent
    "reason": pl.Utf8,  # RevokeReason for revoked, else null
}

CERTIFICATES_SCHEMA: dict[str, pl.DataType] = {
    "card_id": pl.Int64,
    "date": pl.Date,
    "cert_type": pl.Utf8,  # CertificateType
    "action": pl.Utf8,  # CertificateAction
}

JUKI_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date,
    "kind": pl.Utf8,  # JukiKind
    "resident_no": pl.Int64,  # null where the person is not (or no longer) ours
    "other_code6": pl.Utf8,  # the other municipality's 6-digit code, where known
}

INQUIRIES_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date,
    "department": pl.Utf8,
    "function": pl.Utf8,  # InquiryFunction.code
    "operator": pl.Utf8,  # operator id on the integrated terminal
}

POPULATION_SCHEMA: dict[str, pl.DataType] = {"date": pl.Date, "population": pl.Int64}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "cards": CARDS_SCHEMA,
    "card_events": CARD_EVENTS_SCHEMA,
    "certificates": CERTIFICATES_SCHEMA,
    "juki_transactions": JUKI_SCHEMA,
    "inquiries": INQUIRIES_SCHEMA,
    "population": POPULATION_SCHEMA,
}


def empty_frame(name: str) -> pl.DataFrame:
    """An empty frame of one of the :data:`SCHEMAS`."""
    return pl.DataFrame(schema=SCHEMAS[name])


def conform(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """``frame`` with exactly the columns and types of schema ``name``.

    Missing columns raise a :class:`DataError` listing every one; extra columns are
    dropped; types are cast strictly (a date that is not a date is an error).
    """
    schema = SCHEMAS[name]
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise DataError(
            "cards.records.missing_columns",
            problems=[Problem(None, c, "core.tabular.missing_column") for c in missing],
            frame=name,
        )
    try:
        return frame.select([pl.col(c).cast(t, strict=True) for c, t in schema.items()])
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        raise DataError("cards.records.bad_types", frame=name, detail=str(exc)[:200]) from None


@dataclass
class CardRecords:
    """All card and Juki-net records of a ward: the input of :mod:`kumin.cards.figures`."""

    cards: pl.DataFrame = field(default_factory=lambda: empty_frame("cards"))
    card_events: pl.DataFrame = field(default_factory=lambda: empty_frame("card_events"))
    certificates: pl.DataFrame = field(default_factory=lambda: empty_frame("certificates"))
    juki_transactions: pl.DataFrame = field(
        default_factory=lambda: empty_frame("juki_transactions")
    )
    inquiries: pl.DataFrame = field(default_factory=lambda: empty_frame("inquiries"))
    population: pl.DataFrame = field(default_factory=lambda: empty_frame("population"))

    def conformed(self) -> CardRecords:
        """A copy whose every frame has exactly its schema (see :func:`conform`)."""
        return CardRecords(**{name: conform(getattr(self, name), name) for name in SCHEMAS})

    def row_counts(self) -> dict[str, int]:
        return {name: getattr(self, name).height for name in SCHEMAS}

    def check(self) -> list[Problem]:
        """Consistency problems an auditor would raise; empty when the records agree.

        Checks step order on each card (applied ≤ prepared ≤ issued), that a
        visit-at-application card is not dated before 2017-09-20, that every event
        and certificate names a known card, and that no card ends twice.
        """
        problems: list[Problem] = []
        c = self.cards
        order = c.filter(
            (pl.col("prepared_on") < pl.col("applied_on"))
            | (pl.col("issued_on") < pl.col("prepared_on"))
        )
        for cid in order["card_id"].head(20).to_list():
            problems.append(Problem(None, "card_id", "cards.records.step_order", {"card": cid}))
        early = c.filter(
            (pl.col("method") == Method.AT_APPLICATION.value)
            & (pl.col("applied_on") < VISIT_AT_APPLICATION_START)
        )
        for cid in early["card_id"].head(20).to_list():
            problems.append(
                Problem(None, "method", "cards.records.method_too_early", {"card": cid})
            )
        known = c.select("card_id")
        for name in ("card_events", "certificates"):
            orphans = getattr(self, name).join(known, on="card_id", how="anti")
            if orphans.height:
                problems.append(
                    Problem(
                        None,
                        "card_id",
                        "cards.records.unknown_card",
                        {"frame": name, "count": orphans.height},
                    )
                )
        ends = (
            self.card_events.filter(
                pl.col("event").is_in([CardEvent.REVOKED.value, CardEvent.MOVED_OUT.value])
            )
            .group_by("card_id")
            .len()
            .filter(pl.col("len") > 1)
        )
        if ends.height:
            problems.append(
                Problem(None, "card_id", "cards.records.ended_twice", {"count": ends.height})
            )
        return problems
