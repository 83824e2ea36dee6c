"""Tables of the card and Juki-net business records.

The forms follow :mod:`kumin.cards.records` so that the yearly figures are
computed by loading these tables into those frames: one row per card (with the
dates of its issuance steps), per state change, certificate event, Juki-net
transaction, identity inquiry and population count. Cards recorded through the
workflow also keep every step (``cards_steps``); cards imported in bulk (a
migration from the previous system, the demo) carry only the dates.

Personal fields (name, birth date, address) live in ``cards_residents``,
encrypted under the dataset ``"cards"``. No table has a column for a PIN, or for
an image of the PIN-setting form.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kumin.core.db import Base, utcnow

DATASET = "cards"


class Resident(Base):
    """A resident by internal resident number (never the My Number)."""

    __tablename__ = "cards_residents"

    resident_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted
    birth_date: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted, ISO date
    address: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Card(Base):
    """One card: issued here (either method) or moved in on continued use."""

    __tablename__ = "cards_cards"

    card_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    resident_no: Mapped[int] = mapped_column(BigInteger, index=True)
    origin: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(24))
    channel: Mapped[str | None] = mapped_column(String(16))
    applied_on: Mapped[dt.date | None] = mapped_column(Date)
    prepared_on: Mapped[dt.date | None] = mapped_column(Date)
    mailed_on: Mapped[dt.date | None] = mapped_column(Date)
    returned_on: Mapped[dt.date | None] = mapped_column(Date)
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    window: Mapped[str | None] = mapped_column(String(40))
    reissue_of: Mapped[int | None] = mapped_column(BigInteger)
    step: Mapped[str | None] = mapped_column(String(24))  # workflow step now (None: imported)
    status: Mapped[str | None] = mapped_column(String(16))  # after issuance: CardStatus
    source: Mapped[str] = mapped_column(String(16), default="workflow")  # workflow | import


class CardStep(Base):
    """One recorded workflow step; ``details`` is JSON without any secret."""

    __tablename__ = "cards_steps"
    __table_args__ = (Index("ix_cards_steps_card_seq", "card_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(24))
    at: Mapped[dt.datetime] = mapped_column(DateTime)  # ward local time
    by: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text, default="{}")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CardEventRow(Base):
    """A state change: moved_in, suspended, resumed, revoked, moved_out."""

    __tablename__ = "cards_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(BigInteger, index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    event: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(16))


class Certificate(Base):
    """An electronic-certificate event (issued, renewed, re-issued)."""

    __tablename__ = "cards_certificates"
    # covers the yearly count by date and type
    __table_args__ = (Index("ix_cards_certificates_date_type", "date", "cert_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(BigInteger, index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    cert_type: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))


class WindowRow(Base):
    """A card window with its methods, hours and closure rules (text forms, see
    :mod:`kumin.cards.windows_io`)."""

    __tablename__ = "cards_windows"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    methods: Mapped[str] = mapped_column(String(16))  # 交・申
    hours: Mapped[str] = mapped_column(String(200))  # mon-fri 11:00-18:30; sat,sun 09:00-16:30
    closures: Mapped[str] = mapped_column(String(100), default="")  # 3sat; 3sat+1
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    temporary: Mapped[bool] = mapped_column(Boolean, default=False)
    only_on: Mapped[str] = mapped_column(String(100), default="")
    dates: Mapped[str] = mapped_column(Text, default="")  # ISO dates separated by spaces
    closed_on_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    note_ja: Mapped[str] = mapped_column(String(200), default="")
    note_en: Mapped[str] = mapped_column(String(200), default="")


class JukiTransaction(Base):
    """A Juki-net transaction: special move-out/in, continued use, wide-area certificate."""

    __tablename__ = "cards_juki_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    resident_no: Mapped[int | None] = mapped_column(BigInteger)
    other_code6: Mapped[str | None] = mapped_column(String(6))


class InquiryFunctionRow(Base):
    """A My Number function that may query identity information; the ward extends the list."""

    __tablename__ = "cards_inquiry_functions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(100))


class Inquiry(Base):
    """An identity-information inquiry (本人確認情報の照会)."""

    __tablename__ = "cards_inquiries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    department: Mapped[str] = mapped_column(String(100))
    function: Mapped[str] = mapped_column(String(40))
    operator: Mapped[str] = mapped_column(String(64))


class Population(Base):
    __tablename__ = "cards_population"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    population: Mapped[int] = mapped_column(BigInteger)


class NationalFigure(Base):
    """The Ministry's monthly figure for one municipality on one reference date."""

    __tablename__ = "cards_national"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    code6: Mapped[str] = mapped_column(String(6), primary_key=True)
    pref: Mapped[str] = mapped_column(String(16))
    municipality: Mapped[str] = mapped_column(String(40))
    population: Mapped[int] = mapped_column(BigInteger)
    cards: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[float] = mapped_column()
    #: 人口算出基準日: the population is that of this date, often a year earlier
    population_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class ImportBatch(Base):
    """A file imported once: re-importing the same content is a no-op."""

    __tablename__ = "cards_imports"
    __table_args__ = (Index("ix_cards_imports_kind_sha", "kind", "sha256", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
