"""The yearly figures of the security-status report, computed from the records.

Sections 1(2), 3 and 4 of 「住民基本台帳ネットワークシステム及びマイナンバー制度の
セキュリティ対策の実施状況等について」: every table is computed here from
:class:`~kumin.cards.records.CardRecords`, for a fiscal year and the year before it,
as the report prints two columns.

Conventions (the report's):

* a fiscal year runs April–March; FY2021 is 令和3年度 (2021-04-01 .. 2022-03-31);
* issuance figures are cumulative since the scheme began (2016-01) at a fiscal
  year's last day, inclusive;
* card status "on April 1" is the state at the start of that day, i.e. every event
  dated up to March 31 counted; revoked cards are cumulative;
* the population ratio is rounded half up to one decimal.

Example
-------
>>> from kumin.cards.figures import fiscal_year
>>> fy = fiscal_year(2021)
>>> fy.label("ja"), fy.label("en"), str(fy.start), str(fy.end)
('令和3年度', 'FY2021', '2021-04-01', '2022-03-31')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from kumin.cards.records import (
    JUKI_SCHEME_START,
    CardEvent,
    CardRecords,
    CertificateType,
    InquiryFunction,
    JukiKind,
    Origin,
    inquiry_functions,
)
from kumin.errors import ParameterError
from kumin.reports.sections import ReportTable
from kumin.reports.sections import jsonable as _jsonable

REIWA_START = 2019  # 令和元年 = 2019


@dataclass(frozen=True)
class FiscalYear:
    """A Japanese fiscal year, April to March, named by the year it starts in."""

    year: int

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 4, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year + 1, 3, 31)

    @property
    def next_start(self) -> dt.date:
        return dt.date(self.year + 1, 4, 1)

    def label(self, lang: str = "ja") -> str:
        """``令和3年度`` / ``FY2021`` (Heisei for years before 2019, 令和元年度 for 2019)."""
        if lang == "en":
            return f"FY{self.year}"
        if self.year >= REIWA_START:
            n = self.year - REIWA_START + 1
            return "令和元年度" if n == 1 else f"令和{n}年度"
        return f"平成{self.year - 1988}年度"

    def previous(self) -> FiscalYear:
        return FiscalYear(self.year - 1)


def fiscal_year(year: int) -> FiscalYear:
    """The fiscal year starting in April of ``year`` (2003–2100)."""
    if not isinstance(year, int) or isinstance(year, bool) or not 2003 <= year <= 2100:
        raise ParameterError("cards.figures.bad_fy", value=repr(year))
    return FiscalYear(year)


def fiscal_year_of(day: dt.date) -> FiscalYear:
    return FiscalYear(day.year if day.month >= 4 else day.year - 1)


def ratio_percent(part: int, whole: int | None) -> Decimal | None:
    """``part / whole`` in percent, rounded half up to one decimal (30.3)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


# --- section 1(2): issuance, certificates, card status ----------------------------


@dataclass(frozen=True)
class IssuanceFigures:
    """Cumulative since 2016-01 at ``as_of`` (inclusive): 交付申請, 交付前設定済, 交付済, 未交付."""

    as_of: dt.date
    applications: int
    prepared: int
    issued: int
    not_collected: int


def issuance_figures(records: CardRecords, as_of: dt.date) -> IssuanceFigures:
    """Applications, prepared, issued and not-collected cards, cumulative at ``as_of``.

    Only cards issued here count (moved-in cards were applied for elsewhere).
    "Not collected" is prepared and not issued by ``as_of``, including cards whose
    holder cancelled, moved out or died, as the report notes.
    """
    c = records.cards.filter(pl.col("origin") == Origin.ISSUED_HERE.value)
    prepared = pl.col("prepared_on") <= as_of
    issued = pl.col("issued_on") <= as_of
    row = c.select(
        (pl.col("applied_on") <= as_of).sum().alias("a"),
        prepared.sum().alias("p"),
        issued.sum().alias("i"),
        (prepared & ~issued.fill_null(False)).sum().alias("n"),
    ).row(0)
    return IssuanceFigures(as_of, *(int(v or 0) for v in row))


@dataclass(frozen=True)
class CertificateRow:
    """Certificates issued (new, renewed, re-issued) of one type."""

    cert_type: str
    previous_fy: int
    fy: int
    since_start: int  # since 2016-01, up to the fiscal year's end


def certificate_figures(records: CardRecords, fy: FiscalYear) -> list[CertificateRow]:
    """Certificates issued per fiscal year (``fy`` and the one before) and since the start."""
    c = records.certificates
    prev = fy.previous()
    rows = []
    for cert_type in CertificateType:
        d = c.filter(pl.col("cert_type") == cert_type.value)["date"]
        rows.append(
            CertificateRow(
                cert_type.value,
                int(((d >= prev.start) & (d <= prev.end)).sum()),
                int(((d >= fy.start) & (d <= fy.end)).sum()),
                int((d <= fy.end).sum()),
            )
        )
    return rows


@dataclass(frozen=True)
class StatusFigures:
    """Cards on the register at the start of ``on`` (有効カード, 運用中, 一時停止, 廃止)."""

    on: dt.date
    valid: int
    operating: int
    suspended: int
    revoked: int  # cumulative
    population: int | None
    ratio: Decimal | None  # valid / population in percent, one decimal


def population_on(records: CardRecords, on: dt.date) -> int | None:
    """The latest population count dated on or before ``on``."""
    p = records.population.filter(pl.col("date") <= on).sort("date")
    return int(p["population"][-1]) if p.height else None


def card_status(records: CardRecords, on: dt.date) -> StatusFigures:
    """Valid (operating / suspended) and revoked cards at the start of ``on``.

    A card is on the register from its issuance here or its move-in on continued
    use until it is revoked or moves out; valid means on the register that day.
    """
    ev = records.card_events.filter(pl.col("date") < on)
    moved_in = (
        ev.filter(pl.col("event") == CardEvent.MOVED_IN.value)
        .group_by("card_id")
        .agg(pl.col("date").min().alias("moved_in_on"))
    )
    ended = (
        ev.filter(pl.col("event").is_in([CardEvent.REVOKED.value, CardEvent.MOVED_OUT.value]))
        .select("card_id")
        .unique()
    )
    here = records.cards.filter(pl.col("issued_on") < on).select("card_id")
    register = pl.concat([here, moved_in.select("card_id")]).unique()
    valid = register.join(ended, on="card_id", how="anti")
    last = (
        ev.filter(pl.col("event").is_in([CardEvent.SUSPENDED.value, CardEvent.RESUMED.value]))
        # a suspension and its resumption on the same day: the resumption is later
        .sort(["date", pl.col("event") == CardEvent.RESUMED.value])
        .group_by("card_id")
        .agg(pl.col("event").last())
    )
    suspended = valid.join(
        last.filter(pl.col("event") == CardEvent.SUSPENDED.value), on="card_id", how="semi"
    ).height
    revoked = ev.filter(pl.col("event") == CardEvent.REVOKED.value)["card_id"].n_unique()
    population = population_on(records, on)
    return StatusFigures(
        on,
        valid.height,
        valid.height - suspended,
        suspended,
        int(revoked),
        population,
        ratio_percent(valid.height, population),
    )


# --- section 3: Juki-net transactions --------------------------------------------


@dataclass(frozen=True)
class JukiRow:
    kind: str
    previous_fy: int
    fy: int
    since_start: int  # since the scheme began, up to the fiscal year's end
    scheme_start: dt.date


def juki_figures(records: CardRecords, fy: FiscalYear) -> list[JukiRow]:
    """Special move-out/in, continued use and wide-area certificates, per year and since start."""
    j = records.juki_transactions
    prev = fy.previous()
    rows = []
    for kind in JukiKind:
        start = JUKI_SCHEME_START[kind]
        d = j.filter(pl.col("kind") == kind.value)["date"]
        rows.append(
            JukiRow(
                kind.value,
                int(((d >= prev.start) & (d <= prev.end)).sum()),
                int(((d >= fy.start) & (d <= fy.end)).sum()),
                int(((d >= start) & (d <= fy.end)).sum()),
                start,
            )
        )
    return rows


# --- section 4: identity inquiries -----------------------------------------------


@dataclass(frozen=True)
class InquiryRow:
    function: str
    label_ja: str
    label_en: str
    previous_fy: int
    fy: int


@dataclass(frozen=True)
class InquiryFigures:
    rows: list[InquiryRow]
    previous_total: int
    total: int


def inquiry_figures(
    records: CardRecords,
    fy: FiscalYear,
    functions: tuple[InquiryFunction, ...] | None = None,
) -> InquiryFigures:
    """Identity inquiries by My Number function for ``fy`` and the year before, with totals.

    Every function of the list gets a row, zero included; a function code found in
    the records but not in the list still gets a row (after the list) so that the
    total always equals the number of inquiries.
    """
    functions = functions if functions is not None else inquiry_functions()
    prev = fy.previous()
    q = records.inquiries.filter((pl.col("date") >= prev.start) & (pl.col("date") <= fy.end))
    counts = q.group_by("function").agg(
        (pl.col("date") <= prev.end).sum().alias("prev"),
        (pl.col("date") >= fy.start).sum().alias("cur"),
    )
    by_code = {r[0]: (int(r[1]), int(r[2])) for r in counts.iter_rows()}
    rows = []
    for fn in functions:
        p, c = by_code.pop(fn.code, (0, 0))
        rows.append(InquiryRow(fn.code, fn.name_ja, fn.name_en, p, c))
    for code in sorted(by_code):
        p, c = by_code[code]
        rows.append(InquiryRow(code, code, code, p, c))
    return InquiryFigures(rows, sum(r.previous_fy for r in rows), sum(r.fy for r in rows))


# --- the whole report --------------------------------------------------------------


@dataclass(frozen=True)
class SecurityFigures:
    """Every figure of sections 1(2), 3 and 4 for fiscal year ``fy`` (and the year before)."""

    fy: int
    label_ja: str
    label_en: str
    previous_label_ja: str
    previous_label_en: str
    issuance_previous: IssuanceFigures  # at the previous fiscal year's end
    issuance: IssuanceFigures  # at this fiscal year's end
    certificates: list[CertificateRow]
    status_start: StatusFigures  # on April 1 of the fiscal year
    status_end: StatusFigures  # on April 1 after it
    juki: list[JukiRow]
    inquiries: InquiryFigures

    def to_dict(self) -> dict[str, Any]:
        """Every figure, JSON-ready (dates as ISO strings, ratios as strings like "30.3")."""
        return _jsonable(asdict(self))


def security_figures(
    records: CardRecords,
    fy: int,
    functions: tuple[InquiryFunction, ...] | None = None,
) -> SecurityFigures:
    """All tables of the report for fiscal year ``fy`` (e.g. 2021 for 令和3年度).

    Example
    -------
    >>> from kumin.cards.records import CardRecords
    >>> f = security_figures(CardRecords(), 2021)
    >>> f.label_ja, f.issuance.as_of.isoformat(), f.inquiries.total
    ('令和3年度', '2022-03-31', 0)
    """
    year = fiscal_year(fy)
    prev = year.previous()
    return SecurityFigures(
        fy=year.year,
        label_ja=year.label("ja"),
        label_en=year.label("en"),
        previous_label_ja=prev.label("ja"),
        previous_label_en=prev.label("en"),
        issuance_previous=issuance_figures(records, prev.end),
        issuance=issuance_figures(records, year.end),
        certificates=certificate_figures(records, year),
        status_start=card_status(records, year.start),
        status_end=card_status(records, year.next_start),
        juki=juki_figures(records, year),
        inquiries=inquiry_figures(records, year, functions),
    )


# --- the tables as the report lays them out -------------------------------------------


def wareki(day: dt.date, with_day: bool = True) -> str:
    """A date in the Japanese era calendar: 令和4年3月31日, 平成24年7月 (元年 for year 1)."""
    if day >= dt.date(2019, 5, 1):
        era, year = "令和", day.year - 2018
    elif day >= dt.date(1989, 1, 8):
        era, year = "平成", day.year - 1988
    else:
        era, year = "昭和", day.year - 1925
    text = f"{era}{'元' if year == 1 else year}年{day.month}月"
    return f"{text}{day.day}日" if with_day else text


def report_tables(figures: SecurityFigures, lang: str = "ja") -> list[ReportTable]:
    """The six tables of sections 1(2), 3 and 4, in the report's order and wording."""
    from kumin.core.i18n import t

    def lab(key: str, **kw: Any) -> str:
        return t(f"cards.table.{key}", lang, **kw)

    def n(value: int, unit: str) -> str:
        return t(f"cards.table.count_{unit}", lang, count=f"{value:,}")

    def day(d: dt.date) -> str:
        return wareki(d) if lang == "ja" else d.isoformat()

    prev = figures.previous_label_en if lang == "en" else figures.previous_label_ja
    cur = figures.label_en if lang == "en" else figures.label_ja
    end_note = lab("as_of", date=day(figures.issuance.as_of))
    tables = []
    ip, ic = figures.issuance_previous, figures.issuance
    keys = ("applications", "prepared", "issued", "not_collected")
    tables.append(
        ReportTable(
            "issuance",
            lab("issuance_title"),
            f"{lab('issuance_note')} / {end_note}",
            ["", prev, cur],
            [[lab(k), n(getattr(ip, k), "cases"), n(getattr(ic, k), "cases")] for k in keys],
            [[k, getattr(ip, k), getattr(ic, k)] for k in keys],
            [False, False, True, True],
        )
    )
    tables.append(
        ReportTable(
            "certificates",
            lab("certificates_title"),
            end_note,
            ["", prev, cur, lab("since_start_cards")],
            [
                [
                    t(f"cards.label.cert_{r.cert_type}", lang),
                    n(r.previous_fy, "certificates"),
                    n(r.fy, "certificates"),
                    n(r.since_start, "certificates"),
                ]
                for r in figures.certificates
            ],
            [[r.cert_type, r.previous_fy, r.fy, r.since_start] for r in figures.certificates],
            [False] * len(figures.certificates),
        )
    )
    s0, s1 = figures.status_start, figures.status_end

    def valid(s: StatusFigures) -> str:
        return f"{n(s.valid, 'cards')} ({s.ratio}%)" if s.ratio is not None else n(s.valid, "cards")

    tables.append(
        ReportTable(
            "status",
            lab("status_title"),
            "",
            ["", day(s0.on), day(s1.on)],
            [
                [lab("valid"), valid(s0), valid(s1)],
                [lab("operating"), n(s0.operating, "cards"), n(s1.operating, "cards")],
                [lab("suspended"), n(s0.suspended, "cards"), n(s1.suspended, "cards")],
                [lab("revoked"), n(s0.revoked, "cards"), n(s1.revoked, "cards")],
            ],
            [
                ["valid", s0.valid, s1.valid],
                ["ratio", s0.ratio, s1.ratio],
                ["operating", s0.operating, s1.operating],
                ["suspended", s0.suspended, s1.suspended],
                ["revoked", s0.revoked, s1.revoked],
            ],
            [False, True, True, False],
        )
    )
    for key, kinds, unit in (
        ("juki_moves", ("special_move_out", "special_move_in", "continued_use"), "cases"),
        ("juki_wide_area", ("wide_area_issued", "wide_area_sent"), "certificates"),
    ):
        rows = [r for r in figures.juki if r.kind in kinds]
        start = rows[0].scheme_start
        since = lab(
            "since_start_scheme",
            start=wareki(start, with_day=False) if lang == "ja" else start.strftime("%Y-%m"),
        )
        tables.append(
            ReportTable(
                key,
                lab(f"{key}_title"),
                end_note,
                ["", prev, cur, since],
                [
                    [
                        t(f"cards.label.juki_{r.kind}", lang),
                        n(r.previous_fy, unit),
                        n(r.fy, unit),
                        n(r.since_start, unit),
                    ]
                    for r in rows
                ],
                [[r.kind, r.previous_fy, r.fy, r.since_start] for r in rows],
                [False] * len(rows),
            )
        )
    q = figures.inquiries
    tables.append(
        ReportTable(
            "inquiries",
            lab("inquiries_title"),
            end_note,
            ["", prev, cur],
            [
                [
                    r.label_en if lang == "en" else r.label_ja,
                    n(r.previous_fy, "cases"),
                    n(r.fy, "cases"),
                ]
                for r in q.rows
            ]
            + [[lab("total"), n(q.previous_total, "cases"), n(q.total, "cases")]],
            [[r.function, r.previous_fy, r.fy] for r in q.rows]
            + [["total", q.previous_total, q.total]],
            [False] * (len(q.rows) + 1),
        )
    )
    return tables
