"""Sections 1, 3 and 4 of the yearly security report (``kumin report security``).

The report is assembled by :mod:`kumin.reports.security`; this module makes
sections 1 (the issuance system and figures), 3 and 4 from the stored card and
Juki-net records (loaded into the frames of :mod:`kumin.cards.records` and
computed by :mod:`kumin.cards.figures`, the same pure functions the synthetic data
are checked with), and registers them there when imported (``report=`` of the
cards domain in :data:`kumin.domains.DOMAINS`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kumin.cards.figures import (
    ReportTable,
    SecurityFigures,
    fiscal_year,
    report_tables,
    security_figures,
)
from kumin.cards.windows import Window
from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.reports.security import ReportSection, add_section_provider

# --- the card domain's sections ---------------------------------------------------------


def card_figures(ctx: Ctx, fy: int) -> SecurityFigures:
    """Sections 1(2), 3 and 4 computed from the stored records."""
    from kumin.cards.service_records import functions
    from kumin.cards.store import load_records

    return security_figures(load_records(ctx.session, full=False), fy, functions(ctx))


_DAYS = {"ja": "月火水木金土日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def _days_text(days: list[int], lang: str) -> str:
    names = _DAYS[lang]
    sep, dash = ("・", "～") if lang == "ja" else (", ", "–")
    if len(days) == 7:
        return t("cards.report.every_day", lang)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{names[days[0]]}{dash}{names[days[-1]]}"
    return ("" if lang == "ja" else sep).join(names[d] for d in days)


def window_hours_text(w: Window, lang: str) -> str:
    """Opening hours as the report prints them: 月～金：11:00～18:30 ・土日：9:00～16:30 …"""
    groups: dict[tuple, list[int]] = {}
    for day, span in sorted(w.hours.items()):
        groups.setdefault(span, []).append(day)
    dash = "～" if lang == "ja" else "–"
    parts = [
        f"{_days_text(days, lang)}{'：' if lang == 'ja' else ': '}"
        f"{a.strftime('%-H:%M')}{dash}{b.strftime('%-H:%M')}"
        for (a, b), days in sorted(groups.items(), key=lambda g: min(g[1]))
    ]
    text = (" ・" if lang == "ja" else "; ").join(parts)
    if w.closures:
        text += " " + t("cards.report.except", lang, rules=_rules_text(w.closures, lang))
    return text


def _ordinal(n: int, lang: str) -> str:
    if lang == "ja":
        return str(n)
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n, 'th') }"


def _rules_text(rules: tuple, lang: str) -> str:
    """第3土曜とそれに続く日曜 / the 3rd Sat and the Sun after it."""
    names = _DAYS[lang]
    parts: list[str] = []
    done: set[int] = set()
    for i, r in enumerate(rules):
        if i in done or r.offset_days:
            continue
        follow = next(
            (
                j
                for j, q in enumerate(rules)
                if q.n == r.n and q.weekday == r.weekday and q.offset_days == 1
            ),
            None,
        )
        key = "cards.report.rule_and_next" if follow is not None else "cards.report.rule"
        nxt = names[(r.weekday + 1) % 7]
        parts.append(t(key, lang, n=_ordinal(r.n, lang), day=names[r.weekday], next=nxt))
        if follow is not None:
            done.add(follow)
    for i, r in enumerate(rules):
        if r.offset_days and i not in done:
            parts.append(
                t("cards.report.rule_next_day", lang, n=_ordinal(r.n, lang), day=names[r.weekday])
            )
    return ("・" if lang == "ja" else ", ").join(parts)


def _windows_table(windows: tuple[Window, ...], fy: int, lang: str) -> ReportTable:
    year = fiscal_year(fy)
    rows, values = [], []
    for w in windows:
        if (w.opened_on and w.opened_on > year.end) or (w.closed_on and w.closed_on < year.start):
            continue
        name = w.name_en if lang == "en" else w.name_ja
        notes = []
        if w.opened_on and w.opened_on > year.start:
            notes.append(t("cards.report.from", lang, date=_day(w.opened_on, lang)))
        if w.closed_on and w.closed_on <= year.end:
            notes.append(t("cards.report.until", lang, date=_day(w.closed_on, lang)))
        note = w.note_en if lang == "en" else w.note_ja
        if note and not any(n in note for n in notes):
            notes.append(note)
        label = (
            f"{name}（{'、'.join(notes)}）"
            if notes and lang == "ja"
            else (f"{name} ({'; '.join(notes)})" if notes else name)
        )
        hours = window_hours_text(w, lang)
        rows.append([label, hours, w.method_codes()])
        values.append([w.code, hours, w.method_codes()])
    return ReportTable(
        "windows",
        t("cards.report.windows_title", lang, fy=year.label(lang)),
        t("cards.report.windows_legend", lang),
        [t("cards.web.window", lang), t("cards.web.hours", lang), t("cards.report.method", lang)],
        rows,
        values,
        [False] * len(rows),
    )


def _day(day: dt.date, lang: str) -> str:
    from kumin.cards.figures import wareki

    return wareki(day) if lang == "ja" else day.isoformat()


def card_sections(ctx: Ctx, fy: int, lang: str) -> list[ReportSection]:
    from kumin.cards.service_records import windows

    figures = card_figures(ctx, fy)
    tables = {tb.key: tb for tb in report_tables(figures, lang)}
    all_figures = figures.to_dict()

    def lab(key: str, **kw: Any) -> str:
        return t(f"cards.report.{key}", lang, **kw)

    inquiry_notes = [lab("inquiries_note")]
    other = [r for r in figures.inquiries.rows if r.function == "not_itemised"]
    if other and (other[0].fy or other[0].previous_fy):
        inquiry_notes.append(
            lab("not_itemised_note", fy=other[0].fy, previous=other[0].previous_fy)
        )
    return [
        ReportSection(
            "1",
            "cards.system",
            lab("section1"),
            lab("section1_1"),
            [_windows_table(windows(ctx), fy, lang)],
            paragraphs=[lab("method_issuance"), lab("method_application"), lab("identity")],
        ),
        ReportSection(
            "1",
            "cards.issuance",
            lab("section1"),
            lab("section1_2"),
            [tables["issuance"], tables["certificates"], tables["status"]],
            [lab("issuance_note"), lab("certificates_note"), lab("status_note")],
            figures={
                k: all_figures[k]
                for k in (
                    "issuance_previous",
                    "issuance",
                    "certificates",
                    "status_start",
                    "status_end",
                )
            },
        ),
        ReportSection(
            "3",
            "cards.juki",
            lab("section3"),
            tables=[tables["juki_moves"], tables["juki_wide_area"]],
            figures={"juki": all_figures["juki"]},
        ),
        ReportSection(
            "4",
            "cards.inquiries",
            lab("section4"),
            lab("section4_sub"),
            [tables["inquiries"]],
            inquiry_notes,
            figures={"inquiries": all_figures["inquiries"]},
        ),
    ]


add_section_provider(card_sections, tables=("cards_",))


# --- section 8: the PIN-setting forms, shredded right after the PINs are set -------------


def _ops(key: str, lang: str, **kw: Any) -> str:
    return t(f"operational.report.{key}", lang, **kw)


def form_shredding_section(ctx: Ctx, fy: int, lang: str) -> list[ReportSection]:
    """Section 8 (operational checks), the forms' part: forms shredded by window and
    month, those shredded late and those still held (counts only, no card, no person)."""
    from kumin.cards.service import form_shredding
    from kumin.cards.service_records import windows
    from kumin.reports.render import fiscal_year_label, fiscal_year_range

    ctx.authorize("security.report")
    start, end = fiscal_year_range(fy)
    label = fiscal_year_label(fy, lang)
    found = form_shredding(ctx, start, end)
    tables, paragraphs = [], []
    if found["rows"]:
        key = "shred_late" if found["late"] else "shred_on_time"
        paragraphs.append(_ops(key, lang, late=found["late"]))
        names = {w.code: (w.name_en if lang == "en" else w.name_ja) for w in windows(ctx)}
        heads = ("h_window", "h_month", "h_shredded", "h_late", "h_max_hours")
        tables.append(
            ReportTable(
                "ops_form_shredding",
                _ops("shred_title", lang),
                _ops("shred_note", lang, hours=found["limit_hours"]),
                [_ops(h, lang) for h in heads],
                [
                    [
                        names.get(r["window"], r["window"]),
                        r["month"],
                        f"{r['shredded']:,}",
                        f"{r['late']:,}",
                        f"{r['max_hours']}",
                    ]
                    for r in found["rows"]
                ],
                [
                    [r[k] for k in ("window", "month", "shredded", "late", "max_hours")]
                    for r in found["rows"]
                ],
                [False] * len(found["rows"]),
            )
        )
    else:
        paragraphs.append(_ops("shred_none", lang, fy=label))
    if found["still_held"]:
        paragraphs.append(
            _ops("shred_still_held", lang, count=found["still_held"], hours=found["limit_hours"])
        )
    figures = {
        "forms_shredded": sum(r["shredded"] for r in found["rows"]),
        "forms_shredded_late": found["late"],
        "forms_still_held": found["still_held"],
    }
    title = _ops("section", lang, fy=label)
    return [ReportSection("8", "ops.form_shredding", title, "", tables, [], paragraphs, figures)]


add_section_provider(form_shredding_section, tables=("cards_",))
