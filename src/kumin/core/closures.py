"""Fiscal years that stay closed once their security report is published.

Publishing a fiscal year's security report (``kumin report security publish``)
freezes the year: the report as published is kept with its SHA-256, who and
when (:class:`~kumin.core.models.FiscalYearClosure`, one row per event, never
updated). From then on every write dated inside the year is refused by
:func:`ensure_open` — the one check every service calls before writing a dated
record — until an auditor re-opens the year with a reason
(``kumin report security reopen``). Publishing again closes it again under the
next publication number; every publication is kept.

What is checked: card applications, workflow steps, state changes, move-in/out,
certificate events; Juki-net transactions and inquiries imported from the card
system; Juki-net applications, reservations, usage records, daily checklists,
operator-ledger versions, audits, meetings and training.

What is deliberately not checked: operation logs and the departments' business
records. They are evidence of what happened, and they arrive late (a terminal's
log is exported weeks after the fact); refusing them would hide misuse. They may
be imported into a closed year, and a published report that they change lists
the difference (:mod:`kumin.reports.publication`).

Example
-------
>>> import datetime as dt
>>> fiscal_year_of(dt.date(2022, 3, 31)), fiscal_year_of(dt.date(2022, 4, 1))
(2021, 2022)
>>> year_label(2021, "ja"), year_label(2021, "en"), year_label(2019, "ja")
('令和3年度', 'FY2021', '令和元年度')
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kumin.core.db import utcnow
from kumin.core.i18n import t
from kumin.core.models import FiscalYearClosure
from kumin.errors import ParameterError, StateError

PUBLISHED = "published"
REOPENED = "reopened"


def fiscal_year_of(day: dt.date | dt.datetime) -> int:
    """The fiscal year (年度, April to March) ``day`` falls in, by its starting year."""
    if isinstance(day, dt.datetime):
        day = day.date()
    return day.year if day.month >= 4 else day.year - 1


def year_label(fy: int, lang: str = "ja") -> str:
    """``令和3年度`` / ``FY2021`` (平成 before 2019, 令和元年度 for 2019)."""
    if lang == "en":
        return f"FY{fy}"
    if fy >= 2019:
        return "令和元年度" if fy == 2019 else f"令和{fy - 2018}年度"
    return f"平成{fy - 1988}年度"


class YearClosed(StateError):
    """A write dated inside a closed fiscal year; the message names the year (in the
    reader's era style) and how to re-open it."""

    def render(self, lang: str = "ja") -> str:
        return t(self.key, lang, **{**self.params, "year": year_label(self.params["fy"], lang)})


@dataclass(frozen=True)
class YearState:
    fy: int
    closed: bool
    publication: int  # number of the latest publication (0: never published)
    event: FiscalYearClosure | None


def events(session: Session, fy: int) -> list[FiscalYearClosure]:
    """Every publication and re-opening of ``fy``, oldest first."""
    return list(
        session.scalars(
            select(FiscalYearClosure)
            .where(FiscalYearClosure.fy == fy)
            .order_by(FiscalYearClosure.id)
        )
    )


def year_state(session: Session, fy: int) -> YearState:
    last = session.scalar(
        select(FiscalYearClosure)
        .where(FiscalYearClosure.fy == fy)
        .order_by(FiscalYearClosure.id.desc())
        .limit(1)
    )
    if last is None:
        return YearState(fy, False, 0, None)
    return YearState(fy, last.event == PUBLISHED, last.number, last)


def closed_years(session: Session) -> set[int]:
    """The fiscal years whose latest event is a publication."""
    latest: dict[int, str] = {}
    for fy, event in session.execute(
        select(FiscalYearClosure.fy, FiscalYearClosure.event).order_by(FiscalYearClosure.id)
    ):
        latest[fy] = event
    return {fy for fy, event in latest.items() if event == PUBLISHED}


def ensure_open(session: Session, day: dt.date | dt.datetime | None) -> None:
    """Refuse (:class:`YearClosed`) a write dated ``day`` inside a closed fiscal year.

    Call it in the service, before writing; ``None`` (an undated change) passes.
    """
    if day is None:
        return
    fy = fiscal_year_of(day)
    if fy in closed_years(session):
        day = day.date() if isinstance(day, dt.datetime) else day
        raise YearClosed("closures.year_closed", fy=fy, date=day.isoformat())


#: clocks of the ward's PCs differ a little: a record a few minutes "ahead" is not future
CLOCK_SLACK = dt.timedelta(minutes=5)


def ensure_not_future(at: dt.date | dt.datetime, now: dt.datetime) -> None:
    """Refuse a record dated after ``now`` (what has not happened is not recorded)."""
    late = at > now + CLOCK_SLACK if isinstance(at, dt.datetime) else at > now.date()
    if late:
        raise StateError("closures.future", at=at.isoformat())


def ensure_open_days(session: Session, days: Iterable[dt.date | dt.datetime | None]) -> None:
    """:func:`ensure_open` for many dates at once (an import): one query, the first
    closed date named."""
    closed = closed_years(session)
    if not closed:
        return
    for day in sorted(d.date() if isinstance(d, dt.datetime) else d for d in days if d):
        if fiscal_year_of(day) in closed:
            raise YearClosed("closures.year_closed", fy=fiscal_year_of(day), date=day.isoformat())


def closed_checker(session: Session) -> Callable[[dt.date | dt.datetime | None], dict | None]:
    """For importers that report every bad line: ``check(day)`` gives the params of
    the ``closures.line_closed`` problem when ``day`` is in a closed year, else None
    (the closed years are read once)."""
    years = closed_years(session)

    def check(day: dt.date | dt.datetime | None) -> dict | None:
        if day is None or fiscal_year_of(day) not in years:
            return None
        fy = fiscal_year_of(day)
        return {"year": f"{year_label(fy, 'ja')} / FY{fy}", "date": str(day)[:10]}

    return check


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _store(session: Session, row: FiscalYearClosure) -> FiscalYearClosure:
    # two auditors at once: the unique (fy, event, number) lets one of them through
    try:
        session.add(row)
        session.flush()
    except IntegrityError:
        raise StateError("closures.concurrent", fy=row.fy) from None
    return row


def publish(session: Session, fy: int, actor: str, body: bytes) -> FiscalYearClosure:
    """Close ``fy`` with the report ``body`` (canonical JSON bytes) as its next
    publication. Publishing a year already closed is refused: re-open it first, so
    that every change of a published report has a recorded reason."""
    state = year_state(session, fy)
    if state.closed:
        raise YearClosed("closures.already_published", fy=fy, number=state.publication)
    row = FiscalYearClosure(
        fy=fy,
        event=PUBLISHED,
        number=state.publication + 1,
        body=body,
        sha256=sha256(body),
        actor=actor,
        at=utcnow(),
        reason="",
    )
    return _store(session, row)


def reopen(session: Session, fy: int, actor: str, reason: str) -> FiscalYearClosure:
    """Re-open a closed year; ``reason`` is required and kept."""
    reason = reason.strip()
    if not reason:
        raise ParameterError("closures.reason_required")
    state = year_state(session, fy)
    if not state.closed:
        raise YearClosed("closures.not_closed", fy=fy)
    row = FiscalYearClosure(
        fy=fy,
        event=REOPENED,
        number=state.publication,
        body=None,
        sha256="",
        actor=actor,
        at=utcnow(),
        reason=reason,
    )
    return _store(session, row)


def latest_publication(session: Session, fy: int) -> FiscalYearClosure | None:
    return session.scalar(
        select(FiscalYearClosure)
        .where(FiscalYearClosure.fy == fy, FiscalYearClosure.event == PUBLISHED)
        .order_by(FiscalYearClosure.id.desc())
        .limit(1)
    )
